#ifndef YUBIN_DIRECTORY_DIRECTORY_H
#define YUBIN_DIRECTORY_DIRECTORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The directory: domains, accounts, settings and events, in SQLite
 * (DATA/yubin.db, WAL: the embedded default) or in PostgreSQL (shared by
 * several nodes); the interface hides which. A handle belongs to one
 * thread at a time. */

#define DIR_LOCAL_MAX 64
#define DIR_DOMAIN_MAX 253
#define DIR_ADDRESS_MAX (DIR_LOCAL_MAX + 1 + DIR_DOMAIN_MAX)
#define DIR_PASSWORD_MIN 8
#define DIR_PASSWORD_MAX 128
#define DIR_QUOTA_MIN_MB 1
#define DIR_QUOTA_MAX_MB 5000
#define DIR_QUOTA_DEFAULT_MB 2000

struct directory;

struct dir_domain {
	int64_t id;
	char name[DIR_DOMAIN_MAX + 1];
	int64_t created;
	unsigned accounts;
};

struct dir_account {
	int64_t id;
	char address[DIR_ADDRESS_MAX + 1];
	char local[DIR_LOCAL_MAX + 1];
	char domain[DIR_DOMAIN_MAX + 1];
	unsigned quota_mb;
	char memo[512];
	bool enabled;
	int64_t created;
};

struct dir_event {
	int64_t id, ts;
	char kind[32];
	char address[DIR_ADDRESS_MAX + 1];
	char ip[64];
	char detail[512];
};

/* Opens (creating or migrating the schema of) the directory at where: a
 * postgresql:// (or postgres://) connection URI, else an SQLite file. */
struct directory *directory_open(const char *where, char *err, size_t errsize);
/* The same without touching the schema (yubinctl directory migrate and
 * copy look first). */
struct directory *directory_open_raw(const char *where, char *err, size_t errsize);
void directory_close(struct directory *dir);
/* Applies the migrations the schema lacks: 0, or -1 with a message. */
int directory_migrate(struct directory *dir, char *err, size_t errsize);
/* The schema's version and the newest this build knows. */
int directory_schema_version(struct directory *dir, int *version_r, int *latest_r);
bool directory_is_pg(const struct directory *dir);
/* Whether where (as for directory_open) names a PostgreSQL database. */
bool directory_where_is_pg(const char *where);
/* Copies every table of from into to, whose tables must be empty (a new
 * database), in one transaction on to; the rows of each table counted on
 * both sides before it commits. cb (may be NULL) hears each table done. */
typedef void dir_copy_cb(const char *table, int64_t rows, void *ctx);
int directory_copy(struct directory *from, struct directory *to, dir_copy_cb *cb, void *ctx,
		   char *err, size_t errsize);
/* The daemon's cache of hot-path lookups in a PostgreSQL directory
 * (where), kept fresh by LISTEN/NOTIFY: started and stopped once by the
 * daemon; a no-op for an SQLite file. */
int directory_cache_start(const char *where);
void directory_cache_stop(void);

int directory_domain_add(struct directory *dir, const char *name, const char **error_r);
/* Fails when accounts remain unless force; then they go too. */
int directory_domain_del(struct directory *dir, const char *name, bool force, const char **error_r);
/* 1 found, 0 not found, -1 error. */
int directory_domain_get(struct directory *dir, const char *name, struct dir_domain *domain_r);
/* Whether the domain is one of ours (1, 0, -1): what RCPT, forwarding and
 * login need, without counting the domain's accounts as
 * directory_domain_get does (a domain of 20,000 accounts made that count
 * 0.7 ms of every lookup). */
int directory_domain_exists(struct directory *dir, const char *name);
typedef void dir_domain_cb(const struct dir_domain *domain, void *ctx);
int directory_domain_list(struct directory *dir, dir_domain_cb *cb, void *ctx);

int directory_account_add(struct directory *dir, const char *address, const char *password_hash,
			  unsigned quota_mb, const char *memo, const char **error_r);
