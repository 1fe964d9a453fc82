/* Unit tests for src/store/maildir.c in a temporary directory: creating a
 * mailbox, durable delivery from memory and from a file, usage, listing
 * order, ",S=" parsing and the tmp/ cleanup. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "lib/fsutil.h"
#include "store/maildir.h"

struct fixture {
	char data[64];
	char box[256];
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return -1;
	strcpy(f->data, "/tmp/yubin-test-maildir-XXXXXX");
	if (mkdtemp(f->data) == NULL)
		return -1;
	if (maildir_path(f->box, sizeof(f->box), f->data, "example.test", "user") < 0 ||
	    maildir_create(f->box) < 0)
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	fs_remove_tree(f->data);
	free(f);
	return 0;
}

static bool is_dir(const char *base, const char *sub)
{
	char p[512];
	struct stat st;

	snprintf(p, sizeof(p), "%s/%s", base, sub);
	return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static bool is_file(const char *base, const char *sub)
{
	char p[512];
	struct stat st;

	snprintf(p, sizeof(p), "%s/%s", base, sub);
	return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

/* Number of entries (not . or ..) in base/sub. */
static int count_entries(const char *base, const char *sub)
{
	char p[512];
	DIR *d;
	struct dirent *de;
	int n = 0;

	snprintf(p, sizeof(p), "%s/%s", base, sub);
	d = opendir(p);
	assert_non_null(d);
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			n++;
	}
	closedir(d);
	return n;
}

static void write_file(const char *base, const char *sub, const char *content, time_t mtime)
{
	char p[512];
	int fd;

	snprintf(p, sizeof(p), "%s/%s", base, sub);
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(fs_write_all(fd, content, strlen(content)), 0);
	close(fd);
	if (mtime != 0) {
		struct timeval tv[2] = { { mtime, 0 }, { mtime, 0 } };
		assert_int_equal(utimes(p, tv), 0);
	}
}

static char *read_file(const char *path, size_t *len_r)
{
	char *s = fs_read_file(path, 1 << 24, len_r);

	assert_non_null(s);
	return s;
}

static void test_path(void **state)
{
	char buf[64];

	assert_int_equal(maildir_path(buf, sizeof(buf), "/data", "example.test", "user"), 0);
	assert_string_equal(buf, "/data/mail/example.test/user");
	assert_int_equal(maildir_path(buf, 29, "/data", "example.test", "user"), 0);
	assert_int_equal(maildir_path(buf, 28, "/data", "example.test", "user"), -1);
}

static void test_create(void **state)
{
	struct fixture *f = *state;

	assert_true(is_dir(f->box, "cur"));
	assert_true(is_dir(f->box, "new"));
	assert_true(is_dir(f->box, "tmp"));
	for (int i = 0; maildir_default_folders[i] != NULL; i++) {
		char sub[64];
		snprintf(sub, sizeof(sub), ".%s/cur", maildir_default_folders[i]);
		assert_true(is_dir(f->box, sub));
		snprintf(sub, sizeof(sub), ".%s/new", maildir_default_folders[i]);
		assert_true(is_dir(f->box, sub));
		snprintf(sub, sizeof(sub), ".%s/tmp", maildir_default_folders[i]);
		assert_true(is_dir(f->box, sub));
		snprintf(sub, sizeof(sub), ".%s/maildirfolder", maildir_default_folders[i]);
		assert_true(is_file(f->box, sub));
	}
	assert_string_equal(maildir_default_folders[0], "Sent");
	assert_string_equal(maildir_default_folders[1], "Drafts");
	assert_string_equal(maildir_default_folders[2], "Trash");
	assert_string_equal(maildir_default_folders[3], "Junk");
	assert_null(maildir_default_folders[4]);
	assert_false(is_file(f->box, "maildirfolder"));
	/* creating again keeps what is there */
	write_file(f->box, "cur/keep", "x", 0);
	assert_int_equal(maildir_create(f->box), 0);
	assert_true(is_file(f->box, "cur/keep"));
}

