#ifndef YUBIN_LIB_STR_H
#define YUBIN_LIB_STR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Copies src into dst of size dstsize, always NUL-terminating.
 * Returns -1 (and copies nothing useful) when src does not fit. */
int str_copy(char *dst, size_t dstsize, const char *src);
/* As str_copy for a counted string. */
int str_copyn(char *dst, size_t dstsize, const char *src, size_t len);
void str_lower(char *s);
bool str_has_prefix_ci(const char *s, const char *prefix);
bool str_eq_ci(const char *a, const char *b);
/* Trims ASCII white space in place at both ends; returns s moved past
 * leading blanks. */
char *str_trim(char *s);
/* Parses a non-negative decimal integer with an optional K/M/G suffix
 * (powers of 1024) into *value_r. Returns 0 or -1. */
int str_parse_size(const char *s, uint64_t *value_r);
/* Parses a plain decimal unsigned number that must fill the whole string. */
int str_parse_uint(const char *s, uint64_t max, uint64_t *value_r);
/* Base64 (RFC 4648, standard alphabet): the one decoder. Strict by
 * default: whole quanta, at most two '=' and only at the end, nothing
 * outside the alphabet. BASE64_SKIP_FWS skips SP, HTAB, CR and LF
 * anywhere (DKIM's base64string, RFC 6376 2.4). BASE64_LENIENT is MIME's
 * decoder (RFC 2045 6.8): white space and other characters outside the
 * alphabet are skipped (those others counted in *bad_r), the data ends at
 * the first '=', and a final partial quantum gives what bytes it holds.
 * Returns the decoded length, or -1 on malformed input or when out
 * (outsize bytes) is too small. */
#define BASE64_SKIP_FWS 1u
#define BASE64_LENIENT 2u
long base64_decode_opts(const char *in, size_t len, unsigned char *out, size_t outsize, unsigned flags,
			size_t *bad_r);
/* Strict, into out of at least len*3/4+3 bytes. */
long base64_decode(const char *in, size_t len, unsigned char *out);
/* encode writes NUL-terminated text; out must hold 4*((len+2)/3)+1 bytes. */
void base64_encode(const unsigned char *in, size_t len, char *out);
/* Length (1-4) of the well-formed UTF-8 character at p (len > 0 bytes
 * there), or 0 when it is none (RFC 3629: no overlong forms, no
 * surrogates, nothing past U+10FFFF, no truncated sequence). */
size_t str_utf8_char_len(const void *p, size_t len);
/* A random identifier of len-1 characters from [0-9a-z]. */
void str_random_id(char *out, size_t len);

#endif
