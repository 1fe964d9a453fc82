/* The searchable text of a message (mail_text.h): the decoded header,
 * the text parts' decoded bodies (HTML reduced to text), the address
 * fields as SEARCH FROM/TO/CC compare them, the subject and the names of
 * attachments. IMAP SEARCH's scan and the full-text index both use it. */
#include "mail/mail_text.h"
#include "mail/header.h"
#include "mail/imap_envelope.h"
#include "mail/mime.h"
#include "mail/rfc2047.h"

#include <string.h>

void mail_text_init(struct mail_text *t)
{
	memset(t, 0, sizeof(*t));
}

void mail_text_free(struct mail_text *t)
{
	if (t == NULL)
		return;
	strbuf_free(&t->header);
	strbuf_free(&t->body);
	strbuf_free(&t->subject);
	strbuf_free(&t->from);
	strbuf_free(&t->to);
	strbuf_free(&t->cc);
	strbuf_free(&t->attachments);
	strbuf_free(&t->from_display);
}

void mail_text_fold(char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (s[i] >= 'A' && s[i] <= 'Z')
			s[i] = (char)(s[i] - 'A' + 'a');
	}
}

/* Cuts buf to at most max bytes, not inside a UTF-8 sequence. True when
 * something was cut. */
static bool cut_utf8(struct strbuf *buf, size_t from, size_t max)
{
	size_t end;

	if (buf->len - from <= max)
		return false;
	end = from + max;
	while (end > from && ((unsigned char)buf->data[end] & 0xC0) == 0x80)
		end--;
	strbuf_truncate(buf, end);
	return true;
}

/* Appends the text of a leaf part: text/html reduced to text. */
static void part_text(const struct mime_message *mm, const struct mime_part *part, struct strbuf *out)
{
	struct strbuf raw = STRBUF_INIT;

	if (!mime_part_is_type(part, "text", "html")) {
		if (mime_part_text_decode(mm, part, out) == 0)
			strbuf_append_c(out, '\n');
		return;
	}
	if (mime_part_text_decode(mm, part, &raw) == 0) {
		mail_text_html(strbuf_cstr(&raw), raw.len, out);
		strbuf_append_c(out, '\n');
	}
	strbuf_free(&raw);
}

struct walk {
	const struct mime_message *mm;
	struct strbuf *body;		/* NULL: not wanted */
	size_t body_start, max;
	bool cut;
	struct strbuf *names;		/* NULL: not wanted */
};

static void part_name(const struct mime_part *part, struct strbuf *out)
{
	const char *name = NULL;

	for (unsigned i = 0; i < part->disposition_param_count && name == NULL; i++) {
		if (strcmp(part->disposition_params[i].name, "filename") == 0)
			name = part->disposition_params[i].value;
	}
	if (name == NULL)
		name = mime_part_param(part, "name");
	if (name == NULL || *name == '\0')
		return;
	if (out->len > 0)
		strbuf_append_c(out, '\n');
	rfc2047_decode(name, strlen(name), out);
}

static void walk_parts(struct walk *w, const struct mime_part *part)
{
	for (; part != NULL; part = part->next) {
		if (part->children != NULL) {
			walk_parts(w, part->children);
			continue;
		}
		if (w->names != NULL && part->depth > 0 &&
		    (strcmp(part->type, "text") != 0 ||
		     (part->disposition != NULL && strcmp(part->disposition, "attachment") == 0)))
			part_name(part, w->names);
		if (w->body != NULL && !w->cut) {
			part_text(w->mm, part, w->body);
			w->cut = cut_utf8(w->body, w->body_start, w->max);
		}
	}
}

bool mail_text_body(const char *msg, size_t len, const struct mail_text_limits *limits, size_t max,
		    struct strbuf *out)
{
	const struct mime_limits ml = { limits->max_depth, limits->max_parts };
	struct mime_message *mm;
	const char *error;
	struct walk w = { NULL, out, out->len, max, false, NULL };

	if (mime_message_parse(msg, len, &ml, &mm, &error) < 0)
		return false;
	w.mm = mm;
	walk_parts(&w, mm->root);
	mime_message_free(mm);
	return w.cut;
}

