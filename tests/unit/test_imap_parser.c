/* Unit tests for src/proto/imap_parser.c: every sample is fed at once, one
 * byte at a time and in 3-byte pieces, and must give the same events. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "imap_test_util.h"

#define S(lit) lit, sizeof(lit) - 1

static void check_lim(const struct imap_parser_limits *lim, const char *in, size_t len,
		      unsigned flags, const char *expected)
{
	static const size_t chunks[] = { 0, 1, 3, 7 };

	for (size_t k = 0; k < sizeof(chunks) / sizeof(chunks[0]); k++) {
		struct strbuf log = STRBUF_INIT;

		imap_test_run(lim, in, len, chunks[k] == 0 ? len : chunks[k], flags, &log);
		if (strcmp(strbuf_cstr(&log), expected) != 0)
			fail_msg("chunk %zu: input \"%.*s\"\ngot:\n%s\nexpected:\n%s", chunks[k],
				 (int)len, in, strbuf_cstr(&log), expected);
		strbuf_free(&log);
	}
}

static void check(const char *in, size_t len, const char *expected)
{
	check_lim(NULL, in, len, 0, expected);
}

static void test_simple(void **state)
{
	check(S("a1 NOOP\r\n"), "CMD a1 NOOP\n");
	check(S("a1 noop\r\n"), "CMD a1 NOOP\n");
	check(S("a2 login alice \"pa ss\\\"w\\\\\"\r\n"), "CMD a2 LOGIN alice \"pa ss\"w\\\"\n");
	check(S("A003 CAPABILITY\r\nA004 LOGOUT\r\n"), "CMD A003 CAPABILITY\nCMD A004 LOGOUT\n");
	check(S("c1 NOOP\n"), "CMD c1 NOOP\n");
	check(S("g3 X a  b \r\n"), "CMD g3 X a b\n");
	check(S("t] SELECT INBOX\r\n"), "CMD t] SELECT INBOX\n");
	check(S("f1 UID\r\n"), "CMD f1 UID\n");
	check(S("f2 uid expunge 1:3\r\n"), "CMD f2 UID EXPUNGE 1:3\n");
	check(S("f4 X ~abc ~\r\n"), "CMD f4 X ~abc ~\n");
	check(S("a8 X NIL nil \"NIL\" NILS\r\n"), "CMD a8 X <NIL> <NIL> \"NIL\" NILS\n");
	check(S("a SEARCH \"\"\r\n"), "CMD a SEARCH \"\"\n");
	/* "[" opens a section only after a FETCH item name */
	check(S("a[1 SELECT foo[bar (x[ y]) ]z\r\n"), "CMD a[1 SELECT foo[bar (x[ y]) ]z\n");
	check(S("a FETCH 1 (body[TEXT] Body.Peek[1 2])\r\n"), "CMD a FETCH 1 (body[TEXT] Body.Peek[1 2])\n");
	/* UTF8=ACCEPT: 8-bit UTF-8 in quoted strings */
	check(S("b8 SELECT \"\xc3\xa9t\xc3\xa9\"\r\n"), "CMD b8 SELECT \"\xc3\xa9t\xc3\xa9\"\n");
}

static void test_lists(void **state)
{
	check(S("a9 X (a (b (c)) ()) d\r\n"), "CMD a9 X (a (b (c)) ()) d\n");
	check(S("a9 X ()\r\n"), "CMD a9 X ()\n");
	check(S("a9 X ((((x))))\r\n"), "CMD a9 X ((((x))))\n");
	check(S("a LIST (SUBSCRIBED REMOTE) \"\" (\"%\" \"INBOX*\") RETURN (CHILDREN STATUS (MESSAGES SIZE))\r\n"),
	      "CMD a LIST (SUBSCRIBED REMOTE) \"\" (\"%\" \"INBOX*\") RETURN (CHILDREN STATUS (MESSAGES SIZE))\n");
	check(S("a STORE 1:* (UNCHANGEDSINCE 200) +FLAGS.SILENT (\\Deleted $Junk)\r\n"),
	      "CMD a STORE 1:* (UNCHANGEDSINCE 200) +FLAGS.SILENT (\\Deleted $Junk)\n");
	check(S("a ID (\"name\" \"x\" \"version\" NIL)\r\n"),
	      "CMD a ID (\"name\" \"x\" \"version\" <NIL>)\n");
}

