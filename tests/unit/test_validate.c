/* Unit tests for src/directory/validate.c: the rules the panel and
 * yubinctl apply to user names, domains, addresses, passwords, quotas. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "directory/directory.h"
#include "directory/validate.h"

#define E_LOCAL_EMPTY "the user name (before @) is empty"
#define E_LOCAL_LONG "the user name (before @) is longer than 64 characters"
#define E_LOCAL_CHARS "the user name may only use a-z, 0-9, '-', '_' and '.'"
#define E_LOCAL_DOTS "the user name may not start or end with '.' or contain '..'"
#define E_DOMAIN_LEN "the domain name must be 1 to 253 characters"
#define E_DOMAIN_LABEL "each part of the domain name must be 1 to 63 characters"
#define E_DOMAIN_HYPHEN "a part of the domain name may not start or end with '-'"
#define E_DOMAIN_CHARS "the domain name may only use a-z, 0-9, '-' and '.'"
#define E_DOMAIN_PARTS "the domain name needs at least two parts (example.jp)"
#define E_ADDRESS "the address must be user@domain (the login name is the full address)"
#define E_ADDRESS_DOMAIN_LONG "the domain name is longer than 253 characters"
#define E_PW_LEN "the password must be 8 to 128 characters"
#define E_PW_CHARS "the password may only use printable ASCII characters without spaces"
#define E_PW_DIGITS "the password is too easy to guess: use letters as well as digits"
#define E_PW_SEQ "the password is too easy to guess: avoid repeated or consecutive characters"
#define E_PW_COMMON "the password is too easy to guess: it is a commonly used password"
#define E_PW_USER "the password is too easy to guess: it must not contain the address or user name"
#define E_PW_DOMAIN "the password is too easy to guess: it must not contain the domain name"
#define E_QUOTA "the mailbox size must be 1 to 5000 MB"

static char *repeat(char c, size_t n)
{
	char *s = malloc(n + 1);

	assert_non_null(s);
	memset(s, c, n);
	s[n] = '\0';
	return s;
}

static void local_ok(const char *s)
{
	const char *e = NULL;

	if (validate_local_part(s, &e) != 0)
		fail_msg("\"%s\": %s", s, e);
}

static void local_bad(const char *s, const char *expected)
{
	const char *e = NULL;

	assert_int_equal(validate_local_part(s, &e), -1);
	assert_non_null(e);
	assert_string_equal(e, expected);
}

static void test_local_part(void **state)
{
	char *l64 = repeat('a', 64), *l65 = repeat('a', 65);

	local_ok("a");
	local_ok("user");
	local_ok("first.last");
	local_ok("a-b_c.d0-9");
	local_ok("_");
	local_ok("-");
	local_ok(l64);
	local_bad("", E_LOCAL_EMPTY);
	local_bad(l65, E_LOCAL_LONG);
	local_bad("User", E_LOCAL_CHARS);
	local_bad("a+b", E_LOCAL_CHARS);
	local_bad("a b", E_LOCAL_CHARS);
	local_bad("a@b", E_LOCAL_CHARS);
	local_bad("a%b", E_LOCAL_CHARS);
	local_bad("a!b", E_LOCAL_CHARS);
	local_bad("\xe3\x81\x82", E_LOCAL_CHARS);
	local_bad(".a", E_LOCAL_DOTS);
	local_bad("a.", E_LOCAL_DOTS);
	local_bad("a..b", E_LOCAL_DOTS);
	local_bad(".", E_LOCAL_DOTS);
	free(l64);
	free(l65);
}

static void domain_ok(const char *s)
{
	const char *e = NULL;

	if (validate_domain(s, &e) != 0)
		fail_msg("\"%s\": %s", s, e);
}

static void domain_bad(const char *s, const char *expected)
{
	const char *e = NULL;

	assert_int_equal(validate_domain(s, &e), -1);
	assert_non_null(e);
	assert_string_equal(e, expected);
}

/* A domain of n octets: 60-octet labels, then a tail label. */
static char *long_domain(size_t n)
{
	char *s = repeat('a', n);

	for (size_t i = 60; i + 2 < n; i += 61)
		s[i] = '.';
	return s;
}

