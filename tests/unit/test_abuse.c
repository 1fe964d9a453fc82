/* Unit tests for src/policy/abuse.c: each signal's threshold, the
 * defaults, the recipient set's window and the country in event details. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "policy/abuse.h"

static void test_defaults_quiet(void **state)
{
	struct abuse_thresholds t;
	struct abuse_signals s;
	char why[256];

	abuse_thresholds_default(&t);
	assert_int_equal(t.burst_min, 500);
	assert_int_equal(t.login_countries, 3);
	memset(&s, 0, sizeof(s));
	s.hour_sent = 499;
	s.new_rcpts = 199;
	s.bounces_day = 49;
	s.sent_day = 1000;
	s.countries = 2;
	assert_int_equal(abuse_evaluate(&t, &s, why, sizeof(why)), ABUSE_NONE);
	assert_string_equal(why, "");
}

static void test_burst_relative_to_usual(void **state)
{
	struct abuse_thresholds t;
	struct abuse_signals s;
	char why[256];

	abuse_thresholds_default(&t);
	memset(&s, 0, sizeof(s));
	s.hour_sent = 600;
	s.usual_peak_hour = 100;	/* a busy account: 600 < 10 x 100 */
	assert_int_equal(abuse_evaluate(&t, &s, why, sizeof(why)), ABUSE_NONE);
	s.usual_peak_hour = 60;
	assert_int_equal(abuse_evaluate(&t, &s, why, sizeof(why)), ABUSE_BURST);
	assert_string_equal(why, "sent to 600 recipients within 60 minutes; its busiest hour in the"
			    " previous 7 days had 60");
	assert_string_equal(abuse_reason_name(ABUSE_BURST), "burst");
	t.burst_min = 0;		/* off */
	assert_int_equal(abuse_evaluate(&t, &s, why, sizeof(why)), ABUSE_NONE);
}

static void test_new_recipients(void **state)
{
	struct abuse_thresholds t;
	struct abuse_signals s;
	char why[256];

	abuse_thresholds_default(&t);
	t.new_rcpt_max = 3;
	t.new_rcpt_window = 600;
	memset(&s, 0, sizeof(s));
	s.new_rcpts = 2;
	assert_int_equal(abuse_evaluate(&t, &s, why, sizeof(why)), ABUSE_NONE);
	s.new_rcpts = 3;
	assert_int_equal(abuse_evaluate(&t, &s, why, sizeof(why)), ABUSE_NEW_RCPTS);
	assert_non_null(strstr(why, "3 new recipients"));
	assert_non_null(strstr(why, "within 10 minutes"));
}

static void test_bounces_need_sending(void **state)
{
	struct abuse_thresholds t;
	struct abuse_signals s;
	char why[256];

	abuse_thresholds_default(&t);
	memset(&s, 0, sizeof(s));
	/* backscatter: many bounces, hardly anything sent */
	s.bounces_day = 500;
	s.sent_day = 3;
	assert_int_equal(abuse_evaluate(&t, &s, why, sizeof(why)), ABUSE_NONE);
	/* 50 bounces for 1000 sent is 5 %: normal */
	s.bounces_day = 50;
	s.sent_day = 1000;
	assert_int_equal(abuse_evaluate(&t, &s, why, sizeof(why)), ABUSE_NONE);
	/* 300 for 1000 is 30 % */
	s.bounces_day = 300;
	assert_int_equal(abuse_evaluate(&t, &s, why, sizeof(why)), ABUSE_BOUNCES);
	assert_string_equal(abuse_reason_name(ABUSE_BOUNCES), "bounces");
}

static void test_countries(void **state)
{
	struct abuse_thresholds t;
	struct abuse_signals s;
	char why[256];

	abuse_thresholds_default(&t);
	memset(&s, 0, sizeof(s));
	s.countries = 3;
	assert_int_equal(abuse_evaluate(&t, &s, why, sizeof(why)), ABUSE_COUNTRIES);
	assert_string_equal(why, "logged in successfully from 3 countries within 60 minutes");
	t.login_countries = 0;
	assert_int_equal(abuse_evaluate(&t, &s, why, sizeof(why)), ABUSE_NONE);
}

static void test_rcptset_window(void **state)
{
	struct abuse_rcptset set;
	char addr[64];

	memset(&set, 0, sizeof(set));
	assert_int_equal(abuse_rcpt_hash("A@Example.JP"), abuse_rcpt_hash("a@example.jp"));
	assert_int_not_equal(abuse_rcpt_hash("a@example.jp"), abuse_rcpt_hash("b@example.jp"));
	assert_int_equal(abuse_rcptset_add(&set, abuse_rcpt_hash("a@x.jp"), 1000, 600), 1);
	assert_int_equal(abuse_rcptset_add(&set, abuse_rcpt_hash("a@x.jp"), 1001, 600), 1);	/* again */
	assert_int_equal(abuse_rcptset_add(&set, abuse_rcpt_hash("b@x.jp"), 1300, 600), 2);
	assert_true(abuse_rcptset_has(&set, abuse_rcpt_hash("b@x.jp")));
	/* at 1600 the first (1000) has left the 600 s window */
	assert_int_equal(abuse_rcptset_add(&set, abuse_rcpt_hash("c@x.jp"), 1600, 600), 2);
	assert_false(abuse_rcptset_has(&set, abuse_rcpt_hash("a@x.jp")));
	for (int i = 0; i < 1000; i++) {
		snprintf(addr, sizeof(addr), "r%d@x.jp", i);
		abuse_rcptset_add(&set, abuse_rcpt_hash(addr), 1700, 600);
	}
	assert_int_equal(set.n, 1002);
	abuse_rcptset_clear(&set);
	assert_int_equal(set.n, 0);
	abuse_rcptset_clear(&set);	/* twice is fine */
}

static void test_detail_country(void **state)
{
	char cc[3];

	assert_true(abuse_detail_country("smtp login from 127.0.0.2 country=US", cc));
	assert_string_equal(cc, "US");
	assert_true(abuse_detail_country("country=jp, rule home", cc));
	assert_string_equal(cc, "JP");
	assert_false(abuse_detail_country("country=", cc));
	assert_false(abuse_detail_country("country=J", cc));
	assert_false(abuse_detail_country("country=JPN", cc));
	assert_false(abuse_detail_country("country=1A", cc));
	assert_false(abuse_detail_country("no country here", cc));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults_quiet),
		cmocka_unit_test(test_burst_relative_to_usual),
		cmocka_unit_test(test_new_recipients),
		cmocka_unit_test(test_bounces_need_sending),
		cmocka_unit_test(test_countries),
		cmocka_unit_test(test_rcptset_window),
		cmocka_unit_test(test_detail_country),
	};

	return cmocka_run_group_tests_name("abuse", tests, NULL, NULL);
}
