/* The address book: /api/v1/mail/contacts (list, add), /contacts/{id}
 * (read, replace, delete), /contacts/complete?q= (autocomplete),
 * /contacts.vcf (export as vCard 4.0, import 3.0 and 4.0) on
 * ops_mail_contacts.c (api_mail_write.h). */
#include "http/api_mail_write.h"
#include "http/api_admin.h"
#include "lib/str.h"

#include <event2/buffer.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void json_contact(struct json *o, const struct ops_contact *c)
{
	json_object_begin(o);
	json_kv_int(o, "id", c->id);
	json_kv_string(o, "name", c->card.name);
	json_key(o, "emails");
	json_array_begin(o);
	for (size_t i = 0; i < c->card.nemails; i++) {
		json_object_begin(o);
		json_kv_string(o, "address", c->card.emails[i].address);
		json_kv_string(o, "label", c->card.emails[i].label);
		json_object_end(o);
	}
	json_array_end(o);
	json_kv_string(o, "note", c->card.note);
	api_json_time(o, "updated", c->updated);
	json_object_end(o);
}

static void list_cb(const struct ops_contact *c, void *ctx)
{
	json_contact(ctx, c);
}

void api_mail_contacts_list(struct api_job *j)
{
	uint64_t offset = 0, limit = 100;
	unsigned total;
	struct ops_error err;
	struct json *o;

	if (api_query_uint(j, "offset", UINT32_MAX, &offset) < 0 || api_query_uint(j, "limit", 10000, &limit) < 0)
		return;
	o = api_reply(j, 200);
	json_key(o, "contacts");
	json_array_begin(o);
	if (ops_contact_list(&j->ops, &j->actor, api_query(j, "q"), (unsigned)offset, limit > 0 ? (unsigned)limit : 100,
			     list_cb, o, &total, &err) < 0) {
		api_ops_error(j, &err);
		return;
	}
	json_array_end(o);
	json_kv_uint(o, "total", total);
	api_reply_end(j);
}

static bool bad(struct api_job *j, const char *field, const char *en, const char *ja)
{
	api_error(j, 400, "invalid_field", field, en, ja);
	return false;
}

/* A MailContactNew body into c. */
static bool contact_body(struct api_job *j, struct vcard *c)
{
	static const char *const names[] = { "name", "emails", "note", NULL };
	const struct json_value *emails;
	const char *name = "", *note = "";

	memset(c, 0, sizeof(*c));
	if (!api_body_object(j) || !api_body_only(j, names) || api_body_string(j, "name", &name) < 0 ||
	    api_body_string(j, "note", &note) < 0)
		return false;
	if (json_member(j->body, "name") == NULL)
		return bad(j, "name", "a contact needs its name", "連絡先には名前が必要です");
	if (strlen(name) > VCARD_NAME_MAX || strlen(name) != json_member(j->body, "name")->len)
		return bad(j, "name", "the name must be at most 200 bytes", "名前は 200 バイトまでです");
	if (json_member(j->body, "note") != NULL &&
	    (strlen(note) > VCARD_NOTE_MAX || strlen(note) != json_member(j->body, "note")->len))
		return bad(j, "note", "the note must be at most 2000 bytes", "メモは 2000 バイトまでです");
	emails = json_member(j->body, "emails");
	if (emails == NULL || emails->type != JSON_ARRAY || emails->count == 0 || emails->count > VCARD_EMAILS_MAX)
		return bad(j, "emails", "1 to 20 e-mail addresses", "メールアドレスを 1〜20 個指定してください");
	str_copy(c->name, sizeof(c->name), name);
	str_copy(c->note, sizeof(c->note), note);
	for (const struct json_value *e = emails->child; e != NULL; e = e->next) {
		const struct json_value *a = e->type == JSON_OBJECT ? json_member(e, "address") : e;
		const struct json_value *l = e->type == JSON_OBJECT ? json_member(e, "label") : NULL;
		const char *as = a != NULL ? json_value_str(a) : NULL, *ls = l != NULL ? json_value_str(l) : "";

		if (as == NULL || ls == NULL || strlen(as) > VCARD_ADDRESS_MAX || strlen(ls) > VCARD_LABEL_MAX)
			return bad(j, "emails", "an address is a string or {\"address\",\"label\"}",
				   "アドレスは文字列か {\"address\",\"label\"} で指定してください");
		str_copy(c->emails[c->nemails].address, sizeof(c->emails[0].address), as);
		str_copy(c->emails[c->nemails].label, sizeof(c->emails[0].label), ls);
		c->nemails++;
	}
	return true;
}

