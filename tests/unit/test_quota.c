/* Unit tests for src/store/quota.c: usage derived from a real Maildir in a
 * temporary directory, reservations against a limit, release, forget. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "lib/fsutil.h"
#include "store/maildir.h"
#include "store/quota.h"

struct fixture {
	char data[64];
	char box[256];
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return -1;
	strcpy(f->data, "/tmp/yubin-test-quota-XXXXXX");
	if (mkdtemp(f->data) == NULL)
		return -1;
	if (maildir_path(f->box, sizeof(f->box), f->data, "example.test", "user") < 0 ||
	    maildir_create(f->box) < 0)
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	quota_forget(f->box);
	fs_remove_tree(f->data);
	free(f);
	return 0;
}

static void deliver(const char *box, size_t size)
{
	char *body = malloc(size + 1);
	struct maildir_msg msg = { "", 0, body, -1, size };
	const char *e;

	assert_non_null(body);
	memset(body, 'b', size);
	assert_int_equal(maildir_deliver(box, &msg, NULL, 0, &e), 0);
	free(body);
}

static uint64_t usage(const char *box)
{
	uint64_t bytes = 12345;

	assert_int_equal(quota_usage(box, &bytes), 0);
	return bytes;
}

static void test_usage_from_disk(void **state)
{
	struct fixture *f = *state;

	deliver(f->box, 100);
	deliver(f->box, 250);
	assert_true(usage(f->box) == 350);
	/* cached: a delivery behind its back is not seen until forget */
	deliver(f->box, 50);
	assert_true(usage(f->box) == 350);
	quota_forget(f->box);
	assert_true(usage(f->box) == 400);
}

static void test_usage_missing(void **state)
{
	struct fixture *f = *state;
	char path[512];
	uint64_t bytes = 7;

	snprintf(path, sizeof(path), "%s/mail/example.test/nobody", f->data);
	assert_int_equal(quota_usage(path, &bytes), -1);
	assert_true(bytes == 7);
	assert_false(quota_reserve(path, 1, 0));
	quota_release(path, 1);	/* harmless */
	quota_forget(path);
}

static void test_reserve_and_release(void **state)
{
	struct fixture *f = *state;

	deliver(f->box, 600);
	assert_true(quota_reserve(f->box, 400, 1000));
	assert_true(usage(f->box) == 1000);
	/* full: one more byte is refused and changes nothing */
	assert_false(quota_reserve(f->box, 1, 1000));
	assert_true(usage(f->box) == 1000);
	/* no limit */
	assert_true(quota_reserve(f->box, 5000, 0));
	assert_true(usage(f->box) == 6000);
	quota_release(f->box, 5400);
	assert_true(usage(f->box) == 600);
	/* never below zero */
	quota_release(f->box, 1000000);
	assert_true(usage(f->box) == 0);
	assert_true(quota_reserve(f->box, 0, 0));
	assert_true(quota_reserve(f->box, 1000, 1000));
	assert_false(quota_reserve(f->box, 1, 1000));
}

static void test_reserve_overflow(void **state)
{
	struct fixture *f = *state;

	/* a huge request must not wrap around and pass the limit */
	deliver(f->box, 10);
	assert_false(quota_reserve(f->box, UINT64_MAX, 1000));
	assert_false(quota_reserve(f->box, UINT64_MAX - 5, 1000));
	assert_true(usage(f->box) == 10);
	assert_true(quota_reserve(f->box, 990, 1000));
	assert_false(quota_reserve(f->box, UINT64_MAX, UINT64_MAX));
	assert_true(usage(f->box) == 1000);
}

static void test_recreated_mailbox_counts_again(void **state)
{
	struct fixture *f = *state;

	/* an account deleted and added again gets a new, empty mailbox at the
	 * same path: the old figure must not stick to it */
	deliver(f->box, 700);
	assert_true(usage(f->box) == 700);
	assert_true(quota_reserve(f->box, 100, 0));
	assert_int_equal(fs_remove_tree(f->box), 0);
	/* The file system reuses the inode number at once; the birth time
	 * tells the mailboxes apart, and its clock ticks every few ms (a real
	 * `account del` then `account add` takes far longer). */
	usleep(20 * 1000);
	assert_int_equal(maildir_create(f->box), 0);
	assert_true(usage(f->box) == 0);
	deliver(f->box, 5);
	quota_forget(f->box);
	assert_true(usage(f->box) == 5);
}

static void test_first_use_cleans_tmp(void **state)
{
	struct fixture *f = *state;
	char p[512];
	struct timeval tv[2];
	int fd;

	snprintf(p, sizeof(p), "%s/tmp/stale", f->box);
	fd = open(p, O_WRONLY | O_CREAT, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "xxxx", 4), 4);
	close(fd);
	tv[0].tv_sec = tv[1].tv_sec = time(NULL) - 40 * 3600;
	tv[0].tv_usec = tv[1].tv_usec = 0;
	assert_int_equal(utimes(p, tv), 0);
	assert_true(usage(f->box) == 0);
	assert_int_equal(access(p, F_OK), -1);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_usage_from_disk),
		T(test_usage_missing),
		T(test_reserve_and_release),
		T(test_reserve_overflow),
		T(test_recreated_mailbox_counts_again),
		T(test_first_use_cleans_tmp),
	};

	return cmocka_run_group_tests_name("quota", tests, NULL, NULL);
}