int directory_account_del(struct directory *dir, const char *address, const char **error_r);
/* 1 found, 0 not found, -1 error. Address is matched case-insensitively. */
int directory_account_get(struct directory *dir, const char *address, struct dir_account *account_r);
/* The login check only: the account as directory_account_get gives it,
 * and its password hash into hash_r (DIR_HASH_MAX). The caller wipes
 * hash_r with explicit_bzero once it is checked. 1 found, 0 not, -1 error. */
#define DIR_HASH_MAX 256
int directory_account_get_auth(struct directory *dir, const char *address, struct dir_account *account_r,
			       char *hash_r, size_t hash_size);
typedef void dir_account_cb(const struct dir_account *account, void *ctx);
/* domain may be NULL for every account. */
int directory_account_list(struct directory *dir, const char *domain, dir_account_cb *cb, void *ctx);
/* One page of domain's accounts whose address or memo contains q (ASCII
 * letters in any case; NULL or "" for all), by address: rows offset ..
 * offset + limit - 1 (limit 0: to the end) to cb, and how many matched
 * into *total_r. The paging and the count are SQLite's. */
int directory_account_page(struct directory *dir, const char *domain, const char *q, size_t offset,
			   size_t limit, dir_account_cb *cb, void *ctx, size_t *total_r);
int directory_account_set_password(struct directory *dir, const char *address, const char *hash,
				   const char **error_r);
int directory_account_set_quota(struct directory *dir, const char *address, unsigned quota_mb,
				const char **error_r);
int directory_account_set_enabled(struct directory *dir, const char *address, bool enabled,
				  const char **error_r);
int directory_account_set_memo(struct directory *dir, const char *address, const char *memo,
			       const char **error_r);

/* Per-domain and per-account settings (scope "domain" or "account", name
 * the domain or address). get returns 1 found, 0 unset, -1 error. */
int directory_setting_set(struct directory *dir, const char *scope, const char *name,
			  const char *key, const char *value, const char **error_r);
/* The settings read through dir between begin and end (nested pairs are
 * fine) come from one reading of each (scope, name): all the keys of an
 * account or a domain in one query when its first key is asked for, not
 * one query per key; what one message's checks read is then also from one
 * moment. A change made through dir meanwhile drops what was read. Only
 * the thread that owns dir may use it (as with every call). */
void directory_settings_batch_begin(struct directory *dir);
void directory_settings_batch_end(struct directory *dir);
int directory_setting_get(struct directory *dir, const char *scope, const char *name,
			  const char *key, char *value_r, size_t size);
/* Removes one setting of scope/name: 1 removed, 0 was not set, -1 error. */
int directory_setting_unset(struct directory *dir, const char *scope, const char *name,
			    const char *key, const char **error_r);
/* Removes every setting of scope/name (a deleted domain or account), and
 * its sending state (counts, suspension) or BATV keys. */
int directory_setting_clear(struct directory *dir, const char *scope, const char *name,
			    const char **error_r);
typedef void dir_setting_cb(const char *key, const char *value, void *ctx);
int directory_setting_list(struct directory *dir, const char *scope, const char *name,
			   dir_setting_cb *cb, void *ctx);

/* The spam filter's allow and block lists (kind "allow" or "block") of a
 * domain or an account (scope as for settings); patterns are stored lower
 * case. add: "already exists" on a duplicate; del: 1 removed, 0 none;
 * list: kind NULL for both, in kind and pattern order. */
int directory_spamlist_add(struct directory *dir, const char *scope, const char *name,
			   const char *kind, const char *pattern, const char **error_r);
int directory_spamlist_del(struct directory *dir, const char *scope, const char *name,
			   const char *kind, const char *pattern, const char **error_r);
typedef void dir_spamlist_cb(const char *kind, const char *pattern, int64_t created, void *ctx);
int directory_spamlist_list(struct directory *dir, const char *scope, const char *name,
			    const char *kind, dir_spamlist_cb *cb, void *ctx);

/* Records an event (auth failure, rejection, delivery, ...). */
int directory_event_add(struct directory *dir, const char *kind, const char *address,
			const char *ip, const char *detail);
typedef void dir_event_cb(const struct dir_event *event, void *ctx);
/* Newest first, at most limit; address may be NULL for all. */
int directory_event_list(struct directory *dir, const char *address, unsigned limit,
			 dir_event_cb *cb, void *ctx);

