/* Unit tests for src/lib/groupcommit.c: a request that arrives while a
 * batch is being committed joins the next batch together with every other
 * one waiting (no fixed delay), done() runs once per request, after its
 * items are committed and in the order of submission; max_items bounds a
 * batch; freeing the committer commits what is queued. The commit function
 * is held on a gate, so the tests wait for definite events, never sleep. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdbool.h>
#include <pthread.h>
#include <string.h>
#include <cmocka.h>

#include "lib/groupcommit.h"

#define MAX_BATCHES 16
#define MAX_REQS 16

struct item {
	int id;
	bool committed;
};

struct req {
	struct group_commit_req base;
	struct item items[8];
	void *ptrs[8];
	bool all_committed_at_done;
	int done_calls;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static bool gate_closed, in_commit;
static int batch_sizes[MAX_BATCHES], batch_first[MAX_BATCHES], nbatches;
static int done_order[MAX_REQS], ndone;
static struct req reqs[MAX_REQS];

static void reset(void)
{
	memset(reqs, 0, sizeof(reqs));
	memset(batch_sizes, 0, sizeof(batch_sizes));
	nbatches = ndone = 0;
	gate_closed = in_commit = false;
}

static void commit(void **items, size_t n, void *arg)
{
	pthread_mutex_lock(&lock);
	assert_ptr_equal(arg, &lock);
	in_commit = true;
	pthread_cond_broadcast(&cond);
	while (gate_closed)
		pthread_cond_wait(&cond, &lock);
	in_commit = false;
	batch_sizes[nbatches] = (int)n;
	batch_first[nbatches] = ((struct item *)items[0])->id;
	nbatches++;
	for (size_t i = 0; i < n; i++)
		((struct item *)items[i])->committed = true;
	pthread_mutex_unlock(&lock);
}

static void done(struct group_commit_req *base)
{
	struct req *r = (struct req *)base;

	pthread_mutex_lock(&lock);
	r->all_committed_at_done = true;
	for (size_t i = 0; i < r->base.nitems; i++)
		r->all_committed_at_done &= r->items[i].committed;
	r->done_calls++;
	done_order[ndone++] = (int)(r - reqs);
	pthread_cond_broadcast(&cond);
	pthread_mutex_unlock(&lock);
}

/* Request k with n items, ids k*10+i. */
static struct group_commit_req *req_make(int k, size_t n)
{
	struct req *r = &reqs[k];

	for (size_t i = 0; i < n; i++) {
		r->items[i].id = k * 10 + (int)i;
		r->ptrs[i] = &r->items[i];
	}
	r->base.items = r->ptrs;
	r->base.nitems = n;
	r->base.done = done;
	return &r->base;
}

static void wait_for(bool *flag)
{
	pthread_mutex_lock(&lock);
	while (!*flag)
		pthread_cond_wait(&cond, &lock);
	pthread_mutex_unlock(&lock);
}

static void wait_done(int n)
{
	pthread_mutex_lock(&lock);
	while (ndone < n)
		pthread_cond_wait(&cond, &lock);
	pthread_mutex_unlock(&lock);
}

static void gate(bool closed)
{
	pthread_mutex_lock(&lock);
	gate_closed = closed;
	pthread_cond_broadcast(&cond);
	pthread_mutex_unlock(&lock);
}

static void test_idle_commits_at_once_then_batches(void **state)
{
	struct group_commit *gc = group_commit_new(commit, &lock, 64);

	reset();
	gate(true);
	group_commit_submit(gc, req_make(0, 1));
	wait_for(&in_commit);	/* an idle committer starts on its own */
	group_commit_submit(gc, req_make(1, 2));
	group_commit_submit(gc, req_make(2, 1));
	group_commit_submit(gc, req_make(3, 3));
	gate(false);
	wait_done(4);
	assert_int_equal(nbatches, 2);
	assert_int_equal(batch_sizes[0], 1);
	assert_int_equal(batch_sizes[1], 6);	/* all three that waited, together */
	assert_int_equal(batch_first[1], 10);
	for (int k = 0; k < 4; k++) {
		assert_int_equal(done_order[k], k);
		assert_int_equal(reqs[k].done_calls, 1);
		assert_true(reqs[k].all_committed_at_done);
	}
	assert_int_equal(group_commit_batches(gc), 2);
	group_commit_free(gc);
	assert_int_equal(ndone, 4);
}

