#ifndef YUBIN_OPS_OPS_SERVER_H
#define YUBIN_OPS_OPS_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ops/ops.h"
#include "policy/dkim_keys.h"
#include "policy/geoip.h"
#include "store/queue_file.h"

/* The server's administration beyond accounts and domains, shared by
 * yubinctl and the JSON API like ops.h: the security and audit logs, a
 * mail user's own logins, the outbound queue, DKIM keys and the DNS
 * records of a domain, and doctor. Lists come back through callbacks or
 * in result structs; nothing is printed. Scope: server actors see
 * everything; a domain administrator only its domains, their accounts and
 * the messages their addresses sent; a mail user only itself. */

/* "2026-11-28 12:00:00 UTC" */
void ops_time_text(int64_t ts, char *buf, size_t size);

/* ---- the security and audit logs (ops_log.c) ---- */

#define OPS_LOG_LIMIT_DEFAULT 50
#define OPS_LOG_LIMIT_MAX 10000

/* Filters of a log list; each is optional (NULL / 0). */
struct ops_log_query {
	const char *domain;	/* rows about this domain and its addresses */
	const char *address;	/* events: of this account; audit: this target */
	const char *kind;	/* events: of this kind */
	const char *actor;	/* audit: by this actor ("admin:alice") */
	int64_t since;		/* events: at or after this Unix time */
	int64_t before;		/* an id: only older rows (the next page) */
	unsigned limit;		/* 0: OPS_LOG_LIMIT_DEFAULT; at most OPS_LOG_LIMIT_MAX */
};

/* Security and delivery events, newest first. Server actors: all; a
 * domain administrator: the events of its domains and their accounts. */
int ops_security_events(struct ops *o, const struct ops_actor *actor, const struct ops_log_query *q,
			dir_event_cb *cb, void *ctx, struct ops_error *err);
/* Blocked client addresses (server actors) and slowed accounts (their
 * domain's administrators too) in force now, oldest first. */
int ops_security_blocks(struct ops *o, const struct ops_actor *actor, dir_auth_block_cb *cb, void *ctx,
			struct ops_error *err);
/* Accounts whose sending is suspended, with the reason, oldest first. */
int ops_security_suspended(struct ops *o, const struct ops_actor *actor, dir_hold_cb *cb, void *ctx,
			   struct ops_error *err);
/* The audit log, newest first. A domain administrator sees the rows about
 * its domains and their accounts (never administrators' or tokens'). */
int ops_audit_list(struct ops *o, const struct ops_actor *actor, const struct ops_log_query *q,
		   dir_audit_cb *cb, void *ctx, struct ops_error *err);
/* The login history of a mail user's own account (logins, refused and
 * blocked attempts), newest first; q->before and q->limit page it. Also
 * for the account's administrators (address given). */
int ops_me_logins(struct ops *o, const struct ops_actor *actor, const char *address,
		  const struct ops_log_query *q, dir_event_cb *cb, void *ctx, struct ops_error *err);
/* The event kinds ops_me_logins lists, comma-separated. */
extern const char ops_login_kinds[];

/* ---- the outbound queue (ops_queue.c) ---- */

/* A domain administrator sees and manages the messages whose sender is
 * in its domains (the envelope's MAIL FROM, read anyway to list them);
 * bounces (null sender) are for server actors only. A retry tells the
 * runner through o->queue_wake when set. */
typedef void ops_queue_cb(const struct queue_env *env, void *ctx);
int ops_queue_list(struct ops *o, const struct ops_actor *actor, ops_queue_cb *cb, void *ctx,
		   struct ops_error *err);

#define OPS_QUEUE_HEADER_MAX (64 * 1024)
/* One message: its envelope (queue_env_free it) and its header block
 * (malloc'd, at most OPS_QUEUE_HEADER_MAX bytes, LF line ends). */
int ops_queue_show(struct ops *o, const struct ops_actor *actor, const char *id, struct queue_env *env_r,
		   char **header_r, struct ops_error *err);
/* Makes a message (id NULL: every message the actor may see) due now.
 * *count_r: how many; *woken_r: a running daemon was told. */
int ops_queue_retry(struct ops *o, const struct ops_actor *actor, const char *id, size_t *count_r,
		    bool *woken_r, struct ops_error *err);
/* Removes a message without a bounce. */
int ops_queue_delete(struct ops *o, const struct ops_actor *actor, const char *id, struct ops_error *err);
/* A recipient's state as yubinctl and the API name it: "pending",
 * "delivered" or "failed". */
const char *ops_queue_rcpt_state_name(enum queue_rcpt_state s);

/* ---- DKIM keys and DNS records (ops_dkim.c, ops_dns.c) ---- */

