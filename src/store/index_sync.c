/* The directory side of the index (index_msgs.c has the message cache
 * and the operations): reading a folder's new/ and cur/, moving files from
 * new/ to cur/, the full sync that compares the directories with every
 * row of the folder, and the fingerprint of a directory's names that
 * tells the message cache whether cur/ still holds exactly the files it
 * knows: their number and the sum of a 64-bit hash of each. The sum does
 * not depend on the order readdir gives, and the cache keeps its own sum
 * up to date name by name as it changes, so comparing the two needs one
 * reading of the directory and no table, sort or allocation. */
#include "store/index_private.h"
#include "lib/fsutil.h"
#include "lib/str.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static size_t name_hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL;	/* FNV-1a */

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return (size_t)h;
}

int idx_disk_table_make(struct disk_table *t, struct disk_entry *disk, size_t n)
{
	size_t size = 16;

	while (size < 2 * n)
		size *= 2;
	t->slots = calloc(size, sizeof(*t->slots));
	t->mask = size - 1;
	if (t->slots == NULL)
		return -1;
	for (size_t i = 0; i < n; i++) {
		size_t k = name_hash(disk[i].base) & t->mask;

		while (t->slots[k] != NULL)
			k = (k + 1) & t->mask;
		t->slots[k] = &disk[i];
	}
	return 0;
}

/* The entry named base, or NULL. */
struct disk_entry *idx_disk_table_find(const struct disk_table *t, const char *base)
{
	for (size_t k = name_hash(base) & t->mask; t->slots[k] != NULL; k = (k + 1) & t->mask) {
		if (strcmp(t->slots[k]->base, base) == 0)
			return t->slots[k];
	}
	return NULL;
}

int idx_disk_scan_dir(const char *path, bool in_new, struct disk_entry **list, size_t *n, size_t *cap)
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
		idx_base_of(e->file, e->base, sizeof(e->base));
		idx_name_order(e->base, &e->time, &e->seq);
		e->in_new = in_new;
		e->recent = in_new;
		e->matched = false;
	}
	closedir(d);
	return 0;
}


/* Moves a file from new/ to cur/ with an empty ":2," info, as a Maildir
 * reader does once it has seen it. Returns the name in cur/. */
int idx_move_new_to_cur(const struct sync_dirs *dirs, struct disk_entry *e)
{
	char file[sizeof(e->file)];

	if (strchr(e->file, ':') == NULL)
		snprintf(file, sizeof(file), "%s:2,", e->file);
	else
		str_copy(file, sizeof(file), e->file);
	if (dirs->new_fd < 0 || dirs->cur_fd < 0) {
		errno = ENOENT;
		return -1;
	}
	if (renameat(dirs->new_fd, e->file, dirs->cur_fd, file) < 0)
		return -1;
	str_copy(e->file, sizeof(e->file), file);
	e->in_new = false;
	return 0;
}

/* A folder whose files are all in new/, and many (a Maildir copied in, or
 * one read by POP3 only until now): new/ and cur/ change places in one
 * atomic rename instead of a rename per file, which was three quarters of
 * the first SELECT of 100,000 messages. The files keep their names (a name
 * in cur/ without ":2," is valid Maildir: no flags, and a flag change
 * gives it one) and stay recent. A file delivered meanwhile lands in one
 * directory or the other, and the sync finds it in either. Called under
 * the index's write lock, and cur/ is read again here: a session that
 * synced since this one's reading had moved the files, and is not undone.
 * Where the file system cannot exchange names, false: one by one then. */
#define ADOPT_NEW_MIN 64

static bool idx_adopt_new_dir(const char *path, struct disk_entry *disk, size_t n)
{
	char newdir[PATH_MAX], curdir[PATH_MAX];
	struct dirent *de;
	bool empty = true;
	DIR *d;

	if (n < ADOPT_NEW_MIN)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (!disk[i].in_new)
			return false;
	}
	snprintf(newdir, sizeof(newdir), "%s/new", path);
	snprintf(curdir, sizeof(curdir), "%s/cur", path);
	if ((d = opendir(curdir)) == NULL)
		return false;
	while (empty && (de = readdir(d)) != NULL)
		empty = strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0;
	closedir(d);
	if (!empty || renameat2(AT_FDCWD, newdir, AT_FDCWD, curdir, RENAME_EXCHANGE) < 0)
		return false;
	for (size_t i = 0; i < n; i++)
		disk[i].in_new = false;
	fs_fsync_dir(path);	/* a crash undoing it would only bring the moves back */
	return true;
}

