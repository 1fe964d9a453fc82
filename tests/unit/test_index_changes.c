/* Changes by other programs in a folder whose messages the index keeps in
 * its cache: the cache is trusted on its directories' mtimes only once
 * they are settled, so a change within the same timestamp tick as one of
 * the index's own is still found; files put into new/ are taken one by
 * one; a removal from cur/ is an expunge, however long the folder was
 * left alone. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lib/fsutil.h"
#include "store/index.h"
#include "store/index_private.h"
#include "store/maildir.h"

#include "index_fixture.h"

/* A file put into new/ by another program (no store_changed). */
static void drop_new(const char *root, const char *name)
{
	char tmp[512], dst[512];
	int fd;

	snprintf(tmp, sizeof(tmp), "%s/tmp/%s", root, name);
	snprintf(dst, sizeof(dst), "%s/new/%s", root, name);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "Subject: x\r\n\r\nx\r\n", 17), 17);
	close(fd);
	assert_int_equal(rename(tmp, dst), 0);
}

static struct timespec dir_mtime_of(const char *root, const char *sub)
{
	char p[512];
	struct stat sb;

	snprintf(p, sizeof(p), "%s/%s", root, sub);
	assert_int_equal(stat(p, &sb), 0);
	return sb.st_mtim;
}

static void dir_mtime_set(const char *root, const char *sub, struct timespec ts)
{
	char p[512];
	struct timespec t[2] = { ts, ts };

	snprintf(p, sizeof(p), "%s/%s", root, sub);
	assert_int_equal(utimensat(AT_FDCWD, p, t, 0), 0);
}

/* Moves a directory's mtime 10 s back, as if the folder had been left
 * alone since. */
static void dir_age(const char *root, const char *sub)
{
	struct timespec ts = dir_mtime_of(root, sub);

	ts.tv_sec -= 10;
	dir_mtime_set(root, sub, ts);
}

static struct index_mailbox inbox(struct fixture *f)
{
	struct index_mailbox m;

	assert_int_equal(mail_index_mailbox_get(f->idx, "INBOX", &m), 1);
	return m;
}

static int64_t rows_in_index(struct fixture *f, const struct index_mailbox *m)
{
	sqlite3_stmt *st = idx_prepare(f->idx, "SELECT count(*) FROM messages WHERE mailbox_id = ?");
	int64_t n;

	assert_non_null(st);
	sqlite3_bind_int64(st, 1, m->id);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return n;
}

/* Another program unlinks a file within the same tick as the index's own
 * rename (its mtime is put back to the one the index recorded): cur/ is
 * not settled yet, so the next sync reads it and finds the removal. */
static void test_removal_in_the_same_tick_is_found(void **state)
{
	struct fixture *f = *state;
	struct index_mailbox m = inbox(f);
	struct index_changes ch;
	struct index_view v;
	struct timespec own;
	char path[512];
	uint64_t ver;

	for (int i = 0; i < 3; i++)
		deliver(f->root, "Subject: s\r\n\r\nx\r\n");
	assert_int_equal(mail_index_sync(f->idx, &m, &v), 0);
	assert_int_equal(v.count, 3);
	ver = v.version;
	assert_int_equal(mail_index_set_flags(f->idx, &m, &v.msgs[0], INDEX_FLAG_SEEN, NULL), 0);
	own = dir_mtime_of(f->root, "cur");
	assert_int_equal(mail_index_msg_path(&m, &v.msgs[1], path, sizeof(path)), 0);
	assert_int_equal(unlink(path), 0);
	dir_mtime_set(f->root, "cur", own);

	assert_int_equal(mail_index_sync_since(f->idx, &m, ver, 3, &ch), 0);
	if (ch.full) {
		assert_int_equal(ch.view.count, 2);
		assert_int_equal(ch.view.msgs[1].uid, 3);
	} else {
		assert_int_equal(ch.ngone, 1);
		assert_int_equal(ch.gone[0], 2);
	}
	index_changes_free(&ch);
	assert_int_equal(rows_in_index(f, &m), 2);
	index_view_free(&v);
}

/* A flag change in a file name by another program, in the same tick as a
 * delivery the index took. */
