/* Unit tests for src/mail/vcard.c: vCard 3.0 and 4.0 read (folded lines,
 * escapes, groups, several EMAIL, UTF-8 names, bad cards reported by
 * number and skipped), 4.0 written and read back, hostile input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "mail/vcard.h"

struct got {
	struct vcard cards[8];
	unsigned ncards, numbers[8];
	unsigned bad[8];
	char reasons[8][80];
	unsigned nbad;
};

static int good_cb(const struct vcard *c, unsigned number, void *ctx)
{
	struct got *g = ctx;

	if (g->ncards < 8) {
		g->numbers[g->ncards] = number;
		g->cards[g->ncards++] = *c;
	}
	return 0;
}

static void bad_cb(unsigned number, const char *reason, void *ctx)
{
	struct got *g = ctx;

	if (g->nbad < 8) {
		snprintf(g->reasons[g->nbad], sizeof(g->reasons[0]), "%s", reason);
		g->bad[g->nbad++] = number;
	}
}

static const struct vcard_limits lim = { 100, 8192 };

static int parse(const char *text, struct got *g)
{
	const char *error = NULL;

	memset(g, 0, sizeof(*g));
	return vcard_parse(text, strlen(text), &lim, good_cb, bad_cb, g, &error);
}

static void test_v3_and_v4(void **state)
{
	struct got g;
	const char *text =
		"BEGIN:VCARD\r\nVERSION:3.0\r\nN:山田;太郎;;;\r\nFN:山田 太郎\r\n"
		"EMAIL;TYPE=INTERNET,WORK:taro@work.example\r\n"
		"item1.EMAIL;type=HOME:taro@home.example\r\n"
		"NOTE:first line\\nsecond\\, with comma\\; and semicolon\\\\\r\nEND:VCARD\r\n"
		"BEGIN:VCARD\nVERSION:4.0\nFN:A very long name that is folded over\n  two lines\n"
		"EMAIL:mailto:long@example.test\nEND:VCARD\n";

	assert_int_equal(parse(text, &g), 2);
	assert_int_equal(g.ncards, 2);
	assert_int_equal(g.nbad, 0);
	assert_string_equal(g.cards[0].name, "山田 太郎");
	assert_int_equal(g.cards[0].nemails, 2);
	assert_string_equal(g.cards[0].emails[0].address, "taro@work.example");
	assert_string_equal(g.cards[0].emails[0].label, "work");
	assert_string_equal(g.cards[0].emails[1].label, "home");
	assert_string_equal(g.cards[0].note, "first line\nsecond, with comma; and semicolon\\");
	assert_string_equal(g.cards[1].name, "A very long name that is folded over two lines");
	assert_string_equal(g.cards[1].emails[0].address, "long@example.test");
}

static void test_name_from_n(void **state)
{
	struct got g;

	assert_int_equal(parse("BEGIN:VCARD\r\nVERSION:3.0\r\nN:Doe;Jane;;;\r\nEMAIL:j@d.test\r\nEND:VCARD\r\n", &g), 1);
	assert_string_equal(g.cards[0].name, "Jane Doe");
}

static void test_bad_cards_by_number(void **state)
{
	struct got g;
	const char *text =
		"BEGIN:VCARD\r\nVERSION:2.1\r\nFN:Old\r\nEMAIL:o@x.test\r\nEND:VCARD\r\n"
		"BEGIN:VCARD\r\nVERSION:4.0\r\nFN:No mail\r\nEND:VCARD\r\n"
		"BEGIN:VCARD\r\nVERSION:4.0\r\nFN:Good\r\nEMAIL:g@x.test\r\nEND:VCARD\r\n"
		"BEGIN:VCARD\r\nVERSION:4.0\r\nFN:\xff\xfe\r\nEMAIL:u@x.test\r\nEND:VCARD\r\n"
		"BEGIN:VCARD\r\nVERSION:4.0\r\nFN:Bad mail\r\nEMAIL:not an address\r\nEND:VCARD\r\n"
		"BEGIN:VCARD\r\nVERSION:4.0\r\nFN:Unended\r\nEMAIL:e@x.test\r\n";

	assert_int_equal(parse(text, &g), 6);
	assert_int_equal(g.ncards, 1);
	assert_int_equal(g.numbers[0], 3);
	assert_string_equal(g.cards[0].name, "Good");
	assert_int_equal(g.nbad, 5);
	assert_int_equal(g.bad[0], 1);
	assert_string_equal(g.reasons[0], "VERSION must be 3.0 or 4.0");
	assert_int_equal(g.bad[1], 2);
	assert_string_equal(g.reasons[1], "no e-mail address");
	assert_int_equal(g.bad[2], 4);
	assert_int_equal(g.bad[3], 5);
	assert_int_equal(g.bad[4], 6);
	assert_string_equal(g.reasons[4], "no END:VCARD");
}

static void test_not_vcard_and_limits(void **state)
{
	struct got g;
	struct vcard_limits small = { 2, 100 };
	const char *error = NULL;
	char big[400];

	assert_int_equal(parse("hello\r\n", &g), -1);
	memset(&g, 0, sizeof(g));
	assert_int_equal(vcard_parse("BEGIN:VCARD\nVERSION:4.0\nEMAIL:a@b.c\nEND:VCARD\n"
				     "BEGIN:VCARD\nVERSION:4.0\nEMAIL:a@b.c\nEND:VCARD\n"
				     "BEGIN:VCARD\nVERSION:4.0\nEMAIL:a@b.c\nEND:VCARD\n", 135, &small,
				     good_cb, bad_cb, &g, &error), 2);
	assert_int_equal(g.ncards, 2);
	assert_int_equal(g.nbad, 1);
	assert_int_equal(g.bad[0], 3);
	/* a line past max_line */
	memset(&g, 0, sizeof(g));
	snprintf(big, sizeof(big), "BEGIN:VCARD\nVERSION:4.0\nEMAIL:a@b.c\nNOTE:%0200d\nEND:VCARD\n", 0);
	assert_int_equal(vcard_parse(big, strlen(big), &small, good_cb, bad_cb, &g, &error), 1);
	assert_int_equal(g.nbad, 1);
	assert_string_equal(g.reasons[0], "a value is too long");
}

