/* Unit tests for src/mail/rfc2047.c and src/mail/mime_decode.c: encoded
 * words (B, Q, Japanese charsets, joining, malformed words), raw
 * ISO-2022-JP headers, quoted-printable and base64 bodies. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "mail/mime_decode.h"
#include "mail/rfc2047.h"

static void check(const char *in, const char *expected)
{
	struct strbuf out = STRBUF_INIT;

	rfc2047_decode(in, strlen(in), &out);
	assert_string_equal(strbuf_cstr(&out), expected);
	strbuf_free(&out);
}

static void test_japanese_subject(void **state)
{
	/* 日本語の件名 in ISO-2022-JP, as Japanese mailers send it */
	check("=?ISO-2022-JP?B?GyRCRnxLXDhsJE43b0w+GyhC?=", "日本語の件名");
	check("=?iso-2022-jp?b?GyRCRnxLXDhsJE43b0w+GyhC?=", "日本語の件名");
	/* split over two words and a folded line: joined, blanks dropped */
	check("=?ISO-2022-JP?B?GyRCRnxLXBsoQg==?=\r\n =?ISO-2022-JP?B?GyRCOGwkTjdvTD4bKEI=?=",
	      "日本語の件名");
	/* Shift_JIS and EUC-JP, B and Q */
	check("=?Shift_JIS?B?k/qWe4zq?=", "日本語");
	check("=?EUC-JP?Q?=C6=FC=CB=DC=B8=EC?=", "日本語");
	/* a UTF-8 character split across two words */
	check("=?UTF-8?B?5pel?= =?UTF-8?Q?=E6=9C?= =?UTF-8?Q?=AC?=", "日本");
	/* NEC special characters (CP932 extensions) in ISO-2022-JP */
	check("=?ISO-2022-JP?B?GyRCLSEbKEI=?=", "①");
	/* raw ISO-2022-JP without encoded words */
	check("\x1b$BF|K\\8l\x1b(B test", "日本語 test");
}

static void test_words(void **state)
{
	check("=?US-ASCII?Q?Keith_Moore?= <moore@cs.utk.edu>", "Keith Moore <moore@cs.utk.edu>");
	check("=?ISO-8859-1?Q?Andr=E9?= Pirard <PIRARD@vm1.ulg.ac.be>", "André Pirard <PIRARD@vm1.ulg.ac.be>");
	/* RFC 2047 section 8 examples */
	check("(=?ISO-8859-1?Q?a?=)", "(a)");
	check("(=?ISO-8859-1?Q?a?= b)", "(a b)");
	check("(=?ISO-8859-1?Q?a?= =?ISO-8859-1?Q?b?=)", "(ab)");
	check("(=?ISO-8859-1?Q?a?=  =?ISO-8859-1?Q?b?=)", "(ab)");
	check("(=?ISO-8859-1?Q?a?=\r\n    =?ISO-8859-1?Q?b?=)", "(ab)");
	check("(=?ISO-8859-1?Q?a_b?=)", "(a b)");
	check("(=?ISO-8859-1?Q?a?= =?ISO-8859-2?Q?_b?=)", "(a b)");
	/* language suffix (RFC 2231) */
	check("=?US-ASCII*EN?Q?Keith?=", "Keith");
	check("plain text", "plain text");
	check(" \r\n\t folded\r\n value \r\n", "folded value");
	check("Subject: =?UTF-8?B?5pel?=\r\nFrom: =?UTF-8?B?5pel?=\r\n =?UTF-8?B?5pel?=\r\n\r\n",
	      "Subject: 日\nFrom: 日日");
	check("", "");
}

static void test_malformed(void **state)
{
	check("=?", "=?");
	check("=?utf-8?", "=?utf-8?");
	check("=?utf-8?X?abc?=", "=?utf-8?X?abc?=");
	check("=?utf-8?Q?no end", "=?utf-8?Q?no end");
	check("=??Q?abc?=", "=??Q?abc?=");
	check("=?utf-8?Q?has space?=", "=?utf-8?Q?has space?=");
	check("a =?utf-8?Q?ok?= b =?bad", "a ok b =?bad");
	check("=?0123456789012345678901234567890123456789012345678901234567890123456789?Q?a?=",
	      "=?0123456789012345678901234567890123456789012345678901234567890123456789?Q?a?=");
	/* unknown charset: bytes kept, invalid UTF-8 replaced */
	check("=?x-unknown-cs?Q?a=FFb?=", "a\xef\xbf\xbd" "b");
	/* invalid raw 8-bit */
	check("a\xff\xfe", "a\xef\xbf\xbd\xef\xbf\xbd");
	/* a truncated ISO-2022-JP character */
	check("=?ISO-2022-JP?B?GyRCRg==?=", "\xef\xbf\xbd");
}

static void check_qp(const char *in, const char *expected, size_t bad)
{
	struct strbuf out = STRBUF_INIT;

	assert_int_equal(mime_qp_decode(in, strlen(in), &out), bad);
	assert_string_equal(strbuf_cstr(&out), expected);
	strbuf_free(&out);
}

static void check_b64(const char *in, const char *expected, size_t bad)
{
	struct strbuf out = STRBUF_INIT;

	assert_int_equal(mime_base64_decode(in, strlen(in), &out), bad);
	assert_string_equal(strbuf_cstr(&out), expected);
	strbuf_free(&out);
}

