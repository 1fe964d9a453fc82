#ifndef YUBIN_HTTP_API_ADMIN_H
#define YUBIN_HTTP_API_ADMIN_H

#include "http/api.h"
#include "ops/ops_server.h"

/* The server administration's resources of the JSON API, on the
 * operations of ops/ops_server.h and ops.h (administrators, tokens): one
 * file each, their rows in api_routes.c. */

/* A query parameter as a whole number up to max: 1 given, 0 absent, -1
 * bad (answered 400 invalid_field). */
int api_query_uint(struct api_job *j, const char *name, uint64_t max, uint64_t *out);
/* key (NULL: a value where one is due): "2026-11-28T12:00:00Z" */
void api_json_time(struct json *o, const char *key, int64_t ts);
/* The filters limit, before, since, domain, address, kind, actor of a log
 * list from the query; false when one was answered 400. */
bool api_log_query(struct api_job *j, struct ops_log_query *q);
/* One event as the API shows it, with its explanation (in Japanese when
 * ja). */
void api_json_event(struct json *o, const struct dir_event *e, bool ja);
/* A page of log rows under key: the rows, then "next_before" (the id to
 * ask older rows with) when the page is full. */
struct api_page {
	struct json *o;
	bool ja;
	unsigned n;
	int64_t last;
};
/* Starts the 200 reply of a page (p->o) with key and its array. */
void api_page_begin(struct api_job *j, struct api_page *p, const char *key);
/* Counts one row of id into the page. */
void api_page_row(struct api_page *p, int64_t id);
/* The callback for a page of events (ctx: struct api_page). */
void api_page_event_cb(const struct dir_event *e, void *ctx);
/* Ends the array and writes next_before for a page of limit rows (0: the
 * default). */
void api_page_end(struct api_page *p, unsigned limit);

/* api_security.c */
api_handler api_security_events, api_security_blocks, api_security_unblock, api_security_suspended;
/* api_audit.c */
api_handler api_audit_list;
/* api_admin.c: administrators and API tokens */
api_handler api_admins_list, api_admin_add, api_admin_del, api_admin_password;
api_handler api_tokens_list, api_token_create, api_token_revoke;
/* api_queue.c */
api_handler api_queue_list, api_queue_show, api_queue_retry, api_queue_retry_all, api_queue_delete;
/* api_certs.c: host names and their certificates */
api_handler api_certs_list, api_cert_show, api_cert_import, api_cert_renew;
/* api_dkim.c: DKIM keys and the DNS records */
api_handler api_dkim_list, api_dkim_rotate, api_dkim_activate, api_domain_dns;
/* api_doctor.c */
api_handler api_doctor;
/* api_spam.c: the spam filter's allow and block lists, of a domain or an
 * account alike (the path's one parameter) */
api_handler api_spam_lists_get, api_spam_lists_add, api_spam_lists_del;
/* api_rules.c */
api_handler api_rules_list, api_rules_add, api_rules_delete, api_rules_move, api_rules_enable, api_rules_disable,
	api_autoreply_get, api_autoreply_put;
/* api_sieve.c */
api_handler api_sieve_list, api_sieve_get, api_sieve_put, api_sieve_delete, api_sieve_activate,
	api_sieve_deactivate, api_sieve_check;
/* api_me.c: the mail user's own page */
api_handler api_me_logins, api_me_mobileconfig;
api_handler api_mail_search;	/* api_mail_search.c */

#endif
