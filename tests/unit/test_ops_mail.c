/* Unit tests for src/ops/ops_mail*.c: only a mail user opens its own
 * mailbox; folders in the reader's order with counts; the special folders
 * kept; the list's summary (decoded sender and subject) and order; flags
 * with a new MODSEQ; delete to Trash and from it; emptying Trash with the
 * quota given back; moves teaching the spam filter through the hook. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "ops_fixture.h"
#include "ops/ops_mail.h"
#include "store/quota.h"

#define PW "Secret-pass-123"

static int setup(void **state)
{
	struct fixture *f = ops_fixture_new("/tmp/yubin-test-ops-mail-XXXXXX", false, "a.example");
	struct ops_account_new n = { .address = "u@a.example", .password = PW, .memo = "", .quota_mb = 10 };
	struct dir_account a;
	struct ops_error err;

	if (f == NULL || ops_account_add(&f->o, &f->cli, &n, &a, &err) != 0)
		return -1;
	*state = f;
	return 0;
}

static uint32_t put(struct ops_mailbox *mb, const char *folder, const char *text)
{
	struct index_mailbox mbox;
	struct maildir_msg m = { "", 0, text, -1, strlen(text) };
	const char *error = NULL;
	uint32_t uid = 0;

	assert_int_equal(mail_index_mailbox_get(mb->idx, folder, &mbox), 1);
	assert_true(quota_reserve(mb->root, strlen(text), 0));
	assert_int_equal(mail_index_append(mb->idx, &mbox, &m, 0, "", 0, &uid, &error), 0);
	return uid;
}

static void test_only_the_user(void **state)
{
	struct fixture *f = *state;
	struct ops_mailbox mb;
	struct ops_error err;

	assert_int_equal(ops_mail_open(&f->o, &f->admin, &mb, &err), -1);
	assert_string_equal(err.code, "forbidden");
	assert_int_equal(ops_mail_open(&f->o, &f->token, &mb, &err), -1);
	assert_int_equal(ops_mail_open(&f->o, &f->cli, &mb, &err), -1);
	assert_int_equal(ops_mail_open(&f->o, &f->user, &mb, &err), 0);
	assert_string_equal(mb.address, "u@a.example");
	assert_int_equal(mb.quota_bytes, 10u << 20);
	ops_mail_close(&mb);
}

struct seen {
	char names[512];
};

static void folder_seen(const struct ops_mail_folder *fo, void *ctx)
{
	struct seen *s = ctx;

	snprintf(s->names + strlen(s->names), sizeof(s->names) - strlen(s->names), "%s:%s:%llu/%llu;",
		 fo->mbox->name, fo->role != NULL ? fo->role : "-", (unsigned long long)fo->unseen,
		 (unsigned long long)fo->total);
}

static void test_folders(void **state)
{
	struct fixture *f = *state;
	struct ops_mailbox mb;
	struct ops_error err;
	struct seen s = { "" };

	assert_int_equal(ops_mail_open(&f->o, &f->user, &mb, &err), 0);
	put(&mb, "INBOX", "Subject: a\r\n\r\nx\r\n");
	assert_int_equal(ops_mail_folder_create(&mb, "Projects", &err), 0);
	assert_int_equal(ops_mail_folder_create(&mb, "Projects", &err), -1);
	assert_string_equal(err.code, "exists");
	assert_int_equal(ops_mail_folder_create(&mb, "inbox/x", &err), -1);
	assert_string_equal(err.code, "invalid_name");
	assert_int_equal(ops_mail_folder_create(&mb, "a\nb", &err), -1);
	assert_int_equal(ops_mail_folder_create(&mb, "\xff", &err), -1);
	assert_int_equal(ops_mail_folders(&mb, folder_seen, &s, &err), 0);
	assert_string_equal(s.names, "INBOX:inbox:1/1;Drafts:drafts:0/0;Sent:sent:0/0;Junk:junk:0/0;"
				     "Trash:trash:0/0;Projects:-:0/0;");
	assert_int_equal(ops_mail_folder_rename(&mb, "Trash", "Bin", &err), -1);
	assert_string_equal(err.code, "forbidden");
	assert_int_equal(ops_mail_folder_delete(&mb, "INBOX", &err), -1);
	assert_string_equal(err.code, "forbidden");
	assert_int_equal(ops_mail_folder_rename(&mb, "Projects", "案件", &err), 0);
	assert_int_equal(ops_mail_folder_delete(&mb, "案件", &err), 0);
	assert_int_equal(ops_mail_folder_delete(&mb, "案件", &err), -1);
	assert_string_equal(err.code, "not_found");
	ops_mail_close(&mb);
}

static void test_summary(void **state)
{
	static const char h[] = "From: =?ISO-2022-JP?B?GyRCOzNFRBsoQg==?= <yamada@example.jp>\r\n"
				"To: Sato <sato@example.jp>, other@example.jp\r\n"
				"Subject: =?UTF-8?B?5pel5pys6Kqe?=\r\nDate: Mon, 30 Nov 2026 09:00:00 +0900\r\n"
				"Content-Type: multipart/mixed; boundary=x\r\n\r\nbody";
	struct ops_mail_summary s;

	memset(&s, 0, sizeof(s));
	ops_mail_summarize(h, sizeof(h) - 1, &s);
	assert_string_equal(s.from_name, "山田");
	assert_string_equal(s.from_addr, "yamada@example.jp");
	assert_string_equal(s.to_name, "Sato");
	assert_string_equal(s.to_addr, "sato@example.jp");
	assert_string_equal(s.subject, "日本語");
	assert_int_equal(s.date, 1795996800);	/* 2026-11-30T00:00:00Z */
	assert_true(s.attachment);
	memset(&s, 0, sizeof(s));
	ops_mail_summarize("Subject: plain\r\n\r\n", 18, &s);
	assert_string_equal(s.subject, "plain");
	assert_false(s.attachment);
	assert_string_equal(s.from_addr, "");
}