static void test_deliver_memory(void **state)
{
	static const char prefix[] = "Received: from client.test\r\n";
	static const char body[] = "Subject: hi\r\n\r\nHello\r\n";
	struct fixture *f = *state;
	struct maildir_msg msg = { prefix, sizeof(prefix) - 1, body, -1, sizeof(body) - 1 };
	char name[MAILDIR_NAME_MAX], path[512], expected_s[32];
	const char *e = NULL;
	size_t len;
	char *content;

	assert_int_equal(maildir_deliver(f->box, &msg, name, sizeof(name), &e), 0);
	snprintf(expected_s, sizeof(expected_s), ",S=%zu", sizeof(prefix) - 1 + sizeof(body) - 1);
	assert_non_null(strstr(name, expected_s));
	assert_int_equal(strlen(strstr(name, expected_s)), strlen(expected_s));
	assert_null(strchr(name, '/'));
	assert_null(strchr(name, ':'));
	assert_int_equal(maildir_name_size(name), (int64_t)(sizeof(prefix) - 1 + sizeof(body) - 1));
	snprintf(path, sizeof(path), "%s/new/%s", f->box, name);
	content = read_file(path, &len);
	assert_int_equal(len, sizeof(prefix) - 1 + sizeof(body) - 1);
	assert_memory_equal(content, prefix, sizeof(prefix) - 1);
	assert_memory_equal(content + sizeof(prefix) - 1, body, sizeof(body) - 1);
	free(content);
	assert_int_equal(count_entries(f->box, "tmp"), 0);
	assert_int_equal(count_entries(f->box, "new"), 1);
}

static void test_deliver_unique_names(void **state)
{
	struct fixture *f = *state;
	struct maildir_msg msg = { "", 0, "x\r\n", -1, 3 };
	char names[20][MAILDIR_NAME_MAX];
	const char *e;

	for (int i = 0; i < 20; i++) {
		assert_int_equal(maildir_deliver(f->box, &msg, names[i], sizeof(names[i]), &e), 0);
		for (int j = 0; j < i; j++)
			assert_string_not_equal(names[i], names[j]);
	}
	assert_int_equal(count_entries(f->box, "new"), 20);
	/* name_r may be NULL */
	assert_int_equal(maildir_deliver(f->box, &msg, NULL, 0, &e), 0);
	assert_int_equal(count_entries(f->box, "new"), 21);
}

