/* Messages in the index: sync with the Maildir, flags, expunge, append,
 * copy and move. */
#include "store/index_private.h"
#include "store/quota.h"
#include "lib/fsutil.h"
#include "lib/log.h"
#include "lib/str.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const struct {
	char letter;
	uint32_t flag;
} maildir_flags[] = {	/* ASCII order, as the Maildir spec wants */
	{ 'D', INDEX_FLAG_DRAFT }, { 'F', INDEX_FLAG_FLAGGED }, { 'R', INDEX_FLAG_ANSWERED },
	{ 'S', INDEX_FLAG_SEEN }, { 'T', INDEX_FLAG_DELETED },
};

void index_flags_to_maildir(uint32_t flags, char *buf, size_t size)
{
	size_t o = 0;

	for (size_t i = 0; i < sizeof(maildir_flags) / sizeof(maildir_flags[0]) && o + 1 < size; i++) {
		if (flags & maildir_flags[i].flag)
			buf[o++] = maildir_flags[i].letter;
	}
	buf[o] = '\0';
}

uint32_t index_flags_from_maildir(const char *name)
{
	const char *info = strstr(name, ":2,");
	uint32_t flags = 0;

	if (info == NULL)
		return 0;
	for (const char *p = info + 3; *p != '\0'; p++) {
		for (size_t i = 0; i < sizeof(maildir_flags) / sizeof(maildir_flags[0]); i++) {
			if (*p == maildir_flags[i].letter)
				flags |= maildir_flags[i].flag;
		}
	}
	return flags;
}

static void base_of(const char *file, char *base, size_t size)
{
	const char *colon = strchr(file, ':');

	str_copyn(base, size, file, colon != NULL ? (size_t)(colon - file) : strlen(file));
}

int mail_index_msg_path(const struct index_mailbox *mbox, const struct index_msg *msg,
			char *buf, size_t size)
{
	int n = snprintf(buf, size, "%s/cur/%s", mbox->path, msg->file);

	return n < 0 || (size_t)n >= size ? -1 : 0;
}

struct disk_entry {
	char base[MAILDIR_NAME_MAX];
	char file[MAILDIR_NAME_MAX + 40];
	bool in_new;
	bool matched;
};

static int disk_cmp(const void *a, const void *b)
{
	return strcmp(((const struct disk_entry *)a)->base, ((const struct disk_entry *)b)->base);
}

static int disk_scan_dir(const char *path, bool in_new, struct disk_entry **list, size_t *n, size_t *cap)
{
	char dir[PATH_MAX];
	DIR *d;
	struct dirent *de;

	snprintf(dir, sizeof(dir), "%s/%s", path, in_new ? "new" : "cur");
	d = opendir(dir);
	if (d == NULL)
		return errno == ENOENT ? 0 : -1;
	while ((de = readdir(d)) != NULL) {
		struct disk_entry *e;

		if (de->d_name[0] == '.' || strlen(de->d_name) >= sizeof(e->file))
			continue;
		if (*n == *cap) {
			size_t ncap = *cap == 0 ? 256 : *cap * 2;
			struct disk_entry *grown = realloc(*list, ncap * sizeof(*grown));
			if (grown == NULL) {
				closedir(d);
				return -1;
			}
			*list = grown;
			*cap = ncap;
		}
		e = &(*list)[(*n)++];
		str_copy(e->file, sizeof(e->file), de->d_name);
		base_of(e->file, e->base, sizeof(e->base));
		e->in_new = in_new;
		e->matched = false;
	}
	closedir(d);
	return 0;
}

/* Moves a file from new/ to cur/ with an empty ":2," info, as a Maildir
 * reader does once it has seen it. Returns the name in cur/. */
static int move_new_to_cur(const char *path, struct disk_entry *e)
{
	char from[PATH_MAX], to[PATH_MAX], file[sizeof(e->file)];

	if (strchr(e->file, ':') == NULL)
		snprintf(file, sizeof(file), "%s:2,", e->file);
	else
		str_copy(file, sizeof(file), e->file);
	snprintf(from, sizeof(from), "%s/new/%s", path, e->file);
	snprintf(to, sizeof(to), "%s/cur/%s", path, file);
	if (rename(from, to) < 0)
		return -1;
	str_copy(e->file, sizeof(e->file), file);
	e->in_new = false;
	return 0;
}

static int64_t base_time(const char *base)
{
	return atoll(base);
}

