/* Damaged indexes: the check, the salvage and the rebuild (index.h). The
 * new index is written into index.db.rebuild beside the old one, filled
 * with what the old one can still tell (folders with their UIDVALIDITY,
 * UIDNEXT and HIGHESTMODSEQ, messages with UID, flags and keywords; one
 * folder at a time, so one unreadable folder costs only its own UIDs; a
 * fresh rebuild takes the folders only and raises their UIDVALIDITY),
 * brought in line with the Maildir by the ordinary sync, and then put in
 * place:
 *   - a damaged index.db is kept as index.db.corrupt-TIMESTAMP (a hard
 *     link), its WAL moved beside it, and the new file renamed over it;
 *     pooled handles see the new inode and reopen;
 *   - a sound one (yubinctl index rebuild --force) is overwritten through
 *     SQLite's backup API, a write transaction like any other, so handles
 *     the daemon has open simply read the new content.
 * Every rebuild of one account holds an flock on index.lock, across
 * processes. */
#include "store/index.h"
#include "lib/fsutil.h"
#include "lib/log.h"
#include "lib/str.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "store/index_private.h"

/* Up to this size the check at open reads the whole file (quick_check);
 * past it only the header and the schema. */
#define INDEX_QUICK_CHECK_MAX (1024 * 1024)

int mail_index_check(const char *root)
{
	char path[PATH_MAX];
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	struct stat sb;
	int rc, ret = -1;

	snprintf(path, sizeof(path), "%s/index.db", root);
	if (stat(path, &sb) < 0)
		return errno == ENOENT ? 0 : -1;
	/* Through SQLite only, never by peeking at the file: pages in the
	 * WAL or a checkpoint under way make the raw file look wrong. */
	rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc == SQLITE_OK) {
		int persist = 1;
		sqlite3_file_control(db, "main", SQLITE_FCNTL_PERSIST_WAL, &persist);
		sqlite3_busy_timeout(db, 10000);
		rc = sqlite3_prepare_v2(db, sb.st_size <= INDEX_QUICK_CHECK_MAX ? "PRAGMA quick_check(1)" :
					"SELECT 'ok' FROM mailboxes LIMIT 1", -1, &st, NULL);
	}
	if (rc == SQLITE_OK) {
		rc = sqlite3_step(st);
		if (rc == SQLITE_ROW)
			ret = strcmp((const char *)sqlite3_column_text(st, 0), "ok") != 0;
		else if (rc == SQLITE_DONE)
			ret = 0;
	}
	if (ret < 0 && idx_rc_is_corrupt(rc))
		ret = 1;
	else if (ret < 0 && db != NULL && idx_rc_is_corrupt(sqlite3_extended_errcode(db)))
		ret = 1;
	sqlite3_finalize(st);
	sqlite3_close(db);
	return ret;
}

/* ---- salvage -------------------------------------------------------------- */

/* Copies the old index's rows into the new one through ATTACH: all the
 * folder rows, then each folder's messages in a savepoint of their own.
 * A folder whose messages cannot all be read gets a new UIDVALIDITY and
 * no rows (the sync numbers its files anew). */
static void salvage(struct mail_index *idx, const char *old, bool fresh)
{
	sqlite3_stmt *st, *ids;
	char sql[256];
	int64_t *list = NULL;
	size_t n = 0;

	st = idx_prepare(idx, "ATTACH ? AS old");
	if (st == NULL)
		return;
	sqlite3_bind_text(st, 1, old, -1, SQLITE_TRANSIENT);
	if (idx_step_done(st) < 0)
		return;
	if (sqlite3_exec(idx->db, "INSERT INTO main.mailboxes SELECT * FROM old.mailboxes", NULL, NULL,
			 NULL) != SQLITE_OK) {
		sqlite3_exec(idx->db, "DELETE FROM main.mailboxes", NULL, NULL, NULL);
		goto detach;
	}
	if (fresh) {
		/* The folders only, each to get a UIDVALIDITY above its own. */
		sqlite3_exec(idx->db, "UPDATE main.mailboxes SET uidvalidity = -uidvalidity", NULL, NULL, NULL);
		goto detach;
	}
	ids = idx_prepare(idx, "SELECT id FROM main.mailboxes");
	while (ids != NULL && sqlite3_step(ids) == SQLITE_ROW) {
		int64_t *grown = realloc(list, (n + 1) * sizeof(*list));
		if (grown == NULL)
			break;
		list = grown;
		list[n++] = sqlite3_column_int64(ids, 0);
	}
	sqlite3_finalize(ids);
	for (size_t i = 0; i < n; i++) {
		snprintf(sql, sizeof(sql), "SAVEPOINT f; INSERT INTO main.messages SELECT * FROM"
			 " old.messages WHERE mailbox_id = %lld; RELEASE f", (long long)list[i]);
		if (sqlite3_exec(idx->db, sql, NULL, NULL, NULL) == SQLITE_OK)
			continue;
		sqlite3_exec(idx->db, "ROLLBACK TO f; RELEASE f", NULL, NULL, NULL);
		/* <= 0 marks "no UIDs kept": renew_folders() gives a new one. */
		snprintf(sql, sizeof(sql), "UPDATE main.mailboxes SET uidvalidity = -uidvalidity"
			 " WHERE id = %lld", (long long)list[i]);
		sqlite3_exec(idx->db, sql, NULL, NULL, NULL);
	}
	free(list);
	/* UIDNEXT never below a UID in use, whatever the old row said. */
	sqlite3_exec(idx->db, "UPDATE main.mailboxes SET uidnext = max(uidnext, (SELECT"
		     " coalesce(max(uid), 0) + 1 FROM main.messages WHERE mailbox_id = mailboxes.id))",
		     NULL, NULL, NULL);
detach:
	sqlite3_exec(idx->db, "DETACH old", NULL, NULL, NULL);
}

