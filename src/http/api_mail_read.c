/* /api/v1/mail/messages/{folder}/{uid}: one message as the webmail shows
 * it (headers decoded, the text body decoded to UTF-8 from its charset,
 * the HTML body as a UTF-8 string for the browser to sanitise, the
 * attachments with decoded names and part numbers, the Content-ID map);
 * .../raw its source as stored, .../parts/{part} one part decoded. Bodies
 * shown are bounded (API_MAIL_BODY_MAX each, then "truncated"). */
#include "http/api_admin.h"
#include "http/api_mail.h"
#include "mail/header.h"
#include "mail/imap_envelope.h"
#include "mail/mime_view.h"
#include "mail/rfc2047.h"

#include <event2/buffer.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define API_MAIL_BODY_MAX (2u << 20)
#define API_MAIL_ATTACHMENTS_MAX 500

static const struct mime_limits mail_limits = { 50, 5000 };

/* The walk over the shown parts: the bodies found, the attachments
 * written into o's array. */
struct view {
	struct json *o;
	const struct mime_part *text, *html;
	unsigned nattach;
};

/* Writes key with a header's decoded value, or null. */
static void header_json(struct json *o, const struct mime_message *msg, const char *key, const char *name)
{
	size_t hlen = msg->root != NULL ? msg->root->header_size : 0;
	struct mail_header_field f;
	struct strbuf b = STRBUF_INIT;

	json_key(o, key);
	if (!mail_header_find(msg->data, hlen, name, &f)) {
		json_null(o);
		return;
	}
	rfc2047_decode(f.value, f.value_len, &b);
	if (b.len > 8192)
		b.len = 8192;
	json_string_n(o, b.data != NULL ? b.data : "", b.len);
	strbuf_free(&b);
}

/* The decoded text of a part under key, cut at API_MAIL_BODY_MAX. */
static void body_json(struct json *o, const struct mime_message *msg, const struct mime_part *p,
		      const char *key)
{
	struct strbuf b = STRBUF_INIT;
	bool cut = false;

	json_key(o, key);
	if (p == NULL) {
		json_null(o);
	} else {
		(void)mime_part_text_decode(msg, p, &b);
		if (b.len > API_MAIL_BODY_MAX) {
			size_t n = API_MAIL_BODY_MAX;
			while (n > 0 && ((unsigned char)b.data[n] & 0xc0) == 0x80)
				n--;
			b.len = n;
			cut = true;
		}
		json_string_n(o, b.data != NULL ? b.data : "", b.len);
	}
	char tkey[32];
	snprintf(tkey, sizeof(tkey), "%s_truncated", key);
	json_kv_bool(o, tkey, cut);
	strbuf_free(&b);
}

/* The decoded size of a part's body, without decoding it. */
static uint64_t part_size(const struct mime_part *p)
{
	if (strcmp(p->encoding, "base64") == 0)
		return (uint64_t)p->body_size * 3 / 4;
	return p->body_size;
}

static void attachment_seen(const struct mime_part *p, const char *id, enum mime_view_kind kind, void *ctx)
{
	struct view *v = ctx;
	struct json *o = v->o;
	struct strbuf b = STRBUF_INIT;
	char type[160];

	if (kind == MIME_VIEW_TEXT) {
		v->text = p;
		return;
	}
	if (kind == MIME_VIEW_HTML) {
		v->html = p;
		return;
	}
	if (++v->nattach > API_MAIL_ATTACHMENTS_MAX)
		return;
	json_object_begin(o);
	json_kv_string(o, "part", id);
	mime_view_filename(p, &b);
	json_kv_string(o, "name", b.data != NULL ? b.data : "");
	snprintf(type, sizeof(type), "%s/%s", p->type, p->subtype);
	json_kv_string(o, "type", type);
	json_kv_uint(o, "size", part_size(p));
	json_kv_bool(o, "inline", kind == MIME_VIEW_INLINE);
	strbuf_truncate(&b, 0);
	mime_view_content_id(p, &b);
	api_json_string_or_null(o, "cid", b.data != NULL ? b.data : "");
	json_object_end(o);
	strbuf_free(&b);
}

