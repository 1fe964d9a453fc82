/* Unit tests for src/store/journal_record.c (the record format) and
 * src/store/journal.c + journal_recover.c (a segment written by the
 * committer's calls, replayed into a Maildir in a temporary directory). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/fsutil.h"
#include "store/journal.h"
#include "store/journal_record.h"

static size_t record(uint8_t *buf, const char *folder, const char *name, const char *flags, const char *content)
{
	size_t n = strlen(content), h = journal_record_head(buf, folder, name, flags, n);
	uint8_t tail[JOURNAL_TAIL_LEN];
	uint32_t crc;

	assert_true(h > 0);
	memcpy(buf + h, content, n);
	/* zlib's CRC-32 of head and content, as journal.c computes it */
	{
		uint32_t c = 0xffffffffu;

		for (size_t i = 0; i < h + n; i++) {
			c ^= buf[i];
			for (int k = 0; k < 8; k++)
				c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1)));
		}
		crc = ~c;
	}
	journal_record_tail(tail, crc);
	memcpy(buf + h + n, tail, sizeof(tail));
	return h + n + sizeof(tail);
}

static void test_round_trip_and_torn_ends(void **state)
{
	uint8_t buf[1024];
	struct journal_record r;
	const char *error = NULL;
	size_t len = record(buf, "/d/mail/ex.jp/u/.Junk", "17.M1P2Q3.h,S=5", "FS", "hello"), used = 0;

	assert_int_equal(journal_record_parse(buf, len, &r, &used, &error), 1);
	assert_int_equal(used, len);
	assert_memory_equal(r.folder, "/d/mail/ex.jp/u/.Junk", r.folder_len);
	assert_memory_equal(r.name, "17.M1P2Q3.h,S=5", r.name_len);
	assert_memory_equal(r.flags, "FS", r.flags_len);
	assert_int_equal(r.content_len, 5);
	assert_memory_equal(r.content, "hello", 5);
	/* every cut short of the whole record is "not complete yet" */
	for (size_t k = 0; k < len; k++)
		assert_int_equal(journal_record_parse(buf, k, &r, &used, &error), 0);
	/* one changed byte anywhere is refused */
	for (size_t k = 0; k < len; k++) {
		int res;

		buf[k] ^= 0x20;
		res = journal_record_parse(buf, len, &r, &used, &error);
		assert_true(res != 1);
		buf[k] ^= 0x20;
	}
}

static void test_refuses_paths_not_valid(void **state)
{
	uint8_t buf[JOURNAL_HEAD_MAX];

	assert_int_equal(journal_record_head(buf, "relative/x", "n", "", 1), 0);
	assert_int_equal(journal_record_head(buf, "/a/../b", "n", "", 1), 0);
	assert_int_equal(journal_record_head(buf, "/a/./b", "n", "", 1), 0);
	assert_int_equal(journal_record_head(buf, "/a/b", "x/y", "", 1), 0);
	assert_int_equal(journal_record_head(buf, "/a/b", "x:2,S", "", 1), 0);
	assert_int_equal(journal_record_head(buf, "/a/b", ".hidden", "", 1), 0);
	assert_int_equal(journal_record_head(buf, "/a/b", "n", "SF", 1), 0);	/* not ascending */
	assert_int_equal(journal_record_head(buf, "/a/b", "n", "s", 1), 0);
	assert_true(journal_record_head(buf, "/a/..b", "n", "S", 1) > 0);
}

static char tmpdir[64];

static int setup(void **state)
{
	strcpy(tmpdir, "/tmp/yubin-journal-XXXXXX");
	assert_non_null(mkdtemp(tmpdir));
	return 0;
}

static int teardown(void **state)
{
	fs_remove_tree(tmpdir);
	return 0;
}

static void make_folder(const char *root, const char *sub)
{
	char p[512];

	for (int i = 0; i < 3; i++) {
		snprintf(p, sizeof(p), "%s%s/%s", root, sub, (const char *[]){ "tmp", "new", "cur" }[i]);
		assert_int_equal(fs_mkdir_p(p, 0700), 0);
	}
}

static void write_file(const char *path, const char *data)
{
	assert_int_equal(fs_write_file_atomic(path, data, strlen(data), 0600), 0);
}

