#ifndef YUBIN_OPS_OPS_H
#define YUBIN_OPS_OPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "directory/directory.h"
#include "settings/settings.h"

/* The operations an administrator or a mail user can perform, one
 * function each, shared by yubinctl and the JSON API: each checks that
 * the actor may do it, validates, performs, records its events and writes
 * one audit row. No output: results and errors come back in structs the
 * callers format. */

#define OPS_NAME_MAX 128
#define OPS_DOMAINS_MAX 32
#define OPS_BULK_MAX 100

enum ops_actor_kind {
	OPS_ACTOR_CLI,		/* yubinctl: the server's operator */
	OPS_ACTOR_ADMIN,	/* server administrator */
	OPS_ACTOR_DOMAIN_ADMIN,	/* administrator of the domains listed */
	OPS_ACTOR_USER,		/* a mail user: only its own account (name) */
	OPS_ACTOR_TOKEN,	/* an API token; role says which of the above */
};

struct ops_actor {
	enum ops_actor_kind kind;
	enum ops_actor_kind role;	/* a token's role (ADMIN or DOMAIN_ADMIN); else kind */
	char name[OPS_NAME_MAX];	/* Unix user, admin name, token id or address */
	char ip[64];			/* "" for the command line */
	size_t ndomains;
	char domains[OPS_DOMAINS_MAX][DIR_DOMAIN_MAX + 1];
	char session[65];		/* the hash of a panel session's id, or "" */
};

/* A refusal: a stable machine code ("invalid_quota", "not_found",
 * "forbidden", "exists", ...), the field it is about (NULL for none), the
 * line of a bulk input (0 for none) and the message in English and
 * Japanese. */
struct ops_error {
	const char *code;
	const char *field;
	unsigned line;
	char en[512];
	char ja[512];
};

struct ops_submit;
struct ops_submit_result;

struct ops {
	struct directory *dir;
	const char *data;	/* the data directory, for mailboxes */
	/* Tells the queue runner to look at the queue now (a retry): true
	 * when a running daemon was told. NULL: nobody to tell. */
	bool (*queue_wake)(const struct ops *o);
	/* Makes a running daemon read yubin.conf again (what SIGHUP does):
	 * true when it did. NULL: nobody to tell (the caller says so). */
	bool (*conf_reload)(const struct ops *o);
	/* Submits a message as port 587 would take it (ops_mail_write.h; the
	 * daemon's submission path): 0 with r->status, -1 on a local fault.
	 * NULL: nobody to submit to. */
	int (*mail_submit)(const struct ops *o, const struct ops_submit *in, struct ops_submit_result *r);
};

/* Fills an actor (with no domains). */
void ops_actor_init(struct ops_actor *a, enum ops_actor_kind kind, const char *name, const char *ip);
/* Adds a domain to a domain administrator's scope: 0, -1 when full. */
int ops_actor_add_domain(struct ops_actor *a, const char *domain);
/* The effective role of an actor (a token's role, else its kind). */
enum ops_actor_kind ops_actor_role(const struct ops_actor *a);
/* May the actor administer domain (server role, or domain in scope)? */
bool ops_may_domain(const struct ops_actor *a, const char *domain);
/* May the actor act on the account address? self_ok: a mail user may do
 * this to its own account. */
bool ops_may_account(const struct ops_actor *a, const char *address, bool self_ok);
/* Server-wide operations: the command line and server administrators. */
bool ops_may_server(const struct ops_actor *a);

/* Sets err; returns -1 so callers can `return ops_fail(...)`. The Japanese
 * text is given as a format too, with the same arguments. */
int ops_fail(struct ops_error *err, const char *code, const char *field, const char *en_fmt,
	     const char *ja_fmt, ...) __attribute__((format(printf, 4, 6)));
/* The actor as the audit log names it: "cli:root", "admin:alice". */
void ops_actor_text(const struct ops_actor *a, char *buf, size_t size);
/* Writes one audit row; -1 when it could not be written. */
int ops_audit(struct ops *o, const struct ops_actor *a, const char *op, const char *target,
	      const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* Records an event with the actor's address; a failure is ignored (the
 * change is done; the audit row is the record that counts). */
