/* The message composer (compose.h): header fields, then one text part, a
 * multipart/alternative of text and HTML, or a multipart/mixed with the
 * attachments after them. Pure. */
#include "mail/compose.h"
#include "lib/str.h"
#include "mail/charset.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

static int fail(struct compose_error *err, const char *code, const char *field, const char *text)
{
	err->code = code;
	err->field = field;
	err->text = text;
	return -1;
}

/* An addr-spec we are willing to write: dot-atom local part, a domain of
 * letters, digits, '-' and '.', or an address literal; ASCII only. */
static bool address_ok(const char *a)
{
	const char *at = strrchr(a, '@');
	size_t len = strlen(a);

	if (at == NULL || at == a || at[1] == '\0' || len > COMPOSE_ADDRESS_MAX)
		return false;
	for (const char *p = a; p < at; p++) {
		unsigned char c = (unsigned char)*p;
		if (c <= 0x20 || c >= 0x7f || strchr("()<>[]:;@\\,\"", c) != NULL)
			return false;
		if (c == '.' && (p == a || p + 1 == at || p[1] == '.'))
			return false;
	}
	if (at[1] == '[')
		return a[len - 1] == ']' && strchr(at + 2, '[') == NULL && strchr(at + 1, ']') == a + len - 1;
	for (const char *p = at + 1; *p != '\0'; p++) {
		unsigned char c = (unsigned char)*p;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
		      c == '.' || c == '_'))
			return false;
	}
	return at[1] != '.' && a[len - 1] != '.';
}

/* "Name: " then the addresses, folded between them. */
static int write_addrs(struct strbuf *out, const char *hdr, const struct compose_addr *list, size_t n,
		       enum compose_charset cs, const char *field, struct compose_error *err)
{
	size_t col = strlen(hdr) + 2;

	if (n > COMPOSE_ADDRS_MAX)
		return fail(err, "too_many", field, "too many addresses");
	strbuf_printf(out, "%s: ", hdr);
	for (size_t i = 0; i < n; i++) {
		const char *name = list[i].name != NULL ? list[i].name : "";
		size_t alen;

		if (list[i].address == NULL || !address_ok(list[i].address))
			return fail(err, "invalid_address", field, "not a valid e-mail address");
		if (strlen(name) > COMPOSE_NAME_MAX)
			return fail(err, "too_long", field, "a display name is too long");
		alen = strlen(list[i].address);
		if (i > 0) {
			strbuf_append_c(out, ',');
			if (col + alen + 4 > 78 || name[0] != '\0') {
				strbuf_append_str(out, "\r\n ");
				col = 1;
			} else {
				strbuf_append_c(out, ' ');
				col += 2;
			}
		}
		if (name[0] != '\0') {
			struct strbuf w = STRBUF_INIT;
			size_t c2 = col;
			/* a name ISO-2022-JP cannot hold goes as UTF-8 words */
			int r = compose_header_text(&w, &c2, name, strlen(name), cs, true);

			if (r < 0 && cs != COMPOSE_UTF8) {
				strbuf_truncate(&w, 0);
				c2 = col;
				r = compose_header_text(&w, &c2, name, strlen(name), COMPOSE_UTF8, true);
			}
			strbuf_append(out, w.data != NULL ? w.data : "", w.len);
			strbuf_free(&w);
			col = c2;
			if (r < 0)
				return fail(err, "invalid_utf8", field, "a display name is not valid UTF-8");
			if (col + alen + 3 > 78) {
				strbuf_append_str(out, "\r\n <");
				col = 2;
			} else {
				strbuf_append_str(out, " <");
				col += 2;
			}
			strbuf_printf(out, "%s>", list[i].address);
			col += alen + 1;
		} else {
			strbuf_append_str(out, list[i].address);
			col += alen;
		}
	}
	strbuf_append_str(out, "\r\n");
	return 0;
}

static void write_date(struct strbuf *out, int64_t t, int tz_minutes)
{
	static const char days[7][4] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
	static const char months[12][4] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
					    "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	time_t local = (time_t)(t + (int64_t)tz_minutes * 60);
	int off = tz_minutes < 0 ? -tz_minutes : tz_minutes;
	struct tm tm;

	gmtime_r(&local, &tm);
	strbuf_printf(out, "Date: %s, %d %s %d %02d:%02d:%02d %c%02d%02d\r\n", days[tm.tm_wday], tm.tm_mday,
		      months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec,
		      tz_minutes < 0 ? '-' : '+', off / 60, off % 60);
}

/* A header value the caller built (Message-ID, References): one line of
 * printable ASCII, folded at blanks. */
