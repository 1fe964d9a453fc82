/* Drafts: POST /api/v1/mail/drafts, PUT and DELETE /api/v1/mail/drafts/{uid}
 * (api_mail_write.h): the MailDraft body composed and stored in Drafts
 * through the index IMAP uses (ops_mail_send.c). */
#include "http/api_mail_write.h"

#include "lib/str.h"

#include <stdlib.h>
#include <string.h>

/* The path's UID: false when answered 404. */
static bool draft_uid(struct api_job *j, uint32_t *uid)
{
	char *end;
	unsigned long v = strtoul(j->params[0], &end, 10);

	if (j->params[0][0] < '1' || j->params[0][0] > '9' || *end != '\0' || v > UINT32_MAX) {
		api_error(j, 404, "not_found", "uid", "no such draft", "その下書きはありません");
		return false;
	}
	*uid = (uint32_t)v;
	return true;
}

static void draft_save(struct api_job *j, uint32_t old_uid, int status)
{
	struct ops_mail_env env = { j->env.hostname, j->env.max_message_size };
	struct ops_mail_draft d;
	struct ops_mail_saved r;
	struct ops_error err;

	if (api_mail_draft_parse(j, &d)) {
		if (ops_mail_draft_save(&j->ops, &j->actor, &d, old_uid, &env, &r, &err) < 0) {
			api_ops_error(j, &err);
		} else {
			api_reply(j, status);
			json_free(&j->out);
			json_init(&j->out);
			api_json_saved(&j->out, &r);
		}
	}
	api_mail_draft_free(&d);
}

void api_mail_draft_add(struct api_job *j)
{
	draft_save(j, 0, 201);
}

void api_mail_draft_put(struct api_job *j)
{
	uint32_t uid;

	if (draft_uid(j, &uid))
		draft_save(j, uid, 200);
}

void api_mail_draft_del(struct api_job *j)
{
	struct ops_error err;
	uint32_t uid;

	if (!draft_uid(j, &uid))
		return;
	if (ops_mail_draft_del(&j->ops, &j->actor, uid, &err) < 0) {
		api_ops_error(j, &err);
		return;
	}
	api_reply(j, 204);
	api_reply_end(j);
}

void api_mail_draft_get(struct api_job *j)
{
	struct ops_mail_env env = { j->env.hostname, j->env.max_message_size };
	struct ops_mail_ref ref;
	struct ops_mail_view v;
	struct ops_error err;
	struct json *o;
	uint32_t uid;

	if (!draft_uid(j, &uid))
		return;
	memset(&ref, 0, sizeof(ref));
	str_copy(ref.folder, sizeof(ref.folder), "Drafts");
	ref.uid = uid;
	if (ops_mail_view(&j->ops, &j->actor, &ref, &env, &v, &err) < 0) {
		api_ops_error(j, &err);
		return;
	}
	o = api_reply(j, 200);
	json_kv_uint(o, "uid", uid);
	json_key(o, "draft");
	api_json_view_draft(o, &v, "Drafts", uid, true);
	json_key(o, "attachment_info");
	json_array_begin(o);
	for (size_t i = 0; i < v.nparts; i++) {
		json_object_begin(o);
		json_kv_string(o, "part", v.parts[i].part);
		json_kv_string(o, "filename", v.parts[i].filename);
		json_kv_string(o, "content_type", v.parts[i].content_type);
		json_kv_uint(o, "size", v.parts[i].size);
		json_object_end(o);
	}
	json_array_end(o);
	api_reply_end(j);
	ops_mail_view_free(&v);
}
