/* Unit tests for src/store/queue_file.c: the outbound queue's file format
 * (create, read, append-only results, torn last lines after a crash,
 * damaged files, hostile envelope values), and the spare files of
 * store/queue_spare.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "lib/fsutil.h"
#include "store/queue_file.h"
#include "store/queue_spare.h"

static char dir[256];

static int setup(void **state)
{
	snprintf(dir, sizeof(dir), "/tmp/yubin-test-queue-%d", (int)getpid());
	fs_remove_tree(dir);
	return 0;
}

static int teardown(void **state)
{
	fs_remove_tree(dir);
	return 0;
}

static void make(const char *from, const char *const *rcpts, size_t n, const char *body, char *id,
		 char *path, size_t pathsize)
{
	struct maildir_msg m = { "Received: x\r\n", 13, body, -1, strlen(body) };
	const char *error = NULL;

	assert_int_equal(queue_file_create(dir, from, rcpts, n, &m, id, QUEUE_ID_MAX, &error), 0);
	assert_true(queue_id_is_valid(id));
	snprintf(path, pathsize, "%s/%s", dir, id);
}

static void test_create_read(void **state)
{
	const char *rcpts[] = { "a@remote.test", "b@other.test" };
	char id[QUEUE_ID_MAX], path[512], *data;
	struct queue_env env;
	const char *error = NULL;
	size_t len;
	struct stat st;

	make("taro@example.jp", rcpts, 2, "Subject: x\r\n\r\nbody\r\n", id, path, sizeof(path));
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(queue_file_read(path, &env, &error), 0);
	assert_string_equal(env.id, id);
	assert_string_equal(env.from, "taro@example.jp");
	assert_int_equal(env.nrcpts, 2);
	assert_string_equal(env.rcpts[0].addr, "a@remote.test");
	assert_string_equal(env.rcpts[1].addr, "b@other.test");
	assert_int_equal(env.rcpts[0].state, QUEUE_PENDING);
	assert_int_equal(env.body_len, 13 + 20);
	assert_int_equal(queue_env_pending(&env), 2);
	assert_false(env.warned);
	/* the message sits at body_off, byte for byte */
	data = fs_read_file(path, 1 << 20, &len);
	assert_non_null(data);
	assert_memory_equal(data + env.body_off, "Received: x\r\nSubject: x\r\n\r\nbody\r\n", 33);
	free(data);
	queue_env_free(&env);
	queue_env_free(NULL);
	/* no temporary files left */
	assert_int_equal(access(dir, F_OK), 0);
}

static void test_big_envelope(void **state)
{
	/* 60 long recipients: an envelope past the first 4 KiB read */
	static char addrs[60][120];
	const char *rcpts[60];
	char id[QUEUE_ID_MAX], path[512];
	struct queue_env env;
	const char *error = NULL;

	for (int i = 0; i < 60; i++) {
		snprintf(addrs[i], sizeof(addrs[i]), "recipient-number-%02d-%s@remote.test", i,
			 "with-a-rather-long-local-part-to-fill-the-envelope");
		rcpts[i] = addrs[i];
	}
	make("taro@example.jp", rcpts, 60, "Subject: big\r\n\r\nbody\r\n", id, path, sizeof(path));
	assert_int_equal(queue_file_read(path, &env, &error), 0);
	assert_int_equal(env.nrcpts, 60);
	assert_string_equal(env.rcpts[59].addr, addrs[59]);
	/* a result recorded without sync, then synced, is read back */
	assert_int_equal(queue_file_record2(path, 'D', 59, "250 ok", false), 0);
	assert_int_equal(queue_file_sync(path), 0);
	queue_env_free(&env);
	assert_int_equal(queue_file_read(path, &env, &error), 0);
	assert_int_equal(env.rcpts[59].state, QUEUE_DELIVERED);
	assert_int_equal(queue_env_pending(&env), 59);
	queue_env_free(&env);
}

static void test_results_are_appended(void **state)
{
	const char *rcpts[] = { "a@r.test", "b@r.test", "c@r.test" };
	char id[QUEUE_ID_MAX], path[512];
	struct queue_env env;
	const char *error = NULL;
	struct stat st1, st2;

	make("", rcpts, 3, "Subject: y\r\n\r\n.\r\n", id, path, sizeof(path));
	assert_int_equal(queue_file_set_next(path, 2000000000), 0);
	assert_int_equal(stat(path, &st1), 0);
	assert_int_equal(queue_file_record(path, 'T', 0, "451 4.4.1 connect failed\nX"), 0);
	assert_int_equal(queue_file_record(path, 'D', 1, "250 2.0.0 ok"), 0);
	assert_int_equal(queue_file_record(path, 'F', 2, "550 5.1.1 no"), 0);
	assert_int_equal(queue_file_record(path, 'W', 0, ""), 0);
	/* a final state stays final */
	assert_int_equal(queue_file_record(path, 'T', 1, "451 later"), 0);
	/* recording keeps the next attempt time (the mtime) */
	assert_int_equal(stat(path, &st2), 0);
	assert_int_equal(st1.st_mtime, st2.st_mtime);
	assert_int_equal(queue_file_read(path, &env, &error), 0);
	assert_int_equal(env.next_attempt, 2000000000);
	assert_string_equal(env.from, "");
	assert_int_equal(env.rcpts[0].state, QUEUE_PENDING);
	assert_string_equal(env.rcpts[0].reply, "451 4.4.1 connect failed X");
	assert_int_equal(env.rcpts[1].state, QUEUE_DELIVERED);
	assert_string_equal(env.rcpts[1].reply, "250 2.0.0 ok");
	assert_int_equal(env.rcpts[2].state, QUEUE_FAILED);
	assert_true(env.warned);
	assert_int_equal(env.attempts, 1);
	assert_int_equal(queue_env_pending(&env), 1);
	queue_env_free(&env);
}

