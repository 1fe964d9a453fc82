/* HTML reduced to the text a reader sees, for searching (mail_text.h):
 * not a renderer, only tags out, block ends as line ends, character
 * references decoded, script and style skipped. Linear in the input. */
#include "mail/mail_text.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const struct {
	const char *name;
	uint32_t cp;
} entities[] = {
	{ "amp", '&' }, { "lt", '<' }, { "gt", '>' }, { "quot", '"' }, { "apos", '\'' },
	{ "nbsp", ' ' }, { "copy", 0xA9 }, { "reg", 0xAE }, { "yen", 0xA5 }, { "euro", 0x20AC },
	{ "hellip", 0x2026 }, { "mdash", 0x2014 }, { "ndash", 0x2013 }, { "laquo", 0xAB },
	{ "raquo", 0xBB }, { "middot", 0xB7 }, { "times", 0xD7 }, { "trade", 0x2122 },
	{ "lsquo", 0x2018 }, { "rsquo", 0x2019 }, { "ldquo", 0x201C }, { "rdquo", 0x201D },
	{ "bull", 0x2022 }, { "eacute", 0xE9 }, { "egrave", 0xE8 }, { "agrave", 0xE0 },
	{ "auml", 0xE4 }, { "ouml", 0xF6 }, { "uuml", 0xFC }, { "szlig", 0xDF },
};

static void put_utf8(struct strbuf *out, uint32_t cp)
{
	char b[4];

	if (cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
		cp = 0xFFFD;
	if (cp < 0x80) {
		strbuf_append_c(out, (char)cp);
	} else if (cp < 0x800) {
		b[0] = (char)(0xC0 | (cp >> 6));
		b[1] = (char)(0x80 | (cp & 0x3F));
		strbuf_append(out, b, 2);
	} else if (cp < 0x10000) {
		b[0] = (char)(0xE0 | (cp >> 12));
		b[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
		b[2] = (char)(0x80 | (cp & 0x3F));
		strbuf_append(out, b, 3);
	} else {
		b[0] = (char)(0xF0 | (cp >> 18));
		b[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
		b[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
		b[3] = (char)(0x80 | (cp & 0x3F));
		strbuf_append(out, b, 4);
	}
}

/* A character reference at in[0] == '&': its length, 0 when none. */
static size_t entity(const char *in, size_t len, struct strbuf *out)
{
	size_t i = 1;
	char name[12];

	if (i < len && in[i] == '#') {
		uint32_t cp = 0;
		bool hex = i + 1 < len && (in[i + 1] == 'x' || in[i + 1] == 'X');
		size_t start;

		i += hex ? 2 : 1;
		start = i;
		while (i < len && i - start < 8 &&
		       (hex ? strchr("0123456789abcdefABCDEF", in[i]) != NULL : in[i] >= '0' && in[i] <= '9') &&
		       in[i] != '\0') {
			char c = in[i];
			cp = cp * (hex ? 16 : 10) +
			     (uint32_t)(c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
			i++;
		}
		if (i == start)
			return 0;
		put_utf8(out, cp);
		return i < len && in[i] == ';' ? i + 1 : i;
	}
	while (i < len && i - 1 < sizeof(name) - 1 &&
	       ((in[i] >= 'a' && in[i] <= 'z') || (in[i] >= 'A' && in[i] <= 'Z'))) {
		name[i - 1] = in[i];
		i++;
	}
	name[i - 1] = '\0';
	for (size_t k = 0; k < sizeof(entities) / sizeof(entities[0]); k++) {
		if (i > 1 && strcmp(name, entities[k].name) == 0) {
			put_utf8(out, entities[k].cp);
			return i < len && in[i] == ';' ? i + 1 : i;
		}
	}
	return 0;
}

/* Is the tag at in (after '<' and an optional '/') name? */
static bool tag_is(const char *in, size_t len, const char *name)
{
	size_t n = strlen(name);

	return len > n && strncasecmp(in, name, n) == 0 &&
	       !((in[n] >= 'a' && in[n] <= 'z') || (in[n] >= 'A' && in[n] <= 'Z') || (in[n] >= '0' && in[n] <= '9'));
}

static bool tag_is_block(const char *in, size_t len)
{
	static const char *const blocks[] = { "br", "p", "div", "tr", "li", "h1", "h2", "h3", "h4", "h5",
					      "h6", "table", "blockquote", "pre", "hr", "ul", "ol", "td",
					      "th", "title", "dd", "dt" };

	for (size_t k = 0; k < sizeof(blocks) / sizeof(blocks[0]); k++) {
		if (tag_is(in, len, blocks[k]))
			return true;
	}
	return false;
}

/* Skips to after the closing tag of a raw-text element (script, style);
 * returns the new position. */
static size_t skip_raw(const char *in, size_t len, size_t i, const char *name)
{
	size_t n = strlen(name);

	for (; i + 2 + n <= len; i++) {
		if (in[i] == '<' && in[i + 1] == '/' && strncasecmp(in + i + 2, name, n) == 0) {
			const char *gt = memchr(in + i, '>', len - i);
			return gt != NULL ? (size_t)(gt - in) + 1 : len;
		}
	}
	return len;
}

void mail_text_html(const char *in, size_t len, struct strbuf *out)
{
	size_t i = 0;

	while (i < len) {
		if (in[i] == '<') {
			const char *gt;
			size_t t = i + 1;
			bool closing = t < len && in[t] == '/';

			if (len - i >= 4 && memcmp(in + i, "<!--", 4) == 0) {
				const char *end = memmem(in + i + 4, len - i - 4, "-->", 3);
				i = end != NULL ? (size_t)(end - in) + 3 : len;
				continue;
			}
			t += closing;
			if (t >= len || !((in[t] >= 'a' && in[t] <= 'z') || (in[t] >= 'A' && in[t] <= 'Z') ||
					  in[t] == '!' || in[t] == '?')) {
				strbuf_append_c(out, '<');	/* a lone '<' is text */
				i++;
				continue;
			}
			gt = memchr(in + t, '>', len - t);
			if (tag_is_block(in + t, len - t))
				strbuf_append_c(out, '\n');
			i = gt != NULL ? (size_t)(gt - in) + 1 : len;
			if (!closing && tag_is(in + t, len - t, "script"))
				i = skip_raw(in, len, i, "script");
			else if (!closing && tag_is(in + t, len - t, "style"))
				i = skip_raw(in, len, i, "style");
			continue;
		}
		if (in[i] == '&') {
			size_t n = entity(in + i, len - i, out);
			if (n > 0) {
				i += n;
				continue;
			}
		}
		strbuf_append_c(out, in[i]);
		i++;
	}
}
