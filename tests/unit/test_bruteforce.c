/* Unit tests for src/policy/bruteforce.c: counting per address and
 * account, the sliding window's decay, delays, blocks that grow when
 * repeated, account slowing, resets and table eviction. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "policy/bruteforce.h"

static const struct bf_limits lim = {
	.window = 600, .ip_delay_after = 3, .ip_block_after = 6, .block_time = 900,
	.block_max = 3600, .account_delay_after = 4, .delay_max = 8,
};

static void test_delays(void **state)
{
	assert_int_equal(bf_delay_ms(0, 3, 8), 0);
	assert_int_equal(bf_delay_ms(3, 3, 8), 0);
	assert_int_equal(bf_delay_ms(4, 3, 8), 1000);
	assert_int_equal(bf_delay_ms(5, 3, 8), 2000);
	assert_int_equal(bf_delay_ms(6, 3, 8), 4000);
	assert_int_equal(bf_delay_ms(7, 3, 8), 8000);
	assert_int_equal(bf_delay_ms(100, 3, 8), 8000);
	assert_int_equal(bf_delay_ms(1000000, 0, 8), 8000);
	assert_int_equal(bf_delay_ms(5, 3, 0), 0);
	assert_int_equal(bf_block_seconds(&lim, 1), 900);
	assert_int_equal(bf_block_seconds(&lim, 2), 1800);
	assert_int_equal(bf_block_seconds(&lim, 3), 3600);
	assert_int_equal(bf_block_seconds(&lim, 30), 3600);
}

static void test_count_delay_block(void **state)
{
	struct bf_table *t = bf_table_new(1024);
	struct bf_failure f;
	int64_t now = 1000000;

	for (unsigned i = 1; i <= 5; i++) {
		bf_failure(t, &lim, "203.0.113.9", "taro@example.jp", now + i, &f);
		assert_int_equal(f.ip_failures, i);
		assert_int_equal(f.account_failures, i);
		assert_false(f.block);
		assert_int_equal(f.delay_ms, bf_delay_ms(i, 3, 8) > bf_delay_ms(i, 4, 8) ?
				 bf_delay_ms(i, 3, 8) : bf_delay_ms(i, 4, 8));
		assert_int_equal(f.throttle_start, i == 5);
	}
	/* another address does not share the count */
	bf_failure(t, &lim, "198.51.100.1", "", now + 6, &f);
	assert_int_equal(f.ip_failures, 1);
	assert_int_equal(f.account_failures, 0);
	/* the sixth failure blocks, and the count starts afresh */
	bf_failure(t, &lim, "203.0.113.9", "hanako@example.jp", now + 7, &f);
	assert_true(f.block);
	assert_int_equal(f.block_seconds, 900);
	assert_int_equal(bf_count(t, &lim, "203.0.113.9", now + 8), 0);
	/* a repeated block the same day doubles */
	for (unsigned i = 0; i < 6; i++)
		bf_failure(t, &lim, "203.0.113.9", "", now + 1000 + i, &f);
	assert_true(f.block);
	assert_int_equal(f.block_seconds, 1800);
	/* a day later it starts from the first length again */
	for (unsigned i = 0; i < 6; i++)
		bf_failure(t, &lim, "203.0.113.9", "", now + 100000 + i, &f);
	assert_int_equal(f.block_seconds, 900);
	bf_table_free(t);
	bf_table_free(NULL);
}

/* Two nodes' tables sharing counters through their state (as the
 * PostgreSQL directory keeps it): failures on either count toward one
 * block. */
static void test_state_shared_between_tables(void **state)
{
	struct bf_table *a = bf_table_new(64), *b = bf_table_new(64);
	struct bf_state st;
	struct bf_failure f;
	int64_t now = 2000000;

	assert_int_equal(bf_state_get(a, "192.0.2.7", &st), 0);
	for (unsigned i = 1; i <= 6; i++) {
		struct bf_table *on = i % 2 ? a : b, *other = i % 2 ? b : a;

		bf_failure(on, &lim, "192.0.2.7", "", now + i, &f);
		assert_int_equal(f.ip_failures, i);
		assert_int_equal(f.block, i == 6);
		assert_int_equal(bf_state_get(on, "192.0.2.7", &st), 1);
		bf_state_set(other, "192.0.2.7", &st);
	}
	/* the block starts the count afresh on both, and the block count is shared */
	assert_int_equal(bf_count(a, &lim, "192.0.2.7", now + 7), 0);
	assert_int_equal(bf_state_get(b, "192.0.2.7", &st), 1);
	assert_int_equal(st.blocks, 1);
	/* forgotten: NULL */
	bf_state_set(a, "192.0.2.7", NULL);
	assert_int_equal(bf_state_get(a, "192.0.2.7", &st), 1);
	assert_int_equal(st.cur + st.prev + st.blocks, 0);
	bf_table_free(a);
	bf_table_free(b);
}