static void test_torn_record_ignored(void **state)
{
	const char *rcpts[] = { "a@r.test" };
	char id[QUEUE_ID_MAX], path[512];
	struct queue_env env;
	const char *error = NULL;
	FILE *f;

	make("x@y.test", rcpts, 1, "Subject: z\r\n\r\nD 0 1 250 fake\n", id, path, sizeof(path));
	/* a line inside the message is never taken for a result */
	assert_int_equal(queue_file_read(path, &env, &error), 0);
	assert_int_equal(env.rcpts[0].state, QUEUE_PENDING);
	queue_env_free(&env);
	/* a crash in the middle of an append: no newline yet */
	f = fopen(path, "ab");
	fputs("T 0 17000", f);
	fclose(f);
	assert_int_equal(queue_file_read(path, &env, &error), 0);
	assert_int_equal(env.rcpts[0].state, QUEUE_PENDING);
	queue_env_free(&env);
	/* garbage results and out-of-range indexes are ignored */
	f = fopen(path, "ab");
	fputs("\nD 9 1 x\nD -1 1 x\nQ 0 1 x\nD 0 abc x\nD\n", f);
	fclose(f);
	assert_int_equal(queue_file_read(path, &env, &error), 0);
	assert_int_equal(env.rcpts[0].state, QUEUE_PENDING);
	queue_env_free(&env);
	/* the next record after a torn one is not swallowed by it */
	f = fopen(path, "ab");
	fputs("T 0 12", f);
	fclose(f);
	assert_int_equal(queue_file_record(path, 'D', 0, "250 2.0.0 ok"), 0);
	assert_int_equal(queue_file_read(path, &env, &error), 0);
	assert_int_equal(env.rcpts[0].state, QUEUE_DELIVERED);
	assert_string_equal(env.rcpts[0].reply, "250 2.0.0 ok");
	queue_env_free(&env);
}

static void test_parse_damaged(void **state)
{
	static const char *const bad[] = {
		"",
		"YUBIN-QUEUE 2\n",
		"YUBIN-QUEUE 1\nid abcdefgh\nfrom a@b\nrcpt c@d\nsize 10\n\nshort",
		"YUBIN-QUEUE 1\nid abcdefgh\nfrom a@b\nsize 1\n\nx",
		"YUBIN-QUEUE 1\nid abcdefgh\nfrom a@b\nrcpt c@d\n\nx",
		"YUBIN-QUEUE 1\nid abcdefgh\nfrom a@b\nrcpt c@d\nsize -1\n\nx",
		"YUBIN-QUEUE 1\nid abcdefgh\nfrom a@b\nrcpt c@d\nsize 1\n",
	};
	struct queue_env env;
	const char *error = NULL;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		error = NULL;
		assert_int_equal(queue_file_parse(bad[i], strlen(bad[i]), &env, &error), -1);
		assert_non_null(error);
	}
	{
		static const char ok[] = "YUBIN-QUEUE 1\nid abcdefgh\ncreated 5\nfrom \nrcpt c@d\nsize 1\n\nxD 0 7 250 ok\n";
		assert_int_equal(queue_file_parse(ok, strlen(ok), &env, &error), 0);
		assert_int_equal(env.created, 5);
		assert_int_equal(env.body_len, 1);
		assert_int_equal(env.rcpts[0].state, QUEUE_DELIVERED);
		assert_int_equal(env.rcpts[0].ts, 7);
		queue_env_free(&env);
	}
}