#define OPS_DKIM_KEEP_DAYS 7	/* a retired key's record stays this long */
#define OPS_RR_VALUE_MAX 1024

struct ops_dkim_key {
	struct dkim_keyinfo info;
	int64_t keep_until;		/* retired: its record may go after this */
	char dns_name[DKIM_SELECTOR_MAX + DIR_DOMAIN_MAX + 16];	/* SEL._domainkey.DOMAIN */
	char record[OPS_RR_VALUE_MAX];	/* "" when the key file is not usable */
	char file[1024];
};

struct ops_dkim_keys {
	char domain[DIR_DOMAIN_MAX + 1];
	size_t n;
	struct ops_dkim_key keys[DKIM_KEYS_MAX];
	/* rotate: keys whose retirement ended and were removed */
	size_t npruned;
	char pruned[DKIM_KEYS_MAX][DKIM_SELECTOR_MAX];
	bool switched;		/* rotate / activate: signing with new keys now */
	bool had_active;	/* rotate: there were active keys before */
};

/* The domain's keys (the domain must exist and be the actor's). */
int ops_dkim_list(struct ops *o, const struct ops_actor *actor, const char *domain,
		  struct ops_dkim_keys *r, struct ops_error *err);
/* New keys in state next; with now (or when none is active) signing with
 * them at once. The keys afterwards into r. */
int ops_dkim_rotate(struct ops *o, const struct ops_actor *actor, const char *domain, bool now,
		    struct ops_dkim_keys *r, struct ops_error *err);
/* Signs with the waiting keys, retiring the old ones. */
int ops_dkim_activate(struct ops *o, const struct ops_actor *actor, const char *domain,
		      struct ops_dkim_keys *r, struct ops_error *err);
/* Keys for a new domain unless it has some: 1 made (into r), 0 kept. */
int ops_dkim_domain_added(struct ops *o, const struct ops_actor *actor, const char *domain,
			  struct ops_dkim_keys *r, struct ops_error *err);

enum ops_dns_state {
	OPS_DNS_UNCHECKED,	/* no live check asked */
	OPS_DNS_PUBLISHED,	/* DNS answers the record */
	OPS_DNS_MISSING,	/* no such record */
	OPS_DNS_DIFFERENT,	/* a record of its kind with another value */
	OPS_DNS_UNKNOWN,	/* the lookup failed (timeout, SERVFAIL) */
};
const char *ops_dns_state_name(enum ops_dns_state s);

struct ops_rr {
	char name[DIR_DOMAIN_MAX + DKIM_SELECTOR_MAX + 24];	/* with the final dot */
	const char *type;		/* "MX", "TXT", "SRV" or "CNAME" */
	const char *purpose;		/* "mx", "spf", "dkim", "dmarc", "srv", "sts", "sts-host", "tlsrpt" */
	char value[OPS_RR_VALUE_MAX];	/* TXT: the whole text, unsplit */
	char explain[400];
	enum ops_dns_state state;
	char found[OPS_RR_VALUE_MAX];	/* what DNS answered (different), or an error */
};

#define OPS_SRV_RECORDS 6	/* RFC 6186/8314 service records */

struct ops_dns_records {
	char domain[DIR_DOMAIN_MAX + 1];
	size_t n;
	struct ops_rr rr[4 + OPS_SRV_RECORDS + 3 + DKIM_KEYS_MAX];
	bool no_dkim;		/* the domain has no DKIM keys */
	bool key_unusable;	/* a key file could not be read: its record is left out */
};

/* The records the domain needs: MX and SPF naming hostname, the DKIM keys
 * (active, next and retired within their keep time) and DMARC. */
int ops_dns_records(struct ops *o, const struct ops_actor *actor, const char *domain, const char *hostname,
		    struct ops_dns_records *r, struct ops_error *err);
/* A domain's MTA-STS policy (RFC 8461 §3.2) as served at
 * https://mta-sts.DOMAIN/.well-known/mta-sts.txt: mode (domain setting
 * mta-sts), mx hostname, mail.DOMAIN and the domain's added host names
 * (as many as fit), max_age (mta-sts-max-age); id changes when the text
 * does. */
struct ops_mtasts {
	char mode[16];
	char text[4096];
	char id[24];
};
/* 1 filled, 0 domain not hosted, -1 database error. */
int ops_mtasts_policy(struct ops *o, const char *domain, const char *hostname, struct ops_mtasts *p);
/* Looks each record up at resolver ("" system, "ADDRESS[:PORT]") and sets
 * its state; at most timeout_ms in all. */
void ops_dns_check(struct ops_dns_records *r, const char *hostname, const char *resolver,
		   unsigned timeout_ms);

/* ---- doctor (ops_doctor.c) ---- */