static int msg_cmp_uid(const void *a, const void *b)
{
	uint32_t x = ((const struct index_msg *)a)->uid, y = ((const struct index_msg *)b)->uid;

	return x < y ? -1 : x > y;
}

/* New files get UIDs in delivery order. */
static int disk_cmp_time(const void *a, const void *b)
{
	const struct disk_entry *x = *(const struct disk_entry *const *)a;
	const struct disk_entry *y = *(const struct disk_entry *const *)b;
	int64_t tx = base_time(x->base), ty = base_time(y->base);

	if (tx != ty)
		return tx < ty ? -1 : 1;
	return strcmp(x->base, y->base);
}

static int view_push(struct index_view *v, size_t *cap, const struct index_msg *m)
{
	if (v->count == *cap) {
		size_t ncap = *cap == 0 ? 256 : *cap * 2;
		struct index_msg *grown = realloc(v->msgs, ncap * sizeof(*grown));
		if (grown == NULL)
			return -1;
		v->msgs = grown;
		*cap = ncap;
	}
	v->msgs[v->count++] = *m;
	return 0;
}

static int sync_insert(struct mail_index *idx, struct index_mailbox *mbox, struct disk_entry *e,
		       struct index_msg *m)
{
	sqlite3_stmt *st;
	char path[PATH_MAX];
	struct stat sb;
	int64_t size;

	m->recent = e->in_new;
	if (e->in_new && move_new_to_cur(mbox->path, e) < 0)
		return errno == ENOENT ? 1 : -1;	/* gone meanwhile: skip */
	snprintf(path, sizeof(path), "%s/cur/%s", mbox->path, e->file);
	if (stat(path, &sb) < 0)
		return errno == ENOENT ? 1 : -1;
	size = maildir_name_size(e->base);
	m->uid = mbox->uidnext++;
	m->flags = index_flags_from_maildir(e->file);
	m->modseq = ++mbox->highestmodseq;
	m->size = size >= 0 ? (uint64_t)size : (uint64_t)sb.st_size;
	m->internaldate = (int64_t)sb.st_mtime;
	m->keywords[0] = '\0';
	str_copy(m->file, sizeof(m->file), e->file);
	st = idx_prepare(idx, "INSERT INTO messages(mailbox_id, uid, base, file, flags, modseq, size,"
			 " internaldate) VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, mbox->id);
	sqlite3_bind_int64(st, 2, m->uid);
	sqlite3_bind_text(st, 3, e->base, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 4, m->file, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 5, m->flags);
	sqlite3_bind_int64(st, 6, (sqlite3_int64)m->modseq);
	sqlite3_bind_int64(st, 7, (sqlite3_int64)m->size);
	sqlite3_bind_int64(st, 8, m->internaldate);
	return idx_step_done(st);
}

static int mailbox_save_counters(struct mail_index *idx, const struct index_mailbox *mbox)
{
	sqlite3_stmt *st = idx_prepare(idx, "UPDATE mailboxes SET uidnext = ?, highestmodseq = ? WHERE id = ?");

	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, mbox->uidnext);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)mbox->highestmodseq);
	sqlite3_bind_int64(st, 3, mbox->id);
	return idx_step_done(st);
}

/* Reloads the folder's counters inside the transaction (another session
 * may have moved them). */
static int mailbox_reload(struct mail_index *idx, struct index_mailbox *mbox)
{
	sqlite3_stmt *st = idx_prepare(idx, "SELECT uidnext, highestmodseq FROM mailboxes WHERE id = ?");
	int r;

	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, mbox->id);
	r = sqlite3_step(st);
	if (r == SQLITE_ROW) {
		mbox->uidnext = (uint32_t)sqlite3_column_int64(st, 0);
		mbox->highestmodseq = (uint64_t)sqlite3_column_int64(st, 1);
	}
	sqlite3_finalize(st);
	return r == SQLITE_ROW ? 0 : -1;
}

