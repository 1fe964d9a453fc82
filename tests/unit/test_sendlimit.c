/* Unit tests for src/policy/sendlimit.c: sliding windows, roll-over, the
 * time sending resumes, limits and the reply text. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "policy/sendlimit.h"

#define T0 1795824000LL		/* 2026-11-28 00:00:00 UTC */

static void test_window_counts_and_rolls(void **state)
{
	struct sendwin w;

	sendwin_init(&w, 60, 60);
	sendwin_add(&w, T0, 2);
	sendwin_add(&w, T0 + 59, 1);		/* same minute */
	sendwin_add(&w, T0 + 600, 4);		/* minute 10 */
	assert_int_equal(sendwin_count(&w, T0 + 600), 7);
	/* minute 0 leaves the window at minute 60 */
	assert_int_equal(sendwin_count(&w, T0 + 3599), 7);
	assert_int_equal(sendwin_count(&w, T0 + 3600), 4);
	assert_int_equal(sendwin_count(&w, T0 + 600 + 3599), 4);
	assert_int_equal(sendwin_count(&w, T0 + 600 + 3600), 0);
	/* a long gap clears everything */
	sendwin_add(&w, T0 + 5000, 1);
	assert_int_equal(sendwin_count(&w, T0 + 86400 * 5), 0);
}

static void test_window_clock_back(void **state)
{
	struct sendwin w;

	sendwin_init(&w, 60, 60);
	sendwin_add(&w, T0 + 600, 1);
	sendwin_add(&w, T0 + 300, 1);		/* an older time inside the window */
	sendwin_add(&w, T0 - 86400, 5);		/* older than the window: ignored */
	assert_int_equal(sendwin_count(&w, T0 + 600), 2);
	/* the one at +300 leaves at +3900, the one at +600 at +4200 */
	assert_int_equal(sendwin_count(&w, T0 + 3900), 1);
	assert_int_equal(sendwin_count(&w, T0 + 4200), 0);
	sendwin_clear(&w);
	assert_int_equal(sendwin_count(&w, T0 + 4200), 0);
}

static void test_free_at(void **state)
{
	struct sendwin w;

	sendwin_init(&w, 60, 60);
	sendwin_add(&w, T0 + 60, 2);		/* minute 1 */
	sendwin_add(&w, T0 + 1200, 1);		/* minute 20 */
	/* limit 3 reached: one more fits when minute 1 leaves, at minute 61 */
	assert_int_equal(sendwin_free_at(&w, T0 + 1300, 3), T0 + 61 * 60);
	/* limit 2: minute 1 must leave too */
	assert_int_equal(sendwin_free_at(&w, T0 + 1300, 2), T0 + 61 * 60);
	/* limit 1: both must leave: minute 20 leaves at minute 80 */
	assert_int_equal(sendwin_free_at(&w, T0 + 1300, 1), T0 + 80 * 60);
	/* below the limit: now */
	assert_int_equal(sendwin_free_at(&w, T0 + 1300, 10), T0 + 1300);
	/* and indeed at that time there is room */
	assert_true(sendwin_count(&w, T0 + 61 * 60) < 3);
}

static void test_limit_hour_then_reset(void **state)
{
	struct sendlimit l;
	int64_t reset;

	sendlimit_init(&l);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(sendlimit_check(&l, T0 + 10 * 60 + i, 3, 100, &reset), SENDLIMIT_OK);
		sendlimit_add(&l, T0 + 10 * 60 + i, 1);
	}
	assert_int_equal(sendlimit_check(&l, T0 + 20 * 60, 3, 100, &reset), SENDLIMIT_HOUR);
	assert_int_equal(reset, T0 + 70 * 60);
	assert_int_equal(sendlimit_check(&l, T0 + 70 * 60 - 1, 3, 100, &reset), SENDLIMIT_HOUR);
	assert_int_equal(sendlimit_check(&l, T0 + 70 * 60, 3, 100, &reset), SENDLIMIT_OK);
	assert_int_equal(reset, T0 + 70 * 60);
	/* 0 means unlimited */
	assert_int_equal(sendlimit_check(&l, T0 + 20 * 60, 0, 0, &reset), SENDLIMIT_OK);
}