/* A transaction around several changes (BEGIN IMMEDIATE); every call in
 * between runs inside it. rollback undoes them. */
int directory_begin(struct directory *dir);
/* Whether a transaction (directory_begin or directory_read_begin) is open. */
bool directory_in_transaction(struct directory *dir);
int directory_commit(struct directory *dir);
void directory_rollback(struct directory *dir);
/* One read transaction (a deferred BEGIN) around several lookups, so they
 * see one snapshot and take the database's locks once instead of once
 * each; no writes in between. 0 when begun (then call directory_read_end),
 * -1 when not (the lookups then run on their own). */
int directory_read_begin(struct directory *dir);
void directory_read_end(struct directory *dir);

/* One row of the audit log: who changed what, when and from where. */
struct dir_audit {
	int64_t id, ts;
	char actor[128];	/* "cli:root", "admin:alice", "token:ID", "user:a@b" */
	char ip[64];
	char op[32];		/* "account.add" */
	char target[DIR_ADDRESS_MAX + 1];
	char summary[512];	/* never a secret */
};

int directory_audit_add(struct directory *dir, const struct dir_audit *a);
typedef void dir_audit_cb(const struct dir_audit *a, void *ctx);
/* Newest first, at most limit; target NULL for all, else that target
 * and, for a domain, the addresses in it. */
int directory_audit_list(struct directory *dir, const char *target, unsigned limit,
			 dir_audit_cb *cb, void *ctx);

/* A filter over the event or audit log (issue 11: the panels' lists).
 * Every field is optional ("" / NULL / 0): address the exact address (an
 * event's) or target (an audit row's, and for a domain the addresses in
 * it too); domains a comma-separated list: only rows whose address or
 * target is one of them or in one of them; kinds a comma-separated list
 * of event kinds; actor an audit row's actor ("admin:alice"); since a
 * Unix time; before an id (the rows older than it, for the next page).
 * Newest first, at most limit rows. */
struct dir_log_filter {
	const char *address, *domains, *kinds, *actor;
	int64_t since, before;
	unsigned limit;
};
int directory_event_query(struct directory *dir, const struct dir_log_filter *f, dir_event_cb *cb,
			  void *ctx);
int directory_audit_query(struct directory *dir, const struct dir_log_filter *f, dir_audit_cb *cb,
			  void *ctx);

/* ---- administrators and API tokens (issue 11) ---- */

#define DIR_ADMIN_NAME_MAX 63
#define DIR_SCOPE_DOMAINS_MAX 2048	/* comma-separated domain names */

struct dir_admin {
	char name[DIR_ADMIN_NAME_MAX + 1];
	char role[16];			/* "server" or "domain" */
	char domains[DIR_SCOPE_DOMAINS_MAX];
	int64_t created;
};

/* -1 with "exists" as *error_r when the name is taken. */
int directory_admin_add(struct directory *dir, const struct dir_admin *a, const char *hash,
			const char **error_r);
/* 1 found (hash into hash_r, which the caller wipes), 0 not, -1 error. */
int directory_admin_get_auth(struct directory *dir, const char *name, struct dir_admin *a_r,
			     char *hash_r, size_t hash_size);
/* 1 done, 0 no such administrator, -1 error. */
int directory_admin_del(struct directory *dir, const char *name, const char **error_r);
int directory_admin_set_password(struct directory *dir, const char *name, const char *hash,
				 const char **error_r);
typedef void dir_admin_cb(const struct dir_admin *a, void *ctx);
int directory_admin_list(struct directory *dir, dir_admin_cb *cb, void *ctx);

struct dir_token {
	char id[32];
	char hash[65];			/* hex SHA-256 of the secret */
	char role[16];
	char domains[DIR_SCOPE_DOMAINS_MAX];
	int64_t expires;		/* 0: never */
	int64_t created, last_used;
	bool revoked;
};