static void test_fetch_atoms(void **state)
{
	check(S("a3 UID fetch 1:* (FLAGS BODY.PEEK[HEADER.FIELDS (From To)]<0.100>)\r\n"),
	      "CMD a3 UID FETCH 1:* (FLAGS BODY.PEEK[HEADER.FIELDS (From To)]<0.100>)\n");
	check(S("f5 FETCH 1 BODY[HEADER.FIELDS (\"X-A]\" B)]\r\n"),
	      "CMD f5 FETCH 1 BODY[HEADER.FIELDS (\"X-A]\" B)]\n");
	check(S("f5 FETCH 1 (BODY[] BINARY[1.2]<5.10> BINARY.SIZE[3])\r\n"),
	      "CMD f5 FETCH 1 (BODY[] BINARY[1.2]<5.10> BINARY.SIZE[3])\n");
	check(S("f6 FETCH 1 BODY[TEXT\r\nf7 NOOP\r\n"),
	      "ERR BAD f6: Missing ']'\nCMD f7 NOOP\n");
}

static void test_literals(void **state)
{
	check(S("a4 LOGIN {5}\r\nalice {3}\r\npw!\r\n"),
	      "CONT 5 sync\nCONT 3 sync\nCMD a4 LOGIN {5}alice {3}pw!\n");
	check(S("a5 APPEND INBOX {3+}\r\nabc\r\n"), "CMD a5 APPEND INBOX {3}abc\n");
	check(S("a6 APPEND INBOX ~{3}\r\na\0b\r\n"), "CONT 3 sync\nCMD a6 APPEND INBOX ~{3}a\\0b\n");
	check(S("a6 APPEND INBOX ~{3+}\r\na\0b\r\n"), "CMD a6 APPEND INBOX ~{3}a\\0b\n");
	check(S("a7 APPEND INBOX {3+}\r\na\0b\r\na8 NOOP\r\n"),
	      "ERR BAD a7: NUL in literal (use literal8)\nCMD a8 NOOP\n");
	check(S("f3 LOGIN {0}\r\n {0+}\r\n\r\n"), "CONT 0 sync\nCMD f3 LOGIN {0} {0}\n");
	/* a literal holding CRLF and parentheses */
	check(S("a X ({4+}\r\n)\r\n( {1}\r\n\")\r\n"),
	      "CONT 1 sync\nCMD a X ({4})\\r\\n( {1}\")\n");
	/* bare LF after the literal size */
	check(S("a X {2}\nab\n"), "CONT 2 sync\nCMD a X {2}ab\n");
	check(S("a X {2}x\r\nb NOOP\r\n"), "ERR BAD a: Missing CRLF after literal size\nCMD b NOOP\n");
	check(S("a X {}\r\nb NOOP\r\n"), "ERR BAD a: Invalid literal size\nCMD b NOOP\n");
	check(S("a X {1+2}\r\n"), "ERR BAD a: Invalid literal size\n");
	check(S("a X {-1}\r\n"), "ERR BAD a: Invalid literal size\n");
	check(S("a X {1}{\r\n"), "ERR BAD a: Missing CRLF after literal size\n");
	check(S("a X {1}ab\r\n"), "ERR BAD a: Missing CRLF after literal size\n");
	check(S("a X a{1}\r\n"), "ERR BAD a: Missing space between arguments\n");
}

