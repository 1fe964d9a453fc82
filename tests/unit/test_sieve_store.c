/* Unit tests for src/store/sieve_store.c: an account's Sieve scripts and
 * its active mark on disk. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "lib/fsutil.h"
#include "store/sieve_store.h"

struct listing {
	char text[1024];
};

static void list_cb(const char *name, size_t size, bool active, void *ctx)
{
	struct listing *l = ctx;
	size_t n = strlen(l->text);

	snprintf(l->text + n, sizeof(l->text) - n, "%s%s:%zu%s", n ? "," : "", name, size, active ? "*" : "");
}

static const char *listing(const char *dir)
{
	static struct listing l;

	l.text[0] = '\0';
	assert_int_equal(sieve_store_list(dir, list_cb, &l), 0);
	return l.text;
}

static int setup(void **state)
{
	char *dir = strdup("/tmp/yubin-sieve-store-XXXXXX");

	if (dir == NULL || mkdtemp(dir) == NULL)
		return -1;
	*state = dir;
	return 0;
}

static int teardown(void **state)
{
	fs_remove_tree(*state);
	free(*state);
	return 0;
}

static void test_put_get_list(void **state)
{
	const char *dir = *state;
	char *text;
	size_t len;
	char path[512];
	struct stat st;

	assert_string_equal(listing(dir), "");	/* no sieve/ yet */
	assert_int_equal(sieve_store_get(dir, "main", 1000, &text, &len), 0);
	assert_int_equal(sieve_store_put(dir, "main", "keep;\r\n", 7), 0);
	assert_int_equal(sieve_store_put(dir, "%odd.", "stop;", 5), 0);
	assert_int_equal(sieve_store_put(dir, ".hidden", "discard;", 8), 0);
	assert_int_equal(sieve_store_put(dir, "振り分け", "keep;", 5), 0);
	assert_string_equal(listing(dir), "%odd.:5,.hidden:8,main:7,振り分け:5");
	snprintf(path, sizeof(path), "%s/sieve/%%2Ehidden.sieve", dir);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	snprintf(path, sizeof(path), "%s/sieve/%%25odd..sieve", dir);
	assert_int_equal(access(path, F_OK), 0);
	assert_int_equal(sieve_store_get(dir, "main", 1000, &text, &len), 1);
	assert_int_equal(len, 7);
	assert_string_equal(text, "keep;\r\n");
	free(text);
	/* replace */
	assert_int_equal(sieve_store_put(dir, "main", "stop;", 5), 0);
	assert_int_equal(sieve_store_get(dir, "main", 1000, &text, &len), 1);
	assert_string_equal(text, "stop;");
	free(text);
	assert_int_equal(sieve_store_put(dir, "a/b", "x", 1), -1);

	unsigned n;
	uint64_t bytes;
	assert_int_equal(sieve_store_usage(dir, NULL, &n, &bytes), 0);
	assert_int_equal(n, 4);
	assert_int_equal(bytes, 5 + 8 + 5 + 5);
	assert_int_equal(sieve_store_usage(dir, "main", &n, &bytes), 0);
	assert_int_equal(n, 3);
}

static void test_active_rename_delete(void **state)
{
	const char *dir = *state;
	char name[SIEVE_STORE_NAME_MAX + 1];

	assert_int_equal(sieve_store_activate(dir, "none"), 0);
	assert_int_equal(sieve_store_activate(dir, ""), 1);	/* nothing to deactivate */
	assert_int_equal(sieve_store_put(dir, "a", "keep;", 5), 0);
	assert_int_equal(sieve_store_put(dir, "b", "keep;", 5), 0);
	assert_int_equal(sieve_store_active(dir, name, sizeof(name)), 0);
	assert_int_equal(sieve_store_activate(dir, "a"), 1);
	assert_int_equal(sieve_store_active(dir, name, sizeof(name)), 1);
	assert_string_equal(name, "a");
	assert_string_equal(listing(dir), "a:5*,b:5");
	/* the mark follows a rename */
	assert_int_equal(sieve_store_rename(dir, "a", "b"), -2);
	assert_int_equal(sieve_store_rename(dir, "x", "y"), 0);
	assert_int_equal(sieve_store_rename(dir, "a", "c"), 1);
	assert_string_equal(listing(dir), "b:5,c:5*");
	assert_int_equal(sieve_store_rename(dir, "b", "d"), 1);
	assert_string_equal(listing(dir), "c:5*,d:5");
	assert_int_equal(sieve_store_activate(dir, "d"), 1);
	assert_string_equal(listing(dir), "c:5,d:5*");
	assert_int_equal(sieve_store_delete(dir, "c"), 1);
	assert_int_equal(sieve_store_delete(dir, "c"), 0);
	/* a mark whose file went away names nothing */
	assert_int_equal(sieve_store_delete(dir, "d"), 1);
	assert_int_equal(sieve_store_active(dir, name, sizeof(name)), 0);
	assert_int_equal(sieve_store_activate(dir, NULL), 1);
	assert_string_equal(listing(dir), "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_put_get_list, setup, teardown),
		cmocka_unit_test_setup_teardown(test_active_rename_delete, setup, teardown),
	};

	return cmocka_run_group_tests_name("sieve_store", tests, NULL, NULL);
}
