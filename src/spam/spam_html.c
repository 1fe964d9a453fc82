/* HTML to text for the tokenizer: tags dropped (block tags become
 * spaces), entities decoded, script/style/comments skipped; links, images
 * and hidden-text tricks are noted. Tolerant: any bytes give some text. */
#include "spam/spam_internal.h"

#include <string.h>
#include <strings.h>

static const struct {
	const char *name;
	unsigned int cp;
} spam_entities[] = {
	{ "amp", '&' }, { "lt", '<' }, { "gt", '>' }, { "quot", '"' }, { "apos", '\'' },
	{ "nbsp", ' ' }, { "copy", 0xa9 }, { "reg", 0xae }, { "trade", 0x2122 },
	{ "euro", 0x20ac }, { "pound", 0xa3 }, { "yen", 0xa5 }, { "middot", 0xb7 },
	{ "mdash", 0x2014 }, { "ndash", 0x2013 }, { "hellip", 0x2026 },
};

static void spam_put_cp(struct strbuf *out, unsigned long cp)
{
	char b[4];

	if (cp == 0 || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		cp = ' ';
	if (cp < 0x80) {
		strbuf_append_c(out, (char)cp);
		return;
	}
	if (cp < 0x800) {
		b[0] = (char)(0xc0 | (cp >> 6));
		b[1] = (char)(0x80 | (cp & 0x3f));
		strbuf_append(out, b, 2);
	} else if (cp < 0x10000) {
		b[0] = (char)(0xe0 | (cp >> 12));
		b[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		b[2] = (char)(0x80 | (cp & 0x3f));
		strbuf_append(out, b, 3);
	} else {
		b[0] = (char)(0xf0 | (cp >> 18));
		b[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
		b[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
		b[3] = (char)(0x80 | (cp & 0x3f));
		strbuf_append(out, b, 4);
	}
}

/* An entity at s ('&' first); returns the bytes it took (1 when it is not
 * one: the '&' is kept as it is). */
static size_t spam_entity(const char *s, size_t len, struct strbuf *out)
{
	size_t i = 1;
	unsigned long cp = 0;

	if (i < len && s[i] == '#') {
		bool hex = i + 1 < len && (s[i + 1] == 'x' || s[i + 1] == 'X');
		size_t digits = 0;

		for (i += hex ? 2 : 1; i < len && digits < 8; i++, digits++) {
			char ch = s[i];
			unsigned v;

			if (ch >= '0' && ch <= '9')
				v = (unsigned)(ch - '0');
			else if (hex && ((ch | 32) >= 'a' && (ch | 32) <= 'f'))
				v = (unsigned)((ch | 32) - 'a' + 10);
			else
				break;
			cp = cp * (hex ? 16 : 10) + v;
		}
		if (digits == 0)
			goto literal;
		if (i < len && s[i] == ';')
			i++;
		spam_put_cp(out, cp);
		return i;
	}
	for (size_t e = 0; e < sizeof(spam_entities) / sizeof(spam_entities[0]); e++) {
		size_t n = strlen(spam_entities[e].name);

		if (1 + n <= len && strncmp(s + 1, spam_entities[e].name, n) == 0) {
			i = 1 + n;
			if (i < len && s[i] == ';')
				i++;
			spam_put_cp(out, spam_entities[e].cp);
			return i;
		}
	}
literal:
	strbuf_append_c(out, '&');
	return 1;
}

/* The value of attribute name (lowercase) in the tag text, or NULL. */
static const char *spam_attr(const char *tag, size_t len, const char *name, size_t *vlen_r)
{
	size_t n = strlen(name);

	for (size_t i = 1; i + n < len; i++) {
		const char *v;
		char quote = 0;

		if (strncasecmp(tag + i, name, n) != 0 || (tag[i - 1] != ' ' && tag[i - 1] != '\t' &&
							  tag[i - 1] != '\n' && tag[i - 1] != '\r'))
			continue;
		size_t j = i + n;
		while (j < len && (tag[j] == ' ' || tag[j] == '\t'))
			j++;
		if (j >= len || tag[j] != '=')
			continue;
		for (j++; j < len && (tag[j] == ' ' || tag[j] == '\t'); j++)
			;
		if (j < len && (tag[j] == '"' || tag[j] == '\''))
			quote = tag[j++];
		v = tag + j;
		while (j < len && (quote ? tag[j] != quote : (tag[j] != ' ' && tag[j] != '>')))
			j++;
		*vlen_r = (size_t)(tag + j - v);
		return v;
	}
	return NULL;
}

static bool spam_contains(const char *s, size_t len, const char *needle)
{
	size_t n = strlen(needle);

	for (size_t i = 0; i + n <= len; i++) {
		if (strncasecmp(s + i, needle, n) == 0)
			return true;
	}
	return false;
}

/* One tag (from '<' to '>' excluded): notes links, images, hidden styles. */
static void spam_tag(struct spam_tok_ctx *c, const char *tag, size_t len, const char *name,
		     size_t name_len, struct spam_html_info *info)
{
	const char *v;
	size_t vlen;

	info->tags++;
	if (name_len == 1 && name[0] == 'a') {
		if ((v = spam_attr(tag, len, "href", &vlen)) != NULL) {
			info->links++;
			spam_text_urls(c, v, vlen);
		}
	} else if ((name_len == 3 && strncasecmp(name, "img", 3) == 0)) {
		info->images++;
		if ((v = spam_attr(tag, len, "src", &vlen)) != NULL)
			spam_text_urls(c, v, vlen);
	}
	if ((v = spam_attr(tag, len, "style", &vlen)) != NULL &&
	    (spam_contains(v, vlen, "display:none") || spam_contains(v, vlen, "visibility:hidden") ||
	     spam_contains(v, vlen, "font-size:0") || spam_contains(v, vlen, "font-size:1px")))
		info->hidden = true;
	if (name_len == 4 && strncasecmp(name, "font", 4) == 0 &&
	    (v = spam_attr(tag, len, "size", &vlen)) != NULL && vlen >= 1 &&
	    (v[0] == '0' || (v[0] == '1' && vlen == 1) || v[0] == '-'))
		info->hidden = true;
	if (name_len > 0 && name_len <= 10) {
		char buf[16];

		for (size_t i = 0; i < name_len; i++)
			buf[i] = (char)((name[i] >= 'A' && name[i] <= 'Z') ? name[i] + 32 : name[i]);
		spam_tokens_add(c->t, "html:", buf, name_len);
	}
}

/* Skips the content of a script or style element; returns the index after
 * its end tag (or len). */
static size_t spam_skip_element(const char *html, size_t len, size_t i, const char *name)
{
	size_t n = strlen(name);

	for (; i + 2 + n <= len; i++) {
		if (html[i] == '<' && html[i + 1] == '/' && strncasecmp(html + i + 2, name, n) == 0)
			return i;
	}
	return len;
}

void spam_html_to_text(struct spam_tok_ctx *c, const char *html, size_t len, struct strbuf *out,
		       struct spam_html_info *info)
{
	size_t i = 0;

	while (i < len) {
		char ch = html[i];

		if (ch == '&') {
			i += spam_entity(html + i, len - i, out);
			continue;
		}
		if (ch != '<') {
			size_t j = i + 1;

			/* plain text runs to the next markup, in one piece */
			while (j < len && html[j] != '<' && html[j] != '&')
				j++;
			strbuf_append(out, html + i, j - i);
			i = j;
			continue;
		}
		if (i + 4 <= len && strncmp(html + i, "<!--", 4) == 0) {
			const char *end = memmem(html + i + 4, len - i - 4, "-->", 3);

			info->comments++;
			i = end != NULL ? (size_t)(end - html) + 3 : len;
			continue;
		}
		/* "a < b" is text: markup starts with a letter, '/', '!' or '?' */
		char next = i + 1 < len ? html[i + 1] : ' ';
		if (!((next | 32) >= 'a' && (next | 32) <= 'z') && next != '/' && next != '!' && next != '?') {
			strbuf_append_c(out, '<');
			i++;
			continue;
		}
		const char *gt = memchr(html + i, '>', len - i);
		if (gt == NULL) {
			/* an unclosed tag: the rest is text, noted */
			info->bad_tags = true;
			strbuf_append(out, html + i + 1, len - i - 1);
			break;
		}
		size_t tlen = (size_t)(gt - (html + i)), nstart = i + 1, nend;
		if (nstart < len && html[nstart] == '/')
			nstart++;
		for (nend = nstart; nend < i + tlen && ((html[nend] | 32) >= 'a' && (html[nend] | 32) <= 'z');
		     nend++)
			;
		if (nend < i + tlen && html[nend] >= '0' && html[nend] <= '9')
			nend++;	/* h1..h6 */
		spam_tag(c, html + i, tlen, html + nstart, nend - nstart, info);
		strbuf_append_c(out, ' ');
		i += tlen + 1;
		if (html[nstart - 1] != '/' && nend - nstart == 6 && strncasecmp(html + nstart, "script", 6) == 0)
			i = spam_skip_element(html, len, i, "script");
		else if (html[nstart - 1] != '/' && nend - nstart == 5 &&
			 strncasecmp(html + nstart, "style", 5) == 0)
			i = spam_skip_element(html, len, i, "style");
	}
}