static int write_ids(struct strbuf *out, const char *hdr, const char *value, struct compose_error *err,
		     const char *field)
{
	size_t col = strlen(hdr) + 2, len = strlen(value);

	for (size_t i = 0; i < len; i++) {
		if ((unsigned char)value[i] < 0x20 || (unsigned char)value[i] > 0x7e)
			return fail(err, "invalid_field", field, "a message id holds a bad character");
	}
	if (len > 990)
		return fail(err, "too_long", field, "the message ids are too long");
	strbuf_printf(out, "%s: ", hdr);
	for (size_t i = 0; i < len;) {
		size_t j = i;

		while (j < len && value[j] != ' ')
			j++;
		if (j == i) {
			i++;
			continue;
		}
		if (col > strlen(hdr) + 2) {
			if (col + (j - i) + 1 > 78) {
				strbuf_append_str(out, "\r\n ");
				col = 1;
			} else {
				strbuf_append_c(out, ' ');
				col++;
			}
		}
		strbuf_append(out, value + i, j - i);
		col += j - i;
		i = j;
	}
	strbuf_append_str(out, "\r\n");
	return 0;
}

/* Text with its line ends made CRLF (bare CR too). */
static void crlf(struct strbuf *out, const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '\r') {
			strbuf_append_str(out, "\r\n");
			if (i + 1 < len && s[i + 1] == '\n')
				i++;
		} else if (s[i] == '\n') {
			strbuf_append_str(out, "\r\n");
		} else {
			strbuf_append_c(out, s[i]);
		}
	}
	if (len > 0 && out->len >= 2 && memcmp(out->data + out->len - 2, "\r\n", 2) != 0)
		strbuf_append_str(out, "\r\n");
}

struct encoded_body {
	struct strbuf data;
	const char *cte;	/* 7bit, quoted-printable, base64 */
	const char *charset;
	bool flowed;
};

static size_t longest_line(const char *s, size_t len)
{
	size_t best = 0, run = 0;

	for (size_t i = 0; i < len; i++) {
		run = s[i] == '\n' ? 0 : run + 1;
		if (run > best)
			best = run;
	}
	return best;
}

/* text (UTF-8) as the body of a text part in the draft's charset. */
static int encode_text(const char *text, bool html, const struct compose_draft *d, struct encoded_body *b,
		       struct compose_error *err)
{
	const char *field = html ? "html" : "text";
	struct strbuf norm = STRBUF_INIT;
	size_t high = 0;
	bool ascii = true;

	strbuf_init(&b->data);
	b->charset = "utf-8";
	b->flowed = false;
	if (!charset_utf8_is_valid(text, strlen(text)))
		return fail(err, "invalid_utf8", field, "the text is not valid UTF-8");
	crlf(&norm, text, strlen(text));
	if (!html && d->charset == COMPOSE_UTF8 && d->flowed) {
		struct strbuf f = STRBUF_INIT;

		compose_flowed(&f, norm.data != NULL ? norm.data : "", norm.len);
		strbuf_free(&norm);
		norm = f;
		b->flowed = true;
	}
	if (!html && d->charset == COMPOSE_ISO2022JP) {
		struct strbuf j = STRBUF_INIT;

		if (compose_iso2022jp(norm.data != NULL ? norm.data : "", norm.len, &j) < 0) {
			strbuf_free(&j);
			strbuf_free(&norm);
			return fail(err, "not_representable", field,
				    "the text holds a character ISO-2022-JP cannot represent");
		}
		strbuf_free(&norm);
		norm = j;
		b->charset = "iso-2022-jp";
	}
	for (size_t i = 0; i < norm.len; i++) {
		unsigned char c = (unsigned char)norm.data[i];
		if (c >= 0x80)
			high++;
		if (c >= 0x80 || (c < 0x20 && c != '\r' && c != '\n' && c != '\t' && c != 0x1b) || c == 0x7f)
			ascii = false;
	}
	if (ascii && longest_line(norm.data != NULL ? norm.data : "", norm.len) <= 77 &&
	    (norm.len == 0 || strstr(norm.data, "=_") == NULL)) {
		b->cte = "7bit";
		strbuf_append(&b->data, norm.data != NULL ? norm.data : "", norm.len);
	} else if (high * 3 > norm.len || b->charset[0] == 'i') {
		b->cte = "base64";
		compose_base64(&b->data, norm.data, norm.len);
	} else {
		b->cte = "quoted-printable";
		compose_qp(&b->data, norm.data, norm.len);
	}
	strbuf_free(&norm);
	return 0;
}

