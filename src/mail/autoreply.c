/* Auto-replies (see autoreply.h). */
#include "mail/autoreply.h"
#include "mail/charset.h"
#include "mail/compose.h"
#include "mail/header.h"
#include "mail/mail_text.h"
#include "mail/mime.h"
#include "mail/mime_view.h"
#include "mail/rfc2047.h"
#include "lib/str.h"

#include <string.h>
#include <strings.h>

static bool local_is(const char *addr, const char *name)
{
	const char *at = strrchr(addr, '@');
	size_t n = at != NULL ? (size_t)(at - addr) : strlen(addr);

	return n == strlen(name) && strncasecmp(addr, name, n) == 0;
}

static bool local_ends(const char *addr, const char *suffix)
{
	const char *at = strrchr(addr, '@');
	size_t n = at != NULL ? (size_t)(at - addr) : strlen(addr), k = strlen(suffix);

	return n >= k && strncasecmp(addr + n - k, suffix, k) == 0;
}

/* The first word of a field's unfolded value, compared without case. */
static bool value_starts(const struct mail_header_field *f, const char *word)
{
	struct strbuf v = STRBUF_INIT;
	bool yes;

	mail_header_unfold(f->value, f->value_len, &v);
	yes = strncasecmp(strbuf_cstr(&v), word, strlen(word)) == 0;
	strbuf_free(&v);
	return yes;
}

static const char *header_refused(const char *header, size_t len)
{
	struct mail_header_iter it;
	struct mail_header_field f;

	mail_header_iter_init(&it, header, mail_header_block_size(header, len));
	while (mail_header_iter_next(&it, &f)) {
		if (mail_header_field_is(&f, "Auto-Submitted") && !value_starts(&f, "no"))
			return "the message is auto-submitted (Auto-Submitted)";
		if (mail_header_field_is(&f, "Precedence") &&
		    (value_starts(&f, "bulk") || value_starts(&f, "list") || value_starts(&f, "junk")))
			return "the message is bulk or list mail (Precedence)";
		if (f.name_len > 5 && strncasecmp(f.name, "List-", 5) == 0)
			return "the message comes from a mailing list (List-* fields)";
	}
	return NULL;
}

const char *autoreply_refused(const char *header, size_t len, const char *env_from, const char *account,
			      const char *const *own, size_t nown)
{
	if (env_from == NULL || env_from[0] == '\0')
		return "the sender is the null path <>";
	if (strchr(env_from, '@') == NULL || strpbrk(env_from, "\r\n\"<> ") != NULL)
		return "the sender is not a plain address";
	if (local_is(env_from, "mailer-daemon"))
		return "the sender is a mail system (MAILER-DAEMON)";
	if (strncasecmp(env_from, "owner-", 6) == 0 || local_ends(env_from, "-request") ||
	    local_ends(env_from, "-owner"))
		return "the sender is a list's address (owner-*, *-request)";
	if (account != NULL && strcasecmp(env_from, account) == 0)
		return "the sender is the user's own address";
	for (size_t i = 0; i < nown; i++) {
		if (own[i] != NULL && strcasecmp(env_from, own[i]) == 0)
			return "the sender is the user's own address";
	}
	return header_refused(header, len);
}

/* The unfolded value of field name into out ("" when absent). */
static void field_value(const struct autoreply_in *in, const char *name, struct strbuf *out)
{
	struct mail_header_field f;
	size_t hs = mail_header_block_size(in->header, in->header_len);

	if (mail_header_find(in->header, hs, name, &f))
		mail_header_unfold(f.value, f.value_len, out);
}

/* The first <...> of s into out ("" when none). */
static void first_id(const char *s, struct strbuf *out)
{
	const char *lt = strchr(s, '<'), *gt = lt != NULL ? strchr(lt, '>') : NULL;

	if (gt != NULL && gt - lt > 2 && gt - lt < 250)
		strbuf_append(out, lt, (size_t)(gt - lt + 1));
}

/* ":from" split into a display name and an address. */
static void from_split(const char *from, struct strbuf *name, struct strbuf *addr)
{
	const char *lt = strrchr(from, '<'), *gt = lt != NULL ? strchr(lt, '>') : NULL;

	if (lt == NULL || gt == NULL) {
		while (*from == ' ')
			from++;
		strbuf_append(addr, from, strcspn(from, " "));
		return;
	}
	strbuf_append(addr, lt + 1, (size_t)(gt - lt - 1));
	while (from < lt && (*from == ' ' || *from == '"'))
		from++;
	while (lt > from && (lt[-1] == ' ' || lt[-1] == '"'))
		lt--;
	strbuf_append(name, from, (size_t)(lt - from));
}

