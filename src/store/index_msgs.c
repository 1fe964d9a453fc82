/* Messages in the index: sync with the Maildir, the message cache, flags
 * and append (expunge, copy and move: index_write.c). */
#include "store/index_private.h"
#include "lib/fsutil.h"
#include "lib/log.h"
#include "lib/str.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
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

void idx_base_of(const char *file, char *base, size_t size)
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

/* ---- the message cache ----------------------------------------------------
 *
 * A full sync reads new/ and cur/ and every row of the folder: far too much
 * for every command of every session. So the result is kept per folder,
 * process-wide, and reused while the directories say nothing changed
 * (mcache_check): cur/'s mtime (nanoseconds) is the one recorded and new/
 * is empty. Files that arrive in new/ (deliveries) are taken one by one
 * (mcache_take_new), without reading cur/ or the folder's rows. Changes
 * made through the index (flags, APPEND, the new files taken) update the
 * cache themselves under the folder's lock and record cur/'s new mtime;
 * others (EXPUNGE, COPY, MOVE, folder changes) drop it.
 *
 * A directory's mtime has the clock's granularity (a tick of some
 * milliseconds, a second on some file systems): another program's rename
 * or unlink in cur/ within the same tick as the change that gave the
 * recorded mtime leaves it unchanged. So an mtime is trusted alone only
 * once cur/ was read at a time more than the margin (ts_settled) after it (the
 * entry is "settled"); until then each look reads cur/ and compares the
 * fingerprint of its names (index_sync.c) with the entry's own, which is
 * one reading of the directory, not a sync; an mtime that moved without
 * the cache knowing why is read the same way. A different fingerprint
 * means another program changed cur/: the directories are compared with
 * the entry (mcache_sync_dirs) and only the differences written. */

#define MCACHE_MAX 256

struct mcache_msg {
	uint32_t uid, flags;
	uint64_t modseq, size;
	int64_t internaldate;
	char *file;
	char *keywords;		/* NULL: none */
};

struct mcache {
	struct mcache *next;
	pthread_mutex_t lock;	/* held across a sync or a change of the folder */
	unsigned refs;		/* under mcache_lock */
	time_t used;
	char *path;
	bool valid;
	int64_t mbox_id;
	struct timespec cur_mtime;
	/* cur/ was read with that mtime more than the margin (ts_settled) after it */
	bool cur_settled;
	uint64_t cur_sum;	/* sum of index_name_hash of every msgs[].file */
	uint64_t ext_gen;
	uint32_t uidvalidity, uidnext;
	uint64_t highestmodseq;
	struct mcache_msg *msgs;
	size_t count;
	/* Change tracking, so a session can ask what changed since the state
	 * it last saw instead of comparing every message: each change of the
	 * contents takes a new version (process-wide, ascending), and the UIDs
	 * changed or removed are logged with it. The log holds every change
	 * after log_floor; continuous says msgs still describe version (kept
	 * when the entry is only marked invalid, so the next fill can log the
	 * difference). */
	uint64_t version, log_floor;
	bool continuous;
	/* new/ was read empty at new_read with this mtime */
	bool new_known;
	struct timespec new_mtime, new_read;
	struct mcache_change *log;
	size_t nlog;
};

struct mcache_change {
	uint64_t version;
	uint32_t uid;
};

#define MCACHE_LOG_MAX 4096

static pthread_mutex_t mcache_lock = PTHREAD_MUTEX_INITIALIZER;
static struct mcache *mcaches;
static unsigned mcache_count;
static uint64_t mcache_versions;	/* atomic */

static uint64_t mcache_version_next(void)
{
	return __atomic_add_fetch(&mcache_versions, 1, __ATOMIC_RELAXED);
}

static void mcache_free_msgs(struct mcache *e)
{
	for (size_t i = 0; i < e->count; i++) {
		free(e->msgs[i].file);
		free(e->msgs[i].keywords);
	}
	free(e->msgs);
	e->msgs = NULL;
	e->count = 0;
	e->cur_sum = 0;
}

/* Empties the entry; what changed since is no longer known. */
static void mcache_clear(struct mcache *e)
{
	mcache_free_msgs(e);
	e->valid = false;
	e->continuous = false;
	e->nlog = 0;
}

/* Marks the entry stale but keeps its messages, so the next fill can log
 * what changed since (mcache_fill). */
static void mcache_drop(struct mcache *e)
{
	e->valid = false;
}

static void mcache_evict_locked(void)
{
	struct mcache **pp, **victim = NULL;

	for (pp = &mcaches; *pp != NULL; pp = &(*pp)->next) {
		if ((*pp)->refs == 0 && (victim == NULL || (*pp)->used < (*victim)->used))
			victim = pp;
	}
	if (victim != NULL) {
		struct mcache *e = *victim;
		*victim = e->next;
		mcache_clear(e);
		free(e->log);
		pthread_mutex_destroy(&e->lock);
		free(e->path);
		free(e);
		mcache_count--;
	}
}

void index_msgs_cache_cleanup(void)
{
	pthread_mutex_lock(&mcache_lock);
	while (mcaches != NULL) {
		unsigned before = mcache_count;
		mcache_evict_locked();
		if (mcache_count == before)
			break;
	}
	pthread_mutex_unlock(&mcache_lock);
}

/* The folder's entry, locked; NULL only when out of memory. */
static struct mcache *mcache_get(const char *path)
{
	struct mcache *e;

	pthread_mutex_lock(&mcache_lock);
	for (e = mcaches; e != NULL; e = e->next) {
		if (strcmp(e->path, path) == 0)
			break;
	}
	if (e == NULL) {
		if (mcache_count >= MCACHE_MAX)
			mcache_evict_locked();
		e = calloc(1, sizeof(*e));
		if (e != NULL && (e->path = strdup(path)) == NULL) {
			free(e);
			e = NULL;
		}
		if (e != NULL) {
			pthread_mutex_init(&e->lock, NULL);
			e->next = mcaches;
			mcaches = e;
			mcache_count++;
		}
	}
	if (e != NULL) {
		e->refs++;
		e->used = time(NULL);
	}
	pthread_mutex_unlock(&mcache_lock);
	if (e != NULL)
		pthread_mutex_lock(&e->lock);
	return e;
}

static void mcache_put(struct mcache *e)
{
	if (e == NULL)
		return;
	pthread_mutex_unlock(&e->lock);
	pthread_mutex_lock(&mcache_lock);
	e->refs--;
	pthread_mutex_unlock(&mcache_lock);
}

void mcache_invalidate(const char *path)
{
	struct mcache *e = mcache_get(path);

	if (e != NULL)
		mcache_drop(e);
	mcache_put(e);
}

void mcache_invalidate_root(const char *root)
{
	size_t len = strlen(root);

	pthread_mutex_lock(&mcache_lock);
	for (struct mcache *e = mcaches; e != NULL; e = e->next) {
		if (strncmp(e->path, root, len) == 0 && (e->path[len] == '/' || e->path[len] == '\0')) {
			/* Marked, not freed: a thread may hold it. Its lock
			 * is not taken here, so only the flag changes. */
			pthread_mutex_lock(&e->lock);
			e->valid = false;
			pthread_mutex_unlock(&e->lock);
		}
	}
	pthread_mutex_unlock(&mcache_lock);
}

