/* POST /api/v1/mail/send and the MailDraft body shared with the drafts
 * (api_mail_write.h): JSON to struct ops_mail_draft, then ops_mail_send,
 * which goes through the daemon's submission path (env.mail_submit). */
#include "http/api_mail_write.h"
#include "lib/str.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static bool draft_bad(struct api_job *j, const char *field, const char *en, const char *ja)
{
	api_error(j, 400, "invalid_field", field, en, ja);
	return false;
}

/* A string member without NUL bytes: 1, 0 absent, -1 answered. */
static int draft_string(struct api_job *j, const struct json_value *obj, const char *name, const char **out)
{
	const struct json_value *v = json_member(obj, name);

	if (v == NULL)
		return 0;
	*out = json_value_str(v);
	if (*out == NULL || strlen(*out) != v->len) {
		char en[120], ja[160];

		snprintf(en, sizeof(en), "%s must be a string", name);
		snprintf(ja, sizeof(ja), "%s は文字列にしてください", name);
		draft_bad(j, name, en, ja);
		return -1;
	}
	return 1;
}

/* "a@b", "Name <a@b>" or {"name","address"} into a. */
static bool draft_addr(struct api_job *j, const struct json_value *v, const char *field, struct ops_mail_addr *a)
{
	const char *text = json_value_str(v), *name = "";

	if (v->type == JSON_OBJECT) {
		const char *addr = NULL;

		if (draft_string(j, v, "address", &addr) <= 0 || addr == NULL ||
		    draft_string(j, v, "name", &name) < 0)
			return j->status != 0 ? false :
			       draft_bad(j, field, "an address needs its \"address\"", "アドレスには address が必要です");
		if (strlen(addr) >= sizeof(a->address) || strlen(name) >= sizeof(a->name))
			return draft_bad(j, field, "an address or name is too long", "アドレスか名前が長すぎます");
		str_copy(a->address, sizeof(a->address), addr);
		str_copy(a->name, sizeof(a->name), name);
		return true;
	}
	if (text == NULL || strlen(text) != v->len || v->len >= sizeof(a->address) + sizeof(a->name))
		return draft_bad(j, field, "an address must be a string or an object", "アドレスは文字列かオブジェクトにしてください");
	{
		const char *lt = strrchr(text, '<');
		size_t n = strlen(text);

		while (n > 0 && (text[n - 1] == ' ' || text[n - 1] == '\t'))
			n--;
		if (lt != NULL && n > 0 && text[n - 1] == '>') {
			size_t nl = (size_t)(lt - text);
			const char *s = text;

			while (nl > 0 && (s[nl - 1] == ' ' || s[nl - 1] == '\t'))
				nl--;
			while (nl > 0 && (*s == ' ' || *s == '\t')) {
				s++;
				nl--;
			}
			if (nl >= 2 && s[0] == '"' && s[nl - 1] == '"') {
				s++;
				nl -= 2;
			}
			if (nl >= sizeof(a->name) || (size_t)(text + n - 1 - (lt + 1)) >= sizeof(a->address))
				return draft_bad(j, field, "an address or name is too long", "アドレスか名前が長すぎます");
			memcpy(a->name, s, nl);
			a->name[nl] = '\0';
			memcpy(a->address, lt + 1, (size_t)(text + n - 1 - (lt + 1)));
			a->address[text + n - 1 - (lt + 1)] = '\0';
			return true;
		}
		while (*text == ' ' || *text == '\t') {
			text++;
			n--;
		}
		if (n >= sizeof(a->address))
			return draft_bad(j, field, "an address is too long", "アドレスが長すぎます");
		memcpy(a->address, text, n);
		a->address[n] = '\0';
		a->name[0] = '\0';
		return true;
	}
}

static bool draft_addrs(struct api_job *j, const char *field, struct ops_mail_addr **out, size_t *n)
{
	const struct json_value *v = json_member(j->body, field);

	*n = 0;
	if (v == NULL)
		return true;
	if (v->type != JSON_ARRAY || v->count > COMPOSE_ADDRS_MAX)
		return draft_bad(j, field, "a list of at most 100 addresses", "アドレスのリスト (100 個まで) にしてください");
	*out = calloc(v->count > 0 ? v->count : 1, sizeof(**out));
	if (*out == NULL)
		return draft_bad(j, field, "out of memory", "メモリ不足です");
	for (const struct json_value *e = v->child; e != NULL; e = e->next) {
		if (!draft_addr(j, e, field, &(*out)[*n]))
			return false;
		(*n)++;
	}
	return true;
}

