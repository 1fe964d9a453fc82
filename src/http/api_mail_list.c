/* /api/v1/mail/folders/{folder}/messages and the changes to many messages
 * of a folder at once: flags, move or copy, delete, empty (Trash, Junk),
 * spam and not spam; /api/v1/mail/messages/{folder}/{uid} PATCH and
 * DELETE for one. */
#include "http/api_admin.h"
#include "http/api_mail.h"

#include <stdlib.h>
#include <string.h>

static void summary_json(struct json *o, const struct ops_mail_summary *s)
{
	json_object_begin(o);
	json_kv_uint(o, "uid", s->msg.uid);
	api_json_time(o, "date", s->date);
	api_json_time(o, "arrived", s->msg.internaldate);
	json_key(o, "from");
	json_object_begin(o);
	json_kv_string(o, "name", s->from_name);
	json_kv_string(o, "address", s->from_addr);
	json_object_end(o);
	json_key(o, "to");
	json_object_begin(o);
	json_kv_string(o, "name", s->to_name);
	json_kv_string(o, "address", s->to_addr);
	json_object_end(o);
	json_kv_string(o, "subject", s->subject);
	json_kv_uint(o, "size", s->msg.size);
	json_kv_uint(o, "modseq", s->msg.modseq);
	json_key(o, "flags");
	json_object_begin(o);
	json_kv_bool(o, "seen", (s->msg.flags & INDEX_FLAG_SEEN) != 0);
	json_kv_bool(o, "flagged", (s->msg.flags & INDEX_FLAG_FLAGGED) != 0);
	json_kv_bool(o, "answered", (s->msg.flags & INDEX_FLAG_ANSWERED) != 0);
	json_kv_bool(o, "draft", (s->msg.flags & INDEX_FLAG_DRAFT) != 0);
	json_object_end(o);
	json_kv_bool(o, "attachment", s->attachment);
	json_object_end(o);
}

static bool list_query(struct api_job *j, enum ops_mail_sort *sort, bool *desc, uint64_t *offset,
		       uint64_t *limit)
{
	static const char *const sorts[] = { "date", "from", "subject", "size" };
	const char *s = api_query(j, "sort"), *order = api_query(j, "order");

	*sort = OPS_MAIL_SORT_DATE;
	*desc = true;
	*offset = 0;
	*limit = 50;
	if (api_query_uint(j, "offset", UINT32_MAX, offset) < 0 ||
	    api_query_uint(j, "limit", OPS_MAIL_PAGE_MAX, limit) < 0)
		return false;
	if (s != NULL) {
		size_t i;
		for (i = 0; i < 4 && strcmp(s, sorts[i]) != 0; i++)
			;
		if (i == 4) {
			api_error(j, 400, "invalid_field", "sort", "sort is date, from, subject or size",
				  "sort は date, from, subject, size のどれかです");
			return false;
		}
		*sort = (enum ops_mail_sort)i;
	}
	if (order != NULL && strcmp(order, "asc") != 0 && strcmp(order, "desc") != 0) {
		api_error(j, 400, "invalid_field", "order", "order is asc or desc", "order は asc か desc です");
		return false;
	}
	*desc = order == NULL || strcmp(order, "desc") == 0;
	if (*limit == 0)
		*limit = 50;
	return true;
}

void api_mail_messages(struct api_job *j)
{
	struct ops_mailbox mb;
	struct ops_mail_page page;
	struct ops_error err;
	enum ops_mail_sort sort;
	uint64_t offset, limit;
	bool desc;
	struct json *o;

	if (!list_query(j, &sort, &desc, &offset, &limit) || !api_mail_open(j, &mb))
		return;
	if (ops_mail_list(&mb, j->params[0], sort, desc, offset, limit, &page, &err) < 0) {
		ops_mail_close(&mb);
		api_ops_error(j, &err);
		return;
	}
	o = api_reply(j, 200);
	json_kv_string(o, "folder", page.mbox.name);
	json_kv_uint(o, "uidvalidity", page.mbox.uidvalidity);
	json_kv_uint(o, "highestmodseq", page.mbox.highestmodseq);
	json_kv_uint(o, "total", page.total);
	json_kv_uint(o, "unread", page.unseen);
	json_kv_uint(o, "offset", offset);
	json_kv_uint(o, "limit", limit);
	json_key(o, "messages");
	json_array_begin(o);
	for (size_t i = 0; i < page.count; i++)
		summary_json(o, &page.items[i]);
	json_array_end(o);
	api_mail_json_quota(o, &mb);
	api_reply_end(j);
	ops_mail_page_free(&page);
	ops_mail_close(&mb);
}

/* The flag members of the body into set and clear; false when answered. */
static bool body_flags(struct api_job *j, uint32_t *set, uint32_t *clear)
{
	static const struct {
		const char *name;
		uint32_t flag;
	} flags[] = {
		{ "seen", INDEX_FLAG_SEEN }, { "flagged", INDEX_FLAG_FLAGGED }, { "answered", INDEX_FLAG_ANSWERED },
	};

	*set = *clear = 0;
	for (size_t i = 0; i < 3; i++) {
		bool on;
		int r = api_body_bool(j, flags[i].name, &on);

		if (r < 0)
			return false;
		if (r > 0)
			*(on ? set : clear) |= flags[i].flag;
	}
	return true;
}