static int dir_mtime(const char *path, const char *sub, struct timespec *ts_r)
{
	char dir[PATH_MAX];
	struct stat sb;

	snprintf(dir, sizeof(dir), "%s/%s", path, sub);
	if (stat(dir, &sb) < 0)
		return -1;
	*ts_r = sb.st_mtim;
	return 0;
}

static bool ts_equal(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec == b->tv_sec && a->tv_nsec == b->tv_nsec;
}

/* How long after a directory's mtime a reading of it must start for the
 * mtime to be trusted alone from then on: more than the file system's
 * timestamp granularity. One whose mtimes carry nanoseconds (ext4, xfs,
 * btrfs, tmpfs) stamps them from the kernel's coarse clock, one tick (1 to
 * 10 ms) behind: DIR_MTIME_MARGIN_FINE is ten ticks at the slowest. An
 * mtime of whole seconds (ext3, some network file systems, or the rare
 * exact second) gets a second. */
#define DIR_MTIME_MARGIN_FINE_NS 100000000L
#define DIR_MTIME_MARGIN_COARSE_NS 1000000000L

/* Whether a reading started at when saw everything of the tick of mtime. */
static bool ts_settled(const struct timespec *mtime, const struct timespec *when)
{
	int64_t margin = mtime->tv_nsec != 0 ? DIR_MTIME_MARGIN_FINE_NS : DIR_MTIME_MARGIN_COARSE_NS;
	int64_t gap = ((int64_t)when->tv_sec - (int64_t)mtime->tv_sec) * 1000000000L +
		      ((int64_t)when->tv_nsec - (int64_t)mtime->tv_nsec);

	return gap > margin;
}

/* new/ has no message in it. A readdir of an empty directory cannot miss
 * a delivery the way an mtime of the same clock tick can, but a directory
 * that once held many entries keeps its size, and reading it costs as
 * much as it once held. So once new/ was read empty, its mtime is trusted
 * alone while it stays the same and lies more than the margin (ts_settled) before
 * that reading (a file added later gives a later mtime). */

static bool new_is_empty(struct mcache *e, const char *path)
{
	char dir[PATH_MAX];
	struct dirent *de;
	struct timespec now;
	struct stat sb;
	bool empty = true;
	DIR *d;

	snprintf(dir, sizeof(dir), "%s/new", path);
	if (stat(dir, &sb) < 0)
		return errno == ENOENT;
	if (e->new_known && ts_equal(&sb.st_mtim, &e->new_mtime) && ts_settled(&sb.st_mtim, &e->new_read))
		return true;
	clock_gettime(CLOCK_REALTIME, &now);
	if ((d = opendir(dir)) == NULL)
		return errno == ENOENT;
	while (empty && (de = readdir(d)) != NULL)
		empty = de->d_name[0] == '.';
	closedir(d);
	e->new_known = empty;
	e->new_mtime = sb.st_mtim;
	e->new_read = now;
	return empty;
}

/* cur/ (with mtime cur_mtime, read just now) holds exactly the files the
 * entry knows: compares the fingerprints, and records the mtime as the
 * entry's, settled when the reading came late enough after it. */
static bool mcache_cur_verify(struct mcache *e, const char *path, const struct timespec *cur_mtime)
{
	struct timespec now;
	uint64_t sum;
	size_t n;

	clock_gettime(CLOCK_REALTIME, &now);
	if (index_dir_sum(path, "cur", &n, &sum) < 0 || n != e->count || sum != e->cur_sum)
		return false;
	e->cur_mtime = *cur_mtime;
	e->cur_settled = ts_settled(cur_mtime, &now);
	return true;
}

static int mcache_take_new(struct mail_index *idx, struct mcache *e, struct index_mailbox *mbox);
static int mcache_sync_dirs(struct mail_index *idx, struct mcache *e, struct index_mailbox *mbox);

/* Whether the entry still shows the folder, at a cost that does not grow
 * with it while nothing changed: two stats. cur/ is read (not synced)
 * while its mtime is not settled or moved, and files found in new/ are
 * taken into the index and the entry. false: a full sync is needed.
 * cur_mtime_r: cur/'s mtime as first seen. */
static bool mcache_check(struct mail_index *idx, struct mcache *e, struct index_mailbox *mbox,
			 struct timespec *cur_mtime_r)
{
	uint64_t ext = store_ext_generation(idx->root);

	cur_mtime_r->tv_sec = cur_mtime_r->tv_nsec = 0;
	if (dir_mtime(mbox->path, "cur", cur_mtime_r) < 0)
		return false;
	if (e == NULL || !e->valid || e->mbox_id != mbox->id || e->uidvalidity != mbox->uidvalidity)
		return false;
	if ((!e->cur_settled || !ts_equal(&e->cur_mtime, cur_mtime_r)) &&
	    !mcache_cur_verify(e, mbox->path, cur_mtime_r))
		return mcache_sync_dirs(idx, e, mbox) == 0;
	if (e->ext_gen != ext) {
		/* a delivery or deletion was reported: read new/ once more
		 * even if its mtime looks old */
		e->new_known = false;
		e->ext_gen = ext;
	}
	return new_is_empty(e, mbox->path) || mcache_take_new(idx, e, mbox) == 0;
}

static void mcache_row(const struct mcache_msg *c, struct index_msg *m)
{
	m->uid = c->uid;
	m->flags = c->flags;
	m->modseq = c->modseq;
	m->size = c->size;
	m->internaldate = c->internaldate;
	m->recent = false;
	str_copy(m->file, sizeof(m->file), c->file);
	str_copy(m->keywords, sizeof(m->keywords), c->keywords != NULL ? c->keywords : "");
}

/* The view's counters from the entry (its rows are the caller's). */
static void mcache_view_head(const struct mcache *e, struct index_mailbox *mbox, struct index_view *v)
{
	mbox->uidnext = e->uidnext;
	mbox->highestmodseq = e->highestmodseq;
	v->uidvalidity = mbox->uidvalidity;
	v->uidnext = e->uidnext;
	v->highestmodseq = e->highestmodseq;
	v->version = e->version;
}

static int mcache_to_view(const struct mcache *e, struct index_mailbox *mbox, struct index_view *v)
{
	memset(v, 0, sizeof(*v));
	v->msgs = malloc((e->count > 0 ? e->count : 1) * sizeof(*v->msgs));
	if (v->msgs == NULL)
		return -1;
	for (size_t i = 0; i < e->count; i++)
		mcache_row(&e->msgs[i], &v->msgs[i]);
	v->count = e->count;
	mcache_view_head(e, mbox, v);
	return 0;
}

/* Sets a message of entry e (c: one of e->msgs, zeroed when new), keeping
 * the entry's fingerprint of file names. */