static void text_part_header(struct strbuf *out, const struct encoded_body *b, bool html)
{
	strbuf_printf(out, "Content-Type: text/%s; charset=%s%s\r\nContent-Transfer-Encoding: %s\r\n",
		      html ? "html" : "plain", b->charset, b->flowed ? "; format=flowed" : "", b->cte);
}

static bool type_ok(const char *t)
{
	const char *slash = t != NULL ? strchr(t, '/') : NULL;
	size_t n = 0;

	if (slash == NULL || slash == t || slash[1] == '\0' || strlen(t) > 100)
		return false;
	for (const char *p = t; *p != '\0'; p++) {
		unsigned char c = (unsigned char)*p;
		if (c == '/' && ++n > 1)
			return false;
		if (c != '/' && (c <= 0x20 || c >= 0x7f || strchr("()<>@,;:\\\"[]?=", c) != NULL))
			return false;
	}
	return true;
}

/* A message/rfc822 part must not be base64 (RFC 2046 5.2.1): 7bit or
 * 8bit when its lines allow, else it goes as application/octet-stream. */
static const char *rfc822_cte(const struct compose_part *p)
{
	const unsigned char *s = p->data;
	bool eight = false;

	if (longest_line(p->data, p->len) > 997)
		return NULL;
	for (size_t i = 0; i < p->len; i++) {
		if (s[i] == 0)
			return NULL;
		eight = eight || s[i] >= 0x80;
	}
	return eight ? "8bit" : "7bit";
}

static int write_attachment(struct strbuf *out, const struct compose_part *p, struct compose_error *err)
{
	const char *type = type_ok(p->content_type) ? p->content_type : "application/octet-stream";
	const char *name = p->filename != NULL && p->filename[0] != '\0' ? p->filename : "attachment";
	bool rfc822 = strcasecmp(type, "message/rfc822") == 0;
	const char *cte = rfc822 ? rfc822_cte(p) : "base64";
	size_t col;

	if (strlen(name) > COMPOSE_FILENAME_MAX || !charset_utf8_is_valid(name, strlen(name)))
		return fail(err, "invalid_filename", "attachments", "an attachment's name is not valid");
	if (cte == NULL) {
		type = "application/octet-stream";
		cte = "base64";
	}
	strbuf_printf(out, "Content-Type: %s;\r\n name=\"", type);
	col = 7;
	{
		struct strbuf n = STRBUF_INIT;
		int r = compose_header_text(&n, &col, name, strlen(name), COMPOSE_UTF8, false);

		/* inside the quoted string a plain name's '"' and '\' are quoted
		 * (encoded words never hold them) */
		for (size_t i = 0; i < n.len; i++) {
			if (n.data[i] == '"' || n.data[i] == '\\')
				strbuf_append_c(out, '\\');
			strbuf_append_c(out, n.data[i]);
		}
		strbuf_free(&n);
		if (r < 0)
			return fail(err, "invalid_filename", "attachments", "an attachment's name is not valid");
	}
	strbuf_append_str(out, "\"\r\nContent-Disposition: attachment");
	compose_param(out, "filename", name);
	strbuf_printf(out, "\r\nContent-Transfer-Encoding: %s\r\n\r\n", cte);
	if (strcmp(cte, "base64") == 0) {
		compose_base64(out, p->data, p->len);
	} else {
		crlf(out, p->data, p->len);	/* bare CR and LF made CRLF */
	}
	return 0;
}