static void test_domain(void **state)
{
	char *l63 = repeat('b', 63), *l64 = repeat('b', 64), buf[200];
	char *d253 = long_domain(253), *d254 = long_domain(254);

	domain_ok("example.test");
	domain_ok("a.b");
	domain_ok("mail.example.co.jp");
	domain_ok("xn--bcher-kva.example");
	domain_ok("a-b.c-d");
	domain_ok("1.2");
	domain_ok(d253);
	domain_bad(d254, E_DOMAIN_LEN);
	snprintf(buf, sizeof(buf), "%s.test", l63);
	domain_ok(buf);
	snprintf(buf, sizeof(buf), "%s.test", l64);
	domain_bad(buf, E_DOMAIN_LABEL);
	domain_bad("", E_DOMAIN_LEN);
	domain_bad("example", E_DOMAIN_PARTS);
	domain_bad("localhost", E_DOMAIN_PARTS);
	domain_bad(".example.test", E_DOMAIN_LABEL);
	domain_bad("example.test.", E_DOMAIN_LABEL);
	domain_bad("example..test", E_DOMAIN_LABEL);
	domain_bad(".", E_DOMAIN_LABEL);
	domain_bad("-example.test", E_DOMAIN_HYPHEN);
	domain_bad("example-.test", E_DOMAIN_HYPHEN);
	domain_bad("example.-test", E_DOMAIN_HYPHEN);
	domain_bad("example.test-", E_DOMAIN_HYPHEN);
	domain_bad("Example.test", E_DOMAIN_CHARS);
	domain_bad("exa_mple.test", E_DOMAIN_CHARS);
	domain_bad("[192.0.2.1]", E_DOMAIN_CHARS);
	domain_bad("ex ample.test", E_DOMAIN_CHARS);
	domain_bad("\xe4\xbe\x8b.jp", E_DOMAIN_CHARS);
	free(l63);
	free(l64);
	free(d253);
	free(d254);
}

static void test_address(void **state)
{
	char local[DIR_LOCAL_MAX + 1], domain[DIR_DOMAIN_MAX + 1], buf[600];
	const char *e;
	char *l64 = repeat('u', 64), *l65 = repeat('u', 65), *d253 = long_domain(253);
	char *d254 = long_domain(254);

	assert_int_equal(validate_address("User.Name@Example.TEST", local, sizeof(local), domain,
					  sizeof(domain), &e), 0);
	assert_string_equal(local, "user.name");
	assert_string_equal(domain, "example.test");
	snprintf(buf, sizeof(buf), "%s@%s", l64, d253);
	assert_int_equal(validate_address(buf, local, sizeof(local), domain, sizeof(domain), &e), 0);
	assert_string_equal(local, l64);
	assert_string_equal(domain, d253);

	static const struct { const char *addr, *error; } bad[] = {
		{ "no-at-sign", E_ADDRESS },
		{ "a@b@example.test", E_ADDRESS },
		{ "user@@example.test", E_ADDRESS },
		{ "@example.test", E_LOCAL_EMPTY },
		{ "user@", E_DOMAIN_LEN },
		{ "user@example", E_DOMAIN_PARTS },
		{ "us er@example.test", E_LOCAL_CHARS },
		{ "user%other.test@example.test", E_LOCAL_CHARS },
		{ "other!user@example.test", E_LOCAL_CHARS },
		{ "\"user\"@example.test", E_LOCAL_CHARS },
		{ "user@[192.0.2.1]", E_DOMAIN_CHARS },
		{ "user@example.test.", E_DOMAIN_LABEL },
		{ ".user@example.test", E_LOCAL_DOTS },
		{ "", E_ADDRESS },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		e = NULL;
		assert_int_equal(validate_address(bad[i].addr, local, sizeof(local), domain,
						  sizeof(domain), &e), -1);
		assert_non_null(e);
		assert_string_equal(e, bad[i].error);
	}
	snprintf(buf, sizeof(buf), "%s@example.test", l65);
	assert_int_equal(validate_address(buf, local, sizeof(local), domain, sizeof(domain), &e), -1);
	assert_string_equal(e, E_LOCAL_LONG);
	snprintf(buf, sizeof(buf), "u@%s", d254);
	assert_int_equal(validate_address(buf, local, sizeof(local), domain, sizeof(domain), &e), -1);
	assert_string_equal(e, E_ADDRESS_DOMAIN_LONG);
	free(l64);
	free(l65);
	free(d253);
	free(d254);
}

static void pw_ok(const char *pw, const char *address)
{
	const char *e = NULL;

	if (validate_password(pw, address, &e) != 0)
		fail_msg("\"%s\": %s", pw, e);
}

static void pw_bad(const char *pw, const char *address, const char *expected)
{
	const char *e = NULL;

	assert_int_equal(validate_password(pw, address, &e), -1);
	assert_non_null(e);
	assert_string_equal(e, expected);
}