static void test_write_round_trip(void **state)
{
	struct vcard c;
	struct strbuf out = STRBUF_INIT;
	struct got g;
	size_t start = 0;

	memset(&c, 0, sizeof(c));
	snprintf(c.name, sizeof(c.name), "鈴木 一郎, 営業部; 課長 (とても長い名前で七十五バイトを超えるように書いてあります)");
	snprintf(c.emails[0].address, sizeof(c.emails[0].address), "ichiro@example.test");
	snprintf(c.emails[0].label, sizeof(c.emails[0].label), "work");
	snprintf(c.emails[1].address, sizeof(c.emails[1].address), "i@home.test");
	c.nemails = 2;
	snprintf(c.note, sizeof(c.note), "line1\nline2 \\ backslash");
	vcard_write(&out, &c);
	for (size_t i = 0; i < out.len; i++) {
		if (out.data[i] == '\n') {
			assert_true(i - start <= 76);
			start = i + 1;
		}
	}
	assert_non_null(strstr(out.data, "VERSION:4.0\r\n"));
	assert_non_null(strstr(out.data, "EMAIL;TYPE=work:ichiro@example.test\r\n"));
	assert_int_equal(parse(out.data, &g), 1);
	assert_string_equal(g.cards[0].name, c.name);
	assert_string_equal(g.cards[0].note, c.note);
	assert_int_equal(g.cards[0].nemails, 2);
	assert_string_equal(g.cards[0].emails[1].address, "i@home.test");
	strbuf_free(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_v3_and_v4),
		cmocka_unit_test(test_name_from_n),
		cmocka_unit_test(test_bad_cards_by_number),
		cmocka_unit_test(test_not_vcard_and_limits),
		cmocka_unit_test(test_write_round_trip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
