#ifndef YUBIN_CTL_CTL_H
#define YUBIN_CTL_CTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ops/ops.h"
#include "settings/settings.h"

/* yubinctl: one command per invocation. Each command function gets the
 * parsed command line and returns the exit status: 0 success, 1 failure
 * (after one `yubinctl: <sentence>` line on stderr), 2 usage error. */

struct directory;
struct dir_account;
struct dir_event;
struct json;

struct ctl {
	const char *data;		/* data directory */
	struct directory *dir;		/* opened by ctl_directory() */
	/* options */
	bool json, force, password_stdin;
	bool search_only;		/* index rebuild --search-only */
	bool no_move;			/* node drain --no-move */
	const char *to;			/* directory copy --to */
	bool show_secrets;		/* config get/list --show-secrets */
	bool now;			/* dkim rotate --now */
	const char *quota, *memo, *hostname, *port_offset, *listen;
	const char *from;		/* queue inject --from */
	const char *limit, *target;	/* audit --limit, --target */
	const char *role, *expires;	/* admin add, token create */
	const char *kind;		/* security events --kind */
	const char *actor;		/* audit --actor */
	bool check;			/* domain dns --check */
	const char *ham, *spam, *account, *list;	/* spam train, score */
	bool portable;			/* spam train --portable */
	const char *lang, *since;	/* doctor --lang en|ja, --since 7d */
	const char *node;		/* account add --node */
	const char *domains[OPS_DOMAINS_MAX];	/* --domain, repeated */
	size_t ndomains;		/* given, possibly more than kept */
	struct ops ops;			/* filled by ctl_ops() */
	/* positional arguments after the command words */
	int argc;
	char **argv;
};

typedef int ctl_cmd_fn(struct ctl *c);

/* main.c: shared helpers */
int ctl_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* One line of standard input into buf, without its line end, read
 * unbuffered (a secret stays in no stdio buffer): 0, -1 nothing there,
 * -2 longer than buf (buf wiped). */
int ctl_stdin_line(char *buf, size_t size);
void ctl_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Opens DATA/yubin.db, failing with a message when DATA was never
 * initialised. NULL after the message has been printed. */
struct directory *ctl_directory(struct ctl *c);
/* Where the directory lives (directory.url, else DATA/yubin.db): 0, or
 * -1 after a message. */