struct addr_text {
	struct strbuf text;
	mail_text_address_cb *cb;
	void *ctx;
	bool any, stop;
};

/* One address as "name <mailbox@host>" (the name RFC 2047 decoded). */
static bool addr_text_cb(const struct imap_address *a, void *arg)
{
	struct addr_text *at = arg;

	if (a->group_end)
		return true;
	at->any = true;
	strbuf_truncate(&at->text, 0);
	if (a->name != NULL) {
		rfc2047_decode(a->name, strlen(a->name), &at->text);
		strbuf_append_c(&at->text, ' ');
	}
	if (a->group_start) {
		strbuf_append_str(&at->text, a->mailbox);
	} else {
		strbuf_printf(&at->text, "<%s@%s>", a->mailbox != NULL ? a->mailbox : "",
			      a->host != NULL ? a->host : "");
	}
	at->stop = !at->cb(strbuf_cstr(&at->text), at->text.len, at->ctx);
	return !at->stop;
}

void mail_text_addresses(const char *header, size_t size, const char *name, mail_text_address_cb *cb,
			 void *ctx)
{
	struct mail_header_iter it;
	struct mail_header_field f;
	struct strbuf v = STRBUF_INIT;
	struct addr_text at = { STRBUF_INIT, cb, ctx, false, false };

	mail_header_iter_init(&it, header, size);
	while (!at.stop && mail_header_iter_next(&it, &f)) {
		if (!mail_header_field_is(&f, name))
			continue;
		strbuf_truncate(&v, 0);
		mail_header_unfold(f.value, f.value_len, &v);
		at.any = false;
		imap_address_list_each(strbuf_cstr(&v), v.len, addr_text_cb, &at);
		if (!at.any) {
			strbuf_truncate(&at.text, 0);
			rfc2047_decode(f.value, f.value_len, &at.text);
			at.stop = !cb(strbuf_cstr(&at.text), at.text.len, ctx);
		}
	}
	strbuf_free(&v);
	strbuf_free(&at.text);
}

static bool addr_join_cb(const char *text, size_t len, void *ctx)
{
	struct strbuf *out = ctx;

	if (out->len > 0)
		strbuf_append_c(out, '\n');
	strbuf_append(out, text, len);
	return out->len < 65536;
}

/* Each field called name decoded, "\n" between them. */
static void header_values(const char *hdr, size_t size, const char *name, bool first_only,
			  struct strbuf *out)
{
	struct mail_header_iter it;
	struct mail_header_field f;

	mail_header_iter_init(&it, hdr, size);
	while (mail_header_iter_next(&it, &f) && out->len < 65536) {
		if (!mail_header_field_is(&f, name))
			continue;
		if (out->len > 0)
			strbuf_append_c(out, '\n');
		rfc2047_decode(f.value, f.value_len, out);
		if (first_only)
			break;
	}
}

void mail_text_extract(const char *msg, size_t len, const struct mail_text_limits *limits, struct mail_text *t)
{
	const struct mime_limits ml = { limits->max_depth, limits->max_parts };
	size_t hdr = mail_header_block_size(msg, len);
	struct mime_message *mm;
	const char *error;

	rfc2047_decode(msg, hdr, &t->header);
	t->truncated = cut_utf8(&t->header, 0, limits->max_header);
	header_values(msg, hdr, "Subject", false, &t->subject);
	header_values(msg, hdr, "From", true, &t->from_display);
	mail_text_addresses(msg, hdr, "From", addr_join_cb, &t->from);
	mail_text_addresses(msg, hdr, "To", addr_join_cb, &t->to);
	mail_text_addresses(msg, hdr, "Cc", addr_join_cb, &t->cc);
	if (mime_message_parse(msg, len, &ml, &mm, &error) == 0) {
		struct walk w = { mm, &t->body, 0, limits->max_body, false, &t->attachments };
		walk_parts(&w, mm->root);
		t->truncated |= w.cut;
		mime_message_free(mm);
	}
	if (t->attachments.len > 65536)
		cut_utf8(&t->attachments, 0, 65536);
	/* a field list cut short leaves the index unable to answer exactly */
	if (t->subject.len >= 65536 || t->from.len >= 65536 || t->to.len >= 65536 || t->cc.len >= 65536)
		t->truncated = true;
}
