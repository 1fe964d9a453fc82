/* Unit tests for src/proto/pop3.c: command lines and message numbers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "proto/pop3.h"

#define S(lit) lit, sizeof(lit) - 1

static void parse_ok(const char *line, size_t len, struct pop3_command *c)
{
	const char *error = NULL;

	if (pop3_command_parse(line, len, c, &error) != 0)
		fail_msg("\"%.*s\": %s", (int)len, line, error);
}

static void check_fail(const char *line, size_t len, const char *expected)
{
	struct pop3_command c;
	const char *error = NULL;

	assert_int_equal(pop3_command_parse(line, len, &c, &error), -1);
	assert_non_null(error);
	assert_string_equal(error, expected);
}

static void test_verbs(void **state)
{
	static const struct { const char *text; enum pop3_verb verb; } verbs[] = {
		{ "CAPA", POP3_VERB_CAPA }, { "USER", POP3_VERB_USER }, { "PASS", POP3_VERB_PASS },
		{ "AUTH", POP3_VERB_AUTH }, { "STLS", POP3_VERB_STLS }, { "STAT", POP3_VERB_STAT },
		{ "LIST", POP3_VERB_LIST }, { "UIDL", POP3_VERB_UIDL }, { "TOP", POP3_VERB_TOP },
		{ "RETR", POP3_VERB_RETR }, { "DELE", POP3_VERB_DELE }, { "RSET", POP3_VERB_RSET },
		{ "NOOP", POP3_VERB_NOOP }, { "QUIT", POP3_VERB_QUIT }, { "APOP", POP3_VERB_APOP },
		{ "XCLIENT", POP3_VERB_XCLIENT },
		{ "quit", POP3_VERB_QUIT }, { "Retr", POP3_VERB_RETR },
	};
	struct pop3_command c;

	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++) {
		parse_ok(verbs[i].text, strlen(verbs[i].text), &c);
		assert_int_equal(c.verb, verbs[i].verb);
		assert_int_equal(c.nargs, 0);
		assert_string_equal(c.rest, "");
	}
	parse_ok(S("XTND XMIT"), &c);
	assert_int_equal(c.verb, POP3_VERB_UNKNOWN);
	parse_ok(S("QUITX"), &c);
	assert_int_equal(c.verb, POP3_VERB_UNKNOWN);
	parse_ok(S("QUI"), &c);
	assert_int_equal(c.verb, POP3_VERB_UNKNOWN);
	parse_ok(S(""), &c);
	assert_int_equal(c.verb, POP3_VERB_UNKNOWN);
	assert_int_equal(c.nargs, 0);
	parse_ok(S(" QUIT"), &c);
	assert_int_equal(c.verb, POP3_VERB_UNKNOWN);
	assert_int_equal(c.nargs, 1);
	assert_string_equal(c.args[0], "QUIT");
}

static void test_args(void **state)
{
	struct pop3_command c;

	parse_ok(S("USER alice@example.test"), &c);
	assert_int_equal(c.verb, POP3_VERB_USER);
	assert_int_equal(c.nargs, 1);
	assert_string_equal(c.args[0], "alice@example.test");
	assert_string_equal(c.rest, "alice@example.test");
	parse_ok(S("TOP 3 10"), &c);
	assert_int_equal(c.verb, POP3_VERB_TOP);
	assert_int_equal(c.nargs, 2);
	assert_string_equal(c.args[0], "3");
	assert_string_equal(c.args[1], "10");
	/* runs of spaces separate; trailing spaces give no empty argument */
	parse_ok(S("TOP   3    10   "), &c);
	assert_int_equal(c.nargs, 2);
	assert_string_equal(c.args[0], "3");
	assert_string_equal(c.args[1], "10");
	assert_string_equal(c.rest, "  3    10   ");
	parse_ok(S("LIST "), &c);
	assert_int_equal(c.verb, POP3_VERB_LIST);
	assert_int_equal(c.nargs, 0);
	/* a tab is not a separator */
	parse_ok(S("LIST\t1"), &c);
	assert_int_equal(c.verb, POP3_VERB_UNKNOWN);
	parse_ok(S("AUTH PLAIN AHUAcA=="), &c);
	assert_int_equal(c.verb, POP3_VERB_AUTH);
	assert_int_equal(c.nargs, 2);
	assert_string_equal(c.args[1], "AHUAcA==");
}