static char *read_file(const char *path)
{
	size_t n;

	return fs_read_file(path, 1 << 20, &n);
}

static size_t count_segments(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	size_t n = 0;

	if (d == NULL)
		return 0;
	while ((de = readdir(d)) != NULL)
		n += strstr(de->d_name, ".log") != NULL;
	closedir(d);
	return n;
}

/* Journals a staged file as the committer does: add, sync, published. */
static void journal_one(struct journal *j, const char *folder, const char *name, const char *flags,
			const char *content)
{
	char tmp[512], dst[512];

	snprintf(tmp, sizeof(tmp), "%s/tmp/%s", folder, name);
	write_file(tmp, content);
	journal_begin(j);
	assert_int_equal(journal_add(j, folder, name, flags, tmp), 0);
	assert_int_equal(journal_sync(j), 0);
	journal_published(j, name);
	if (flags[0] != '\0')
		snprintf(dst, sizeof(dst), "%s/cur/%s:2,%s", folder, name, flags);
	else
		snprintf(dst, sizeof(dst), "%s/new/%s", folder, name);
	assert_int_equal(rename(tmp, dst), 0);
	journal_end(j);
}

/* What a crash leaves is replayed: a lost file put back, an emptied one
 * mended, a moved one mended where it is, a deleted folder's skipped; a
 * missing staged file is refused by journal_add and leaves the segment
 * readable. */
static void test_replay(void **state)
{
	char jdir[256], mail[256], inbox[256], junk[256], p[512], q[512];
	struct journal_recovery rec;
	const char *error = NULL;
	struct journal *j;
	char *s;

	(void)state;
	snprintf(jdir, sizeof(jdir), "%s/journal", tmpdir);
	snprintf(mail, sizeof(mail), "%s/mail", tmpdir);
	snprintf(inbox, sizeof(inbox), "%s/ex.jp/u", mail);
	snprintf(junk, sizeof(junk), "%s/.Junk", inbox);
	make_folder(inbox, "");
	make_folder(inbox, "/.Junk");
	make_folder(inbox, "/.Gone");
	j = journal_open(jdir, 60000, &error);
	assert_non_null(j);
	journal_one(j, inbox, "1.M1P1Q1.h,S=3", "", "one");
	journal_one(j, inbox, "1.M1P1Q2.h,S=3", "", "two");
	journal_one(j, junk, "1.M1P1Q3.h,S=5", "S", "three");
	journal_one(j, inbox, "1.M1P1Q4.h,S=4", "", "four");
	snprintf(p, sizeof(p), "%s/.Gone", inbox);
	journal_one(j, p, "1.M1P1Q5.h,S=4", "", "five");
	journal_begin(j);
	assert_int_equal(journal_add(j, inbox, "1.M1P1Q6.h,S=3", "", "/nonexistent/tmp/x"), -1);
	journal_end(j);
	assert_int_equal(count_segments(jdir), 1);

	/* a clean close checkpoints and leaves no segment; the crash is then
	 * played by writing the segment it would have left, records the
	 * committer wrote plus one outside mail/ and a torn last one */
	journal_close(j);
	assert_int_equal(count_segments(jdir), 0);
	snprintf(p, sizeof(p), "%s/0000000000000001.log", jdir);
	{
		uint8_t buf[8192];
		size_t n = 0;
		int fd;

		n += record(buf + n, inbox, "1.M1P1Q1.h,S=3", "", "one");
		n += record(buf + n, inbox, "1.M1P1Q2.h,S=3", "", "two");
		n += record(buf + n, junk, "1.M1P1Q3.h,S=5", "S", "three");
		n += record(buf + n, inbox, "1.M1P1Q4.h,S=4", "", "four");
		snprintf(q, sizeof(q), "%s/.Gone", inbox);
		n += record(buf + n, q, "1.M1P1Q5.h,S=4", "", "five");
		n += record(buf + n, "/elsewhere/mail/x/y", "1.M1P1Q7.h,S=1", "", "x");
		memcpy(buf + n, "YBJ1\x05", 5);	/* a torn last record */
		n += 5;
		fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		assert_int_equal(write(fd, buf, n), (ssize_t)n);
		close(fd);
	}
	snprintf(q, sizeof(q), "%s/new/1.M1P1Q1.h,S=3", inbox);
	unlink(q);	/* lost */
	snprintf(q, sizeof(q), "%s/new/1.M1P1Q2.h,S=3", inbox);
	write_file(q, "");	/* emptied */
	snprintf(q, sizeof(q), "%s/new/1.M1P1Q4.h,S=4", inbox);
	snprintf(p, sizeof(p), "%s/cur/1.M1P1Q4.h,S=4:2,S", junk);
	assert_int_equal(rename(q, p), 0);	/* moved to Junk, read */
	write_file(p, "fo");
	snprintf(q, sizeof(q), "%s/.Gone", inbox);
	assert_int_equal(fs_remove_tree(q), 0);	/* folder deleted */

	assert_int_equal(journal_recover(jdir, mail, &rec, &error), 0);
	assert_int_equal(rec.records, 6);
	assert_int_equal(rec.torn, 1);
	assert_int_equal(rec.restored, 1);
	assert_int_equal(rec.rewritten, 2);
	assert_int_equal(rec.intact, 1);
	assert_int_equal(rec.skipped, 2);	/* the deleted folder, the record outside mail/ */
	assert_int_equal(count_segments(jdir), 0);

	snprintf(q, sizeof(q), "%s/new/1.M1P1Q1.h,S=3", inbox);
	assert_string_equal((s = read_file(q)), "one");
	free(s);
	snprintf(q, sizeof(q), "%s/new/1.M1P1Q2.h,S=3", inbox);
	assert_string_equal((s = read_file(q)), "two");
	free(s);
	assert_string_equal((s = read_file(p)), "four");	/* mended in Junk, not put back */
	free(s);
	snprintf(q, sizeof(q), "%s/new/1.M1P1Q4.h,S=4", inbox);
	assert_int_equal(access(q, F_OK), -1);
	snprintf(q, sizeof(q), "%s/cur/1.M1P1Q3.h,S=5:2,S", junk);
	assert_string_equal((s = read_file(q)), "three");
	free(s);
	/* nothing left to replay: a second start changes nothing */
	assert_int_equal(journal_recover(jdir, mail, &rec, &error), 0);
	assert_int_equal(rec.records, 0);
}

