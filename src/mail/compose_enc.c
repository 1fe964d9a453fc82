/* The composer's encoders (compose.h): header text as RFC 2047 encoded
 * words, MIME parameters as RFC 2231, quoted-printable and base64 bodies,
 * ISO-2022-JP through iconv, RFC 3676 format=flowed. Pure. */
#include "mail/compose.h"
#include "lib/str.h"

#include <errno.h>
#include <iconv.h>
#include <string.h>

#define LINE_SOFT 78	/* RFC 5322 2.1.1: SHOULD */

/* ---- ISO-2022-JP ---- */

/* Converts one piece (no line ends inside) and returns to ASCII at its
 * end: 0, or -1 when a character cannot be represented. */
static int iso2022jp_piece(iconv_t cd, const char *in, size_t len, struct strbuf *out)
{
	char *src = (char *)in;
	size_t left = len;

	iconv(cd, NULL, NULL, NULL, NULL);
	while (left > 0) {
		char buf[512], *dst = buf;
		size_t room = sizeof(buf);

		if (iconv(cd, &src, &left, &dst, &room) == (size_t)-1 && errno != E2BIG)
			return -1;
		strbuf_append(out, buf, (size_t)(dst - buf));
	}
	{
		char buf[16], *dst = buf;
		size_t room = sizeof(buf);

		if (iconv(cd, NULL, NULL, &dst, &room) == (size_t)-1)
			return -1;
		strbuf_append(out, buf, (size_t)(dst - buf));
	}
	return 0;
}

int compose_iso2022jp(const char *in, size_t len, struct strbuf *out)
{
	iconv_t cd = iconv_open("ISO-2022-JP", "UTF-8");
	size_t i = 0;
	int r = 0;

	if (cd == (iconv_t)-1)
		return -1;
	while (i < len && r == 0) {
		const char *nl = memchr(in + i, '\n', len - i);
		size_t end = nl != NULL ? (size_t)(nl - in) : len;
		size_t body = end > i && in[end - 1] == '\r' ? end - 1 : end;

		r = iso2022jp_piece(cd, in + i, body - i, out);
		if (nl != NULL)
			strbuf_append(out, in + body, end + 1 - body);
		i = end + (nl != NULL);
	}
	iconv_close(cd);
	return r;
}

/* ---- header text ---- */

static bool is_ascii_text(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x20 || c > 0x7e)
			return false;
		if (c == '=' && i + 1 < len && s[i + 1] == '?')
			return false;	/* would read as an encoded word */
	}
	return true;
}

/* Longest run without a space (a plain text must fold between words). */
static size_t longest_word(const char *s, size_t len)
{
	size_t best = 0, run = 0;

	for (size_t i = 0; i < len; i++) {
		run = s[i] == ' ' ? 0 : run + 1;
		if (run > best)
			best = run;
	}
	return best;
}

static bool is_phrase_special(char c)
{
	return strchr("()<>[]:;@\\,.\"", c) != NULL;
}

/* Plain ASCII text folded at spaces; a phrase with specials quoted. */
static void header_plain(struct strbuf *out, size_t *col, const char *s, size_t len, bool phrase)
{
	bool quote = false;

	for (size_t i = 0; phrase && i < len; i++)
		quote = quote || is_phrase_special(s[i]);
	if (quote) {
		strbuf_append_c(out, '"');
		for (size_t i = 0; i < len; i++) {
			if (s[i] == '"' || s[i] == '\\')
				strbuf_append_c(out, '\\');
			strbuf_append_c(out, s[i]);
		}
		strbuf_append_c(out, '"');
		*col += len + 2;
		return;
	}
	for (size_t i = 0; i < len;) {
		size_t j = i;

		while (j < len && s[j] != ' ')
			j++;
		/* fold before a word that would pass the soft limit */
		if (i > 0 && *col + (j - i) > LINE_SOFT && *col > 1) {
			strbuf_truncate(out, out->len - 1);	/* the space becomes the fold's */
			strbuf_append_str(out, "\r\n ");
			*col = 1;
		}
		strbuf_append(out, s + i, j - i);
		*col += j - i;
		if (j < len) {
			strbuf_append_c(out, ' ');
			(*col)++;
		}
		i = j + 1;
	}
}

/* The longest prefix of s (whole UTF-8 characters) whose encoded form fits
 * max bytes: its length into *take_r, the encoded bytes into enc. -1:
 * invalid UTF-8 or not representable. */