/* ---- the new file ----------------------------------------------------------- */

struct rebuild_ctx {
	struct mail_index *idx;
	struct index_rebuild_report *rep;
	int64_t *renewed;	/* folder ids given a new UIDVALIDITY */
	size_t nrenewed, len;
	int failed;
};

static bool is_renewed(const struct rebuild_ctx *rc, int64_t id)
{
	for (size_t i = 0; i < rc->nrenewed; i++) {
		if (rc->renewed[i] == id)
			return true;
	}
	return false;
}

static void report_folder(const struct index_mailbox *m, void *arg)
{
	struct rebuild_ctx *rc = arg;
	struct index_rebuild_report *rep = rc->rep;
	struct index_mailbox copy = *m;
	struct index_view v;
	bool renewed = is_renewed(rc, m->id);
	int n;

	/* The message cache must not answer for the new file. */
	store_changed(rc->idx->root);
	if (mail_index_sync(rc->idx, &copy, &v) < 0) {
		rc->failed = 1;
		return;
	}
	rep->folders++;
	rep->messages += (unsigned)v.count;
	rep->renewed += renewed;
	n = snprintf(rep->detail + rc->len, sizeof(rep->detail) - rc->len, "%s%s (%zu message%s, %s)",
		     rc->len > 0 ? ", " : "", m->name, v.count, v.count == 1 ? "" : "s",
		     renewed ? "new UIDVALIDITY" : "UIDs kept");
	if (n > 0)
		rc->len = rc->len + (size_t)n >= sizeof(rep->detail) ? sizeof(rep->detail) - 1 : rc->len + (size_t)n;
	index_view_free(&v);
}

/* Folders whose rows the damaged file could not give (uidvalidity <= 0)
 * take them from this process's message cache when it holds a current
 * copy (the daemon: the state its clients last saw), of the same
 * UIDVALIDITY when the old row told it. */
static void salvage_cached(struct rebuild_ctx *rc)
{
	struct folder { int64_t id, old; char dir[INDEX_NAME_MAX * 3]; } *list = NULL;
	sqlite3_stmt *st = idx_prepare(rc->idx, "SELECT id, dir, uidvalidity FROM mailboxes"
				       " WHERE uidvalidity <= 0");
	char path[PATH_MAX + INDEX_NAME_MAX * 3], sql[256];
	size_t n = 0;

	while (st != NULL && sqlite3_step(st) == SQLITE_ROW) {
		struct folder *grown = realloc(list, (n + 1) * sizeof(*list));
		if (grown == NULL)
			break;
		list = grown;
		list[n].id = sqlite3_column_int64(st, 0);
		list[n].old = -sqlite3_column_int64(st, 2);
		str_copy(list[n++].dir, sizeof(list->dir), (const char *)sqlite3_column_text(st, 1));
	}
	sqlite3_finalize(st);
	for (size_t i = 0; i < n; i++) {
		uint32_t uidvalidity, uidnext;
		uint64_t hms;
		int r;

		snprintf(path, sizeof(path), "%s%s%s", rc->idx->root, list[i].dir[0] != '\0' ? "/" : "",
			 list[i].dir);
		if (idx_exec(rc->idx, "SAVEPOINT c") < 0)
			break;
		r = mcache_salvage(path, rc->idx, list[i].id, list[i].old > 1 ? (uint32_t)list[i].old : 0,
				   &uidvalidity, &uidnext, &hms);
		if (r == 1) {
			snprintf(sql, sizeof(sql), "UPDATE mailboxes SET uidvalidity = %u, uidnext = max(%u, (SELECT"
				 " coalesce(max(uid), 0) + 1 FROM messages WHERE mailbox_id = %lld)),"
				 " highestmodseq = %llu WHERE id = %lld", uidvalidity, uidnext,
				 (long long)list[i].id, (unsigned long long)hms, (long long)list[i].id);
			r = idx_exec(rc->idx, sql) == 0 ? 1 : -1;
		}
		idx_exec(rc->idx, r < 0 ? "ROLLBACK TO c; RELEASE c" : "RELEASE c");
	}
	free(list);
}