int directory_token_add(struct directory *dir, const struct dir_token *t, const char **error_r);
/* 1 found, 0 not, -1 error. */
int directory_token_get(struct directory *dir, const char *id, struct dir_token *t_r);
typedef void dir_token_cb(const struct dir_token *t, void *ctx);
/* Oldest first. */
int directory_token_list(struct directory *dir, dir_token_cb *cb, void *ctx);
/* 1 revoked (now or before), 0 no such token, -1 error. */
int directory_token_revoke(struct directory *dir, const char *id, const char **error_r);
int directory_token_touch(struct directory *dir, const char *id, int64_t now);

/* ---- browser sessions of the panels (issue 11) ---- */

struct dir_session {
	char hash[65];			/* hex SHA-256 of the cookie's id */
	char role[16];			/* "admin", "domain_admin", "user" */
	char name[DIR_ADDRESS_MAX + 1];	/* administrator name or address */
	char domains[DIR_SCOPE_DOMAINS_MAX];
	char csrf[65];
	int64_t created, last_seen;
	char ip[64];
};

int directory_session_add(struct directory *dir, const struct dir_session *s, const char **error_r);
/* 1 found, 0 not, -1 error. */
int directory_session_get(struct directory *dir, const char *hash, struct dir_session *s_r);
int directory_session_touch(struct directory *dir, const char *hash, int64_t now);
int directory_session_del(struct directory *dir, const char *hash);
/* Ends every session of a mail user (user) or an administrator called
 * name, except the one whose hash is keep_hash (NULL: none). */
int directory_session_revoke(struct directory *dir, bool user, const char *name, const char *keep_hash);
/* Ends the sessions of every mail user of domain. */
int directory_session_revoke_domain(struct directory *dir, const char *domain);
/* Drops sessions idle since before seen_before or made before created_before. */
int directory_session_prune(struct directory *dir, int64_t seen_before, int64_t created_before);

/* ---- sending counts, suspensions and BATV keys (issue 5) ---- */

/* Recipients an account sent to in one minute (unix time / 60). */
struct dir_send_count {
	const char *address;
	int64_t minute;
	uint64_t count;
};

/* A recipient an account wrote to, and when. */
struct dir_send_rcpt {
	const char *address, *rcpt;
	int64_t ts;
};

/* Adds counts (summed into existing rows) and records recipients in one
 * transaction; with prune_minute > 0 also drops counts older than it and
 * recipients not written to for 30 days before it. */
int directory_send_flush(struct directory *dir, const struct dir_send_count *counts, size_t ncounts,
			 const struct dir_send_rcpt *rcpts, size_t nrcpts, int64_t prune_minute);
typedef void dir_send_count_cb(int64_t minute, uint64_t count, void *ctx);
/* The per-minute counts of address from since_minute on, oldest first. */
int directory_send_counts_load(struct directory *dir, const char *address, int64_t since_minute,
			       dir_send_count_cb *cb, void *ctx);
/* Inside a transaction (directory_begin): serialises every node's work
 * on key (an address's sending counts, a login key's counters) until it
 * ends, so a check of shared counts and the count that follows it are
 * one step across nodes (PostgreSQL: an advisory lock; SQLite: the write
 * lock BEGIN IMMEDIATE took). */
int directory_lock(struct directory *dir, const char *key);
/* Adds delta (may be negative: a count given back) to address's count of
 * minute, at once rather than at the next flush. */
int directory_send_count_add(struct directory *dir, const char *address, int64_t minute, int64_t delta);
/* The compromise signals besides the recipients sent (kind "bounce" or
 * "new-rcpt"), per account and minute, shared by the nodes of one
 * directory: add delta to minute's count; the sum from since_minute on.
 * Pruned after two days (DIR_PRUNE_ABUSE_COUNTS). */
int directory_abuse_count_add(struct directory *dir, const char *address, const char *kind, int64_t minute,
			      int64_t delta);
int directory_abuse_count_sum(struct directory *dir, const char *address, const char *kind,
			      int64_t since_minute, uint64_t *sum_r);
/* The largest number of recipients in one clock hour within the minutes
 * [from_minute, to_minute). */
int directory_send_peak_hour(struct directory *dir, const char *address, int64_t from_minute,
			     int64_t to_minute, uint64_t *peak_r);