#define OPS_DOCTOR_EVENTS 20
#define OPS_DOCTOR_CHECKS 64

enum ops_doctor_level { OPS_DOCTOR_OK, OPS_DOCTOR_WARN, OPS_DOCTOR_FAIL };

/* The questions of the hosting service's support page (issue 15 §4),
 * each finding answers one of them. */
enum ops_doctor_group {
	OPS_DQ_SEND,		/* can't send */
	OPS_DQ_RECEIVE,		/* can't receive */
	OPS_DQ_FULL,		/* mailbox full */
	OPS_DQ_SPAM,		/* "[SPAM]" in subjects */
	OPS_DQ_PASSWORD,	/* the client asks for the password again */
	OPS_DQ_CERT,		/* certificate warnings */
	OPS_DQ_BOUNCES,		/* strange bounces */
	OPS_DQ_FILTER,		/* where did my mail go (filters, auto-reply) */
	OPS_DQ_COUNT
};
/* "send", "receive", ... (the JSON's group ids); the question in English
 * and Japanese. */
const char *ops_doctor_group_id(enum ops_doctor_group g);
const char *ops_doctor_group_title(enum ops_doctor_group g, bool ja);

struct ops_doctor_check {
	enum ops_doctor_level level;
	enum ops_doctor_group group;
	char text[1200];	/* the cause and the fix, one line */
	char ja[1800];		/* the same in Japanese */
	char command[320];	/* the yubinctl command that fixes it, or "" */
	char setting[48];	/* the setting (panel field) that fixes it, or "" */
};

struct ops_doctor_event {
	struct dir_event e;
	char text[1200];	/* one plain sentence */
	char ja[1800];
};

/* What the live checks need: the server's host name and the resolver
 * (dns.resolver); no DNS check when dns_timeout_ms is 0. */
struct ops_doctor_opts {
	unsigned days;
	const char *hostname, *resolver;
	unsigned dns_timeout_ms;
};

struct ops_doctor {
	char address[DIR_ADDRESS_MAX + 1];
	size_t nchecks, nevents;
	struct ops_doctor_check checks[OPS_DOCTOR_CHECKS];
	struct ops_doctor_event events[OPS_DOCTOR_EVENTS];
	unsigned problems, warnings;
	unsigned days;		/* the window looked back over for recent refusals */
	bool events_unreadable;
	enum ops_doctor_group group;	/* the one findings are added to now */
	struct ops_doctor_check spare;	/* written to when checks is full */
};

#define OPS_DOCTOR_DAYS 7	/* the window without --since / ?since= */
#define OPS_DOCTOR_DAYS_MAX 366

/* Why can this user not log in or get mail: the checks a support person
 * makes, in order, each with its fix, then the address's recent events
 * explained. Server actors, and domain administrators for their domains.
 * err only for a bad address, a refusal or a database failure. */
int ops_doctor(struct ops *o, const struct ops_actor *actor, const char *address, struct ops_doctor *r,
	       struct ops_error *err);
/* The same over the last days days (1..OPS_DOCTOR_DAYS_MAX). */
int ops_doctor_since(struct ops *o, const struct ops_actor *actor, const char *address, unsigned days,
		     struct ops_doctor *r, struct ops_error *err);
/* The same with the live checks of opts (DNS for can't receive). */
int ops_doctor_run(struct ops *o, const struct ops_actor *actor, const char *address,
		   const struct ops_doctor_opts *opts, struct ops_doctor *r, struct ops_error *err);
/* A --since / ?since= duration ("7d", "48h", "30d") as whole days, rounded
 * up; -1 when it is not a duration or outside 1 s .. OPS_DOCTOR_DAYS_MAX days. */
int ops_doctor_days_parse(const char *s, unsigned *days_r);
/* One plain sentence explaining an event, in English / in Japanese. */
void ops_event_explain(const struct dir_event *e, char *buf, size_t size);
void ops_event_explain_ja(const struct dir_event *e, char *buf, size_t size);

/* ---- the server's settings: yubin.conf (ops_conf.c) ---- */

#define OPS_CONF_VALUE_MAX 1024

/* One server setting as shown: value masked with settings_display unless
 * secrets were asked for. */
typedef void ops_conf_cb(const struct setting *s, const char *value, void *ctx);
/* Every server setting in the table's order with its value in
 * DATA/yubin.conf. show_secrets: the command line only (others get
 * forbidden); the API never asks. Server actors only. */
int ops_conf_list(struct ops *o, const struct ops_actor *actor, bool show_secrets, ops_conf_cb *cb,
		  void *ctx, struct ops_error *err);
/* One setting's value into value (OPS_CONF_VALUE_MAX), masked likewise;
 * *s_r the setting. */
