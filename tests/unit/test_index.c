/* The per-account mail index against a real Maildir in a temporary
 * directory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lib/fsutil.h"
#include "store/index.h"
#include "store/index_private.h"	/* idx_exec: one transaction for many subscriptions */
#include "store/maildir.h"

#include "index_fixture.h"

static struct index_mailbox get(struct fixture *f, const char *name)
{
	struct index_mailbox m;

	assert_int_equal(mail_index_mailbox_get(f->idx, name, &m), 1);
	return m;
}

static void test_default_folders(void **state)
{
	struct fixture *f = *state;
	struct index_mailbox m = get(f, "inbox");

	assert_string_equal(m.name, "INBOX");
	m = get(f, "Sent");
	assert_string_equal(m.special_use, "\\Sent");
	m = get(f, "Junk");
	assert_string_equal(m.special_use, "\\Junk");
	assert_int_equal(mail_index_mailbox_get(f->idx, "Nope", &m), 0);
}

static void test_sync_assigns_uids_in_order(void **state)
{
	struct fixture *f = *state;
	struct index_mailbox m = get(f, "INBOX");
	struct index_view v;
	char path[512];
	struct stat st;

	deliver(f->root, "Subject: one\r\n\r\n1\r\n");
	deliver(f->root, "Subject: two\r\n\r\n2\r\n");
	assert_int_equal(mail_index_sync(f->idx, &m, &v), 0);
	assert_int_equal(v.count, 2);
	assert_int_equal(v.msgs[0].uid, 1);
	assert_int_equal(v.msgs[1].uid, 2);
	assert_true(v.msgs[0].recent);
	assert_int_equal(v.uidnext, 3);
	/* moved to cur/ with an empty info part */
	assert_int_equal(mail_index_msg_path(&m, &v.msgs[1], path, sizeof(path)), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_non_null(strstr(v.msgs[1].file, ":2,"));
	index_view_free(&v);

	/* a second sync changes nothing; the messages stay recent until a
	 * read-write session claims them */
	assert_int_equal(mail_index_sync(f->idx, &m, &v), 0);
	assert_int_equal(v.count, 2);
	assert_true(v.msgs[0].recent && v.msgs[1].recent);
	assert_int_equal(mail_index_recent_claim(&m, v.uidnext), 1);
	index_view_free(&v);
	assert_int_equal(mail_index_sync(f->idx, &m, &v), 0);
	assert_false(v.msgs[0].recent || v.msgs[1].recent);
	assert_int_equal(mail_index_recent_claim(&m, v.uidnext), 3);
	index_view_free(&v);
}

/* A first sync of a folder whose many files are all in new/ (a Maildir
 * copied in): new/ and cur/ change places at once (the files keep their
 * names and inodes, cur/ is the former new/), every message is recent and
 * numbered in delivery order, flags rename a file as usual, and a later
 * delivery is moved on its own. */
static void test_first_sync_exchanges_new_and_cur(void **state)
{
	struct fixture *f = *state;
	struct index_mailbox m = get(f, "INBOX");
	struct index_view v;
	char path[512], body[64], line[64];
	struct stat before, after, st;
	enum { N = 100 };
	FILE *fp;

	for (int i = 0; i < N; i++) {
		snprintf(body, sizeof(body), "Subject: %d\r\n\r\n%d\r\n", i, i);
		deliver(f->root, body);
	}
	snprintf(path, sizeof(path), "%s/new", f->root);
	assert_int_equal(stat(path, &before), 0);
	assert_int_equal(mail_index_sync(f->idx, &m, &v), 0);
	assert_int_equal(v.count, N);
	snprintf(path, sizeof(path), "%s/cur", f->root);
	assert_int_equal(stat(path, &after), 0);
	assert_true(after.st_ino == before.st_ino);	/* the former new/ */
	for (int i = 0; i < N; i++) {
		assert_int_equal(v.msgs[i].uid, (uint32_t)i + 1);
		assert_true(v.msgs[i].recent);
		assert_null(strchr(v.msgs[i].file, ':'));
		assert_int_equal(mail_index_msg_path(&m, &v.msgs[i], path, sizeof(path)), 0);
		assert_non_null(fp = fopen(path, "r"));
		assert_non_null(fgets(line, sizeof(line), fp));
		fclose(fp);
		snprintf(body, sizeof(body), "Subject: %d\r\n", i);
		assert_string_equal(line, body);
	}
	snprintf(path, sizeof(path), "%s/new", f->root);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_nlink, 2);	/* empty */
	assert_int_equal(mail_index_set_flags(f->idx, &m, &v.msgs[7], INDEX_FLAG_SEEN, ""), 0);
	assert_non_null(strstr(v.msgs[7].file, ":2,S"));
	index_view_free(&v);

	deliver(f->root, "Subject: later\r\n\r\nx\r\n");
	store_changed(f->root);
	assert_int_equal(mail_index_sync(f->idx, &m, &v), 0);
	assert_int_equal(v.count, N + 1);
	assert_int_equal(v.msgs[N].uid, N + 1);
	assert_non_null(strstr(v.msgs[N].file, ":2,"));
	assert_int_equal(v.msgs[7].flags, INDEX_FLAG_SEEN);
	assert_null(strchr(v.msgs[8].file, ':'));
	index_view_free(&v);
}

