/* POP3 deletions through a durable record (maildir_delete_messages and
 * maildir_delete_resume). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/fsutil.h"
#include "store/maildir.h"

static char root[64];

static int setup(void **state)
{
	(void)state;
	snprintf(root, sizeof(root), "/tmp/yubin-test-delete-XXXXXX");
	assert_non_null(mkdtemp(root));
	assert_int_equal(maildir_create(root), 0);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	fs_remove_tree(root);
	return 0;
}

static void put(const char *rel)
{
	char p[256];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", root, rel);
	f = fopen(p, "w");
	assert_non_null(f);
	fputs("Subject: x\r\n\r\nbody\r\n", f);
	fclose(f);
}

static bool exists(const char *rel)
{
	char p[256];

	snprintf(p, sizeof(p), "%s/%s", root, rel);
	return access(p, F_OK) == 0;
}

static void test_delete_by_base_name_anywhere(void **state)
{
	const char *uids[] = { "1.a.host,S=20", "2.b.host,S=20" };
	uint64_t freed;
	unsigned failed;

	(void)state;
	put("new/1.a.host,S=20");
	put("cur/2.b.host,S=20:2,S");	/* moved to cur/ with flags by a sync */
	put("new/3.c.host,S=20");
	assert_int_equal(maildir_delete_messages(root, uids, 2, &freed, &failed), 0);
	assert_int_equal(failed, 0);
	assert_int_equal(freed, 40);
	assert_false(exists("new/1.a.host,S=20"));
	assert_false(exists("cur/2.b.host,S=20:2,S"));
	assert_true(exists("new/3.c.host,S=20"));
	assert_false(maildir_delete_is_pending(root));
	assert_false(exists(POP3_DELETE_INTENT));
}

static void test_resume_completes_a_record(void **state)
{
	static const char rec[] = "yubin-pop3-delete 1\n1.a.host,S=20\n../escape\n.hidden\n\n3.c.host,S=20\n";
	char p[256];
	uint64_t freed;

	(void)state;
	put("new/1.a.host,S=20");
	put("cur/3.c.host,S=20:2,");
	put("new/4.d.host,S=20");
	put(".hidden");
	snprintf(p, sizeof(p), "%s/" POP3_DELETE_INTENT, root);
	assert_int_equal(fs_write_file_atomic(p, rec, sizeof(rec) - 1, 0600), 0);
	assert_true(maildir_delete_is_pending(root));
	assert_int_equal(maildir_delete_resume(root, &freed), 1);
	assert_int_equal(freed, 40);
	assert_false(exists("new/1.a.host,S=20"));
	assert_false(exists("cur/3.c.host,S=20:2,"));
	assert_true(exists("new/4.d.host,S=20"));
	assert_true(exists(".hidden"));
	assert_false(maildir_delete_is_pending(root));
	assert_int_equal(maildir_delete_resume(root, &freed), 0);
}

static void test_foreign_record_deletes_nothing(void **state)
{
	char p[256];
	uint64_t freed;

	(void)state;
	put("new/1.a.host,S=20");
	snprintf(p, sizeof(p), "%s/" POP3_DELETE_INTENT, root);
	assert_int_equal(fs_write_file_atomic(p, "1.a.host,S=20\n", 14, 0600), 0);
	assert_int_equal(maildir_delete_resume(root, &freed), 1);
	assert_int_equal(freed, 0);
	assert_true(exists("new/1.a.host,S=20"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_delete_by_base_name_anywhere, setup, teardown),
		cmocka_unit_test_setup_teardown(test_resume_completes_a_record, setup, teardown),
		cmocka_unit_test_setup_teardown(test_foreign_record_deletes_nothing, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