static void test_literal_limits(void **state)
{
	struct imap_parser_limits lim = { .max_literal = 10, .max_literal_mem = 4 };
	struct imap_parser_limits minus = { .literal_minus = true };

	check_lim(&lim, S("c3 APPEND INBOX {11}\r\nc4 NOOP\r\n"),
		  0, "ERR TOOBIG c3: Literal too big\nCMD c4 NOOP\n");
	check_lim(&lim, S("c5 APPEND INBOX {11+}\r\n0123456789a\r\n"),
		  0, "ERR TOOBIG FATAL c5: Literal too big\n");
	/* fits the literal limit but not the memory budget */
	check_lim(&lim, S("c6 X {5}\r\nc7 NOOP\r\n"), 0,
		  "ERR TOOBIG c6: Literal too big\nCMD c7 NOOP\n");
	check_lim(&lim, S("c6 X {5+}\r\nhello\r\nc7 NOOP\r\n"), 0,
		  "ERR TOOBIG c6: Literal too big\nCMD c7 NOOP\n");
	check_lim(&lim, S("c6 X {2+}\r\nhe {2+}\r\nll {1}\r\nc7 NOOP\r\n"), 0,
		  "ERR TOOBIG c6: Literal too big\nCMD c7 NOOP\n");
	check_lim(&lim, S("d2 X {99999999999999999999999}\r\nd3 NOOP\r\n"), 0,
		  "ERR TOOBIG d2: Literal too big\nCMD d3 NOOP\n");
	check_lim(&lim, S("d2 X {99999999999999999999999+}\r\n"), 0,
		  "ERR TOOBIG FATAL d2: Literal too big\n");
	check_lim(&minus, S("m1 X {4097+}\r\n"), 0,
		  "ERR TOOBIG FATAL m1: Non-synchronizing literal over 4096 bytes\n");
	check_lim(&minus, S("m1 X {4097}\r\n"), 0, "CONT 4097 sync\n");
	check_lim(&minus, S("m1 X {3+}\r\nabc\r\n"), 0, "CMD m1 X {3}abc\n");
	check_lim(&lim, S("r1 APPEND Foo {3}\r\nr2 NOOP\r\n"), RUN_REJECT_CONT,
		  "CONT 3 sync\nREJECT\nCMD r2 NOOP\n");
	check_lim(&lim, S("r1 APPEND Foo {0}\r\nr2 NOOP\r\n"), RUN_REJECT_CONT,
		  "CONT 0 sync\nREJECT\nCMD r2 NOOP\n");
}

static void test_streaming(void **state)
{
	struct imap_parser_limits lim = { .stream_min = 4 };

	check_lim(&lim, S("e1 APPEND INBOX (\\Seen) {10}\r\n0123456789\r\n"), 0,
		  "LSTART 10 sync\nDATA 10:0123456789\n"
		  "CMD e1 APPEND INBOX (\\Seen) {10 streamed}\n");
	check_lim(&lim, S("e1 APPEND INBOX {3}\r\nabc\r\n"), 0, "CONT 3 sync\nCMD e1 APPEND INBOX {3}abc\n");
	check_lim(&lim, S("e2 APPEND INBOX {4+}\r\nab\0\r {5+}\r\n\r\n\r\n\r\n"), 0,
		  "LSTART 4\nDATA 4:ab\\0\\r\nLSTART 5\nDATA 5:\\r\\n\\r\\n\\r\n"
		  "CMD e2 APPEND INBOX {4 streamed} {5 streamed}\n");
	check_lim(&lim, S("e3 APPEND INBOX {10}\r\ne4 NOOP\r\n"), RUN_REJECT_CONT,
		  "LSTART 10 sync\nREJECT\nCMD e4 NOOP\n");
}

static void test_partial(void **state)
{
	struct imap_parser_limits lim = { .stream_min = 4 };
	struct imap_parser *p = imap_parser_new(&lim);
	static const char in[] = "e1 APPEND \"Sent Items\" (\\Seen) \"05-Feb-2024 10:00:00 +0900\" {10}\r\n";
	struct imap_command c;
	size_t used;

	assert_int_equal(imap_parser_feed(p, (const unsigned char *)"e1 APP", 6, &used), 0);
	assert_int_equal(used, 6);
	assert_string_equal(imap_parser_get_tag(p), "e1");
	assert_int_equal(imap_parser_get_partial(p, &c), -1);
	assert_int_equal(imap_parser_feed(p, (const unsigned char *)in + 6, sizeof(in) - 7, &used),
			 IMAP_PARSE_LITERAL_START);
	assert_int_equal(used, sizeof(in) - 7);
	assert_int_equal(imap_parser_get_partial(p, &c), 0);
	assert_string_equal(c.name, "APPEND");
	assert_int_equal(c.count, 3);
	assert_string_equal(imap_arg_astring(&c.args[0]), "Sent Items");
	assert_int_equal(c.args[1].type, IMAP_ARG_LIST);
	assert_int_equal(c.args[2].type, IMAP_ARG_STRING);
	assert_int_equal(imap_parser_get_literal(p)->size, 10);
	assert_true(imap_parser_get_literal(p)->sync);
	assert_int_equal(imap_parser_feed(p, (const unsigned char *)"0123", 4, &used),
			 IMAP_PARSE_LITERAL_DATA);
	assert_int_equal(used, 4);
	assert_int_equal(imap_parser_feed(p, (const unsigned char *)"456789\r\nx", 9, &used),
			 IMAP_PARSE_LITERAL_DATA);
	assert_int_equal(used, 6);
	assert_int_equal(imap_parser_feed(p, (const unsigned char *)"\r\nx", 3, &used),
			 IMAP_PARSE_COMMAND);
	assert_int_equal(used, 2);
	assert_int_equal(imap_parser_get_command(p)->count, 4);
	assert_true(imap_parser_get_command(p)->args[3].streamed);
	assert_null(imap_parser_get_command(p)->args[3].str);
	assert_int_equal(imap_parser_get_command(p)->args[3].len, 10);
	imap_parser_command_free(p);
	assert_int_equal(imap_arena_used(imap_parser_arena(p)), 0);
	imap_parser_free(p);
	imap_parser_free(NULL);
}