static void test_too_many_args(void **state)
{
	check_fail(S("TOP 1 2 3"), "too many arguments");
	check_fail(S("USER a b c d"), "too many arguments");
}

static void test_pass_rest(void **state)
{
	struct pop3_command c;

	parse_ok(S("PASS secret"), &c);
	assert_int_equal(c.verb, POP3_VERB_PASS);
	assert_string_equal(c.rest, "secret");
	parse_ok(S("PASS with one"), &c);
	assert_string_equal(c.rest, "with one");
	/* passwords may have any number of spaces, leading and trailing too */
	parse_ok(S("PASS  a pass phrase with spaces "), &c);
	assert_int_equal(c.verb, POP3_VERB_PASS);
	assert_string_equal(c.rest, " a pass phrase with spaces ");
	parse_ok(S("pass x y z"), &c);
	assert_string_equal(c.rest, "x y z");
	parse_ok(S("PASS p\tw"), &c);
	assert_string_equal(c.rest, "p\tw");
}

static void test_hostile(void **state)
{
	struct pop3_command c;

	check_fail(S("USER a\0b"), "control characters in command");
	check_fail(S("RETR 1\rDELE 1"), "control characters in command");
	check_fail(S("RETR 1\nDELE 1"), "control characters in command");
	check_fail(S("\x1b[0m"), "control characters in command");
	/* 8-bit and DEL are not control characters here */
	parse_ok(S("USER \xe3\x81\x82@example.test"), &c);
	assert_string_equal(c.args[0], "\xe3\x81\x82@example.test");
	parse_ok(S("NOOP \x7f"), &c);
	assert_int_equal(c.verb, POP3_VERB_NOOP);
}

static void test_line_length(void **state)
{
	char line[400];
	struct pop3_command c;

	/* RFC 2449: 255 octets with CRLF, so 253 without */
	memset(line, 'x', sizeof(line));
	memcpy(line, "USER ", 5);
	parse_ok(line, 253, &c);
	assert_int_equal(c.nargs, 1);
	assert_int_equal(strlen(c.args[0]), 248);
	assert_int_equal(strlen(c.rest), 248);
	check_fail(line, 254, "line too long");
	check_fail(line, sizeof(line), "line too long");
	memcpy(line, "PASS ", 5);
	parse_ok(line, 253, &c);
	assert_int_equal(strlen(c.rest), 248);
}

static void test_msgnum(void **state)
{
	unsigned long n = 42;

	assert_int_equal(pop3_parse_msgnum("1", &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(pop3_parse_msgnum("007", &n), 0);
	assert_int_equal(n, 7);
	assert_int_equal(pop3_parse_msgnum("1000000000", &n), 0);
	assert_int_equal(n, 1000000000UL);
	n = 42;
	assert_int_equal(pop3_parse_msgnum("1000000001", &n), -1);
	assert_int_equal(pop3_parse_msgnum("0", &n), -1);
	assert_int_equal(pop3_parse_msgnum("", &n), -1);
	assert_int_equal(pop3_parse_msgnum("-1", &n), -1);
	assert_int_equal(pop3_parse_msgnum("+1", &n), -1);
	assert_int_equal(pop3_parse_msgnum("1x", &n), -1);
	assert_int_equal(pop3_parse_msgnum(" 1", &n), -1);
	assert_int_equal(pop3_parse_msgnum("99999999999999999999999", &n), -1);
	assert_int_equal(n, 42);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_verbs),
		cmocka_unit_test(test_args),
		cmocka_unit_test(test_too_many_args),
		cmocka_unit_test(test_pass_rest),
		cmocka_unit_test(test_hostile),
		cmocka_unit_test(test_line_length),
		cmocka_unit_test(test_msgnum),
	};

	return cmocka_run_group_tests_name("pop3", tests, NULL, NULL);
}