/* A deletion of a copy still only in the journal waits for its checkpoint
 * (started at once, even with a long interval); others do not wait. */
static void test_wait_durable(void **state)
{
	char jdir[256], folder[256];
	const char *error = NULL;
	struct journal *j;

	snprintf(jdir, sizeof(jdir), "%s/j2", tmpdir);
	snprintf(folder, sizeof(folder), "%s/mail/ex.jp/w", tmpdir);
	make_folder(folder, "");
	j = journal_open(jdir, 60000, &error);
	assert_non_null(j);
	journal_set_global(j);
	journal_wait_durable("9.M9P9Q9.h,S=1");	/* unknown: returns at once */
	assert_int_equal(journal_checkpoints(j), 0);
	journal_one(j, folder, "2.M1P1Q1.h,S=3", "", "abc");
	journal_wait_durable("2.M1P1Q1.h,S=3:2,ST");
	assert_int_equal(journal_checkpoints(j), 1);
	assert_int_equal(count_segments(jdir), 1);	/* only the new, empty one */
	journal_wait_durable("2.M1P1Q1.h,S=3");	/* durable now: no second checkpoint */
	assert_int_equal(journal_checkpoints(j), 1);
	journal_wait_all();	/* nothing pending: no checkpoint */
	assert_int_equal(journal_checkpoints(j), 1);
	journal_one(j, folder, "2.M1P1Q2.h,S=3", "", "def");
	journal_one(j, folder, "2.M1P1Q3.h,S=3", "", "ghi");
	journal_wait_all();	/* before a folder is removed: all of them */
	assert_int_equal(journal_checkpoints(j), 2);
	journal_wait_durable("2.M1P1Q3.h,S=3");
	assert_int_equal(journal_checkpoints(j), 2);
	journal_close(j);
	assert_int_equal(count_segments(jdir), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip_and_torn_ends),
		cmocka_unit_test(test_refuses_paths_not_valid),
		cmocka_unit_test_setup_teardown(test_replay, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wait_durable, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
