/* /api/v1/mail/folders: a mail user's folders with their counts and the
 * quota, and the user's own folders (create, rename, delete); and the
 * helpers the webmail's resources share (api_mail.h). */
#include "http/api_mail.h"
#include "lib/str.h"

#include <stdlib.h>
#include <string.h>

bool api_mail_open(struct api_job *j, struct ops_mailbox *mb)
{
	struct ops_error err;

	if (ops_mail_open(&j->ops, &j->actor, mb, &err) < 0) {
		api_ops_error(j, &err);
		return false;
	}
	mb->learn = j->env.mail_learn;
	return true;
}

bool api_mail_uids(struct api_job *j, uint32_t **uids_r, size_t *n_r)
{
	const struct json_value *a = j->body != NULL ? json_member(j->body, "uids") : NULL;
	uint32_t *uids;
	size_t n = 0;

	*uids_r = NULL;
	*n_r = 0;
	if (a == NULL || a->type != JSON_ARRAY || a->count == 0 || a->count > OPS_MAIL_UIDS_MAX) {
		api_error(j, 400, "invalid_field", "uids", "uids must be an array of 1 to 1000 UIDs",
			  "uids は 1〜1000 個の UID の配列にしてください");
		return false;
	}
	uids = calloc(a->count, sizeof(*uids));
	if (uids == NULL) {
		api_error(j, 500, "internal", NULL, "out of memory", "メモリ不足です");
		return false;
	}
	for (const struct json_value *v = a->child; v != NULL; v = v->next) {
		uint64_t u;

		if (json_value_uint(v, UINT32_MAX, &u) < 0 || u == 0) {
			free(uids);
			api_error(j, 400, "invalid_field", "uids", "a UID is a whole number from 1 to 4294967295",
				  "UID は 1〜4294967295 の整数です");
			return false;
		}
		uids[n++] = (uint32_t)u;
	}
	*uids_r = uids;
	*n_r = n;
	return true;
}

bool api_mail_uid_param(struct api_job *j, int i, uint32_t *uid_r)
{
	uint64_t u;

	if (str_parse_uint(j->params[i], UINT32_MAX, &u) < 0 || u == 0) {
		api_error(j, 400, "invalid_field", "uid", "the UID must be a whole number from 1 to 4294967295",
			  "UID は 1〜4294967295 の整数にしてください");
		return false;
	}
	*uid_r = (uint32_t)u;
	return true;
}

void api_mail_json_quota(struct json *o, struct ops_mailbox *mb)
{
	json_key(o, "quota");
	json_object_begin(o);
	json_kv_uint(o, "used", ops_mail_usage(mb));
	json_kv_uint(o, "limit", mb->quota_bytes);
	json_object_end(o);
}

static void folder_json(const struct ops_mail_folder *f, void *ctx)
{
	struct json *o = ctx;

	json_object_begin(o);
	json_kv_string(o, "name", f->mbox->name);
	api_json_string_or_null(o, "role", f->role != NULL ? f->role : "");
	json_kv_uint(o, "total", f->total);
	json_kv_uint(o, "unread", f->unseen);
	json_kv_uint(o, "bytes", f->bytes);
	json_kv_uint(o, "uidvalidity", f->mbox->uidvalidity);
	json_kv_uint(o, "highestmodseq", f->mbox->highestmodseq);
	json_object_end(o);
}

void api_mail_folders(struct api_job *j)
{
	struct ops_mailbox mb;
	struct ops_error err;
	struct json *o;

	if (!api_mail_open(j, &mb))
		return;
	o = api_reply(j, 200);
	json_kv_string(o, "address", mb.address);
	json_key(o, "folders");
	json_array_begin(o);
	if (ops_mail_folders(&mb, folder_json, o, &err) < 0) {
		ops_mail_close(&mb);
		api_ops_error(j, &err);
		return;
	}
	json_array_end(o);
	api_mail_json_quota(o, &mb);
	json_kv_uint(o, "max_message_size", j->env.max_message_size);
	api_reply_end(j);
	ops_mail_close(&mb);
}

/* The body's "name" (required); false when answered. */
static bool body_name(struct api_job *j, const char **name_r)
{
	static const char *const names[] = { "name", NULL };

	if (!api_body_object(j) || !api_body_only(j, names))
		return false;
	if (api_body_string(j, "name", name_r) <= 0) {
		if (j->status == 0)
			api_error(j, 400, "invalid_field", "name", "name is required", "name を指定してください");
		return false;
	}
	return true;
}

static void folder_done(struct api_job *j, struct ops_mailbox *mb, int r, const struct ops_error *err,
			int status, const char *name)
{
	if (r < 0) {
		api_ops_error(j, err);
	} else {
		struct json *o = api_reply(j, status);
		if (name != NULL)
			json_kv_string(o, "name", name);
		api_reply_end(j);
	}
	ops_mail_close(mb);
}

void api_mail_folder_create(struct api_job *j)
{
	struct ops_mailbox mb;
	struct ops_error err;
	const char *name;
	int r;

	if (!body_name(j, &name) || !api_mail_open(j, &mb))
		return;
	r = ops_mail_folder_create(&mb, name, &err);
	folder_done(j, &mb, r, &err, 201, name);
}

void api_mail_folder_rename(struct api_job *j)
{
	struct ops_mailbox mb;
	struct ops_error err;
	const char *name;
	int r;

	if (!body_name(j, &name) || !api_mail_open(j, &mb))
		return;
	r = ops_mail_folder_rename(&mb, j->params[0], name, &err);
	folder_done(j, &mb, r, &err, 200, name);
}

void api_mail_folder_delete(struct api_job *j)
{
	struct ops_mailbox mb;
	struct ops_error err;
	int r;

	if (!api_mail_open(j, &mb))
		return;
	r = ops_mail_folder_delete(&mb, j->params[0], &err);
	folder_done(j, &mb, r, &err, 200, NULL);
}
