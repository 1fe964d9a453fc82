/* Unit tests for src/lib/metrics.c: the registry's table checks, the sums
 * over threads, and the exact Prometheus text format (HELP/TYPE lines,
 * escaping, cumulative histogram buckets, _sum and _count). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <cmocka.h>

#include "lib/metrics.h"
#include "lib/strbuf.h"

static const char *const services[] = { "smtp", "imap", NULL };
static const uint64_t bounds_us[] = { 1000, 250000, 1000000 };

static int64_t read_seven(size_t series, void *arg)
{
	return 7 * (int64_t)(series + 1) + (arg != NULL ? 100 : 0);
}

static const struct metric_def defs[] = {
	{ .name = "t_conn_total", .help = "Connections accepted.", .kind = METRIC_COUNTER,
	  .label = "service", .values = services },
	{ .name = "t_open", .help = "Open now.", .kind = METRIC_GAUGE },
	{ .name = "t_latency_seconds", .help = "Time taken.", .kind = METRIC_HISTOGRAM,
	  .bounds = bounds_us, .nbounds = 3, .decimals = 6 },
	{ .name = "t_read", .help = "Read at scrape.", .kind = METRIC_GAUGE, .label = "service",
	  .values = services, .read = read_seven },
};

static struct metrics *make(void)
{
	const char *error = NULL;
	struct metrics *m = metrics_new(defs, sizeof(defs) / sizeof(defs[0]), 4, &error);

	assert_non_null(m);
	assert_null(error);
	return m;
}

static char *render(const struct metrics *m)
{
	struct strbuf out = STRBUF_INIT;
	char *s;

	metrics_render(m, &out);
	s = strdup(strbuf_cstr(&out));
	strbuf_free(&out);
	assert_non_null(s);
	return s;
}

static void test_empty_render(void **state)
{
	struct metrics *m = make();
	char *text = render(m);

	assert_string_equal(text,
		"# HELP t_conn_total Connections accepted.\n"
		"# TYPE t_conn_total counter\n"
		"t_conn_total{service=\"smtp\"} 0\n"
		"t_conn_total{service=\"imap\"} 0\n"
		"# HELP t_open Open now.\n"
		"# TYPE t_open gauge\n"
		"t_open 0\n"
		"# HELP t_latency_seconds Time taken.\n"
		"# TYPE t_latency_seconds histogram\n"
		"t_latency_seconds_bucket{le=\"0.001\"} 0\n"
		"t_latency_seconds_bucket{le=\"0.25\"} 0\n"
		"t_latency_seconds_bucket{le=\"1\"} 0\n"
		"t_latency_seconds_bucket{le=\"+Inf\"} 0\n"
		"t_latency_seconds_sum 0\n"
		"t_latency_seconds_count 0\n"
		"# HELP t_read Read at scrape.\n"
		"# TYPE t_read gauge\n"
		"t_read{service=\"smtp\"} 7\n"
		"t_read{service=\"imap\"} 14\n");
	free(text);
	metrics_free(m);
}

static void test_counts_and_histogram(void **state)
{
	struct metrics *m = make();
	char *text;

	metrics_add(m, 0, 1, 1);
	metrics_add(m, 0, 1, 2);
	metrics_add(m, 0, 2, 5);	/* no such series: ignored */
	metrics_add(m, 1, 0, 3);
	metrics_add(m, 1, 0, -5);
	metrics_add(m, 2, 0, 1);	/* a histogram takes no add */
	metrics_observe(m, 2, 0, 1000);		/* on the bound: that bucket */
	metrics_observe(m, 2, 0, 1001);
	metrics_observe(m, 2, 0, 2500000);	/* past every bound */
	metrics_observe(m, 0, 0, 5);		/* a counter takes no observation */
	assert_int_equal(metrics_value(m, 0, 1), 3);
	assert_int_equal(metrics_value(m, 2, 0), 3);
	text = render(m);
	assert_non_null(strstr(text, "t_conn_total{service=\"smtp\"} 0\nt_conn_total{service=\"imap\"} 3\n"));
	assert_non_null(strstr(text, "t_open -2\n"));
	assert_non_null(strstr(text,
		"t_latency_seconds_bucket{le=\"0.001\"} 1\n"
		"t_latency_seconds_bucket{le=\"0.25\"} 2\n"
		"t_latency_seconds_bucket{le=\"1\"} 2\n"
		"t_latency_seconds_bucket{le=\"+Inf\"} 3\n"
		"t_latency_seconds_sum 2.502001\n"
		"t_latency_seconds_count 3\n"));
	free(text);
	metrics_free(m);
}

static const char *const odd_values[] = { "a\"b", "c\\d", "e\nf", NULL };
static const uint64_t one_bound[] = { 5 };

static void test_escaping(void **state)
{
	static const struct metric_def odd[] = {
		{ .name = "odd_total", .help = "Back\\slash and\nnewline \"kept\".",
		  .kind = METRIC_COUNTER, .label = "v", .values = odd_values },
		{ .name = "h", .help = "", .kind = METRIC_HISTOGRAM, .label = "v", .values = odd_values,
		  .bounds = one_bound, .nbounds = 1 },
	};
	const char *error;
	struct metrics *m = metrics_new(odd, 2, 1, &error);
	char *text;

	assert_non_null(m);
	metrics_observe(m, 1, 2, 9);
	text = render(m);
	assert_non_null(strstr(text, "# HELP odd_total Back\\\\slash and\\nnewline \"kept\".\n"));
	assert_non_null(strstr(text, "odd_total{v=\"a\\\"b\"} 0\n"));
	assert_non_null(strstr(text, "odd_total{v=\"c\\\\d\"} 0\n"));
	assert_non_null(strstr(text, "odd_total{v=\"e\\nf\"} 0\n"));
	assert_non_null(strstr(text, "# HELP h \n# TYPE h histogram\n"));
	assert_non_null(strstr(text, "h_bucket{v=\"e\\nf\",le=\"5\"} 0\n"
				     "h_bucket{v=\"e\\nf\",le=\"+Inf\"} 1\n"
				     "h_sum{v=\"e\\nf\"} 9\n"
				     "h_count{v=\"e\\nf\"} 1\n"));
	assert_int_equal(metrics_series_find(m, 0, "c\\d"), 1);
	assert_int_equal(metrics_series_find(m, 0, "nope"), -1);
	free(text);
	metrics_free(m);
}

