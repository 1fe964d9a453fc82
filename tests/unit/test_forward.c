/* Unit tests for src/policy/forward.c: the `forward` setting's list. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "policy/forward.h"

static char out[FORWARD_MAX][FORWARD_ADDR_MAX];

static size_t ok(const char *value)
{
	const char *e = NULL;
	size_t n = 99;

	assert_int_equal(forward_list_parse(value, "me@example.test", out, &n, &e), 0);
	return n;
}

static void bad(const char *value, const char *why)
{
	const char *e = NULL;
	size_t n = 99;

	assert_int_equal(forward_list_parse(value, "me@example.test", out, &n, &e), -1);
	assert_non_null(e);
	if (why != NULL)
		assert_string_equal(e, why);
}

static void test_lists(void **state)
{
	assert_int_equal(ok(""), 0);
	assert_int_equal(ok(" , ,"), 0);
	assert_int_equal(ok("a@Remote.Test"), 1);
	assert_string_equal(out[0], "a@remote.test");
	assert_int_equal(ok("a@x.test, B.c+tag@y.test\tc@z.test"), 3);
	assert_string_equal(out[1], "B.c+tag@y.test");
	assert_string_equal(out[2], "c@z.test");
	assert_int_equal(ok("1@a.test,2@a.test,3@a.test,4@a.test,5@a.test"), 5);
}

static void test_refused(void **state)
{
	{
		char list[101 * 12];
		size_t o = 0;

		for (int i = 0; i < 101; i++)
			o += (size_t)snprintf(list + o, sizeof(list) - o, "%s%d@a.test", i ? "," : "", i);
		bad(list, "at most 100 forwarding addresses");
		list[strrchr(list, ',') - list] = '\0';	/* 100 */
		assert_int_equal(ok(list), 100);
		assert_string_equal(out[99], "99@a.test");
	}
	bad("ME@example.test", "an account cannot forward to itself");
	bad("a@x.test, A@X.TEST", "a forwarding address is listed twice");
	bad("nodomain", NULL);
	bad("a@[192.0.2.1]", "a forwarding address must be a plain name@domain address");
	bad("a%b@x.test", "a forwarding address must be a plain name@domain address");
	bad("@relay.test:a@x.test", NULL);
	bad("a@x.test>", NULL);
	bad("<a@x.test>", NULL);
	bad("a@@x.test", NULL);
}

static void test_hostile(void **state)
{
	char big[2048];
	const char *e;
	size_t n;

	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	big[100] = '@';
	bad(big, "a forwarding address is too long");
	for (unsigned c = 1; c < 256; c++) {
		char v[16] = "a@x.test";
		v[1] = (char)c;
		(void)forward_list_parse(v, NULL, out, &n, &e);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lists),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_hostile),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
