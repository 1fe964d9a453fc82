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

static int b64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z') return c - 'A';
	if (c >= 'a' && c <= 'z') return c - 'a' + 26;
	if (c >= '0' && c <= '9') return c - '0' + 52;
	if (c == '+') return 62;
	if (c == '/') return 63;
	return -1;
}

long base64_decode(const char *in, size_t len, unsigned char *out)
{
	unsigned long acc = 0;
	int bits = 0, pad = 0;
	long n = 0;

	if (len % 4 != 0)
		return -1;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)in[i];
		int v;

		if (c == '=') {
			/* Padding only in the last two positions. */
			if (i < len - 2)
				return -1;
			pad++;
			continue;
		}
		if (pad > 0 || (v = b64_value(c)) < 0)
			return -1;
		acc = (acc << 6) | (unsigned long)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[n++] = (unsigned char)(acc >> bits);
		}
	}
	return n;
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