static void test_max_items_bounds_a_batch(void **state)
{
	struct group_commit *gc = group_commit_new(commit, &lock, 3);

	reset();
	gate(true);
	group_commit_submit(gc, req_make(0, 1));
	wait_for(&in_commit);
	group_commit_submit(gc, req_make(1, 2));
	group_commit_submit(gc, req_make(2, 1));	/* fits with 1: 3 */
	group_commit_submit(gc, req_make(3, 2));	/* does not: next batch */
	group_commit_submit(gc, req_make(4, 5));	/* larger than a batch: alone */
	group_commit_submit(gc, req_make(5, 1));
	gate(false);
	wait_done(6);
	assert_int_equal(nbatches, 5);
	assert_int_equal(batch_sizes[1], 3);
	assert_int_equal(batch_sizes[2], 2);
	assert_int_equal(batch_sizes[3], 5);
	assert_int_equal(batch_first[3], 40);
	assert_int_equal(batch_sizes[4], 1);
	for (int k = 0; k < 6; k++) {
		assert_int_equal(done_order[k], k);
		assert_true(reqs[k].all_committed_at_done);
	}
	group_commit_free(gc);
}

static void test_free_commits_what_is_queued(void **state)
{
	struct group_commit *gc = group_commit_new(commit, &lock, 64);

	reset();
	gate(true);
	group_commit_submit(gc, req_make(0, 1));
	wait_for(&in_commit);
	group_commit_submit(gc, req_make(1, 1));
	group_commit_submit(gc, req_make(2, 0));	/* no items: done all the same */
	gate(false);
	group_commit_free(gc);
	assert_int_equal(ndone, 3);
	for (int k = 0; k < 3; k++)
		assert_int_equal(reqs[k].done_calls, 1);
	group_commit_free(NULL);
}

static int end_calls, end_done_seen[MAX_BATCHES];

/* A batch-end hook: records how many done() calls had run when it came. */
static void batch_end(void)
{
	pthread_mutex_lock(&lock);
	end_done_seen[end_calls++] = ndone;
	pthread_cond_broadcast(&cond);
	pthread_mutex_unlock(&lock);
}

static struct group_commit_req *req_hooked(int k, size_t n)
{
	struct group_commit_req *r = req_make(k, n);

	r->batch_end = batch_end;
	return r;
}

static void test_batch_end_once_per_batch_after_every_done(void **state)
{
	struct group_commit *gc = group_commit_new(commit, &lock, 64);

	reset();
	end_calls = 0;
	gate(true);
	group_commit_submit(gc, req_hooked(0, 1));
	wait_for(&in_commit);
	group_commit_submit(gc, req_hooked(1, 1));
	group_commit_submit(gc, req_make(2, 1));	/* no hook */
	group_commit_submit(gc, req_hooked(3, 2));
	gate(false);
	group_commit_free(gc);
	assert_int_equal(nbatches, 2);
	assert_int_equal(end_calls, 2);	/* once per batch, not per request */
	assert_int_equal(end_done_seen[0], 1);
	assert_int_equal(end_done_seen[1], 4);	/* after the batch's last done() */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_idle_commits_at_once_then_batches),
		cmocka_unit_test(test_max_items_bounds_a_batch),
		cmocka_unit_test(test_free_commits_what_is_queued),
		cmocka_unit_test(test_batch_end_once_per_batch_after_every_done),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
