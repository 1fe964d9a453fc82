/* Unit test for store/index_msgs.c: a message moved (or copied) into a
 * folder while another handle syncs that folder gets one row, not two.
 * The sync may read the new file in the instant between the move's rename
 * and its row; it must then wait for the row instead of numbering the file
 * itself (found through the webmail, whose folder list syncs every folder
 * while a move into Junk runs). */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "lib/fsutil.h"
#include "store/index.h"
#include "store/maildir.h"

#define MSGS 150

struct race {
	char root[64];
	atomic_bool done;
};

static void *syncer(void *arg)
{
	struct race *r = arg;
	char err[256];
	struct mail_index *idx = mail_index_open(r->root, err, sizeof(err));

	while (idx != NULL && !atomic_load(&r->done)) {
		struct index_mailbox junk;
		struct index_view v;

		if (mail_index_mailbox_get(idx, "Junk", &junk) == 1 && mail_index_sync(idx, &junk, &v) == 0)
			index_view_free(&v);
	}
	mail_index_close(idx);
	return NULL;
}

static void test_move_while_syncing(void **state)
{
	struct race r;
	struct mail_index *idx;
	struct index_mailbox inbox, junk;
	struct index_view v;
	pthread_t t;
	char err[256];

	snprintf(r.root, sizeof(r.root), "/tmp/yubin-test-move-race-XXXXXX");
	assert_non_null(mkdtemp(r.root));
	assert_int_equal(maildir_create(r.root), 0);
	atomic_store(&r.done, false);
	idx = mail_index_open(r.root, err, sizeof(err));
	assert_non_null(idx);
	assert_int_equal(mail_index_mailbox_get(idx, "INBOX", &inbox), 1);
	for (int i = 0; i < MSGS; i++) {
		char text[64];
		struct maildir_msg m = { "", 0, text, -1, 0 };
		const char *error = NULL;
		uint32_t uid;

		m.body_len = (size_t)snprintf(text, sizeof(text), "Subject: %d\r\n\r\nbody\r\n", i);
		assert_int_equal(mail_index_append(idx, &inbox, &m, 0, "", 0, &uid, &error), 0);
	}
	assert_int_equal(mail_index_sync(idx, &inbox, &v), 0);
	assert_int_equal(v.count, MSGS);
	assert_int_equal(pthread_create(&t, NULL, syncer, &r), 0);
	assert_int_equal(mail_index_mailbox_get(idx, "Junk", &junk), 1);
	for (size_t i = 0; i < v.count; i++) {
		const char *error = NULL;
		uint32_t uid;

		assert_int_equal(mail_index_copy(idx, &inbox, &v.msgs[i], &junk, (i % 2) == 0, &uid, &error), 0);
	}
	atomic_store(&r.done, true);
	pthread_join(t, NULL);
	index_view_free(&v);
	assert_int_equal(mail_index_mailbox_get(idx, "Junk", &junk), 1);
	assert_int_equal(mail_index_sync(idx, &junk, &v), 0);
	assert_int_equal(v.count, MSGS);	/* one row per file */
	for (size_t i = 1; i < v.count; i++)
		assert_string_not_equal(v.msgs[i - 1].file, v.msgs[i].file);
	index_view_free(&v);
	mail_index_close(idx);
	fs_remove_tree(r.root);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_move_while_syncing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
