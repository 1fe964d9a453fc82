/* The full-text search index (store/fts.c) against a real Maildir and mail
 * index in a temporary directory: lazy indexing, substring matches as
 * SEARCH makes them, short needles, stale rows, UIDVALIDITY changes,
 * incomplete messages, a damaged file. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/fsutil.h"
#include "store/fts.h"
#include "store/index.h"
#include "store/maildir.h"

struct fixture {
	char root[256];
	struct mail_index *idx;
	struct fts_index *f;
	struct index_mailbox inbox;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char err[256];

	snprintf(f->root, sizeof(f->root), "/tmp/yubin-test-fts-XXXXXX");
	assert_non_null(mkdtemp(f->root));
	assert_int_equal(maildir_create(f->root), 0);
	f->idx = mail_index_open(f->root, err, sizeof(err));
	assert_non_null(f->idx);
	f->f = fts_open(f->root, err, sizeof(err));
	assert_non_null(f->f);
	assert_int_equal(mail_index_mailbox_get(f->idx, "INBOX", &f->inbox), 1);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	fts_close(f->f);
	mail_index_close(f->idx);
	fs_remove_tree(f->root);
	free(f);
	return 0;
}

static void deliver_n(const char *path, const char *text, size_t len)
{
	struct maildir_msg msg = { .prefix = "", .prefix_len = 0, .body = text, .body_fd = -1, .body_len = len };
	const char *error;

	assert_int_equal(maildir_deliver(path, &msg, NULL, 0, &error), 0);
}

static void deliver(const char *path, const char *text)
{
	deliver_n(path, text, strlen(text));
}

/* Syncs INBOX into both indexes with at most max_new new messages. */
static void sync_inbox(struct fixture *f, size_t max_new, struct index_view *v, struct fts_folder *fs)
{
	assert_int_equal(mail_index_sync(f->idx, &f->inbox, v), 0);
	assert_int_equal(fts_folder_sync(f->f, &f->inbox, v, max_new, fs), 0);
}

/* The matching UIDs as "1,3" */
static const char *match(struct fixture *f, int64_t fid, enum fts_field field, const char *needle)
{
	static char out[256];
	uint32_t *uids;
	size_t n, o = 0;

	assert_int_equal(fts_folder_match(f->f, fid, field, needle, strlen(needle), &uids, &n), 0);
	out[0] = '\0';
	for (size_t i = 0; i < n; i++)
		o += (size_t)snprintf(out + o, sizeof(out) - o, "%s%u", i > 0 ? "," : "", uids[i]);
	free(uids);
	return out;
}

static const char m1[] = "From: =?UTF-8?B?5bGx55Sw?= <yamada@example.jp>\r\nTo: a@example.test\r\n"
			 "Subject: Meeting Notes\r\nContent-Type: text/plain; charset=UTF-8\r\n\r\n"
			 "議事録を送ります。CamelCase\r\n";
static const char m2[] = "From: b@example.test\r\nTo: c@example.test\r\nCc: Boss <boss@example.test>\r\n"
			 "Subject: =?ISO-2022-JP?B?GyRCMnE1RBsoQg==?=\r\nContent-Type: text/html; charset=UTF-8\r\n\r\n"
			 "<p>invoice &amp; \"quote\"</p>\r\n";