static void test_flags_rename_file_and_bump_modseq(void **state)
{
	struct fixture *f = *state;
	struct index_mailbox m = get(f, "INBOX");
	struct index_view v;
	uint64_t before;

	deliver(f->root, "Subject: f\r\n\r\nx\r\n");
	assert_int_equal(mail_index_sync(f->idx, &m, &v), 0);
	before = v.msgs[0].modseq;
	assert_int_equal(mail_index_set_flags(f->idx, &m, &v.msgs[0], INDEX_FLAG_SEEN | INDEX_FLAG_FLAGGED,
					      "$Junk"), 0);
	assert_true(v.msgs[0].modseq > before);
	assert_non_null(strstr(v.msgs[0].file, ":2,FS"));
	index_view_free(&v);
	assert_int_equal(mail_index_sync(f->idx, &m, &v), 0);
	assert_int_equal(v.msgs[0].flags, INDEX_FLAG_SEEN | INDEX_FLAG_FLAGGED);
	assert_string_equal(v.msgs[0].keywords, "$Junk");
	index_view_free(&v);
}

/* Syncs are served from the message cache while nothing changed; every kind
 * of change must still show at the next sync: flags set through the index,
 * APPEND, a delivery into new/, flags changed and files removed by another
 * program, a change reported with store_changed. */
static void test_cache_sees_every_change(void **state)
{
	struct fixture *f = *state;
	struct index_mailbox m = get(f, "INBOX");
	struct maildir_msg msg = { .prefix = "", .prefix_len = 0, .body = "Subject: a\r\n\r\na\r\n",
				   .body_fd = -1, .body_len = 17 };
	struct index_view v;
	char from[512], to[600];
	const char *error;
	uint32_t uid;

	deliver(f->root, "Subject: one\r\n\r\n1\r\n");
	deliver(f->root, "Subject: two\r\n\r\n2\r\n");
	assert_int_equal(mail_index_sync(f->idx, &m, &v), 0);
	assert_int_equal(v.count, 2);
	mail_index_recent_claim(&m, v.uidnext);
	index_view_free(&v);

	/* served from the cache: same content, nothing recent once claimed */
	assert_int_equal(mail_index_sync(f->idx, &m, &v), 0);
	assert_int_equal(v.count, 2);
	assert_false(v.msgs[1].recent);
	assert_int_equal(v.uidnext, 3);

	/* flags through the index */
	assert_int_equal(mail_index_set_flags(f->idx, &m, &v.msgs[0], INDEX_FLAG_SEEN, NULL), 0);
	index_view_free(&v);
	assert_int_equal(mail_index_sync(f->idx, &m, &v), 0);
	assert_int_equal(v.msgs[0].flags, INDEX_FLAG_SEEN);
	assert_non_null(strstr(v.msgs[0].file, ":2,S"));
	assert_int_equal(v.highestmodseq, m.highestmodseq);
	index_view_free(&v);

	/* APPEND */
	assert_int_equal(mail_index_append(f->idx, &m, &msg, INDEX_FLAG_DRAFT, "", 0, &uid, &error), 0);
	assert_int_equal(uid, 3);
	assert_int_equal(mail_index_sync(f->idx, &m, &v), 0);
	assert_int_equal(v.count, 3);
	assert_int_equal(v.msgs[2].uid, 3);
	assert_int_equal(v.msgs[2].flags, INDEX_FLAG_DRAFT);
	assert_int_equal(v.uidnext, 4);

	/* another program flags a message in its file name */
	snprintf(from, sizeof(from), "%s/cur/%s", f->root, v.msgs[1].file);
	snprintf(to, sizeof(to), "%sF", from);
	assert_int_equal(rename(from, to), 0);
	index_view_free(&v);
	assert_int_equal(mail_index_sync(f->idx, &m, &v), 0);
	assert_int_equal(v.msgs[1].flags, INDEX_FLAG_FLAGGED);

	/* ... and removes one */
	snprintf(from, sizeof(from), "%s/cur/%s", f->root, v.msgs[0].file);
	assert_int_equal(unlink(from), 0);
	index_view_free(&v);
	assert_int_equal(mail_index_sync(f->idx, &m, &v), 0);
	assert_int_equal(v.count, 2);
	assert_int_equal(v.msgs[0].uid, 2);
	index_view_free(&v);

	/* a delivery */
	deliver(f->root, "Subject: three\r\n\r\n3\r\n");
	assert_int_equal(mail_index_sync(f->idx, &m, &v), 0);
	assert_int_equal(v.count, 3);
	assert_int_equal(v.msgs[2].uid, 4);
	assert_true(v.msgs[2].recent);
	index_view_free(&v);

	/* a pooled handle sees the same */
	{
		char err[256];
		struct mail_index *h = mail_index_acquire(f->root, err, sizeof(err));
		struct mail_index *h2;

		assert_non_null(h);
		assert_int_equal(mail_index_sync(h, &m, &v), 0);
		assert_int_equal(v.count, 3);
		index_view_free(&v);
		mail_index_release(h);
		h2 = mail_index_acquire(f->root, err, sizeof(err));
		assert_ptr_equal(h2, h);	/* reused, not reopened */
		mail_index_release(h2);
	}
}