static void test_rename_in_the_same_tick_is_found(void **state)
{
	struct fixture *f = *state;
	struct index_mailbox m = inbox(f);
	struct index_view v;
	struct timespec own;
	char from[512], to[600];

	deliver(f->root, "Subject: s\r\n\r\nx\r\n");
	assert_int_equal(mail_index_sync(f->idx, &m, &v), 0);
	index_view_free(&v);
	dir_age(f->root, "cur");
	dir_age(f->root, "new");
	assert_int_equal(mail_index_sync(f->idx, &m, &v), 0);	/* settles */
	index_view_free(&v);
	deliver(f->root, "Subject: t\r\n\r\ny\r\n");
	assert_int_equal(mail_index_sync(f->idx, &m, &v), 0);	/* takes it */
	assert_int_equal(v.count, 2);
	own = dir_mtime_of(f->root, "cur");
	snprintf(from, sizeof(from), "%s/cur/%s", f->root, v.msgs[0].file);
	snprintf(to, sizeof(to), "%sF", from);
	assert_int_equal(rename(from, to), 0);
	dir_mtime_set(f->root, "cur", own);
	index_view_free(&v);
	assert_int_equal(mail_index_sync(f->idx, &m, &v), 0);
	assert_int_equal(v.count, 2);
	assert_int_equal(v.msgs[0].flags, INDEX_FLAG_FLAGGED);
	index_view_free(&v);
}

/* Files put into new/ while the folder's cache is current are taken
 * alone: new UIDs in delivery order, moved to cur/, recent, in the index
 * and told as changes since the last version; then an external removal
 * after a long quiet is still an expunge. */
static void test_new_files_are_taken_and_quiet_removal_seen(void **state)
{
	struct fixture *f = *state;
	struct index_mailbox m = inbox(f);
	struct index_changes ch;
	struct index_view v;
	char path[512];
	uint64_t ver;
	struct stat sb;

	for (int i = 0; i < 4; i++)
		deliver(f->root, "Subject: s\r\n\r\nx\r\n");
	assert_int_equal(mail_index_sync(f->idx, &m, &v), 0);
	mail_index_recent_claim(&m, v.uidnext);
	ver = v.version;
	index_view_free(&v);
	dir_age(f->root, "cur");
	dir_age(f->root, "new");
	assert_int_equal(mail_index_sync_since(f->idx, &m, ver, 4, &ch), 0);
	assert_false(ch.full);
	assert_int_equal(ch.view.count, 0);
	index_changes_free(&ch);

	drop_new(f->root, "1700000002.M2P1.other,S=17");
	drop_new(f->root, "1700000001.M1P1.other,S=17");
	assert_int_equal(mail_index_sync_since(f->idx, &m, ver, 4, &ch), 0);
	assert_false(ch.full);
	assert_int_equal(ch.ngone, 0);
	assert_int_equal(ch.view.count, 2);
	assert_int_equal(ch.view.msgs[0].uid, 5);
	assert_string_equal(ch.view.msgs[0].file, "1700000001.M1P1.other,S=17:2,");
	assert_int_equal(ch.view.msgs[1].uid, 6);
	assert_true(ch.view.msgs[0].recent && ch.view.msgs[1].recent);
	assert_int_equal(ch.view.uidnext, 7);
	assert_int_equal(ch.view.msgs[1].size, 17);
	assert_true(ch.view.version > ver);
	ver = ch.view.version;
	index_changes_free(&ch);
	snprintf(path, sizeof(path), "%s/cur/1700000002.M2P1.other,S=17:2,", f->root);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(rows_in_index(f, &m), 6);

	/* left alone, then a file removed by another program */
	dir_age(f->root, "cur");
	dir_age(f->root, "new");
	assert_int_equal(mail_index_sync_since(f->idx, &m, ver, 6, &ch), 0);
	assert_int_equal(ch.view.count, 0);
	index_changes_free(&ch);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(mail_index_sync_since(f->idx, &m, ver, 6, &ch), 0);
	assert_false(ch.full);
	assert_int_equal(ch.ngone, 1);
	assert_int_equal(ch.gone[0], 6);
	index_changes_free(&ch);
	assert_int_equal(rows_in_index(f, &m), 5);
}

/* A file in new/ whose name the index knows already (a copy put back by a
 * Maildir tool) is not numbered twice: the full sync sorts it out. */
