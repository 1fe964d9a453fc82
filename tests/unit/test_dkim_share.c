/* Unit tests for src/policy/dkim_share.c and src/directory/dkim_rows.c:
 * DKIM keys made on one machine reach another's DATA/dkim through the
 * directory; on PostgreSQL too with YUBIN_TEST_PG (pg_fixture.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "directory/directory.h"
#include "policy/dkim_keys.h"
#include "policy/dkim_share.h"
#include "lib/fsutil.h"
#include "pg_fixture.h"

#define DOMAIN "share.test"

struct fixture {
	char base[64], one[96], two[96];
	char path[512];
	struct directory *d;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return -1;
	strcpy(f->base, "/tmp/yubin-test-dkimshare-XXXXXX");
	f->d = pg_fixture_directory(f->base, f->path, sizeof(f->path));
	if (f->d == NULL)
		return -1;
	snprintf(f->one, sizeof(f->one), "%s/one", f->base);
	snprintf(f->two, sizeof(f->two), "%s/two", f->base);
	if (mkdir(f->one, 0700) < 0 || mkdir(f->two, 0700) < 0)
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	directory_close(f->d);
	fs_remove_tree(f->base);
	free(f);
	return 0;
}

/* Two keys (RSA active, Ed25519 next) made in data_dir's files. */
static void make_keys(const char *data_dir, struct dkim_keyinfo *k)
{
	const char *error = "";

	memset(k, 0, 2 * sizeof(*k));
	strcpy(k[0].selector, "y20260101r");
	k[0].type = DKIM_KEY_RSA;
	k[0].state = DKIM_STATE_ACTIVE;
	k[0].since = 1767225600;
	strcpy(k[1].selector, "y20260101e");
	k[1].type = DKIM_KEY_ED25519;
	k[1].state = DKIM_STATE_NEXT;
	k[1].since = 1767225601;
	for (int i = 0; i < 2; i++)
		assert_int_equal(dkim_keys_generate(data_dir, DOMAIN, &k[i], &error), 0);
	assert_int_equal(dkim_keys_save(data_dir, DOMAIN, k, 2, &error), 0);
}

static char *key_file(const char *data_dir, const struct dkim_keyinfo *k, size_t *len_r)
{
	char path[512];

	assert_int_equal(dkim_keys_pem_path(path, sizeof(path), data_dir, DOMAIN, k), 0);
	return fs_read_file(path, 16384, len_r);
}

static void test_keys_reach_the_other_machine(void **state)
{
	struct fixture *f = *state;
	struct dkim_keyinfo k[2], got[DKIM_KEYS_MAX];
	const char *error = "";
	size_t n = 0;

	make_keys(f->one, k);
	assert_int_equal(dkim_share_put(f->d, f->one, DOMAIN, k, 2, &error), 0);
	/* the other machine writes them out, then has nothing more to do */
	assert_int_equal(dkim_share_sync(f->d, f->two, NULL), 1);
	assert_int_equal(dkim_share_sync(f->d, f->two, NULL), 0);
	assert_int_equal(dkim_keys_list(f->two, DOMAIN, got, DKIM_KEYS_MAX, &n, &error), 0);
	assert_int_equal(n, 2);
	for (size_t i = 0; i < 2; i++) {
		size_t la, lb;
		char *a = key_file(f->one, &k[i], &la), *b = key_file(f->two, &got[i], &lb);
		struct stat st;
		char path[512];

		assert_string_equal(got[i].selector, k[i].selector);
		assert_int_equal(got[i].state, k[i].state);
		assert_int_equal(got[i].type, k[i].type);
		assert_true(got[i].since == k[i].since);
		assert_non_null(a);
		assert_non_null(b);
		assert_int_equal(la, lb);
		assert_memory_equal(a, b, la);
		free(a);
		free(b);
		assert_int_equal(dkim_keys_pem_path(path, sizeof(path), f->two, DOMAIN, &got[i]), 0);
		assert_int_equal(stat(path, &st), 0);
		assert_int_equal(st.st_mode & 0777, 0600);
	}
	/* a state changed on the first machine (activate) */
	k[1].state = DKIM_STATE_ACTIVE;
	k[0].state = DKIM_STATE_RETIRED;
	assert_int_equal(dkim_keys_save(f->one, DOMAIN, k, 2, &error), 0);
	assert_int_equal(dkim_share_put(f->d, f->one, DOMAIN, k, 2, &error), 0);
	assert_int_equal(dkim_share_domain(f->d, f->two, DOMAIN), 1);
	assert_int_equal(dkim_keys_list(f->two, DOMAIN, got, DKIM_KEYS_MAX, &n, &error), 0);
	assert_int_equal(got[0].state, DKIM_STATE_RETIRED);
	assert_int_equal(got[1].state, DKIM_STATE_ACTIVE);
}

/* With a mark, a pass is skipped until the directory's keys change. */
static void test_sync_skipped_while_unchanged(void **state)
{
	struct fixture *f = *state;
	struct dkim_keyinfo k[2];
	int64_t mark[2] = { -1, -1 };
	const char *error = "";
	char path[512];

	make_keys(f->one, k);
	assert_int_equal(dkim_share_put(f->d, f->one, DOMAIN, k, 2, &error), 0);
	assert_int_equal(dkim_share_sync(f->d, f->two, mark), 1);
	assert_int_equal(dkim_keys_pem_path(path, sizeof(path), f->two, DOMAIN, &k[0]), 0);
	assert_int_equal(unlink(path), 0);
	/* nothing changed in the directory: not even looked at */
	assert_int_equal(dkim_share_sync(f->d, f->two, mark), 0);
	assert_int_equal(access(path, F_OK), -1);
	k[1].state = DKIM_STATE_ACTIVE;
	assert_int_equal(dkim_share_put(f->d, f->one, DOMAIN, k, 2, &error), 0);
	assert_int_equal(dkim_share_sync(f->d, f->two, mark), 1);
	assert_int_equal(access(path, F_OK), 0);
}

/* Keys only on disk (an installation from before the rows) are stored in
 * the directory by the first sync. */
static void test_files_only_are_stored(void **state)
{
	struct fixture *f = *state;
	struct dkim_keyinfo k[2];
	struct dir_dkim_key *rows = calloc(DKIM_KEYS_MAX, sizeof(*rows));
	size_t n = 0;

	const char *error;

	assert_non_null(rows);
	make_keys(f->one, k);
	assert_int_equal(directory_dkim_keys_get(f->d, DOMAIN, rows, DKIM_KEYS_MAX, &n), 0);
	assert_int_equal(n, 0);
	/* not while the domain is not in the directory (deleted elsewhere):
	 * its keys must not come back */
	assert_int_equal(dkim_share_sync(f->d, f->one, NULL), 0);
	assert_int_equal(directory_dkim_keys_get(f->d, DOMAIN, rows, DKIM_KEYS_MAX, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(directory_domain_add(f->d, DOMAIN, &error), 0);
	assert_int_equal(dkim_share_sync(f->d, f->one, NULL), 0);
	assert_int_equal(directory_dkim_keys_get(f->d, DOMAIN, rows, DKIM_KEYS_MAX, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(rows[1].selector, "y20260101e");
	assert_string_equal(rows[1].type, "ed25519");
	assert_string_equal(rows[1].state, "next");
	assert_non_null(strstr(rows[0].pem, "-----BEGIN PRIVATE KEY-----"));
	free(rows);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_keys_reach_the_other_machine),
		T(test_sync_skipped_while_unchanged),
		T(test_files_only_are_stored),
	};

	return cmocka_run_group_tests_name("dkim_share", tests, NULL, NULL);
}
