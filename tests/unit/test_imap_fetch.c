/* Unit tests for src/proto/imap_fetch.c, through the command parser. */
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
#include "proto/imap_fetch.h"

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

/* Parses "FETCH <set> <args>" and returns the item response names joined
 * by spaces, with flags: "!" peek. */
static const char *fetch_names(const char *line, struct imap_fetch *f, struct strbuf *b)
{
	const struct imap_command *c = imap_test_parse(parser, line);
	const char *err = NULL;

	if (imap_fetch_parse(c->args + 1, c->count - 1, c->uid, imap_parser_arena(parser), f,
			     &err) < 0)
		fail_msg("%s: %s", line, err);
	strbuf_truncate(b, 0);
	for (size_t i = 0; i < f->count; i++)
		strbuf_printf(b, "%s%s%s", i > 0 ? " " : "", f->items[i].response_name,
			      f->items[i].peek ? "!" : "");
	return strbuf_cstr(b);
}

static void check_names(const char *line, const char *expected)
{
	struct imap_fetch f;
	struct strbuf b = STRBUF_INIT;

	assert_string_equal(fetch_names(line, &f, &b), expected);
	strbuf_free(&b);
}

static void check_bad(const char *line)
{
	const struct imap_command *c = imap_test_parse(parser, line);
	struct imap_fetch f;
	const char *err = NULL;

	if (imap_fetch_parse(c->args + 1, c->count - 1, c->uid, imap_parser_arena(parser), &f,
			     &err) == 0)
		fail_msg("\"%s\" accepted", line);
	assert_non_null(err);
}

static void test_macros(void **state)
{
	check_names("a FETCH 1 ALL\r\n", "FLAGS INTERNALDATE RFC822.SIZE ENVELOPE");
	check_names("a FETCH 1 fast\r\n", "FLAGS INTERNALDATE RFC822.SIZE");
	check_names("a FETCH 1 FULL\r\n", "FLAGS INTERNALDATE RFC822.SIZE ENVELOPE BODY");
	check_names("a UID FETCH 1 FULL\r\n", "FLAGS INTERNALDATE RFC822.SIZE ENVELOPE BODY UID");
	check_bad("a FETCH 1 (ALL)\r\n");
	check_bad("a FETCH 1 (FLAGS FAST)\r\n");
}

static void test_simple(void **state)
{
	struct imap_fetch f;
	struct strbuf b = STRBUF_INIT;

	check_names("a FETCH 1:* (flags internaldate rfc822 rfc822.header rfc822.size rfc822.text "
		    "envelope body bodystructure uid modseq)\r\n",
		    "FLAGS INTERNALDATE RFC822 RFC822.HEADER RFC822.SIZE RFC822.TEXT ENVELOPE BODY "
		    "BODYSTRUCTURE UID MODSEQ");
	assert_string_equal(fetch_names("a FETCH 1 UID\r\n", &f, &b), "UID");
	assert_int_equal(f.items[0].type, IMAP_FETCH_UID);
	assert_false(f.sets_seen);
	/* UID FETCH adds UID once */
	check_names("a UID FETCH 1 (UID FLAGS)\r\n", "UID FLAGS");
	check_names("a UID FETCH 1 FLAGS\r\n", "FLAGS UID");
	fetch_names("a FETCH 1 RFC822\r\n", &f, &b);
	assert_true(f.sets_seen);
	fetch_names("a FETCH 1 RFC822.HEADER\r\n", &f, &b);
	assert_false(f.sets_seen);
	fetch_names("a FETCH 1 RFC822.TEXT\r\n", &f, &b);
	assert_true(f.sets_seen);
	check_bad("a FETCH 1 FOO\r\n");
	check_bad("a FETCH 1 ()\r\n");
	check_bad("a FETCH 1\r\n");
	check_bad("a FETCH 1 \"FLAGS\"\r\n");
	check_bad("a FETCH 1 (FLAGS \"UID\")\r\n");
	check_bad("a FETCH 1 (FLAGS NIL)\r\n");
	check_bad("a FETCH 1 (FLAGS (UID))\r\n");
	check_bad("a FETCH 1 RFC822.SIZEX\r\n");
	check_bad("a FETCH 1 BODY.PEEK\r\n");
	strbuf_free(&b);
}

