/* Unit tests for src/proto/imap_seqset.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "lib/strbuf.h"
#include "proto/imap_seqset.h"

/* "lo:hi,..." of the normalised ranges, "*" for IMAP_SEQ_STAR. */
static const char *set_dump(const struct imap_seqset *set, struct strbuf *b)
{
	strbuf_truncate(b, 0);
	if (set->searchres)
		strbuf_append_str(b, "$");
	for (size_t i = 0; i < set->count; i++) {
		const struct imap_seq_range *r = &set->ranges[i];

		if (i == set->count_finite)
			strbuf_append_c(b, ';');
		else if (i > 0)
			strbuf_append_c(b, ',');
		if (r->lo == IMAP_SEQ_STAR)
			strbuf_append_str(b, "*");
		else
			strbuf_printf(b, "%llu", (unsigned long long)r->lo);
		if (r->hi != r->lo) {
			if (r->hi == IMAP_SEQ_STAR)
				strbuf_append_str(b, ":*");
			else
				strbuf_printf(b, ":%llu", (unsigned long long)r->hi);
		}
	}
	return strbuf_cstr(b);
}

static void check_parse(const char *in, const char *expected)
{
	struct imap_arena *a = imap_arena_new();
	struct imap_seqset set;
	struct strbuf b = STRBUF_INIT;
	const char *err = NULL;

	if (imap_seqset_parse(in, strlen(in), true, a, &set, &err) < 0)
		fail_msg("%s: %s", in, err);
	assert_string_equal(set_dump(&set, &b), expected);
	strbuf_free(&b);
	imap_arena_free(a);
}

static void check_bad(const char *in)
{
	struct imap_arena *a = imap_arena_new();
	struct imap_seqset set;
	const char *err = NULL;

	if (imap_seqset_parse(in, strlen(in), false, a, &set, &err) == 0)
		fail_msg("\"%s\" accepted", in);
	assert_non_null(err);
	imap_arena_free(a);
}

static void test_parse(void **state)
{
	check_parse("1", "1");
	check_parse("1:3", "1:3");
	check_parse("3:1", "1:3");
	check_parse("7,1:3,5", "1:3,5,7");
	check_parse("1:3,4,5:6", "1:6");
	check_parse("5:9,1:6,2", "1:9");
	check_parse("10:20,1,15:30", "1,10:30");
	check_parse("*", ";*");
	check_parse("*:*", ";*");
	check_parse("4:*", ";4:*");
	check_parse("*:4", ";4:*");
	check_parse("1:2,*,4:*,*:4,9", "1:2,9;4:*,*");
	check_parse("4294967295", "4294967295");
	check_parse("1:4294967295", "1:4294967295");
	check_parse("$", "$");
	check_parse("0001", "1");
}

