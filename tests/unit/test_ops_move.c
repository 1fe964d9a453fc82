/* Unit tests for the pure parts of an account move (ops/ops_move_parse.c):
 * the IMAP responses the mover reads, canonical flags, the plan. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "ops/ops_move.h"

static void test_flags_normalize(void **state)
{
	char out[MOVE_FLAGS_MAX];

	assert_int_equal(move_flags_normalize("\\seen \\Recent $Work \\FLAGGED", out, sizeof(out)), 0);
	assert_string_equal(out, "$Work \\Flagged \\Seen");
	assert_int_equal(move_flags_normalize("", out, sizeof(out)), 0);
	assert_string_equal(out, "");
	assert_int_equal(move_flags_normalize("\\Recent", out, sizeof(out)), 0);
	assert_string_equal(out, "");
	/* the same set in any order and case gives the same text */
	assert_int_equal(move_flags_normalize("b A \\Seen a", out, sizeof(out)), 0);
	assert_string_equal(out, "\\Seen A b");
	/* too small */
	assert_int_equal(move_flags_normalize("\\Seen \\Deleted", out, 5), -1);
}

static void test_parse_fetch(void **state)
{
	char flags[MOVE_FLAGS_MAX] = "", date[64] = "";
	uint32_t uid = 0;

	assert_int_equal(move_parse_fetch("(UID 42 FLAGS (\\Seen \\Recent kw) INTERNALDATE \"06-Dec-2026 16:00:00 +0000\""
					  " BODY[] {12}", &uid, flags, sizeof(flags), date, sizeof(date)), 0);
	assert_int_equal(uid, 42);
	assert_string_equal(flags, "\\Seen kw");
	assert_string_equal(date, "06-Dec-2026 16:00:00 +0000");
	/* any order; MODSEQ ignored; missing items left alone */
	assert_int_equal(move_parse_fetch("(FLAGS () MODSEQ (7) UID 3)", &uid, flags, sizeof(flags), date, sizeof(date)), 0);
	assert_int_equal(uid, 3);
	assert_string_equal(flags, "");
	assert_string_equal(date, "06-Dec-2026 16:00:00 +0000");
	/* RFC822.SIZE, for the copy's batches */
	{
		uint64_t size = 0;

		assert_int_equal(move_parse_fetch_size("(UID 3 FLAGS () RFC822.SIZE 4321)", &size), 0);
		assert_int_equal(size, 4321);
		assert_int_equal(move_parse_fetch_size("(RFC822.SIZE 7 UID 3)", &size), 0);
		assert_int_equal(size, 7);
		assert_int_equal(move_parse_fetch_size("(UID 3)", &size), 0);	/* missing: left alone */
		assert_int_equal(size, 7);
		assert_int_equal(move_parse_fetch_size("(RFC822.SIZE x)", &size), -1);
		assert_int_equal(move_parse_fetch_size("(RFC822.SIZE 5x)", &size), -1);
	}
	/* no prefix match: XUID is not UID */
	uid = 9;
	assert_int_equal(move_parse_fetch("(XUID 5)", &uid, flags, sizeof(flags), date, sizeof(date)), 0);
	assert_int_equal(uid, 9);
	/* malformed */
	assert_int_equal(move_parse_fetch("(UID x)", &uid, flags, sizeof(flags), date, sizeof(date)), -1);
	assert_int_equal(move_parse_fetch("(UID 0)", &uid, flags, sizeof(flags), date, sizeof(date)), -1);
	assert_int_equal(move_parse_fetch("(FLAGS \\Seen)", &uid, flags, sizeof(flags), date, sizeof(date)), -1);
	assert_int_equal(move_parse_fetch("(INTERNALDATE \"unterminated)", &uid, flags, sizeof(flags), date,
					  sizeof(date)), -1);
}