/* mail_index_sync_since tells what changed since a version: only the rows
 * changed and the UIDs gone, whoever made the change. */
static void test_sync_since_tells_only_changes(void **state)
{
	struct fixture *f = *state;
	struct index_mailbox m = get(f, "INBOX");
	struct index_changes ch;
	struct index_view v;
	uint32_t want[] = { 2, 3, 99 };
	char path[512];
	uint64_t ver;

	for (int i = 0; i < 5; i++)
		deliver(f->root, "Subject: s\r\n\r\nx\r\n");
	assert_int_equal(mail_index_sync_since(f->idx, &m, 0, 0, &ch), 0);
	assert_true(ch.full);
	assert_int_equal(ch.view.count, 5);
	ver = ch.view.version;
	assert_true(ver != 0);
	index_changes_free(&ch);

	/* nothing changed: nothing told */
	assert_int_equal(mail_index_sync_since(f->idx, &m, ver, 5, &ch), 0);
	assert_false(ch.full);
	assert_int_equal(ch.view.count, 0);
	assert_int_equal(ch.ngone, 0);
	assert_true(ch.view.version == ver);
	index_changes_free(&ch);

	/* a flag change: that row */
	assert_int_equal(mail_index_sync(f->idx, &m, &v), 0);
	assert_int_equal(mail_index_set_flags(f->idx, &m, &v.msgs[2], INDEX_FLAG_SEEN, NULL), 0);
	assert_int_equal(mail_index_sync_since(f->idx, &m, ver, 5, &ch), 0);
	assert_false(ch.full);
	assert_int_equal(ch.view.count, 1);
	assert_int_equal(ch.view.msgs[0].uid, 3);
	assert_int_equal(ch.view.msgs[0].flags, INDEX_FLAG_SEEN);
	assert_true(ch.view.version > ver);
	ver = ch.view.version;
	index_changes_free(&ch);

	/* an expunge through the index: gone */
	assert_int_equal(mail_index_expunge(f->idx, &m, &v.msgs[0], 1), 0);
	assert_int_equal(mail_index_sync_since(f->idx, &m, ver, 5, &ch), 0);
	assert_false(ch.full);
	assert_int_equal(ch.ngone, 1);
	assert_int_equal(ch.gone[0], 1);
	assert_int_equal(ch.view.count, 0);
	ver = ch.view.version;
	index_changes_free(&ch);

	/* a removal behind the index's back, and a delivery */
	assert_int_equal(mail_index_msg_path(&m, &v.msgs[4], path, sizeof(path)), 0);
	assert_int_equal(unlink(path), 0);
	deliver(f->root, "Subject: t\r\n\r\ny\r\n");
	assert_int_equal(mail_index_sync_since(f->idx, &m, ver, 5, &ch), 0);
	assert_false(ch.full);
	assert_int_equal(ch.ngone, 1);
	assert_int_equal(ch.gone[0], 5);
	assert_int_equal(ch.view.count, 1);
	assert_int_equal(ch.view.msgs[0].uid, 6);
	assert_true(ch.view.msgs[0].recent);
	index_changes_free(&ch);

	/* a version it cannot tell from: the whole view */
	assert_int_equal(mail_index_sync_since(f->idx, &m, UINT64_MAX, 5, &ch), 0);
	assert_true(ch.full);
	assert_int_equal(ch.view.count, 4);
	index_changes_free(&ch);

	/* rows by UID, those gone left out */
	index_view_free(&v);
	assert_int_equal(mail_index_rows(f->idx, &m, want, 3, &v), 0);
	assert_int_equal(v.count, 2);
	assert_int_equal(v.msgs[0].uid, 2);
	assert_int_equal(v.msgs[1].uid, 3);
	assert_int_equal(v.msgs[1].flags, INDEX_FLAG_SEEN);
	index_view_free(&v);
}

static void test_external_removal_is_an_expunge(void **state)
{
	struct fixture *f = *state;
	struct index_mailbox m = get(f, "INBOX");
	struct index_view v;
	char path[512];

	deliver(f->root, "a\r\n");
	deliver(f->root, "b\r\n");
	assert_int_equal(mail_index_sync(f->idx, &m, &v), 0);
	assert_int_equal(mail_index_msg_path(&m, &v.msgs[0], path, sizeof(path)), 0);
	index_view_free(&v);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(mail_index_sync(f->idx, &m, &v), 0);
	assert_int_equal(v.count, 1);
	assert_int_equal(v.msgs[0].uid, 2);
	index_view_free(&v);
}