static void test_hostile_envelope(void **state)
{
	const char *nl[] = { "a@b\nrcpt evil@x" };
	const char *sp[] = { "a b@c" };
	const char *ok[] = { "a@b" };
	const char *empty[] = { "" };
	char id[QUEUE_ID_MAX];
	struct maildir_msg m = { "", 0, "x\r\n", -1, 3 };
	const char *error = NULL;

	assert_int_equal(queue_file_create(dir, "a@b", nl, 1, &m, id, sizeof(id), &error), -1);
	assert_int_equal(queue_file_create(dir, "a@b", sp, 1, &m, id, sizeof(id), &error), -1);
	assert_int_equal(queue_file_create(dir, "a@b", empty, 1, &m, id, sizeof(id), &error), -1);
	assert_int_equal(queue_file_create(dir, "x\r\ny@z", ok, 1, &m, id, sizeof(id), &error), -1);
	assert_int_equal(queue_file_create(dir, "a@b", ok, 0, &m, id, sizeof(id), &error), -1);
	assert_false(queue_id_is_valid("../../etc"));
	assert_false(queue_id_is_valid(".abc.tmp"));
	assert_false(queue_id_is_valid("short"));
	assert_false(queue_id_is_valid("ABCDEFGHIJKL"));
	assert_true(queue_id_is_valid("abcdefgh1234"));
	assert_true(queue_addr_is_valid(""));
	assert_false(queue_addr_is_valid("a\x7f@b"));
}

/* The ".spare.*" files in dir, with the size of the last one seen. */
static unsigned count_spares(off_t *size_r)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	unsigned n = 0;

	assert_non_null(d);
	while ((de = readdir(d)) != NULL) {
		char path[600];
		struct stat st;

		if (strncmp(de->d_name, ".spare.", 7) != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		assert_int_equal(stat(path, &st), 0);
		if (size_r != NULL)
			*size_r = st.st_size;
		n++;
	}
	closedir(d);
	return n;
}

static void test_spare_reused(void **state)
{
	const char *rcpts[] = { "a@remote.test" };
	char id[QUEUE_ID_MAX], path[512], id2[QUEUE_ID_MAX], path2[512], other[600];
	char big[4000];
	struct queue_env env;
	const char *error = NULL;
	struct stat st, st2;
	off_t size = -1;

	memset(big, 'x', sizeof(big) - 3);
	memcpy(big + sizeof(big) - 3, "\r\n", 3);
	make("taro@example.jp", rcpts, 1, big, id, path, sizeof(path));
	queue_spare_init(dir);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(queue_spare_retire(path), 0);
	assert_int_equal(access(path, F_OK), -1);
	assert_int_equal(count_spares(&size), 1);
	assert_int_equal(size, 0);	/* no mail kept */
	/* the next queue file is the spare's inode, holding only its message */
	make("jiro@example.jp", rcpts, 1, "Subject: y\r\n\r\nshort\r\n", id2, path2, sizeof(path2));
	assert_int_equal(stat(path2, &st2), 0);
	assert_int_equal(st2.st_ino, st.st_ino);
	assert_int_equal(st2.st_mode & 0777, 0600);
	assert_int_equal(count_spares(NULL), 0);
	assert_int_equal(queue_file_read(path2, &env, &error), 0);
	assert_string_equal(env.from, "jiro@example.jp");
	assert_int_equal(env.body_len, 13 + 21);
	assert_int_equal(st2.st_size, (off_t)(env.body_off + env.body_len));
	queue_env_free(&env);
	/* no spare for another directory */
	snprintf(other, sizeof(other), "%s/sub", dir);
	assert_int_equal(queue_spare_retire(path2), 0);
	assert_int_equal(queue_spare_take(other, path), -1);
	assert_int_equal(count_spares(NULL), 1);
	/* a file outside the directory is unlinked, not kept */
	assert_int_equal(fs_mkdir_p(other, 0700), 0);
	snprintf(path2, sizeof(path2), "%s/sub/f", dir);
	assert_int_equal(fs_write_file_atomic(path2, "x", 1, 0600), 0);
	assert_int_equal(queue_spare_retire(path2), 0);
	assert_int_equal(access(path2, F_OK), -1);
	assert_int_equal(count_spares(NULL), 1);
	/* at most QUEUE_SPARE_MAX; a restart removes them all */
	for (int i = 0; i < QUEUE_SPARE_MAX + 3; i++) {
		snprintf(path2, sizeof(path2), "%s/f%d", dir, i);
		assert_int_equal(fs_write_file_atomic(path2, "x", 1, 0600), 0);
		assert_int_equal(queue_spare_retire(path2), 0);
		assert_int_equal(access(path2, F_OK), -1);
	}
	assert_int_equal(count_spares(NULL), QUEUE_SPARE_MAX);
	queue_spare_init(dir);
	assert_int_equal(count_spares(NULL), 0);
	assert_int_equal(queue_spare_take(dir, path), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_create_read),
		cmocka_unit_test(test_big_envelope),
		cmocka_unit_test(test_results_are_appended),
		cmocka_unit_test(test_torn_record_ignored),
		cmocka_unit_test(test_parse_damaged),
		cmocka_unit_test(test_hostile_envelope),
		cmocka_unit_test(test_spare_reused),
	};

	return cmocka_run_group_tests_name("queue_file", tests, setup, teardown);
}
