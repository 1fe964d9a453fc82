/* Unit tests for src/proto/imap_search.c, through the command parser. */
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
#include "proto/imap_search.h"

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

static const char *const type_names[] = {
	[IMAP_SEARCH_ALL] = "ALL", [IMAP_SEARCH_AND] = "AND", [IMAP_SEARCH_OR] = "OR",
	[IMAP_SEARCH_NOT] = "NOT", [IMAP_SEARCH_SEQSET] = "SEQ", [IMAP_SEARCH_UID] = "UID",
	[IMAP_SEARCH_ANSWERED] = "ANSWERED", [IMAP_SEARCH_DELETED] = "DELETED",
	[IMAP_SEARCH_DRAFT] = "DRAFT", [IMAP_SEARCH_FLAGGED] = "FLAGGED",
	[IMAP_SEARCH_SEEN] = "SEEN", [IMAP_SEARCH_RECENT] = "RECENT", [IMAP_SEARCH_NEW] = "NEW",
	[IMAP_SEARCH_OLD] = "OLD", [IMAP_SEARCH_UNANSWERED] = "UNANSWERED",
	[IMAP_SEARCH_UNDELETED] = "UNDELETED", [IMAP_SEARCH_UNDRAFT] = "UNDRAFT",
	[IMAP_SEARCH_UNFLAGGED] = "UNFLAGGED", [IMAP_SEARCH_UNSEEN] = "UNSEEN",
	[IMAP_SEARCH_KEYWORD] = "KEYWORD", [IMAP_SEARCH_UNKEYWORD] = "UNKEYWORD",
	[IMAP_SEARCH_BCC] = "BCC", [IMAP_SEARCH_BODY] = "BODY", [IMAP_SEARCH_CC] = "CC",
	[IMAP_SEARCH_FROM] = "FROM", [IMAP_SEARCH_SUBJECT] = "SUBJECT",
	[IMAP_SEARCH_TEXT] = "TEXT", [IMAP_SEARCH_TO] = "TO", [IMAP_SEARCH_HEADER] = "HEADER",
	[IMAP_SEARCH_BEFORE] = "BEFORE", [IMAP_SEARCH_ON] = "ON", [IMAP_SEARCH_SINCE] = "SINCE",
	[IMAP_SEARCH_SENTBEFORE] = "SENTBEFORE", [IMAP_SEARCH_SENTON] = "SENTON",
	[IMAP_SEARCH_SENTSINCE] = "SENTSINCE", [IMAP_SEARCH_LARGER] = "LARGER",
	[IMAP_SEARCH_SMALLER] = "SMALLER", [IMAP_SEARCH_MODSEQ] = "MODSEQ",
};

static void key_dump(struct strbuf *b, const struct imap_search_key *k)
{
	strbuf_append_str(b, type_names[k->type]);
	switch (k->type) {
	case IMAP_SEARCH_AND:
	case IMAP_SEARCH_OR:
	case IMAP_SEARCH_NOT:
		strbuf_append_c(b, '(');
		for (size_t i = 0; i < k->count; i++) {
			if (i > 0)
				strbuf_append_c(b, ' ');
			key_dump(b, &k->children[i]);
		}
		strbuf_append_c(b, ')');
		break;
	case IMAP_SEARCH_SEQSET:
	case IMAP_SEARCH_UID:
		strbuf_printf(b, ":%s%zu", k->seqset.searchres ? "$" : "", k->seqset.count);
		break;
	case IMAP_SEARCH_HEADER:
		strbuf_printf(b, ":%s:%s", k->header, k->str);
		break;
	case IMAP_SEARCH_BEFORE: case IMAP_SEARCH_ON: case IMAP_SEARCH_SINCE:
	case IMAP_SEARCH_SENTBEFORE: case IMAP_SEARCH_SENTON: case IMAP_SEARCH_SENTSINCE:
		strbuf_printf(b, ":%04d-%02d-%02d", k->date.year, k->date.month, k->date.day);
		break;
	case IMAP_SEARCH_LARGER:
	case IMAP_SEARCH_SMALLER:
		strbuf_printf(b, ":%llu", (unsigned long long)k->number);
		break;
	case IMAP_SEARCH_MODSEQ:
		if (k->entry_name != NULL)
			strbuf_printf(b, ":%s:%d", k->entry_name, (int)k->entry_type);
		strbuf_printf(b, ":%llu", (unsigned long long)k->number);
		break;
	default:
		if (k->str != NULL)
			strbuf_printf(b, ":%s", k->str);
	}
}