static void test_index_and_match(void **state)
{
	struct fixture *f = *state;
	struct index_view v;
	struct fts_folder fs;
	struct fts_summary sum;

	deliver(f->root, m1);
	deliver(f->root, m2);
	sync_inbox(f, 100, &v, &fs);
	assert_int_equal(fs.indexed, 2);
	assert_int_equal(fs.missing, 0);
	assert_true(fs.exact[0] && fs.exact[1]);
	assert_string_equal(match(f, fs.fid, FTS_TEXT, "議事録"), "1");
	assert_string_equal(match(f, fs.fid, FTS_BODY, "camelcase"), "1");	/* ASCII case folded */
	assert_string_equal(match(f, fs.fid, FTS_BODY, "CAMELCASE"), "1");
	assert_string_equal(match(f, fs.fid, FTS_SUBJECT, "meeting"), "1");
	assert_string_equal(match(f, fs.fid, FTS_SUBJECT, "会議"), "2");	/* 2 characters: at the end */
	assert_string_equal(match(f, fs.fid, FTS_BODY, "議"), "1");
	assert_string_equal(match(f, fs.fid, FTS_FROM, "山"), "1");
	assert_string_equal(match(f, fs.fid, FTS_BODY, "e"), "1,2");	/* many trigrams: instr */
	assert_string_equal(match(f, fs.fid, FTS_BODY, "Zq"), "");
	assert_string_equal(match(f, fs.fid, FTS_FROM, "山田 <yamada@"), "1");
	assert_string_equal(match(f, fs.fid, FTS_CC, "boss <boss"), "2");
	assert_string_equal(match(f, fs.fid, FTS_TOCC, "example.test"), "1,2");
	assert_string_equal(match(f, fs.fid, FTS_BODY, "\"quote\""), "2");	/* a quote in the phrase */
	assert_string_equal(match(f, fs.fid, FTS_BODY, "<p>"), "");		/* HTML reduced to text */
	assert_string_equal(match(f, fs.fid, FTS_TEXT, "subject: meeting"), "1");
	assert_string_equal(match(f, fs.fid, FTS_BODY, "subject"), "");
	assert_string_equal(match(f, fs.fid, FTS_BODY, "x"), "");
	assert_int_equal(fts_summary_get(f->f, fs.fid, 1, &sum), 1);
	assert_string_equal(sum.subject, "Meeting Notes");
	assert_string_equal(sum.from, "山田 <yamada@example.jp>");
	assert_string_equal(sum.snippet, "議事録を送ります。CamelCase");
	assert_int_equal(fts_summary_get(f->f, fs.fid, 9, &sum), 0);
	fts_folder_free(&fs);
	index_view_free(&v);
}

static void test_lazy_stale_and_limits(void **state)
{
	struct fixture *f = *state;
	struct index_view v;
	struct fts_folder fs;
	char path[600];
	uint64_t n;

	deliver(f->root, m1);
	deliver(f->root, m2);
	deliver(f->root, m1);
	sync_inbox(f, 1, &v, &fs);	/* one at a time */
	assert_int_equal(fs.indexed, 1);
	assert_int_equal(fs.missing, 2);
	assert_true(fs.exact[0] && !fs.exact[1] && !fs.exact[2]);
	fts_folder_free(&fs);
	index_view_free(&v);
	sync_inbox(f, 100, &v, &fs);
	assert_int_equal(fs.indexed, 2);
	assert_true(fs.exact[0] && fs.exact[1] && fs.exact[2]);
	assert_string_equal(match(f, fs.fid, FTS_TEXT, "議事録"), "1,3");
	/* a file removed behind the index (POP3, expiry): its row goes */
	assert_int_equal(mail_index_msg_path(&f->inbox, &v.msgs[0], path, sizeof(path)), 0);
	assert_int_equal(unlink(path), 0);
	fts_folder_free(&fs);
	index_view_free(&v);
	sync_inbox(f, 100, &v, &fs);
	assert_int_equal(v.count, 2);
	assert_string_equal(match(f, fs.fid, FTS_TEXT, "議事録"), "3");
	assert_int_equal(fts_count(f->f, &n), 0);
	assert_int_equal(n, 2);
	fts_folder_free(&fs);
	index_view_free(&v);
}

static void test_uidvalidity_change_drops_rows(void **state)
{
	struct fixture *f = *state;
	struct index_view v;
	struct fts_folder fs;
	int64_t old;

	deliver(f->root, m1);
	sync_inbox(f, 100, &v, &fs);
	old = fs.fid;
	fts_folder_free(&fs);
	v.uidvalidity++;
	assert_int_equal(fts_folder_sync(f->f, &f->inbox, &v, 0, &fs), 0);
	assert_true(fs.fid != old);
	assert_false(fs.exact[0]);
	assert_int_equal(fs.missing, 1);
	assert_string_equal(match(f, old, FTS_TEXT, "議事録"), "");
	fts_folder_free(&fs);
	index_view_free(&v);
}