/* A full sync of many files whose names share their start (the disk
 * entries are found by a hash of the name): every row keeps its UID and
 * file, a removed file is gone, a renamed one has its new flags, new files
 * take the next UIDs, and the view is by UID. */
static void test_full_sync_many_files(void **state)
{
	struct fixture *f = *state;
	struct index_mailbox m = get(f, "INBOX");
	struct index_view v, w;
	char path[512], to[600], body[64];
	enum { N = 600 };

	for (int i = 0; i < N; i++) {
		snprintf(body, sizeof(body), "Subject: %d\r\n\r\n%d\r\n", i, i);
		deliver(f->root, body);
	}
	assert_int_equal(mail_index_sync(f->idx, &m, &v), 0);
	assert_int_equal(v.count, N);
	assert_int_equal(mail_index_msg_path(&m, &v.msgs[99], path, sizeof(path)), 0);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(mail_index_msg_path(&m, &v.msgs[199], path, sizeof(path)), 0);
	/* as a Maildir tool marks it read (a name without info gets one:
	 * files all in new/ change directory with their names) */
	snprintf(to, sizeof(to), "%s%s", path, strstr(path, ":2,") != NULL ? "S" : ":2,S");
	assert_int_equal(rename(path, to), 0);
	deliver(f->root, "Subject: new 1\r\n\r\nx\r\n");
	deliver(f->root, "Subject: new 2\r\n\r\ny\r\n");
	store_changed(f->root);
	assert_int_equal(mail_index_sync(f->idx, &m, &w), 0);
	assert_int_equal(w.count, N + 1);
	for (size_t i = 0, j = 0; i < N; i++) {
		if (i == 99)
			continue;
		assert_int_equal(w.msgs[j].uid, v.msgs[i].uid);
		if (i == 199) {
			assert_true((w.msgs[j].flags & INDEX_FLAG_SEEN) != 0);
			assert_true(w.msgs[j].modseq > v.msgs[i].modseq);
		} else {
			assert_string_equal(w.msgs[j].file, v.msgs[i].file);
			assert_int_equal(w.msgs[j].modseq, v.msgs[i].modseq);
		}
		j++;
	}
	assert_int_equal(w.msgs[N - 1].uid, N + 1);
	assert_int_equal(w.msgs[N].uid, N + 2);
	for (size_t i = 1; i < w.count; i++)
		assert_true(w.msgs[i - 1].uid < w.msgs[i].uid);
	index_view_free(&v);
	index_view_free(&w);
}

static void test_copy_move_expunge(void **state)
{
	struct fixture *f = *state;
	struct index_mailbox in = get(f, "INBOX"), trash = get(f, "Trash");
	struct index_view v, t;
	const char *error;
	uint32_t uid;

	deliver(f->root, "Subject: c\r\n\r\nc\r\n");
	deliver(f->root, "Subject: d\r\n\r\nd\r\n");
	assert_int_equal(mail_index_sync(f->idx, &in, &v), 0);
	assert_int_equal(mail_index_copy(f->idx, &in, &v.msgs[0], &trash, false, &uid, &error), 0);
	assert_int_equal(uid, 1);
	assert_int_equal(mail_index_copy(f->idx, &in, &v.msgs[1], &trash, true, &uid, &error), 0);
	assert_int_equal(uid, 2);
	index_view_free(&v);
	assert_int_equal(mail_index_sync(f->idx, &in, &v), 0);
	assert_int_equal(v.count, 1);
	assert_int_equal(mail_index_sync(f->idx, &trash, &t), 0);
	assert_int_equal(t.count, 2);
	assert_int_equal(mail_index_expunge(f->idx, &trash, t.msgs, t.count), 0);
	index_view_free(&t);
	assert_int_equal(mail_index_sync(f->idx, &trash, &t), 0);
	assert_int_equal(t.count, 0);
	assert_int_equal(t.uidnext, 3);	/* UIDs are never reused */
	index_view_free(&t);
	index_view_free(&v);
}

/* Every way a message leaves a folder moves its HIGHESTMODSEQ (RFC 7162
 * 3.2, QRESYNC): EXPUNGE, MOVE, and a file removed behind the index's back,
 * found by the cached sync and by a full one. */