static int sync_rows(struct mail_index *idx, struct index_mailbox *mbox, struct disk_entry *disk,
		     size_t ndisk, struct index_view *view, size_t *cap, bool *changed)
{
	sqlite3_stmt *st = idx_prepare(idx, "SELECT uid, base, file, flags, keywords, modseq, size,"
				       " internaldate FROM messages WHERE mailbox_id = ? ORDER BY uid");
	int r;

	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, mbox->id);
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		struct disk_entry key, *e;
		struct index_msg m;

		memset(&m, 0, sizeof(m));
		m.uid = (uint32_t)sqlite3_column_int64(st, 0);
		str_copy(key.base, sizeof(key.base), (const char *)sqlite3_column_text(st, 1));
		str_copy(m.file, sizeof(m.file), (const char *)sqlite3_column_text(st, 2));
		m.flags = (uint32_t)sqlite3_column_int64(st, 3);
		str_copy(m.keywords, sizeof(m.keywords), (const char *)sqlite3_column_text(st, 4));
		m.modseq = (uint64_t)sqlite3_column_int64(st, 5);
		m.size = (uint64_t)sqlite3_column_int64(st, 6);
		m.internaldate = sqlite3_column_int64(st, 7);
		e = ndisk > 0 ? bsearch(&key, disk, ndisk, sizeof(*disk), disk_cmp) : NULL;
		if (e == NULL) {
			/* Removed behind the index's back (POP3, a Maildir tool). */
			char sql[128];
			snprintf(sql, sizeof(sql), "DELETE FROM messages WHERE mailbox_id = %lld AND uid = %u",
				 (long long)mbox->id, m.uid);
			idx_exec(idx, sql);
			*changed = true;
			continue;
		}
		e->matched = true;
		if (e->in_new)
			move_new_to_cur(mbox->path, e);
		if (strcmp(e->file, m.file) != 0) {
			/* Flags changed in the file name by someone else. */
			sqlite3_stmt *up = idx_prepare(idx, "UPDATE messages SET file = ?, flags = ?, modseq = ?"
						      " WHERE mailbox_id = ? AND uid = ?");
			str_copy(m.file, sizeof(m.file), e->file);
			m.flags = index_flags_from_maildir(e->file);
			m.modseq = ++mbox->highestmodseq;
			if (up != NULL) {
				sqlite3_bind_text(up, 1, m.file, -1, SQLITE_TRANSIENT);
				sqlite3_bind_int64(up, 2, m.flags);
				sqlite3_bind_int64(up, 3, (sqlite3_int64)m.modseq);
				sqlite3_bind_int64(up, 4, mbox->id);
				sqlite3_bind_int64(up, 5, m.uid);
				idx_step_done(up);
			}
			*changed = true;
		}
		if (view_push(view, cap, &m) < 0) {
			sqlite3_finalize(st);
			return -1;
		}
	}
	sqlite3_finalize(st);
	return r == SQLITE_DONE ? 0 : -1;
}

int mail_index_sync(struct mail_index *idx, struct index_mailbox *mbox, struct index_view *view_r)
{
	struct disk_entry *disk = NULL, **fresh = NULL;
	size_t ndisk = 0, cap = 0, vcap = 0, nfresh = 0;
	bool changed = false;
	int ret = -1;

	memset(view_r, 0, sizeof(*view_r));
	if (disk_scan_dir(mbox->path, true, &disk, &ndisk, &cap) < 0 ||
	    disk_scan_dir(mbox->path, false, &disk, &ndisk, &cap) < 0)
		goto out;
	if (ndisk > 0)
		qsort(disk, ndisk, sizeof(*disk), disk_cmp);
	if (idx_exec(idx, "BEGIN IMMEDIATE") < 0)
		goto out;
	if (mailbox_reload(idx, mbox) < 0 ||
	    sync_rows(idx, mbox, disk, ndisk, view_r, &vcap, &changed) < 0) {
		idx_exec(idx, "ROLLBACK");
		goto out;
	}
	fresh = calloc(ndisk > 0 ? ndisk : 1, sizeof(*fresh));
	if (fresh == NULL) {
		idx_exec(idx, "ROLLBACK");
		goto out;
	}
	for (size_t i = 0; i < ndisk; i++) {
		if (!disk[i].matched)
			fresh[nfresh++] = &disk[i];
	}
	if (nfresh > 1)
		qsort(fresh, nfresh, sizeof(*fresh), disk_cmp_time);
	for (size_t i = 0; i < nfresh; i++) {
		struct index_msg m;
		int r;

		memset(&m, 0, sizeof(m));
		r = sync_insert(idx, mbox, fresh[i], &m);
		if (r < 0 || (r == 0 && view_push(view_r, &vcap, &m) < 0)) {
			idx_exec(idx, "ROLLBACK");
			index_view_free(view_r);
			goto out;
		}
		changed = true;
	}
	if ((changed && mailbox_save_counters(idx, mbox) < 0) || idx_exec(idx, "COMMIT") < 0) {
		idx_exec(idx, "ROLLBACK");
		index_view_free(view_r);
		goto out;
	}
	if (nfresh > 0) {
		char cur[PATH_MAX];
		snprintf(cur, sizeof(cur), "%s/cur", mbox->path);
		fs_fsync_dir(cur);
	}
	if (view_r->count > 1)
		qsort(view_r->msgs, view_r->count, sizeof(*view_r->msgs), msg_cmp_uid);
	view_r->uidvalidity = mbox->uidvalidity;
	view_r->uidnext = mbox->uidnext;
	view_r->highestmodseq = mbox->highestmodseq;
	ret = 0;
out:
	free(fresh);
	free(disk);
	return ret;
}

