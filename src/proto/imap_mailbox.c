/* Mailbox names: modified UTF-7 and INBOX. */
#include "proto/imap_mailbox.h"

#include <stdint.h>
#include <string.h>
#include <strings.h>

static const char b64chars[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";

static int b64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == ',')
		return 63;
	return -1;
}

static void utf8_put(struct strbuf *out, uint32_t cp)
{
	char b[4];
	size_t n;

	if (cp < 0x80) {
		b[0] = (char)cp;
		n = 1;
	} else if (cp < 0x800) {
		b[0] = (char)(0xc0 | (cp >> 6));
		b[1] = (char)(0x80 | (cp & 0x3f));
		n = 2;
	} else if (cp < 0x10000) {
		b[0] = (char)(0xe0 | (cp >> 12));
		b[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		b[2] = (char)(0x80 | (cp & 0x3f));
		n = 3;
	} else {
		b[0] = (char)(0xf0 | (cp >> 18));
		b[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
		b[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
		b[3] = (char)(0x80 | (cp & 0x3f));
		n = 4;
	}
	strbuf_append(out, b, n);
}

/* Decodes one UTF-8 sequence at in[*i]; returns the code point or -1. */
static int32_t utf8_next(const char *in, size_t len, size_t *i)
{
	const unsigned char *s = (const unsigned char *)in + *i;
	size_t left = len - *i, n;
	uint32_t cp, min;

	if (s[0] < 0x80) {
		(*i)++;
		return s[0];
	}
	if ((s[0] & 0xe0) == 0xc0) {
		n = 2, cp = s[0] & 0x1f, min = 0x80;
	} else if ((s[0] & 0xf0) == 0xe0) {
		n = 3, cp = s[0] & 0x0f, min = 0x800;
	} else if ((s[0] & 0xf8) == 0xf0) {
		n = 4, cp = s[0] & 0x07, min = 0x10000;
	} else {
		return -1;
	}
	if (left < n)
		return -1;
	for (size_t k = 1; k < n; k++) {
		if ((s[k] & 0xc0) != 0x80)
			return -1;
		cp = (cp << 6) | (s[k] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return -1;
	*i += n;
	return (int32_t)cp;
}

bool imap_utf8_is_valid(const char *in, size_t len)
{
	size_t i = 0;

	while (i < len) {
		if (utf8_next(in, len, &i) < 0)
			return false;
	}
	return true;
}

/* Decodes the base64 run of a shift starting at in[*i] (after "&") up to
 * and including its "-". */
static int mutf7_shift_decode(const char *in, size_t len, size_t *i, struct strbuf *out)
{
	uint32_t bits = 0, high = 0;
	unsigned nbits = 0;
	size_t units = 0;

	for (;; (*i)++) {
		int v;

		if (*i >= len)
			return -1;
		if (in[*i] == '-')
			break;
		v = b64_value((unsigned char)in[*i]);
		if (v < 0)
			return -1;
		bits = (bits << 6) | (uint32_t)v;
		nbits += 6;
		if (nbits < 16)
			continue;
		nbits -= 16;
		uint32_t u = (bits >> nbits) & 0xffff;

		bits &= (1u << nbits) - 1;
		units++;
		if (high != 0) {
			if (u < 0xdc00 || u > 0xdfff)
				return -1;
			utf8_put(out, 0x10000 + ((high - 0xd800) << 10) + (u - 0xdc00));
			high = 0;
		} else if (u >= 0xd800 && u <= 0xdbff) {
			high = u;
		} else if ((u >= 0xdc00 && u <= 0xdfff) || (u >= 0x20 && u <= 0x7e)) {
			return -1;	/* lone low surrogate, or ASCII that must be direct */
		} else {
			utf8_put(out, u);
		}
	}
	(*i)++;
	if (units == 0 || high != 0 || nbits >= 6 || bits != 0)
		return -1;
	return 0;
}

int imap_mutf7_to_utf8(const char *in, size_t len, struct strbuf *out)
{
	size_t i = 0;

	while (i < len) {
		unsigned char c = (unsigned char)in[i];

		if (c < 0x20 || c >= 0x7f)
			return -1;
		if (c != '&') {
			strbuf_append_c(out, (char)c);
			i++;
		} else if (i + 1 < len && in[i + 1] == '-') {
			strbuf_append_c(out, '&');
			i += 2;
		} else {
			i++;
			if (mutf7_shift_decode(in, len, &i, out) < 0)
				return -1;
		}
	}
	return 0;
}

static void b64_flush_unit(struct strbuf *out, uint32_t unit, uint32_t *bits, unsigned *nbits)
{
	*bits = (*bits << 16) | unit;
	*nbits += 16;
	while (*nbits >= 6) {
		*nbits -= 6;
		strbuf_append_c(out, b64chars[(*bits >> *nbits) & 0x3f]);
	}
	*bits &= (1u << *nbits) - 1;
}

int imap_utf8_to_mutf7(const char *in, size_t len, struct strbuf *out)
{
	size_t i = 0;

	while (i < len) {
		unsigned char c = (unsigned char)in[i];
		uint32_t bits = 0;
		unsigned nbits = 0;

		if (c >= 0x20 && c <= 0x7e) {
			strbuf_append_str(out, c == '&' ? "&-" : (char[]){ (char)c, 0 });
			i++;
			continue;
		}
		strbuf_append_c(out, '&');
		while (i < len && !((unsigned char)in[i] >= 0x20 && (unsigned char)in[i] <= 0x7e)) {
			int32_t cp = utf8_next(in, len, &i);

			if (cp < 0)
				return -1;
			if (cp >= 0x10000) {
				b64_flush_unit(out, 0xd800 + (((uint32_t)cp - 0x10000) >> 10), &bits,
					       &nbits);
				b64_flush_unit(out, 0xdc00 + (((uint32_t)cp - 0x10000) & 0x3ff), &bits,
					       &nbits);
			} else {
				b64_flush_unit(out, (uint32_t)cp, &bits, &nbits);
			}
		}
		if (nbits > 0)
			strbuf_append_c(out, b64chars[(bits << (6 - nbits)) & 0x3f]);
		strbuf_append_c(out, '-');
	}
	return 0;
}

bool imap_mailbox_is_inbox(const char *name)
{
	return strcasecmp(name, "INBOX") == 0;
}

void imap_mailbox_name_normalize(char *name, char sep)
{
	if (strncasecmp(name, "INBOX", 5) == 0 && (name[5] == '\0' || name[5] == sep))
		memcpy(name, "INBOX", 5);
}

int imap_mailbox_decode(const char *raw, size_t len, bool utf8, char sep, struct strbuf *out,
			const char **error_r)
{
	size_t start = out->len;

	if (len == 0) {
		*error_r = "Empty mailbox name";
		return -1;
	}
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)raw[i];

		if (c < 0x20 || c == 0x7f) {
			*error_r = "Control characters in mailbox name";
			return -1;
		}
	}
	if (utf8) {
		if (!imap_utf8_is_valid(raw, len)) {
			*error_r = "Mailbox name is not valid UTF-8";
			return -1;
		}
		strbuf_append(out, raw, len);
	} else if (imap_mutf7_to_utf8(raw, len, out) < 0) {
		strbuf_truncate(out, start);
		*error_r = "Mailbox name is not valid modified UTF-7";
		return -1;
	}
	imap_mailbox_name_normalize(out->data + start, sep);
	return 0;
}