static int learned;

static void *learn_begin(const char *address, const char *src, const char *src_use, const char *dst,
			 const char *dst_use)
{
	return strcmp(dst_use, "\\Junk") == 0 ? &learned : NULL;
}

static int learn_add(void *batch, const char *path)
{
	learned++;
	return 0;
}

static void learn_drop(void *batch, int i)
{
}

static void learn_submit(void *batch)
{
}

static const struct ops_mail_learn learn = { learn_begin, learn_add, learn_drop, learn_submit };

static void test_list_flags_delete_empty(void **state)
{
	struct fixture *f = *state;
	struct ops_mailbox mb;
	struct ops_mail_page page;
	struct ops_error err;
	uint64_t used0, used1, freed;
	size_t n;
	uint32_t u1, u2, u3;

	assert_int_equal(ops_mail_open(&f->o, &f->user, &mb, &err), 0);
	mb.learn = &learn;
	u1 = put(&mb, "INBOX", "Subject: b\r\n\r\n1\r\n");
	u2 = put(&mb, "INBOX", "Subject: a\r\n\r\n22222222222222\r\n");
	u3 = put(&mb, "INBOX", "Subject: c\r\n\r\n3\r\n");
	assert_int_equal(ops_mail_list(&mb, "INBOX", OPS_MAIL_SORT_SUBJECT, false, 0, 2, &page, &err), 0);
	assert_int_equal(page.total, 3);
	assert_int_equal(page.count, 2);
	assert_string_equal(page.items[0].subject, "a");
	assert_string_equal(page.items[1].subject, "b");
	ops_mail_page_free(&page);
	assert_int_equal(ops_mail_list(&mb, "INBOX", OPS_MAIL_SORT_SIZE, true, 0, 1, &page, &err), 0);
	assert_int_equal(page.items[0].msg.uid, u2);
	ops_mail_page_free(&page);
	assert_int_equal(ops_mail_list(&mb, "Nope", OPS_MAIL_SORT_DATE, true, 0, 1, &page, &err), -1);
	assert_string_equal(err.code, "not_found");

	/* flags: a new MODSEQ */
	uint64_t modseq0 = 0;
	assert_int_equal(ops_mail_list(&mb, "INBOX", OPS_MAIL_SORT_DATE, false, 0, 10, &page, &err), 0);
	modseq0 = page.items[0].msg.modseq;
	ops_mail_page_free(&page);
	assert_int_equal(ops_mail_flags(&mb, "INBOX", &u1, 1, INDEX_FLAG_SEEN | INDEX_FLAG_FLAGGED, 0, &n, &err), 0);
	assert_int_equal(n, 1);
	assert_int_equal(ops_mail_flags(&mb, "INBOX", &u1, 1, INDEX_FLAG_SEEN, 0, &n, &err), 0);
	assert_int_equal(n, 0);	/* no change */
	assert_int_equal(ops_mail_list(&mb, "INBOX", OPS_MAIL_SORT_DATE, false, 0, 10, &page, &err), 0);
	assert_int_equal(page.items[0].msg.flags, INDEX_FLAG_SEEN | INDEX_FLAG_FLAGGED);
	assert_true(page.items[0].msg.modseq > modseq0);
	assert_int_equal(page.unseen, 2);
	ops_mail_page_free(&page);

	/* spam: the hook sees the message before the move */
	assert_int_equal(ops_mail_move(&mb, "INBOX", &u3, 1, "Junk", false, &n, &err), 0);
	assert_int_equal(n, 1);
	assert_int_equal(learned, 1);

	/* delete: to Trash (nothing freed), then empty Trash */
	used0 = ops_mail_usage(&mb);
	assert_int_equal(ops_mail_delete(&mb, "INBOX", &u2, 1, &n, &freed, &err), 0);
	assert_int_equal(n, 1);
	assert_int_equal(freed, 0);
	assert_int_equal(ops_mail_usage(&mb), used0);
	assert_int_equal(ops_mail_empty(&mb, "INBOX", &n, &freed, &err), -1);
	assert_string_equal(err.code, "forbidden");
	assert_int_equal(ops_mail_empty(&mb, "Trash", &n, &freed, &err), 0);
	assert_int_equal(n, 1);
	used1 = ops_mail_usage(&mb);
	assert_int_equal(used0 - used1, freed);
	assert_true(freed > 20);

	/* the sort-key cache follows the folder: "a" moved away, "c" gone to
	 * Junk, two delivered since the first sort by subject */
	put(&mb, "INBOX", "Subject: A0\r\nFrom: Zed <z@x.test>\r\n\r\n4\r\n");
	put(&mb, "INBOX", "Subject: c2\r\nFrom: amy@x.test\r\n\r\n5\r\n");
	assert_int_equal(ops_mail_list(&mb, "INBOX", OPS_MAIL_SORT_SUBJECT, false, 0, 10, &page, &err), 0);
	assert_int_equal(page.count, 3);
	assert_string_equal(page.items[0].subject, "A0");
	assert_string_equal(page.items[1].subject, "b");
	assert_string_equal(page.items[2].subject, "c2");
	ops_mail_page_free(&page);
	assert_int_equal(ops_mail_list(&mb, "INBOX", OPS_MAIL_SORT_FROM, true, 0, 10, &page, &err), 0);
	assert_string_equal(page.items[0].from_name, "Zed");
	assert_string_equal(page.items[1].from_addr, "amy@x.test");
	assert_int_equal(page.items[2].msg.uid, u1);
	ops_mail_page_free(&page);
	ops_mail_close(&mb);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_only_the_user, setup, teardown),
		cmocka_unit_test_setup_teardown(test_folders, setup, teardown),
		cmocka_unit_test(test_summary),
		cmocka_unit_test_setup_teardown(test_list_flags_delete_empty, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
