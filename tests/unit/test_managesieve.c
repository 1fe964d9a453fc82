/* Unit tests for src/proto/managesieve.c: ManageSieve commands, strings,
 * literals, script names and the server's quoting (RFC 5804). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "proto/managesieve.h"

#define S(lit) lit, sizeof(lit) - 1

static char scratch[MSIEVE_MAX_ARGS * MSIEVE_QUOTED_MAX];

static enum msieve_parse_result parse(const char *in, size_t len, struct msieve_command *c, size_t *used,
				      size_t *need, const char **error)
{
	return msieve_parse(in, len, 1024 * 1024, scratch, c, used, need, error);
}

static void test_commands(void **state)
{
	struct msieve_command c;
	size_t used, need;
	const char *error;

	assert_int_equal(parse(S("CAPABILITY\r\n"), &c, &used, &need, &error), MSIEVE_PARSE_OK);
	assert_int_equal(c.verb, MSIEVE_CAPABILITY);
	assert_int_equal(c.nargs, 0);
	assert_int_equal(used, 12);
	assert_int_equal(parse(S("listscripts\n"), &c, &used, &need, &error), MSIEVE_PARSE_OK);
	assert_int_equal(c.verb, MSIEVE_LISTSCRIPTS);
	assert_int_equal(parse(S("Authenticate \"PLAIN\" \"AGFAYi5jAHB3\"\r\nNOOP\r\n"), &c, &used, &need, &error),
			 MSIEVE_PARSE_OK);
	assert_int_equal(c.verb, MSIEVE_AUTHENTICATE);
	assert_int_equal(c.nargs, 2);
	assert_string_equal(c.args[0].data, "PLAIN");
	assert_string_equal(c.args[1].data, "AGFAYi5jAHB3");
	assert_int_equal(used, 37);
	assert_int_equal(parse(S("HAVESPACE \"my script\" 1024\r\n"), &c, &used, &need, &error), MSIEVE_PARSE_OK);
	assert_int_equal(c.verb, MSIEVE_HAVESPACE);
	assert_int_equal(c.args[1].type, MSIEVE_ARG_NUMBER);
	assert_int_equal(c.args[1].number, 1024);
	assert_int_equal(parse(S("XYZZY \"a\"\r\n"), &c, &used, &need, &error), MSIEVE_PARSE_OK);
	assert_int_equal(c.verb, MSIEVE_UNKNOWN);
	assert_string_equal(c.verb_text, "XYZZY");
}

static void test_quoted_escapes(void **state)
{
	struct msieve_command c;
	size_t used, need;
	const char *error;

	assert_int_equal(parse(S("GETSCRIPT \"a \\\"b\\\" \\\\c\"\r\n"), &c, &used, &need, &error), MSIEVE_PARSE_OK);
	assert_string_equal(c.args[0].data, "a \"b\" \\c");
	assert_int_equal(parse(S("GETSCRIPT \"a\\nb\"\r\n"), &c, &used, &need, &error), MSIEVE_PARSE_ERROR);
	assert_int_equal(used, 18);	/* the line is skipped */
	assert_int_equal(parse(S("GETSCRIPT \"a\rb\"\r\n"), &c, &used, &need, &error), MSIEVE_PARSE_ERROR);
}

static void test_literals(void **state)
{
	static const char in[] = "PUTSCRIPT \"s\" {11+}\r\nkeep;\r\nstop\r\nNOOP\r\n";
	struct msieve_command c;
	size_t used, need;
	const char *error;

	assert_int_equal(parse(in, sizeof(in) - 1, &c, &used, &need, &error), MSIEVE_PARSE_OK);
	assert_int_equal(c.verb, MSIEVE_PUTSCRIPT);
	assert_int_equal(c.args[1].len, 11);
	assert_memory_equal(c.args[1].data, "keep;\r\nstop", 11);
	assert_int_equal(used, sizeof(in) - 1 - 6);
	/* the synchronizing form is read the same way */
	assert_int_equal(parse(S("PUTSCRIPT \"s\" {4}\r\nstop\r\n"), &c, &used, &need, &error), MSIEVE_PARSE_OK);
	assert_memory_equal(c.args[1].data, "stop", 4);
	/* a literal must be followed by a space or the line end */
	assert_int_equal(parse(S("PUTSCRIPT \"s\" {3}\r\nstop\r\n"), &c, &used, &need, &error), MSIEVE_PARSE_ERROR);
	/* partial input: how much is wanted */
	for (size_t n = 0; n < sizeof(in) - 1 - 6; n++) {
		enum msieve_parse_result r = parse(in, n, &c, &used, &need, &error);
		assert_int_equal(r, MSIEVE_PARSE_MORE);
		assert_true(need > n);
	}
	assert_int_equal(parse(in, 21, &c, &used, &need, &error), MSIEVE_PARSE_MORE);
	assert_int_equal(need, 21 + 11 + 2);
}