/* Folders without kept UIDs (uidvalidity <= 0: unreadable, new on disk,
 * or a fresh rebuild) get a new UIDVALIDITY: above the old one and now
 * when the old one is known (-uidvalidity), else an hour ahead of now,
 * past any value a folder made recently can have (new_uidvalidity() runs
 * ahead of the clock only while folders are made faster than one a
 * second), so that it cannot repeat the old one. */
static int renew_folders(struct rebuild_ctx *rc)
{
	sqlite3_stmt *st = idx_prepare(rc->idx, "SELECT id FROM mailboxes WHERE uidvalidity <= 0");

	while (st != NULL && sqlite3_step(st) == SQLITE_ROW) {
		int64_t *grown = realloc(rc->renewed, (rc->nrenewed + 1) * sizeof(*grown));
		if (grown == NULL)
			break;
		rc->renewed = grown;
		rc->renewed[rc->nrenewed++] = sqlite3_column_int64(st, 0);
	}
	sqlite3_finalize(st);
	return idx_exec(rc->idx, "UPDATE mailboxes SET uidnext = 1, uidvalidity = CASE WHEN uidvalidity < -1"
			" THEN max(1 - uidvalidity, CAST(strftime('%s', 'now') AS INTEGER))"
			" ELSE CAST(strftime('%s', 'now') AS INTEGER) + 3600 END WHERE uidvalidity <= 0");
}

/* Writes the new index into tmp: salvaged rows (none when fresh), the
 * folders on disk, then a sync of each folder. */
