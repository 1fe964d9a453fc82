/* Damaged mail indexes: the check, the salvage that keeps UIDs, the fresh
 * rebuild, and the damaged copies kept aside. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <dirent.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/fsutil.h"
#include "store/index.h"
#include "store/maildir.h"

struct fixture {
	char root[256], db[300];
	uint32_t uidvalidity;
	uint32_t uids[3];
};

static void deliver(const char *path, const char *text)
{
	struct maildir_msg msg = { .prefix = "", .prefix_len = 0, .body = text, .body_fd = -1,
				   .body_len = strlen(text) };
	const char *error;

	assert_int_equal(maildir_deliver(path, &msg, NULL, 0, &error), 0);
}

/* INBOX with three messages, the second \Flagged with a keyword. */
static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct mail_index *idx;
	struct index_mailbox m;
	struct index_view v;
	char err[256];

	snprintf(f->root, sizeof(f->root), "/tmp/yubin-test-rebuild-XXXXXX");
	assert_non_null(mkdtemp(f->root));
	snprintf(f->db, sizeof(f->db), "%s/index.db", f->root);
	assert_int_equal(maildir_create(f->root), 0);
	idx = mail_index_open(f->root, err, sizeof(err));
	assert_non_null(idx);
	deliver(f->root, "Subject: a\r\n\r\na\r\n");
	deliver(f->root, "Subject: b\r\n\r\nb\r\n");
	deliver(f->root, "Subject: c\r\n\r\nc\r\n");
	assert_int_equal(mail_index_mailbox_get(idx, "INBOX", &m), 1);
	assert_int_equal(mail_index_sync(idx, &m, &v), 0);
	assert_int_equal(v.count, 3);
	f->uidvalidity = v.uidvalidity;
	for (int i = 0; i < 3; i++)
		f->uids[i] = v.msgs[i].uid;
	assert_int_equal(mail_index_set_flags(idx, &m, &v.msgs[1], INDEX_FLAG_FLAGGED, "$Work"), 0);
	index_view_free(&v);
	mail_index_close(idx);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	fs_remove_tree(f->root);
	free(f);
	return 0;
}

/* Overwrites one page of the file with garbage: the page of the named
 * b-tree, or page 1 (the header) when name is NULL. */
static void damage(struct fixture *f, const char *name)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	long page = 1, size = 4096;
	char junk[4096];
	int fd;

	if (name != NULL) {
		assert_int_equal(sqlite3_open(f->db, &db), SQLITE_OK);
		assert_int_equal(sqlite3_exec(db, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL), SQLITE_OK);
		assert_int_equal(sqlite3_prepare_v2(db, "SELECT rootpage FROM sqlite_master WHERE name = ?",
						    -1, &st, NULL), SQLITE_OK);
		sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
		assert_int_equal(sqlite3_step(st), SQLITE_ROW);
		page = sqlite3_column_int(st, 0);
		sqlite3_finalize(st);
		assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA page_size", -1, &st, NULL), SQLITE_OK);
		assert_int_equal(sqlite3_step(st), SQLITE_ROW);
		size = sqlite3_column_int(st, 0);
		sqlite3_finalize(st);
		sqlite3_close(db);
	}
	assert_true(size <= (long)sizeof(junk));
	for (size_t i = 0; i < sizeof(junk); i++)
		junk[i] = (char)(i * 7 + 13);
	fd = open(f->db, O_WRONLY);
	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, junk, (size_t)size, (page - 1) * size), size);
	close(fd);
}

static unsigned count_aside(const char *root)
{
	DIR *d = opendir(root);
	struct dirent *de;
	unsigned n = 0;

	assert_non_null(d);
	while ((de = readdir(d)) != NULL)
		n += strncmp(de->d_name, "index.db.corrupt-", 17) == 0 && strstr(de->d_name, "-wal") == NULL;
	closedir(d);
	return n;
}

static void view_of_inbox(struct fixture *f, struct index_view *v)
{
	struct mail_index *idx;
	struct index_mailbox m;
	char err[256];

	idx = mail_index_open(f->root, err, sizeof(err));
	assert_non_null(idx);
	assert_int_equal(mail_index_mailbox_get(idx, "INBOX", &m), 1);
	assert_int_equal(mail_index_sync(idx, &m, v), 0);
	mail_index_close(idx);
}

static void test_sound_index_is_left_alone(void **state)
{
	struct fixture *f = *state;
	struct index_rebuild_report rep;
	char err[256];

	assert_int_equal(mail_index_check(f->root), 0);
	assert_int_equal(mail_index_rebuild(f->root, INDEX_REBUILD_DAMAGED, &rep, err, sizeof(err)), 0);
	assert_false(rep.corrupt);
	assert_int_equal(rep.folders, 0);
	assert_int_equal(count_aside(f->root), 0);
}

/* A damaged secondary index: the rows still read, so every UID, flag and
 * keyword and the UIDVALIDITY are kept. */
