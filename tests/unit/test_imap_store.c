/* Unit tests for src/proto/imap_store.c: flags, STORE, APPEND. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#define IMAP_TEST_PARSE_LINE
#include "imap_test_util.h"
#include "proto/imap_store.h"

static struct imap_parser *parser;

static int setup(void **state)
{
	parser = imap_parser_new(NULL);
	return parser == NULL;
}

static int teardown(void **state)
{
	imap_parser_free(parser);
	return 0;
}

static void store_ok(const char *line, struct imap_store *st)
{
	const struct imap_command *c = imap_test_parse(parser, line);
	const char *err = NULL;

	if (imap_store_parse(c->args + 1, c->count - 1, imap_parser_arena(parser), st, &err) < 0)
		fail_msg("%s: %s", line, err);
}

static void store_bad(const char *line, const char *error)
{
	const struct imap_command *c = imap_test_parse(parser, line);
	struct imap_store st;
	const char *err = NULL;

	if (imap_store_parse(c->args + 1, c->count - 1, imap_parser_arena(parser), &st, &err) == 0)
		fail_msg("\"%s\" accepted", line);
	assert_string_equal(err, error);
}

static void test_store(void **state)
{
	struct imap_store st;

	store_ok("a STORE 1 FLAGS (\\Seen)\r\n", &st);
	assert_int_equal(st.op, IMAP_STORE_SET);
	assert_false(st.silent);
	assert_int_equal(st.flags.system, IMAP_FLAG_SEEN);
	assert_int_equal(st.flags.nkeywords, 0);

	store_ok("a UID STORE 1:* +FLAGS.SILENT (\\deleted \\SEEN $Junk $junk \\Answered \\Flagged "
		 "\\Draft $MDNSent)\r\n", &st);
	assert_int_equal(st.op, IMAP_STORE_ADD);
	assert_true(st.silent);
	assert_int_equal(st.flags.system, IMAP_FLAG_SEEN | IMAP_FLAG_DELETED | IMAP_FLAG_ANSWERED |
			 IMAP_FLAG_FLAGGED | IMAP_FLAG_DRAFT);
	assert_int_equal(st.flags.nkeywords, 2);	/* $Junk and $junk are one */
	assert_string_equal(st.flags.keywords[0], "$Junk");
	assert_string_equal(st.flags.keywords[1], "$MDNSent");

	store_ok("a STORE 2 -flags \\Seen \\Flagged\r\n", &st);
	assert_int_equal(st.op, IMAP_STORE_REMOVE);
	assert_int_equal(st.flags.system, IMAP_FLAG_SEEN | IMAP_FLAG_FLAGGED);

	store_ok("a STORE 2 FLAGS ()\r\n", &st);
	assert_int_equal(st.flags.system, 0);
	assert_int_equal(st.flags.nkeywords, 0);

	store_ok("a STORE 1:3 (UNCHANGEDSINCE 12345) -FLAGS.SILENT (\\Deleted)\r\n", &st);
	assert_true(st.has_unchangedsince);
	assert_true(st.unchangedsince == 12345);
	assert_true(st.silent);
	store_ok("a STORE 1 (unchangedsince 0) FLAGS (x)\r\n", &st);
	assert_true(st.has_unchangedsince);
	assert_true(st.unchangedsince == 0);

	store_bad("a STORE 1 FLAGS (\\Recent)\r\n", "\\Recent can not be set");
	store_bad("a STORE 1 +FLAGS \\Recent\r\n", "\\Recent can not be set");
	store_bad("a STORE 1 FLAGS (\\Foo)\r\n", "Unknown system flag");
	store_bad("a STORE 1 FLAGS (\"x\")\r\n", "Invalid flag");
	/* NIL is an atom, so a keyword (RFC 3501 9) */
	store_ok("a STORE 1 FLAGS (NIL)\r\n", &st);
	assert_int_equal(st.flags.nkeywords, 1);
	assert_string_equal(st.flags.keywords[0], "NIL");
	store_bad("a STORE 1 FLAGS (a]b)\r\n", "Invalid keyword");
	store_bad("a STORE 1 FLAGS (a*)\r\n", "Invalid keyword");
	store_bad("a STORE 1 FLAGS ((a))\r\n", "Invalid flag");
	store_bad("a STORE 1 FLAGS\r\n", "Missing flags");
	store_bad("a STORE 1\r\n", "Missing STORE data item");
	store_bad("a STORE 1 LABELS (x)\r\n", "Invalid STORE data item");
	store_bad("a STORE 1 *FLAGS (x)\r\n", "Invalid STORE data item");
	store_bad("a STORE 1 FLAGS.LOUD (x)\r\n", "Invalid STORE data item");
	store_bad("a STORE 1 FLAGS (x) (y)\r\n", "Too many STORE arguments");
	store_bad("a STORE 1 (UNCHANGEDSINCE) FLAGS (x)\r\n", "Invalid STORE modifier");
	store_bad("a STORE 1 (UNCHANGEDSINCE -1) FLAGS (x)\r\n", "Invalid STORE modifier");
	store_bad("a STORE 1 (FOO 1) FLAGS (x)\r\n", "Invalid STORE modifier");
}

