/* Unit tests for store/mail_move.c: the freeze, thaw and purge of a
 * moving mailbox behind its tombstone, and the target's folder import
 * (UIDVALIDITY and UIDs given by the source). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/fsutil.h"
#include "store/index.h"
#include "store/mail_move.h"
#include "store/maildir.h"

struct fixture {
	char dir[256], root[300], frozen[320];
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	snprintf(f->dir, sizeof(f->dir), "/tmp/yubin-test-move-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->root, sizeof(f->root), "%s/user", f->dir);
	snprintf(f->frozen, sizeof(f->frozen), "%s/user.moving", f->dir);
	assert_int_equal(maildir_create(f->root), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	fs_remove_tree(f->dir);
	free(f);
	return 0;
}

static bool is_dir(const char *p)
{
	struct stat st;

	return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static void deliver(const char *root, const char *text)
{
	struct maildir_msg msg = { .prefix = "", .body = text, .body_fd = -1, .body_len = strlen(text) };
	const char *error;
	char name[MAILDIR_NAME_MAX];

	assert_int_equal(maildir_deliver(root, &msg, name, sizeof(name), &error), 0);
}

static void test_freeze_thaw(void **state)
{
	struct fixture *f = *state;
	const char *error;
	struct maildir_msg msg = { .prefix = "", .body = "x\r\n", .body_fd = -1, .body_len = 3 };
	char name[MAILDIR_NAME_MAX];

	deliver(f->root, "Subject: one\r\n\r\nbody\r\n");
	assert_false(mail_move_is_gone(f->root));
	assert_int_equal(mail_move_freeze(f->root, &error), 0);
	assert_true(mail_move_is_gone(f->root));
	assert_true(is_dir(f->frozen));
	/* nothing lands in a frozen mailbox, and nothing makes it again */
	assert_int_equal(maildir_deliver(f->root, &msg, name, sizeof(name), &error), -1);
	assert_int_equal(maildir_create(f->root), -1);
	/* frozen again: fine (a move run again) */
	assert_int_equal(mail_move_freeze(f->root, &error), 0);
	/* thawed: as it was, with its message */
	assert_int_equal(mail_move_thaw(f->root, &error), 0);
	assert_false(mail_move_is_gone(f->root));
	assert_false(is_dir(f->frozen));
	struct maildir_entry *e;
	size_t n;
	assert_int_equal(maildir_list(f->root, &e, &n), 0);
	assert_int_equal(n, 1);
	free(e);
	/* thawing what is not frozen does nothing */
	assert_int_equal(mail_move_thaw(f->root, &error), 0);
}

static void test_purge_clear(void **state)
{
	struct fixture *f = *state;
	const char *error;

	/* purge only behind a tombstone */
	assert_int_equal(mail_move_purge(f->root, &error), -1);
	assert_int_equal(mail_move_freeze(f->root, &error), 0);
	assert_int_equal(mail_move_purge(f->root, &error), 0);
	assert_true(mail_move_is_gone(f->root));
	assert_false(is_dir(f->frozen));
	/* the account comes back: the tombstone goes, a mailbox can be made */
	assert_int_equal(mail_move_clear(f->root, &error), 0);
	assert_false(mail_move_is_gone(f->root));
	assert_int_equal(maildir_create(f->root), 0);
	/* clearing a live mailbox does nothing */
	assert_int_equal(mail_move_clear(f->root, &error), 0);
	assert_true(is_dir(f->root));
}

static void test_files_moved(void **state)
{
	assert_true(mail_move_file_is_moved("contacts.db"));
	assert_true(mail_move_file_is_moved("sieve/main.sieve"));
	assert_true(mail_move_file_is_moved("sieve/active"));
	assert_false(mail_move_file_is_moved("sieve/"));
	assert_false(mail_move_file_is_moved("sieve/../index.db"));
	assert_false(mail_move_file_is_moved("sieve/.hidden"));
	assert_false(mail_move_file_is_moved("sieve/a/b"));
	assert_false(mail_move_file_is_moved("sieve/x.tmp"));
	assert_false(mail_move_file_is_moved("index.db"));
	assert_false(mail_move_file_is_moved("/etc/passwd"));
}

static void test_import(void **state)
{
	struct fixture *f = *state;
	struct mail_index *idx;
	struct index_mailbox m;
	struct maildir_msg msg = { .prefix = "", .body = "Subject: a\r\n\r\nb\r\n", .body_fd = -1, .body_len = 17 };
	const char *error;
	char err[256];
	uint32_t uid;

	idx = mail_index_open(f->root, err, sizeof(err));
	assert_non_null(idx);
	/* a new folder with the source's UIDVALIDITY; the next APPEND gets the UID given */
	assert_int_equal(mail_index_mailbox_import(idx, "Archive/2026", 1234, 40, 77, &error), 0);
	assert_int_equal(mail_index_mailbox_get(idx, "Archive/2026", &m), 1);
	assert_int_equal(m.uidvalidity, 1234);
	assert_int_equal(m.uidnext, 40);
	assert_true(m.highestmodseq >= 77);
	assert_int_equal(mail_index_append(idx, &m, &msg, 0, "", 0, &uid, &error), 0);
	assert_int_equal(uid, 40);
	/* raising only: a lower UIDNEXT leaves it */
	assert_int_equal(mail_index_mailbox_import(idx, "Archive/2026", 1234, 10, 0, &error), 0);
	assert_int_equal(mail_index_mailbox_get(idx, "Archive/2026", &m), 1);
	assert_int_equal(m.uidnext, 41);
	/* another UIDVALIDITY while it holds a message: refused */
	assert_int_equal(mail_index_mailbox_import(idx, "Archive/2026", 999, 1, 0, &error), -1);
	assert_non_null(strstr(error, "UIDVALIDITY"));
	/* INBOX, empty: takes the source's */
	assert_int_equal(mail_index_mailbox_import(idx, "INBOX", 555, 3, 0, &error), 0);
	assert_int_equal(mail_index_mailbox_get(idx, "INBOX", &m), 1);
	assert_int_equal(m.uidvalidity, 555);
	assert_int_equal(mail_index_mailbox_import(idx, "INBOX", 0, 3, 0, &error), -1);
	mail_index_close(idx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_freeze_thaw, setup, teardown),
		cmocka_unit_test_setup_teardown(test_purge_clear, setup, teardown),
		cmocka_unit_test(test_files_moved),
		cmocka_unit_test_setup_teardown(test_import, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