static void test_prune_folders_gone(void **state)
{
	struct fixture *f = *state;
	const char *const keep[] = { "Sent" }, *const both[] = { "Sent", "INBOX" };
	struct index_view v;
	struct fts_folder fs;
	uint64_t n;

	deliver(f->root, m1);
	sync_inbox(f, 100, &v, &fs);
	fts_folder_free(&fs);
	assert_int_equal(fts_folders_prune(f->f, both, 2), 0);
	assert_int_equal(fts_count(f->f, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(fts_folders_prune(f->f, keep, 1), 0);	/* INBOX renamed or deleted */
	assert_int_equal(fts_count(f->f, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(fts_folder_sync(f->f, &f->inbox, &v, 100, &fs), 0);
	assert_int_equal(fs.indexed, 1);	/* a new id, indexed again */
	assert_string_equal(match(f, fs.fid, FTS_TEXT, "議事録"), "1");
	fts_folder_free(&fs);
	index_view_free(&v);
}

static void test_big_message_is_incomplete(void **state)
{
	struct fixture *f = *state;
	struct index_view v;
	struct fts_folder fs;
	size_t body = FTS_MAX_BODY + 1000;
	char *msg = malloc(body + 200);
	int n = snprintf(msg, 200, "Subject: big\r\n\r\n");

	memset(msg + n, 'a', body);
	memcpy(msg + n + body - 8, "zzzend\r\n", 8);
	msg[n + body] = '\0';
	deliver(f->root, msg);
	deliver_n(f->root, "Subject: nul\r\n\r\nbefore\0after\r\n", 30);	/* a NUL: not exact */
	sync_inbox(f, 100, &v, &fs);
	assert_false(fs.exact[0]);
	assert_false(fs.exact[1]);
	assert_string_equal(match(f, fs.fid, FTS_BODY, "aaa"), "1");	/* its first part is there */
	assert_string_equal(match(f, fs.fid, FTS_BODY, "zzzend"), "");
	fts_folder_free(&fs);
	index_view_free(&v);
	free(msg);
}

static void test_needle_exactness(void **state)
{
	(void)state;
	assert_true(fts_needle_is_exact("abc", 3));
	assert_true(fts_needle_is_exact("議事録", strlen("議事録")));
	assert_true(fts_needle_is_exact("議事", strlen("議事")));	/* through the trigrams it begins */
	assert_true(fts_needle_is_exact("a", 1));
	assert_false(fts_needle_is_exact("", 0));
	assert_false(fts_needle_is_exact("a\nbc", 4));
	assert_false(fts_needle_is_exact("\xff\xfe\xfd", 3));
	assert_false(fts_needle_is_exact("ab\0c", 4));
}

static void test_damaged_file_and_clear(void **state)
{
	struct fixture *f = *state;
	struct index_view v;
	struct fts_folder fs;
	char path[400], err[256];
	FILE *fp;

	deliver(f->root, m1);
	sync_inbox(f, 100, &v, &fs);
	fts_folder_free(&fs);
	assert_int_equal(fts_clear(f->f), 0);
	assert_int_equal(fts_folder_sync(f->f, &f->inbox, &v, 100, &fs), 0);
	assert_int_equal(fs.indexed, 1);
	fts_folder_free(&fs);
	fts_close(f->f);
	snprintf(path, sizeof(path), "%s/" FTS_FILE, f->root);
	fp = fopen(path, "w");
	assert_non_null(fp);
	fputs("this is no database, not at all; this is no database, not at all", fp);
	fclose(fp);
	f->f = fts_open(f->root, err, sizeof(err));
	assert_non_null(f->f);
	assert_int_equal(fts_folder_sync(f->f, &f->inbox, &v, 100, &fs), 0);
	assert_int_equal(fs.indexed, 1);
	assert_string_equal(match(f, fs.fid, FTS_TEXT, "議事録"), "1");
	fts_folder_free(&fs);
	index_view_free(&v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_index_and_match, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lazy_stale_and_limits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_uidvalidity_change_drops_rows, setup, teardown),
		cmocka_unit_test_setup_teardown(test_prune_folders_gone, setup, teardown),
		cmocka_unit_test_setup_teardown(test_big_message_is_incomplete, setup, teardown),
		cmocka_unit_test(test_needle_exactness),
		cmocka_unit_test_setup_teardown(test_damaged_file_and_clear, setup, teardown),
	};

	return cmocka_run_group_tests_name("fts", tests, NULL, NULL);
}