static void test_keyword_valid(void **state)
{
	assert_true(imap_keyword_is_valid("$Label1", 7));
	assert_false(imap_keyword_is_valid("", 0));
	assert_false(imap_keyword_is_valid("a b", 3));
	assert_false(imap_keyword_is_valid("\\Seen", 5));
	assert_false(imap_keyword_is_valid("a\x80", 2));
	assert_false(imap_keyword_is_valid("a%", 2));
	assert_string_equal(imap_flag_name(IMAP_FLAG_SEEN), "\\Seen");
	assert_string_equal(imap_flag_name(IMAP_FLAG_DRAFT), "\\Draft");
	assert_null(imap_flag_name(0x100));
}

static void append_ok(const char *line, bool multi, struct imap_append *ap)
{
	const struct imap_command *c = imap_test_parse(parser, line);
	const char *err = NULL;

	if (imap_append_parse(c->args, c->count, multi, imap_parser_arena(parser), ap, &err) < 0)
		fail_msg("%s: %s", line, err);
}

static void append_bad(const char *line, bool multi, const char *error)
{
	const struct imap_command *c = imap_test_parse(parser, line);
	struct imap_append ap;
	const char *err = NULL;

	if (imap_append_parse(c->args, c->count, multi, imap_parser_arena(parser), &ap, &err) == 0)
		fail_msg("\"%s\" accepted", line);
	assert_string_equal(err, error);
}