static void cid_seen(const struct mime_part *p, const char *id, enum mime_view_kind kind, void *ctx)
{
	struct json *o = ctx;
	struct strbuf b = STRBUF_INIT;

	if (kind == MIME_VIEW_TEXT || kind == MIME_VIEW_HTML)
		return;
	mime_view_content_id(p, &b);
	if (b.len > 0 && b.len < 256) {
		json_key(o, b.data);
		json_string(o, id);
	}
	strbuf_free(&b);
}

static void flags_json(struct json *o, uint32_t flags)
{
	json_key(o, "flags");
	json_object_begin(o);
	json_kv_bool(o, "seen", (flags & INDEX_FLAG_SEEN) != 0);
	json_kv_bool(o, "flagged", (flags & INDEX_FLAG_FLAGGED) != 0);
	json_kv_bool(o, "answered", (flags & INDEX_FLAG_ANSWERED) != 0);
	json_kv_bool(o, "draft", (flags & INDEX_FLAG_DRAFT) != 0);
	json_object_end(o);
}

static void message_json(struct api_job *j, const struct index_mailbox *mbox, const struct index_msg *m,
			 const struct mime_message *msg)
{
	struct json *o = api_reply(j, 200);
	struct view v = { o, NULL, NULL, 0 };
	struct ops_mail_summary s;

	memset(&s, 0, sizeof(s));
	s.date = m->internaldate;
	ops_mail_summarize(msg->data, msg->root != NULL ? msg->root->header_size : 0, &s);
	json_kv_string(o, "folder", mbox->name);
	json_kv_uint(o, "uid", m->uid);
	json_kv_uint(o, "size", m->size);
	json_kv_uint(o, "modseq", m->modseq);
	flags_json(o, m->flags);
	api_json_time(o, "date", s.date);
	api_json_time(o, "arrived", m->internaldate);
	json_key(o, "from");
	json_object_begin(o);
	json_kv_string(o, "name", s.from_name);
	json_kv_string(o, "address", s.from_addr);
	json_object_end(o);
	json_kv_string(o, "subject", s.subject);
	json_key(o, "headers");
	json_object_begin(o);
	header_json(o, msg, "from", "From");
	header_json(o, msg, "to", "To");
	header_json(o, msg, "cc", "Cc");
	header_json(o, msg, "reply_to", "Reply-To");
	header_json(o, msg, "date", "Date");
	header_json(o, msg, "subject", "Subject");
	header_json(o, msg, "message_id", "Message-ID");
	json_object_end(o);
	json_key(o, "attachments");
	json_array_begin(o);
	mime_view_walk(msg, attachment_seen, &v);
	json_array_end(o);
	body_json(o, msg, v.text, "text");
	body_json(o, msg, v.html, "html");
	json_key(o, "cids");
	json_object_begin(o);
	mime_view_walk(msg, cid_seen, o);
	json_object_end(o);
	api_reply_end(j);
}

void api_mail_message(struct api_job *j)
{
	struct ops_mailbox mb;
	struct index_mailbox mbox;
	struct index_msg m;
	struct mime_message *msg = NULL;
	struct ops_error err;
	const char *error = NULL;
	char *data = NULL;
	size_t len = 0;
	uint32_t uid;

	if (!api_mail_uid_param(j, 1, &uid) || !api_mail_open(j, &mb))
		return;
	if (ops_mail_read(&mb, j->params[0], uid, &mbox, &m, &data, &len, &err) < 0) {
		api_ops_error(j, &err);
	} else if (mime_message_parse(data, len, &mail_limits, &msg, &error) < 0) {
		api_error(j, 500, "internal", NULL, "the message cannot be parsed", "メールを解析できません");
	} else {
		message_json(j, &mbox, &m, msg);
	}
	mime_message_free(msg);
	free(data);
	ops_mail_close(&mb);
}