static int msg_cmp_uid(const void *a, const void *b)
{
	uint32_t x = ((const struct index_msg *)a)->uid, y = ((const struct index_msg *)b)->uid;

	return x < y ? -1 : x > y;
}

/* New files get UIDs in delivery order. */
/* A Maildir base name's place in delivery order: "SEC.M<usec>P<pid>Q<n>..."
 * (this server's and Dovecot's names) gives seconds and microseconds and
 * the count; other forms their seconds. Compared as text, "M95000" would
 * come after "M120000" of the same second. */
void idx_name_order(const char *base, int64_t *time_r, uint64_t *seq_r)
{
	char *end;
	long long sec = strtoll(base, &end, 10), us;
	const char *q;

	if (sec < 0 || sec > INT64_MAX / 1000000 - 1)
		sec = sec < 0 ? 0 : INT64_MAX / 1000000 - 1;
	*time_r = (int64_t)sec * 1000000;
	*seq_r = 0;
	if (end[0] != '.' || end[1] != 'M' || end[2] < '0' || end[2] > '9')
		return;
	us = strtoll(end + 2, &end, 10);
	if (us < 1000000)
		*time_r += us;
	if (*end == 'P' && (q = strchr(end, 'Q')) != NULL && q[1] >= '0' && q[1] <= '9' &&
	    (strchr(end, '.') == NULL || q < strchr(end, '.')))
		*seq_r = strtoull(q + 1, NULL, 10);
}

int idx_disk_cmp_time(const void *a, const void *b)
{
	const struct disk_entry *x = *(const struct disk_entry *const *)a;
	const struct disk_entry *y = *(const struct disk_entry *const *)b;
	int64_t tx = x->time, ty = y->time;

	if (tx != ty)
		return tx < ty ? -1 : 1;
	if (x->seq != y->seq)
		return x->seq < y->seq ? -1 : 1;
	return strcmp(x->base, y->base);
}