/* 1 when address wrote to rcpt at or after since, 0 not, -1 error. */
int directory_send_rcpt_known(struct directory *dir, const char *address, const char *rcpt,
			      int64_t since);

/* A suspension of an account's sending (compromised-account detection). */
struct dir_hold {
	char address[DIR_ADDRESS_MAX + 1];
	int64_t since;
	char reason[32];	/* burst, new-recipients, bounces, countries */
	char detail[512];
	int64_t lifted;		/* 0 while in force */
	char lifted_by[64];	/* "yubinctl account unsuspend", "password change" */
};

/* 1 found (in force or lifted), 0 never suspended, -1 error. */
int directory_hold_get(struct directory *dir, const char *address, struct dir_hold *hold_r);
/* Suspends (again) from since. */
int directory_hold_set(struct directory *dir, const char *address, int64_t since, const char *reason,
		       const char *detail, const char **error_r);
/* Lifts a suspension in force: 1 lifted, 0 there was none, -1 error. */
int directory_hold_lift(struct directory *dir, const char *address, const char *by,
			const char **error_r);
typedef void dir_hold_cb(const struct dir_hold *hold, void *ctx);
/* The suspensions in force, oldest first. */
int directory_hold_list(struct directory *dir, dir_hold_cb *cb, void *ctx);

/* The hex BATV secret of domain's key keynum into hex_r: 1 found, 0 none
 * (made first when create), -1 error. */
int directory_batv_key(struct directory *dir, const char *domain, unsigned keynum, bool create,
		       char *hex_r, size_t size);

/* Events of one kind for address (NULL: any address) at or after since,
 * newest first. */
int directory_event_since(struct directory *dir, const char *address, const char *kind, int64_t since,
			  dir_event_cb *cb, void *ctx);

/* ---- GeoIP overrides, login blocks, known login addresses (issue 5) ---- */

/* The operator's country overrides; cidr in canonical form. add replaces
 * an existing entry; del returns 1 deleted, 0 none, -1 error. */
int directory_geoip_override_add(struct directory *dir, const char *cidr, const char *country,
				 const char **error_r);
int directory_geoip_override_del(struct directory *dir, const char *cidr, const char **error_r);
typedef void dir_override_cb(const char *cidr, const char *country, int64_t created, void *ctx);
int directory_geoip_override_list(struct directory *dir, dir_override_cb *cb, void *ctx);

/* A blocked client address ("ip": IPv4, or an IPv6 /64) or a slowed
 * account ("account"), in force while until > now. */
struct dir_auth_block {
	char key[DIR_ADDRESS_MAX + 1];
	char kind[16];
	int64_t since, until;
	unsigned failures;
	char detail[512];
};

int directory_auth_block_set(struct directory *dir, const struct dir_auth_block *b, const char **error_r);
/* 1 found (possibly expired), 0 none, -1 error. */
int directory_auth_block_get(struct directory *dir, const char *key, struct dir_auth_block *b_r);
/* 1 deleted, 0 none, -1 error. */
int directory_auth_block_del(struct directory *dir, const char *key, const char **error_r);
typedef void dir_auth_block_cb(const struct dir_auth_block *b, void *ctx);
/* The blocks in force at now, oldest first. */
int directory_auth_block_list(struct directory *dir, int64_t now, dir_auth_block_cb *cb, void *ctx);

/* When address last logged in from net (a block key): 1 known (*last_r
 * set), 0 never, -1 error. touch records a login now (the daemon prunes
 * networks unused for 90 days). */
int directory_auth_known_get(struct directory *dir, const char *address, const char *net, int64_t *last_r);
int directory_auth_known_touch(struct directory *dir, const char *address, const char *net, int64_t now);

/* The brute-force counters of a key (a block key or an account), shared
 * by the nodes of one directory (see policy/bruteforce.h, struct
 * bf_state). get: 1 found, 0 none, -1 error. set with last 0 deletes. */
struct dir_auth_counter {
	int64_t bucket, last, last_block;
	unsigned cur, prev, blocks;
	bool throttled;
};
int directory_auth_counter_get(struct directory *dir, const char *key, struct dir_auth_counter *c_r);
int directory_auth_counter_set(struct directory *dir, const char *key, const struct dir_auth_counter *c);