void api_mail_raw(struct api_job *j)
{
	struct ops_mailbox mb;
	struct index_msg m;
	struct ops_error err;
	uint32_t uid;
	int fd;

	if (!api_mail_uid_param(j, 1, &uid) || !api_mail_open(j, &mb))
		return;
	fd = ops_mail_fd(&mb, j->params[0], uid, &m, &err);
	ops_mail_close(&mb);
	if (fd < 0) {
		api_ops_error(j, &err);
		return;
	}
	api_reply(j, 200);
	j->raw = evbuffer_new();
	if (j->raw == NULL || evbuffer_add_file(j->raw, fd, 0, (ev_off_t)m.size) < 0) {
		close(fd);
		api_error(j, 500, "internal", NULL, "the message cannot be read", "メールを読めません");
		return;
	}
	j->content_type = "text/plain; charset=utf-8";
	if (api_query(j, "download") != NULL)
		snprintf(j->disposition, sizeof(j->disposition), "attachment; filename=\"message-%u.eml\"", uid);
}

/* Types a browser may show from this origin: images that cannot carry
 * script. Everything else is only ever downloaded. */
static bool type_is_safe_inline(const struct mime_part *p)
{
	static const char *const images[] = { "png", "jpeg", "jpg", "gif", "webp", "bmp", "avif" };

	if (strcmp(p->type, "image") != 0)
		return false;
	for (size_t i = 0; i < sizeof(images) / sizeof(images[0]); i++) {
		if (strcmp(p->subtype, images[i]) == 0)
			return true;
	}
	return false;
}

static void part_send(struct api_job *j, const struct mime_message *msg, const struct mime_part *p,
		      const char *id)
{
	struct strbuf b = STRBUF_INIT, name = STRBUF_INIT;
	bool show = type_is_safe_inline(p) && api_query(j, "download") == NULL;
	char fallback[MIME_PART_ID_MAX + 8];

	api_reply(j, 200);
	mime_view_body_decode(msg, p, &b);
	j->raw = evbuffer_new();
	if (j->raw == NULL || evbuffer_add(j->raw, b.data != NULL ? b.data : "", b.len) < 0) {
		strbuf_free(&b);
		api_error(j, 500, "internal", NULL, "out of memory", "メモリ不足です");
		return;
	}
	strbuf_free(&b);
	/* content_type must outlive the job's worker step: a literal only */
	j->content_type = show ? (strcmp(p->subtype, "png") == 0 ? "image/png"
				  : strcmp(p->subtype, "gif") == 0 ? "image/gif"
				  : strcmp(p->subtype, "webp") == 0 ? "image/webp"
				  : strcmp(p->subtype, "bmp") == 0 ? "image/bmp"
				  : strcmp(p->subtype, "avif") == 0 ? "image/avif" : "image/jpeg")
			       : "application/octet-stream";
	mime_view_filename(p, &name);
	snprintf(fallback, sizeof(fallback), "part-%s", id);
	mime_view_disposition(!show, name.data, fallback, j->disposition, sizeof(j->disposition));
	strbuf_free(&name);
}

void api_mail_part(struct api_job *j)
{
	struct ops_mailbox mb;
	struct index_mailbox mbox;
	struct index_msg m;
	struct mime_message *msg = NULL;
	const struct mime_part *p;
	struct ops_error err;
	const char *error = NULL;
	char *data = NULL;
	size_t len = 0;
	uint32_t uid;

	if (!api_mail_uid_param(j, 1, &uid) || !api_mail_open(j, &mb))
		return;
	if (ops_mail_read(&mb, j->params[0], uid, &mbox, &m, &data, &len, &err) < 0) {
		api_ops_error(j, &err);
	} else if (mime_message_parse(data, len, &mail_limits, &msg, &error) < 0) {
		api_error(j, 500, "internal", NULL, "the message cannot be parsed", "メールを解析できません");
	} else if ((p = mime_view_part_find(msg, j->params[2])) == NULL || p->is_multipart) {
		api_error(j, 404, "not_found", "part", "no such part", "そのパートはありません");
	} else {
		part_send(j, msg, p, j->params[2]);
	}
	mime_message_free(msg);
	free(data);
	ops_mail_close(&mb);
}