static void test_parse_list(void **state)
{
	char name[64];
	bool noselect;

	assert_int_equal(move_parse_list("(\\HasNoChildren) \"/\" INBOX", name, sizeof(name), &noselect), 0);
	assert_string_equal(name, "INBOX");
	assert_false(noselect);
	assert_int_equal(move_parse_list("(\\Noselect \\HasChildren) \"/\" \"a \\\"b\\\\c\"", name, sizeof(name),
					 &noselect), 0);
	assert_string_equal(name, "a \"b\\c");
	assert_true(noselect);
	assert_int_equal(move_parse_list("() NIL \"Sent\"", name, sizeof(name), &noselect), 0);
	assert_string_equal(name, "Sent");
	/* a literal name is the caller's; malformed lines fail */
	assert_int_equal(move_parse_list("() \"/\" {5}", name, sizeof(name), &noselect), -1);
	assert_int_equal(move_parse_list("\\Noselect \"/\" x", name, sizeof(name), &noselect), -1);
	assert_int_equal(move_parse_list("() \"/\" \"open", name, sizeof(name), &noselect), -1);
	assert_int_equal(move_parse_list("() \"/\" two words", name, sizeof(name), &noselect), -1);
	assert_int_equal(move_parse_list("() \"/\" \"toolongtoolongtoolongtoolongtoolongtoolongtoolongtoolongtoolongtoo\"",
					 name, sizeof(name), &noselect), -1);
}

static void test_parse_code(void **state)
{
	uint64_t v = 0;

	assert_int_equal(move_parse_code("OK [UIDVALIDITY 1733500000] UIDs valid", "UIDVALIDITY", &v), 0);
	assert_int_equal(v, 1733500000);
	assert_int_equal(move_parse_code("OK [HIGHESTMODSEQ 18446744073709551615] x", "HIGHESTMODSEQ", &v), 0);
	assert_int_equal(move_parse_code("OK [UIDNEXT 5] x", "UIDVALIDITY", &v), -1);
	assert_int_equal(move_parse_code("OK [UIDNEXT x] x", "UIDNEXT", &v), -1);
	assert_int_equal(move_parse_code("OK [UIDNEXT 5 x", "UIDNEXT", &v), -1);
}

static void test_quote(void **state)
{
	char out[16];

	assert_int_equal(move_quote("a\"b\\c", out, sizeof(out)), 0);
	assert_string_equal(out, "\"a\\\"b\\\\c\"");
	assert_int_equal(move_quote("", out, sizeof(out)), 0);
	assert_string_equal(out, "\"\"");
	assert_int_equal(move_quote("a\r\nb", out, sizeof(out)), -1);
	assert_int_equal(move_quote("0123456789abcdef", out, sizeof(out)), -1);
}

static void test_plan(void **state)
{
	struct move_msg src[] = { { 1, "\\Seen", 0 }, { 2, "", 0 }, { 4, "\\Flagged", 0 }, { 7, "", 0 } };
	struct move_msg dst[] = { { 1, "\\Seen", 0 }, { 2, "\\Seen", 0 }, { 3, "", 0 }, { 4, "\\Flagged", 0 },
				  { 9, "", 0 } };
	size_t copy[4], update[4];
	uint32_t expunge[5];
	struct move_plan p = { .copy = copy, .update = update, .expunge = expunge };

	move_plan_make(src, 4, dst, 5, &p);
	assert_int_equal(p.ncopy, 1);
	assert_int_equal(src[p.copy[0]].uid, 7);
	assert_int_equal(p.nupdate, 1);
	assert_int_equal(src[p.update[0]].uid, 2);
	assert_int_equal(p.nexpunge, 2);
	assert_int_equal(p.expunge[0], 3);
	assert_int_equal(p.expunge[1], 9);
	/* an empty target: everything copied; an empty source: everything expunged */
	move_plan_make(src, 4, NULL, 0, &p);
	assert_int_equal(p.ncopy, 4);
	assert_int_equal(p.nupdate + p.nexpunge, 0);
	move_plan_make(NULL, 0, dst, 5, &p);
	assert_int_equal(p.nexpunge, 5);
	assert_int_equal(p.ncopy + p.nupdate, 0);
	/* equal sides: nothing to do */
	move_plan_make(src, 4, src, 4, &p);
	assert_int_equal(p.ncopy + p.nupdate + p.nexpunge, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_flags_normalize),
		cmocka_unit_test(test_parse_fetch),
		cmocka_unit_test(test_parse_list),
		cmocka_unit_test(test_parse_code),
		cmocka_unit_test(test_quote),
		cmocka_unit_test(test_plan),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
