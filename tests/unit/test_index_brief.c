/* Unit test for mail_index_brief (store/index_msgs.c): the same messages,
 * flags, sizes, MODSEQs and dates as a full sync, whether it answers from
 * the message cache (after a flag change through the index) or syncs
 * (after a delivery into new/). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "lib/fsutil.h"
#include "store/index.h"
#include "store/maildir.h"

static void same(struct mail_index *idx, struct index_mailbox *mbox)
{
	struct index_brief *rows;
	struct index_view v;
	size_t n;

	assert_int_equal(mail_index_brief(idx, mbox, &rows, &n), 0);
	assert_int_equal(mail_index_sync(idx, mbox, &v), 0);
	assert_int_equal(n, v.count);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(rows[i].uid, v.msgs[i].uid);
		assert_int_equal(rows[i].flags, v.msgs[i].flags);
		assert_int_equal(rows[i].size, v.msgs[i].size);
		assert_int_equal(rows[i].modseq, v.msgs[i].modseq);
		assert_int_equal(rows[i].internaldate, v.msgs[i].internaldate);
	}
	assert_int_equal(mbox->highestmodseq, v.highestmodseq);
	free(rows);
	index_view_free(&v);
}

static void test_brief(void **state)
{
	char root[64] = "/tmp/yubin-test-brief-XXXXXX", err[256], name[256];
	struct mail_index *idx;
	struct index_mailbox inbox;
	struct index_view v;
	struct index_brief *rows;
	const char *error = NULL;
	size_t n;

	assert_non_null(mkdtemp(root));
	assert_int_equal(maildir_create(root), 0);
	idx = mail_index_open(root, err, sizeof(err));
	assert_non_null(idx);
	assert_int_equal(mail_index_mailbox_get(idx, "INBOX", &inbox), 1);
	for (int i = 0; i < 3; i++) {
		struct maildir_msg m = { "", 0, "Subject: x\r\n\r\nbody\r\n", -1, 21 };
		uint32_t uid;

		assert_int_equal(mail_index_append(idx, &inbox, &m, i == 1 ? INDEX_FLAG_SEEN : 0, "", 0, &uid,
						   &error), 0);
	}
	same(idx, &inbox);
	/* a flag change through the index: the cache answers */
	assert_int_equal(mail_index_sync(idx, &inbox, &v), 0);
	assert_int_equal(mail_index_set_flags(idx, &inbox, &v.msgs[2], INDEX_FLAG_FLAGGED, ""), 0);
	index_view_free(&v);
	assert_int_equal(mail_index_brief(idx, &inbox, &rows, &n), 0);
	assert_int_equal(n, 3);
	assert_int_equal(rows[2].flags, INDEX_FLAG_FLAGGED);
	free(rows);
	same(idx, &inbox);
	/* a delivery into new/: a sync numbers it */
	{
		struct maildir_msg m = { "", 0, "Subject: y\r\n\r\nnew\r\n", -1, 20 };

		assert_int_equal(maildir_deliver(root, &m, name, sizeof(name), &error), 0);
	}
	assert_int_equal(mail_index_brief(idx, &inbox, &rows, &n), 0);
	assert_int_equal(n, 4);
	assert_int_equal(rows[3].size, 20);
	free(rows);
	same(idx, &inbox);
	mail_index_close(idx);
	fs_remove_tree(root);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_brief),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