static int mcache_msg_set(struct mcache *e, struct mcache_msg *c, const struct index_msg *m)
{
	char *file = strdup(m->file);
	char *kw = m->keywords[0] != '\0' ? strdup(m->keywords) : NULL;

	if (file == NULL || (m->keywords[0] != '\0' && kw == NULL)) {
		free(file);
		free(kw);
		return -1;
	}
	if (c->file != NULL)
		e->cur_sum -= index_name_hash(c->file);
	e->cur_sum += index_name_hash(file);
	free(c->file);
	free(c->keywords);
	c->uid = m->uid;
	c->flags = m->flags;
	c->modseq = m->modseq;
	c->size = m->size;
	c->internaldate = m->internaldate;
	c->file = file;
	c->keywords = kw;
	return 0;
}

/* Logs uid as changed in version. A full log loses its older half, and
 * the floor rises past it. */
static void mcache_log(struct mcache *e, uint32_t uid, uint64_t version)
{
	if (e->log == NULL && (e->log = malloc(MCACHE_LOG_MAX * sizeof(*e->log))) == NULL) {
		e->nlog = 0;
		e->log_floor = version;
		return;
	}
	if (e->nlog == MCACHE_LOG_MAX) {
		size_t cut = MCACHE_LOG_MAX / 2;
		uint64_t floor = e->log[cut - 1].version;

		while (cut < e->nlog && e->log[cut].version == floor)
			cut++;
		memmove(e->log, e->log + cut, (e->nlog - cut) * sizeof(*e->log));
		e->nlog -= cut;
		e->log_floor = floor;
	}
	e->log[e->nlog].version = version;
	e->log[e->nlog].uid = uid;
	e->nlog++;
}

/* A change made in place: the entry takes a new version. */
static void mcache_note(struct mcache *e, uint32_t uid)
{
	e->version = mcache_version_next();
	if (uid != 0)
		mcache_log(e, uid, e->version);
}

/* Logs the difference between the entry's messages and a new sync's: UIDs
 * gone, changed, or (below the old highest) appeared. */
static void mcache_log_diff(struct mcache *e, const struct index_view *v, uint64_t version)
{
	uint32_t old_max = e->count > 0 ? e->msgs[e->count - 1].uid : 0;
	size_t i = 0, j = 0;

	while (i < e->count || j < v->count) {
		if (j == v->count || (i < e->count && e->msgs[i].uid < v->msgs[j].uid)) {
			mcache_log(e, e->msgs[i++].uid, version);
		} else if (i == e->count || v->msgs[j].uid < e->msgs[i].uid) {
			if (v->msgs[j].uid <= old_max)
				mcache_log(e, v->msgs[j].uid, version);
			j++;
		} else {
			const struct mcache_msg *c = &e->msgs[i];
			const struct index_msg *m = &v->msgs[j];

			if (c->modseq != m->modseq || c->flags != m->flags ||
			    strcmp(c->keywords != NULL ? c->keywords : "", m->keywords) != 0)
				mcache_log(e, m->uid, version);
			i++;
			j++;
		}
	}
}

/* Refills the entry from a full sync's result, logging what changed since
 * its last contents when they were of this folder. */
static void mcache_fill(struct mcache *e, const struct index_mailbox *mbox, const struct index_view *v,
			uint64_t ext, const struct timespec *cur_mtime)
{
	uint64_t version = mcache_version_next();

	if (e->continuous && e->mbox_id == mbox->id && e->uidvalidity == mbox->uidvalidity) {
		mcache_log_diff(e, v, version);
	} else {
		e->nlog = 0;
		e->log_floor = version;
	}
	mcache_free_msgs(e);
	e->msgs = calloc(v->count > 0 ? v->count : 1, sizeof(*e->msgs));
	if (e->msgs == NULL) {
		mcache_clear(e);
		return;
	}
	for (size_t i = 0; i < v->count; i++) {
		if (mcache_msg_set(e, &e->msgs[i], &v->msgs[i]) < 0) {
			e->count = i;
			mcache_clear(e);
			return;
		}
	}
	e->count = v->count;
	e->mbox_id = mbox->id;
	e->uidvalidity = mbox->uidvalidity;
	e->uidnext = v->uidnext;
	e->highestmodseq = v->highestmodseq;
	e->ext_gen = ext;
	e->cur_mtime = *cur_mtime;
	/* the sync's reading may have started within the mtime's tick */
	e->cur_settled = false;
	e->version = version;
	e->continuous = true;
	e->valid = true;
}