/* Host names an administrator added to a domain (stored lower case);
 * del returns 1 deleted, 0 none, -1 error. */
int directory_hostname_add(struct directory *dir, const char *domain, const char *name,
			   const char **error_r);
int directory_hostname_del(struct directory *dir, const char *name, const char **error_r);
typedef void dir_hostname_cb(const char *domain, const char *name, void *ctx);
/* domain NULL: every domain's. */
int directory_hostname_list(struct directory *dir, const char *domain, dir_hostname_cb *cb, void *ctx);

/* Where a host name's certificate comes from ("acme" or "imported") and
 * the ACME client's state: failures in a row, the earliest next attempt,
 * orders started on day (days since the epoch), the last error. */
struct dir_cert_state {
	char name[256];
	char source[16];
	unsigned failures;
	int64_t next_try;
	int64_t day;
	unsigned orders;
	char last_error[512];
	int64_t updated;
};

/* 1 found, 0 none (s_r holds the defaults), -1 error. */
int directory_cert_state_get(struct directory *dir, const char *name, struct dir_cert_state *s_r);
int directory_cert_state_set(struct directory *dir, const struct dir_cert_state *s, const char **error_r);
/* Forgets a name's certificate state (its host name or domain is gone). */
int directory_cert_state_del(struct directory *dir, const char *name);

/* Mail nodes (issue 16 §2, node.c): where accounts' mailboxes live when
 * the installation has more than one machine. No nodes: every account is
 * on this machine (the single-node mode). Addresses are host:port. */
#define DIR_NODE_NAME_MAX 63
#define DIR_NODE_ADDR_MAX 127

struct dir_node {
	char name[DIR_NODE_NAME_MAX + 1];
	char imap[DIR_NODE_ADDR_MAX + 1], pop3[DIR_NODE_ADDR_MAX + 1];
	char lmtp[DIR_NODE_ADDR_MAX + 1], http[DIR_NODE_ADDR_MAX + 1];
	char state[16];		/* "active" or "draining" */
	uint64_t capacity_mb;
	int64_t free_mb;	/* capacity less the quotas of its accounts */
	unsigned accounts;
	int64_t created;
};

/* 0, or -1 with a message (a bad name or address, already there). */
int directory_node_add(struct directory *dir, const struct dir_node *n, const char **error_r);
/* 1 found, 0 no such node, -1 error. */
int directory_node_get(struct directory *dir, const char *name, struct dir_node *n_r);
typedef void dir_node_cb(const struct dir_node *n, void *ctx);
int directory_node_list(struct directory *dir, dir_node_cb *cb, void *ctx);
/* state "active" or "draining": 1 changed, 0 no such node, -1 error. */
int directory_node_set_state(struct directory *dir, const char *name, const char *state,
			     const char **error_r);
/* Refused while accounts live there: 1 removed, 0 no such node, -1 error. */
int directory_node_del(struct directory *dir, const char *name, const char **error_r);
/* The active node with the most free space into name_r: 1, or 0 when there
 * are no active nodes (single-node mode), -1 error. */
int directory_node_pick(struct directory *dir, char *name_r, size_t size);
/* An account's home node into node_r ("" = this machine): 1, 0 no such
 * account, -1 error. */
int directory_account_node(struct directory *dir, const char *address, char *node_r, size_t size);
/* node NULL or "": this machine. 1 changed, 0 no such account, -1 error. */
int directory_account_set_node(struct directory *dir, const char *address, const char *node,
			       const char **error_r);
/* Account moves (v13): the node an account is being moved to into node_r
 * ("" none): 1, 0 no such account, -1 error. */
int directory_account_moving(struct directory *dir, const char *address, char *node_r, size_t size);
/* Starts (node set) or ends (NULL) a move's mark. Starting is refused (0)
 * while another move to a different node runs; 1 done, -1 error. */
int directory_account_set_moving(struct directory *dir, const char *address, const char *node,
				 const char **error_r);
/* The switch: home node becomes to and the mark goes, only when the home
 * node is still from and the mark is to. 1 switched, 0 not, -1 error. */