static bool path_id(struct api_job *j, int64_t *id)
{
	char *end;
	long long v = strtoll(j->params[0], &end, 10);

	if (j->params[0][0] < '1' || j->params[0][0] > '9' || *end != '\0' || v <= 0) {
		api_error(j, 404, "not_found", "id", "no such contact", "その連絡先はありません");
		return false;
	}
	*id = v;
	return true;
}

static void reply_contact(struct api_job *j, int status, int64_t id)
{
	struct ops_contact c;
	struct ops_error err;
	struct json *o;

	if (ops_contact_get(&j->ops, &j->actor, id, &c, &err) < 0) {
		api_ops_error(j, &err);
		return;
	}
	o = api_reply(j, status);
	json_key(o, "contact");
	json_contact(o, &c);
	api_reply_end(j);
}

static void contact_put(struct api_job *j, int64_t id, int status)
{
	struct vcard c;
	struct ops_error err;
	int64_t got;

	if (!contact_body(j, &c))
		return;
	if (ops_contact_put(&j->ops, &j->actor, id, &c, &got, &err) < 0) {
		api_ops_error(j, &err);
		return;
	}
	reply_contact(j, status, got);
}

void api_mail_contact_add(struct api_job *j)
{
	contact_put(j, 0, 201);
}

void api_mail_contact_get(struct api_job *j)
{
	int64_t id;

	if (path_id(j, &id))
		reply_contact(j, 200, id);
}

void api_mail_contact_put(struct api_job *j)
{
	int64_t id;

	if (path_id(j, &id))
		contact_put(j, id, 200);
}

void api_mail_contact_del(struct api_job *j)
{
	struct ops_error err;
	int64_t id;

	if (!path_id(j, &id))
		return;
	if (ops_contact_del(&j->ops, &j->actor, id, &err) < 0) {
		api_ops_error(j, &err);
		return;
	}
	api_reply(j, 204);
	api_reply_end(j);
}

static void complete_cb(const char *name, const char *address, bool recent, void *ctx)
{
	struct json *o = ctx;

	json_object_begin(o);
	json_kv_string(o, "name", name);
	json_kv_string(o, "address", address);
	json_kv_string(o, "source", recent ? "recent" : "contact");
	json_object_end(o);
}

void api_mail_contacts_complete(struct api_job *j)
{
	struct ops_error err;
	struct json *o = api_reply(j, 200);

	json_key(o, "matches");
	json_array_begin(o);
	if (ops_contact_complete(&j->ops, &j->actor, api_query(j, "q"), complete_cb, o, &err) < 0) {
		api_ops_error(j, &err);
		return;
	}
	json_array_end(o);
	api_reply_end(j);
}

void api_mail_contacts_export(struct api_job *j)
{
	struct strbuf out = STRBUF_INIT;
	struct ops_error err;

	if (ops_contact_export(&j->ops, &j->actor, &out, &err) < 0) {
		strbuf_free(&out);
		api_ops_error(j, &err);
		return;
	}
	api_reply(j, 200);
	j->raw = evbuffer_new();
	if (j->raw != NULL)
		evbuffer_add(j->raw, out.data != NULL ? out.data : "", out.len);
	j->content_type = "text/vcard; charset=utf-8";
	str_copy(j->disposition, sizeof(j->disposition), "attachment; filename=\"contacts.vcf\"");
	strbuf_free(&out);
}

static void import_bad(unsigned number, const char *reason, void *ctx)
{
	struct json *o = ctx;

	json_object_begin(o);
	json_kv_uint(o, "card", number);
	json_kv_string(o, "message", reason);
	json_object_end(o);
}

void api_mail_contacts_import(struct api_job *j)
{
	struct ops_error err;
	unsigned imported;
	struct json *o = api_reply(j, 200);

	json_key(o, "refused");
	json_array_begin(o);
	if (ops_contact_import(&j->ops, &j->actor, j->body_raw != NULL ? j->body_raw : "", j->body_raw_len,
			       &imported, import_bad, o, &err) < 0) {
		api_ops_error(j, &err);
		return;
	}
	json_array_end(o);
	json_kv_uint(o, "imported", imported);
	api_reply_end(j);
}