static void test_errors(void **state)
{
	check(S("b1 X a)\r\nb2 NOOP\r\n"), "ERR BAD b1: Unexpected ')'\nCMD b2 NOOP\n");
	check(S("b3 X (a\r\n"), "ERR BAD b3: Missing ')'\n");
	check(S("\r\n"), "ERR BAD *: Empty command line\n");
	check(S("\n\n"), "ERR BAD *: Empty command line\nERR BAD *: Empty command line\n");
	check(S("b4\r\n"), "ERR BAD b4: Missing command\n");
	check(S(" b4 NOOP\r\n"), "ERR BAD *: Missing tag\n");
	check(S("b4  NOOP\r\n"), "ERR BAD b4: Missing command\n");
	check(S("b*5 NOOP\r\n"), "ERR BAD *: Invalid tag\n");
	check(S("+ NOOP\r\n"), "ERR BAD *: Invalid tag\n");
	check(S("b\"5 NOOP\r\n"), "ERR BAD *: Invalid tag\n");
	check(S("b6 NOOP\0\r\n"), "ERR BAD b6: Invalid command name\n");
	check(S("b6 NOOP \0\r\n"), "ERR BAD b6: NUL in command\n");
	check(S("b7 X a\xff\r\n"), "ERR BAD b7: Invalid character in command\n");
	check(S("b7 X \xff\r\n"), "ERR BAD b7: Invalid character in command\n");
	check(S("b7 X\xff\r\n"), "ERR BAD b7: Invalid command name\n");
	check(S("b7 X \x01\r\n"), "ERR BAD b7: Invalid character in command\n");
	check(S("c2 NOOP\rX\r\nc3 NOOP\r\n"), "ERR BAD c2: CR without LF\nCMD c3 NOOP\n");
	check(S("g1 X \"a\\b\"\r\n"), "ERR BAD g1: Invalid escape in quoted string\n");
	check(S("g1 X \"ab\r\n"), "ERR BAD g1: Missing '\"'\n");
	check(S("g1 X \"a\0b\"\r\n"), "ERR BAD g1: NUL in quoted string\n");
	check(S("g1 X a(b)\r\n"), "ERR BAD g1: Missing space between arguments\n");
	check(S("g1 X \"a\"b\r\n"), "ERR BAD g1: Missing space between arguments\n");
	check(S("g1 X (a)(b)\r\n"), "ERR BAD g1: Missing space between arguments\n");
	check(S("g1 X {\r\n"), "ERR BAD g1: Invalid literal size\n");
	check(S("g1 X BODY[\0]\r\n"), "ERR BAD g1: Invalid character in command\n");
	/* a bad line ending in {n+}: its literal is skipped too */
	check(S("c8 X ) {5+}\r\nhel\r\n world\r\nc9 NOOP\r\n"),
	      "ERR BAD c8: Unexpected ')'\nCMD c9 NOOP\n");
	check(S("c8 X ) {5+}\r\nhello {2+}\r\n\r\n\r\nc9 NOOP\r\n"),
	      "ERR BAD c8: Unexpected ')'\nCMD c9 NOOP\n");
	/* ... but a {n} gets no continuation, so the line ends there */
	check(S("c8 X ) {5}\r\nc9 NOOP\r\n"), "ERR BAD c8: Unexpected ')'\nCMD c9 NOOP\n");
	check(S("c8 X ) {5+} x\r\nc9 NOOP\r\n"), "ERR BAD c8: Unexpected ')'\nCMD c9 NOOP\n");
}