void index_view_free(struct index_view *view)
{
	free(view->msgs);
	view->msgs = NULL;
	view->count = 0;
}

int mail_index_set_flags(struct mail_index *idx, struct index_mailbox *mbox, struct index_msg *msg,
			 uint32_t flags, const char *keywords)
{
	char letters[16], base[MAILDIR_NAME_MAX], file[sizeof(msg->file)], from[PATH_MAX], to[PATH_MAX];
	sqlite3_stmt *st;

	index_flags_to_maildir(flags, letters, sizeof(letters));
	base_of(msg->file, base, sizeof(base));
	snprintf(file, sizeof(file), "%s:2,%s", base, letters);
	if (strcmp(file, msg->file) != 0) {
		snprintf(from, sizeof(from), "%s/cur/%s", mbox->path, msg->file);
		snprintf(to, sizeof(to), "%s/cur/%s", mbox->path, file);
		if (rename(from, to) < 0)
			return -1;
	}
	if (idx_exec(idx, "BEGIN IMMEDIATE") < 0)
		return -1;
	if (mailbox_reload(idx, mbox) < 0) {
		idx_exec(idx, "ROLLBACK");
		return -1;
	}
	msg->modseq = ++mbox->highestmodseq;
	st = idx_prepare(idx, "UPDATE messages SET file = ?, flags = ?, keywords = ?, modseq = ?"
			 " WHERE mailbox_id = ? AND uid = ?");
	if (st == NULL) {
		idx_exec(idx, "ROLLBACK");
		return -1;
	}
	sqlite3_bind_text(st, 1, file, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 2, flags);
	sqlite3_bind_text(st, 3, keywords != NULL ? keywords : msg->keywords, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)msg->modseq);
	sqlite3_bind_int64(st, 5, mbox->id);
	sqlite3_bind_int64(st, 6, msg->uid);
	if (idx_step_done(st) < 0 || mailbox_save_counters(idx, mbox) < 0 || idx_exec(idx, "COMMIT") < 0) {
		idx_exec(idx, "ROLLBACK");
		return -1;
	}
	str_copy(msg->file, sizeof(msg->file), file);
	msg->flags = flags;
	if (keywords != NULL)
		str_copy(msg->keywords, sizeof(msg->keywords), keywords);
	store_changed(idx->root);
	return 0;
}

int mail_index_expunge(struct mail_index *idx, struct index_mailbox *mbox,
		       const struct index_msg *msgs, size_t count)
{
	char path[PATH_MAX], cur[PATH_MAX], sql[128];
	uint64_t freed = 0;

	if (count == 0)
		return 0;
	for (size_t i = 0; i < count; i++) {
		snprintf(path, sizeof(path), "%s/cur/%s", mbox->path, msgs[i].file);
		if (unlink(path) < 0 && errno != ENOENT)
			return -1;
		freed += msgs[i].size;
	}
	snprintf(cur, sizeof(cur), "%s/cur", mbox->path);
	fs_fsync_dir(cur);
	if (idx_exec(idx, "BEGIN IMMEDIATE") < 0)
		return -1;
	for (size_t i = 0; i < count; i++) {
		snprintf(sql, sizeof(sql), "DELETE FROM messages WHERE mailbox_id = %lld AND uid = %u",
			 (long long)mbox->id, msgs[i].uid);
		idx_exec(idx, sql);
	}
	if (mailbox_reload(idx, mbox) == 0) {
		mbox->highestmodseq++;
		mailbox_save_counters(idx, mbox);
	}
	idx_exec(idx, "COMMIT");
	quota_release(idx->root, freed);
	store_changed(idx->root);
	return 0;
}