static void test_bad(void **state)
{
	static const char *const bad[] = {
		"", "0", "1:0", "0:*", "4294967296", "99999999999999999999999", "1,", ",1", "1,,2",
		"1:", ":1", "1:2:3", "a", "1 2", "-1", "1.5", "**", "1:**", "$", "$,1", "1,$",
		"+1", "1:+2",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		check_bad(bad[i]);
}

static void test_contains(void **state)
{
	struct imap_arena *a = imap_arena_new();
	struct imap_seqset set;
	const char *err;

	assert_int_equal(imap_seqset_parse("2:4,10,20:*", 11, false, a, &set, &err), 0);
	assert_false(imap_seqset_contains(&set, 1, 100));
	assert_true(imap_seqset_contains(&set, 2, 100));
	assert_true(imap_seqset_contains(&set, 4, 100));
	assert_false(imap_seqset_contains(&set, 5, 100));
	assert_true(imap_seqset_contains(&set, 10, 100));
	assert_false(imap_seqset_contains(&set, 19, 100));
	assert_true(imap_seqset_contains(&set, 20, 100));
	assert_true(imap_seqset_contains(&set, 100, 100));
	assert_false(imap_seqset_contains(&set, 101, 100));
	/* "20:*" with "*" = 15 is 15:20 */
	assert_true(imap_seqset_contains(&set, 15, 15));
	assert_true(imap_seqset_contains(&set, 20, 15));
	assert_false(imap_seqset_contains(&set, 14, 15));
	assert_false(imap_seqset_contains(&set, 21, 15));
	/* empty mailbox: "*" matches nothing */
	assert_false(imap_seqset_contains(&set, 20, 0));
	assert_true(imap_seqset_contains(&set, 3, 0));

	assert_int_equal(imap_seqset_parse("*", 1, false, a, &set, &err), 0);
	assert_true(imap_seqset_contains(&set, 7, 7));
	assert_false(imap_seqset_contains(&set, 6, 7));
	assert_false(imap_seqset_contains(&set, 0, 0));

	assert_int_equal(imap_seqset_parse("$", 1, true, a, &set, &err), 0);
	assert_true(set.searchres);
	assert_false(imap_seqset_contains(&set, 1, 1));
	imap_arena_free(a);
}

static void test_resolve(void **state)
{
	struct imap_arena *a = imap_arena_new();
	struct imap_seqset set;
	uint32_t (*r)[2];
	size_t n;
	const char *err;

	assert_int_equal(imap_seqset_parse("1:3,20:*,*,7", 12, false, a, &set, &err), 0);
	assert_int_equal(imap_seqset_resolve(&set, 5, a, &r, &n), 0);
	/* 20:* -> 5:20 swallows 7 and *=5 */
	assert_int_equal(n, 2);
	assert_int_equal(r[0][0], 1);
	assert_int_equal(r[0][1], 3);
	assert_int_equal(r[1][0], 5);
	assert_int_equal(r[1][1], 20);
	assert_int_equal(imap_seqset_resolve(&set, 100, a, &r, &n), 0);
	assert_int_equal(n, 3);
	assert_int_equal(r[1][0], 7);
	assert_int_equal(r[1][1], 7);
	assert_int_equal(r[2][0], 20);
	assert_int_equal(r[2][1], 100);
	assert_int_equal(imap_seqset_resolve(&set, 0, a, &r, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(imap_seqset_resolve(&set, 4, a, &r, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(r[0][0], 1);
	assert_int_equal(r[0][1], 20);

	assert_int_equal(imap_seqset_parse("4294967295,1:*", 14, false, a, &set, &err), 0);
	assert_int_equal(imap_seqset_resolve(&set, 4294967295u, a, &r, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(r[0][0], 1);
	assert_int_equal(r[0][1], 4294967295u);
	assert_true(imap_seqset_contains(&set, 4294967295u, 3));
	imap_arena_free(a);
}

/* Brute force: contains() agrees with resolve() on random sets. */
static void test_random(void **state)
{
	struct imap_arena *a = imap_arena_new();
	unsigned seed = 7;

	for (int iter = 0; iter < 2000; iter++) {
		struct strbuf in = STRBUF_INIT;
		struct imap_seqset set;
		uint32_t (*r)[2];
		size_t n;
		const char *err;
		int items = 1 + iter % 6;

		for (int k = 0; k < items; k++) {
			seed = seed * 1103515245 + 12345;
			if (k > 0)
				strbuf_append_c(&in, ',');
			if ((seed >> 10) % 5 == 0)
				strbuf_append_c(&in, '*');
			else
				strbuf_printf(&in, "%u", 1 + (seed >> 16) % 30);
			if ((seed >> 4) % 2 == 0)
				strbuf_printf(&in, ":%u", 1 + (seed >> 20) % 30);
		}
		assert_int_equal(imap_seqset_parse(in.data, in.len, false, a, &set, &err), 0);
		for (uint32_t star = 0; star < 35; star += 3) {
			assert_int_equal(imap_seqset_resolve(&set, star, a, &r, &n), 0);
			for (size_t i = 1; i < n; i++)
				assert_true(r[i][0] > r[i - 1][1] + 1);
			for (uint32_t v = 0; v < 40; v++) {
				bool in_r = false;

				for (size_t i = 0; i < n; i++)
					in_r |= v >= r[i][0] && v <= r[i][1];
				assert_int_equal(in_r, imap_seqset_contains(&set, v, star));
			}
		}
		strbuf_free(&in);
		imap_arena_reset(a);
	}
	imap_arena_free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_bad),
		cmocka_unit_test(test_contains),
		cmocka_unit_test(test_resolve),
		cmocka_unit_test(test_random),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