static void test_password_length_and_chars(void **state)
{
	pw_ok("Tr0ub4dor&3", NULL);
	pw_ok("x7Kq!pW2", NULL);				/* 8 */
	pw_ok("x7Kq!pW2x7Kq!pW2x7Kq!pW2x7Kq!pW2", NULL);	/* 32 */
	pw_bad("x7Kq!pW", NULL, E_PW_LEN);
	pw_ok("x7Kq!pW2x7Kq!pW2x7Kq!pW2x7Kq!pW2z", NULL);	/* 33: over the old cap */
	pw_ok("x7Kq!pW2x7Kq!pW2x7Kq!pW2x7Kq!pW2x7Kq!pW2x7Kq!pW2x7Kq!pW2x7Kq!pW2"
	      "x7Kq!pW2x7Kq!pW2x7Kq!pW2x7Kq!pW2x7Kq!pW2x7Kq!pW2x7Kq!pW2x7Kq!pW2", NULL);	/* 128 */
	pw_bad("x7Kq!pW2x7Kq!pW2x7Kq!pW2x7Kq!pW2x7Kq!pW2x7Kq!pW2x7Kq!pW2x7Kq!pW2"
	       "x7Kq!pW2x7Kq!pW2x7Kq!pW2x7Kq!pW2x7Kq!pW2x7Kq!pW2x7Kq!pW2x7Kq!pW2z", NULL, E_PW_LEN);
	pw_bad("", NULL, E_PW_LEN);
	pw_bad("correct horse", NULL, E_PW_CHARS);
	pw_bad("p\xc3\xa4ssw0rd42", NULL, E_PW_CHARS);
	pw_bad("tab\there99", NULL, E_PW_CHARS);
	pw_bad("del\x7fhere99", NULL, E_PW_CHARS);
	pw_ok("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~", NULL);
}

static void test_password_guessable(void **state)
{
	pw_bad("12345678", NULL, E_PW_DIGITS);
	pw_bad("90210555123", NULL, E_PW_DIGITS);
	pw_bad("aaaaaaaa", NULL, E_PW_SEQ);
	pw_bad("!!!!!!!!!!", NULL, E_PW_SEQ);
	pw_bad("abcdefgh", NULL, E_PW_SEQ);
	pw_bad("ABCDEFGHIJ", NULL, E_PW_SEQ);
	pw_bad("qwertyuiop", NULL, E_PW_SEQ);
	pw_bad("QwErTyUiOpAsD", NULL, E_PW_SEQ);
	pw_bad("xyzabcdefg", NULL, E_PW_SEQ);	/* the alphabet wraps */
	pw_bad("password", NULL, E_PW_COMMON);
	pw_bad("PassWord1", NULL, E_PW_COMMON);
	pw_bad("iloveyou", NULL, E_PW_COMMON);
	pw_bad("Trustno1", NULL, E_PW_COMMON);
	/* near misses are fine */
	pw_ok("password1x", NULL);
	pw_ok("abcdefgz", NULL);
	pw_ok("aaaaaaab", NULL);
}

static void test_password_address(void **state)
{
	pw_bad("john@example.test", "john@example.test", E_PW_USER);
	pw_bad("JOHN@EXAMPLE.TEST", "john@example.test", E_PW_USER);
	pw_bad("johnsmith", "johnsmith@example.test", E_PW_USER);
	pw_bad("XjohnsmithX", "johnsmith@example.test", E_PW_USER);
	/* the user name with other characters is allowed */
	pw_ok("johnsmith42", "johnsmith@example.test");
	/* short user names are not searched for */
	pw_ok("xbobxyzw", "bob@example.test");
	pw_bad("my-example.test", "x@example.test", E_PW_DOMAIN);
	pw_bad("1EXAMPLE.TEST", "x@example.test", E_PW_DOMAIN);
	pw_ok("exampletest9", "x@example.test");
	pw_ok("Tr0ub4dor&3", "tr0ub4dor@example.test");
}

static void test_quota(void **state)
{
	const char *e = NULL;

	assert_int_equal(validate_quota(1, &e), 0);
	assert_int_equal(validate_quota(2000, &e), 0);
	assert_int_equal(validate_quota(5000, &e), 0);
	assert_int_equal(validate_quota(0, &e), -1);
	assert_string_equal(e, E_QUOTA);
	e = NULL;
	assert_int_equal(validate_quota(5001, &e), -1);
	assert_string_equal(e, E_QUOTA);
	assert_int_equal(validate_quota(4294967296UL + 2000, &e), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_local_part),
		cmocka_unit_test(test_domain),
		cmocka_unit_test(test_address),
		cmocka_unit_test(test_password_length_and_chars),
		cmocka_unit_test(test_password_guessable),
		cmocka_unit_test(test_password_address),
		cmocka_unit_test(test_quota),
	};

	return cmocka_run_group_tests_name("validate", tests, NULL, NULL);
}