static void test_every_expunge_moves_modseq(void **state)
{
	struct fixture *f = *state;
	struct index_mailbox in = get(f, "INBOX"), trash = get(f, "Trash");
	struct index_view v;
	const char *error;
	char path[512];
	uint64_t hms;
	uint32_t uid;

	for (int i = 0; i < 5; i++)
		deliver(f->root, "Subject: x\r\n\r\nx\r\n");
	assert_int_equal(mail_index_sync(f->idx, &in, &v), 0);
	assert_int_equal(v.count, 5);
	hms = v.highestmodseq;

	/* removed by a Maildir tool, the folder's cache current */
	assert_int_equal(mail_index_msg_path(&in, &v.msgs[0], path, sizeof(path)), 0);
	index_view_free(&v);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(mail_index_sync(f->idx, &in, &v), 0);
	assert_int_equal(v.count, 4);
	assert_true(v.highestmodseq > hms);
	hms = v.highestmodseq;

	/* removed, and the cache gone too: the full sync */
	assert_int_equal(mail_index_msg_path(&in, &v.msgs[0], path, sizeof(path)), 0);
	index_view_free(&v);
	assert_int_equal(unlink(path), 0);
	mcache_invalidate(in.path);
	assert_int_equal(mail_index_sync(f->idx, &in, &v), 0);
	assert_int_equal(v.count, 3);
	assert_true(v.highestmodseq > hms);
	hms = v.highestmodseq;

	/* MOVE out of the folder */
	assert_int_equal(mail_index_copy(f->idx, &in, &v.msgs[0], &trash, true, &uid, &error), 0);
	index_view_free(&v);
	assert_int_equal(mail_index_sync(f->idx, &in, &v), 0);
	assert_int_equal(v.count, 2);
	assert_true(v.highestmodseq > hms);
	hms = v.highestmodseq;

	/* EXPUNGE */
	assert_int_equal(mail_index_expunge(f->idx, &in, v.msgs, 1), 0);
	index_view_free(&v);
	assert_int_equal(mail_index_sync(f->idx, &in, &v), 0);
	assert_int_equal(v.count, 1);
	assert_true(v.highestmodseq > hms);
	hms = v.highestmodseq;

	/* nothing changed: it stays */
	index_view_free(&v);
	assert_int_equal(mail_index_sync(f->idx, &in, &v), 0);
	assert_int_equal(v.highestmodseq, hms);
	index_view_free(&v);
}

/* MULTIAPPEND's store: the messages get consecutive UIDs in one go, with
 * their flags, keywords and dates, files in cur/ and nothing left in
 * tmp/; when one cannot be written, none of the batch stays. */
static void test_append_many(void **state)
{
	struct fixture *f = *state;
	struct index_mailbox in = get(f, "INBOX");
	struct maildir_msg msgs[3];
	struct index_append items[3];
	struct index_view v;
	const char *error = NULL;
	const char *text[3] = { "Subject: a\r\n\r\na\r\n", "Subject: b\r\n\r\nb\r\n", "Subject: c\r\n\r\nc\r\n" };
	char path[512];
	uint32_t uids[3];
	uint64_t hms;
	DIR *d;
	struct dirent *de;
	int intmp = 0;

	deliver(f->root, "Subject: first\r\n\r\nx\r\n");
	assert_int_equal(mail_index_sync(f->idx, &in, &v), 0);
	assert_int_equal(v.count, 1);
	hms = v.highestmodseq;
	index_view_free(&v);
	for (int i = 0; i < 3; i++) {
		memset(&msgs[i], 0, sizeof(msgs[i]));
		msgs[i].prefix = "";
		msgs[i].body = text[i];
		msgs[i].body_len = strlen(text[i]);
		msgs[i].body_fd = -1;
		items[i] = (struct index_append){ .msg = &msgs[i], .flags = i == 1 ? INDEX_FLAG_SEEN : 0,
						  .keywords = i == 2 ? "$Work" : NULL,
						  .internaldate = i == 0 ? 1700000000 : 0 };
	}
	assert_int_equal(mail_index_append_many(f->idx, &in, items, 3, uids, &error), 0);
	assert_int_equal(uids[0], 2);
	assert_int_equal(uids[1], 3);
	assert_int_equal(uids[2], 4);
	assert_int_equal(mail_index_sync(f->idx, &in, &v), 0);
	assert_int_equal(v.count, 4);
	assert_true(v.highestmodseq > hms);
	assert_int_equal(v.msgs[1].uid, 2);
	assert_int_equal(v.msgs[1].internaldate, 1700000000);
	assert_int_equal(v.msgs[2].flags, INDEX_FLAG_SEEN);
	assert_string_equal(v.msgs[3].keywords, "$Work");
	assert_int_equal(mail_index_msg_path(&in, &v.msgs[2], path, sizeof(path)), 0);
	assert_non_null(strstr(path, "/cur/"));
	assert_non_null(strstr(path, ":2,S"));
	index_view_free(&v);

	/* the second cannot be written (no body at all): the first is not
	 * kept either, nothing is numbered, tmp/ is empty */
	msgs[1].body = NULL;
	assert_int_equal(mail_index_append_many(f->idx, &in, items, 3, uids, &error), -1);
	assert_non_null(error);
	assert_int_equal(mail_index_sync(f->idx, &in, &v), 0);
	assert_int_equal(v.count, 4);
	assert_int_equal(v.uidnext, 5);
	index_view_free(&v);
	snprintf(path, sizeof(path), "%s/tmp", f->root);
	assert_non_null(d = opendir(path));
	while ((de = readdir(d)) != NULL)
		intmp += de->d_name[0] != '.';
	closedir(d);
	assert_int_equal(intmp, 0);
}

