/* Unit tests for the mail user's operations (src/ops/ops_mail*.c) that
 * need no daemon: only a mail user acts, uploads are bounded (size, total,
 * count), expire, and belong to their account; the address book's bounds
 * and its vCard import (good cards kept, bad ones reported by number,
 * addresses not doubled); a stored draft takes its uploads over. Sending
 * and drafts are covered by tests/integration/test_webmail_write.py
 * against the daemon. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "ops/ops_mail_write.h"
#include "ops_fixture.h"

#define PW "Corr3ct-Horse"

static int setup(void **state)
{
	struct fixture *f = ops_fixture_new("/tmp/yubin-test-opsmail-XXXXXX", true, "b.example");
	struct ops_account_new n = { .address = "u@a.example", .password = PW, .memo = "" };
	struct ops_account_new n2 = { .address = "v@a.example", .password = PW, .memo = "" };
	struct dir_account a;
	struct ops_error err;

	if (f == NULL || ops_account_add(&f->o, &f->cli, &n, &a, &err) != 0 ||
	    ops_account_add(&f->o, &f->cli, &n2, &a, &err) != 0)
		return -1;
	*state = f;
	return 0;
}

static void test_only_a_mail_user(void **state)
{
	struct fixture *f = *state;
	struct ops_upload u;
	struct ops_error err;
	unsigned total;

	assert_int_equal(ops_upload_add(&f->o, &f->admin, "a.txt", "text/plain", "x", 1, 100, 1000, &u, &err), -1);
	assert_string_equal(err.code, "forbidden");
	assert_int_equal(ops_contact_list(&f->o, &f->dadmin, NULL, 0, 0, NULL, NULL, &total, &err), -1);
	assert_string_equal(err.code, "forbidden");
	assert_int_equal(ops_contact_list(&f->o, &f->token, NULL, 0, 0, NULL, NULL, &total, &err), -1);
}

static void test_uploads_bounded(void **state)
{
	struct fixture *f = *state;
	struct ops_actor v;
	struct ops_upload u, u2, got;
	struct ops_error err;

	ops_actor_init(&v, OPS_ACTOR_USER, "v@a.example", "198.51.100.2");
	assert_int_equal(ops_upload_add(&f->o, &f->user, "big", NULL, "0123456789", 10, 9, 1000, &u, &err), -1);
	assert_string_equal(err.code, "too_large");
	assert_int_equal(ops_upload_add(&f->o, &f->user, "", NULL, "x", 1, 9, 1000, &u, &err), -1);
	assert_string_equal(err.code, "invalid_filename");
	assert_int_equal(ops_upload_add(&f->o, &f->user, "a/b\x01.txt", "Text/Plain; charset=utf-8", "abcdefgh", 8,
					9, 1000, &u, &err), 0);
	assert_string_equal(u.filename, "a_b .txt");
	assert_string_equal(u.content_type, "text/plain");
	/* the account's uploads together: at most twice the size limit */
	assert_int_equal(ops_upload_add(&f->o, &f->user, "c", "bad type", "abcdefgh", 8, 9, 1000, &u2, &err), 0);
	assert_string_equal(u2.content_type, "application/octet-stream");
	assert_int_equal(ops_upload_add(&f->o, &f->user, "d", NULL, "abc", 3, 9, 1000, &got, &err), -1);
	assert_string_equal(err.code, "too_large");
	/* another account cannot read or remove them */
	assert_int_equal(ops_upload_read(&f->o, &v, u.id, 1000, &got, &err), -1);
	assert_string_equal(err.code, "not_found");
	assert_int_equal(ops_upload_del(&f->o, &v, u.id, &err), -1);
	assert_int_equal(ops_upload_read(&f->o, &f->user, u.id, 1000, &got, &err), 0);
	assert_int_equal(got.size, 8);
	assert_memory_equal(got.data, "abcdefgh", 8);
	free(got.data);
	assert_int_equal(ops_upload_read(&f->o, &f->user, "../../etc/passwd", 1000, &got, &err), -1);
	/* a day later they are gone, and room is made again */
	assert_int_equal(ops_upload_read(&f->o, &f->user, u.id, 1000 + OPS_UPLOAD_LIFETIME, &got, &err), -1);
	assert_int_equal(ops_upload_add(&f->o, &f->user, "e", NULL, "abcdefgh", 8, 9, 1000 + OPS_UPLOAD_LIFETIME,
					&got, &err), 0);
	assert_int_equal(ops_upload_del(&f->o, &f->user, got.id, &err), 0);
	assert_int_equal(ops_upload_del(&f->o, &f->user, got.id, &err), -1);
}

/* An upload a stored draft holds no longer counts towards the upload cap:
 * the draft took it over (and a draft continued from Drafts names its
 * parts, never the upload). A failed save keeps it. */