/* The header fields from Date to References. */
static int write_header(const struct compose_draft *d, struct strbuf *out, struct compose_error *err)
{
	const char *subject = d->subject != NULL ? d->subject : "";
	size_t col = 9;

	write_date(out, d->date, d->tz_minutes);
	if (write_addrs(out, "From", &d->from, 1, d->charset, "from", err) < 0)
		return -1;
	if (d->nto + d->ncc + d->nbcc == 0 && !d->keep_bcc)
		return fail(err, "no_recipients", "to", "the message has no recipient");
	if (d->nto > 0 && write_addrs(out, "To", d->to, d->nto, d->charset, "to", err) < 0)
		return -1;
	if (d->ncc > 0 && write_addrs(out, "Cc", d->cc, d->ncc, d->charset, "cc", err) < 0)
		return -1;
	if (d->nbcc > 0) {
		struct strbuf scratch = STRBUF_INIT;
		int r = write_addrs(d->keep_bcc ? out : &scratch, "Bcc", d->bcc, d->nbcc, d->charset, "bcc", err);

		strbuf_free(&scratch);	/* checked, never written in a message to send */
		if (r < 0)
			return -1;
	}
	if (strlen(subject) > COMPOSE_SUBJECT_MAX)
		return fail(err, "too_long", "subject", "the subject is too long");
	strbuf_append_str(out, "Subject: ");
	if (subject[0] != '\0' && compose_header_text(out, &col, subject, strlen(subject), d->charset, false) < 0)
		return fail(err, d->charset == COMPOSE_ISO2022JP ? "not_representable" : "invalid_utf8", "subject",
			    d->charset == COMPOSE_ISO2022JP ?
			    "the subject holds a character ISO-2022-JP cannot represent" :
			    "the subject is not valid UTF-8 or holds a control character");
	strbuf_append_str(out, "\r\n");
	if (write_ids(out, "Message-ID", d->message_id, err, "message_id") < 0)
		return -1;
	if (d->in_reply_to != NULL && d->in_reply_to[0] != '\0' &&
	    write_ids(out, "In-Reply-To", d->in_reply_to, err, "in_reply_to") < 0)
		return -1;
	if (d->references != NULL && d->references[0] != '\0' &&
	    write_ids(out, "References", d->references, err, "in_reply_to") < 0)
		return -1;
	if (d->extra_headers != NULL)
		strbuf_append_str(out, d->extra_headers);
	strbuf_append_str(out, "MIME-Version: 1.0\r\n");
	return 0;
}

/* The body: text alone, text and HTML as alternatives, then attachments.
 * b: the boundary prefix. */
static int write_body(const struct compose_draft *d, struct strbuf *out, struct encoded_body *text,
		      struct encoded_body *html, const char *b, struct compose_error *err)
{
	bool mixed = d->nparts > 0;

	if (mixed)
		strbuf_printf(out, "Content-Type: multipart/mixed;\r\n boundary=\"%s_m\"\r\n\r\n"
			      "This is a multi-part message in MIME format.\r\n\r\n--%s_m\r\n", b, b);
	if (html != NULL) {
		strbuf_printf(out, "Content-Type: multipart/alternative;\r\n boundary=\"%s_a\"\r\n\r\n", b);
		if (!mixed)
			strbuf_append_str(out, "This is a multi-part message in MIME format.\r\n");
		strbuf_printf(out, "\r\n--%s_a\r\n", b);
		text_part_header(out, text, false);
		strbuf_append_str(out, "\r\n");
		strbuf_append(out, text->data.data, text->data.len);
		strbuf_printf(out, "\r\n--%s_a\r\n", b);
		text_part_header(out, html, true);
		strbuf_append_str(out, "\r\n");
		strbuf_append(out, html->data.data, html->data.len);
		strbuf_printf(out, "\r\n--%s_a--\r\n", b);
	} else {
		text_part_header(out, text, false);
		strbuf_append_str(out, "\r\n");
		strbuf_append(out, text->data.data, text->data.len);
	}
	for (size_t i = 0; i < d->nparts; i++) {
		strbuf_printf(out, "\r\n--%s_m\r\n", b);
		if (write_attachment(out, &d->parts[i], err) < 0)
			return -1;
	}
	if (mixed)
		strbuf_printf(out, "\r\n--%s_m--\r\n", b);
	return 0;
}

int compose_message(const struct compose_draft *d, struct strbuf *out, struct compose_error *err)
{
	struct encoded_body text, html;
	char boundary[64];
	int r;

	if (d->nparts > COMPOSE_PARTS_MAX)
		return fail(err, "too_many", "attachments", "too many attachments");
	if (d->message_id == NULL || d->boundary_seed == NULL || strlen(d->boundary_seed) > 40)
		return fail(err, "internal", NULL, "the message id or the boundary seed is missing");
	snprintf(boundary, sizeof(boundary), "=_%s", d->boundary_seed);
	if (write_header(d, out, err) < 0)
		return -1;
	if (encode_text(d->text != NULL ? d->text : "", false, d, &text, err) < 0)
		return -1;
	r = d->html != NULL && d->html[0] != '\0' ? encode_text(d->html, true, d, &html, err) : 0;
	if (r == 0)
		r = write_body(d, out, &text, d->html != NULL && d->html[0] != '\0' ? &html : NULL, boundary, err);
	strbuf_free(&text.data);
	if (d->html != NULL && d->html[0] != '\0')
		strbuf_free(&html.data);
	if (r < 0)
		return -1;
	/* an attachment sent as it is (message/rfc822) holding our delimiter */
	for (size_t i = 0; i < d->nparts; i++) {
		if (memmem(d->parts[i].data, d->parts[i].len, boundary, strlen(boundary)) != NULL)
			return fail(err, "internal", "attachments", "boundary collision, try again");
	}
	return 0;
}
