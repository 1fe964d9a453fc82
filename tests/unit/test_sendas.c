/* Unit tests for src/policy/sendas.c: which addresses a login may use. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "policy/sendas.h"

#define LOGIN "taro@example.test"

static bool allowed(enum sender_policy p, const char *list, const char *addr)
{
	return sendas_address_is_allowed(p, LOGIN, list, addr);
}

static void test_policy_parse(void **state)
{
	enum sender_policy p = SENDER_POLICY_OFF;

	assert_int_equal(sender_policy_parse("", &p), 0);
	assert_int_equal(p, SENDER_POLICY_STRICT);
	assert_int_equal(sender_policy_parse("Domain", &p), 0);
	assert_int_equal(p, SENDER_POLICY_DOMAIN);
	assert_int_equal(sender_policy_parse("off", &p), 0);
	assert_int_equal(p, SENDER_POLICY_OFF);
	assert_int_equal(sender_policy_parse("strict", &p), 0);
	assert_int_equal(p, SENDER_POLICY_STRICT);
	assert_int_equal(sender_policy_parse("loose", &p), -1);
}

static void test_strict(void **state)
{
	enum sender_policy s = SENDER_POLICY_STRICT;

	assert_true(allowed(s, "", LOGIN));
	assert_true(allowed(s, "", "Taro@EXAMPLE.test"));
	assert_true(allowed(s, "", "taro+news@example.test"));
	assert_true(allowed(s, "", "taro+@example.test"));
	assert_false(allowed(s, "", "taro.x@example.test"));
	assert_false(allowed(s, "", "hanako@example.test"));
	assert_false(allowed(s, "", "+taro@example.test"));
	assert_false(allowed(s, "", "taro@other.test"));
	assert_false(allowed(s, "", "taro@example.test.evil"));
	assert_false(allowed(s, "", ""));		/* the null sender */
	assert_false(allowed(s, "", "taro"));
	assert_false(allowed(s, "", "@example.test"));
	/* grants: an address (and its +tag forms), or a whole domain */
	assert_true(allowed(s, "info@example.test, *@sales.test", "info@example.test"));
	assert_true(allowed(s, "info@example.test, *@sales.test", "INFO+x@example.test"));
	assert_true(allowed(s, "info@example.test, *@sales.test", "anyone@sales.test"));
	assert_false(allowed(s, "info@example.test, *@sales.test", "hanako@example.test"));
	assert_false(allowed(s, "info@example.test, *@sales.test", "a@sub.sales.test"));
	assert_false(allowed(s, "info@example.test, *@sales.test", ""));
	/* a stored list that no longer parses grants nothing */
	assert_false(allowed(s, "info@example.test, not valid", "info@example.test"));
}

static void test_domain_and_off(void **state)
{
	assert_true(allowed(SENDER_POLICY_DOMAIN, "", "hanako@example.test"));
	assert_false(allowed(SENDER_POLICY_DOMAIN, "", "hanako@other.test"));
	assert_false(allowed(SENDER_POLICY_DOMAIN, "", ""));
	assert_true(allowed(SENDER_POLICY_DOMAIN, "*@other.test", "hanako@other.test"));
	assert_true(allowed(SENDER_POLICY_OFF, "", "ceo@bank.test"));
	assert_true(allowed(SENDER_POLICY_OFF, "", ""));
}

static void test_sign_domains(void **state)
{
	assert_true(sendas_domain_is_allowed(LOGIN, "", "example.test"));
	assert_true(sendas_domain_is_allowed(LOGIN, "", "EXAMPLE.test"));
	assert_false(sendas_domain_is_allowed(LOGIN, "", "other.test"));
	assert_true(sendas_domain_is_allowed(LOGIN, "info@other.test", "other.test"));
	assert_true(sendas_domain_is_allowed(LOGIN, "*@sales.test", "sales.test"));
	assert_false(sendas_domain_is_allowed(LOGIN, "*@sales.test", "x.sales.test"));
}