static int word_chunk(const char *s, size_t len, enum compose_charset cs, iconv_t cd, size_t max,
		      size_t *take_r, struct strbuf *enc)
{
	size_t take = 0;

	strbuf_truncate(enc, 0);
	while (take < len) {
		size_t n = str_utf8_char_len(s + take, len - take);

		if (n == 0)
			return -1;
		if (cs == COMPOSE_UTF8) {
			if (take + n > max)
				break;
		} else {
			struct strbuf t = STRBUF_INIT;
			int r = iso2022jp_piece(cd, s, take + n, &t);
			bool fits = t.len <= max;

			if (r == 0 && fits) {
				strbuf_truncate(enc, 0);
				strbuf_append(enc, t.data, t.len);
			}
			strbuf_free(&t);
			if (r < 0)
				return -1;
			if (!fits)
				break;
		}
		take += n;
	}
	if (cs == COMPOSE_UTF8)
		strbuf_append(enc, s, take);
	*take_r = take;
	return take > 0 ? 0 : -1;
}

static int header_words(struct strbuf *out, size_t *col, const char *s, size_t len, enum compose_charset cs)
{
	const char *label = cs == COMPOSE_UTF8 ? "UTF-8" : "ISO-2022-JP";
	size_t overhead = 7 + strlen(label);	/* =?L?B? ... ?= */
	struct strbuf enc = STRBUF_INIT;
	iconv_t cd = (iconv_t)-1;
	bool first = true;
	int r = 0;

	if (cs == COMPOSE_ISO2022JP && (cd = iconv_open("ISO-2022-JP", "UTF-8")) == (iconv_t)-1)
		return -1;
	while (len > 0 && r == 0) {
		size_t avail = !first ? 75 : *col < LINE_SOFT ? LINE_SOFT - *col : 0, take, b64;
		char b[80];

		if (avail > 75)
			avail = 75;
		if (!first || avail < overhead + 8) {
			strbuf_append_str(out, "\r\n ");
			*col = 1;
			avail = 75;
		}
		b64 = (avail - overhead) / 4 * 3;
		r = word_chunk(s, len, cs, cd, b64, &take, &enc);
		if (r < 0)
			break;
		base64_encode((const unsigned char *)enc.data, enc.len, b);
		strbuf_printf(out, "=?%s?B?%s?=", label, b);
		*col += overhead + strlen(b);
		s += take;
		len -= take;
		first = false;
	}
	strbuf_free(&enc);
	if (cd != (iconv_t)-1)
		iconv_close(cd);
	return r;
}

int compose_header_text(struct strbuf *out, size_t *col, const char *text, size_t len,
			enum compose_charset cs, bool phrase)
{
	if (is_ascii_text(text, len) && longest_word(text, len) < LINE_SOFT - 2) {
		header_plain(out, col, text, len, phrase);
		return 0;
	}
	{
		for (size_t i = 0; i < len;) {
			size_t n = str_utf8_char_len(text + i, len - i);
			if (n == 0 || (n == 1 && (unsigned char)text[i] < 0x20))
				return -1;	/* invalid UTF-8, or a control character */
			i += n;
		}
	}
	return header_words(out, col, text, len, cs);
}

/* ---- MIME parameters ---- */

static bool is_token_char(unsigned char c)
{
	return c > 0x20 && c < 0x7f && strchr("()<>@,;:\\\"/[]?=", c) == NULL;
}

void compose_param(struct strbuf *out, const char *name, const char *value)
{
	size_t len = strlen(value), piece = 0, i = 0;
	bool ascii = true;

	for (size_t k = 0; k < len; k++)
		ascii = ascii && (unsigned char)value[k] >= 0x20 && (unsigned char)value[k] < 0x7f;
	if (ascii && len + strlen(name) < 70) {
		strbuf_printf(out, ";\r\n %s=\"", name);
		for (size_t k = 0; k < len; k++) {
			if (value[k] == '"' || value[k] == '\\')
				strbuf_append_c(out, '\\');
			strbuf_append_c(out, value[k]);
		}
		strbuf_append_c(out, '"');
		return;
	}
	/* RFC 2231: name*0*=utf-8''..., name*1*=..., split between characters */
	while (i < len) {
		size_t width = 0;

		strbuf_printf(out, ";\r\n %s*%zu*=%s", name, piece, piece == 0 ? "utf-8''" : "");
		while (i < len && width < 48) {
			size_t n = str_utf8_char_len(value + i, len - i);

			if (n == 0)
				n = 1;
			for (size_t k = 0; k < n; k++) {
				unsigned char c = (unsigned char)value[i + k];
				if (is_token_char(c) && c != '%' && c != '\'' && c != '*') {
					strbuf_append_c(out, (char)c);
					width++;
				} else {
					strbuf_printf(out, "%%%02X", c);
					width += 3;
				}
			}
			i += n;
		}
		piece++;
	}
}

