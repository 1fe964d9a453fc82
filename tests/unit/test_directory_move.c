/* Unit tests for the account-move bits of src/directory/node.c
 * (migration 13: accounts.moving, the switch); on PostgreSQL too with
 * YUBIN_TEST_PG (pg_fixture.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <sqlite3.h>

#include "directory/directory.h"
#include "lib/fsutil.h"
#include "pg_fixture.h"

#define HASH "$argon2id$v=19$m=65536,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA"

struct fixture {
	char dir[64];
	char path[512];
	struct directory *d;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char err[256] = "";
	const char *e, *pg;

	if (f == NULL)
		return -1;
	strcpy(f->dir, "/tmp/yubin-test-dmove-XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	snprintf(f->path, sizeof(f->path), "%s/yubin.db", f->dir);
	pg = pg_fixture_fresh();
	if (pg != NULL)
		snprintf(f->path, sizeof(f->path), "%s", pg);
	f->d = directory_open(f->path, err, sizeof(err));
	if (f->d == NULL) {
		fprintf(stderr, "directory_open: %s\n", err);
		return -1;
	}
	if (directory_domain_add(f->d, "a.test", &e) < 0)
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	directory_close(f->d);
	fs_remove_tree(f->dir);
	free(f);
	return 0;
}

static void test_move_mark_and_switch(void **state)
{
	struct fixture *f = *state;
	char node[64];
	const char *e = NULL;

	assert_int_equal(directory_account_add(f->d, "u@a.test", HASH, 100, "", &e), 0);
	assert_int_equal(directory_account_set_node(f->d, "u@a.test", "n1", &e), 1);
	assert_int_equal(directory_account_moving(f->d, "u@a.test", node, sizeof(node)), 1);
	assert_string_equal(node, "");
	assert_int_equal(directory_account_moving(f->d, "none@a.test", node, sizeof(node)), 0);
	/* one move at a time: the same target again is fine, another is not */
	assert_int_equal(directory_account_set_moving(f->d, "U@a.test", "n2", &e), 1);
	assert_int_equal(directory_account_set_moving(f->d, "u@a.test", "n2", &e), 1);
	assert_int_equal(directory_account_set_moving(f->d, "u@a.test", "n3", &e), 0);
	assert_int_equal(directory_account_moving(f->d, "u@a.test", node, sizeof(node)), 1);
	assert_string_equal(node, "n2");
	/* the switch needs the home and the mark it expects */
	assert_int_equal(directory_account_move_finish(f->d, "u@a.test", "n3", "n2", &e), 0);
	assert_int_equal(directory_account_move_finish(f->d, "u@a.test", "n1", "n3", &e), 0);
	assert_int_equal(directory_account_move_finish(f->d, "u@a.test", "n1", "n2", &e), 1);
	assert_int_equal(directory_account_node(f->d, "u@a.test", node, sizeof(node)), 1);
	assert_string_equal(node, "n2");
	assert_int_equal(directory_account_moving(f->d, "u@a.test", node, sizeof(node)), 1);
	assert_string_equal(node, "");
	/* a mark given up */
	assert_int_equal(directory_account_set_moving(f->d, "u@a.test", "n1", &e), 1);
	assert_int_equal(directory_account_set_moving(f->d, "u@a.test", NULL, &e), 1);
	assert_int_equal(directory_account_moving(f->d, "u@a.test", node, sizeof(node)), 1);
	assert_string_equal(node, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_move_mark_and_switch, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
