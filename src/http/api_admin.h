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

/* api_security.c */
api_handler api_security_events, api_security_blocks, api_security_unblock, api_security_suspended;
/* api_audit.c */
api_handler api_audit_list;
/* api_admin.c: administrators and API tokens */
api_handler api_admins_list, api_admin_add, api_admin_del, api_admin_password;
api_handler api_tokens_list, api_token_create, api_token_revoke;
/* api_queue.c */
api_handler api_queue_list, api_queue_show, api_queue_retry, api_queue_retry_all, api_queue_delete;
/* api_dkim.c: DKIM keys and the DNS records */
api_handler api_dkim_list, api_dkim_rotate, api_dkim_activate, api_domain_dns;
/* api_doctor.c */
api_handler api_doctor;
/* api_spam.c: the spam filter's allow and block lists */
api_handler api_domain_spam_lists_get, api_domain_spam_lists_add, api_domain_spam_lists_del;
api_handler api_account_spam_lists_get, api_account_spam_lists_add, api_account_spam_lists_del;
/* api_me.c: the mail user's own page */
api_handler api_me_logins;

#endif