static void test_limits(void **state)
{
	struct imap_parser_limits small = { .max_line = 64, .max_args = 5, .max_depth = 3 };
	struct strbuf in = STRBUF_INIT, exp = STRBUF_INIT;

	check_lim(&small, S("d1 X a b c d e\r\nd2 X a b c d e f\r\nd3 NOOP\r\n"), 0,
		  "CMD d1 X a b c d e\nERR BAD d2: Too many arguments\nCMD d3 NOOP\n");
	check_lim(&small, S("d1 X (a b) (c d)\r\n"), 0, "ERR BAD d1: Too many arguments\n");
	check_lim(&small, S("d1 X a b c d e {1}\r\n"), 0, "ERR BAD d1: Too many arguments\n");
	check_lim(&small, S("d1 X (((a)))\r\nd2 X ((((a))))\r\n"), 0,
		  "CMD d1 X (((a)))\nERR BAD d2: Too deeply nested lists\n");
	check_lim(&small, S("d1 X aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n"), 0,
		  "ERR BAD FATAL d1: Command line too long\n");
	/* 64 bytes exactly, CRLF included */
	check_lim(&small, S("d1 X aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n"), 0,
		  "CMD d1 X aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n");
	/* the limit counts skipped bytes too */
	check_lim(&small, S("d1 X ) aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n"), 0,
		  "ERR BAD FATAL d1: Command line too long\n");
	/* literal bytes do not count against the line */
	check_lim(&small, S("d1 X {70+}\r\naaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n"), 0,
		  "CMD d1 X {70}aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n");

	/* default depth limit: 100 */
	strbuf_append_str(&in, "n1 X ");
	for (int i = 0; i < 100; i++)
		strbuf_append_c(&in, '(');
	for (int i = 0; i < 100; i++)
		strbuf_append_c(&in, ')');
	strbuf_append_str(&in, "\r\nn2 X ");
	for (int i = 0; i < 101; i++)
		strbuf_append_c(&in, '(');
	strbuf_append_str(&in, "\r\n");
	strbuf_append_str(&exp, "CMD n1 X ");
	for (int i = 0; i < 100; i++)
		strbuf_append_c(&exp, '(');
	for (int i = 0; i < 100; i++)
		strbuf_append_c(&exp, ')');
	strbuf_append_str(&exp, "\nERR BAD n2: Too deeply nested lists\n");
	check(in.data, in.len, exp.data);
	strbuf_free(&in);
	strbuf_free(&exp);
}

static void test_fatal_sticks(void **state)
{
	struct imap_parser_limits lim = { .max_literal = 10 };
	struct imap_parser *p = imap_parser_new(&lim);
	size_t used;

	assert_int_equal(imap_parser_feed(p, (const unsigned char *)"a X {11+}\r\nb NOOP\r\n", 19, &used),
			 IMAP_PARSE_ERROR);
	assert_int_equal(used, 11);
	assert_true(imap_parser_get_error(p)->fatal);
	assert_int_equal(imap_parser_feed(p, (const unsigned char *)"b NOOP\r\n", 8, &used),
			 IMAP_PARSE_ERROR);
	assert_int_equal(used, 0);
	imap_parser_reset(p);
	assert_int_equal(imap_parser_feed(p, (const unsigned char *)"b NOOP\r\n", 8, &used),
			 IMAP_PARSE_COMMAND);
	imap_parser_free(p);
}