static bool view_sorted(const struct index_view *v)
{
	for (size_t i = 1; i < v->count; i++) {
		if (v->msgs[i - 1].uid >= v->msgs[i].uid)
			return false;
	}
	return true;
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

/* Gives a file found on disk the next UID, with ins the prepared INSERT
 * (one statement for the whole sync: preparing it per message cost more
 * than the inserts). 1: the file went away meanwhile. */
int idx_sync_insert(sqlite3_stmt *ins, const struct sync_dirs *dirs, struct index_mailbox *mbox,
		       struct disk_entry *e, struct index_msg *m)
{
	struct stat sb;
	int r;

	m->recent = e->recent;
	if (e->in_new && idx_move_new_to_cur(dirs, e) < 0)
		return errno == ENOENT ? 1 : -1;	/* gone meanwhile: skip */
	if (dirs->cur_fd < 0)
		return 1;
	if (fstatat(dirs->cur_fd, e->file, &sb, 0) < 0)
		return errno == ENOENT ? 1 : -1;
	m->uid = mbox->uidnext++;
	m->flags = index_flags_from_maildir(e->file);
	m->modseq = ++mbox->highestmodseq;
	/* the bytes FETCH serves: a name's S= may be wrong (another
	 * program wrote it, or the file was cut short), the stat is not */
	m->size = (uint64_t)sb.st_size;
	m->internaldate = (int64_t)sb.st_mtime;
	m->keywords[0] = '\0';
	str_copy(m->file, sizeof(m->file), e->file);
	sqlite3_reset(ins);
	sqlite3_bind_int64(ins, 1, mbox->id);
	sqlite3_bind_int64(ins, 2, m->uid);
	sqlite3_bind_text(ins, 3, e->base, -1, SQLITE_STATIC);
	sqlite3_bind_text(ins, 4, m->file, -1, SQLITE_STATIC);
	sqlite3_bind_int64(ins, 5, m->flags);
	sqlite3_bind_int64(ins, 6, (sqlite3_int64)m->modseq);
	sqlite3_bind_int64(ins, 7, (sqlite3_int64)m->size);
	sqlite3_bind_int64(ins, 8, m->internaldate);
	r = sqlite3_step(ins);
	sqlite3_reset(ins);
	sqlite3_clear_bindings(ins);
	return r == SQLITE_DONE ? 0 : -1;
}

int idx_mailbox_save_counters(struct mail_index *idx, const struct index_mailbox *mbox)
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
int idx_mailbox_reload(struct mail_index *idx, struct index_mailbox *mbox)
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

int idx_mailbox_bump_modseq(struct mail_index *idx, struct index_mailbox *mbox)
{
	if (idx_mailbox_reload(idx, mbox) < 0)
		return -1;
	mbox->highestmodseq++;
	return idx_mailbox_save_counters(idx, mbox);
}

static int sync_rows(struct mail_index *idx, struct index_mailbox *mbox, const struct sync_dirs *dirs,
		     const struct disk_table *byname, struct index_view *view, size_t *cap,
		     bool *changed)
{
	sqlite3_stmt *st = idx_prepare(idx, "SELECT uid, base, file, flags, keywords, modseq, size,"
				       " internaldate FROM messages WHERE mailbox_id = ? ORDER BY uid");
	bool gone = false;
	int r;

	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, mbox->id);
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		struct disk_entry *e;
		struct index_msg m;
		const char *base;

		memset(&m, 0, sizeof(m));
		m.uid = (uint32_t)sqlite3_column_int64(st, 0);
		str_copy(m.file, sizeof(m.file), (const char *)sqlite3_column_text(st, 2));
		m.flags = (uint32_t)sqlite3_column_int64(st, 3);
		str_copy(m.keywords, sizeof(m.keywords), (const char *)sqlite3_column_text(st, 4));
		m.modseq = (uint64_t)sqlite3_column_int64(st, 5);
		m.size = (uint64_t)sqlite3_column_int64(st, 6);
		m.internaldate = sqlite3_column_int64(st, 7);
		base = (const char *)sqlite3_column_text(st, 1);
		e = base != NULL ? idx_disk_table_find(byname, base) : NULL;
		if (e == NULL) {
			/* Removed behind the index's back (POP3, a Maildir tool). */
			char sql[128];
			snprintf(sql, sizeof(sql), "DELETE FROM messages WHERE mailbox_id = %lld AND uid = %u",
				 (long long)mbox->id, m.uid);
			idx_exec(idx, sql);
			*changed = true;
			gone = true;
			continue;
		}
		e->matched = true;
		if (e->in_new)
			idx_move_new_to_cur(dirs, e);
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
	/* an expunge moves the folder's mod-sequence (RFC 7162 3.2) */
	if (gone)
		mbox->highestmodseq++;
	return r == SQLITE_DONE ? 0 : -1;
}