void ops_event(struct ops *o, const struct ops_actor *a, const char *kind, const char *address,
	       const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* ---- accounts (ops_account.c) ---- */

/* The account at address (any case) into a, after the scope check. */
int ops_account_get(struct ops *o, const struct ops_actor *actor, const char *address,
		    struct dir_account *a, struct ops_error *err);

struct ops_account_new {
	const char *address, *password, *memo;
	unsigned quota_mb;	/* 0: the default */
	const char *node;	/* home node; NULL: the one with most free space (none: here) */
};

/* Adds an account and its mailbox; the canonical address into a_r. */
int ops_account_add(struct ops *o, const struct ops_actor *actor, const struct ops_account_new *n,
		    struct dir_account *a_r, struct ops_error *err);
/* Adds every account of text (lines "address,password,MB,memo"; empty
 * lines and lines starting with '#' skipped, MB and memo may be empty) in
 * one transaction: all or none. On a refusal err->line names the line.
 * *count_r: the accounts added. */
int ops_account_add_bulk(struct ops *o, const struct ops_actor *actor, const char *text,
			 unsigned *count_r, struct ops_error *err);
/* A new password. current: the present password, required (and checked)
 * when a mail user changes its own. *lifted_r: a sending suspension was
 * lifted by the change. */
int ops_account_passwd(struct ops *o, const struct ops_actor *actor, const char *address,
		       const char *current, const char *password, bool *lifted_r, struct ops_error *err);
/* *old_r: the quota before. */
int ops_account_quota(struct ops *o, const struct ops_actor *actor, const char *address,
		      unsigned quota_mb, unsigned *old_r, struct ops_error *err);
int ops_account_memo(struct ops *o, const struct ops_actor *actor, const char *address,
		     const char *memo, struct ops_error *err);
/* *changed_r: false when it already was so. */
int ops_account_enable(struct ops *o, const struct ops_actor *actor, const char *address,
		       bool enabled, bool *changed_r, struct ops_error *err);
/* Lifts a sending suspension: *lifted_r false when there was none. */
int ops_account_unsuspend(struct ops *o, const struct ops_actor *actor, const char *address,
			  bool *lifted_r, struct ops_error *err);

struct ops_del_result {
	bool mailbox_present, mailbox_left;	/* left: could not be fully removed */
	uint64_t messages, bytes;
	char path[4096];
	/* the account's home node, which deletes the mailbox on its next
	 * pass (seconds); "": the mailbox was here (the fields above) */
	char node[DIR_NODE_NAME_MAX + 1];
};
/* Deletes an account, its settings and its mailbox: here, or with a home
 * node, a request to that node to delete it (mailbox_deletions). */
int ops_account_del(struct ops *o, const struct ops_actor *actor, const char *address,
		    struct ops_del_result *r, struct ops_error *err);

/* ---- domains (ops_domain.c) ---- */

/* Adds a domain (lower-cased into name_r, DIR_DOMAIN_MAX + 1), its mail
 * directory and its DKIM keys; *mkdir_failed_r: the directory is left for
 * the first account. Server actors only. */
int ops_domain_add(struct ops *o, const struct ops_actor *actor, const char *name, char *name_r,
		   bool *mkdir_failed_r, struct ops_error *err);

struct ops_domain_del_result {
	char name[DIR_DOMAIN_MAX + 1];
	size_t accounts;
	size_t on_nodes;	/* of them with a home node, whose node deletes the mailbox */
	bool mail_left;		/* the mail directory could not be fully removed */
	bool dkim_left;		/* nor its DKIM keys (DATA/dkim/DOMAIN) */
	char path[4096];
};
/* Deletes a domain; with accounts only when force, and then them, their
 * settings and all the domain's mail too; and its DKIM keys. Server
 * actors only. */
int ops_domain_del(struct ops *o, const struct ops_actor *actor, const char *name, bool force,
		   struct ops_domain_del_result *r, struct ops_error *err);

/* ---- settings of a domain or an account (ops_setting.c) ---- */

#define OPS_VALUE_MAX (100 * 322 + 64)	/* the longest list: 100 forwarding addresses */

struct ops_setting_result {
	const struct setting *s;
	char value[OPS_VALUE_MAX];	/* normalised */
	char warn[512];			/* a warning for an accepted value, or "" */
	bool changed;			/* false: an account column already so */
};

/* Sets key of the domain or account name (which must exist) through the
 * settings table: memo and enabled are the account's columns, batv on
 * makes the domain's key, everything else goes to settings_store. A mail
 * user may set only its own forwarding. */
int ops_setting_set(struct ops *o, const struct ops_actor *actor, enum setting_scope scope,
		    const char *name, const char *key, const char *value, struct ops_setting_result *r,
		    struct ops_error *err);
/* Removes the domain's or account's own value of key, so the account
 * follows its domain again and the domain the server's default; r->value
 * is the value in force afterwards and r->changed whether one was set.
 * memo and enabled are columns, not values to remove. */
int ops_setting_unset(struct ops *o, const struct ops_actor *actor, enum setting_scope scope,
		      const char *name, const char *key, struct ops_setting_result *r,
		      struct ops_error *err);
/* The value of s for scope/name (a: the account, for scope account): an
 * account column, the stored value, an account's domain's value, or the
 * default; *set_r when it is the domain's or account's own. */
void ops_setting_value(struct ops *o, const struct setting *s, enum setting_scope scope,
		       const char *name, const struct dir_account *a, char *buf, size_t size, bool *set_r);

/* ---- security (ops_security.c) ---- */

/* Lifts a brute-force block of an IP address (IPv6: its /64; server
 * actors only) or the slowing of an account (its domain's administrators
 * too). The block key into key_r (DIR_ADDRESS_MAX + 1); *removed_r false
 * when nothing was blocked. */
int ops_security_unblock(struct ops *o, const struct ops_actor *actor, const char *what, char *key_r,
			 bool *removed_r, struct ops_error *err);

/* ---- administrators and API tokens (ops_admin.c) ---- */

/* A token as shown once: "yubin_" ID "_" SECRET (12 + 64 hex digits). */
#define OPS_TOKEN_ID_LEN 12
#define OPS_TOKEN_SECRET_LEN 64
#define OPS_TOKEN_TEXT_MAX (6 + OPS_TOKEN_ID_LEN + 1 + OPS_TOKEN_SECRET_LEN + 1)
#define OPS_TOKEN_EXPIRES_MAX (3650ULL * 86400)

/* The scope of an administrator or token: role "server" or "domain" and
 * for "domain" 1 to OPS_DOMAINS_MAX existing domains. */
struct ops_scope {
	const char *role;
	const char *const *domains;
	size_t ndomains;
};

/* Only the server's operator and server administrators manage
 * administrators. The password is checked like an account's. */
int ops_admin_add(struct ops *o, const struct ops_actor *actor, const char *name,
		  const struct ops_scope *scope, const char *password, struct ops_error *err);
int ops_admin_del(struct ops *o, const struct ops_actor *actor, const char *name,
		  struct ops_error *err);
int ops_admin_passwd(struct ops *o, const struct ops_actor *actor, const char *name,
		     const char *password, struct ops_error *err);
int ops_admin_list(struct ops *o, const struct ops_actor *actor, dir_admin_cb *cb, void *ctx,
		   struct ops_error *err);
/* A panel log-in: the administrator's actor (ADMIN or DOMAIN_ADMIN with
 * its domains) into actor_r. Any failure is "bad_login", and an unknown
 * name costs a hash verification like a known one. */
int ops_admin_login(struct ops *o, const char *name, const char *password, const char *ip,
		    struct ops_actor *actor_r, struct ops_error *err);

/* Creates a token (a domain administrator: only for domains of its own);
 * expires_in seconds, 1..OPS_TOKEN_EXPIRES_MAX. The token text (shown
 * once, never stored) into token_r, its id into id_r. */
int ops_token_create(struct ops *o, const struct ops_actor *actor, const struct ops_scope *scope,
		     uint64_t expires_in, char token_r[OPS_TOKEN_TEXT_MAX], char id_r[32],
		     struct ops_error *err);
int ops_token_revoke(struct ops *o, const struct ops_actor *actor, const char *id,
		     struct ops_error *err);
int ops_token_list(struct ops *o, const struct ops_actor *actor, dir_token_cb *cb, void *ctx,
		   struct ops_error *err);
/* An "Authorization: Bearer" value: the token's actor (kind TOKEN, its
 * role and domains) into actor_r, and its last use noted. The secret is
 * compared in constant time; unknown, wrong, revoked and expired tokens
 * are all "bad_token". */
int ops_token_verify(struct ops *o, const char *token, const char *ip, int64_t now,
		     struct ops_actor *actor_r, struct ops_error *err);

/* ---- lists, scoped by the actor (ops_list.c) ---- */

/* The domains the actor administers (all for server actors), by name. */
int ops_domain_list(struct ops *o, const struct ops_actor *actor, dir_domain_cb *cb, void *ctx,
		    struct ops_error *err);

struct ops_account_row {
	const struct dir_account *a;
	uint64_t used_bytes;	/* the mailbox's usage */
	bool suspended;		/* sending suspended (compromised-account detection) */
};
typedef void ops_account_row_cb(const struct ops_account_row *row, void *ctx);
/* The accounts of domain whose address or memo contains q (any case; NULL
 * or "" for all), by address: rows offset.. offset + limit - 1 (limit 0:
 * all) to cb, and how many matched into *total_r. domain NULL: every
 * domain's accounts, all of them by address (q, offset and limit are not
 * used), for server actors only. */
int ops_account_list(struct ops *o, const struct ops_actor *actor, const char *domain, const char *q,
		     size_t offset, size_t limit, ops_account_row_cb *cb, void *ctx, size_t *total_r,
		     struct ops_error *err);

/* The mailbox usage and the sending suspension of an account. */
void ops_account_status(struct ops *o, const struct dir_account *a, uint64_t *used_r, bool *suspended_r);

struct ops_setting_row {
	const struct setting *s;
	const char *value;	/* stored, the domain's for an account, or the default */
	bool set;		/* stored for this domain or account */
};
typedef void ops_setting_row_cb(const struct ops_setting_row *row, void *ctx);
/* Every setting of scope (domain or account) for name, in table order; a
 * mail user may read its own account's. Secrets are masked. */
int ops_setting_list(struct ops *o, const struct ops_actor *actor, enum setting_scope scope,
		     const char *name, ops_setting_row_cb *cb, void *ctx, struct ops_error *err);

/* ---- an account's Sieve scripts (ops_sieve.c) ---- */

#define OPS_SIEVE_SCRIPT_MAX (1024 * 1024)	/* sieve.max_script_size is at most this */

/* The server's quota for one account's scripts (sieve.max_script_size,
 * sieve.max_scripts). */
struct ops_sieve_limits {
	size_t max_script;
	unsigned max_scripts;
};

/* Each takes the account (a mail user: only its own; administrators in
 * their scope). Errors: invalid_name, quota_size, quota_count,
 * invalid_script (err->line: the script's line), not_found, exists,
 * active (the active script cannot be deleted), internal. */
typedef void ops_sieve_list_cb(const char *name, size_t size, bool active, void *ctx);
int ops_sieve_list(struct ops *o, const struct ops_actor *actor, const char *address, ops_sieve_list_cb *cb,
		   void *ctx, struct ops_error *err);
/* *text_r is malloc'd (NUL-terminated). */
int ops_sieve_get(struct ops *o, const struct ops_actor *actor, const char *address, const char *name,
		  char **text_r, size_t *len_r, struct ops_error *err);
/* Compiles text: 0, or -1 (quota_size, invalid_script). */
int ops_sieve_check(const char *text, size_t len, const struct ops_sieve_limits *lim, struct ops_error *err);
/* Would a script of size bytes named name fit (a replacement counts once)? */
int ops_sieve_space(struct ops *o, const struct ops_actor *actor, const char *address, const char *name,
		    uint64_t size, const struct ops_sieve_limits *lim, struct ops_error *err);
/* Stores (creates or replaces) a script that compiles. */
int ops_sieve_put(struct ops *o, const struct ops_actor *actor, const char *address, const char *name,
		  const char *text, size_t len, const struct ops_sieve_limits *lim, struct ops_error *err);
/* name "": no script is active. */
int ops_sieve_activate(struct ops *o, const struct ops_actor *actor, const char *address, const char *name,
		       struct ops_error *err);
int ops_sieve_delete(struct ops *o, const struct ops_actor *actor, const char *address, const char *name,
		     struct ops_error *err);
int ops_sieve_rename(struct ops *o, const struct ops_actor *actor, const char *address, const char *from,
		     const char *to, struct ops_error *err);

/* The server's global scripts (ops_sieve_global.c, RFC 6609 include
 * :global): DATA/sieve/NAME.sieve, server administrators only
 * (forbidden), compiled before they are stored. */
int ops_sieve_global_list(struct ops *o, const struct ops_actor *actor, ops_sieve_list_cb *cb, void *ctx,
			  struct ops_error *err);
int ops_sieve_global_get(struct ops *o, const struct ops_actor *actor, const char *name, char **text_r,
			 size_t *len_r, struct ops_error *err);
int ops_sieve_global_put(struct ops *o, const struct ops_actor *actor, const char *name, const char *text,
			 size_t len, const struct ops_sieve_limits *lim, struct ops_error *err);
int ops_sieve_global_delete(struct ops *o, const struct ops_actor *actor, const char *name, struct ops_error *err);

/* ---- the spam filter's allow and block lists (ops_spam.c) ---- */

/* kind: "allow" or "block"; target: a domain, or an account address (a
 * mail user may change its own account's lists, a domain administrator
 * those of its domains and their accounts). pattern is checked by
 * spam/spam_list.h; its stored form goes to norm_r (256 bytes). add:
 * "exists" when it is listed already; del: "not_found" when it is not. */
int ops_spamlist_add(struct ops *o, const struct ops_actor *actor, const char *kind, const char *target,
		     const char *pattern, char *norm_r, size_t normsize, struct ops_error *err);
int ops_spamlist_del(struct ops *o, const struct ops_actor *actor, const char *kind, const char *target,
		     const char *pattern, char *norm_r, size_t normsize, struct ops_error *err);
/* The entries of target, kind NULL for both lists. */
int ops_spamlist_list(struct ops *o, const struct ops_actor *actor, const char *kind, const char *target,
		      dir_spamlist_cb *cb, void *ctx, struct ops_error *err);

/* ---- panel sessions and the mail users' web login (ops_session.c) ---- */

#define OPS_SESSION_ID_LEN 64	/* hex digits of the cookie's id */

/* A new session for actor (after a login): its cookie id into id_r and its
 * CSRF token into csrf_r. Old sessions past idle or lifetime seconds are
 * dropped on the way. */
int ops_session_create(struct ops *o, const struct ops_actor *actor, int64_t now, unsigned idle,
		       unsigned lifetime, char id_r[OPS_SESSION_ID_LEN + 1], char csrf_r[65],
		       struct ops_error *err);
/* The session of a cookie id: its actor (with actor_r->session set) and
 * CSRF token; last use written at most once a minute. Unknown, expired,
 * and sessions of deleted or disabled accounts: "not_logged_in". */
int ops_session_verify(struct ops *o, const char *id, const char *ip, int64_t now, unsigned idle,
		       unsigned lifetime, struct ops_actor *actor_r, char csrf_r[65], struct ops_error *err);
/* Ends the session of a cookie id (logout); unknown ids are fine. */
void ops_session_end(struct ops *o, const char *id);

/* The daemon's login check (brute-force defence, foreign-access
 * restriction, password), passed in by the caller since its state lives
 * in the server. */
enum ops_login_code { OPS_LOGIN_OK, OPS_LOGIN_FAILED, OPS_LOGIN_FOREIGN, OPS_LOGIN_BLOCKED, OPS_LOGIN_TEMPFAIL };
struct ops_login_result {
	enum ops_login_code code;
	char address[DIR_ADDRESS_MAX + 1];	/* canonical, on success */
	char text[256];				/* why, for FOREIGN and BLOCKED */
	unsigned delay_ms;			/* the reply should wait so long */
};
typedef void ops_login_check_fn(void *ctx, const char *address, const char *password, const char *ip,
				const char *service, struct ops_login_result *r);
/* A mail user's web panel login with the full address: the actor (USER)
 * into actor_r. "bad_login", "foreign_blocked" (foreign-auth-web) or
 * "rate_limited"; *delay_ms_r: how long the answer should wait. */
int ops_user_login(struct ops *o, const char *address, const char *password, const char *ip,
		   ops_login_check_fn *check, void *check_ctx, struct ops_actor *actor_r,
		   unsigned *delay_ms_r, struct ops_error *err);

/* Checks a quota text ("2000"): 0 with *mb_r, -1 with err. */
int ops_quota_parse(const char *text, unsigned *mb_r, struct ops_error *err);
int ops_memo_check(const char *memo, struct ops_error *err);

/* ---- mail nodes (ops_node.c, issue 16 §2) ---- */

int ops_node_add(struct ops *o, const struct ops_actor *actor, const struct dir_node *n,
		 struct ops_error *err);
int ops_node_list(struct ops *o, const struct ops_actor *actor, dir_node_cb *cb, void *ctx,
		  struct ops_error *err);
/* state: "active" or "draining" (no new accounts). */
int ops_node_state(struct ops *o, const struct ops_actor *actor, const char *name, const char *state,
		   struct ops_error *err);
/* Refused while accounts live there. */
int ops_node_remove(struct ops *o, const struct ops_actor *actor, const char *name, struct ops_error *err);
/* The home node of a new account into node_r: wanted (which must be an
 * active node), else the active node with most free space, else "" (no
 * nodes: this machine). */
int ops_node_place(struct ops *o, const char *wanted, char *node_r, size_t size, struct ops_error *err);

#endif