static void test_append(void **state)
{
	struct imap_append ap;

	append_ok("a APPEND INBOX {5+}\r\nhello\r\n", false, &ap);
	assert_string_equal(ap.mailbox, "INBOX");
	assert_int_equal(ap.count, 1);
	assert_false(ap.msgs[0].has_date);
	assert_int_equal(ap.msgs[0].flags.system, 0);
	assert_string_equal(ap.msgs[0].literal->str, "hello");

	append_ok("a APPEND \"Sent Items\" (\\Seen \\Draft $x) \"05-Feb-2024 13:05:09 +0900\" "
		  "~{3}\r\nabc\r\n", false, &ap);
	assert_string_equal(ap.mailbox, "Sent Items");
	assert_int_equal(ap.msgs[0].flags.system, IMAP_FLAG_SEEN | IMAP_FLAG_DRAFT);
	assert_int_equal(ap.msgs[0].flags.nkeywords, 1);
	assert_true(ap.msgs[0].has_date);
	assert_int_equal(ap.msgs[0].date.date.day, 5);
	assert_int_equal(ap.msgs[0].date.hour, 13);
	assert_int_equal(ap.msgs[0].date.zone_minutes, 540);
	assert_true(ap.msgs[0].date.utc == 1707105909);	/* 2024-02-05T04:05:09Z */
	assert_true(ap.msgs[0].literal->literal8);
	assert_int_equal(ap.msgs[0].literal->len, 3);

	append_ok("a APPEND Drafts \" 1-Jan-2000 00:00:00 -0130\" {1+}\r\nx\r\n", false, &ap);
	assert_true(ap.msgs[0].date.utc == 946690200);

	/* MULTIAPPEND (RFC 3502) */
	append_ok("a APPEND INBOX {1+}\r\nx (\\Flagged) {1+}\r\ny \"01-Jan-2000 00:00:00 +0000\" {1+}\r\nz\r\n",
		  true, &ap);
	assert_int_equal(ap.count, 3);
	assert_int_equal(ap.msgs[1].flags.system, IMAP_FLAG_FLAGGED);
	assert_true(ap.msgs[2].has_date);
	assert_string_equal(ap.msgs[2].literal->str, "z");

	/* RFC 6855 UTF8 (literal8) */
	append_ok("a APPEND INBOX (\\Seen) UTF8 (~{2+}\r\nxy)\r\n", false, &ap);
	assert_true(ap.msgs[0].utf8);
	assert_string_equal(ap.msgs[0].literal->str, "xy");
	assert_int_equal(ap.msgs[0].flags.system, IMAP_FLAG_SEEN);
	append_bad("a APPEND INBOX UTF8 ({2+}\r\nxy)\r\n", false, "UTF8 needs (~{n} literal8)");
	append_bad("a APPEND INBOX UTF8 (~{2+}\r\nxy ~{1+}\r\nz)\r\n", false,
		   "UTF8 needs (~{n} literal8)");
	append_bad("a APPEND INBOX UTF8 ~{2+}\r\nxy\r\n", false, "UTF8 needs (~{n} literal8)");
	append_bad("a APPEND INBOX UTF8\r\n", false, "Missing message literal");

	append_bad("a APPEND INBOX {1+}\r\nx {1+}\r\ny\r\n", false, "Too many APPEND arguments");
	append_bad("a APPEND INBOX\r\n", false, "Missing APPEND arguments");
	append_bad("a APPEND (x) {1+}\r\nx\r\n", false, "Missing APPEND arguments");
	append_bad("a APPEND INBOX \"hello\"\r\n", false, "Invalid date-time");
	append_bad("a APPEND INBOX (\\Seen)\r\n", false, "Missing message literal");
	append_bad("a APPEND INBOX (\\Recent) {1+}\r\nx\r\n", false, "\\Recent can not be set");
	append_bad("a APPEND INBOX hello\r\n", false, "Missing message literal");
	append_bad("a APPEND INBOX \"05-Feb-2024 25:05:09 +0900\" {1+}\r\nx\r\n", false,
		   "Invalid date-time");
	append_bad("a APPEND INBOX {1+}\r\nx (\\Seen)\r\n", true, "Missing message literal");
}

/* A streamed message literal appears with streamed set and no bytes. */
static void test_append_streamed(void **state)
{
	struct imap_parser_limits lim = { .stream_min = 2 };
	struct imap_parser *p = imap_parser_new(&lim);
	static const char in[] = "a APPEND INBOX (\\Seen) {5+}\r\nhello\r\n";
	struct imap_append ap;
	const char *err = NULL;
	size_t off = 0, used;
	int r;

	do {
		r = imap_parser_feed(p, (const unsigned char *)in + off, sizeof(in) - 1 - off, &used);
		off += used;
	} while (r == IMAP_PARSE_LITERAL_START || r == IMAP_PARSE_LITERAL_DATA);
	assert_int_equal(r, IMAP_PARSE_COMMAND);
	const struct imap_command *c = imap_parser_get_command(p);
	assert_int_equal(imap_append_parse(c->args, c->count, false, imap_parser_arena(p), &ap, &err), 0);
	assert_true(ap.msgs[0].literal->streamed);
	assert_int_equal(ap.msgs[0].literal->len, 5);
	assert_null(ap.msgs[0].literal->str);
	imap_parser_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_store),
		cmocka_unit_test(test_keyword_valid),
		cmocka_unit_test(test_append),
		cmocka_unit_test(test_append_streamed),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
