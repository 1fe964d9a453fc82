/* Unit tests for src/lib/str.c: copies, trimming, number and size parsing,
 * base64. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "lib/str.h"

static void test_copy_fits(void **state)
{
	char buf[6];

	memset(buf, 'x', sizeof(buf));
	assert_int_equal(str_copy(buf, sizeof(buf), "hello"), 0);
	assert_string_equal(buf, "hello");
	assert_int_equal(str_copy(buf, sizeof(buf), ""), 0);
	assert_string_equal(buf, "");
}

static void test_copy_too_long(void **state)
{
	char buf[5];

	memset(buf, 'x', sizeof(buf));
	/* exactly the size: no room for the NUL */
	assert_int_equal(str_copy(buf, sizeof(buf), "hello"), -1);
	assert_string_equal(buf, "");
	assert_int_equal(str_copy(buf, 0, "a"), -1);
}

static void test_copyn_counted(void **state)
{
	char buf[8];

	assert_int_equal(str_copyn(buf, sizeof(buf), "abcdef", 3), 0);
	assert_string_equal(buf, "abc");
	/* embedded bytes past len are not read */
	assert_int_equal(str_copyn(buf, sizeof(buf), "ab\0cd", 2), 0);
	assert_string_equal(buf, "ab");
	assert_int_equal(str_copyn(buf, sizeof(buf), "12345678", 8), -1);
	assert_string_equal(buf, "");
	assert_int_equal(str_copyn(buf, sizeof(buf), "1234567", 7), 0);
	assert_string_equal(buf, "1234567");
}

static void test_lower_and_compare(void **state)
{
	char s[] = "MiXeD\xC3\x89-123";

	str_lower(s);
	/* 8-bit bytes are left alone */
	assert_string_equal(s, "mixed\xC3\x89-123");
	assert_true(str_has_prefix_ci("STARTTLS", "start"));
	assert_false(str_has_prefix_ci("STA", "start"));
	assert_true(str_has_prefix_ci("x", ""));
	assert_true(str_eq_ci("User@Example.TEST", "user@example.test"));
	assert_false(str_eq_ci("user@example.test", "user@example.tes"));
}

static void test_trim(void **state)
{
	char a[] = " \t\r\n value with  inner \t\r\n";
	char b[] = "";
	char c[] = " \t \r\n";
	char d[] = "x";

	assert_string_equal(str_trim(a), "value with  inner");
	assert_string_equal(str_trim(b), "");
	assert_string_equal(str_trim(c), "");
	assert_string_equal(str_trim(d), "x");
}