static void test_deliver_fd(void **state)
{
	struct fixture *f = *state;
	char spool[512], name[MAILDIR_NAME_MAX], path[512];
	struct maildir_msg msg;
	const char *e = NULL;
	size_t blen = 200000, len;
	char *body = malloc(blen), *content;
	int fd;

	assert_non_null(body);
	for (size_t i = 0; i < blen; i++)
		body[i] = (char)(i * 7 + 3);
	snprintf(spool, sizeof(spool), "%s/spool", f->data);
	fd = open(spool, O_RDWR | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(fs_write_all(fd, body, blen), 0);
	/* the file position is at the end: delivery reads from offset 0 anyway */
	msg.prefix = "P: 1\r\n";
	msg.prefix_len = 6;
	msg.body = NULL;
	msg.body_fd = fd;
	msg.body_len = blen;
	assert_int_equal(maildir_deliver(f->box, &msg, name, sizeof(name), &e), 0);
	assert_int_equal(maildir_name_size(name), (int64_t)(blen + 6));
	snprintf(path, sizeof(path), "%s/new/%s", f->box, name);
	content = read_file(path, &len);
	assert_int_equal(len, blen + 6);
	assert_memory_equal(content, "P: 1\r\n", 6);
	assert_memory_equal(content + 6, body, blen);
	free(content);
	/* and again from the same fd */
	assert_int_equal(maildir_deliver(f->box, &msg, name, sizeof(name), &e), 0);
	assert_int_equal(count_entries(f->box, "new"), 2);

	/* a spool file shorter than promised fails and leaves nothing behind */
	msg.body_len = blen + 10;
	e = NULL;
	assert_int_equal(maildir_deliver(f->box, &msg, name, sizeof(name), &e), -1);
	assert_non_null(e);
	assert_string_equal(e, "write failed");
	assert_int_equal(count_entries(f->box, "tmp"), 0);
	assert_int_equal(count_entries(f->box, "new"), 2);
	close(fd);
	free(body);
}

static void test_deliver_cur_with_flags(void **state)
{
	static const char body[] = "Subject: draft\r\n\r\nx\r\n";
	struct fixture *f = *state;
	struct maildir_msg msg = { NULL, 0, body, -1, sizeof(body) - 1 };
	struct maildir_entry *list;
	char name[MAILDIR_NAME_MAX + 40], path[512], drafts[300];
	const char *e = NULL;
	size_t n, len;
	char *content;

	assert_int_equal(maildir_deliver_cur(f->box, &msg, "DS", name, sizeof(name), &e), 0);
	assert_int_equal(strlen(name) - strlen(strstr(name, ":2,DS")), strlen(name) - 5);
	assert_int_equal(maildir_name_size(name), (int64_t)(sizeof(body) - 1));
	snprintf(path, sizeof(path), "%s/cur/%s", f->box, name);
	content = read_file(path, &len);
	assert_int_equal(len, sizeof(body) - 1);
	assert_memory_equal(content, body, len);
	free(content);
	assert_int_equal(count_entries(f->box, "new"), 0);
	assert_int_equal(count_entries(f->box, "tmp"), 0);
	/* no flags at all is ":2," */
	assert_int_equal(maildir_deliver_cur(f->box, &msg, "", name, sizeof(name), &e), 0);
	assert_string_equal(name + strlen(name) - 3, ":2,");
	assert_int_equal(maildir_list(f->box, &list, &n), 0);
	assert_int_equal(n, 2);
	assert_true(list[0].in_cur && list[1].in_cur);
	assert_null(strchr(list[0].uid, ':'));
	free(list);
	/* into a folder */
	snprintf(drafts, sizeof(drafts), "%s/.Drafts", f->box);
	assert_int_equal(maildir_deliver_cur(drafts, &msg, "D", name, sizeof(name), &e), 0);
	assert_int_equal(count_entries(drafts, "cur"), 1);
}

static void test_deliver_missing_mailbox(void **state)
{
	struct fixture *f = *state;
	struct maildir_msg msg = { "", 0, "x", -1, 1 };
	char path[512];
	const char *e = NULL;

	snprintf(path, sizeof(path), "%s/mail/example.test/nobody", f->data);
	assert_int_equal(maildir_deliver(path, &msg, NULL, 0, &e), -1);
	assert_string_equal(e, "mailbox directory missing");
}

static void test_deliver_empty(void **state)
{
	struct fixture *f = *state;
	struct maildir_msg msg = { NULL, 0, "", -1, 0 };
	char name[MAILDIR_NAME_MAX];
	const char *e;

	assert_int_equal(maildir_deliver(f->box, &msg, name, sizeof(name), &e), 0);
	assert_int_equal(maildir_name_size(name), 0);
}

static void test_name_size(void **state)
{
	assert_int_equal(maildir_name_size("1700000000.M1P2Q3.host,S=1234"), 1234);
	assert_int_equal(maildir_name_size("1700000000.M1P2Q3.host,S=1234:2,S"), 1234);
	assert_int_equal(maildir_name_size("1700000000.M1P2Q3.host,S=1234,W=1260:2,RS"), 1234);
	assert_int_equal(maildir_name_size("1700000000.M1P2Q3.host,W=1260,S=99:2,"), 99);
	assert_int_equal(maildir_name_size("x,S=0"), 0);
	assert_int_equal(maildir_name_size("x,S=1000000000000000"), 1000000000000000LL);
	assert_int_equal(maildir_name_size("1700000000.M1P2Q3.host"), -1);
	assert_int_equal(maildir_name_size("1700000000.M1P2Q3.host:2,S"), -1);
	assert_int_equal(maildir_name_size("x,S="), -1);
	assert_int_equal(maildir_name_size("x,S=:2,"), -1);
	assert_int_equal(maildir_name_size("x,S=-5"), -1);
	assert_int_equal(maildir_name_size("x,s=5"), -1);
	assert_int_equal(maildir_name_size("x,S=99999999999999999999999"), -1);
	assert_int_equal(maildir_name_size(""), -1);
}

static void test_usage(void **state)
{
	struct fixture *f = *state;
	uint64_t bytes = 77, count = 77;

	assert_int_equal(maildir_usage(f->box, &bytes, &count), 0);
	assert_true(bytes == 0 && count == 0);
	write_file(f->box, "new/1.M1P1Q1.h,S=100", "short", 0);	/* S= wins over the real size */
	write_file(f->box, "cur/2.M1P1Q1.h,S=50:2,S", "x", 0);
	write_file(f->box, "cur/3.other.host", "1234567", 0);		/* no S=: stat size */
	write_file(f->box, ".Junk/cur/4.M1P1Q1.h,S=1000:2,", "", 0);
	write_file(f->box, ".Trash/new/5.M1P1Q1.h,S=3", "abc", 0);
	write_file(f->box, "tmp/6.M1P1Q1.h,S=100000", "", 0);		/* not delivered yet */
	write_file(f->box, ".Sent/tmp/7.M1P1Q1.h,S=100000", "", 0);
	write_file(f->box, "cur/.hidden,S=100000", "", 0);		/* dot files skipped */
	write_file(f->box, "index.db", "not mail", 0);
	assert_int_equal(maildir_usage(f->box, &bytes, &count), 0);
	assert_true(bytes == 100 + 50 + 7 + 1000 + 3);
	assert_true(count == 5);
	bytes = 0;
	assert_int_equal(maildir_usage(f->box, &bytes, NULL), 0);
	assert_true(bytes == 1160);
}

static void test_usage_stray_dot_file(void **state)
{
	struct fixture *f = *state;
	uint64_t bytes = 0, count = 0;

	/* a stray file in the mailbox root whose name starts with a dot is not
	 * a folder and must not make the whole mailbox unreadable */
	write_file(f->box, "new/1.M1P1Q1.h,S=10", "", 0);
	write_file(f->box, ".lock", "", 0);
	assert_int_equal(maildir_usage(f->box, &bytes, &count), 0);
	assert_true(bytes == 10 && count == 1);
}

static void test_usage_missing(void **state)
{
	struct fixture *f = *state;
	char path[512];
	uint64_t bytes;

	snprintf(path, sizeof(path), "%s/mail/none/none", f->data);
	assert_int_equal(maildir_usage(path, &bytes, NULL), -1);
}

static void test_list_order(void **state)
{
	struct fixture *f = *state;
	struct maildir_entry *list = NULL;
	size_t n = 99;
	char path[512], longname[200];

	assert_int_equal(maildir_list(f->box, &list, &n), 0);
	assert_int_equal(n, 0);
	free(list);

	write_file(f->box, "new/1700000002.M5P1Q1.h,S=3", "abc", 0);
	write_file(f->box, "cur/1700000001.M999999P1Q1.h,S=2:2,S", "ab", 0);
	write_file(f->box, "new/1700000002.M10P1Q1.h,S=1", "a", 0);
	write_file(f->box, "cur/1700000001.12345_1.other:2,", "abcd", 0);	/* no M: usec 0 */
	write_file(f->box, "new/1699999999.M7P9Q1.h", "", 0);
	write_file(f->box, "cur/1700000002.M5P1Q2.h,S=3:2,RS", "xyz", 0);
	write_file(f->box, "new/.hidden", "", 0);
	write_file(f->box, ".Junk/new/1600000000.M1P1Q1.h", "", 0);	/* folders are not INBOX */
	write_file(f->box, "tmp/1600000000.M1P1Q1.h", "", 0);
	assert_int_equal(mkdir((snprintf(path, sizeof(path), "%s/new/1500000000.M1.dir", f->box), path), 0700), 0);
	memset(longname, 'x', sizeof(longname));
	memcpy(longname, "new/1", 5);
	longname[5 + MAILDIR_NAME_MAX] = '\0';	/* a name of 129 octets */
	write_file(f->box, longname, "", 0);

	assert_int_equal(maildir_list(f->box, &list, &n), 0);
	assert_int_equal(n, 6);
	assert_string_equal(list[0].name, "1699999999.M7P9Q1.h");
	assert_string_equal(list[1].name, "1700000001.12345_1.other:2,");
	assert_string_equal(list[1].uid, "1700000001.12345_1.other");
	assert_string_equal(list[2].name, "1700000001.M999999P1Q1.h,S=2:2,S");
	assert_string_equal(list[2].uid, "1700000001.M999999P1Q1.h,S=2");
	assert_string_equal(list[3].name, "1700000002.M5P1Q1.h,S=3");
	assert_string_equal(list[4].name, "1700000002.M5P1Q2.h,S=3:2,RS");
	assert_string_equal(list[5].name, "1700000002.M10P1Q1.h,S=1");	/* 10 > 5 numerically */
	assert_false(list[0].in_cur);
	assert_true(list[1].in_cur);
	assert_true(list[2].in_cur);
	assert_false(list[3].in_cur);
	assert_true(list[4].in_cur);
	assert_false(list[5].in_cur);
	assert_true(list[1].size == 4);
	assert_true(list[5].size == 1);
	assert_true(list[0].mtime > 0);
	assert_int_equal(maildir_entry_path(f->box, &list[4], path, sizeof(path)), 0);
	{
		char expected[512];
		snprintf(expected, sizeof(expected), "%s/cur/1700000002.M5P1Q2.h,S=3:2,RS", f->box);
		assert_string_equal(path, expected);
	}
	assert_int_equal(maildir_entry_path(f->box, &list[4], path, 10), -1);
	free(list);
}

static void test_list_many(void **state)
{
	struct fixture *f = *state;
	struct maildir_msg msg = { "", 0, "m\r\n", -1, 3 };
	struct maildir_entry *list;
	size_t n;
	const char *e;

	/* more than the first allocation, in delivery order */
	for (int i = 0; i < 150; i++)
		assert_int_equal(maildir_deliver(f->box, &msg, NULL, 0, &e), 0);
	assert_int_equal(maildir_list(f->box, &list, &n), 0);
	assert_int_equal(n, 150);
	for (size_t i = 1; i < n; i++) {
		long long s0 = atoll(list[i - 1].name), s1 = atoll(list[i].name);
		assert_true(s0 <= s1);
		assert_true(list[i].size == 3);
	}
	free(list);
}

static void test_clean_tmp(void **state)
{
	struct fixture *f = *state;
	time_t now = time(NULL);

	write_file(f->box, "tmp/old1", "x", now - 40 * 3600);
	write_file(f->box, "tmp/fresh", "x", now - 3600);
	write_file(f->box, ".Junk/tmp/old2", "x", now - 37 * 3600);
	write_file(f->box, ".Sent/tmp/fresh2", "x", 0);
	write_file(f->box, "new/old-but-delivered", "x", now - 100 * 3600);
	assert_int_equal(maildir_clean_tmp(f->box, 36 * 3600), 2);
	assert_false(is_file(f->box, "tmp/old1"));
	assert_false(is_file(f->box, ".Junk/tmp/old2"));
	assert_true(is_file(f->box, "tmp/fresh"));
	assert_true(is_file(f->box, ".Sent/tmp/fresh2"));
	assert_true(is_file(f->box, "new/old-but-delivered"));
	assert_int_equal(maildir_clean_tmp(f->box, 36 * 3600), 0);
	assert_int_equal(maildir_clean_tmp("/nonexistent-yubin", 1), 0);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_path),
		T(test_create),
		T(test_deliver_memory),
		T(test_deliver_unique_names),
		T(test_deliver_fd),
		T(test_deliver_cur_with_flags),
		T(test_deliver_missing_mailbox),
		T(test_deliver_empty),
		T(test_name_size),
		T(test_usage),
		T(test_usage_stray_dot_file),
		T(test_usage_missing),
		T(test_list_order),
		T(test_list_many),
		T(test_clean_tmp),
	};

	return cmocka_run_group_tests_name("maildir", tests, NULL, NULL);
}