static void test_limits(void **state)
{
	struct msieve_command c;
	size_t used, need;
	const char *error;
	char big[MSIEVE_LINE_MAX + 100];

	assert_int_equal(msieve_parse(S("PUTSCRIPT \"s\" {2000000+}\r\n"), 1024 * 1024, scratch, &c, &used, &need,
				      &error), MSIEVE_PARSE_TOO_BIG);
	assert_int_equal(parse(S("PUTSCRIPT \"s\" {99999999999+}\r\n"), &c, &used, &need, &error),
			 MSIEVE_PARSE_TOO_BIG);
	memset(big, 'A', sizeof(big));
	assert_int_equal(parse(big, sizeof(big), &c, &used, &need, &error), MSIEVE_PARSE_TOO_BIG);
	memcpy(big, "NOOP \"", 6);	/* a quoted string past its bound, no line end */
	assert_int_equal(parse(big, sizeof(big), &c, &used, &need, &error), MSIEVE_PARSE_TOO_BIG);
	assert_int_equal(parse(S("NOOP \"a\" \"b\" \"c\" \"d\" \"e\"\r\n"), &c, &used, &need, &error),
			 MSIEVE_PARSE_ERROR);
	assert_string_equal(error, "too many arguments");
	assert_int_equal(parse(S("HAVESPACE \"a\" 4294967296\r\n"), &c, &used, &need, &error), MSIEVE_PARSE_ERROR);
	assert_int_equal(parse(S("NOOP{3+}\r\nabc\r\n"), &c, &used, &need, &error), MSIEVE_PARSE_ERROR);
	assert_int_equal(parse(S("\r\n"), &c, &used, &need, &error), MSIEVE_PARSE_ERROR);
	assert_int_equal(used, 2);
	assert_int_equal(parse(S("NOOP {x}\r\n"), &c, &used, &need, &error), MSIEVE_PARSE_ERROR);
}

static void test_string_line(void **state)
{
	struct msieve_arg a;
	size_t used, need;
	const char *error;

	assert_int_equal(msieve_parse_string_line(S("\"AGFAYgBj\"\r\n"), 100, scratch, &a, &used, &need, &error),
			 MSIEVE_PARSE_OK);
	assert_string_equal(a.data, "AGFAYgBj");
	assert_int_equal(msieve_parse_string_line(S("{3+}\r\nabc\r\n"), 100, scratch, &a, &used, &need, &error),
			 MSIEVE_PARSE_OK);
	assert_int_equal(a.len, 3);
	assert_int_equal(used, 11);
	assert_int_equal(msieve_parse_string_line(S("12\r\n"), 100, scratch, &a, &used, &need, &error),
			 MSIEVE_PARSE_ERROR);
	assert_int_equal(msieve_parse_string_line(S("\"a\" \"b\"\r\n"), 100, scratch, &a, &used, &need, &error),
			 MSIEVE_PARSE_ERROR);
}

static void test_names(void **state)
{
	assert_true(msieve_name_valid(S("main")));
	assert_true(msieve_name_valid(S("振り分け ルール")));
	assert_false(msieve_name_valid(S("")));
	assert_false(msieve_name_valid(S("a/b")));
	assert_false(msieve_name_valid(S("a\tb")));
	assert_false(msieve_name_valid(S("a\x7f")));
	assert_false(msieve_name_valid(S("\xc2\x85")));		/* NEL, a C1 control */
	assert_false(msieve_name_valid(S("\xe2\x80\xa8")));	/* LINE SEPARATOR */
	assert_false(msieve_name_valid(S("\xff")));
	assert_false(msieve_name_valid(S("\xed\xa0\x80")));	/* a surrogate */
	char longname[130];
	memset(longname, 'x', sizeof(longname));
	assert_true(msieve_name_valid(longname, 128));
	assert_false(msieve_name_valid(longname, 129));
}

static void test_quoting(void **state)
{
	char out[64];

	assert_int_equal(msieve_string(out, sizeof(out), S("a\"b\\c")), 9);
	assert_string_equal(out, "\"a\\\"b\\\\c\"");
	assert_int_equal(msieve_string(out, sizeof(out), S("x\r\ny")), 9);
	assert_string_equal(out, "{4}\r\nx\r\ny");
	assert_int_equal(msieve_string(out, 4, S("abcdef")), 8);	/* too small: the length only */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_commands),
		cmocka_unit_test(test_quoted_escapes),
		cmocka_unit_test(test_literals),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_string_line),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_quoting),
	};

	return cmocka_run_group_tests_name("managesieve", tests, NULL, NULL);
}