static void test_parse_uint(void **state)
{
	uint64_t v = 77;

	assert_int_equal(str_parse_uint("0", 10, &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(str_parse_uint("007", 10, &v), 0);
	assert_int_equal(v, 7);
	assert_int_equal(str_parse_uint("10", 10, &v), 0);
	assert_int_equal(v, 10);
	v = 77;
	assert_int_equal(str_parse_uint("11", 10, &v), -1);
	assert_int_equal(v, 77);	/* untouched on failure */
	assert_int_equal(str_parse_uint("", 10, &v), -1);
	assert_int_equal(str_parse_uint("+1", 10, &v), -1);
	assert_int_equal(str_parse_uint("-1", 10, &v), -1);
	assert_int_equal(str_parse_uint(" 1", 10, &v), -1);
	assert_int_equal(str_parse_uint("1 ", 10, &v), -1);
	assert_int_equal(str_parse_uint("1a", 10, &v), -1);
	assert_int_equal(str_parse_uint("0x10", 100, &v), -1);
	assert_int_equal(v, 77);
}

static void test_parse_uint_limits(void **state)
{
	uint64_t v;

	assert_int_equal(str_parse_uint("18446744073709551615", UINT64_MAX, &v), 0);
	assert_true(v == UINT64_MAX);
	assert_int_equal(str_parse_uint("18446744073709551616", UINT64_MAX, &v), -1);
	assert_int_equal(str_parse_uint("99999999999999999999999", UINT64_MAX, &v), -1);
	assert_int_equal(str_parse_uint("4294967295", UINT32_MAX, &v), 0);
	assert_true(v == UINT32_MAX);
	assert_int_equal(str_parse_uint("4294967296", UINT32_MAX, &v), -1);
	/* a maximum below 9: a single digit above it must be refused */
	assert_int_equal(str_parse_uint("5", 5, &v), 0);
	assert_int_equal(v, 5);
	assert_int_equal(str_parse_uint("7", 5, &v), -1);
	assert_int_equal(str_parse_uint("9", 0, &v), -1);
	assert_int_equal(str_parse_uint("0", 0, &v), 0);
	assert_int_equal(v, 0);
}

static void test_parse_size(void **state)
{
	uint64_t v = 0;

	assert_int_equal(str_parse_size("0", &v), 0);
	assert_true(v == 0);
	assert_int_equal(str_parse_size("1024", &v), 0);
	assert_true(v == 1024);
	assert_int_equal(str_parse_size("10K", &v), 0);
	assert_true(v == 10240);
	assert_int_equal(str_parse_size("10k", &v), 0);
	assert_true(v == 10240);
	assert_int_equal(str_parse_size("100M", &v), 0);
	assert_true(v == 100ULL * 1024 * 1024);
	assert_int_equal(str_parse_size("4g", &v), 0);
	assert_true(v == 4ULL << 30);
	/* the largest G value that fits, and one past it */
	assert_int_equal(str_parse_size("17179869183G", &v), 0);
	assert_true(v == 17179869183ULL << 30);
	assert_int_equal(str_parse_size("17179869184G", &v), -1);
	assert_int_equal(str_parse_size("18446744073709551615", &v), 0);
	assert_true(v == UINT64_MAX);
	v = 5;
	assert_int_equal(str_parse_size("", &v), -1);
	assert_int_equal(str_parse_size("K", &v), -1);
	assert_int_equal(str_parse_size("10KB", &v), -1);
	assert_int_equal(str_parse_size("10T", &v), -1);
	assert_int_equal(str_parse_size("1.5M", &v), -1);
	assert_int_equal(str_parse_size("-1M", &v), -1);
	assert_int_equal(str_parse_size(" 1M", &v), -1);
	assert_int_equal(str_parse_size("1 M", &v), -1);
	/* longer than the internal buffer */
	assert_int_equal(str_parse_size("00000000000000000000000000000001", &v), -1);
	assert_true(v == 5);
}

/* Decodes a NUL-terminated base64 string; returns the length or -1. */
static long b64(const char *in, unsigned char *out)
{
	return base64_decode(in, strlen(in), out);
}

static void test_base64_decode_vectors(void **state)
{
	/* RFC 4648 section 10 */
	static const char *const plain[] = { "", "f", "fo", "foo", "foob", "fooba", "foobar" };
	static const char *const enc[] = { "", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy" };
	unsigned char out[64];

	for (size_t i = 0; i < 7; i++) {
		long n = b64(enc[i], out);
		assert_int_equal(n, (long)strlen(plain[i]));
		assert_memory_equal(out, plain[i], (size_t)n);
	}
}

static void test_base64_decode_binary(void **state)
{
	unsigned char out[16];

	/* "\0user\0pass" as used by SASL PLAIN */
	assert_int_equal(b64("AHVzZXIAcGFzcw==", out), 10);
	assert_memory_equal(out, "\0user\0pass", 10);
	assert_int_equal(b64("/+/+", out), 3);
	assert_memory_equal(out, "\xff\xef\xfe", 3);
}

static void test_base64_decode_malformed(void **state)
{
	unsigned char out[64];

	assert_int_equal(b64("Zg=", out), -1);		/* not a multiple of 4 */
	assert_int_equal(b64("Zg", out), -1);
	assert_int_equal(b64("Z===", out), -1);		/* padding too early */
	assert_int_equal(b64("====", out), -1);
	assert_int_equal(b64("Zg=a", out), -1);		/* data after padding */
	assert_int_equal(b64("Zg==Zg==", out), -1);	/* padding in the middle */
	assert_int_equal(b64("Zm9v\r\n", out), -1);
	assert_int_equal(b64("Zm 9", out), -1);
	assert_int_equal(b64("Zm-_", out), -1);		/* URL alphabet is not accepted */
	assert_int_equal(base64_decode("Zm\0v", 4, out), -1);
	assert_int_equal(b64("Zm\xc3\xa9", out), -1);
}

/* The modes that replaced MIME's and DKIM's own decoders. */
static long b64o(const char *in, unsigned flags, size_t *bad, unsigned char *out, size_t outsize)
{
	return base64_decode_opts(in, strlen(in), out, outsize, flags, bad);
}

static void test_base64_skip_fws(void **state)
{
	unsigned char out[64];

	/* DKIM: FWS anywhere, even inside the padding; strict otherwise */
	assert_int_equal(b64o("Zm9v\r\n YmFy", BASE64_SKIP_FWS, NULL, out, sizeof(out)), 6);
	assert_memory_equal(out, "foobar", 6);
	assert_int_equal(b64o(" Z g = \t= ", BASE64_SKIP_FWS, NULL, out, sizeof(out)), 1);
	assert_int_equal(out[0], 'f');
	assert_int_equal(b64o("Zg = = =", BASE64_SKIP_FWS, NULL, out, sizeof(out)), -1);
	assert_int_equal(b64o("Zm9v!YmFy", BASE64_SKIP_FWS, NULL, out, sizeof(out)), -1);
	assert_int_equal(b64o("Zm 9", BASE64_SKIP_FWS, NULL, out, sizeof(out)), -1);	/* 3 of 4 */
	assert_int_equal(b64o("Zg==\r\nZg==", BASE64_SKIP_FWS, NULL, out, sizeof(out)), -1);
	assert_int_equal(b64o("Zm9v\v", BASE64_SKIP_FWS, NULL, out, sizeof(out)), -1);	/* VT is no FWS */
	assert_int_equal(b64o("", BASE64_SKIP_FWS, NULL, out, sizeof(out)), 0);
	assert_int_equal(b64o(" \r\n", BASE64_SKIP_FWS, NULL, out, sizeof(out)), 0);
}

static void test_base64_bounded_output(void **state)
{
	unsigned char out[8];

	assert_int_equal(b64o("Zm9vYmFy", 0, NULL, out, 6), 6);
	assert_int_equal(b64o("Zm9vYmFy", 0, NULL, out, 5), -1);
	assert_int_equal(b64o("Zm9vYmFy", BASE64_LENIENT, NULL, out, 5), -1);
	assert_int_equal(b64o("Zg==", 0, NULL, out, 0), -1);
	assert_int_equal(b64o("", 0, NULL, out, 0), 0);
}

static void test_base64_lenient(void **state)
{
	unsigned char out[64];
	size_t bad = 99;

	/* MIME: white space skipped, other junk counted, '=' ends the data */
	assert_int_equal(b64o("aGVs\r\nbG8gd29y\r\nbGQ=\r\n", BASE64_LENIENT, &bad, out, sizeof(out)), 11);
	assert_memory_equal(out, "hello world", 11);
	assert_int_equal(bad, 0);
	assert_int_equal(b64o("a!GV*sbG8=", BASE64_LENIENT, &bad, out, sizeof(out)), 5);
	assert_int_equal(bad, 2);
	assert_int_equal(b64o("aGVsbG8=garbage", BASE64_LENIENT, &bad, out, sizeof(out)), 5);
	assert_int_equal(bad, 0);
	assert_int_equal(b64o("aGVsbG8", BASE64_LENIENT, &bad, out, sizeof(out)), 5);	/* no padding */
	assert_int_equal(b64o("a", BASE64_LENIENT, &bad, out, sizeof(out)), 0);
	assert_int_equal(b64o("Zm9v\xc3\xa9YmFy", BASE64_LENIENT, &bad, out, sizeof(out)), 6);
	assert_int_equal(bad, 2);
	assert_int_equal(b64o("=Zm9v", BASE64_LENIENT, &bad, out, sizeof(out)), 0);
	assert_int_equal(b64o("Zm-_9v", BASE64_LENIENT, &bad, out, sizeof(out)), 3);	/* URL alphabet: junk */
	assert_int_equal(bad, 2);
}

static void test_utf8_char_len(void **state)
{
	assert_int_equal(str_utf8_char_len("a", 1), 1);
	assert_int_equal(str_utf8_char_len("\xc3\xa9", 2), 2);
	assert_int_equal(str_utf8_char_len("\xe9\x83\xb5", 3), 3);
	assert_int_equal(str_utf8_char_len("\xf4\x8f\xbf\xbf", 4), 4);	/* U+10FFFF */
	assert_int_equal(str_utf8_char_len("\xf4\x90\x80\x80", 4), 0);	/* past it */
	assert_int_equal(str_utf8_char_len("\xc0\xaf", 2), 0);		/* overlong */
	assert_int_equal(str_utf8_char_len("\xe0\x9f\xbf", 3), 0);		/* overlong */
	assert_int_equal(str_utf8_char_len("\xf0\x8f\xbf\xbf", 4), 0);	/* overlong */
	assert_int_equal(str_utf8_char_len("\xed\xa0\x80", 3), 0);		/* surrogate */
	assert_int_equal(str_utf8_char_len("\xe9\x83\xb5", 2), 0);		/* cut short */
	assert_int_equal(str_utf8_char_len("\x80", 1), 0);
	assert_int_equal(str_utf8_char_len("\xff", 1), 0);
	assert_int_equal(str_utf8_char_len("\xc3(", 2), 0);
}

static void test_base64_encode_vectors(void **state)
{
	static const char *const plain[] = { "", "f", "fo", "foo", "foob", "fooba", "foobar" };
	static const char *const enc[] = { "", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy" };
	char out[32];

	for (size_t i = 0; i < 7; i++) {
		memset(out, 'x', sizeof(out));
		base64_encode((const unsigned char *)plain[i], strlen(plain[i]), out);
		assert_string_equal(out, enc[i]);
	}
}

static void test_base64_roundtrip_all_bytes(void **state)
{
	unsigned char in[256], dec[256 + 3];
	char enc[4 * ((256 + 2) / 3) + 1];

	for (int i = 0; i < 256; i++)
		in[i] = (unsigned char)(255 - i);
	for (size_t len = 0; len <= sizeof(in); len++) {
		long n;

		base64_encode(in, len, enc);
		assert_int_equal(strlen(enc), 4 * ((len + 2) / 3));
		n = base64_decode(enc, strlen(enc), dec);
		assert_int_equal(n, (long)len);
		assert_memory_equal(dec, in, len);
	}
}

static void test_random_id(void **state)
{
	char a[17], b[17], tiny[1] = { 'x' };

	str_random_id(a, sizeof(a));
	str_random_id(b, sizeof(b));
	assert_int_equal(strlen(a), 16);
	assert_int_equal(strspn(a, "0123456789abcdefghijklmnopqrstuvwxyz"), 16);
	assert_string_not_equal(a, b);
	str_random_id(tiny, sizeof(tiny));
	assert_int_equal(tiny[0], '\0');
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_copy_fits),
		cmocka_unit_test(test_copy_too_long),
		cmocka_unit_test(test_copyn_counted),
		cmocka_unit_test(test_lower_and_compare),
		cmocka_unit_test(test_trim),
		cmocka_unit_test(test_parse_uint),
		cmocka_unit_test(test_parse_uint_limits),
		cmocka_unit_test(test_parse_size),
		cmocka_unit_test(test_base64_decode_vectors),
		cmocka_unit_test(test_base64_decode_binary),
		cmocka_unit_test(test_base64_decode_malformed),
		cmocka_unit_test(test_base64_skip_fws),
		cmocka_unit_test(test_base64_bounded_output),
		cmocka_unit_test(test_base64_lenient),
		cmocka_unit_test(test_utf8_char_len),
		cmocka_unit_test(test_base64_encode_vectors),
		cmocka_unit_test(test_base64_roundtrip_all_bytes),
		cmocka_unit_test(test_random_id),
	};

	return cmocka_run_group_tests_name("str", tests, NULL, NULL);
}