static void test_draft_takes_its_uploads(void **state)
{
	struct fixture *f = *state;
	struct ops_upload u1, u2, got;
	struct ops_mail_att atts[2];
	struct ops_mail_draft d;
	struct ops_mail_env env = { "mx.b.example", 1 << 20 };
	struct ops_mail_saved saved;
	struct ops_error err;
	int64_t now = (int64_t)time(NULL);

	assert_int_equal(ops_upload_add(&f->o, &f->user, "a.txt", "text/plain", "abcdefgh", 8, 9, now, &u1, &err), 0);
	assert_int_equal(ops_upload_add(&f->o, &f->user, "b.txt", "text/plain", "ijklmnop", 8, 9, now, &u2, &err), 0);
	assert_int_equal(ops_upload_add(&f->o, &f->user, "c.txt", NULL, "xyz", 3, 9, now, &got, &err), -1);
	assert_string_equal(err.code, "too_large");	/* 16 of 18 bytes waiting */
	memset(&d, 0, sizeof(d));
	memset(atts, 0, sizeof(atts));
	atts[0].kind = atts[1].kind = OPS_ATT_UPLOAD;
	strcpy(atts[0].upload, u1.id);
	strcpy(atts[1].upload, u2.id);
	d.subject = "with files";
	d.text = "see the files";
	d.atts = atts;
	d.natts = 2;
	/* a save that fails (the draft it replaces is not there) keeps them */
	assert_int_equal(ops_mail_draft_save(&f->o, &f->user, &d, 4242, &env, &saved, &err), -1);
	assert_string_equal(err.code, "not_found");
	assert_int_equal(ops_upload_read(&f->o, &f->user, u1.id, now, &got, &err), 0);
	free(got.data);
	assert_int_equal(ops_mail_draft_save(&f->o, &f->user, &d, 0, &env, &saved, &err), 0);
	assert_string_equal(saved.folder, "Drafts");
	assert_int_equal(ops_upload_read(&f->o, &f->user, u1.id, now, &got, &err), -1);
	assert_int_equal(ops_upload_read(&f->o, &f->user, u2.id, now, &got, &err), -1);
	/* room again: the cap counts only what no message holds */
	assert_int_equal(ops_upload_add(&f->o, &f->user, "c.txt", NULL, "abcdefgh", 8, 9, now, &got, &err), 0);
	assert_int_equal(ops_upload_add(&f->o, &f->user, "d.txt", NULL, "abcdefgh", 8, 9, now, &got, &err), 0);
}

static void no_bad(unsigned number, const char *reason, void *ctx)
{
	char *out = ctx;

	snprintf(out + strlen(out), 512 - strlen(out), "%u:%s;", number, reason);
}

static void count_cb(const struct ops_contact *c, void *ctx)
{
	(*(unsigned *)ctx)++;
	assert_true(c->card.nemails > 0);
}

static void test_import_and_bounds(void **state)
{
	struct fixture *f = *state;
	const char *cards = "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:A\r\nEMAIL:a@x.test\r\nEND:VCARD\r\n"
			    "BEGIN:VCARD\r\nVERSION:4.0\r\nFN:B\r\nEND:VCARD\r\n"
			    "BEGIN:VCARD\r\nVERSION:4.0\r\nFN:A again\r\nEMAIL:A@X.TEST\r\nEND:VCARD\r\n";
	char bad[512] = "";
	unsigned imported, n = 0, total;
	struct ops_error err;
	struct vcard c;
	int64_t id;

	assert_int_equal(ops_contact_import(&f->o, &f->user, cards, strlen(cards), &imported, no_bad, bad, &err), 0);
	assert_int_equal(imported, 1);
	assert_string_equal(bad, "2:no e-mail address;3:already in the address book;");
	assert_int_equal(ops_contact_list(&f->o, &f->user, NULL, 0, 0, count_cb, &n, &total, &err), 0);
	assert_int_equal(n, 1);
	assert_int_equal(ops_contact_import(&f->o, &f->user, "x", 1, &imported, no_bad, bad, &err), -1);
	assert_string_equal(err.code, "invalid_vcard");
	memset(&c, 0, sizeof(c));
	snprintf(c.name, sizeof(c.name), "no address");
	assert_int_equal(ops_contact_put(&f->o, &f->user, 0, &c, &id, &err), -1);
	c.nemails = 1;
	snprintf(c.emails[0].address, sizeof(c.emails[0].address), "x y@z");
	assert_int_equal(ops_contact_put(&f->o, &f->user, 0, &c, &id, &err), -1);
	assert_string_equal(err.code, "invalid_address");
	snprintf(c.emails[0].address, sizeof(c.emails[0].address), "new@x.test");
	assert_int_equal(ops_contact_put(&f->o, &f->user, 99, &c, &id, &err), -1);
	assert_string_equal(err.code, "not_found");
	assert_int_equal(ops_contact_del(&f->o, &f->user, 99, &err), -1);
	assert_string_equal(err.code, "not_found");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_only_a_mail_user, setup, teardown),
		cmocka_unit_test_setup_teardown(test_uploads_bounded, setup, teardown),
		cmocka_unit_test_setup_teardown(test_draft_takes_its_uploads, setup, teardown),
		cmocka_unit_test_setup_teardown(test_import_and_bounds, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