int directory_account_move_finish(struct directory *dir, const char *address, const char *from,
				  const char *to, const char **error_r);

/* Pending mailbox deletions (v15, mailbox_deletions.c): a mailbox its
 * home node is to remove, its account or domain deleted elsewhere. */
struct dir_mailbox_deletion {
	char address[DIR_ADDRESS_MAX + 1];
	char node[DIR_NODE_NAME_MAX + 1];
	int64_t requested;
};

/* Asks node to delete address's mailbox (again: the newer time): 0, -1. */
int directory_mailbox_deletion_add(struct directory *dir, const char *address, const char *node,
				   const char **error_r);
/* The same for every account of domain that has a home node (before the
 * domain is deleted): the rows added, or -1. */
int64_t directory_mailbox_deletion_add_domain(struct directory *dir, const char *domain, const char **error_r);
/* Up to limit of node's rows, oldest first: how many, or -1. */
typedef void dir_mailbox_deletion_cb(const struct dir_mailbox_deletion *d, void *ctx);
int directory_mailbox_deletion_list(struct directory *dir, const char *node, unsigned limit,
				    dir_mailbox_deletion_cb *cb, void *ctx);
/* 1: node is to delete address's mailbox, 0 not, -1 error. */
int directory_mailbox_deletion_pending(struct directory *dir, const char *address, const char *node);
/* The row handled, unless asked again after requested: 1 removed, 0 not, -1. */
int directory_mailbox_deletion_done(struct directory *dir, const char *address, const char *node,
				    int64_t requested);

/* DKIM keys in the directory (issue 16 §1, dkim_rows.c), so that every
 * daemon sharing it signs with the same keys; the files under DATA/dkim
 * stay what the signer reads. type, state: dkim_keys.h's names. */
#define DIR_DKIM_PEM_MAX 8191

struct dir_dkim_key {
	char selector[64];
	char type[16];
	char state[16];
	int64_t since;
	char pem[DIR_DKIM_PEM_MAX + 1];
};

/* Replaces domain's keys with k[0..n) in one transaction: 0 or -1. */
int directory_dkim_keys_set(struct directory *dir, const char *domain, const struct dir_dkim_key *k, size_t n,
			    const char **error_r);
/* domain's keys into k (at most max, in the order set): 0 with *n_r, -1. */
int directory_dkim_keys_get(struct directory *dir, const char *domain, struct dir_dkim_key *k, size_t max,
			    size_t *n_r);
typedef void dir_name_cb(const char *name, void *ctx);
/* Every domain that has keys here: 0 or -1. */
int directory_dkim_domains(struct directory *dir, dir_name_cb *cb, void *ctx);
/* What changes with any change of the keys (their number and the newest
 * write): 0 or -1. */
int directory_dkim_mark(struct directory *dir, int64_t mark_r[2]);

/* ---- pruning the tables that grow (dir_prune.c) ---- */

enum dir_prune_table {
	DIR_PRUNE_EVENTS,		/* ts < before */
	DIR_PRUNE_AUDIT,		/* ts < before */
	DIR_PRUNE_AUTH_COUNTERS,	/* brute-force counters quiet since before */
	DIR_PRUNE_AUTH_KNOWN,		/* login networks not used since before */
	DIR_PRUNE_AUTH_BLOCKS,		/* blocks and slowings that ended before */
	DIR_PRUNE_SESSIONS,		/* panel sessions idle since before */
	DIR_PRUNE_ABUSE_COUNTS,		/* compromise signal counts of minutes before before / 60 */
	DIR_PRUNE_COUNT
};

/* The table's name, for logs. */
const char *directory_prune_name(enum dir_prune_table t);
/* Deletes at most batch rows of t older than before, in one statement
 * of its own (never inside a transaction): the rows deleted, or -1. */
int64_t directory_prune_batch(struct directory *dir, enum dir_prune_table t, int64_t before, unsigned batch);
/* Batches until one deletes fewer than batch rows, at most max_batches:
 * the rows deleted, or -1 when the first batch failed. */
int64_t directory_prune(struct directory *dir, enum dir_prune_table t, int64_t before, unsigned batch,
			unsigned max_batches);

#endif
