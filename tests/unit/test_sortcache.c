/* Unit test for the webmail's sort-key cache (store/sortcache.c): the
 * page it gives equals a full sort of the folder's messages, keys are
 * made only for messages it has not seen, and UIDs gone, UIDs added and a
 * new UIDVALIDITY are all followed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <cmocka.h>

#include "store/sortcache.h"

#define N 3000

static size_t loads;
static bool fail_load;

/* The subject of message uid: few distinct values (ties by date), mixed
 * case, some Japanese. */
static void subject_of(uint32_t uid, char *buf, size_t size)
{
	static const char *w[] = { "Alpha", "beta", "GAMMA", "請求書", "", "alpha" };

	snprintf(buf, size, "%s %u", w[uid % 6], (uid * 7919u) % 13);
}

static void from_of(uint32_t uid, char *buf, size_t size)
{
	snprintf(buf, size, "user%02u@example.com", (uid * 31u) % 47);
}

/* Sizes with many ties. */
static uint32_t size_of(uint32_t uid)
{
	return 1000 + (uid * 37u) % 101;
}

static int64_t date_of(uint32_t uid)
{
	return 1700000000 + (int64_t)((uid * 104729u) % 500);
}

static int load(void *ctx, const uint32_t *uids, size_t n, char *(*keys_r)[SORTCACHE_TEXTS])
{
	char buf[64];

	(void)ctx;
	if (fail_load)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (i > 0)
			assert_true(uids[i - 1] < uids[i]);
		subject_of(uids[i], buf, sizeof(buf));
		keys_r[i][SORTCACHE_SUBJECT] = sortcache_key_make(buf);
		from_of(uids[i], buf, sizeof(buf));
		keys_r[i][SORTCACHE_FROM] = sortcache_key_make(buf);
	}
	loads += n;
	return 0;
}

static int ref_key;

static int ref_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	char bx[64], by[64];
	int c;

	if (ref_key == SORTCACHE_SIZE) {
		uint32_t sx = size_of(x), sy = size_of(y);

		if (sx != sy)
			return sx < sy ? -1 : 1;
		bx[0] = by[0] = '\0';
	} else if (ref_key == SORTCACHE_SUBJECT) {
		subject_of(x, bx, sizeof(bx));
		subject_of(y, by, sizeof(by));
	} else {
		from_of(x, bx, sizeof(bx));
		from_of(y, by, sizeof(by));
	}
	c = strcasecmp(bx, by);
	if (c != 0)
		return c;
	if (date_of(x) != date_of(y))
		return date_of(x) < date_of(y) ? -1 : 1;
	return x < y ? -1 : x > y;
}

/* Checks every page of both keys in both directions against a full sort. */
static void check(const char *path, uint32_t uidvalidity, const struct index_brief *rows, size_t n)
{
	uint32_t *ref = malloc(n * sizeof(*ref)), page[128];

	for (int k = SORTCACHE_FROM; k <= SORTCACHE_SIZE; k++) {
		for (size_t i = 0; i < n; i++)
			ref[i] = rows[i].uid;
		ref_key = k;
		qsort(ref, n, sizeof(*ref), ref_cmp);
		for (int desc = 0; desc < 2; desc++) {
			for (size_t off = 0; off < n + 10; off += 97) {
				size_t got;

				assert_int_equal(sortcache_page(path, uidvalidity, k, rows, n, load, NULL, desc, off,
								128, page, &got), 0);
				assert_int_equal(got, off < n ? (n - off < 128 ? n - off : 128) : 0);
				for (size_t i = 0; i < got; i++)
					assert_int_equal(page[i], ref[desc ? n - 1 - (off + i) : off + i]);
			}
		}
	}
	free(ref);
}

static size_t make_rows(struct index_brief *rows, uint32_t first, uint32_t last, uint32_t skip_mod)
{
	size_t n = 0;

	for (uint32_t uid = first; uid <= last; uid++) {
		if (skip_mod != 0 && uid % skip_mod == 0)
			continue;
		rows[n++] = (struct index_brief){ .uid = uid, .size = size_of(uid), .internaldate = date_of(uid) };
	}
	return n;
}

static void test_follows_folder(void **state)
{
	struct index_brief *rows = calloc(N + 100, sizeof(*rows));
	size_t n;

	(void)state;
	sortcache_clear();
	loads = 0;
	n = make_rows(rows, 1, N, 0);
	check("/m/.Big", 7, rows, n);
	assert_int_equal(loads, N);	/* every header once, for both keys */
	check("/m/.Big", 7, rows, n);
	assert_int_equal(loads, N);	/* unchanged: nothing made again */

	/* every fifth expunged, 40 new ones delivered */
	n = make_rows(rows, 1, N + 40, 5);
	loads = 0;
	check("/m/.Big", 7, rows, n);
	assert_int_equal(loads, 32);	/* the new ones not divisible by 5 */

	/* a second folder beside it, then a new UIDVALIDITY for the first */
	n = make_rows(rows, 1, 50, 0);
	check("/m/.Small", 3, rows, n);
	loads = 0;
	check("/m/.Big", 8, rows, n);
	assert_int_equal(loads, 50);
	assert_true(sortcache_bytes() > 0);

	/* emptied */
	check("/m/.Big", 8, rows, 0);
	sortcache_clear();
	assert_int_equal(sortcache_bytes(), 0);
	free(rows);
}

/* The size order reads no header. */
static void test_size_loads_nothing(void **state)
{
	struct index_brief *rows = calloc(200, sizeof(*rows));
	uint32_t page[10];
	size_t n = make_rows(rows, 1, 200, 0), got;

	(void)state;
	sortcache_clear();
	fail_load = true;
	assert_int_equal(sortcache_page("/m/S", 1, SORTCACHE_SIZE, rows, n, load, NULL, true, 0, 10, page, &got), 0);
	assert_int_equal(got, 10);
	assert_true(size_of(page[0]) >= size_of(page[9]));
	fail_load = false;
	sortcache_clear();
	free(rows);
}

static void test_load_fails(void **state)
{
	struct index_brief rows[10];
	uint32_t page[10];
	size_t n = make_rows(rows, 1, 10, 0), got;

	(void)state;
	sortcache_clear();
	fail_load = true;
	assert_int_equal(sortcache_page("/m/F", 1, SORTCACHE_SUBJECT, rows, n, load, NULL, false, 0, 10, page, &got),
			 -1);
	fail_load = false;
	check("/m/F", 1, rows, n);
	sortcache_clear();
}

static void test_key_make(void **state)
{
	char long_ja[400] = "";
	char *k;

	(void)state;
	k = sortcache_key_make("Re: HELLO World");
	assert_string_equal(k, "re: hello world");
	free(k);
	for (int i = 0; i < 100; i++)
		strcat(long_ja, "請");	/* 3 bytes each */
	k = sortcache_key_make(long_ja);
	assert_int_equal(strlen(k), SORTCACHE_KEY_MAX / 3 * 3);	/* cut between characters */
	free(k);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_follows_folder),
		cmocka_unit_test(test_load_fails),
		cmocka_unit_test(test_size_loads_nothing),
		cmocka_unit_test(test_key_make),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
