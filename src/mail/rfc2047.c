#include "mail/rfc2047.h"
#include "mail/charset.h"
#include "mail/mime_decode.h"

#include <stdbool.h>
#include <string.h>

#define CHARSET_MAX 64
/* RFC 2047 allows 75 bytes per word; senders exceed it, but a bound keeps
 * decoding linear on hostile input. */
#define WORD_MAX 2000

struct encoded_word {
	char charset[CHARSET_MAX];
	char encoding;		/* 'B' or 'Q' */
	const char *text;
	size_t text_len;
	size_t size;		/* whole "=?...?=" */
};

/* Parses "=?charset[*lang]?B|Q?text?=" at p; returns false if malformed. */
static bool word_parse(const char *p, size_t len, struct encoded_word *w)
{
	size_t i = 2, cs_start = 2, cs_len, t;

	if (len < 8 || p[0] != '=' || p[1] != '?')
		return false;
	while (i < len && i < CHARSET_MAX + 2 && p[i] != '?' && (unsigned char)p[i] > ' ' &&
	       (unsigned char)p[i] < 127)
		i++;
	if (i >= len || p[i] != '?' || i == cs_start)
		return false;
	cs_len = i - cs_start;
	if (i + 3 >= len || p[i + 2] != '?')
		return false;
	w->encoding = (char)(p[i + 1] & ~0x20);
	if (w->encoding != 'B' && w->encoding != 'Q')
		return false;
	t = i + 3;
	w->text = p + t;
	if (len > WORD_MAX)
		len = WORD_MAX;
	while (t + 1 < len && !(p[t] == '?' && p[t + 1] == '=')) {
		if ((unsigned char)p[t] <= ' ' || (unsigned char)p[t] >= 127)
			return false;
		t++;
	}
	if (t + 1 >= len)
		return false;
	w->text_len = (size_t)(p + t - w->text);
	w->size = t + 2;
	/* RFC 2231 language suffix: charset*lang */
	for (size_t k = 0; k < cs_len; k++) {
		if (p[cs_start + k] == '*') {
			cs_len = k;
			break;
		}
	}
	if (cs_len == 0 || cs_len >= CHARSET_MAX)
		return false;
	memcpy(w->charset, p + cs_start, cs_len);
	w->charset[cs_len] = '\0';
	return true;
}

/* Raw text outside encoded words. */
static void append_raw(const char *p, size_t len, struct strbuf *out)
{
	if (memchr(p, 0x1B, len) != NULL)
		charset_to_utf8("iso-2022-jp", p, len, out);
	else
		charset_utf8_append_valid(out, p, len);
}

struct pending {
	char charset[CHARSET_MAX];
	struct strbuf bytes;
};

static void pending_flush(struct pending *pend, struct strbuf *out)
{
	if (pend->bytes.len > 0)
		charset_to_utf8(pend->charset, pend->bytes.data, pend->bytes.len, out);
	strbuf_truncate(&pend->bytes, 0);
	pend->charset[0] = '\0';
}

void rfc2047_decode(const char *value, size_t len, struct strbuf *out)
{
	struct strbuf unfolded = STRBUF_INIT;
	struct pending pend = { "", STRBUF_INIT };
	const char *p;
	size_t n, i = 0, raw_start = 0, gap_start = 0;
	bool after_word = false;

	/* folding first, so words split over lines join; blanks around the
	 * value are not part of it */
	while (len > 0 && (value[0] == ' ' || value[0] == '\t' || value[0] == '\r' ||
			   value[0] == '\n')) {
		value++;
		len--;
	}
	while (len > 0 && (value[len - 1] == ' ' || value[len - 1] == '\t' ||
			   value[len - 1] == '\r' || value[len - 1] == '\n'))
		len--;
	for (size_t k = 0; k < len; k++) {
		if (value[k] == '\n' && k + 1 < len && value[k + 1] != ' ' && value[k + 1] != '\t')
			strbuf_append_c(&unfolded, '\n');	/* a new field, not folding */
		else if (value[k] != '\r' && value[k] != '\n')
			strbuf_append_c(&unfolded, value[k]);
	}
	p = strbuf_cstr(&unfolded);
	n = unfolded.len;
	while (i < n) {
		struct encoded_word w;

		if (p[i] != '=' || i + 1 >= n || p[i + 1] != '?' || !word_parse(p + i, n - i, &w)) {
			if (after_word && p[i] != ' ' && p[i] != '\t') {
				after_word = false;
				raw_start = gap_start;
			}
			i++;
			continue;
		}
		if (!after_word) {
			pending_flush(&pend, out);
			append_raw(p + raw_start, i - raw_start, out);
		}
		if (strcasecmp(w.charset, pend.charset) != 0) {
			pending_flush(&pend, out);
			memcpy(pend.charset, w.charset, sizeof(w.charset));
		}
		if (w.encoding == 'B')
			mime_base64_decode(w.text, w.text_len, &pend.bytes);
		else
			mime_q_decode(w.text, w.text_len, &pend.bytes);
		i += w.size;
		after_word = true;
		gap_start = i;
		raw_start = i;
	}
	pending_flush(&pend, out);
	if (!after_word)
		append_raw(p + raw_start, n - raw_start, out);
	strbuf_free(&pend.bytes);
	strbuf_free(&unfolded);
}