/* Answers {"changed": n} or {"moved": n, "freed": bytes, "quota"}. */
static void count_reply(struct api_job *j, struct ops_mailbox *mb, const char *key, size_t n,
			uint64_t freed, bool with_freed)
{
	struct json *o = api_reply(j, 200);

	json_kv_uint(o, key, n);
	if (with_freed)
		json_kv_uint(o, "freed", freed);
	api_mail_json_quota(o, mb);
	api_reply_end(j);
}

static void flags_run(struct api_job *j, uint32_t *uids, size_t n)
{
	struct ops_mailbox mb;
	struct ops_error err;
	uint32_t set, clear;
	size_t changed;

	if (!body_flags(j, &set, &clear) || !api_mail_open(j, &mb))
		return;
	if (ops_mail_flags(&mb, j->params[0], uids, n, set, clear, &changed, &err) < 0)
		api_ops_error(j, &err);
	else
		count_reply(j, &mb, "changed", changed, 0, false);
	ops_mail_close(&mb);
}

void api_mail_flags(struct api_job *j)
{
	static const char *const names[] = { "uids", "seen", "flagged", "answered", NULL };
	uint32_t *uids;
	size_t n;

	if (!api_body_object(j) || !api_body_only(j, names) || !api_mail_uids(j, &uids, &n))
		return;
	flags_run(j, uids, n);
	free(uids);
}

void api_mail_message_patch(struct api_job *j)
{
	static const char *const names[] = { "seen", "flagged", "answered", NULL };
	uint32_t uid;

	if (!api_body_object(j) || !api_body_only(j, names) || !api_mail_uid_param(j, 1, &uid))
		return;
	flags_run(j, &uid, 1);
}

void api_mail_move(struct api_job *j)
{
	static const char *const names[] = { "uids", "to", "copy", NULL };
	struct ops_mailbox mb;
	struct ops_error err;
	const char *to = NULL;
	bool copy = false;
	uint32_t *uids;
	size_t n, done;

	if (!api_body_object(j) || !api_body_only(j, names) || api_body_bool(j, "copy", &copy) < 0)
		return;
	if (api_body_string(j, "to", &to) <= 0) {
		if (j->status == 0)
			api_error(j, 400, "invalid_field", "to", "to (the folder) is required",
				  "to (移動先のフォルダー) を指定してください");
		return;
	}
	if (!api_mail_uids(j, &uids, &n))
		return;
	if (api_mail_open(j, &mb)) {
		if (ops_mail_move(&mb, j->params[0], uids, n, to, copy, &done, &err) < 0)
			api_ops_error(j, &err);
		else
			count_reply(j, &mb, copy ? "copied" : "moved", done, 0, false);
		ops_mail_close(&mb);
	}
	free(uids);
}

static void delete_run(struct api_job *j, const uint32_t *uids, size_t n)
{
	struct ops_mailbox mb;
	struct ops_error err;
	uint64_t freed;
	size_t done;

	if (!api_mail_open(j, &mb))
		return;
	if (ops_mail_delete(&mb, j->params[0], uids, n, &done, &freed, &err) < 0)
		api_ops_error(j, &err);
	else
		count_reply(j, &mb, "deleted", done, freed, true);
	ops_mail_close(&mb);
}

void api_mail_delete(struct api_job *j)
{
	static const char *const names[] = { "uids", NULL };
	uint32_t *uids;
	size_t n;

	if (!api_body_object(j) || !api_body_only(j, names) || !api_mail_uids(j, &uids, &n))
		return;
	delete_run(j, uids, n);
	free(uids);
}

void api_mail_message_delete(struct api_job *j)
{
	uint32_t uid;

	if (api_mail_uid_param(j, 1, &uid))
		delete_run(j, &uid, 1);
}

void api_mail_empty(struct api_job *j)
{
	struct ops_mailbox mb;
	struct ops_error err;
	uint64_t freed;
	size_t count;

	if (!api_mail_open(j, &mb))
		return;
	if (ops_mail_empty(&mb, j->params[0], &count, &freed, &err) < 0)
		api_ops_error(j, &err);
	else
		count_reply(j, &mb, "deleted", count, freed, true);
	ops_mail_close(&mb);
}

/* Spam: to Junk; not spam: out of Junk to the inbox. Both teach the
 * filter through the move (ops_mail_learn), as IMAP MOVE does. */
static void spam_run(struct api_job *j, bool spam)
{
	static const char *const names[] = { "uids", NULL };
	struct ops_mailbox mb;
	struct index_mailbox dst;
	struct ops_error err;
	uint32_t *uids;
	size_t n, done;

	if (!api_body_object(j) || !api_body_only(j, names) || !api_mail_uids(j, &uids, &n))
		return;
	if (api_mail_open(j, &mb)) {
		if (ops_mail_folder_by_role(&mb, spam ? "junk" : "inbox", &dst, &err) < 0 ||
		    ops_mail_move(&mb, j->params[0], uids, n, dst.name, false, &done, &err) < 0)
			api_ops_error(j, &err);
		else
			count_reply(j, &mb, "moved", done, 0, false);
		ops_mail_close(&mb);
	}
	free(uids);
}

void api_mail_spam(struct api_job *j)
{
	spam_run(j, true);
}

void api_mail_not_spam(struct api_job *j)
{
	spam_run(j, false);
}