static const char *search_dump(const char *line, struct imap_search *s, struct strbuf *b)
{
	const struct imap_command *c = imap_test_parse(parser, line);
	const char *err = NULL;

	if (imap_search_parse(c->args, c->count, imap_parser_arena(parser), s, &err) < 0)
		fail_msg("%s: %s", line, err);
	strbuf_truncate(b, 0);
	key_dump(b, &s->root);
	return strbuf_cstr(b);
}

static void check(const char *line, const char *expected)
{
	struct imap_search s;
	struct strbuf b = STRBUF_INIT;

	assert_string_equal(search_dump(line, &s, &b), expected);
	strbuf_free(&b);
}

static void check_bad(const char *line, const char *error)
{
	const struct imap_command *c = imap_test_parse(parser, line);
	struct imap_search s;
	const char *err = NULL;

	if (imap_search_parse(c->args, c->count, imap_parser_arena(parser), &s, &err) == 0)
		fail_msg("\"%s\" accepted", line);
	assert_string_equal(err, error);
}

static void test_every_key(void **state)
{
	check("a SEARCH ALL ANSWERED DELETED DRAFT FLAGGED NEW OLD RECENT SEEN UNANSWERED "
	      "UNDELETED UNDRAFT UNFLAGGED UNSEEN\r\n",
	      "AND(ALL ANSWERED DELETED DRAFT FLAGGED NEW OLD RECENT SEEN UNANSWERED UNDELETED "
	      "UNDRAFT UNFLAGGED UNSEEN)");
	check("a SEARCH BCC a CC \"b c\" FROM {3}\r\nd e TO f SUBJECT g BODY h TEXT i\r\n",
	      "AND(BCC:a CC:b c FROM:d e TO:f SUBJECT:g BODY:h TEXT:i)");
	check("a SEARCH HEADER X-Spam-Flag YES header Message-ID \"\"\r\n",
	      "AND(HEADER:X-Spam-Flag:YES HEADER:Message-ID:)");
	check("a SEARCH KEYWORD $Junk UNKEYWORD Work\r\n", "AND(KEYWORD:$Junk UNKEYWORD:Work)");
	check("a SEARCH BEFORE 1-Feb-2024 ON 29-Feb-2024 SINCE \"31-Dec-1999\" "
	      "SENTBEFORE 01-jan-2000 SENTON 2-MAR-2010 SENTSINCE 10-Oct-2010\r\n",
	      "AND(BEFORE:2024-02-01 ON:2024-02-29 SINCE:1999-12-31 SENTBEFORE:2000-01-01 "
	      "SENTON:2010-03-02 SENTSINCE:2010-10-10)");
	check("a SEARCH LARGER 100 SMALLER 9223372036854775807\r\n",
	      "AND(LARGER:100 SMALLER:9223372036854775807)");
	check("a SEARCH UID 1:*,5 2:4,7 $ UID $\r\n", "AND(UID:2 SEQ:2 SEQ:$0 UID:$0)");
	check("a SEARCH MODSEQ 20 MODSEQ \"/flags/\\\\draft\" all 620162338\r\n",
	      "AND(MODSEQ:20 MODSEQ:/flags/\\draft:3:620162338)");
	check("a SEARCH modseq \"/flags/x\" PRIV 0 modseq \"/flags/y\" shared 1\r\n",
	      "AND(MODSEQ:/flags/x:1:0 MODSEQ:/flags/y:2:1)");
}

static void test_structure(void **state)
{
	struct imap_search s;
	struct strbuf b = STRBUF_INIT;

	check("a SEARCH NOT SEEN\r\n", "AND(NOT(SEEN))");
	check("a SEARCH OR SEEN FLAGGED DELETED\r\n", "AND(OR(SEEN FLAGGED) DELETED)");
	check("a SEARCH OR (FROM x SINCE 1-Feb-2024) NOT OR 1:3 UID 5\r\n",
	      "AND(OR(AND(FROM:x SINCE:2024-02-01) NOT(OR(SEQ:1 UID:1))))");
	check("a SEARCH ((((ALL))))\r\n", "AND(AND(AND(AND(AND(ALL)))))");
	check("a SEARCH NOT NOT NOT ALL\r\n", "AND(NOT(NOT(NOT(ALL))))");
	check("a SEARCH OR OR 1 2 OR 3 4\r\n", "AND(OR(OR(SEQ:1 SEQ:1) OR(SEQ:1 SEQ:1)))");
	search_dump("a SEARCH CHARSET UTF-8 TEXT \"\xe9\x83\xb5\xe4\xbe\xbf\"\r\n", &s, &b);
	assert_string_equal(s.charset, "UTF-8");
	assert_false(s.has_return);
	assert_int_equal(s.root.children[0].str_len, 6);
	strbuf_free(&b);
}