static void reply_subject(const struct autoreply_in *in, struct strbuf *out)
{
	struct strbuf raw = STRBUF_INIT, dec = STRBUF_INIT;

	if (in->subject != NULL && in->subject[0] != '\0') {
		strbuf_append_str(out, in->subject);
		return;
	}
	field_value(in, "Subject", &raw);
	rfc2047_decode(strbuf_cstr(&raw), raw.len, &dec);
	if (dec.len == 0)
		strbuf_append_str(out, "Automated reply");
	else
		strbuf_printf(out, "Auto: %s", strbuf_cstr(&dec));
	strbuf_free(&raw);
	strbuf_free(&dec);
	if (out->len > COMPOSE_SUBJECT_MAX)
		strbuf_truncate(out, COMPOSE_SUBJECT_MAX);
}

/* A MIME entity as :mime gives it, with CRLF line ends, after the header
 * compose wrote up to and including MIME-Version. */
static int mime_body(struct strbuf *out, size_t start, const char *reason)
{
	const char *s = strbuf_cstr(out) + start;
	const char *mv = strstr(s, "\r\nMIME-Version: 1.0\r\n");

	if (mv == NULL)
		return -1;
	strbuf_truncate(out, (size_t)(mv - strbuf_cstr(out)) + strlen("\r\nMIME-Version: 1.0\r\n"));
	for (const char *p = reason; *p != '\0'; p++) {
		if (*p == '\n' && (p == reason || p[-1] != '\r'))
			strbuf_append_c(out, '\r');
		strbuf_append_c(out, *p);
	}
	if (out->len < 2 || strbuf_cstr(out)[out->len - 1] != '\n')
		strbuf_append_str(out, "\r\n");
	return 0;
}

struct quote_find {
	const struct mime_part *text, *html;
};

static void quote_part(const struct mime_part *part, const char *id, enum mime_view_kind kind, void *ctx)
{
	struct quote_find *f = ctx;

	if (kind == MIME_VIEW_TEXT && f->text == NULL)
		f->text = part;
	else if (kind == MIME_VIEW_HTML && f->html == NULL)
		f->html = part;
}

/* The length of text cut to at most max octets at a UTF-8 character start. */
static size_t utf8_cut(const char *text, size_t len, size_t max)
{
	if (len <= max)
		return len;
	while (max > 0 && ((unsigned char)text[max] & 0xc0) == 0x80)
		max--;
	return max;
}

bool autoreply_text_is_japanese(const char *text)
{
	for (const unsigned char *p = (const unsigned char *)text; *p != '\0'; p++) {
		/* kana (U+3040-30FF) or a CJK ideograph (U+4E00-9FFF) */
		if ((p[0] == 0xe3 && p[1] >= 0x81 && p[1] <= 0x83) || (p[0] >= 0xe4 && p[0] <= 0xe9 && p[1] >= 0x80))
			return true;
	}
	return false;
}