int ops_conf_get(struct ops *o, const struct ops_actor *actor, const char *key, bool show_secrets,
		 const struct setting **s_r, char *value, struct ops_error *err);

struct ops_conf_result {
	const struct setting *s;
	char value[OPS_CONF_VALUE_MAX], old[OPS_CONF_VALUE_MAX];	/* as shown (secrets masked) */
	char warn[512];		/* an accepted but risky value, or "" */
	bool restart;		/* applies only when yubind restarts (SETTING_RESTART) */
	bool reloaded;		/* o->conf_reload told the running daemon */
};
/* Checks value through the table, rewrites yubin.conf atomically (its
 * other lines kept), records a config-changed event and an audit row, then
 * tells the daemon through o->conf_reload when set. */
int ops_conf_set(struct ops *o, const struct ops_actor *actor, const char *key, const char *value,
		 struct ops_conf_result *r, struct ops_error *err);

/* ---- the GeoIP override table and lookups (ops_geoip.c) ---- */

#define OPS_CIDR_MAX 64

/* The operator's overrides (CIDR -> country), as stored. The daemon reads
 * the table at every login, so a change applies to the next one. Server
 * actors only, like every GeoIP operation. */
int ops_geoip_override_list(struct ops *o, const struct ops_actor *actor, dir_override_cb *cb, void *ctx,
			    struct ops_error *err);
/* Adds (or replaces) the override of cidr; its canonical form into
 * cidr_r (OPS_CIDR_MAX), the upper-cased country into cc_r. */
int ops_geoip_override_add(struct ops *o, const struct ops_actor *actor, const char *cidr, const char *cc,
			   char *cidr_r, char cc_r[3], struct ops_error *err);
/* Deletes it (not_found when there was none). */
int ops_geoip_override_del(struct ops *o, const struct ops_actor *actor, const char *cidr, char *cidr_r,
			   struct ops_error *err);

enum ops_geoip_source {
	OPS_GEOIP_OVERRIDE,	/* an override decided */
	OPS_GEOIP_PRIVATE,	/* a private or loopback address: always exempt */
	OPS_GEOIP_DATABASE,	/* the database's country */
	OPS_GEOIP_UNKNOWN,	/* the database has no country for it */
	OPS_GEOIP_NO_DATABASE,	/* no usable database (geoip.missing decides) */
};
const char *ops_geoip_source_name(enum ops_geoip_source s);

struct ops_geoip_answer {
	enum ops_geoip_source source;
	char country[3];		/* what the restriction uses; "" for none */
	char override_cidr[OPS_CIDR_MAX];	/* the override that applied, or "" */
	enum geoip_status db;		/* the database's own answer */
	char db_country[3];
	char db_error[300];		/* db == GEOIP_NO_DATABASE: why */
};
/* What the foreign-access restriction sees for ip, in the order the login
 * check decides: the override table (longest prefix) first, then a
 * private address is exempt, then the database (DATA/geoip/country.mmdb). */
int ops_geoip_lookup(struct ops *o, const struct ops_actor *actor, const char *ip,
		     struct ops_geoip_answer *r, struct ops_error *err);

/* ---- an account's mail index (ops_index.c) ---- */

/* A folder as the index has it after the rebuild. */
typedef void ops_index_folder_cb(const char *name, size_t messages, uint32_t uidvalidity, uint32_t uidnext,
				 bool failed, void *ctx);

struct ops_index_result {
	char address[DIR_ADDRESS_MAX + 1];
	bool whole;		/* a new index file: --force or a damaged one */
	bool corrupt;		/* the old index was damaged (set aside as index.db.corrupt-*) */
	unsigned folders, messages, failed;
	char detail[400];	/* whole: the folders and whether their UIDs were kept */
	char root[4096];
	unsigned search_messages;	/* messages in the rebuilt search index */
	bool search_failed;		/* the search index could not be rebuilt */
};
/* Brings the account's index in line with its Maildir keeping every UID
 * (force: a new index, every folder a new UIDVALIDITY); a damaged index is
 * set aside and rebuilt. Safe with the daemon running: its pooled handles
 * see the new file and reopen. cb (may be NULL) gets each folder of an
 * in-place sync. Server actors and the account's domain administrators. */
int ops_index_rebuild(struct ops *o, const struct ops_actor *actor, const char *address, bool force,
		      ops_index_folder_cb *cb, void *ctx, struct ops_index_result *r, struct ops_error *err);
/* The full-text search index (store/fts.h) made anew from the Maildir:
 * every message of every folder indexed (ops_index_rebuild does this too,
 * after the mail index). Same roles. */
int ops_index_rebuild_search(struct ops *o, const struct ops_actor *actor, const char *address,
			     struct ops_index_result *r, struct ops_error *err);

#endif