static void test_limit_day_wins(void **state)
{
	struct sendlimit l;
	int64_t reset;

	sendlimit_init(&l);
	sendlimit_add(&l, T0, 5);			/* 00:00 */
	sendlimit_add(&l, T0 + 3 * 3600, 5);		/* 03:00 */
	/* at 03:30 both the hour (5 of 5) and the day (10 of 10) are full:
	 * the day says when, since it lasts longer */
	assert_int_equal(sendlimit_check(&l, T0 + 3 * 3600 + 1800, 5, 10, &reset), SENDLIMIT_DAY);
	assert_int_equal(reset, T0 + 86400);	/* the 00:00 bucket leaves */
	/* the day has room after 00:00 the next day, even though the hour
	 * is long clear */
	assert_int_equal(sendlimit_check(&l, T0 + 86400 - 1, 5, 10, &reset), SENDLIMIT_DAY);
	assert_int_equal(sendlimit_check(&l, T0 + 86400, 5, 10, &reset), SENDLIMIT_OK);
}

static void test_day_window_granularity(void **state)
{
	struct sendlimit l;
	int64_t reset;

	sendlimit_init(&l);
	sendlimit_add(&l, T0 + 605, 1);		/* in the 00:10-00:20 bucket */
	assert_int_equal(sendlimit_check(&l, T0 + 7200, 0, 1, &reset), SENDLIMIT_DAY);
	/* ten-minute buckets: it leaves when its bucket does */
	assert_int_equal(reset, T0 + 600 + 86400);
}

static void test_reply_text(void **state)
{
	char buf[512];

	sendlimit_reply_text(SENDLIMIT_HOUR, "taro@example.jp", 3, T0 + 20 * 60, T0 + 70 * 60, buf, sizeof(buf));
	assert_string_equal(buf, "Hourly sending limit reached: taro@example.jp may send to 3 recipients"
			    " per hour; sending resumes at 2026-11-28 01:10 UTC (in 50 minutes)");
	sendlimit_reply_text(SENDLIMIT_DAY, "a@b.jp", 15000, T0, T0 + 61, buf, sizeof(buf));
	assert_string_equal(buf, "Daily sending limit reached: a@b.jp may send to 15000 recipients"
			    " per day; sending resumes at 2026-11-28 00:01 UTC (in 2 minutes)");
	sendlimit_reply_text(SENDLIMIT_DAY, "a@b.jp", 1, T0, T0 + 30, buf, sizeof(buf));
	assert_non_null(strstr(buf, "(in 1 minute)"));
}

static void test_parse(void **state)
{
	uint64_t v;
	const char *error;

	assert_int_equal(sendlimit_parse("1500", &v, &error), 0);
	assert_int_equal(v, 1500);
	assert_int_equal(sendlimit_parse("unlimited", &v, &error), 0);
	assert_int_equal(v, 0);
	assert_int_equal(sendlimit_parse("0", &v, &error), 0);
	assert_int_equal(sendlimit_parse("10000001", &v, &error), -1);
	assert_int_equal(sendlimit_parse("-1", &v, &error), -1);
	assert_int_equal(sendlimit_parse("1e3", &v, &error), -1);
	assert_int_equal(sendlimit_parse("", &v, &error), -1);
}

static void test_check_n(void **state)
{
	struct sendlimit l;
	int64_t reset;

	sendlimit_init(&l);
	sendlimit_add(&l, T0, 2);
	/* 2 of 3 used: one more fits, two do not (all or none) */
	assert_int_equal(sendlimit_check_n(&l, T0 + 60, 1, 3, 0, &reset), SENDLIMIT_OK);
	assert_int_equal(sendlimit_check_n(&l, T0 + 60, 2, 3, 0, &reset), SENDLIMIT_HOUR);
	assert_true(reset > T0 + 60 && reset <= T0 + 3600 + 600);
	/* more than the limit itself never fits */
	assert_int_equal(sendlimit_check_n(&l, T0 + 60, 4, 3, 0, &reset), SENDLIMIT_HOUR);
	/* the daily limit the same way; unlimited is unlimited */
	assert_int_equal(sendlimit_check_n(&l, T0 + 60, 3, 0, 4, &reset), SENDLIMIT_DAY);
	assert_int_equal(sendlimit_check_n(&l, T0 + 60, 1000, 0, 0, &reset), SENDLIMIT_OK);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_check_n),
		cmocka_unit_test(test_window_counts_and_rolls),
		cmocka_unit_test(test_window_clock_back),
		cmocka_unit_test(test_free_at),
		cmocka_unit_test(test_limit_hour_then_reset),
		cmocka_unit_test(test_limit_day_wins),
		cmocka_unit_test(test_day_window_granularity),
		cmocka_unit_test(test_reply_text),
		cmocka_unit_test(test_parse),
	};

	return cmocka_run_group_tests_name("sendlimit", tests, NULL, NULL);
}