void autoreply_quote(const char *msg, size_t len, bool ja, struct strbuf *out)
{
	const struct mime_limits lim = { 20, 200 };
	struct strbuf text = STRBUF_INIT, html = STRBUF_INIT, who = STRBUF_INIT, date = STRBUF_INIT,
		      raw = STRBUF_INIT, attribution = STRBUF_INIT;
	struct mime_message *m = NULL;
	struct quote_find f = { NULL, NULL };
	struct mail_header_field fld;
	const char *error;
	size_t hs = mail_header_block_size(msg, len), n;

	if (mime_message_parse(msg, len, &lim, &m, &error) < 0)
		return;
	mime_view_walk(m, quote_part, &f);
	if (f.text != NULL) {
		mime_part_text_decode(m, f.text, &text);
	} else if (f.html != NULL && mime_part_text_decode(m, f.html, &html) == 0) {
		mail_text_html(strbuf_cstr(&html), html.len, &text);
	}
	if (text.len > 0) {
		strbuf_truncate(&html, 0);
		if (mail_header_find(msg, hs, "From", &fld)) {
			mail_header_unfold(fld.value, fld.value_len, &raw);
			rfc2047_decode(strbuf_cstr(&raw), raw.len, &who);
		}
		if (mail_header_find(msg, hs, "Date", &fld))
			mail_header_unfold(fld.value, fld.value_len, &date);
		strbuf_printf(&attribution, ja ? "%.100s、%.300s さんは書きました:" : "On %.100s, %.300s wrote:",
			      date.len > 0 ? strbuf_cstr(&date) : "?", who.len > 0 ? strbuf_cstr(&who) : "?");
		n = utf8_cut(strbuf_cstr(&text), text.len, AUTOREPLY_QUOTE_MAX);
		if (n < text.len) {
			strbuf_truncate(&text, n);
			strbuf_append_str(&text, "\n[...]");
		}
		compose_quote(&html, strbuf_cstr(&attribution), strbuf_cstr(&text), text.len);
		/* what compose takes: valid UTF-8 without NULs */
		for (size_t i = 0; i < html.len; i++)
			if (html.data[i] == '\0')
				html.data[i] = ' ';
		charset_utf8_append_valid(out, html.data, html.len);
	}
	mime_message_free(m);
	strbuf_free(&text);
	strbuf_free(&html);
	strbuf_free(&who);
	strbuf_free(&date);
	strbuf_free(&raw);
	strbuf_free(&attribution);
}

int autoreply_build(const struct autoreply_in *in, struct strbuf *out, const char **error_r)
{
	struct strbuf name = STRBUF_INIT, addr = STRBUF_INIT, subj = STRBUF_INIT, mid = STRBUF_INIT,
		      raw = STRBUF_INIT, irt = STRBUF_INIT, refs = STRBUF_INIT, orefs = STRBUF_INIT,
		      body = STRBUF_INIT;
	struct compose_addr to = { NULL, in->to };
	struct compose_draft d;
	struct compose_error err;
	size_t start = out->len;
	int r;

	from_split(in->from != NULL && in->from[0] != '\0' ? in->from : in->account, &name, &addr);
	reply_subject(in, &subj);
	field_value(in, "Message-ID", &raw);
	first_id(strbuf_cstr(&raw), &mid);
	field_value(in, "References", &orefs);
	strbuf_truncate(&raw, 0);
	field_value(in, "In-Reply-To", &raw);
	first_id(strbuf_cstr(&raw), &irt);
	if (mid.len > 0)
		compose_references(&refs, strbuf_cstr(&orefs), strbuf_cstr(&irt), strbuf_cstr(&mid));
	memset(&d, 0, sizeof(d));
	d.from.name = name.len > 0 ? strbuf_cstr(&name) : NULL;
	d.from.address = strbuf_cstr(&addr);
	d.to = &to;
	d.nto = 1;
	d.subject = strbuf_cstr(&subj);
	d.text = in->mime ? "" : in->reason;
	if (!in->mime && in->quote && in->original != NULL) {
		strbuf_append_str(&body, in->reason);
		strbuf_append_str(&body, "\n\n");
		autoreply_quote(in->original, in->original_len, autoreply_text_is_japanese(in->reason), &body);
		d.text = strbuf_cstr(&body);
	}
	d.in_reply_to = mid.len > 0 ? strbuf_cstr(&mid) : NULL;
	d.references = refs.len > 0 ? strbuf_cstr(&refs) : NULL;
	d.date = in->date;
	d.tz_minutes = in->tz_minutes;
	d.message_id = in->message_id;
	d.boundary_seed = in->boundary_seed;
	d.charset = COMPOSE_UTF8;
	d.extra_headers = "Auto-Submitted: auto-replied\r\n";
	r = compose_message(&d, out, &err);
	if (r < 0 && err.field != NULL && strcmp(err.field, "in_reply_to") == 0) {
		/* the original's ids are malformed: reply without them */
		strbuf_truncate(out, start);
		d.in_reply_to = d.references = NULL;
		r = compose_message(&d, out, &err);
	}
	if (r == 0 && in->mime && mime_body(out, start, in->reason) < 0)
		r = -1, err.text = "the composed header has no MIME-Version";
	if (r < 0)
		*error_r = err.text;
	strbuf_free(&name);
	strbuf_free(&addr);
	strbuf_free(&subj);
	strbuf_free(&mid);
	strbuf_free(&raw);
	strbuf_free(&irt);
	strbuf_free(&refs);
	strbuf_free(&orefs);
	strbuf_free(&body);
	return r;
}