/* Many unterminated words in one long value stay linear. */
static void test_hostile_long(void **state)
{
	size_t n = 400000;
	char *in = malloc(n + 1);
	struct strbuf out = STRBUF_INIT;

	for (size_t i = 0; i < n; i++)
		in[i] = "=?a?Q?x"[i % 7];
	in[n] = '\0';
	rfc2047_decode(in, n, &out);
	assert_int_equal(out.len, n);
	strbuf_free(&out);
	free(in);
}

static void test_qp(void **state)
{
	check_qp("caf=C3=A9", "café", 0);
	check_qp("soft=\r\nbreak=\nx", "softbreakx", 0);
	check_qp("trailing   \r\nspace\t\nend  ", "trailing\r\nspace\nend", 0);
	check_qp("keep  inner", "keep  inner", 0);
	check_qp("bad =ZZ and =4", "bad =ZZ and =4", 2);
	check_qp("soft with blanks= \r\nx", "soft with blanksx", 0);
	check_qp("end=", "end", 0);
	check_qp("lower =e9", "lower \xe9", 0);
}

static int model_hex_value(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* The model: qp_decode of mime_decode.c as first written, a byte at a
 * time (q_mode turns '_' into a space and has no lines). The decoder
 * since copies runs of plain bytes in one piece; the output must not
 * change. */
static size_t model_qp_decode(const char *in, size_t len, struct strbuf *out, bool q_mode)
{
	size_t i = 0, bad = 0, blanks_start = 0;
	bool in_blanks = false;

	strbuf_reserve(out, len);
	while (i < len) {
		unsigned char c = (unsigned char)in[i];

		if (!q_mode && (c == ' ' || c == '\t')) {
			/* kept only if something other than a line end follows */
			if (!in_blanks) {
				in_blanks = true;
				blanks_start = i;
			}
			i++;
			continue;
		}
		if (in_blanks) {
			in_blanks = false;
			if (c != '\r' && c != '\n')
				strbuf_append(out, in + blanks_start, i - blanks_start);
		}
		if (c == '=') {
			int h, l;

			if (i + 2 < len && (h = model_hex_value((unsigned char)in[i + 1])) >= 0 &&
			    (l = model_hex_value((unsigned char)in[i + 2])) >= 0) {
				strbuf_append_c(out, (char)(h * 16 + l));
				i += 3;
				continue;
			}
			if (!q_mode) {
				/* soft line break: '=' then blanks then a line end */
				size_t j = i + 1;
				while (j < len && (in[j] == ' ' || in[j] == '\t'))
					j++;
				if (j < len && in[j] == '\r' && j + 1 < len && in[j + 1] == '\n') {
					i = j + 2;
					continue;
				}
				if (j < len && in[j] == '\n') {
					i = j + 1;
					continue;
				}
				if (j == len) {
					i = j;
					continue;
				}
			}
			bad++;
			strbuf_append_c(out, '=');
			i++;
			continue;
		}
		if (q_mode && c == '_')
			c = ' ';
		strbuf_append_c(out, (char)c);
		i++;
	}
	if (in_blanks && q_mode)
		strbuf_append(out, in + blanks_start, len - blanks_start);
	return bad;
}

/* Random QP and Q text (blanks before line ends of both kinds, soft
 * breaks, good and bad escapes, '_', 8-bit bytes) against the model,
 * also cut short at every length. */
static void test_qp_against_model(void **state)
{
	static const char *const pieces[] = {
		"abc", "x", " ", "  ", "\t", " \t", "\r\n", "\n", "\r", "=\r\n", "=\n", "= \t\r\n",
		"=", "=3D", "=e9", "=ZZ", "=4", "_", "\xc3\xa9", "\xff", "longer plain words here",
	};
	static char in[600];
	unsigned seed = 99;

	for (int round = 0; round < 3000; round++) {
		size_t len = 0, pieces_n;

		seed = seed * 1103515245u + 12345u;
		pieces_n = (seed >> 16) % 60;
		for (size_t k = 0; k < pieces_n; k++) {
			const char *f;

			seed = seed * 1103515245u + 12345u;
			f = pieces[(seed >> 16) % (sizeof(pieces) / sizeof(pieces[0]))];
			if (len + strlen(f) > sizeof(in))
				break;
			memcpy(in + len, f, strlen(f));
			len += strlen(f);
		}
		for (size_t cut = round < 200 ? 0 : len; cut <= len; cut++) {
			for (int q = 0; q < 2; q++) {
				struct strbuf want = STRBUF_INIT, got = STRBUF_INIT;
				size_t bad = model_qp_decode(in, cut, &want, q == 1);

				assert_int_equal(q == 1 ? mime_q_decode(in, cut, &got) : mime_qp_decode(in, cut, &got), bad);
				assert_int_equal(got.len, want.len);
				assert_memory_equal(strbuf_cstr(&got), strbuf_cstr(&want), want.len);
				strbuf_free(&want);
				strbuf_free(&got);
			}
		}
	}
}

static void test_base64(void **state)
{
	check_b64("aGVsbG8=", "hello", 0);
	check_b64("aGVs\r\nbG8gd29y\r\nbGQ=\r\n", "hello world", 0);
	check_b64("aGVsbG8", "hello", 0);
	check_b64("a!GV*sbG8=", "hello", 2);
	check_b64("aGVsbG8=garbage", "hello", 0);
	check_b64("", "", 0);
	check_b64("a", "", 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_japanese_subject),
		cmocka_unit_test(test_words),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_hostile_long),
		cmocka_unit_test(test_qp),
		cmocka_unit_test(test_qp_against_model),
		cmocka_unit_test(test_base64),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