static void test_window_decay(void **state)
{
	struct bf_table *t = bf_table_new(64);
	struct bf_failure f;
	int64_t start = 600 * 1000;	/* the start of a window */

	for (unsigned i = 0; i < 4; i++)
		bf_failure(t, &lim, "k", "", start + 10, &f);
	assert_int_equal(bf_count(t, &lim, "k", start + 10), 4);
	/* half way into the next window, half of the old count is left */
	assert_int_equal(bf_count(t, &lim, "k", start + 900), 2);
	/* nearly a full window later, a rounding remnant */
	assert_int_equal(bf_count(t, &lim, "k", start + 1199), 1);
	/* two windows later, nothing */
	assert_int_equal(bf_count(t, &lim, "k", start + 1200), 0);
	assert_int_equal(bf_count(t, &lim, "k", start + 100000), 0);
	/* a failure after a long pause counts alone */
	bf_failure(t, &lim, "k", "", start + 100000, &f);
	assert_int_equal(f.ip_failures, 1);
	assert_int_equal(bf_count(t, &lim, "unknown", start), 0);
	bf_table_free(t);
}

static void test_account_slowing(void **state)
{
	struct bf_table *t = bf_table_new(1024);
	struct bf_failure f;
	int64_t now = 5000000;
	char ip[32];

	/* one failure each from many addresses: no address blocked, the account slowed */
	for (unsigned i = 1; i <= 7; i++) {
		snprintf(ip, sizeof(ip), "192.0.2.%u", i);
		bf_failure(t, &lim, ip, "Taro@Example.JP", now, &f);
		assert_false(f.block);
		assert_int_equal(f.ip_failures, 1);
	}
	assert_int_equal(f.account_failures, 7);
	assert_int_equal(bf_account_delay_ms(t, &lim, "taro@example.jp", now), 4000);
	assert_int_equal(bf_account_delay_ms(t, &lim, "hanako@example.jp", now), 0);
	assert_int_equal(bf_account_delay_ms(t, &lim, "", now), 0);
	bf_reset(t, "taro@example.jp");
	assert_int_equal(bf_account_delay_ms(t, &lim, "taro@example.jp", now), 0);
	bf_reset(t, "never-seen");
	/* slowing off */
	{
		struct bf_limits off = lim;

		off.account_delay_after = 0;
		for (unsigned i = 0; i < 20; i++)
			bf_failure(t, &off, "198.51.100.1", "jiro@example.jp", now, &f);
		assert_int_equal(f.account_failures, 0);
		assert_int_equal(bf_account_delay_ms(t, &off, "jiro@example.jp", now), 0);
	}
	bf_table_free(t);
}

static void test_table_eviction(void **state)
{
	struct bf_table *t = bf_table_new(16);
	struct bf_failure f;
	char key[32];

	/* far more keys than slots: the oldest are forgotten, nothing breaks */
	for (unsigned i = 0; i < 5000; i++) {
		snprintf(key, sizeof(key), "10.0.%u.%u", i / 256, i % 256);
		bf_failure(t, &lim, key, "", 1000 + i, &f);
		assert_int_equal(f.ip_failures, 1);
	}
	assert_int_equal(bf_count(t, &lim, "10.0.19.135", 1000 + 4999), 1);	/* the newest is kept */
	bf_table_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_delays),
		cmocka_unit_test(test_count_delay_block),
		cmocka_unit_test(test_state_shared_between_tables),
		cmocka_unit_test(test_window_decay),
		cmocka_unit_test(test_account_slowing),
		cmocka_unit_test(test_table_eviction),
	};

	return cmocka_run_group_tests_name("bruteforce", tests, NULL, NULL);
}