static void test_append_and_rebuild_keeps_uids(void **state)
{
	struct fixture *f = *state;
	struct index_mailbox m = get(f, "Drafts");
	struct maildir_msg msg = { .prefix = "", .prefix_len = 0, .body = "Subject: draft\r\n\r\nx\r\n",
				   .body_fd = -1, .body_len = 21 };
	struct index_view v;
	const char *error;
	char err[256];
	uint32_t uid;

	assert_int_equal(mail_index_append(f->idx, &m, &msg, INDEX_FLAG_DRAFT | INDEX_FLAG_SEEN, NULL,
					   1700000000, &uid, &error), 0);
	assert_int_equal(uid, 1);
	assert_int_equal(mail_index_sync(f->idx, &m, &v), 0);
	assert_int_equal(v.count, 1);
	assert_int_equal(v.msgs[0].internaldate, 1700000000);
	assert_int_equal(v.msgs[0].flags, INDEX_FLAG_DRAFT | INDEX_FLAG_SEEN);
	index_view_free(&v);

	/* reopening finds the same UIDs */
	mail_index_close(f->idx);
	f->idx = mail_index_open(f->root, err, sizeof(err));
	assert_non_null(f->idx);
	m = get(f, "Drafts");
	assert_int_equal(mail_index_sync(f->idx, &m, &v), 0);
	assert_int_equal(v.msgs[0].uid, 1);
	/* the internal date survives in the file's mtime */
	assert_int_equal(v.msgs[0].internaldate, 1700000000);
	index_view_free(&v);
}

static void test_folder_create_rename_delete(void **state)
{
	struct fixture *f = *state;
	struct index_mailbox m;
	const char *error;
	char path[512];
	struct stat st;

	assert_int_equal(mail_index_mailbox_create(f->idx, "Work/2026.11", &error), 0);
	m = get(f, "Work/2026.11");
	snprintf(path, sizeof(path), "%s/.Work.2026%%2E11/cur", f->root);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(mail_index_mailbox_create(f->idx, "Work/2026.11", &error), -1);
	assert_int_equal(mail_index_mailbox_create(f->idx, "bad*name", &error), -1);
	assert_int_equal(mail_index_mailbox_create(f->idx, "a//b", &error), -1);
	assert_int_equal(mail_index_mailbox_rename(f->idx, "Work/2026.11", "Archive/2026", &error), 0);
	assert_int_equal(mail_index_mailbox_get(f->idx, "Work/2026.11", &m), 0);
	m = get(f, "Archive/2026");
	assert_int_equal(mail_index_mailbox_delete(f->idx, "Archive/2026", &error), 0);
	assert_int_equal(mail_index_mailbox_get(f->idx, "Archive/2026", &m), 0);
	assert_int_equal(mail_index_mailbox_delete(f->idx, "INBOX", &error), -1);
}

static void count_name(const char *name, void *ctx)
{
	(void)name;
	(*(size_t *)ctx)++;
}

/* Subscriptions are names: kept over DELETE, possible before CREATE, not
 * made by CREATE, and bounded when no mailbox holds them. */
static void test_subscriptions(void **state)
{
	struct fixture *f = *state;
	struct index_mailbox m;
	const char *error;
	size_t before = 0, n = 0;
	char name[32];

	assert_int_equal(mail_index_subscriptions(f->idx, count_name, &before), 0);
	assert_int_equal(mail_index_mailbox_create(f->idx, "Work", &error), 0);
	m = get(f, "Work");
	assert_false(m.subscribed);
	assert_int_equal(mail_index_mailbox_subscribe(f->idx, "Work", true, &error), 0);
	assert_true(get(f, "Work").subscribed);
	assert_int_equal(mail_index_mailbox_delete(f->idx, "Work", &error), 0);
	assert_int_equal(mail_index_mailbox_subscribe(f->idx, "Later", true, &error), 0);
	assert_int_equal(mail_index_subscriptions(f->idx, count_name, &n), 0);
	assert_int_equal(n, before + 2);	/* Work (deleted) and Later (not made) */
	assert_int_equal(mail_index_mailbox_create(f->idx, "Later", &error), 0);
	assert_true(get(f, "Later").subscribed);
	assert_int_equal(mail_index_mailbox_subscribe(f->idx, "Work", false, &error), 0);
	n = 0;
	assert_int_equal(mail_index_subscriptions(f->idx, count_name, &n), 0);
	assert_int_equal(n, before + 1);
	/* "Later" stays in the table (subscribed before it existed): 9,999 more fill it */
	assert_int_equal(idx_exec(f->idx, "BEGIN"), 0);
	for (int i = 0; i < 9999; i++) {
		snprintf(name, sizeof(name), "gone%d", i);
		assert_int_equal(mail_index_mailbox_subscribe(f->idx, name, true, &error), 0);
	}
	assert_int_equal(idx_exec(f->idx, "COMMIT"), 0);
	assert_int_equal(mail_index_mailbox_subscribe(f->idx, "one-more", true, &error), -1);
	assert_non_null(strstr(error, "[LIMIT]"));
	/* an existing mailbox can still be subscribed */
	assert_int_equal(mail_index_mailbox_subscribe(f->idx, "Sent", true, &error), 0);
}