/* {"folder","uid"[,"part"|"mode"]} into ref. */
static bool draft_ref(struct api_job *j, const struct json_value *v, const char *field, struct ops_mail_ref *ref,
		      bool part)
{
	const char *folder = NULL, *p = NULL;
	uint64_t uid = 0;
	const struct json_value *u = v != NULL ? json_member(v, "uid") : NULL;

	if (v == NULL || v->type != JSON_OBJECT || draft_string(j, v, "folder", &folder) <= 0 || u == NULL ||
	    json_value_uint(u, UINT32_MAX, &uid) < 0 || uid == 0 ||
	    strlen(folder) >= sizeof(ref->folder) || (part && draft_string(j, v, "part", &p) <= 0) ||
	    (p != NULL && strlen(p) >= sizeof(ref->part)))
		return j->status != 0 ? false :
		       draft_bad(j, field, "a message is {\"folder\", \"uid\"}", "メッセージは {\"folder\", \"uid\"} で指定してください");
	str_copy(ref->folder, sizeof(ref->folder), folder);
	ref->uid = (uint32_t)uid;
	str_copy(ref->part, sizeof(ref->part), p != NULL ? p : "");
	return true;
}

static bool draft_atts(struct api_job *j, struct ops_mail_draft *d)
{
	const struct json_value *v = json_member(j->body, "attachments");

	if (v == NULL)
		return true;
	if (v->type != JSON_ARRAY || v->count > COMPOSE_PARTS_MAX)
		return draft_bad(j, "attachments", "a list of at most 100 attachments", "添付のリスト (100 個まで) にしてください");
	d->atts = calloc(v->count > 0 ? v->count : 1, sizeof(*d->atts));
	if (d->atts == NULL)
		return draft_bad(j, "attachments", "out of memory", "メモリ不足です");
	for (const struct json_value *e = v->child; e != NULL; e = e->next) {
		struct ops_mail_att *a = &d->atts[d->natts];
		const char *id = NULL;

		if (e->type == JSON_OBJECT && json_member(e, "upload") != NULL) {
			if (draft_string(j, e, "upload", &id) <= 0 || strlen(id) >= sizeof(a->upload))
				return j->status != 0 ? false :
				       draft_bad(j, "attachments", "an upload is named by its id", "アップロードは id で指定してください");
			a->kind = OPS_ATT_UPLOAD;
			str_copy(a->upload, sizeof(a->upload), id);
		} else {
			a->kind = OPS_ATT_PART;
			if (!draft_ref(j, e, "attachments", &a->ref, true))
				return false;
		}
		d->natts++;
	}
	return true;
}

static bool draft_options(struct api_job *j, struct ops_mail_draft *d)
{
	const char *cs = NULL, *from = NULL, *name = NULL;
	const struct json_value *fwd = json_member(j->body, OPS_MAIL_FORWARD);
	uint64_t uid = 0;

	if (draft_string(j, j->body, "from", &from) < 0 || draft_string(j, j->body, "from_name", &name) < 0 ||
	    draft_string(j, j->body, "charset", &cs) < 0 || api_body_bool(j, "flowed", &d->flowed) < 0 ||
	    api_body_uint(j, "draft_uid", UINT32_MAX, &uid) < 0)
		return false;
	if ((from != NULL && strlen(from) >= sizeof(d->from)) || (name != NULL && strlen(name) >= sizeof(d->from_name)))
		return draft_bad(j, from != NULL && strlen(from) >= sizeof(d->from) ? "from" : "from_name",
				 "too long", "長すぎます");
	str_copy(d->from, sizeof(d->from), from != NULL ? from : "");
	str_copy(d->from_name, sizeof(d->from_name), name != NULL ? name : "");
	d->draft_uid = (uint32_t)uid;
	if (cs != NULL && strcmp(cs, "utf-8") != 0 && strcmp(cs, "iso-2022-jp") != 0)
		return draft_bad(j, "charset", "charset is utf-8 or iso-2022-jp", "charset は utf-8 か iso-2022-jp です");
	d->charset = cs != NULL && strcmp(cs, "iso-2022-jp") == 0 ? COMPOSE_ISO2022JP : COMPOSE_UTF8;
	if (json_member(j->body, "in_reply_to") != NULL) {
		if (!draft_ref(j, json_member(j->body, "in_reply_to"), "in_reply_to", &d->reply, false))
			return false;
		d->has_reply = true;
	}
	if (fwd != NULL) {
		const char *mode = NULL;

		if (fwd->type != JSON_OBJECT || draft_string(j, fwd, "mode", &mode) <= 0 ||
		    (strcmp(mode, "inline") != 0 && strcmp(mode, "attachment") != 0))
			return j->status != 0 ? false :
			       draft_bad(j, OPS_MAIL_FORWARD, "forward.mode is inline or attachment", "forward.mode は inline か attachment です");
		if (!draft_ref(j, fwd, OPS_MAIL_FORWARD, &d->fwd, false))
			return false;
		d->forward = mode[0] == 'i' ? OPS_FORWARD_INLINE : OPS_FORWARD_ATTACHMENT;
	}
	return true;
}