static void test_known_name_in_new_is_not_numbered_twice(void **state)
{
	struct fixture *f = *state;
	struct index_mailbox m = inbox(f);
	struct index_view v;
	char from[512], to[512], base[256];

	deliver(f->root, "Subject: s\r\n\r\nx\r\n");
	assert_int_equal(mail_index_sync(f->idx, &m, &v), 0);
	assert_int_equal(v.count, 1);
	snprintf(base, sizeof(base), "%s", v.msgs[0].file);
	*strchr(base, ':') = '\0';
	snprintf(from, sizeof(from), "%s/cur/%s", f->root, v.msgs[0].file);
	snprintf(to, sizeof(to), "%s/new/%s", f->root, base);
	assert_int_equal(rename(from, to), 0);
	index_view_free(&v);
	assert_int_equal(mail_index_sync(f->idx, &m, &v), 0);
	assert_int_equal(v.count, 1);
	assert_int_equal(v.msgs[0].uid, 1);
	index_view_free(&v);
	assert_int_equal(rows_in_index(f, &m), 1);
}

/* Several changes by another program at once while the cache is current
 * (a removal, a flag rename, a file put straight into cur/): each is told
 * as a change since the session's version, and the index's rows then
 * say the same as a full sync of the directories. */
static void test_many_external_changes_are_told_exactly(void **state)
{
	struct fixture *f = *state;
	struct index_mailbox m = inbox(f);
	struct index_changes ch;
	struct index_view v, w;
	char from[512], to[600];
	uint64_t ver;
	int fd;

	for (int i = 0; i < 6; i++)
		deliver(f->root, "Subject: s\r\n\r\nx\r\n");
	assert_int_equal(mail_index_sync(f->idx, &m, &v), 0);
	ver = v.version;
	dir_age(f->root, "cur");
	dir_age(f->root, "new");
	assert_int_equal(mail_index_sync_since(f->idx, &m, ver, 6, &ch), 0);
	index_changes_free(&ch);

	snprintf(from, sizeof(from), "%s/cur/%s", f->root, v.msgs[1].file);
	assert_int_equal(unlink(from), 0);
	snprintf(from, sizeof(from), "%s/cur/%s", f->root, v.msgs[3].file);
	snprintf(to, sizeof(to), "%sRS", from);
	assert_int_equal(rename(from, to), 0);
	snprintf(to, sizeof(to), "%s/cur/1700000009.M9P9.other,S=17:2,F", f->root);
	fd = open(to, O_WRONLY | O_CREAT | O_EXCL, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "Subject: x\r\n\r\nx\r\n", 17), 17);
	close(fd);

	assert_int_equal(mail_index_sync_since(f->idx, &m, ver, 6, &ch), 0);
	assert_false(ch.full);
	assert_int_equal(ch.ngone, 1);
	assert_int_equal(ch.gone[0], 2);
	assert_int_equal(ch.view.count, 2);
	assert_int_equal(ch.view.msgs[0].uid, 4);
	assert_int_equal(ch.view.msgs[0].flags, INDEX_FLAG_ANSWERED | INDEX_FLAG_SEEN);
	assert_true(ch.view.msgs[0].modseq > v.msgs[3].modseq);
	assert_int_equal(ch.view.msgs[1].uid, 7);
	assert_int_equal(ch.view.msgs[1].flags, INDEX_FLAG_FLAGGED);
	index_changes_free(&ch);
	assert_int_equal(rows_in_index(f, &m), 6);

	/* what the index holds is what a full sync finds */
	assert_int_equal(mail_index_sync(f->idx, &m, &w), 0);
	mcache_invalidate_root(f->root);
	index_view_free(&v);
	assert_int_equal(mail_index_sync(f->idx, &m, &v), 0);
	assert_int_equal(v.count, w.count);
	for (size_t i = 0; i < v.count; i++) {
		assert_int_equal(v.msgs[i].uid, w.msgs[i].uid);
		assert_int_equal(v.msgs[i].flags, w.msgs[i].flags);
		assert_int_equal(v.msgs[i].modseq, w.msgs[i].modseq);
		assert_string_equal(v.msgs[i].file, w.msgs[i].file);
	}
	index_view_free(&v);
	index_view_free(&w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_removal_in_the_same_tick_is_found, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rename_in_the_same_tick_is_found, setup, teardown),
		cmocka_unit_test_setup_teardown(test_new_files_are_taken_and_quiet_removal_seen, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_known_name_in_new_is_not_numbered_twice, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_many_external_changes_are_told_exactly, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
