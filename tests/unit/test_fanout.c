/* Unit tests for src/lib/fanout.c: every item is handled exactly once per
 * run, runs can follow one another, the calls really overlap (two items
 * wait for each other, which only concurrent calls can satisfy), and a
 * NULL pool runs the items one by one on the caller. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdbool.h>
#include <pthread.h>
#include <cmocka.h>

#include "lib/fanout.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static int arrived;

static void count(void *item)
{
	pthread_mutex_lock(&lock);
	(*(int *)item)++;
	pthread_mutex_unlock(&lock);
}

/* Returns only once both items of the run are inside it. */
static void rendezvous(void *item)
{
	pthread_mutex_lock(&lock);
	arrived++;
	pthread_cond_broadcast(&cond);
	while (arrived < 2)
		pthread_cond_wait(&cond, &lock);
	pthread_mutex_unlock(&lock);
	*(int *)item = 1;
}

static void test_each_item_once(void **state)
{
	struct fanout *f = fanout_new(4);
	int v[100] = { 0 };
	void *items[100];

	for (int i = 0; i < 100; i++)
		items[i] = &v[i];
	for (int run = 1; run <= 3; run++) {
		fanout_run(f, count, items, 100);
		for (int i = 0; i < 100; i++)
			assert_int_equal(v[i], run);
	}
	fanout_run(f, count, items, 0);
	fanout_free(f);
	fanout_free(NULL);
}

static void test_calls_overlap(void **state)
{
	struct fanout *f = fanout_new(1);	/* its one thread and the caller */
	int v[2] = { 0, 0 };
	void *items[2] = { &v[0], &v[1] };

	arrived = 0;
	fanout_run(f, rendezvous, items, 2);
	assert_int_equal(v[0] + v[1], 2);
	fanout_free(f);
}

static void test_no_pool_runs_in_order(void **state)
{
	int v[3] = { 0, 0, 0 };
	void *items[3] = { &v[0], &v[1], &v[2] };

	fanout_run(NULL, count, items, 3);
	assert_int_equal(v[0] + v[1] + v[2], 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_each_item_once),
		cmocka_unit_test(test_calls_overlap),
		cmocka_unit_test(test_no_pool_runs_in_order),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