static void test_return(void **state)
{
	struct imap_search s;
	struct strbuf b = STRBUF_INIT;

	search_dump("a UID SEARCH RETURN (MIN MAX COUNT ALL SAVE) CHARSET us-ascii UNSEEN\r\n", &s, &b);
	assert_true(s.has_return);
	assert_int_equal(s.return_opts, IMAP_SEARCH_RETURN_MIN | IMAP_SEARCH_RETURN_MAX |
			 IMAP_SEARCH_RETURN_COUNT | IMAP_SEARCH_RETURN_ALL | IMAP_SEARCH_RETURN_SAVE);
	assert_string_equal(s.charset, "us-ascii");
	assert_string_equal(b.data, "AND(UNSEEN)");
	search_dump("a SEARCH RETURN () ALL\r\n", &s, &b);
	assert_int_equal(s.return_opts, IMAP_SEARCH_RETURN_ALL);
	search_dump("a SEARCH RETURN (count) ALL\r\n", &s, &b);
	assert_int_equal(s.return_opts, IMAP_SEARCH_RETURN_COUNT);
	assert_false(s.uses_modseq);
	search_dump("a SEARCH MODSEQ 5\r\n", &s, &b);
	assert_true(s.uses_modseq);
	check_bad("a SEARCH RETURN (FOO) ALL\r\n", "Unknown RETURN option");
	check_bad("a SEARCH RETURN MIN ALL\r\n", "RETURN needs a list");
	check_bad("a SEARCH RETURN (MIN)\r\n", "Missing search keys");
	strbuf_free(&b);
}

static void test_bad(void **state)
{
	check_bad("a SEARCH\r\n", "Missing search keys");
	check_bad("a SEARCH CHARSET\r\n", "CHARSET needs a name");
	check_bad("a SEARCH CHARSET UTF-8\r\n", "Missing search keys");
	check_bad("a SEARCH FOO\r\n", "Unknown search key");
	check_bad("a SEARCH FROM\r\n", "Missing or invalid search string");
	check_bad("a SEARCH FROM (x)\r\n", "Missing or invalid search string");
	check_bad("a SEARCH HEADER X\r\n", "Missing or invalid search string");
	check_bad("a SEARCH BEFORE 30-Feb-2024\r\n", "Invalid search date");
	check_bad("a SEARCH BEFORE 1-Foo-2024\r\n", "Invalid search date");
	check_bad("a SEARCH SINCE 1-Feb-24\r\n", "Invalid search date");
	check_bad("a SEARCH SINCE 001-Feb-2024\r\n", "Invalid search date");
	check_bad("a SEARCH ON\r\n", "Invalid search date");
	check_bad("a SEARCH LARGER -1\r\n", "Invalid search number");
	check_bad("a SEARCH LARGER 9223372036854775808\r\n", "Invalid search number");
	check_bad("a SEARCH SMALLER \"5\"\r\n", "Invalid search number");
	check_bad("a SEARCH UID x\r\n", "Invalid sequence set");
	check_bad("a SEARCH UID\r\n", "Invalid sequence set");
	check_bad("a SEARCH NOT\r\n", "Missing search key");
	check_bad("a SEARCH OR SEEN\r\n", "Missing search key");
	check_bad("a SEARCH ()\r\n", "Empty search key list");
	check_bad("a SEARCH \"ALL\"\r\n", "Invalid search key");
	check_bad("a SEARCH KEYWORD \\Seen\r\n", "Invalid keyword");
	check_bad("a SEARCH KEYWORD \"x\"\r\n", "Invalid keyword");
	check_bad("a SEARCH MODSEQ\r\n", "Invalid MODSEQ value");
	check_bad("a SEARCH MODSEQ \"/flags/x\" 5\r\n", "Invalid MODSEQ entry type");
	check_bad("a SEARCH MODSEQ \"/flags/x\" all\r\n", "Invalid MODSEQ value");
	check_bad("a SEARCH 0\r\n", "Unknown search key");
}

static void test_depth(void **state)
{
	struct strbuf line = STRBUF_INIT;

	strbuf_append_str(&line, "a SEARCH");
	for (int i = 0; i < 150; i++)
		strbuf_append_str(&line, " NOT");
	strbuf_append_str(&line, " ALL\r\n");
	check_bad(line.data, "Search program too deeply nested");
	strbuf_free(&line);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_key),
		cmocka_unit_test(test_structure),
		cmocka_unit_test(test_return),
		cmocka_unit_test(test_bad),
		cmocka_unit_test(test_depth),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