static int rebuild_file(const char *root, const char *tmp, bool fresh, struct index_rebuild_report *rep,
			char *err, size_t errsize)
{
	char old[PATH_MAX], p[PATH_MAX + 8];
	struct rebuild_ctx rc = { NULL, rep, NULL, 0, 0, 0 };
	sqlite3_stmt *st;
	int64_t kept_max = 0;
	int fd, ret;

	unlink(tmp);
	rc.idx = idx_open_file(root, tmp, false, err, errsize);
	if (rc.idx == NULL)
		return -1;
	/* idx_open_file() made rows for the folders on disk; the salvaged
	 * ones (with their ids and counters) take their place, and rows the
	 * scan adds after them are folders whose UIDs are not known. */
	idx_exec(rc.idx, "DELETE FROM mailboxes");
	snprintf(old, sizeof(old), "%s/index.db", root);
	salvage(rc.idx, old, fresh);
	st = idx_prepare(rc.idx, "SELECT coalesce(max(id), 0) FROM mailboxes");
	if (st != NULL && sqlite3_step(st) == SQLITE_ROW)
		kept_max = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	if (idx_scan_folders(rc.idx) < 0) {
		rc.failed = 1;
	} else {
		snprintf(p, sizeof(p), "UPDATE mailboxes SET uidvalidity = -1 WHERE id > %lld",
			 (long long)kept_max);
		if (idx_exec(rc.idx, p) == 0 && !fresh)
			salvage_cached(&rc);
		mcache_invalidate_root(root);
		if (renew_folders(&rc) < 0 ||
		    mail_index_mailbox_list(rc.idx, report_folder, &rc) < 0)
			rc.failed = 1;
	}
	free(rc.renewed);
	if (rc.failed) {
		snprintf(err, errsize, "%s: cannot index the folders", tmp);
		mail_index_close(rc.idx);
		return -1;
	}
	ret = idx_exec(rc.idx, "PRAGMA journal_mode=WAL");
	mail_index_close(rc.idx);
	mcache_invalidate_root(root);
	snprintf(p, sizeof(p), "%s-wal", tmp);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", tmp);
	unlink(p);
	fd = open(tmp, O_RDWR | O_CLOEXEC);
	if (ret < 0 || fd < 0 || fsync(fd) < 0) {
		snprintf(err, errsize, "%s: cannot write the new index", tmp);
		if (fd >= 0)
			close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Keeps the newest INDEX_CORRUPT_KEEP damaged copies (and their WALs). */
static void prune_corrupt(const char *root)
{
	char *names[64], p[PATH_MAX];
	size_t n = 0;
	struct dirent *de;
	DIR *d = opendir(root);

	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL && n < sizeof(names) / sizeof(names[0])) {
		if (strncmp(de->d_name, "index.db.corrupt-", 17) == 0 && strstr(de->d_name, "-wal") == NULL &&
		    (names[n] = strdup(de->d_name)) != NULL)
			n++;
	}
	closedir(d);
	if (n > 1)
		qsort(names, n, sizeof(names[0]), name_cmp);
	for (size_t i = 0; i < n; i++) {
		if (i + INDEX_CORRUPT_KEEP < n) {
			snprintf(p, sizeof(p), "%s/%s", root, names[i]);
			unlink(p);
			snprintf(p, sizeof(p), "%s/%s-wal", root, names[i]);
			unlink(p);
		}
		free(names[i]);
	}
}

/* Keeps the damaged file and its WAL under a dated name, then puts the
 * new file in place: one rename, so every opener sees the old file or
 * the new one. */
static int swap_damaged(const char *root, const char *tmp, char *err, size_t errsize)
{
	char db[PATH_MAX], aside[PATH_MAX], p[PATH_MAX], q[PATH_MAX + 8], stamp[32];
	time_t now = time(NULL);
	struct tm tm;

	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
	snprintf(db, sizeof(db), "%s/index.db", root);
	for (int i = 0; i < 100; i++) {
		if (i == 0)
			snprintf(aside, sizeof(aside), "%s/index.db.corrupt-%s", root, stamp);
		else
			snprintf(aside, sizeof(aside), "%s/index.db.corrupt-%s.%d", root, stamp, i);
		if (link(db, aside) == 0 || errno != EEXIST)
			break;
	}
	snprintf(p, sizeof(p), "%s-wal", db);
	snprintf(q, sizeof(q), "%s-wal", aside);
	if (rename(p, q) < 0 && errno != ENOENT) {
		snprintf(err, errsize, "cannot move %s aside: %s", p, strerror(errno));
		return -1;
	}
	snprintf(p, sizeof(p), "%s-shm", db);
	unlink(p);
	if (rename(tmp, db) < 0) {
		snprintf(err, errsize, "cannot put the new index in place: %s", strerror(errno));
		return -1;
	}
	fs_fsync_dir(root);
	prune_corrupt(root);
	return 0;
}

/* Overwrites a sound index with the new one inside one SQLite write
 * transaction, so open handles stay valid. */
static int copy_into(const char *root, const char *tmp, char *err, size_t errsize)
{
	char db[PATH_MAX];
	sqlite3 *src = NULL, *dst = NULL;
	sqlite3_backup *b;
	int rc, persist = 1;

	snprintf(db, sizeof(db), "%s/index.db", root);
	rc = sqlite3_open_v2(tmp, &src, SQLITE_OPEN_READWRITE, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_open_v2(db, &dst, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
	if (rc == SQLITE_OK) {
		sqlite3_file_control(dst, "main", SQLITE_FCNTL_PERSIST_WAL, &persist);
		sqlite3_busy_timeout(dst, 10000);
		rc = sqlite3_exec(dst, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL", NULL, NULL, NULL);
	}
	if (rc == SQLITE_OK) {
		b = sqlite3_backup_init(dst, "main", src, "main");
		rc = b == NULL ? sqlite3_errcode(dst) : sqlite3_backup_step(b, -1);
		if (b != NULL)
			sqlite3_backup_finish(b);
		rc = rc == SQLITE_DONE ? SQLITE_OK : rc;
	}
	if (rc != SQLITE_OK)
		snprintf(err, errsize, "cannot write %s: %s", db, dst != NULL ? sqlite3_errmsg(dst) : "?");
	sqlite3_close(src);
	sqlite3_close(dst);
	unlink(tmp);
	return rc == SQLITE_OK ? 0 : -1;
}

int mail_index_rebuild(const char *root, enum index_rebuild_mode mode,
		       struct index_rebuild_report *report_r, char *err, size_t errsize)
{
	char lock[PATH_MAX], tmp[PATH_MAX];
	int fd, damaged, ret;

	memset(report_r, 0, sizeof(*report_r));
	snprintf(lock, sizeof(lock), "%s/index.lock", root);
	snprintf(tmp, sizeof(tmp), "%s/index.db.rebuild", root);
	fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0 || flock(fd, LOCK_EX) < 0) {
		snprintf(err, errsize, "%s: %s", lock, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	/* Checked under the lock: another thread or process may have
	 * rebuilt it meanwhile. */
	damaged = mail_index_check(root);
	if (damaged < 0) {
		snprintf(err, errsize, "cannot check %s/index.db", root);
		close(fd);
		return -1;
	}
	if (mode == INDEX_REBUILD_DAMAGED && damaged == 0) {
		close(fd);
		return 0;
	}
	report_r->corrupt = damaged == 1;
	ret = rebuild_file(root, tmp, mode == INDEX_REBUILD_FRESH, report_r, err, errsize);
	if (ret == 0)
		ret = damaged == 1 ? swap_damaged(root, tmp, err, errsize) : copy_into(root, tmp, err, errsize);
	if (ret < 0)
		unlink(tmp);
	close(fd);
	return ret;
}