static struct mcache_msg *mcache_find(struct mcache *e, uint32_t uid)
{
	size_t lo = 0, hi = e->count;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (e->msgs[mid].uid == uid)
			return &e->msgs[mid];
		if (e->msgs[mid].uid < uid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* Whether a change made by this thread can be applied to the entry: it is
 * valid for this folder and nothing else touched cur/ since it was filled
 * (cur_before: cur/'s mtime just before the change). */
static bool mcache_can_apply(const struct mcache *e, const struct index_mailbox *mbox,
			     const struct timespec *cur_before)
{
	return e != NULL && e->valid && e->mbox_id == mbox->id && ts_equal(&e->cur_mtime, cur_before);
}

/* Whether the index has a row for base in the folder already. */
static bool index_has_base(struct mail_index *idx, const struct index_mailbox *mbox, const char *base)
{
	sqlite3_stmt *st = idx_prepare(idx, "SELECT 1 FROM messages WHERE mailbox_id = ? AND base = ?");
	bool has = true;	/* an error counts as a yes: the caller then syncs in full */

	if (st == NULL)
		return true;
	sqlite3_bind_int64(st, 1, mbox->id);
	sqlite3_bind_text(st, 2, base, -1, SQLITE_STATIC);
	has = sqlite3_step(st) != SQLITE_DONE;
	sqlite3_finalize(st);
	return has;
}

/* Gives the files in new/ (sorted by delivery) UIDs and moves them to cur/
 * within one write transaction, adding each to the view v. The index's
 * counters must still be the entry's (nobody else added rows). */
static int take_new_rows(struct mail_index *idx, const struct mcache *e, struct index_mailbox *mbox,
			 struct disk_entry **fresh, size_t nfresh, struct index_view *v)
{
	struct sync_dirs dirs = { idx_sync_dir_open(mbox->path, "new"), idx_sync_dir_open(mbox->path, "cur") };
	sqlite3_stmt *ins = NULL;
	int ret = -1;

	if (idx_exec(idx, "BEGIN IMMEDIATE") < 0)
		goto out;
	if (idx_mailbox_reload(idx, mbox) < 0 || mbox->uidnext != e->uidnext ||
	    mbox->highestmodseq != e->highestmodseq)
		goto rollback;
	ins = idx_prepare(idx, "INSERT INTO messages(mailbox_id, uid, base, file, flags, modseq,"
			  " size, internaldate) VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
	if (ins == NULL)
		goto rollback;
	for (size_t i = 0; i < nfresh; i++) {
		struct index_msg *m = &v->msgs[v->count];
		int r;

		if (index_has_base(idx, mbox, fresh[i]->base))
			goto rollback;	/* known already: a full sync sorts it out */
		memset(m, 0, sizeof(*m));
		r = idx_sync_insert(ins, &dirs, mbox, fresh[i], m);
		if (r < 0)
			goto rollback;
		if (r == 0) {
			if (v->count == 0)
				index_recent_note(mbox, m->uid);	/* recent from here, if no floor yet */
			v->count++;
		}
	}
	if (idx_mailbox_save_counters(idx, mbox) < 0 || idx_exec(idx, "COMMIT") < 0)
		goto rollback;
	if (v->count > 0 && dirs.cur_fd >= 0)
		fsync(dirs.cur_fd);
	ret = 0;
	goto out;
rollback:
	idx_exec(idx, "ROLLBACK");	/* files already moved get their UIDs from the full sync */
out:
	sqlite3_finalize(ins);
	if (dirs.new_fd >= 0)
		close(dirs.new_fd);
	if (dirs.cur_fd >= 0)
		close(dirs.cur_fd);
	return ret;
}

/* New files in new/ (a delivery) while the entry is current otherwise:
 * they get their UIDs and join the entry at a cost in proportion to their
 * number. -1: not done (or only partly); the caller syncs in full. */
static int mcache_take_new(struct mail_index *idx, struct mcache *e, struct index_mailbox *mbox)
{
	struct disk_entry *disk = NULL, **fresh = NULL;
	struct index_view v;
	struct mcache_msg *grown;
	size_t ndisk = 0, cap = 0;
	int ret = -1;

	memset(&v, 0, sizeof(v));
	if (idx_disk_scan_dir(mbox->path, true, &disk, &ndisk, &cap) < 0 || ndisk == 0)
		goto out;
	fresh = malloc(ndisk * sizeof(*fresh));
	v.msgs = malloc(ndisk * sizeof(*v.msgs));
	grown = realloc(e->msgs, (e->count + ndisk) * sizeof(*e->msgs));
	if (grown != NULL)
		e->msgs = grown;
	if (fresh == NULL || v.msgs == NULL || grown == NULL)
		goto out;
	for (size_t i = 0; i < ndisk; i++)
		fresh[i] = &disk[i];
	if (ndisk > 1)
		qsort(fresh, ndisk, sizeof(*fresh), idx_disk_cmp_time);
	if (take_new_rows(idx, e, mbox, fresh, ndisk, &v) < 0)
		goto out;
	for (size_t i = 0; i < v.count; i++) {
		memset(&e->msgs[e->count], 0, sizeof(*e->msgs));
		if (mcache_msg_set(e, &e->msgs[e->count], &v.msgs[i]) < 0) {
			mcache_clear(e);
			goto out;
		}
		e->count++;
	}
	e->uidnext = mbox->uidnext;
	e->highestmodseq = mbox->highestmodseq;
	mcache_note(e, 0);	/* above every UID before: no log */
	e->new_known = false;
	if (v.count > 0) {
		e->cur_settled = false;
		if (dir_mtime(mbox->path, "cur", &e->cur_mtime) < 0)
			mcache_drop(e);
	}
	ret = e->valid ? 0 : -1;
out:
	free(v.msgs);
	free(fresh);
	free(disk);
	return ret;
}

/* Brings the entry's messages in line with the disk entries (byname) in
 * the caller's write transaction: rows of files gone are deleted, names
 * renamed (flags set by another program) updated, each logged in version.
 * Files found in new/ are moved to cur/; matched entries are marked. */
static int dirs_apply_known(struct mail_index *idx, struct mcache *e, struct index_mailbox *mbox,
			    const struct sync_dirs *dirs, const struct disk_table *byname, uint64_t version)
{
	sqlite3_stmt *del = idx_prepare(idx, "DELETE FROM messages WHERE mailbox_id = ? AND uid = ?");
	sqlite3_stmt *up = idx_prepare(idx, "UPDATE messages SET file = ?, flags = ?, modseq = ?"
				       " WHERE mailbox_id = ? AND uid = ?");
	char base[MAILDIR_NAME_MAX];
	size_t out = 0, i;
	bool gone = false;
	int ret = -1;

	if (del == NULL || up == NULL)
		goto out_stmts;
	for (i = 0; i < e->count; i++) {
		struct mcache_msg *c = &e->msgs[i];
		struct disk_entry *d;
		struct index_msg m;

		idx_base_of(c->file, base, sizeof(base));
		if ((d = idx_disk_table_find(byname, base)) == NULL) {
			sqlite3_bind_int64(del, 1, mbox->id);
			sqlite3_bind_int64(del, 2, c->uid);
			if (sqlite3_step(del) != SQLITE_DONE)
				goto out;
			sqlite3_reset(del);
			mcache_log(e, c->uid, version);
			e->cur_sum -= index_name_hash(c->file);
			free(c->file);
			free(c->keywords);
			gone = true;
			continue;
		}
		d->matched = true;
		if (d->in_new)
			idx_move_new_to_cur(dirs, d);
		if (strcmp(d->file, c->file) != 0) {
			mcache_row(c, &m);
			str_copy(m.file, sizeof(m.file), d->file);
			m.flags = index_flags_from_maildir(d->file);
			m.modseq = ++mbox->highestmodseq;
			sqlite3_bind_text(up, 1, m.file, -1, SQLITE_STATIC);
			sqlite3_bind_int64(up, 2, m.flags);
			sqlite3_bind_int64(up, 3, (sqlite3_int64)m.modseq);
			sqlite3_bind_int64(up, 4, mbox->id);
			sqlite3_bind_int64(up, 5, m.uid);
			if (sqlite3_step(up) != SQLITE_DONE || mcache_msg_set(e, c, &m) < 0)
				goto out;
			sqlite3_reset(up);
			mcache_log(e, c->uid, version);
		}
		e->msgs[out++] = *c;
	}
	e->count = out;
	/* an expunge moves the folder's mod-sequence (RFC 7162 3.2) */
	if (gone)
		mbox->highestmodseq++;
	ret = 0;
out:
	if (ret < 0) {
		/* kept ones moved down, gone ones freed: the rest joins them
		 * before the entry is emptied */
		memmove(&e->msgs[out], &e->msgs[i], (e->count - i) * sizeof(*e->msgs));
		e->count = out + (e->count - i);
		mcache_clear(e);
	}
out_stmts:
	sqlite3_finalize(del);
	sqlite3_finalize(up);
	return ret;
}

/* Numbers the disk entries no message matched (files new to the folder)
 * in delivery order and adds them to the entry, in the caller's write
 * transaction. */
static int dirs_apply_fresh(struct mail_index *idx, struct mcache *e, struct index_mailbox *mbox,
			    const struct sync_dirs *dirs, struct disk_entry *disk, size_t ndisk)
{
	struct disk_entry **fresh = malloc((ndisk > 0 ? ndisk : 1) * sizeof(*fresh));
	sqlite3_stmt *ins = NULL;
	size_t nfresh = 0;
	int ret = -1;

	if (fresh == NULL)
		return -1;
	for (size_t i = 0; i < ndisk; i++) {
		if (!disk[i].matched)
			fresh[nfresh++] = &disk[i];
	}
	if (nfresh > 1)
		qsort(fresh, nfresh, sizeof(*fresh), idx_disk_cmp_time);
	if (nfresh > 0 && (ins = idx_prepare(idx, "INSERT INTO messages(mailbox_id, uid, base, file, flags,"
					     " modseq, size, internaldate) VALUES (?, ?, ?, ?, ?, ?, ?, ?)")) == NULL)
		goto out;
	for (size_t i = 0; i < nfresh; i++) {
		struct mcache_msg *grown = realloc(e->msgs, (e->count + 1) * sizeof(*grown));
		struct index_msg m;
		int r;

		if (grown == NULL)
			goto out;
		e->msgs = grown;
		memset(&m, 0, sizeof(m));
		if ((r = idx_sync_insert(ins, dirs, mbox, fresh[i], &m)) < 0)
			goto out;
		if (r == 1)
			continue;
		memset(&e->msgs[e->count], 0, sizeof(*grown));
		if (mcache_msg_set(e, &e->msgs[e->count], &m) < 0)
			goto out;
		e->count++;
		if (m.recent)
			index_recent_note(mbox, m.uid);
	}
	if (nfresh > 0 && dirs->cur_fd >= 0)
		fsync(dirs->cur_fd);
	ret = 0;
out:
	sqlite3_finalize(ins);
	free(fresh);
	return ret;
}

/* cur/ no longer holds the files the entry knows (another program removed,
 * renamed or added some) while the entry is otherwise current: the
 * directories are compared with the entry instead of the index's rows,
 * and only the differences are written and logged. -1: the caller syncs
 * in full (the entry may have been emptied). */
static int mcache_sync_dirs(struct mail_index *idx, struct mcache *e, struct index_mailbox *mbox)
{
	struct disk_entry *disk = NULL;
	struct disk_table byname = { NULL, 0 };
	struct sync_dirs dirs = { -1, -1 };
	size_t ndisk = 0, cap = 0;
	uint64_t version;
	int ret = -1;

	if (idx_disk_scan_dir(mbox->path, true, &disk, &ndisk, &cap) < 0 ||
	    idx_disk_scan_dir(mbox->path, false, &disk, &ndisk, &cap) < 0 ||
	    idx_disk_table_make(&byname, disk, ndisk) < 0)
		goto out;
	dirs.new_fd = idx_sync_dir_open(mbox->path, "new");
	dirs.cur_fd = idx_sync_dir_open(mbox->path, "cur");
	if (idx_exec(idx, "BEGIN IMMEDIATE") < 0)
		goto out;
	version = mcache_version_next();
	if (idx_mailbox_reload(idx, mbox) < 0 || mbox->uidnext != e->uidnext ||
	    mbox->highestmodseq != e->highestmodseq ||
	    dirs_apply_known(idx, e, mbox, &dirs, &byname, version) < 0 ||
	    dirs_apply_fresh(idx, e, mbox, &dirs, disk, ndisk) < 0 ||
	    idx_mailbox_save_counters(idx, mbox) < 0 || idx_exec(idx, "COMMIT") < 0) {
		idx_exec(idx, "ROLLBACK");
		mcache_clear(e);
		goto out;
	}
	e->uidnext = mbox->uidnext;
	e->highestmodseq = mbox->highestmodseq;
	e->version = version;
	e->new_known = false;
	/* cur/'s mtime after the moves from new/; not settled, so a change
	 * since the reading is still found at the next look */
	e->cur_settled = false;
	if (dir_mtime(mbox->path, "cur", &e->cur_mtime) < 0)
		mcache_clear(e);
	ret = e->valid ? 0 : -1;
out:
	if (dirs.new_fd >= 0)
		close(dirs.new_fd);
	if (dirs.cur_fd >= 0)
		close(dirs.cur_fd);
	free(byname.slots);
	free(disk);
	return ret;
}

/* The first entry at or above uid. */
static size_t mcache_lower_bound(const struct mcache *e, uint32_t uid)
{
	size_t lo = 0, hi = e->count;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (e->msgs[mid].uid < uid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static int uid_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* Whether the entry can tell what changed since version since. */
static bool mcache_has_delta(const struct mcache *e, const struct index_mailbox *mbox, uint64_t since)
{
	return since != 0 && e != NULL && e->valid && e->mbox_id == mbox->id &&
	       e->uidvalidity == mbox->uidvalidity && since >= e->log_floor && since <= e->version;
}

/* Fills ch with the rows changed since version since at or below last_uid
 * (the logged UIDs still there), those gone, and every row above last_uid:
 * work in proportion to the changes, not the folder. */
static int mcache_delta(const struct mcache *e, struct index_mailbox *mbox, uint64_t since,
			uint32_t last_uid, struct index_changes *ch)
{
	size_t first = e->nlog, nuids = 0, tail = mcache_lower_bound(e, last_uid + 1), cap;
	uint32_t *uids;

	while (first > 0 && e->log[first - 1].version > since)
		first--;
	uids = malloc((e->nlog - first + 1) * sizeof(*uids));
	if (uids == NULL)
		return -1;
	for (size_t i = first; i < e->nlog; i++) {
		if (e->log[i].uid <= last_uid)
			uids[nuids++] = e->log[i].uid;
	}
	if (nuids > 1)
		qsort(uids, nuids, sizeof(*uids), uid_cmp);
	cap = nuids + (e->count - tail) + 1;
	ch->view.msgs = malloc(cap * sizeof(*ch->view.msgs));
	ch->gone = malloc((nuids + 1) * sizeof(*ch->gone));
	if (ch->view.msgs == NULL || ch->gone == NULL) {
		free(uids);
		return -1;
	}
	for (size_t i = 0; i < nuids; i++) {
		const struct mcache_msg *c;

		if (i > 0 && uids[i] == uids[i - 1])
			continue;
		if ((c = mcache_find((struct mcache *)e, uids[i])) != NULL)
			mcache_row(c, &ch->view.msgs[ch->view.count++]);
		else
			ch->gone[ch->ngone++] = uids[i];
	}
	free(uids);
	for (size_t i = tail; i < e->count; i++)
		mcache_row(&e->msgs[i], &ch->view.msgs[ch->view.count++]);
	mcache_view_head(e, mbox, &ch->view);
	return 0;
}

void index_changes_free(struct index_changes *ch)
{
	index_view_free(&ch->view);
	free(ch->gone);
	ch->gone = NULL;
	ch->ngone = 0;
}

int mail_index_sync_since(struct mail_index *idx, struct index_mailbox *mbox, uint64_t since,
			  uint32_t last_uid, struct index_changes *ch_r)
{
	struct mcache *e = mcache_get(mbox->path);
	struct timespec cur_mtime = { 0, 0 };
	uint64_t ext = store_ext_generation(idx->root);
	struct index_view full;
	bool moved = false, have_full = false;
	int r;

	memset(ch_r, 0, sizeof(*ch_r));
	memset(&full, 0, sizeof(full));
	if (!mcache_check(idx, e, mbox, &cur_mtime)) {
		r = idx_sync_full(idx, mbox, &full, &moved);
		if (r == 0 && e != NULL) {
			/* cur/'s mtime from before the scan, unless the sync
			 * itself changed cur/ (new files moved in, flags taken
			 * from names). */
			if (moved && dir_mtime(mbox->path, "cur", &cur_mtime) < 0)
				mcache_clear(e);
			else
				mcache_fill(e, mbox, &full, ext, &cur_mtime);
		} else if (e != NULL) {
			mcache_clear(e);
		}
		if (r < 0) {
			mcache_put(e);
			return -1;
		}
		/* before the recent floor is known, this sync's moves out of
		 * new/ set it */
		index_recent_mark(mbox, &full);
		full.version = e != NULL && e->valid ? e->version : 0;
		have_full = true;
	}
	ch_r->full = !mcache_has_delta(e, mbox, since);
	if (!ch_r->full) {
		r = mcache_delta(e, mbox, since, last_uid, ch_r);
	} else if (have_full) {
		ch_r->view = full;
		have_full = false;
		r = 0;
	} else {
		r = mcache_to_view(e, mbox, &ch_r->view);
	}
	mcache_put(e);
	if (have_full)
		index_view_free(&full);
	if (r < 0) {
		index_changes_free(ch_r);
		return -1;
	}
	index_recent_mark(mbox, &ch_r->view);
	return 0;
}

int mail_index_sync(struct mail_index *idx, struct index_mailbox *mbox, struct index_view *view_r)
{
	struct index_changes ch;

	if (mail_index_sync_since(idx, mbox, 0, 0, &ch) < 0) {
		memset(view_r, 0, sizeof(*view_r));
		return -1;
	}
	*view_r = ch.view;
	free(ch.gone);
	return 0;
}

int mail_index_brief(struct mail_index *idx, struct index_mailbox *mbox, struct index_brief **rows_r,
		     size_t *count_r)
{
	struct mcache *e = mcache_get(mbox->path);
	struct timespec cur_mtime = { 0, 0 };
	struct index_brief *rows;
	struct index_view v;

	*rows_r = NULL;
	*count_r = 0;
	if (mcache_check(idx, e, mbox, &cur_mtime)) {
		rows = malloc((e->count > 0 ? e->count : 1) * sizeof(*rows));
		for (size_t i = 0; rows != NULL && i < e->count; i++) {
			const struct mcache_msg *c = &e->msgs[i];
			rows[i] = (struct index_brief){ c->uid, c->flags, c->size, c->modseq, c->internaldate };
		}
		if (rows != NULL) {
			*count_r = e->count;
			mbox->uidnext = e->uidnext;
			mbox->highestmodseq = e->highestmodseq;
		}
		mcache_put(e);
		*rows_r = rows;
		return rows != NULL ? 0 : -1;
	}
	mcache_put(e);
	if (mail_index_sync(idx, mbox, &v) < 0)
		return -1;
	rows = malloc((v.count > 0 ? v.count : 1) * sizeof(*rows));
	for (size_t i = 0; rows != NULL && i < v.count; i++) {
		const struct index_msg *m = &v.msgs[i];
		rows[i] = (struct index_brief){ m->uid, m->flags, m->size, m->modseq, m->internaldate };
	}
	*count_r = rows != NULL ? v.count : 0;
	index_view_free(&v);
	*rows_r = rows;
	return rows != NULL ? 0 : -1;
}

int mail_index_rows(struct mail_index *idx, struct index_mailbox *mbox, const uint32_t *uids, size_t n,
		    struct index_view *view_r)
{
	struct mcache *e = mcache_get(mbox->path);
	size_t out = 0;

	memset(view_r, 0, sizeof(*view_r));
	if (e == NULL || !e->valid || e->mbox_id != mbox->id || e->uidvalidity != mbox->uidvalidity) {
		/* no current entry: a sync makes one */
		mcache_put(e);
		if (mail_index_sync(idx, mbox, view_r) < 0)
			return -1;
		for (size_t i = 0, j = 0; i < view_r->count; i++) {
			while (j < n && uids[j] < view_r->msgs[i].uid)
				j++;
			if (j < n && uids[j] == view_r->msgs[i].uid)
				view_r->msgs[out++] = view_r->msgs[i];
		}
		view_r->count = out;
		return 0;
	}
	view_r->msgs = malloc((n > 0 ? n : 1) * sizeof(*view_r->msgs));
	if (view_r->msgs == NULL) {
		mcache_put(e);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		const struct mcache_msg *c = mcache_find(e, uids[i]);
		if (c != NULL)
			mcache_row(c, &view_r->msgs[out++]);
	}
	view_r->count = out;
	mcache_view_head(e, mbox, view_r);
	mcache_put(e);
	index_recent_mark(mbox, view_r);
	return 0;
}

void index_view_free(struct index_view *view)
{
	free(view->msgs);
	view->msgs = NULL;
	view->count = 0;
}

/* Flag changes go to the index in transactions of at most this many: one
 * commit (one WAL fsync) per batch, and the write lock held for a bounded
 * time. */
#define FLAGS_BATCH 1000

static int index_set_flags_batch(struct mail_index *idx, struct index_mailbox *mbox,
				 struct index_flag_change *ch, size_t n, bool *renamed_r);

/* The message cache follows the changes made, or is dropped when cur/
 * changed meanwhile in a way they don't explain. */
static void mcache_apply_flags(struct mcache *e, struct index_mailbox *mbox, const struct timespec *before,
			       const struct index_flag_change *ch, size_t n, bool renamed)
{
	if (!mcache_can_apply(e, mbox, before)) {
		if (e != NULL)
			mcache_drop(e);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		struct mcache_msg *c;

		if (ch[i].result != 0)
			continue;
		c = mcache_find(e, ch[i].msg->uid);
		if (c == NULL || mcache_msg_set(e, c, ch[i].msg) < 0) {
			mcache_drop(e);
			return;
		}
		mcache_note(e, ch[i].msg->uid);
	}
	e->highestmodseq = mbox->highestmodseq;
	e->uidnext = mbox->uidnext;
	if (renamed && dir_mtime(mbox->path, "cur", &e->cur_mtime) < 0)
		mcache_drop(e);
	e->cur_settled &= !renamed;
}

int mail_index_set_flags_many(struct mail_index *idx, struct index_mailbox *mbox,
			      struct index_flag_change *ch, size_t n)
{
	struct mcache *e;
	struct timespec before = { 0, 0 };
	bool renamed = false, changed = false;
	int ret = 0;

	for (size_t i = 0; i < n; i++)
		ch[i].result = -1;
	if (n == 0)
		return 0;
	e = mcache_get(mbox->path);
	if (dir_mtime(mbox->path, "cur", &before) < 0 && e != NULL)
		mcache_drop(e);
	for (size_t i = 0; i < n; i += FLAGS_BATCH) {
		size_t k = n - i < FLAGS_BATCH ? n - i : FLAGS_BATCH;

		if (index_set_flags_batch(idx, mbox, ch + i, k, &renamed) < 0)
			ret = -1;
	}
	for (size_t i = 0; i < n; i++)
		changed |= ch[i].result == 0;
	mcache_apply_flags(e, mbox, &before, ch, n, renamed);
	mcache_put(e);
	if (changed)
		store_changed_cached(idx->root);
	return ret;
}

int mail_index_set_flags(struct mail_index *idx, struct index_mailbox *mbox, struct index_msg *msg,
			 uint32_t flags, const char *keywords)
{
	struct index_flag_change ch = { .msg = msg, .flags = flags, .keywords = keywords };

	mail_index_set_flags_many(idx, mbox, &ch, 1);
	return ch.result;
}

/* Renames each message's file to its new flags, then records all of them in
 * one transaction. A change whose file could not be renamed is left out
 * (result -1); when the transaction fails, all are (the files' new names are
 * then picked up by the next full sync, as another program's changes). */
static int index_set_flags_batch(struct mail_index *idx, struct index_mailbox *mbox,
				 struct index_flag_change *ch, size_t n, bool *renamed_r)
{
	char from[PATH_MAX], to[PATH_MAX], base[MAILDIR_NAME_MAX], letters[16];
	char (*files)[sizeof(ch->msg->file)] = malloc(n * sizeof(*files));
	sqlite3_stmt *st = NULL;
	uint64_t modseq = 0, first;
	bool any = false;

	if (files == NULL)
		return -1;
	for (size_t i = 0; i < n; i++) {
		const struct index_msg *msg = ch[i].msg;

		index_flags_to_maildir(ch[i].flags, letters, sizeof(letters));
		idx_base_of(msg->file, base, sizeof(base));
		snprintf(files[i], sizeof(files[i]), "%s:2,%s", base, letters);
		ch[i].result = 1;	/* 1: to record; -1: left out */
		if (strcmp(files[i], msg->file) != 0) {
			snprintf(from, sizeof(from), "%s/cur/%s", mbox->path, msg->file);
			snprintf(to, sizeof(to), "%s/cur/%s", mbox->path, files[i]);
			if (rename(from, to) < 0) {
				ch[i].result = -1;
				continue;
			}
			*renamed_r = true;
		}
		any = true;
	}
	if (!any)
		goto fail;
	if (idx_exec(idx, "BEGIN IMMEDIATE") < 0)
		goto fail;
	st = idx_prepare(idx, "UPDATE messages SET file = ?, flags = ?, keywords = ?, modseq = ?"
			 " WHERE mailbox_id = ? AND uid = ?");
	if (st == NULL || idx_mailbox_reload(idx, mbox) < 0)
		goto rollback;
	modseq = mbox->highestmodseq;
	for (size_t i = 0; i < n; i++) {
		const struct index_msg *msg = ch[i].msg;

		if (ch[i].result < 0)
			continue;
		sqlite3_reset(st);
		sqlite3_bind_text(st, 1, files[i], -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, ch[i].flags);
		sqlite3_bind_text(st, 3, ch[i].keywords != NULL ? ch[i].keywords : msg->keywords, -1,
				  SQLITE_TRANSIENT);
		sqlite3_bind_int64(st, 4, (sqlite3_int64)(modseq + 1));
		sqlite3_bind_int64(st, 5, mbox->id);
		sqlite3_bind_int64(st, 6, msg->uid);
		if (sqlite3_step(st) != SQLITE_DONE)
			goto rollback;
		modseq++;
	}
	first = mbox->highestmodseq + 1;
	mbox->highestmodseq = modseq;
	if (idx_mailbox_save_counters(idx, mbox) < 0 || idx_exec(idx, "COMMIT") < 0) {
		mbox->highestmodseq = first - 1;
		goto rollback;
	}
	sqlite3_finalize(st);
	for (size_t i = 0; i < n; i++) {
		struct index_msg *msg = ch[i].msg;

		if (ch[i].result < 0)
			continue;
		ch[i].result = 0;
		msg->modseq = first++;
		str_copy(msg->file, sizeof(msg->file), files[i]);
		msg->flags = ch[i].flags;
		if (ch[i].keywords != NULL)
			str_copy(msg->keywords, sizeof(msg->keywords), ch[i].keywords);
	}
	free(files);
	return 0;
rollback:
	sqlite3_finalize(st);
	idx_exec(idx, "ROLLBACK");
fail:
	for (size_t i = 0; i < n; i++)
		ch[i].result = -1;
	free(files);
	return any ? -1 : 0;
}

static int index_append(struct mail_index *idx, struct index_mailbox *mbox, const struct maildir_msg *msg,
			const char *letters, char *file, size_t filesize, uint32_t flags, const char *keywords,
			int64_t internaldate, uint32_t *uid_r, const char **error_r);

/* Adds rows just appended (UIDs above every row the entry holds) to the
 * folder's cache entry when it was current before the append (cur/'s
 * mtime then is before), else drops the entry; and puts it back. */
static void mcache_add_appended(struct mcache *e, struct index_mailbox *mbox, const struct timespec *before,
				const struct index_msg *rows, size_t n)
{
	bool ok = n > 0 && mcache_can_apply(e, mbox, before) &&
		  (e->count == 0 || e->msgs[e->count - 1].uid < rows[0].uid);
	struct mcache_msg *grown = ok ? realloc(e->msgs, (e->count + n) * sizeof(*grown)) : NULL;

	ok = ok && grown != NULL;
	if (ok)
		e->msgs = grown;
	for (size_t i = 0; ok && i < n; i++) {
		memset(&e->msgs[e->count], 0, sizeof(*grown));
		ok = mcache_msg_set(e, &e->msgs[e->count], &rows[i]) == 0;
		if (ok)
			e->count++;
	}
	if (ok) {
		e->uidnext = mbox->uidnext;
		e->highestmodseq = mbox->highestmodseq;
		mcache_note(e, 0);	/* above every UID before: no log */
		ok = dir_mtime(mbox->path, "cur", &e->cur_mtime) == 0;
		e->cur_settled = false;
	}
	if (!ok && e != NULL)
		mcache_drop(e);
	mcache_put(e);
}

int mail_index_append(struct mail_index *idx, struct index_mailbox *mbox, const struct maildir_msg *msg,
		      uint32_t flags, const char *keywords, int64_t internaldate, uint32_t *uid_r,
		      const char **error_r)
{
	char letters[16], file[MAILDIR_NAME_MAX + 40];
	struct timespec before = { 0, 0 };
	struct index_msg m;
	struct mcache *e;
	int r;

	index_flags_to_maildir(flags, letters, sizeof(letters));
	e = mcache_get(mbox->path);
	if (dir_mtime(mbox->path, "cur", &before) < 0 && e != NULL)
		mcache_drop(e);
	r = index_append(idx, mbox, msg, letters, file, sizeof(file), flags, keywords, internaldate,
			 uid_r, error_r);
	memset(&m, 0, sizeof(m));
	if (r == 0) {
		m.uid = *uid_r;
		m.flags = flags;
		m.modseq = mbox->highestmodseq;
		m.size = msg->prefix_len + msg->body_len;
		m.internaldate = internaldate > 0 ? internaldate : (int64_t)time(NULL);
		snprintf(m.file, sizeof(m.file), "%s", file);
		str_copy(m.keywords, sizeof(m.keywords), keywords != NULL ? keywords : "");
	}
	mcache_add_appended(e, mbox, &before, &m, r == 0 ? 1 : 0);
	return r;
}

/* Removes what mail_index_append_many made before it failed: the files it
 * named in cur/ (and cur/ fsynced, so none comes back after a crash) and
 * those still in tmp/. */
static void append_many_undo(const struct index_mailbox *mbox, const struct index_msg *rows, size_t named,
			     char (*base)[MAILDIR_NAME_MAX], size_t written)
{
	char path[PATH_MAX];

	for (size_t i = 0; i < written; i++) {
		if (i < named)
			snprintf(path, sizeof(path), "%s/cur/%s", mbox->path, rows[i].file);
		else
			snprintf(path, sizeof(path), "%s/tmp/%s", mbox->path, base[i]);
		unlink(path);
	}
	if (named > 0) {
		snprintf(path, sizeof(path), "%s/cur", mbox->path);
		fs_fsync_dir(path);
	}
}

int mail_index_append_many(struct mail_index *idx, struct index_mailbox *mbox, const struct index_append *v,
			   size_t n, uint32_t *uids_r, const char **error_r)
{
	char (*base)[MAILDIR_NAME_MAX] = calloc(n > 0 ? n : 1, sizeof(*base));
	struct index_msg *rows = calloc(n > 0 ? n : 1, sizeof(*rows));
	char from[PATH_MAX], to[PATH_MAX], letters[16];
	struct timespec before = { 0, 0 };
	size_t written = 0, named = 0;
	struct mcache *e;

	if (base == NULL || rows == NULL) {
		free(base);
		free(rows);
		*error_r = "out of memory";
		return -1;
	}
	e = mcache_get(mbox->path);
	if (dir_mtime(mbox->path, "cur", &before) < 0 && e != NULL)
		mcache_drop(e);
	/* 1. every file written and synced in tmp/, out of sight */
	for (; written < n; written++) {
		struct index_msg *m = &rows[written];

		if (maildir_write_tmp(mbox->path, v[written].msg, base[written], sizeof(base[written]),
				      error_r) < 0)
			goto fail;
		index_flags_to_maildir(v[written].flags, letters, sizeof(letters));
		snprintf(m->file, sizeof(m->file), "%s:2,%s", base[written], letters);
		m->flags = v[written].flags;
		m->size = v[written].msg->prefix_len + v[written].msg->body_len;
		m->internaldate = v[written].internaldate > 0 ? v[written].internaldate : (int64_t)time(NULL);
		str_copy(m->keywords, sizeof(m->keywords), v[written].keywords != NULL ? v[written].keywords : "");
		if (v[written].internaldate > 0) {
			/* INTERNALDATE lives in the file's mtime (index_append) */
			struct timespec ts[2] = { { m->internaldate, 0 }, { m->internaldate, 0 } };

			snprintf(from, sizeof(from), "%s/tmp/%s", mbox->path, base[written]);
			utimensat(AT_FDCWD, from, ts, 0);
		}
	}
	/* 2. under the write lock, so a sync meanwhile waits for the rows
	 * instead of numbering the files itself: the names, one fsync of
	 * cur/, the rows in one transaction */
	if (idx_exec(idx, "BEGIN IMMEDIATE") < 0) {
		*error_r = "index busy";
		goto fail;
	}
	for (; named < n; named++) {
		snprintf(from, sizeof(from), "%s/tmp/%s", mbox->path, base[named]);
		snprintf(to, sizeof(to), "%s/cur/%s", mbox->path, rows[named].file);
		if (rename(from, to) < 0) {
			*error_r = "rename failed";
			goto fail_locked;
		}
	}
	snprintf(to, sizeof(to), "%s/cur", mbox->path);
	if (fs_fsync_dir(to) < 0) {
		*error_r = "directory fsync failed";
		goto fail_locked;
	}
	for (size_t i = 0; i < n; i++) {
		if (index_insert_row(idx, mbox, rows[i].file, rows[i].flags, rows[i].keywords, rows[i].size,
				     rows[i].internaldate, &uids_r[i]) < 0) {
			*error_r = "index update failed";
			goto fail_locked;
		}
		rows[i].uid = uids_r[i];
		rows[i].modseq = mbox->highestmodseq;
	}
	if (idx_exec(idx, "COMMIT") < 0) {
		*error_r = "index update failed";
		goto fail_locked;
	}
	store_changed_cached(idx->root);
	mcache_add_appended(e, mbox, &before, rows, n);
	free(base);
	free(rows);
	return 0;
fail_locked:
	idx_exec(idx, "ROLLBACK");
fail:
	append_many_undo(mbox, rows, named, base, written);
	if (e != NULL)
		mcache_drop(e);
	mcache_put(e);
	free(base);
	free(rows);
	return -1;
}

static int index_append(struct mail_index *idx, struct index_mailbox *mbox, const struct maildir_msg *msg,
			const char *letters, char *file, size_t filesize, uint32_t flags, const char *keywords,
			int64_t internaldate, uint32_t *uid_r, const char **error_r)
{
	char path[PATH_MAX];

	if (maildir_deliver_cur(mbox->path, msg, letters, file, filesize, error_r) < 0)
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

/* For the rebuild of a damaged index (index_rebuild.c): when the folder at
 * path has a current cache entry (of UIDVALIDITY uidvalidity, or of any
 * when 0), its rows go into the new file idx under mailbox id and its
 * counters into the _r arguments. 1: done, 0: no such entry, -1: error. */
int mcache_salvage(const char *path, struct mail_index *idx, int64_t id, uint32_t uidvalidity,
		   uint32_t *uidvalidity_r, uint32_t *uidnext_r, uint64_t *highestmodseq_r)
{
	struct mcache *e = mcache_get(path);
	sqlite3_stmt *st;
	char base[MAILDIR_NAME_MAX + 40];
	int ret = 1;

	if (e == NULL || !e->valid || e->uidvalidity == 0 ||
	    (uidvalidity != 0 && e->uidvalidity != uidvalidity)) {
		mcache_put(e);
		return 0;
	}
	st = idx_prepare(idx, "INSERT INTO messages(mailbox_id, uid, base, file, flags, keywords, modseq,"
			 " size, internaldate) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)");
	for (size_t i = 0; st != NULL && i < e->count && ret == 1; i++) {
		const struct mcache_msg *c = &e->msgs[i];

		idx_base_of(c->file, base, sizeof(base));
		sqlite3_bind_int64(st, 1, id);
		sqlite3_bind_int64(st, 2, c->uid);
		sqlite3_bind_text(st, 3, base, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 4, c->file, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(st, 5, c->flags);
		sqlite3_bind_text(st, 6, c->keywords != NULL ? c->keywords : "", -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(st, 7, (sqlite3_int64)c->modseq);
		sqlite3_bind_int64(st, 8, (sqlite3_int64)c->size);
		sqlite3_bind_int64(st, 9, c->internaldate);
		if (sqlite3_step(st) != SQLITE_DONE)
			ret = -1;
		sqlite3_reset(st);
	}
	if (st == NULL)
		ret = -1;
	sqlite3_finalize(st);
	if (ret == 1) {
		*uidvalidity_r = e->uidvalidity;
		*uidnext_r = e->uidnext;
		*highestmodseq_r = e->highestmodseq;
	}
	mcache_put(e);
	return ret;
}