static void test_list_parse(void **state)
{
	char out[SENDAS_MAX][SENDAS_ADDR_MAX], big[SENDAS_VALUE_MAX * 2];
	const char *e = NULL;
	size_t n = 99;

	assert_int_equal(sendas_list_parse("", out, &n, &e), 0);
	assert_int_equal(n, 0);
	assert_int_equal(sendas_list_parse(" Info@Example.TEST,*@sales.test  info@example.test ,", out, &n,
					   &e), 0);
	assert_int_equal(n, 2);
	assert_string_equal(out[0], "info@example.test");
	assert_string_equal(out[1], "*@sales.test");
	assert_int_equal(sendas_list_parse("a.b+c@x.test", out, &n, &e), 0);
	assert_int_equal(n, 1);
	static const char *const bad[] = {
		"info", "@x.test", "a@", "a@b", "a..b@x.test", ".a@x.test", "a@[192.0.2.1]",
		"a\"b@x.test", "a@x.test;b@y.test", "a@x..test",
		"\x01@x.test", "a@-x.test",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		e = NULL;
		assert_int_equal(sendas_list_parse(bad[i], out, &n, &e), -1);
		assert_non_null(e);
	}
	/* at most SENDAS_MAX entries; an over-long entry is refused */
	big[0] = '\0';
	for (int i = 0; i < SENDAS_MAX + 1; i++) {
		char one[32];
		snprintf(one, sizeof(one), "a%d@x.test,", i);
		strcat(big, one);
	}
	assert_int_equal(sendas_list_parse(big, out, &n, &e), -1);
	memset(big, 'a', 400);
	strcpy(big + 400, "@x.test");
	assert_int_equal(sendas_list_parse(big, out, &n, &e), -1);
}

static size_t addrs(const char *value, char (*out)[SENDAS_ADDR_MAX])
{
	const char *e = NULL;
	size_t n = 99;

	assert_int_equal(sendas_header_addresses(value, strlen(value), out, SENDAS_HEADER_ADDRS, &n, &e), 0);
	return n;
}

static void test_header_addresses(void **state)
{
	char out[SENDAS_HEADER_ADDRS][SENDAS_ADDR_MAX];
	const char *e;
	size_t n;

	assert_int_equal(addrs(" Taro <Taro@Example.test>", out), 1);
	assert_string_equal(out[0], "taro@example.test");
	assert_int_equal(addrs("taro@example.test (Taro, at home@evil.test)", out), 1);
	assert_string_equal(out[0], "taro@example.test");
	assert_int_equal(addrs("\"Doe, <x@evil.test>\" <a@b.test>,\r\n\tc@d.test", out), 2);
	assert_string_equal(out[0], "a@b.test");
	assert_string_equal(out[1], "c@d.test");
	assert_int_equal(addrs("team: a@b.test, <c@d.test>;, e@f.test", out), 3);
	assert_string_equal(out[2], "e@f.test");
	assert_int_equal(addrs("<@route.test,@r2.test:a@b.test>", out), 1);
	assert_string_equal(out[0], "a@b.test");
	assert_int_equal(addrs("x (nested (comment) a@evil.test) <a@b.test>", out), 1);
	assert_string_equal(out[0], "a@b.test");
	/* refused: no address, an address without a domain, <>, unterminated junk */
	static const char *const bad[] = { "", "   ", "Just a name", "<>", "a@b.test, nobody", "undisclosed:;" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		e = NULL;
		assert_int_equal(sendas_header_addresses(bad[i], strlen(bad[i]), out, SENDAS_HEADER_ADDRS, &n, &e),
				 -1);
		assert_non_null(e);
	}
	/* too many addresses */
	assert_int_equal(sendas_header_addresses("a@b.test, c@d.test, e@f.test", 28, out, 2, &n, &e), -1);
}

static void test_header_hostile(void **state)
{
	char out[SENDAS_HEADER_ADDRS][SENDAS_ADDR_MAX], in[2048];
	const char *e;
	size_t n;

	/* an address longer than the buffer */
	memset(in, 'a', 1000);
	strcpy(in + 1000, "@b.test");
	assert_int_equal(sendas_header_addresses(in, strlen(in), out, SENDAS_HEADER_ADDRS, &n, &e), -1);
	/* every byte value inside a value never crashes */
	for (int c = 0; c < 256; c++) {
		char v[32];
		size_t len = (size_t)snprintf(v, sizeof(v), "<a%c@b.test> \"%c(", c == 0 ? 'x' : c, c == 0 ? 'y' : c);
		(void)sendas_header_addresses(v, len, out, SENDAS_HEADER_ADDRS, &n, &e);
		v[2] = '\0';
		(void)sendas_header_addresses(v, 3, out, SENDAS_HEADER_ADDRS, &n, &e);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_policy_parse),
		cmocka_unit_test(test_strict),
		cmocka_unit_test(test_domain_and_off),
		cmocka_unit_test(test_sign_domains),
		cmocka_unit_test(test_list_parse),
		cmocka_unit_test(test_header_addresses),
		cmocka_unit_test(test_header_hostile),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