/* Records a file just placed in dst's cur/ under the next UID. */
static int index_insert_new(struct mail_index *idx, struct index_mailbox *dst, const char *file,
			    uint32_t flags, const char *keywords, uint64_t size, int64_t internaldate,
			    uint32_t *uid_r)
{
	char base[MAILDIR_NAME_MAX];
	sqlite3_stmt *st;

	base_of(file, base, sizeof(base));
	if (idx_exec(idx, "BEGIN IMMEDIATE") < 0)
		return -1;
	if (mailbox_reload(idx, dst) < 0)
		goto fail;
	*uid_r = dst->uidnext++;
	st = idx_prepare(idx, "INSERT INTO messages(mailbox_id, uid, base, file, flags, keywords, modseq,"
			 " size, internaldate) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)");
	if (st == NULL)
		goto fail;
	sqlite3_bind_int64(st, 1, dst->id);
	sqlite3_bind_int64(st, 2, *uid_r);
	sqlite3_bind_text(st, 3, base, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 4, file, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 5, flags);
	sqlite3_bind_text(st, 6, keywords != NULL ? keywords : "", -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 7, (sqlite3_int64)++dst->highestmodseq);
	sqlite3_bind_int64(st, 8, (sqlite3_int64)size);
	sqlite3_bind_int64(st, 9, internaldate);
	if (idx_step_done(st) < 0 || mailbox_save_counters(idx, dst) < 0 || idx_exec(idx, "COMMIT") < 0)
		goto fail;
	store_changed(idx->root);
	return 0;
fail:
	idx_exec(idx, "ROLLBACK");
	return -1;
}

int mail_index_append(struct mail_index *idx, struct index_mailbox *mbox, const struct maildir_msg *msg,
		      uint32_t flags, const char *keywords, int64_t internaldate, uint32_t *uid_r,
		      const char **error_r)
{
	char letters[16], file[MAILDIR_NAME_MAX + 40], path[PATH_MAX];

	index_flags_to_maildir(flags, letters, sizeof(letters));
	if (maildir_deliver_cur(mbox->path, msg, letters, file, sizeof(file), error_r) < 0)
		return -1;
	if (internaldate > 0) {
		/* INTERNALDATE lives in the file's mtime, so a rebuilt index
		 * still knows it. */
		struct timespec ts[2] = { { internaldate, 0 }, { internaldate, 0 } };
		snprintf(path, sizeof(path), "%s/cur/%s", mbox->path, file);
		utimensat(AT_FDCWD, path, ts, 0);
	} else {
		internaldate = time(NULL);
	}
	if (index_insert_new(idx, mbox, file, flags, keywords, msg->prefix_len + msg->body_len,
			     internaldate, uid_r) < 0) {
		/* The file is durable and the next sync gives it a UID. */
		*error_r = "index update failed";
		return -1;
	}
	return 0;
}

int mail_index_copy(struct mail_index *idx, struct index_mailbox *src, const struct index_msg *msg,
		    struct index_mailbox *dst, bool move, uint32_t *uid_r, const char **error_r)
{
	char from[PATH_MAX], to[PATH_MAX], dir[PATH_MAX], file[MAILDIR_NAME_MAX + 40];
	char base[MAILDIR_NAME_MAX], letters[16];

	snprintf(from, sizeof(from), "%s/cur/%s", src->path, msg->file);
	if (move) {
		str_copy(file, sizeof(file), msg->file);
	} else {
		maildir_unique_name(base, sizeof(base), (size_t)msg->size);
		index_flags_to_maildir(msg->flags, letters, sizeof(letters));
		snprintf(file, sizeof(file), "%s:2,%s", base, letters);
	}
	snprintf(to, sizeof(to), "%s/cur/%s", dst->path, file);
	if ((move ? rename(from, to) : link(from, to)) < 0) {
		*error_r = errno == ENOENT ? "[EXPUNGEISSUED] The message was expunged meanwhile"
					   : "[SERVERBUG] Cannot store the message";
		return -1;
	}
	snprintf(dir, sizeof(dir), "%s/cur", dst->path);
	fs_fsync_dir(dir);
	if (move) {
		char sql[128];
		snprintf(dir, sizeof(dir), "%s/cur", src->path);
		fs_fsync_dir(dir);
		snprintf(sql, sizeof(sql), "DELETE FROM messages WHERE mailbox_id = %lld AND uid = %u",
			 (long long)src->id, msg->uid);
		idx_exec(idx, sql);
	}
	if (index_insert_new(idx, dst, file, msg->flags, msg->keywords, msg->size, msg->internaldate,
			     uid_r) < 0) {
		*error_r = "[SERVERBUG] Index update failed";
		return -1;
	}
	return 0;
}