static void test_expire_trash(void **state)
{
	struct fixture *f = *state;
	char trash[512], inbox_new[512];
	unsigned count = 0;
	uint64_t freed;
	struct index_mailbox m = get(f, "Trash");
	struct index_view v;

	snprintf(trash, sizeof(trash), "%s/.Trash", f->root);
	deliver(trash, "Subject: old\r\n\r\nx\r\n");
	deliver(trash, "Subject: old2\r\n\r\ny\r\n");
	deliver(f->root, "Subject: keep\r\n\r\nz\r\n");
	/* Nothing is older than a minute ago. */
	freed = maildir_expire(trash, time(NULL) - 60, &count);
	assert_int_equal(count, 0);
	assert_int_equal(freed, 0);
	/* Everything put there before a cutoff in the future goes. */
	freed = maildir_expire(trash, time(NULL) + 5, &count);
	assert_int_equal(count, 2);
	assert_int_equal(freed, 19 + 20);
	assert_int_equal(mail_index_sync(f->idx, &m, &v), 0);
	assert_int_equal(v.count, 0);
	index_view_free(&v);
	/* the INBOX is not touched */
	snprintf(inbox_new, sizeof(inbox_new), "%s/new", f->root);
	assert_int_equal(rmdir(inbox_new), -1);
}

/* n messages written into new/ as another program would: no fsync, quick. */
static void write_raw(const char *root, int n)
{
	char path[512], body[64];

	for (int i = 0; i < n; i++) {
		FILE *fp;

		snprintf(path, sizeof(path), "%s/new/%d.M%dP1.test", root, 1700000000 + i, i);
		snprintf(body, sizeof(body), "Subject: %d\r\n\r\n%d\r\n", i, i);
		assert_non_null(fp = fopen(path, "w"));
		fputs(body, fp);
		fclose(fp);
	}
}

/* Many flag changes at once (more than one transaction's batch): each is
 * made, with its own MODSEQ, the files renamed, a file another program
 * removed meanwhile left out, and the cache and a fresh sync agree. */
static void test_set_flags_many(void **state)
{
	struct fixture *f = *state;
	struct index_mailbox m = get(f, "INBOX");
	struct index_view v, w;
	struct index_flag_change *ch;
	char path[512];
	uint64_t before;
	enum { N = 1100 };

	write_raw(f->root, N);
	assert_int_equal(mail_index_sync(f->idx, &m, &v), 0);
	assert_int_equal(v.count, N);
	before = m.highestmodseq;
	assert_int_equal(mail_index_msg_path(&m, &v.msgs[500], path, sizeof(path)), 0);
	assert_int_equal(unlink(path), 0);
	ch = calloc(N, sizeof(*ch));
	assert_non_null(ch);
	for (int i = 0; i < N; i++) {
		ch[i].msg = &v.msgs[i];
		ch[i].flags = INDEX_FLAG_SEEN;
		ch[i].keywords = i == 7 ? "$Work" : NULL;
	}
	assert_int_equal(mail_index_set_flags_many(f->idx, &m, ch, N), 0);
	for (int i = 0; i < N; i++) {
		assert_int_equal(ch[i].result, i == 500 ? -1 : 0);
		if (i == 500)
			continue;
		assert_int_equal(v.msgs[i].modseq, before + (uint64_t)i + (i > 500 ? 0 : 1));
		assert_non_null(strstr(v.msgs[i].file, ":2,S"));
		assert_int_equal(mail_index_msg_path(&m, &v.msgs[i], path, sizeof(path)), 0);
		assert_int_equal(access(path, F_OK), 0);
	}
	assert_int_equal(m.highestmodseq, before + N - 1);
	free(ch);
	assert_int_equal(mail_index_sync(f->idx, &m, &w), 0);
	assert_int_equal(w.count, N - 1);
	for (size_t i = 0; i < w.count; i++) {
		assert_int_equal(w.msgs[i].flags, INDEX_FLAG_SEEN);
		assert_string_equal(w.msgs[i].keywords, i == 7 ? "$Work" : "");
	}
	index_view_free(&w);
	index_view_free(&v);
}

