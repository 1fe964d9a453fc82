#include "lib/str.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

int str_copyn(char *dst, size_t dstsize, const char *src, size_t len)
{
	if (dstsize == 0)
		return -1;
	if (len >= dstsize) {
		dst[0] = '\0';
		return -1;
	}
	memcpy(dst, src, len);
	dst[len] = '\0';
	return 0;
}

int str_copy(char *dst, size_t dstsize, const char *src)
{
	return str_copyn(dst, dstsize, src, strlen(src));
}

void str_lower(char *s)
{
	for (; *s != '\0'; s++)
		*s = (char)tolower((unsigned char)*s);
}

bool str_has_prefix_ci(const char *s, const char *prefix)
{
	return strncasecmp(s, prefix, strlen(prefix)) == 0;
}

bool str_eq_ci(const char *a, const char *b)
{
	return strcasecmp(a, b) == 0;
}

char *str_trim(char *s)
{
	size_t len;

	while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
		s++;
	len = strlen(s);
	while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t' ||
			   s[len - 1] == '\r' || s[len - 1] == '\n'))
		s[--len] = '\0';
	return s;
}

int str_parse_uint(const char *s, uint64_t max, uint64_t *value_r)
{
	uint64_t v = 0;

	if (*s == '\0')
		return -1;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		if ((uint64_t)(*s - '0') > max || v > (max - (uint64_t)(*s - '0')) / 10)
			return -1;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	*value_r = v;
	return 0;
}

int str_parse_size(const char *s, uint64_t *value_r)
{
	char digits[32];
	size_t len = strlen(s);
	uint64_t mult = 1, v;

	if (len == 0 || len >= sizeof(digits))
		return -1;
	memcpy(digits, s, len + 1);
	switch (toupper((unsigned char)digits[len - 1])) {
	case 'K': mult = 1024ULL; break;
	case 'M': mult = 1024ULL * 1024; break;
	case 'G': mult = 1024ULL * 1024 * 1024; break;
	default: break;
	}
	if (mult != 1)
		digits[--len] = '\0';
	if (str_parse_uint(digits, UINT64_MAX / mult, &v) < 0)
		return -1;
	*value_r = v * mult;
	return 0;
}

static const char b64_alphabet[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Alphabet value + 1 of each ASCII byte, 0 for bytes outside it. A table
 * rather than comparisons: base64 bodies are decoded for every FETCH of
 * a part. */
static const unsigned char b64_table[128] = {
	 0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,
	 0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,
	 0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0, 63,  0,  0,  0, 64,
	53, 54, 55, 56, 57, 58, 59, 60, 61, 62,  0,  0,  0,  0,  0,  0,
	 0,  1,  2,  3,  4,  5,  6,  7,  8,  9, 10, 11, 12, 13, 14, 15,
	16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26,  0,  0,  0,  0,  0,
	 0, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41,
	42, 43, 44, 45, 46, 47, 48, 49, 50, 51, 52,  0,  0,  0,  0,  0,
};

static int b64_value(unsigned char c)
{
	return c < 128 ? b64_table[c] - 1 : -1;
}

static bool b64_is_fws(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

long base64_decode_opts(const char *in, size_t len, unsigned char *out, size_t outsize, unsigned flags,
			size_t *bad_r)
{
	const bool lenient = (flags & BASE64_LENIENT) != 0;
	const bool fws = lenient || (flags & BASE64_SKIP_FWS) != 0;
	unsigned long acc = 0;
	size_t sig = 0, pad = 0, bad = 0, n = 0;
	int bits = 0;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)in[i];
		int v = b64_value(c);

		if (v >= 0 && pad == 0) {
			acc = ((acc << 6) | (unsigned long)v) & 0xFFFFFF;
			bits += 6;
			sig++;
			if (bits >= 8) {
				bits -= 8;
				if (n == outsize)
					return -1;
				out[n++] = (unsigned char)(acc >> bits);
			}
			continue;
		}
		if (fws && b64_is_fws(c))
			continue;
		if (c == '=') {
			/* Lenient (RFC 2045 6.8): the data ends at the first pad. */
			if (lenient)
				break;
			pad++;
			sig++;
			continue;
		}
		if (!lenient)
			return -1;	/* outside the alphabet, or data after a pad */
		bad++;
	}
	if (bad_r != NULL)
		*bad_r = bad;
	if (!lenient && (sig % 4 != 0 || pad > 2))
		return -1;
	return (long)n;
}

long base64_decode(const char *in, size_t len, unsigned char *out)
{
	return base64_decode_opts(in, len, out, len / 4 * 3 + 3, 0, NULL);
}

void base64_encode(const unsigned char *in, size_t len, char *out)
{
	size_t i = 0, o = 0;

	for (; i + 2 < len; i += 3) {
		unsigned long v = ((unsigned long)in[i] << 16) | ((unsigned long)in[i + 1] << 8) | in[i + 2];
		out[o++] = b64_alphabet[(v >> 18) & 63];
		out[o++] = b64_alphabet[(v >> 12) & 63];
		out[o++] = b64_alphabet[(v >> 6) & 63];
		out[o++] = b64_alphabet[v & 63];
	}
	if (i < len) {
		unsigned long v = (unsigned long)in[i] << 16;
		if (i + 1 < len)
			v |= (unsigned long)in[i + 1] << 8;
		out[o++] = b64_alphabet[(v >> 18) & 63];
		out[o++] = b64_alphabet[(v >> 12) & 63];
		out[o++] = i + 1 < len ? b64_alphabet[(v >> 6) & 63] : '=';
		out[o++] = '=';
	}
	out[o] = '\0';
}

size_t str_utf8_char_len(const void *p, size_t len)
{
	const unsigned char *s = p;
	unsigned char c = s[0], lo = 0x80, hi = 0xbf;
	size_t n;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		n = 2;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4;
	else
		return 0;
	if (c == 0xe0)
		lo = 0xa0;	/* overlong */
	else if (c == 0xed)
		hi = 0x9f;	/* surrogates */
	else if (c == 0xf0)
		lo = 0x90;	/* overlong */
	else if (c == 0xf4)
		hi = 0x8f;	/* past U+10FFFF */
	if (len < n || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < n; i++) {
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	}
	return n;
}

void str_random_id(char *out, size_t len)
{
	static const char chars[] = "0123456789abcdefghijklmnopqrstuvwxyz";
	unsigned char rnd[64];

	if (len == 0)
		return;
	if (len - 1 > sizeof(rnd))
		len = sizeof(rnd) + 1;
	if (getrandom(rnd, len - 1, 0) != (ssize_t)(len - 1))
		abort();
	for (size_t i = 0; i + 1 < len; i++)
		out[i] = chars[rnd[i] % 36];
	out[len - 1] = '\0';
}
