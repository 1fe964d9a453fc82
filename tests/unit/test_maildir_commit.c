/* Unit tests for src/store/maildir_commit.c in a temporary directory: a
 * staged message sits in tmp/ only, the batch commit puts every whole file
 * into new/ of its own folder, a file that cannot be synced never reaches
 * new/ while the rest of its batch does, and discard removes a copy from
 * tmp/ or new/. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <unistd.h>
#include <cmocka.h>

#include "lib/fanout.h"
#include "lib/fsutil.h"
#include "store/journal.h"
#include "store/maildir_commit.h"

struct fixture {
	char data[64];
	char box[256];
	char junk[300];
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return -1;
	strcpy(f->data, "/tmp/yubin-test-mdcommit-XXXXXX");
	if (mkdtemp(f->data) == NULL)
		return -1;
	if (maildir_path(f->box, sizeof(f->box), f->data, "example.test", "user") < 0 ||
	    maildir_create(f->box) < 0)
		return -1;
	snprintf(f->junk, sizeof(f->junk), "%s/.Junk", f->box);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	fs_remove_tree(f->data);
	free(f);
	return 0;
}

static int count(const char *dir, const char *sub)
{
	char p[512];
	DIR *d;
	struct dirent *de;
	int n = 0;

	snprintf(p, sizeof(p), "%s/%s", dir, sub);
	d = opendir(p);
	if (d == NULL)
		return -1;
	while ((de = readdir(d)) != NULL)
		n += de->d_name[0] != '.';
	closedir(d);
	return n;
}

static char *read_copy(const struct maildir_staged *st, const char *sub)
{
	char p[PATH_MAX + 200];

	snprintf(p, sizeof(p), "%s/%s/%s", st->dir, sub, st->name);
	return fs_read_file(p, 1 << 20, NULL);
}

static void stage(const char *dir, const char *text, struct maildir_staged *st)
{
	struct maildir_msg msg = { "Delivered-To: u\r\n", 17, text, -1, strlen(text) };
	const char *error = NULL;

	assert_int_equal(maildir_stage(dir, &msg, st, &error), 0);
	assert_null(error);
}

static void test_batch_commit_publishes_whole_files(void **state)
{
	struct fixture *f = *state;
	struct maildir_staged st[3];
	void *items[3] = { &st[0], &st[1], &st[2] };
	char *data;

	stage(f->box, "Subject: one\r\n\r\nbody one\r\n", &st[0]);
	stage(f->junk, "Subject: two\r\n\r\nbody two\r\n", &st[1]);
	stage(f->box, "Subject: three\r\n\r\nbody three\r\n", &st[2]);
	assert_int_equal(count(f->box, "tmp"), 2);
	assert_int_equal(count(f->junk, "tmp"), 1);
	assert_int_equal(count(f->box, "new"), 0);	/* nothing visible before the commit */
	assert_string_not_equal(st[0].name, st[2].name);

	struct maildir_committer c = { fanout_new(2), NULL };	/* the syncs issued concurrently */
	maildir_commit_batch(items, 3, &c);
	fanout_free(c.syncs);
	for (int i = 0; i < 3; i++) {
		assert_null(st[i].error);
		assert_true(st[i].visible);
	}
	assert_int_equal(count(f->box, "tmp"), 0);
	assert_int_equal(count(f->junk, "tmp"), 0);
	assert_int_equal(count(f->box, "new"), 2);
	assert_int_equal(count(f->junk, "new"), 1);
	data = read_copy(&st[1], "new");
	assert_non_null(data);
	assert_string_equal(data, "Delivered-To: u\r\nSubject: two\r\n\r\nbody two\r\n");
	free(data);
	assert_int_equal(maildir_name_size(st[2].name), 17 + 30);

	maildir_staged_discard(&st[0]);
	assert_int_equal(count(f->box, "new"), 1);
	maildir_staged_discard(&st[0]);	/* twice is harmless */
	maildir_staged_discard(NULL);
}

static void test_failed_file_stays_out_of_new(void **state)
{
	struct fixture *f = *state;
	struct maildir_staged st[3];
	void *items[3] = { &st[0], &st[1], &st[2] };
	char p[PATH_MAX + 200];

	memset(&st[2], 0, sizeof(st[2]));	/* nothing staged: "/tmp/" must stay put */

	stage(f->box, "Subject: lost\r\n\r\nx\r\n", &st[0]);
	stage(f->box, "Subject: kept\r\n\r\ny\r\n", &st[1]);
	snprintf(p, sizeof(p), "%s/tmp/%s", st[0].dir, st[0].name);
	assert_int_equal(unlink(p), 0);
	maildir_commit_batch(items, 3, NULL);
	assert_non_null(st[2].error);
	assert_false(st[2].visible);
	assert_non_null(st[0].error);
	assert_false(st[0].visible);
	assert_null(st[1].error);
	assert_true(st[1].visible);
	assert_int_equal(count(f->box, "new"), 1);
	maildir_staged_discard(&st[0]);
	assert_int_equal(count(f->box, "new"), 1);
}

static void test_discard_before_commit_cleans_tmp(void **state)
{
	struct fixture *f = *state;
	struct maildir_staged st;
	struct maildir_msg msg = { "", 0, "x", -1, 1 };
	const char *error = NULL;
	char missing[300];

	stage(f->box, "Subject: gone\r\n\r\nz\r\n", &st);
	maildir_staged_discard(&st);
	assert_int_equal(count(f->box, "tmp"), 0);
	snprintf(missing, sizeof(missing), "%s/nobox", f->data);
	assert_int_equal(maildir_stage(missing, &msg, &st, &error), -1);
	assert_string_equal(error, "mailbox directory missing");
}

/* Through the journal: the copies land in new/ (one with flags in cur/),
 * journaled, with no directory fsync of their own; the journal's segment
 * holds them until its checkpoint. */
static void test_batch_commit_through_the_journal(void **state)
{
	struct fixture *f = *state;
	struct maildir_staged st[2];
	void *items[2] = { &st[0], &st[1] };
	char jdir[128], seg[200];
	const char *error = NULL;
	struct maildir_committer c = { NULL, NULL };
	char *data;
	size_t len;

	snprintf(jdir, sizeof(jdir), "%s/journal", f->data);
	c.journal = journal_open(jdir, 60000, &error);
	assert_non_null(c.journal);
	stage(f->box, "Subject: one\r\n\r\nbody one\r\n", &st[0]);
	stage(f->junk, "Subject: two\r\n\r\nbody two\r\n", &st[1]);
	strcpy(st[1].flags, "S");
	maildir_commit_batch(items, 2, &c);
	for (int i = 0; i < 2; i++) {
		assert_null(st[i].error);
		assert_true(st[i].visible);
		assert_true(st[i].journaled);
	}
	assert_int_equal(count(f->box, "new"), 1);
	assert_int_equal(count(f->junk, "cur"), 1);
	snprintf(seg, sizeof(seg), "%s/0000000000000001.log", jdir);
	data = fs_read_file(seg, 1 << 20, &len);
	assert_non_null(data);
	assert_non_null(memmem(data, len, "body one", 8));
	assert_non_null(memmem(data, len, "body two", 8));
	free(data);
	journal_close(c.journal);
	assert_int_equal(access(seg, F_OK), -1);	/* checkpointed at the close */
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_batch_commit_publishes_whole_files),
		T(test_failed_file_stays_out_of_new),
		T(test_discard_before_commit_cleans_tmp),
		T(test_batch_commit_through_the_journal),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