static void expect_bad(const struct metric_def *d, const char *want)
{
	const char *error = NULL;

	assert_null(metrics_new(d, 1, 1, &error));
	assert_string_equal(error, want);
}

static void test_bad_tables(void **state)
{
	static const uint64_t down[] = { 5, 5 };
	const char *error = NULL;

	expect_bad(&(struct metric_def){ .name = "9x", .help = "" }, "bad metric name");
	expect_bad(&(struct metric_def){ .name = "a-b", .help = "" }, "bad metric name");
	expect_bad(&(struct metric_def){ .name = "a", .help = NULL }, "a metric has no help text");
	expect_bad(&(struct metric_def){ .name = "a", .help = "", .label = "__x", .values = services },
		   "bad label name");
	expect_bad(&(struct metric_def){ .name = "a", .help = "", .label = "a:b", .values = services },
		   "bad label name");
	expect_bad(&(struct metric_def){ .name = "a", .help = "", .kind = METRIC_HISTOGRAM,
					 .label = "le", .values = services, .bounds = one_bound,
					 .nbounds = 1 }, "bad label name");
	expect_bad(&(struct metric_def){ .name = "a", .help = "", .label = "x" },
		   "a label without values");
	expect_bad(&(struct metric_def){ .name = "a", .help = "", .kind = METRIC_HISTOGRAM },
		   "a histogram without buckets");
	expect_bad(&(struct metric_def){ .name = "a", .help = "", .kind = METRIC_HISTOGRAM,
					 .bounds = down, .nbounds = 2 }, "histogram bounds not ascending");
	expect_bad(&(struct metric_def){ .name = "a", .help = "", .kind = METRIC_COUNTER,
					 .read = read_seven }, "only a gauge can be read at scrape time");
	expect_bad(&(struct metric_def){ .name = "a", .help = "", .decimals = 10 },
		   "more than 9 decimals");
	assert_null(metrics_new(defs, 1, 0, &error));
	assert_string_equal(error, "bad number of shards");
	{
		const struct metric_def twice[] = { { .name = "a", .help = "" }, { .name = "a", .help = "" } };
		assert_null(metrics_new(twice, 2, 1, &error));
		assert_string_equal(error, "a metric name used twice");
	}
	/* NULL registries are ignored */
	metrics_add(NULL, 0, 0, 1);
	metrics_observe(NULL, 0, 0, 1);
	metrics_free(NULL);
}

/* Values with decimals are written exactly, without trailing zeros. */
static void test_numbers(void **state)
{
	static const struct metric_def d[] = {
		{ .name = "g", .help = "", .kind = METRIC_GAUGE, .decimals = 3 },
		{ .name = "z", .help = "", .kind = METRIC_GAUGE, .decimals = 9 },
	};
	const char *error;
	struct metrics *m = metrics_new(d, 2, 2, &error);
	char *text;

	assert_non_null(m);
	metrics_add(m, 0, 0, -1500);
	metrics_add(m, 1, 0, 1000000001);
	text = render(m);
	assert_string_equal(text, "# HELP g \n# TYPE g gauge\ng -1.5\n"
				  "# HELP z \n# TYPE z gauge\nz 1.000000001\n");
	free(text);
	metrics_add(m, 0, 0, 1500);
	metrics_add(m, 0, 0, -7);
	text = render(m);
	assert_non_null(strstr(text, "g -0.007\n"));
	free(text);
	metrics_free(m);
}

#define THREADS 8
#define ADDS 20000

static void *adder(void *arg)
{
	struct metrics *m = arg;

	for (int i = 0; i < ADDS; i++) {
		metrics_add(m, 0, 0, 1);
		metrics_observe(m, 2, 0, (uint64_t)i);
	}
	return NULL;
}

/* More threads than shards: every add still counts once. */
static void test_threads(void **state)
{
	struct metrics *m = make();
	pthread_t t[THREADS];

	for (int i = 0; i < THREADS; i++)
		assert_int_equal(pthread_create(&t[i], NULL, adder, m), 0);
	for (int i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	assert_int_equal(metrics_value(m, 0, 0), THREADS * ADDS);
	assert_int_equal(metrics_value(m, 2, 0), THREADS * ADDS);
	metrics_free(m);
}

static void test_now(void **state)
{
	uint64_t a = metrics_now_us(), b = metrics_now_us();

	assert_true(b >= a);
	assert_true(a > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty_render),
		cmocka_unit_test(test_counts_and_histogram),
		cmocka_unit_test(test_escaping),
		cmocka_unit_test(test_bad_tables),
		cmocka_unit_test(test_numbers),
		cmocka_unit_test(test_threads),
		cmocka_unit_test(test_now),
	};

	return cmocka_run_group_tests_name("metrics", tests, NULL, NULL);
}