static void test_salvage_keeps_uids(void **state)
{
	struct fixture *f = *state;
	struct index_rebuild_report rep;
	struct index_view v;
	char err[256];

	damage(f, "messages_base");
	assert_int_equal(mail_index_check(f->root), 1);
	assert_int_equal(mail_index_rebuild(f->root, INDEX_REBUILD_DAMAGED, &rep, err, sizeof(err)), 0);
	assert_true(rep.corrupt);
	assert_int_equal(rep.renewed, 0);
	assert_int_equal(rep.messages, 3);
	assert_non_null(strstr(rep.detail, "INBOX (3 messages, UIDs kept)"));
	assert_int_equal(count_aside(f->root), 1);
	assert_int_equal(mail_index_check(f->root), 0);
	view_of_inbox(f, &v);
	assert_int_equal(v.uidvalidity, f->uidvalidity);
	assert_int_equal(v.count, 3);
	for (int i = 0; i < 3; i++)
		assert_int_equal(v.msgs[i].uid, f->uids[i]);
	assert_int_equal(v.msgs[1].flags, INDEX_FLAG_FLAGGED);
	assert_string_equal(v.msgs[1].keywords, "$Work");
	assert_true(v.uidnext > f->uids[2]);
	index_view_free(&v);
}

/* Not a database at all, but this process's message cache holds INBOX as
 * its clients last saw it: INBOX keeps its UIDs, the folders never read
 * get a new UIDVALIDITY. */
static void test_garbage_file_kept_from_cache(void **state)
{
	struct fixture *f = *state;
	struct index_rebuild_report rep;
	struct index_view v;
	char err[256];

	damage(f, NULL);
	assert_int_equal(mail_index_rebuild(f->root, INDEX_REBUILD_DAMAGED, &rep, err, sizeof(err)), 0);
	assert_true(rep.corrupt);
	assert_int_equal(rep.renewed, rep.folders - 1);
	assert_non_null(strstr(rep.detail, "INBOX (3 messages, UIDs kept)"));
	assert_non_null(strstr(rep.detail, "Sent (0 messages, new UIDVALIDITY)"));
	view_of_inbox(f, &v);
	assert_int_equal(v.uidvalidity, f->uidvalidity);
	for (int i = 0; i < 3; i++)
		assert_int_equal(v.msgs[i].uid, f->uids[i]);
	assert_string_equal(v.msgs[1].keywords, "$Work");
	index_view_free(&v);
}

/* Nothing to keep the UIDs from: a new UIDVALIDITY that cannot repeat
 * the old one, flags read from the file names. */
static void test_garbage_file_renews(void **state)
{
	struct fixture *f = *state;
	struct index_rebuild_report rep;
	struct index_view v;
	char err[256];

	mail_index_pool_cleanup();	/* drops the message cache */
	damage(f, NULL);
	assert_int_equal(mail_index_check(f->root), 1);
	assert_int_equal(mail_index_rebuild(f->root, INDEX_REBUILD_DAMAGED, &rep, err, sizeof(err)), 0);
	assert_true(rep.corrupt);
	assert_int_equal(rep.renewed, rep.folders);
	assert_non_null(strstr(rep.detail, "INBOX (3 messages, new UIDVALIDITY)"));
	view_of_inbox(f, &v);
	assert_true(v.uidvalidity > f->uidvalidity);
	assert_int_equal(v.count, 3);
	assert_int_equal(v.msgs[1].flags, INDEX_FLAG_FLAGGED);
	index_view_free(&v);
}

static void test_fresh_raises_uidvalidity(void **state)
{
	struct fixture *f = *state;
	struct index_rebuild_report rep;
	struct index_view v;
	char err[256];

	assert_int_equal(mail_index_rebuild(f->root, INDEX_REBUILD_FRESH, &rep, err, sizeof(err)), 0);
	assert_false(rep.corrupt);
	assert_int_equal(rep.renewed, rep.folders);
	assert_int_equal(count_aside(f->root), 0);
	view_of_inbox(f, &v);
	assert_true(v.uidvalidity > f->uidvalidity);
	assert_int_equal(v.count, 3);
	assert_int_equal(v.msgs[1].flags, INDEX_FLAG_FLAGGED);
	index_view_free(&v);
}

/* mail_index_open() rebuilds by itself, and only a few copies are kept. */
static void test_open_rebuilds_and_keeps_few_copies(void **state)
{
	struct fixture *f = *state;
	struct mail_index *idx;
	char err[256];

	for (int i = 0; i < INDEX_CORRUPT_KEEP + 2; i++) {
		damage(f, NULL);
		idx = mail_index_open(f->root, err, sizeof(err));
		assert_non_null(idx);
		mail_index_close(idx);
	}
	assert_int_equal(count_aside(f->root), INDEX_CORRUPT_KEEP);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_sound_index_is_left_alone, setup, teardown),
		cmocka_unit_test_setup_teardown(test_salvage_keeps_uids, setup, teardown),
		cmocka_unit_test_setup_teardown(test_garbage_file_kept_from_cache, setup, teardown),
		cmocka_unit_test_setup_teardown(test_garbage_file_renews, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fresh_raises_uidvalidity, setup, teardown),
		cmocka_unit_test_setup_teardown(test_open_rebuilds_and_keeps_few_copies, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