static void test_sections(void **state)
{
	struct imap_fetch f;
	struct strbuf b = STRBUF_INIT;
	const struct imap_fetch_item *it;

	check_names("a FETCH 1 (BODY[] BODY.PEEK[] body[header] BODY[TEXT] BODY[1] BODY[1.2.3] "
		    "BODY[1.2.HEADER] BODY[2.MIME] BODY[3.TEXT])\r\n",
		    "BODY[] BODY[]! BODY[HEADER] BODY[TEXT] BODY[1] BODY[1.2.3] BODY[1.2.HEADER] "
		    "BODY[2.MIME] BODY[3.TEXT]");
	fetch_names("a FETCH 1 BODY.PEEK[1.2.HEADER.FIELDS (From \"To\" x-Spam)]<10.200>\r\n", &f, &b);
	assert_string_equal(b.data, "BODY[1.2.HEADER.FIELDS (From To x-Spam)]<10>!");
	it = &f.items[0];
	assert_int_equal(it->type, IMAP_FETCH_BODY_SECTION);
	assert_true(it->peek);
	assert_int_equal(it->section.nparts, 2);
	assert_int_equal(it->section.parts[0], 1);
	assert_int_equal(it->section.parts[1], 2);
	assert_int_equal(it->section.text, IMAP_SECTION_HEADER_FIELDS);
	assert_int_equal(it->section.nfields, 3);
	assert_string_equal(it->section.fields[0], "From");
	assert_string_equal(it->section.fields[1], "To");
	assert_string_equal(it->section.fields[2], "x-Spam");
	assert_true(it->partial);
	assert_int_equal(it->offset, 10);
	assert_int_equal(it->length, 200);
	assert_false(f.sets_seen);

	fetch_names("a FETCH 1 BODY[HEADER.FIELDS.NOT (Received)]\r\n", &f, &b);
	assert_string_equal(b.data, "BODY[HEADER.FIELDS.NOT (Received)]");
	assert_int_equal(f.items[0].section.text, IMAP_SECTION_HEADER_FIELDS_NOT);
	assert_int_equal(f.items[0].section.nparts, 0);
	assert_true(f.sets_seen);

	fetch_names("a FETCH 1 BODY[]<0.4294967295>\r\n", &f, &b);
	assert_string_equal(b.data, "BODY[]<0>");
	assert_int_equal(f.items[0].length, 4294967295u);

	check_bad("a FETCH 1 BODY[MIME]\r\n");		/* MIME needs a part */
	check_bad("a FETCH 1 BODY[0]\r\n");
	check_bad("a FETCH 1 BODY[1.]\r\n");
	check_bad("a FETCH 1 BODY[.1]\r\n");
	check_bad("a FETCH 1 BODY[1..2]\r\n");
	check_bad("a FETCH 1 BODY[4294967296]\r\n");
	check_bad("a FETCH 1 BODY[HEADER.FIELDS]\r\n");
	check_bad("a FETCH 1 BODY[HEADER.FIELDS ()]\r\n");
	check_bad("a FETCH 1 BODY[HEADER.FIELDS (a:b)]\r\n");
	check_bad("a FETCH 1 BODY[HEADER.FIELDS (a  b)]\r\n");
	check_bad("a FETCH 1 BODY[HEADER.FIELDS (a b]\r\n");
	check_bad("a FETCH 1 BODY[HEADER.FIELDS a]\r\n");
	check_bad("a FETCH 1 BODY[TEXT.HEADER]\r\n");
	check_bad("a FETCH 1 BODY[1.TEXT.MIME]\r\n");
	check_bad("a FETCH 1 BODY[]<0>\r\n");
	check_bad("a FETCH 1 BODY[]<0.0>\r\n");
	check_bad("a FETCH 1 BODY[]<.5>\r\n");
	check_bad("a FETCH 1 BODY[]<1.5\r\n");
	check_bad("a FETCH 1 BODY[]<4294967296.1>\r\n");
	check_bad("a FETCH 1 BODY[]x\r\n");
	check_bad("a FETCH 1 BODYX[]\r\n");
	check_bad("a FETCH 1 BODY.PEEK.X[]\r\n");
	check_bad("a FETCH 1 RFC822[]\r\n");
	strbuf_free(&b);
}

static void test_binary(void **state)
{
	struct imap_fetch f;
	struct strbuf b = STRBUF_INIT;

	fetch_names("a FETCH 1 (BINARY[1.2]<0.100> BINARY.PEEK[] BINARY.SIZE[3])\r\n", &f, &b);
	assert_string_equal(b.data, "BINARY[1.2]<0> BINARY[]! BINARY.SIZE[3]");
	assert_int_equal(f.items[0].type, IMAP_FETCH_BINARY);
	assert_int_equal(f.items[1].type, IMAP_FETCH_BINARY);
	assert_int_equal(f.items[2].type, IMAP_FETCH_BINARY_SIZE);
	assert_int_equal(f.items[2].section.parts[0], 3);
	assert_true(f.sets_seen);
	check_bad("a FETCH 1 BINARY[TEXT]\r\n");
	check_bad("a FETCH 1 BINARY[1.HEADER]\r\n");
	check_bad("a FETCH 1 BINARY.SIZE[1]<0.5>\r\n");
	strbuf_free(&b);
}

static void test_modifiers(void **state)
{
	struct imap_fetch f;
	struct strbuf b = STRBUF_INIT;

	fetch_names("a FETCH 1:* (FLAGS) (CHANGEDSINCE 12345)\r\n", &f, &b);
	assert_string_equal(b.data, "FLAGS MODSEQ");
	assert_true(f.has_changedsince);
	assert_true(f.changedsince == 12345);
	assert_false(f.vanished);
	fetch_names("a UID FETCH 1:* (FLAGS MODSEQ) (CHANGEDSINCE 9223372036854775807 VANISHED)\r\n",
		    &f, &b);
	assert_string_equal(b.data, "FLAGS MODSEQ UID");
	assert_true(f.vanished);
	assert_true(f.changedsince == 9223372036854775807ULL);
	check_bad("a FETCH 1 FLAGS (CHANGEDSINCE 1 VANISHED)\r\n");	/* not UID FETCH */
	check_bad("a UID FETCH 1 FLAGS (VANISHED)\r\n");
	check_bad("a FETCH 1 FLAGS (CHANGEDSINCE)\r\n");
	check_bad("a FETCH 1 FLAGS (CHANGEDSINCE x)\r\n");
	check_bad("a FETCH 1 FLAGS (CHANGEDSINCE 9223372036854775808)\r\n");
	check_bad("a FETCH 1 FLAGS (CHANGEDSINCE 1 CHANGEDSINCE 2)\r\n");
	check_bad("a FETCH 1 FLAGS (FOO 1)\r\n");
	check_bad("a FETCH 1 FLAGS ()\r\n");
	check_bad("a FETCH 1 FLAGS CHANGEDSINCE 1\r\n");
	strbuf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_macros),
		cmocka_unit_test(test_simple),
		cmocka_unit_test(test_sections),
		cmocka_unit_test(test_binary),
		cmocka_unit_test(test_modifiers),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