int ctl_directory_where(struct ctl *c, char *buf, size_t size);
/* DATA/<rel> into buf; -1 (with a message) when too long. */
int ctl_path(const struct ctl *c, char *buf, size_t size, const char *rel);
/* Records an event for the panel and doctor; a failure only warns. */
void ctl_event(struct ctl *c, const char *kind, const char *address, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* "2026-11-28 12:00:00 UTC" / "2026-11-28T12:00:00Z" */
void ctl_time_text(int64_t ts, char *buf, size_t size);
void ctl_time_iso(int64_t ts, char *buf, size_t size);
/* The operations layer with the command line's actor (kind cli, the Unix
 * user's name); NULL after a message when the directory cannot be opened. */
struct ops *ctl_ops(struct ctl *c, struct ops_actor *actor);
/* Prints a refusal of ops/ ("yubinctl: line N: message"); returns 1. */
int ctl_ops_fail(const struct ops_error *err);
/* Prints the finished JSON with a newline; 1 on failure. */
int ctl_json_print(struct json *j);
/* A listing's rows: with --json an array in j, else lines of text; n
 * counts the rows the callback saw. */
struct ctl_list {
	struct json *j;
	size_t n;
};
/* Starts a listing: with --json, l->j is j with an array begun. */
void ctl_list_begin(struct ctl *c, struct ctl_list *l, struct json *j);
/* Ends a listing whose ops/ call returned r (err on -1): prints the
 * refusal (1), or with --json the array; else, with no rows and empty
 * given, prints empty as a line. 0 or 1. */
int ctl_list_end(struct ctl_list *l, int r, const struct ops_error *err, const char *empty);
/* Lowercased copy of a domain name, validated. */
int ctl_domain_arg(const char *arg, char *buf, size_t size);

/* spam.c */
int cmd_spam_score(struct ctl *c);
int cmd_spam_train(struct ctl *c);
int cmd_spam_stats(struct ctl *c);
/* spam_lists.c */
int cmd_spam_allow(struct ctl *c);
int cmd_spam_block(struct ctl *c);
/* sieve.c */
int cmd_sieve(struct ctl *c);
/* rules.c */
int cmd_rules(struct ctl *c);
int cmd_autoreply(struct ctl *c);

/* init.c */
int cmd_init(struct ctl *c);
int cmd_config_get(struct ctl *c);
int cmd_config_set(struct ctl *c);
int cmd_config_list(struct ctl *c);

/* domain.c */
int cmd_domain_add(struct ctl *c);
int cmd_domain_del(struct ctl *c);
int cmd_domain_list(struct ctl *c);
int cmd_domain_show(struct ctl *c);
int cmd_domain_set(struct ctl *c);
int cmd_domain_unset(struct ctl *c);

/* account.c */
int cmd_account_add(struct ctl *c);
int cmd_account_passwd(struct ctl *c);
int cmd_account_quota(struct ctl *c);
int cmd_account_del(struct ctl *c);
int cmd_account_enable(struct ctl *c);
int cmd_account_disable(struct ctl *c);
int cmd_account_set(struct ctl *c);
int cmd_account_unset(struct ctl *c);
/* Looks an account up by address: 0, or 1 after a message when it is
 * missing or the address is malformed. */
int ctl_account_get(struct ctl *c, const char *address, struct dir_account *a);
/* Enable or disable an account and say so; 0 or 1. */
int ctl_account_set_enabled(struct ctl *c, const char *address, bool enabled);
/* The line saying whether address is now enabled. */
void ctl_account_enabled_print(const char *address, bool enabled, bool changed);

/* admin.c: administrators and API tokens */
int cmd_admin_add(struct ctl *c);
int cmd_admin_list(struct ctl *c);
int cmd_admin_del(struct ctl *c);
int cmd_admin_passwd(struct ctl *c);
int cmd_token_create(struct ctl *c);
int cmd_token_list(struct ctl *c);
int cmd_token_revoke(struct ctl *c);
/* account.c: a new password read with --password-stdin, else generated
 * (*generated_r: print it); 0, or 1 after a message. */
int ctl_password_obtain(struct ctl *c, const char *name, char *password, size_t size,
			bool *generated_r);

/* audit.c: the audit log; account add-bulk */
int cmd_audit(struct ctl *c);
/* The filters of a log list from --limit, --target, --domain and --kind;
 * 2 after a message when one is bad. */
struct ops_log_query;
int ctl_log_query(struct ctl *c, struct ops_log_query *q);
int cmd_account_add_bulk(struct ctl *c);

/* directory_cmd.c */
int cmd_directory_migrate(struct ctl *c);
int cmd_directory_copy(struct ctl *c);

/* index.c */
int cmd_index_rebuild(struct ctl *c);

/* account_show.c */
int cmd_account_show(struct ctl *c);
int cmd_account_list(struct ctl *c);

/* Mailbox usage of an account, with the derived figures show and doctor
 * print. */
struct ctl_usage {
	bool present;			/* the mailbox directory exists */
	uint64_t bytes, messages, quota_bytes;
	uint64_t permille;		/* of the quota, rounded down */
};
void ctl_usage_get(const struct ctl *c, const struct dir_account *a, struct ctl_usage *u);
/* "8.5 MB of 10 MB (85.8%), 1 message" */
void ctl_usage_text(const struct ctl_usage *u, char *buf, size_t size);
/* "12.3 MB" with one decimal, rounded down. */
void ctl_mb_text(uint64_t bytes, char *buf, size_t size);

/* settings.c: per-domain and per-account settings */
int ctl_setting_set(struct ctl *c, enum setting_scope scope, const char *name, const char *key,
		    const char *value);
int ctl_setting_unset(struct ctl *c, enum setting_scope scope, const char *name, const char *key);
int cmd_settings_list(struct ctl *c);
/* Adds a "settings" object with the stored settings of scope/name. */
void ctl_settings_json(struct ctl *c, struct json *j, enum setting_scope scope, const char *name);
/* Prints "  key = value" lines, or nothing. */
void ctl_settings_print(struct ctl *c, enum setting_scope scope, const char *name);

/* abuse.c: sending limits, suspensions, BATV (issue 5) */
int cmd_account_unsuspend(struct ctl *c);
/* The sending lines of account show (or JSON fields when j is not NULL). */
void ctl_abuse_show(struct ctl *c, const struct dir_account *a, struct json *j);

/* queue.c: the outbound queue (DATA/queue) */
int cmd_queue_list(struct ctl *c);
int cmd_queue_show(struct ctl *c);
int cmd_queue_retry(struct ctl *c);
/* tlsrpt.c: the daily TLS reports on demand */
int cmd_tlsrpt_send(struct ctl *c);
int cmd_queue_delete(struct ctl *c);
int cmd_queue_inject(struct ctl *c);
/* Tells a running yubind to look at the queue now (SIGUSR1): the
 * queue_wake of the command line's ops. */
bool ctl_queue_wake(const struct ops *o);
/* Sends sig to the running yubind of data (its pid file, checked to name
 * a yubind): true when sent. */
bool ctl_daemon_signal(const char *data, int sig);

/* cert.c: host names and their certificates (issue 15) */
int cmd_cert_list(struct ctl *c);
int cmd_cert_show(struct ctl *c);
int cmd_cert_renew(struct ctl *c);
int cmd_cert_import(struct ctl *c);
int cmd_cert_add(struct ctl *c);
int cmd_cert_remove(struct ctl *c);

/* geoip.c, security.c: foreign-access restriction, brute-force defence (issue 5) */
int cmd_geoip_update(struct ctl *c);
int cmd_geoip_lookup(struct ctl *c);
int cmd_geoip_override(struct ctl *c);
int cmd_security_list(struct ctl *c);
int cmd_security_unblock(struct ctl *c);
int cmd_security_suspended(struct ctl *c);
int cmd_security_events(struct ctl *c);

/* dkim.c: DKIM keys (DATA/dkim) and the DNS records of a domain */
int cmd_dkim_show(struct ctl *c);
int cmd_dkim_rotate(struct ctl *c);
int cmd_dkim_activate(struct ctl *c);
int cmd_dkim_verify(struct ctl *c);
int cmd_domain_dns(struct ctl *c);
/* Says which DKIM keys ops_domain_add made for a new domain (at or after
 * since); 1 when it has none. */
int ctl_dkim_domain_added(struct ctl *c, const char *domain, int64_t since);
/* Messages queued by this process (queue inject) are DKIM-signed like the
 * daemon's: installs / removes the queue file signer. */
void ctl_dkim_hook(const struct ctl *c);
void ctl_dkim_unhook(void);

/* doctor.c */
int cmd_doctor(struct ctl *c);

/* node.c (issue 16 §2) */
int cmd_node_add(struct ctl *c);
int cmd_node_list(struct ctl *c);
int cmd_node_drain(struct ctl *c);
int cmd_node_activate(struct ctl *c);
int cmd_node_remove(struct ctl *c);
int cmd_account_move(struct ctl *c);

#endif
