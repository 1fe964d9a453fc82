/* Unit tests for src/policy/batv.c: prvs= signing against an independent
 * HMAC-SHA1 vector, verification, expiry, tampering and hostile tags. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "policy/batv.h"

static const unsigned char key[] = "0123456789abcdef";
#define KEYLEN 16
#define NOW 1795872000LL	/* 2026-11-28 13:20:00 UTC, day 20785 */
#define DAY 86400LL

static void test_sign_vector(void **state)
{
	char out[400];

	/* python3: hmac.new(b'0123456789abcdef', b'0792user@example.jp', sha1) */
	assert_int_equal(batv_sign("user@example.jp", 0, key, KEYLEN, NOW, out, sizeof(out)), 0);
	assert_string_equal(out, "prvs=07921809fa=user@example.jp");
	/* upper case is folded before signing */
	assert_int_equal(batv_sign("User@Example.JP", 0, key, KEYLEN, NOW, out, sizeof(out)), 0);
	assert_string_equal(out, "prvs=07921809fa=user@example.jp");
}

static void test_sign_refuses(void **state)
{
	char out[400];

	assert_int_equal(batv_sign("prvs=07921809fa=user@example.jp", 0, key, KEYLEN, NOW, out, sizeof(out)), -1);
	assert_int_equal(batv_sign("nodomain", 0, key, KEYLEN, NOW, out, sizeof(out)), -1);
	assert_int_equal(batv_sign("user@example.jp", 10, key, KEYLEN, NOW, out, sizeof(out)), -1);
	assert_int_equal(batv_sign("user@example.jp", 0, key, KEYLEN, NOW, out, 20), -1);
}

static void test_verify_roundtrip(void **state)
{
	char out[400], plain[200];
	char *at;

	for (unsigned k = 0; k < 10; k++) {
		assert_int_equal(batv_sign("taro.yamada@example.jp", k, key, KEYLEN, NOW, out, sizeof(out)), 0);
		at = strrchr(out, '@');
		*at = '\0';
		assert_int_equal(batv_verify(out, "example.jp", key, KEYLEN, NOW, plain, sizeof(plain)), BATV_VALID);
		assert_string_equal(plain, "taro.yamada");
		/* still valid on the 7th day, expired on the 8th */
		assert_int_equal(batv_verify(out, "example.jp", key, KEYLEN, NOW + 7 * DAY + 3600, plain,
					     sizeof(plain)), BATV_VALID);
		assert_int_equal(batv_verify(out, "example.jp", key, KEYLEN, NOW + 8 * DAY, plain,
					     sizeof(plain)), BATV_EXPIRED);
		assert_int_equal(batv_verify(out, "example.jp", key, KEYLEN, NOW + 400 * DAY, plain,
					     sizeof(plain)), BATV_EXPIRED);
	}
}

static void test_verify_case_insensitive(void **state)
{
	char plain[200];

	assert_int_equal(batv_verify("PRVS=07921809FA=USER", "Example.JP", key, KEYLEN, NOW, plain,
				     sizeof(plain)), BATV_VALID);
	assert_string_equal(plain, "user");
}

static void test_verify_tampered(void **state)
{
	char plain[200];
	const unsigned char other[] = "fedcba9876543210";

	/* another user, another domain, another day, another key number */
	assert_int_equal(batv_verify("prvs=07921809fa=usex", "example.jp", key, KEYLEN, NOW, plain,
				     sizeof(plain)), BATV_BAD);
	assert_int_equal(batv_verify("prvs=07921809fa=user", "example.com", key, KEYLEN, NOW, plain,
				     sizeof(plain)), BATV_BAD);
	assert_int_equal(batv_verify("prvs=07911809fa=user", "example.jp", key, KEYLEN, NOW, plain,
				     sizeof(plain)), BATV_BAD);
	assert_int_equal(batv_verify("prvs=17921809fa=user", "example.jp", key, KEYLEN, NOW, plain,
				     sizeof(plain)), BATV_BAD);
	assert_int_equal(batv_verify("prvs=07921809fb=user", "example.jp", key, KEYLEN, NOW, plain,
				     sizeof(plain)), BATV_BAD);
	assert_int_equal(batv_verify("prvs=07921809fa=user", "example.jp", other, KEYLEN, NOW, plain,
				     sizeof(plain)), BATV_BAD);
	/* no key at all */
	assert_int_equal(batv_verify("prvs=07921809fa=user", "example.jp", key, 0, NOW, plain,
				     sizeof(plain)), BATV_BAD);
}

static void test_parse_hostile(void **state)
{
	static const char *const bad[] = {
		"prvs=", "prvs==user", "prvs=0792=user", "prvs=07921809f=user", "prvs=07921809fax=user",
		"prvs=07921809fa=", "prvs=07921809fa", "prvs=x7921809fa=user", "prvs=07921809zz=user",
		"prvs=0792 1809f=user", "prvs=07921809fa\n=user",
	};
	char plain[200];
	unsigned k;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(batv_parse(bad[i], &k, plain, sizeof(plain)), BATV_MALFORMED);
	assert_int_equal(batv_parse("user", &k, plain, sizeof(plain)), BATV_NONE);
	assert_int_equal(batv_parse("prv=07921809fa=user", &k, plain, sizeof(plain)), BATV_NONE);
	assert_int_equal(batv_parse("", &k, plain, sizeof(plain)), BATV_NONE);
	/* a plain part that does not fit */
	assert_int_equal(batv_parse("prvs=07921809fa=abcdefgh", &k, plain, 4), BATV_MALFORMED);
	assert_int_equal(batv_verify("prvs=0792", "example.jp", key, KEYLEN, NOW, plain, sizeof(plain)),
			 BATV_MALFORMED);
}

static void test_day_wrap(void **state)
{
	/* Day numbers wrap at 1000: a tag signed on day 995 expires on day
	 * 1002 = "002" and is valid across the wrap. */
	char out[400], plain[200];
	int64_t t = 20995LL * DAY + 100;

	assert_int_equal(batv_sign("a@b.jp", 3, key, KEYLEN, t, out, sizeof(out)), 0);
	assert_memory_equal(out, "prvs=3002", 9);
	*strrchr(out, '@') = '\0';
	assert_int_equal(batv_verify(out, "b.jp", key, KEYLEN, t + 6 * DAY, plain, sizeof(plain)), BATV_VALID);
	assert_int_equal(batv_verify(out, "b.jp", key, KEYLEN, t + 9 * DAY, plain, sizeof(plain)), BATV_EXPIRED);
	assert_string_equal(batv_result_text(BATV_EXPIRED), "expired");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sign_vector),
		cmocka_unit_test(test_sign_refuses),
		cmocka_unit_test(test_verify_roundtrip),
		cmocka_unit_test(test_verify_case_insensitive),
		cmocka_unit_test(test_verify_tampered),
		cmocka_unit_test(test_parse_hostile),
		cmocka_unit_test(test_day_wrap),
	};

	return cmocka_run_group_tests_name("batv", tests, NULL, NULL);
}