int idx_sync_dir_open(const char *path, const char *sub)
{
	char dir[PATH_MAX];

	snprintf(dir, sizeof(dir), "%s/%s", path, sub);
	return open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

int idx_sync_full(struct mail_index *idx, struct index_mailbox *mbox, struct index_view *view_r,
			   bool *moved_r)
{
	struct disk_entry *disk = NULL, **fresh = NULL;
	struct disk_table byname = { NULL, 0 };
	struct sync_dirs dirs = { -1, -1 };
	sqlite3_stmt *ins = NULL;
	size_t ndisk = 0, cap = 0, vcap = 0, nfresh = 0;
	bool changed = false;
	int ret = -1;

	memset(view_r, 0, sizeof(*view_r));
	if (idx_disk_scan_dir(mbox->path, true, &disk, &ndisk, &cap) < 0 ||
	    idx_disk_scan_dir(mbox->path, false, &disk, &ndisk, &cap) < 0)
		goto out;
	if (idx_disk_table_make(&byname, disk, ndisk) < 0)
		goto out;
	/* every row and new file: one allocation, not a doubling copy */
	view_r->msgs = malloc((ndisk > 0 ? ndisk : 1) * sizeof(*view_r->msgs));
	if (view_r->msgs == NULL)
		goto out;
	vcap = ndisk > 0 ? ndisk : 1;
	if (idx_exec(idx, "BEGIN IMMEDIATE") < 0)
		goto out;
	idx_adopt_new_dir(mbox->path, disk, ndisk);
	dirs.new_fd = idx_sync_dir_open(mbox->path, "new");
	dirs.cur_fd = idx_sync_dir_open(mbox->path, "cur");
	if (idx_mailbox_reload(idx, mbox) < 0 ||
	    sync_rows(idx, mbox, &dirs, &byname, view_r, &vcap, &changed) < 0) {
		idx_exec(idx, "ROLLBACK");
		index_view_free(view_r);
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
		qsort(fresh, nfresh, sizeof(*fresh), idx_disk_cmp_time);
	if (nfresh > 0 &&
	    (ins = idx_prepare(idx, "INSERT INTO messages(mailbox_id, uid, base, file, flags, modseq,"
			       " size, internaldate) VALUES (?, ?, ?, ?, ?, ?, ?, ?)")) == NULL) {
		idx_exec(idx, "ROLLBACK");
		index_view_free(view_r);
		goto out;
	}
	for (size_t i = 0; i < nfresh; i++) {
		struct index_msg m;
		int r;

		memset(&m, 0, sizeof(m));
		r = idx_sync_insert(ins, &dirs, mbox, fresh[i], &m);
		if (r < 0 || (r == 0 && view_push(view_r, &vcap, &m) < 0)) {
			idx_exec(idx, "ROLLBACK");
			index_view_free(view_r);
			goto out;
		}
		changed = true;
	}
	if ((changed && idx_mailbox_save_counters(idx, mbox) < 0) || idx_exec(idx, "COMMIT") < 0) {
		idx_exec(idx, "ROLLBACK");
		index_view_free(view_r);
		goto out;
	}
	if (nfresh > 0) {
		char cur[PATH_MAX];
		snprintf(cur, sizeof(cur), "%s/cur", mbox->path);
		fs_fsync_dir(cur);
	}
	*moved_r = changed;
	/* the rows come by UID and new files above them: sorted but for a race */
	if (!view_sorted(view_r))
		qsort(view_r->msgs, view_r->count, sizeof(*view_r->msgs), msg_cmp_uid);
	view_r->uidvalidity = mbox->uidvalidity;
	view_r->uidnext = mbox->uidnext;
	view_r->highestmodseq = mbox->highestmodseq;
	ret = 0;
out:
	sqlite3_finalize(ins);
	if (dirs.new_fd >= 0)
		close(dirs.new_fd);
	if (dirs.cur_fd >= 0)
		close(dirs.cur_fd);
	if (ret < 0)
		index_view_free(view_r);
	free(fresh);
	free(byname.slots);
	free(disk);
	return ret;
}

uint64_t index_name_hash(const char *name)
{
	uint64_t h = 1469598103934665603ULL;	/* FNV-1a, then a finaliser (splitmix64's) */

	for (const unsigned char *p = (const unsigned char *)name; *p != '\0'; p++)
		h = (h ^ *p) * 1099511628211ULL;
	h ^= h >> 30;
	h *= 0xbf58476d1ce4e5b9ULL;
	h ^= h >> 27;
	h *= 0x94d049bb133111ebULL;
	h ^= h >> 31;
	return h;
}

bool index_dir_name_counts(const char *name)
{
	return name[0] != '.' && strlen(name) < INDEX_FILE_MAX;
}

int index_dir_sum(const char *path, const char *sub, size_t *count_r, uint64_t *sum_r)
{
	char dir[PATH_MAX];
	struct dirent *de;
	DIR *d;

	*count_r = 0;
	*sum_r = 0;
	snprintf(dir, sizeof(dir), "%s/%s", path, sub);
	if ((d = opendir(dir)) == NULL)
		return errno == ENOENT ? 0 : -1;
	while ((de = readdir(d)) != NULL) {
		if (!index_dir_name_counts(de->d_name))
			continue;
		(*count_r)++;
		*sum_r += index_name_hash(de->d_name);
	}
	closedir(d);
	return 0;
}