bool api_mail_draft_parse(struct api_job *j, struct ops_mail_draft *d)
{
	static const char *const names[] = { "from", "from_name", "to", "cc", "bcc", "subject", "text", "html",
					     "attachments", "charset", "flowed", "in_reply_to", OPS_MAIL_FORWARD,
					     "draft_uid", NULL };

	memset(d, 0, sizeof(*d));
	if (!api_body_object(j) || !api_body_only(j, names))
		return false;
	if (draft_string(j, j->body, "subject", &d->subject) < 0 || draft_string(j, j->body, "text", &d->text) < 0 ||
	    draft_string(j, j->body, "html", &d->html) < 0)
		return false;
	return draft_addrs(j, "to", &d->to, &d->nto) && draft_addrs(j, "cc", &d->cc, &d->ncc) &&
	       draft_addrs(j, "bcc", &d->bcc, &d->nbcc) && draft_atts(j, d) && draft_options(j, d);
}

void api_mail_draft_free(struct ops_mail_draft *d)
{
	free(d->to);
	free(d->cc);
	free(d->bcc);
	free(d->atts);
	memset(d, 0, sizeof(*d));
}

void api_json_saved(struct json *o, const struct ops_mail_saved *s)
{
	json_object_begin(o);
	json_kv_string(o, "folder", s->folder);
	json_kv_uint(o, "uid", s->uid);
	json_kv_uint(o, "uidvalidity", s->uidvalidity);
	json_kv_uint(o, "size", s->size);
	json_kv_string(o, "message_id", s->message_id);
	json_object_end(o);
}

static void send_reply(struct api_job *j, const struct ops_mail_draft *d, const struct ops_mail_sent *r)
{
	const struct ops_mail_addr *lists[3] = { d->to, d->cc, d->bcc };
	size_t counts[3] = { d->nto, d->ncc, d->nbcc };
	struct json *o = api_reply(j, 200);

	json_kv_string(o, "message_id", r->message_id);
	json_key(o, "accepted");
	json_array_begin(o);
	for (int l = 0; l < 3; l++) {
		for (size_t i = 0; i < counts[l]; i++) {
			bool dup = false;	/* each recipient once, as submitted */

			for (int pl = 0; pl <= l && !dup; pl++) {
				for (size_t k = 0; k < (pl < l ? counts[pl] : i) && !dup; k++)
					dup = strcasecmp(lists[pl][k].address, lists[l][i].address) == 0;
			}
			if (!dup)
				json_string(o, lists[l][i].address);
		}
	}
	json_array_end(o);
	api_json_string_or_null(o, "queue_id", r->queue_id);
	json_key(o, "sent");
	if (r->has_sent)
		api_json_saved(o, &r->sent);
	else
		json_null(o);
	json_kv_bool(o, "draft_removed", r->draft_removed);
	api_reply_end(j);
}

void api_mail_send(struct api_job *j)
{
	struct ops_mail_env env = { j->env.hostname, j->env.max_message_size };
	struct ops_mail_draft d;
	struct ops_mail_sent r;
	struct ops_error err;

	if (api_mail_draft_parse(j, &d)) {
		j->ops.mail_submit = j->env.mail_submit;
		if (ops_mail_send(&j->ops, &j->actor, &d, &env, &r, &err) < 0)
			api_ops_error(j, &err);
		else
			send_reply(j, &d, &r);
	}
	api_mail_draft_free(&d);
}