/* ---- transfer encodings ---- */

void compose_base64(struct strbuf *out, const void *data, size_t len)
{
	const unsigned char *p = data;
	char line[80];

	for (size_t i = 0; i < len; i += 57) {
		size_t n = len - i < 57 ? len - i : 57;

		base64_encode(p + i, n, line);
		strbuf_append_str(out, line);
		strbuf_append_str(out, "\r\n");
	}
}

static void qp_line(struct strbuf *out, const unsigned char *s, size_t len)
{
	size_t col = 0;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = s[i];
		bool last = i + 1 == len;
		bool plain = (c >= 33 && c <= 126 && c != '=') || ((c == ' ' || c == '\t') && !last);
		size_t w = plain ? 1 : 3;

		/* room for the soft break's "=" unless this is the line's end */
		if (col + w > (last ? 76 : 75)) {
			strbuf_append_str(out, "=\r\n");
			col = 0;
		}
		if (plain)
			strbuf_append_c(out, (char)c);
		else
			strbuf_printf(out, "=%02X", c);
		col += w;
	}
}

void compose_qp(struct strbuf *out, const char *data, size_t len)
{
	size_t i = 0;

	while (i < len) {
		const char *nl = memchr(data + i, '\n', len - i);
		size_t end = nl != NULL ? (size_t)(nl - data) : len;
		size_t body = end > i && data[end - 1] == '\r' ? end - 1 : end;

		qp_line(out, (const unsigned char *)data + i, body - i);
		if (nl != NULL)
			strbuf_append_str(out, "\r\n");
		i = end + (nl != NULL);
	}
}

/* ---- format=flowed ---- */

/* Bytes of s that hold at most max characters. */
static size_t utf8_prefix(const char *s, size_t len, size_t max)
{
	size_t i = 0, chars = 0;

	while (i < len && chars < max) {
		size_t n = str_utf8_char_len(s + i, len - i);
		i += n > 0 ? n : 1;
		chars++;
	}
	return i;
}

static void flowed_line(struct strbuf *out, const char *s, size_t len)
{
	bool quote = len > 0 && s[0] == '>';

	while (len > 0 && s[len - 1] == ' ')
		len--;	/* a trailing space would mark a soft break */
	if (!quote && len > 0 && (s[0] == ' ' || (len >= 5 && memcmp(s, "From ", 5) == 0)))
		strbuf_append_c(out, ' ');
	while (!quote && utf8_prefix(s, len, LINE_SOFT) < len) {
		size_t cut = utf8_prefix(s, len, LINE_SOFT), sp = cut;

		while (sp > 0 && s[sp - 1] != ' ')
			sp--;
		if (sp == 0) {	/* no space: wrap after the first space beyond */
			const char *next = memchr(s + cut, ' ', len - cut);
			if (next == NULL)
				break;
			sp = (size_t)(next - s) + 1;
		}
		strbuf_append(out, s, sp);	/* ends in the space: a soft break */
		strbuf_append_str(out, "\r\n");
		s += sp;
		len -= sp;
		if (len > 0 && (s[0] == ' ' || (len >= 5 && memcmp(s, "From ", 5) == 0)))
			strbuf_append_c(out, ' ');
	}
	strbuf_append(out, s, len);
}

void compose_flowed(struct strbuf *out, const char *in, size_t len)
{
	size_t i = 0;

	while (i < len) {
		const char *nl = memchr(in + i, '\n', len - i);
		size_t end = nl != NULL ? (size_t)(nl - in) : len;
		size_t body = end > i && in[end - 1] == '\r' ? end - 1 : end;

		flowed_line(out, in + i, body - i);
		if (nl != NULL)
			strbuf_append_str(out, "\r\n");
		i = end + (nl != NULL);
	}
}