/* Many messages moved at once (more than one batch): UIDs in order in the
 * target, the first one whose file is gone stops it with EXPUNGEISSUED and
 * those before it stay moved; a copy of the rest then gets the next UIDs. */
static void test_copy_many(void **state)
{
	struct fixture *f = *state;
	struct index_mailbox in = get(f, "INBOX"), trash = get(f, "Trash");
	struct index_view v, t;
	const struct index_msg **msgs;
	uint32_t *uids;
	const char *error = NULL;
	char path[512];
	enum { N = 1100, GONE = 1050 };

	write_raw(f->root, N);
	assert_int_equal(mail_index_sync(f->idx, &in, &v), 0);
	assert_int_equal(v.count, N);
	assert_non_null(msgs = calloc(N, sizeof(*msgs)));
	assert_non_null(uids = calloc(N, sizeof(*uids)));
	for (int i = 0; i < N; i++)
		msgs[i] = &v.msgs[i];
	assert_int_equal(mail_index_msg_path(&in, &v.msgs[GONE], path, sizeof(path)), 0);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(mail_index_copy_many(f->idx, &in, msgs, N, &trash, true, uids, &error), GONE);
	assert_non_null(strstr(error, "EXPUNGEISSUED"));
	for (int i = 0; i < GONE; i++)
		assert_int_equal(uids[i], (uint32_t)i + 1);
	assert_int_equal(mail_index_sync(f->idx, &trash, &t), 0);
	assert_int_equal(t.count, GONE);
	assert_int_equal(t.msgs[GONE - 1].uid, GONE);
	index_view_free(&t);
	error = NULL;
	assert_int_equal(mail_index_copy_many(f->idx, &in, msgs + GONE + 1, N - GONE - 1, &trash, false,
					      uids, &error), N - GONE - 1);
	assert_null(error);
	assert_int_equal(uids[0], GONE + 1);
	index_view_free(&v);
	assert_int_equal(mail_index_sync(f->idx, &in, &v), 0);
	assert_int_equal(v.count, N - GONE - 1);	/* the moved and the vanished one are gone */
	assert_int_equal(mail_index_sync(f->idx, &trash, &t), 0);
	assert_int_equal(t.count, N - 1);
	index_view_free(&t);
	index_view_free(&v);
	free(msgs);
	free(uids);
}

/* Delivery order from Maildir names: microseconds compared as numbers
 * (as text "M95000" came after "M120000"), then the count; other names by
 * their seconds; nonsense bounded. */
static void test_name_order(void **state)
{
	int64_t t1, t2;
	uint64_t q1, q2;

	(void)state;
	idx_name_order("1700000000.M95000P12Q3.host,S=10", &t1, &q1);
	idx_name_order("1700000000.M120000P12Q4.host,S=10", &t2, &q2);
	assert_true(t1 < t2);
	assert_int_equal(t1, 1700000000LL * 1000000 + 95000);
	assert_int_equal(q1, 3);
	idx_name_order("1700000000.M5P12Q10.h", &t1, &q1);
	idx_name_order("1700000000.M5P12Q9.h", &t2, &q2);
	assert_int_equal(t1, t2);
	assert_true(q2 < q1);
	idx_name_order("1700000001.12345_1.host", &t1, &q1);
	assert_int_equal(t1, 1700000001LL * 1000000);
	assert_int_equal(q1, 0);
	idx_name_order("99999999999999999999999.M1P1Q1.h", &t1, &q1);
	assert_true(t1 > 0);
	idx_name_order("-5.M1P1Q1.h", &t1, &q1);
	assert_true(t1 >= 0);
	idx_name_order("junk", &t1, &q1);
	assert_int_equal(t1, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_default_folders, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sync_assigns_uids_in_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_flags_rename_file_and_bump_modseq, setup, teardown),
		cmocka_unit_test_setup_teardown(test_external_removal_is_an_expunge, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cache_sees_every_change, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sync_since_tells_only_changes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_copy_move_expunge, setup, teardown),
		cmocka_unit_test_setup_teardown(test_every_expunge_moves_modseq, setup, teardown),
		cmocka_unit_test_setup_teardown(test_append_many, setup, teardown),
		cmocka_unit_test_setup_teardown(test_append_and_rebuild_keeps_uids, setup, teardown),
		cmocka_unit_test_setup_teardown(test_folder_create_rename_delete, setup, teardown),
		cmocka_unit_test_setup_teardown(test_full_sync_many_files, setup, teardown),
		cmocka_unit_test_setup_teardown(test_first_sync_exchanges_new_and_cur, setup, teardown),
		cmocka_unit_test_setup_teardown(test_subscriptions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_expire_trash, setup, teardown),
		cmocka_unit_test_setup_teardown(test_set_flags_many, setup, teardown),
		cmocka_unit_test_setup_teardown(test_copy_many, setup, teardown),
		cmocka_unit_test(test_name_order),
	};

	return cmocka_run_group_tests_name("index", tests, NULL, NULL);
}