static void test_arg_helpers(void **state)
{
	struct imap_parser *p = imap_parser_new(NULL);
	static const char in[] = "a X 0 4294967295 4294967296 9223372036854775807 9223372036854775808 \"7\" 01 NIL {2+}\r\nab\r\n";
	const struct imap_command *c;
	uint32_t n;
	uint64_t m;
	size_t used;

	assert_int_equal(imap_parser_feed(p, (const unsigned char *)in, sizeof(in) - 1, &used),
			 IMAP_PARSE_COMMAND);
	c = imap_parser_get_command(p);
	assert_int_equal(c->count, 9);
	assert_int_equal(imap_arg_number(&c->args[0], &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(imap_arg_nz_number(&c->args[0], &n), -1);
	assert_int_equal(imap_arg_nz_number(&c->args[1], &n), 0);
	assert_int_equal(n, 4294967295u);
	assert_int_equal(imap_arg_number(&c->args[2], &n), -1);
	assert_int_equal(imap_arg_modseq(&c->args[3], false, &m), 0);
	assert_true(m == 9223372036854775807ULL);
	assert_int_equal(imap_arg_modseq(&c->args[4], false, &m), -1);
	assert_int_equal(imap_arg_modseq(&c->args[0], false, &m), -1);
	assert_int_equal(imap_arg_modseq(&c->args[0], true, &m), 0);
	assert_int_equal(imap_arg_number(&c->args[5], &n), -1);	/* quoted: not a number */
	assert_int_equal(imap_arg_number(&c->args[6], &n), 0);
	assert_true(imap_arg_is_nil(&c->args[7]));
	assert_string_equal(imap_arg_astring(&c->args[7]), "NIL");
	assert_null(imap_arg_string(&c->args[7]));
	assert_string_equal(imap_arg_string(&c->args[8]), "ab");
	assert_null(imap_arg_atom(&c->args[8]));
	assert_true(imap_arg_is_atom(&c->args[1], "4294967295"));
	assert_null(imap_arg_astring(NULL));
	imap_parser_free(p);
}

/* Random and mutated inputs: splitting must never change the result. */
static void test_split_invariance(void **state)
{
#define SEED(lit) { lit, sizeof(lit) - 1 }
	static const struct { const char *s; size_t len; } seeds[] = {
		SEED("a1 LOGIN {5}\r\nalice \"pw\"\r\n"),
		SEED("a2 FETCH 1:* (BODY[HEADER.FIELDS (A)]<0.5>)\r\n"),
		SEED("a3 APPEND INBOX (\\Seen) {3+}\r\nabc\r\n"),
		SEED("a4 X ((a) \"b\\\\\" ~{2}\r\n\0\0)\r\n"),
		SEED("a5 X ) {3+}\r\nxyz\r\n"), SEED("\r\n"),
		SEED("a6 SEARCH OR (FROM x) NOT 1:3\r\n"),
		SEED("a7 APPEND INBOX {25+}\r\n0123456789012345678901234 {2}\r\nab\r\n"),
	};
	struct imap_parser_limits lim = { .max_line = 200, .max_literal = 64, .max_literal_mem = 32,
					  .max_depth = 4, .max_args = 12, .stream_min = 20 };
	unsigned seed = 12345;

	for (int iter = 0; iter < 3000; iter++) {
		char buf[256];
		size_t len = 0;
		struct strbuf a = STRBUF_INIT, b = STRBUF_INIT;

		while (len < 120) {
			size_t k = ((seed = seed * 1103515245 + 12345) >> 16) % 8;
			size_t n = seeds[k].len;

			if (len + n > sizeof(buf))
				break;
			memcpy(buf + len, seeds[k].s, n);
			len += n;
		}
		for (int m = 0; m < 4; m++) {
			seed = seed * 1103515245 + 12345;
			buf[(seed >> 8) % len] = (char)(seed >> 20);
		}
		imap_test_run(&lim, buf, len, len, 0, &a);
		imap_test_run(&lim, buf, len, 1, 0, &b);
		if (strcmp(strbuf_cstr(&a), strbuf_cstr(&b)) != 0)
			fail_msg("split changed the result:\n%s\nvs\n%s", strbuf_cstr(&a), strbuf_cstr(&b));
		strbuf_free(&a);
		strbuf_free(&b);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_simple),
		cmocka_unit_test(test_lists),
		cmocka_unit_test(test_fetch_atoms),
		cmocka_unit_test(test_literals),
		cmocka_unit_test(test_literal_limits),
		cmocka_unit_test(test_streaming),
		cmocka_unit_test(test_partial),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_fatal_sticks),
		cmocka_unit_test(test_arg_helpers),
		cmocka_unit_test(test_split_invariance),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