static void json_addrs(struct json *o, const char *key, const struct ops_mail_addr *l, size_t n)
{
	json_key(o, key);
	json_array_begin(o);
	for (size_t i = 0; i < n; i++) {
		json_object_begin(o);
		if (l[i].name[0] != '\0')
			json_kv_string(o, "name", l[i].name);
		json_kv_string(o, "address", l[i].address);
		json_object_end(o);
	}
	json_array_end(o);
}

static void json_ref(struct json *o, const char *key, const struct ops_mail_ref *r, const char *mode)
{
	json_key(o, key);
	json_object_begin(o);
	json_kv_string(o, "folder", r->folder);
	json_kv_uint(o, "uid", r->uid);
	if (mode != NULL)
		json_kv_string(o, "mode", mode);
	json_object_end(o);
}

void api_json_view_draft(struct json *o, const struct ops_mail_view *v, const char *folder, uint32_t uid,
			 bool with_from)
{
	json_object_begin(o);
	if (with_from && v->nfrom > 0) {
		json_kv_string(o, "from", v->from[0].address);
		json_kv_string(o, "from_name", v->from[0].name);
	}
	json_addrs(o, "to", v->to, v->nto);
	json_addrs(o, "cc", v->cc, v->ncc);
	json_addrs(o, "bcc", v->bcc, v->nbcc);
	json_kv_string(o, "subject", strbuf_cstr(&v->subject));
	json_kv_string(o, "text", strbuf_cstr(&v->text));
	if (v->has_html)
		json_kv_string(o, "html", strbuf_cstr(&v->html));
	json_key(o, "attachments");
	json_array_begin(o);
	for (size_t i = 0; i < v->nparts; i++) {
		json_object_begin(o);
		json_kv_string(o, "folder", folder);
		json_kv_uint(o, "uid", uid);
		json_kv_string(o, "part", v->parts[i].part);
		json_object_end(o);
	}
	json_array_end(o);
	json_kv_string(o, "charset", v->iso2022jp ? "iso-2022-jp" : "utf-8");
	if (v->has_reply)
		json_ref(o, "in_reply_to", &v->reply, NULL);
	if (v->forward != OPS_FORWARD_NONE)
		json_ref(o, OPS_MAIL_FORWARD, &v->fwd, v->forward == OPS_FORWARD_INLINE ? "inline" : "attachment");
	json_object_end(o);
}

void api_mail_compose(struct api_job *j)
{
	static const char *const modes[] = { "reply", "reply_all", "forward_inline", "forward_attachment" };
	struct ops_mail_env env = { j->env.hostname, j->env.max_message_size };
	const char *mode = api_query(j, "mode"), *folder = api_query(j, "folder"), *uid = api_query(j, "uid");
	struct ops_mail_ref ref;
	struct ops_mail_view t;
	struct ops_error err;
	size_t m = 0;
	char *end;
	unsigned long u = uid != NULL ? strtoul(uid, &end, 10) : 0;

	while (mode != NULL && m < 4 && strcmp(modes[m], mode) != 0)
		m++;
	if (mode == NULL || m == 4) {
		api_error(j, 400, "invalid_field", "mode", "mode is reply, reply_all, forward_inline or forward_attachment",
			  "mode は reply, reply_all, forward_inline, forward_attachment のどれかです");
		return;
	}
	if (folder == NULL || strlen(folder) >= sizeof(ref.folder) || uid == NULL || u == 0 || *end != '\0' ||
	    u > UINT32_MAX) {
		api_error(j, 400, "invalid_field", folder == NULL ? "folder" : "uid", "give the message: ?folder=&uid=",
			  "メッセージを ?folder=&uid= で指定してください");
		return;
	}
	memset(&ref, 0, sizeof(ref));
	str_copy(ref.folder, sizeof(ref.folder), folder);
	ref.uid = (uint32_t)u;
	if (ops_mail_template(&j->ops, &j->actor, (enum ops_compose_mode)m, &ref, &env, j->ja, &t, &err) < 0) {
		api_ops_error(j, &err);
		return;
	}
	api_reply(j, 200);
	json_free(&j->out);
	json_init(&j->out);
	api_json_view_draft(&j->out, &t, folder, ref.uid, false);
	ops_mail_view_free(&t);
}
