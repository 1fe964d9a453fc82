/* /api/v1/domains/{domain}/spam-lists and /api/v1/accounts/{address}/
 * spam-lists: the spam filter's allow and block lists, on ops_spam.c. The
 * filter's switches (spam, spam-level, spam-action) are ordinary settings
 * (api_settings.c). */
#include "http/api.h"
#include "http/api_admin.h"
#include "spam/spam_list.h"

#include <string.h>

static void api_spam_entry(const char *kind, const char *pattern, int64_t created, void *ctx)
{
	struct json *o = ctx;

	json_object_begin(o);
	json_kv_string(o, "list", kind);
	json_kv_string(o, "pattern", pattern);
	api_json_time(o, "created", created);
	json_object_end(o);
}

void api_spam_lists_get(struct api_job *j)
{
	const char *kind = api_query(j, "list");
	struct ops_error err;
	struct json *o;

	if (kind != NULL && strcmp(kind, "allow") != 0 && strcmp(kind, "block") != 0) {
		api_error(j, 400, "invalid_field", "list", "list is allow or block", "list は allow か block です");
		return;
	}
	o = api_reply(j, 200);
	json_key(o, "entries");
	json_array_begin(o);
	if (ops_spamlist_list(&j->ops, &j->actor, kind, j->params[0], api_spam_entry, o, &err) < 0) {
		api_ops_error(j, &err);
		return;
	}
	json_array_end(o);
	api_reply_end(j);
}

void api_spam_lists_add(struct api_job *j)
{
	static const char *const names[] = { "list", "pattern", NULL };
	const char *kind = NULL, *pattern = NULL;
	char norm[SPAM_LIST_PATTERN_MAX];
	struct ops_error err;
	struct json *o;

	if (!api_body_object(j) || !api_body_only(j, names) || api_body_string(j, "list", &kind) < 0 ||
	    api_body_string(j, "pattern", &pattern) < 0)
		return;
	if (kind == NULL || pattern == NULL) {
		api_error(j, 400, "invalid_field", kind == NULL ? "list" : "pattern",
			  "list (allow or block) and pattern are required",
			  "list (allow か block) と pattern が必要です");
		return;
	}
	if (ops_spamlist_add(&j->ops, &j->actor, kind, j->params[0], pattern, norm, sizeof(norm), &err) < 0) {
		api_ops_error(j, &err);
		return;
	}
	o = api_reply(j, 201);
	json_kv_string(o, "list", kind);
	json_kv_string(o, "pattern", norm);
	api_reply_end(j);
}

/* DELETE ...?list=allow&pattern=*@example.com */
void api_spam_lists_del(struct api_job *j)
{
	const char *kind = api_query(j, "list"), *pattern = api_query(j, "pattern");
	char norm[SPAM_LIST_PATTERN_MAX];
	struct ops_error err;
	struct json *o;

	if (kind == NULL || pattern == NULL) {
		api_error(j, 400, "invalid_field", kind == NULL ? "list" : "pattern",
			  "the query needs list (allow or block) and pattern",
			  "クエリに list (allow か block) と pattern が必要です");
		return;
	}
	if (ops_spamlist_del(&j->ops, &j->actor, kind, j->params[0], pattern, norm, sizeof(norm), &err) < 0) {
		api_ops_error(j, &err);
		return;
	}
	o = api_reply(j, 200);
	json_kv_string(o, "list", kind);
	json_kv_string(o, "pattern", norm);
	api_reply_end(j);
}
