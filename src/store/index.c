#include "store/index.h"
#include "store/journal.h"
#include "store/quota.h"
#include "lib/fsutil.h"
#include "lib/log.h"
#include "lib/str.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "store/index_private.h"

static const char index_schema[] =
	"CREATE TABLE IF NOT EXISTS mailboxes ("
	" id INTEGER PRIMARY KEY,"
	" name TEXT NOT NULL UNIQUE,"
	" dir TEXT NOT NULL UNIQUE,"		/* "" for INBOX, ".Sent", ".a.b" */
	" uidvalidity INTEGER NOT NULL,"
	" uidnext INTEGER NOT NULL DEFAULT 1,"
	" highestmodseq INTEGER NOT NULL DEFAULT 1,"
	" subscribed INTEGER NOT NULL DEFAULT 1,"
	" special_use TEXT NOT NULL DEFAULT '');"
	"CREATE TABLE IF NOT EXISTS messages ("
	" mailbox_id INTEGER NOT NULL,"
	" uid INTEGER NOT NULL,"
	" base TEXT NOT NULL,"
	" file TEXT NOT NULL,"
	" flags INTEGER NOT NULL,"
	" keywords TEXT NOT NULL DEFAULT '',"
	" modseq INTEGER NOT NULL,"
	" size INTEGER NOT NULL,"
	" internaldate INTEGER NOT NULL,"
	" PRIMARY KEY (mailbox_id, uid)) WITHOUT ROWID;"
	"CREATE INDEX IF NOT EXISTS messages_base ON messages(mailbox_id, base);"
	/* names subscribed while no mailbox row holds the mark (deleted, or
	 * subscribed before they were made) */
	"CREATE TABLE IF NOT EXISTS subscriptions (name TEXT PRIMARY KEY) WITHOUT ROWID;";

static const struct {
	const char *name, *use;
} special_folders[] = {
	{ "Sent", "\\Sent" }, { "Drafts", "\\Drafts" }, { "Trash", "\\Trash" }, { "Junk", "\\Junk" },
};

/* ---- change counters -------------------------------------------------- */

struct store_gen {
	struct store_gen *next;
	uint64_t gen;		/* every change: IDLE polls it */
	uint64_t ext;		/* changes the message cache did not see (delivery, POP3, expiry) */
	char root[];
};
static pthread_mutex_t store_gen_lock = PTHREAD_MUTEX_INITIALIZER;
static struct store_gen *store_gens;

static struct store_gen *store_gen_find(const char *root, bool create)
{
	struct store_gen *g;

	for (g = store_gens; g != NULL; g = g->next) {
		if (strcmp(g->root, root) == 0)
			return g;
	}
	if (!create || (g = calloc(1, sizeof(*g) + strlen(root) + 1)) == NULL)
		return NULL;
	strcpy(g->root, root);
	g->next = store_gens;
	store_gens = g;
	return g;
}

void store_changed(const char *root)
{
	struct store_gen *g;

	pthread_mutex_lock(&store_gen_lock);
	g = store_gen_find(root, true);
	if (g != NULL) {
		g->gen++;
		g->ext++;
	}
	pthread_mutex_unlock(&store_gen_lock);
}

void store_changed_cached(const char *root)
{
	struct store_gen *g;

	pthread_mutex_lock(&store_gen_lock);
	g = store_gen_find(root, true);
	if (g != NULL)
		g->gen++;
	pthread_mutex_unlock(&store_gen_lock);
}

uint64_t store_ext_generation(const char *root)
{
	struct store_gen *g;
	uint64_t ext;

	pthread_mutex_lock(&store_gen_lock);
	g = store_gen_find(root, false);
	ext = g != NULL ? g->ext : 0;
	pthread_mutex_unlock(&store_gen_lock);
	return ext;
}

uint64_t store_generation(const char *root)
{
	struct store_gen *g;
	uint64_t gen;

	pthread_mutex_lock(&store_gen_lock);
	g = store_gen_find(root, false);
	gen = g != NULL ? g->gen : 0;
	pthread_mutex_unlock(&store_gen_lock);
	return gen;
}

/* ---- names ------------------------------------------------------------ */

/* IMAP name → Maildir++ folder directory: components joined with '.', a
 * '.' or '%' inside a component escaped as %2E / %25. */
static int name_to_dir(const char *name, char *dir, size_t size)
{
	size_t o = 0;

	if (strcasecmp(name, "INBOX") == 0) {
		dir[0] = '\0';
		return 0;
	}
	if (size < 2)
		return -1;
	dir[o++] = '.';
	for (const char *p = name; *p != '\0'; p++) {
		const char *put = NULL;
		char one[2] = { *p, '\0' };

		if (*p == '/')
			put = ".";
		else if (*p == '.')
			put = "%2E";
		else if (*p == '%')
			put = "%25";
		else
			put = one;
		if (o + strlen(put) + 1 > size)
			return -1;
		memcpy(dir + o, put, strlen(put));
		o += strlen(put);
	}
	dir[o] = '\0';
	return 0;
}

static int dir_to_name(const char *dir, char *name, size_t size)
{
	size_t o = 0;

	if (dir[0] == '\0')
		return str_copy(name, size, "INBOX");
	if (dir[0] != '.')
		return -1;
	for (const char *p = dir + 1; *p != '\0'; p++) {
		char c = *p;
		if (c == '.') {
			c = '/';
		} else if (c == '%' && strncmp(p, "%2E", 3) == 0) {
			c = '.';
			p += 2;
		} else if (c == '%' && strncmp(p, "%25", 3) == 0) {
			c = '%';
			p += 2;
		}
		if (o + 2 > size)
			return -1;
		name[o++] = c;
	}
	name[o] = '\0';
	/* A first component spelled like INBOX is INBOX. */
	if (strncasecmp(name, "INBOX", 5) == 0 && (name[5] == '/' || name[5] == '\0'))
		memcpy(name, "INBOX", 5);
	return 0;
}

static int name_validate(const char *name, const char **error_r)
{
	size_t len = strlen(name);

	if (len == 0) {
		*error_r = "[CANNOT] Mailbox name is empty";
		return -1;
	}
	if (len >= INDEX_NAME_MAX - 1) {
		*error_r = "[LIMIT] Mailbox name too long";
		return -1;
	}
	if (name[0] == '/' || name[len - 1] == '/' || strstr(name, "//") != NULL) {
		*error_r = "Mailbox name has an empty hierarchy level";
		return -1;
	}
	for (const char *p = name; *p != '\0'; p++) {
		if ((unsigned char)*p < 0x20 || *p == 0x7f || *p == '*' || *p == '%') {
			*error_r = "Mailbox name contains invalid characters";
			return -1;
		}
	}
	return 0;
}

static const char *special_use_of(const char *name)
{
	for (size_t i = 0; i < sizeof(special_folders) / sizeof(special_folders[0]); i++) {
		if (strcmp(name, special_folders[i].name) == 0)
			return special_folders[i].use;
	}
	return "";
}

/* ---- SQLite helpers ---------------------------------------------------- */

bool idx_rc_is_corrupt(int rc)
{
	return (rc & 0xff) == SQLITE_CORRUPT || (rc & 0xff) == SQLITE_NOTADB;
}

/* Remembers that the handle met a damaged file: it is not pooled again
 * and the file is checked when it is released. */
static void idx_note(struct mail_index *idx, int rc)
{
	if (idx_rc_is_corrupt(rc))
		idx->corrupt = true;
}

int idx_exec(struct mail_index *idx, const char *sql)
{
	char *err = NULL;
	int rc = sqlite3_exec(idx->db, sql, NULL, NULL, &err);

	if (rc != SQLITE_OK) {
		idx_note(idx, rc);
		log_error(NULL, "index %s: %s: %s", idx->root, sql, err != NULL ? err : "?");
		sqlite3_free(err);
		return -1;
	}
	return 0;
}

sqlite3_stmt *idx_prepare(struct mail_index *idx, const char *sql)
{
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(idx->db, sql, -1, &st, NULL);

	if (rc != SQLITE_OK) {
		idx_note(idx, rc);
		log_error(NULL, "index %s: %s", idx->root, sqlite3_errmsg(idx->db));
		return NULL;
	}
	return st;
}

int idx_step_done(sqlite3_stmt *st)
{
	int r = st != NULL ? sqlite3_step(st) : SQLITE_ERROR;

	sqlite3_finalize(st);
	return r == SQLITE_DONE ? 0 : -1;
}

static uint32_t new_uidvalidity(void)
{
	static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	static uint32_t last;
	uint32_t v;

	pthread_mutex_lock(&lock);
	v = (uint32_t)time(NULL);
	if (v <= last)
		v = last + 1;
	last = v;
	pthread_mutex_unlock(&lock);
	return v;
}

static int idx_mailbox_insert(struct mail_index *idx, const char *name, const char *dir)
{
	sqlite3_stmt *st = idx_prepare(idx, "INSERT OR IGNORE INTO mailboxes(name, dir, uidvalidity,"
				       " special_use) VALUES (?, ?, ?, ?)");

	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, dir, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 3, new_uidvalidity());
	sqlite3_bind_text(st, 4, special_use_of(name), -1, SQLITE_STATIC);
	return idx_step_done(st);
}

/* Adds rows for folders that exist on disk but not in the index, and drops
 * rows (and their messages) for folders that are gone. */
int idx_scan_folders(struct mail_index *idx)
{
	DIR *d = opendir(idx->root);
	struct dirent *de;
	sqlite3_stmt *st;
	char name[INDEX_NAME_MAX], p[PATH_MAX];
	struct stat sb;

	if (d == NULL)
		return -1;
	if (idx_exec(idx, "BEGIN IMMEDIATE") < 0) {
		closedir(d);
		return -1;
	}
	idx_mailbox_insert(idx, "INBOX", "");
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] != '.' || strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		snprintf(p, sizeof(p), "%s/%s/cur", idx->root, de->d_name);
		if (stat(p, &sb) < 0 || !S_ISDIR(sb.st_mode))
			continue;
		if (dir_to_name(de->d_name, name, sizeof(name)) == 0)
			idx_mailbox_insert(idx, name, de->d_name);
	}
	closedir(d);
	st = idx_prepare(idx, "SELECT id, dir FROM mailboxes WHERE dir != ''");
	while (st != NULL && sqlite3_step(st) == SQLITE_ROW) {
		snprintf(p, sizeof(p), "%s/%s/cur", idx->root, (const char *)sqlite3_column_text(st, 1));
		if (stat(p, &sb) < 0) {
			char sql[128];
			snprintf(sql, sizeof(sql), "DELETE FROM messages WHERE mailbox_id = %lld;"
				 " DELETE FROM mailboxes WHERE id = %lld",
				 (long long)sqlite3_column_int64(st, 0), (long long)sqlite3_column_int64(st, 0));
			idx_exec(idx, sql);
		}
	}
	sqlite3_finalize(st);
	return idx_exec(idx, "COMMIT");
}

struct mail_index *idx_open_file(const char *root, const char *path, bool wal, char *err,
				 size_t errsize)
{
	struct mail_index *idx = calloc(1, sizeof(*idx));
	int rc, persist = 1;

	if (idx == NULL || str_copy(idx->root, sizeof(idx->root), root) < 0) {
		snprintf(err, errsize, "out of memory");
		free(idx);
		return NULL;
	}
	rc = sqlite3_open_v2(path, &idx->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
			     SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		idx_note(idx, rc);
		snprintf(err, errsize, "%s: %s", path, sqlite3_errmsg(idx->db));
		mail_index_close(idx);
		return NULL;
	}
	sqlite3_busy_timeout(idx->db, 10000);
	/* The -wal and -shm files are never removed on close: a handle still
	 * open on an index that a rebuild has replaced must not delete the
	 * new index's files, which have the same names. The WAL is truncated
	 * instead (to 0 at the last close, past 4 MB after a checkpoint). */
	sqlite3_file_control(idx->db, "main", SQLITE_FCNTL_PERSIST_WAL, &persist);
	/* FULL: a UID handed out must never be handed out again, even after a
	 * power cut. The page cache is bounded: a mailbox's rows are read once
	 * per change and kept in the message cache (index_msgs.c). A rebuild
	 * writes its new file with the journal in memory and makes it durable
	 * itself (fsync before the rename). */
	if (idx_exec(idx, wal ? "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA cache_size=-512;"
			      " PRAGMA journal_size_limit=4194304"
			      : "PRAGMA journal_mode=MEMORY; PRAGMA synchronous=OFF") < 0 ||
	    idx_exec(idx, index_schema) < 0 || idx_scan_folders(idx) < 0) {
		snprintf(err, errsize, "%s: %s the index", path,
			 idx->corrupt ? "damaged:" : "cannot initialise");
		mail_index_close(idx);
		return NULL;
	}
	return idx;
}

/* Sets aside and rebuilds a damaged index; the pool's hook hears of it. */
static index_rebuilt_cb *rebuilt_hook;

static void idx_recover(const char *root)
{
	struct index_rebuild_report rep;
	char err[256];

	if (mail_index_rebuild(root, INDEX_REBUILD_DAMAGED, &rep, err, sizeof(err)) < 0) {
		log_error(NULL, "index %s: damaged and cannot be rebuilt: %s", root, err);
		return;
	}
	if (!rep.corrupt)
		return;
	log_warn(NULL, "index %s: damaged; set aside and rebuilt from the Maildir: %s", root, rep.detail);
	if (rebuilt_hook != NULL)
		rebuilt_hook(root, &rep);
}

void store_deletions_resume(const char *root)
{
	uint64_t used, freed;

	if (!maildir_delete_is_pending(root))
		return;
	/* A mailbox's first use since start completes the record before it
	 * counts the usage; otherwise the bytes go back here. */
	quota_usage(root, &used);
	if (maildir_delete_resume(root, &freed) > 0 && freed > 0)
		quota_release(root, freed);
	store_changed(root);
}

/* Opens index.db, creating it when missing. A damaged one (it fails to
 * open, or the quick check at open finds it bad) is rebuilt first. */
struct mail_index *mail_index_open(const char *root, char *err, size_t errsize)
{
	char path[PATH_MAX];
	struct mail_index *idx;
	int damaged;

	store_deletions_resume(root);	/* IMAP never sees POP3 deletions half done */
	snprintf(path, sizeof(path), "%s/index.db", root);
	damaged = mail_index_check(root);
	if (damaged != 1) {
		idx = idx_open_file(root, path, true, err, errsize);
		if (idx != NULL || mail_index_check(root) != 1)
			return idx;
	}
	idx_recover(root);
	return idx_open_file(root, path, true, err, errsize);
}

/* Identity and mtime of index.db and mtime of the account directory, to
 * notice an index replaced behind the pool's back (a rebuild), an index
 * written by someone else (checked again) and folders made by other
 * tools. */
struct idx_print {
	ino_t ino;
	struct timespec db_mtime, root_mtime;
};

static void idx_fingerprint(const char *root, struct idx_print *fp)
{
	char path[PATH_MAX];
	struct stat sb;

	memset(fp, 0, sizeof(*fp));
	if (stat(root, &sb) == 0)
		fp->root_mtime = sb.st_mtim;
	snprintf(path, sizeof(path), "%s/index.db", root);
	if (stat(path, &sb) == 0) {
		fp->ino = sb.st_ino;
		fp->db_mtime = sb.st_mtim;
	}
}

static bool ts_same(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec == b->tv_sec && a->tv_nsec == b->tv_nsec;
}

#define INDEX_POOL_IDLE_MAX 64

static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;
static struct mail_index *pool_idle;	/* most recently released first */
static unsigned pool_nidle;
/* Set by SQLite's error log on the thread whose statement met a damaged
 * file, whichever helper ran it; cleared when a handle is acquired. */
static __thread bool pool_thread_corrupt;

static void pool_sqlite_log(void *ctx, int rc, const char *msg)
{
	(void)ctx;
	(void)msg;
	if (idx_rc_is_corrupt(rc))
		pool_thread_corrupt = true;
}

void mail_index_pool_init(index_rebuilt_cb *cb)
{
	rebuilt_hook = cb;
	if (sqlite3_config(SQLITE_CONFIG_LOG, pool_sqlite_log, NULL) != SQLITE_OK)
		log_warn(NULL, "index: SQLite was initialised too early to watch for damaged indexes");
}

/* A pooled handle is reused while index.db keeps its inode; if the file
 * was written since the handle last looked (a checkpoint, or something
 * else), it is checked before use. */
static struct mail_index *pool_take(const char *root, const struct idx_print *fp)
{
	struct mail_index *idx = NULL, **pp;

	pthread_mutex_lock(&pool_lock);
	for (pp = &pool_idle; *pp != NULL; pp = &(*pp)->pool_next) {
		if (strcmp((*pp)->root, root) == 0) {
			idx = *pp;
			*pp = idx->pool_next;
			idx->pool_next = NULL;
			pool_nidle--;
			break;
		}
	}
	pthread_mutex_unlock(&pool_lock);
	if (idx == NULL)
		return NULL;
	if (idx->db_ino == fp->ino && !ts_same(&idx->db_mtime, &fp->db_mtime)) {
		idx->db_mtime = fp->db_mtime;
		if (mail_index_check(root) == 1) {
			mail_index_close(idx);
			idx_recover(root);
			mcache_invalidate_root(root);
			return NULL;
		}
	}
	if (idx->db_ino != fp->ino) {
		mail_index_close(idx);
		mcache_invalidate_root(root);
		return NULL;
	}
	return idx;
}

struct mail_index *mail_index_acquire(const char *root, char *err, size_t errsize)
{
	struct mail_index *idx;
	struct idx_print fp;

	pool_thread_corrupt = false;
	idx_fingerprint(root, &fp);
	idx = pool_take(root, &fp);
	if (idx == NULL) {
		idx = mail_index_open(root, err, errsize);
		if (idx != NULL) {
			idx_fingerprint(root, &fp);
			idx->db_ino = fp.ino;
			idx->db_mtime = fp.db_mtime;
			idx->root_mtime = fp.root_mtime;
		}
		return idx;
	}
	if (!ts_same(&idx->root_mtime, &fp.root_mtime)) {
		idx->root_mtime = fp.root_mtime;
		idx_scan_folders(idx);
	}
	return idx;
}

void mail_index_release(struct mail_index *idx)
{
	struct mail_index *drop = NULL;
	char root[sizeof(idx->root)];

	if (idx == NULL)
		return;
	if (idx->corrupt || pool_thread_corrupt) {
		/* Not pooled: the next command opens the index anew, rebuilt if
		 * it is damaged indeed (the error may have come from another
		 * database used on this thread). */
		pool_thread_corrupt = false;
		str_copy(root, sizeof(root), idx->root);
		mail_index_close(idx);
		if (mail_index_check(root) == 1) {
			idx_recover(root);
			mcache_invalidate_root(root);
		}
		return;
	}
	pthread_mutex_lock(&pool_lock);
	idx->pool_next = pool_idle;
	pool_idle = idx;
	if (++pool_nidle > INDEX_POOL_IDLE_MAX) {
		struct mail_index **pp = &pool_idle;
		while ((*pp)->pool_next != NULL)
			pp = &(*pp)->pool_next;
		drop = *pp;
		*pp = NULL;
		pool_nidle--;
	}
	pthread_mutex_unlock(&pool_lock);
	mail_index_close(drop);
}

void mail_index_pool_forget(const char *root)
{
	struct mail_index *idx, **pp = &pool_idle, *drop = NULL;

	pthread_mutex_lock(&pool_lock);
	while ((idx = *pp) != NULL) {
		if (strcmp(idx->root, root) == 0) {
			*pp = idx->pool_next;
			idx->pool_next = drop;
			drop = idx;
			pool_nidle--;
		} else {
			pp = &idx->pool_next;
		}
	}
	pthread_mutex_unlock(&pool_lock);
	while ((idx = drop) != NULL) {
		drop = idx->pool_next;
		mail_index_close(idx);
	}
	mcache_invalidate_root(root);
}

void mail_index_pool_cleanup(void)
{
	pthread_mutex_lock(&pool_lock);
	while (pool_idle != NULL) {
		struct mail_index *idx = pool_idle;
		pool_idle = idx->pool_next;
		mail_index_close(idx);
	}
	pool_nidle = 0;
	pthread_mutex_unlock(&pool_lock);
	index_msgs_cache_cleanup();
}

void mail_index_close(struct mail_index *idx)
{
	if (idx == NULL)
		return;
	sqlite3_close(idx->db);
	free(idx);
}

const char *mail_index_root(const struct mail_index *idx)
{
	return idx->root;
}

/* ---- folders ------------------------------------------------------------ */

#define MAILBOX_SELECT "SELECT id, name, dir, uidvalidity, uidnext, highestmodseq," \
		       " subscribed OR EXISTS (SELECT 1 FROM subscriptions s WHERE s.name = mailboxes.name)," \
		       " special_use FROM mailboxes"

static void mailbox_from_row(struct mail_index *idx, sqlite3_stmt *st, struct index_mailbox *m)
{
	const char *dir = (const char *)sqlite3_column_text(st, 2);

	m->id = sqlite3_column_int64(st, 0);
	str_copy(m->name, sizeof(m->name), (const char *)sqlite3_column_text(st, 1));
	if (dir[0] == '\0')
		str_copy(m->path, sizeof(m->path), idx->root);
	else
		snprintf(m->path, sizeof(m->path), "%s/%s", idx->root, dir);
	m->uidvalidity = (uint32_t)sqlite3_column_int64(st, 3);
	m->uidnext = (uint32_t)sqlite3_column_int64(st, 4);
	m->highestmodseq = (uint64_t)sqlite3_column_int64(st, 5);
	m->subscribed = sqlite3_column_int(st, 6) != 0;
	str_copy(m->special_use, sizeof(m->special_use), (const char *)sqlite3_column_text(st, 7));
}

int mail_index_mailbox_get(struct mail_index *idx, const char *name, struct index_mailbox *mbox_r)
{
	sqlite3_stmt *st = idx_prepare(idx, MAILBOX_SELECT " WHERE name = ?");
	int r;

	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, strcasecmp(name, "INBOX") == 0 ? "INBOX" : name, -1, SQLITE_TRANSIENT);
	r = sqlite3_step(st);
	if (r == SQLITE_ROW)
		mailbox_from_row(idx, st, mbox_r);
	sqlite3_finalize(st);
	return r == SQLITE_ROW ? 1 : r == SQLITE_DONE ? 0 : -1;
}

int mail_index_mailbox_list(struct mail_index *idx, index_mailbox_cb *cb, void *ctx)
{
	sqlite3_stmt *st = idx_prepare(idx, MAILBOX_SELECT " ORDER BY name != 'INBOX', name");
	struct index_mailbox m;
	int r;

	if (st == NULL)
		return -1;
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		mailbox_from_row(idx, st, &m);
		cb(&m, ctx);
	}
	sqlite3_finalize(st);
	return r == SQLITE_DONE ? 0 : -1;
}

static int maildir_folder_make(const char *path)
{
	static const char *const subs[] = { "cur", "new", "tmp" };
	char p[PATH_MAX];
	int fd;

	for (int i = 0; i < 3; i++) {
		snprintf(p, sizeof(p), "%s/%s", path, subs[i]);
		if (fs_mkdir_p(p, 0700) < 0)
			return -1;
	}
	snprintf(p, sizeof(p), "%s/maildirfolder", path);
	fd = open(p, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	close(fd);
	return fs_fsync_dir(path);
}

static int mailbox_subscribed_set(struct mail_index *idx, const char *name, bool on);

int mail_folder_path(const char *root, const char *name, bool create, char *buf, size_t size,
		     const char **error_r)
{
	char dir[INDEX_NAME_MAX * 3], cur[PATH_MAX];

	if (strcasecmp(name, "INBOX") == 0)
		return str_copy(buf, size, root) < 0 ? (*error_r = "path too long", -1) : 1;
	if (name_validate(name, error_r) < 0)
		return -1;
	if (name_to_dir(name, dir, sizeof(dir)) < 0 || strlen(dir) > NAME_MAX ||
	    (size_t)snprintf(buf, size, "%s/%s", root, dir) >= size) {
		*error_r = "folder name too long";
		return -1;
	}
	if (access(buf, F_OK) == 0)
		return 1;
	if (!create)
		return 0;
	/* never the mailbox itself: gone, its account was deleted */
	if ((size_t)snprintf(cur, sizeof(cur), "%s/cur", root) >= sizeof(cur) || access(cur, F_OK) < 0) {
		*error_r = "the mailbox is gone";
		return -1;
	}
	if (maildir_folder_make(buf) < 0 || fs_fsync_dir(root) < 0) {
		*error_r = "cannot create the folder";
		return -1;
	}
	return 1;
}

int mail_index_mailbox_create(struct mail_index *idx, const char *name, const char **error_r)
{
	struct index_mailbox m;
	char dir[INDEX_NAME_MAX * 3], path[PATH_MAX];

	if (name_validate(name, error_r) < 0)
		return -1;
	if (strcasecmp(name, "INBOX") == 0 || mail_index_mailbox_get(idx, name, &m) > 0) {
		*error_r = "[ALREADYEXISTS] Mailbox already exists";
		return -1;
	}
	/* Maildir++ keeps the whole hierarchy in one directory name */
	if (name_to_dir(name, dir, sizeof(dir)) < 0 || strlen(dir) > NAME_MAX) {
		*error_r = "[LIMIT] Mailbox name too long or too deep (at most 255 bytes on disk,"
			   " a level taking its length plus one)";
		return -1;
	}
	snprintf(path, sizeof(path), "%s/%s", idx->root, dir);
	if (maildir_folder_make(path) < 0 || fs_fsync_dir(idx->root) < 0) {
		*error_r = "[SERVERBUG] Cannot create the mailbox directory";
		return -1;
	}
	if (idx_mailbox_insert(idx, name, dir) < 0 || mailbox_subscribed_set(idx, name, false) < 0) {
		*error_r = "[SERVERBUG] Index error";
		return -1;
	}
	return 0;
}

int mail_index_mailbox_delete(struct mail_index *idx, const char *name, const char **error_r)
{
	struct index_mailbox m;
	sqlite3_stmt *st;
	uint64_t bytes = 0;
	char sql[320];

	if (strcasecmp(name, "INBOX") == 0) {
		*error_r = "INBOX cannot be deleted";
		return -1;
	}
	if (mail_index_mailbox_get(idx, name, &m) <= 0) {
		*error_r = "[NONEXISTENT] No such mailbox";
		return -1;
	}
	st = idx_prepare(idx, "SELECT coalesce(sum(size), 0) FROM messages WHERE mailbox_id = ?");
	if (st != NULL) {
		sqlite3_bind_int64(st, 1, m.id);
		if (sqlite3_step(st) == SQLITE_ROW)
			bytes = (uint64_t)sqlite3_column_int64(st, 0);
		sqlite3_finalize(st);
	}
	journal_wait_all();	/* no replay into a folder made again */
	if (fs_remove_tree(m.path) < 0 && errno != ENOENT) {
		*error_r = "[SERVERBUG] Cannot remove the mailbox directory";
		return -1;
	}
	fs_fsync_dir(idx->root);
	/* The subscription outlives the mailbox (RFC 3501 6.3.6). */
	snprintf(sql, sizeof(sql), "INSERT OR IGNORE INTO subscriptions(name)"
		 " SELECT name FROM mailboxes WHERE id = %lld AND subscribed;"
		 " DELETE FROM messages WHERE mailbox_id = %lld;"
		 " DELETE FROM mailboxes WHERE id = %lld", (long long)m.id, (long long)m.id, (long long)m.id);
	if (idx_exec(idx, sql) < 0) {
		*error_r = "[SERVERBUG] Index error";
		return -1;
	}
	quota_release(idx->root, bytes);
	mcache_invalidate(m.path);
	store_changed(idx->root);
	return 0;
}

struct rename_ctx {
	const char *from;
	size_t from_len;
	struct index_mailbox *list;
	size_t n;
};

static void rename_collect(const struct index_mailbox *m, void *ctx)
{
	struct rename_ctx *rc = ctx;
	struct index_mailbox *grown;

	if (strcmp(m->name, rc->from) != 0 &&
	    !(strncmp(m->name, rc->from, rc->from_len) == 0 && m->name[rc->from_len] == '/'))
		return;
	grown = realloc(rc->list, (rc->n + 1) * sizeof(*grown));
	if (grown == NULL)
		return;
	rc->list = grown;
	rc->list[rc->n++] = *m;
}

/* Moves the files of one Maildir subdirectory (cur or new) to another
 * folder's, then makes both directories durable. */
static int move_dir_files(const char *from, const char *to, const char *sub)
{
	char src[PATH_MAX], dst[PATH_MAX], a[PATH_MAX], b[PATH_MAX];
	struct dirent *de;
	DIR *d;
	int ret = 0;

	snprintf(src, sizeof(src), "%s/%s", from, sub);
	snprintf(dst, sizeof(dst), "%s/%s", to, sub);
	if ((d = opendir(src)) == NULL)
		return errno == ENOENT ? 0 : -1;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(a, sizeof(a), "%s/%s", src, de->d_name);
		snprintf(b, sizeof(b), "%s/%s", dst, de->d_name);
		if (rename(a, b) < 0 && errno != ENOENT)
			ret = -1;
	}
	closedir(d);
	if (fs_fsync_dir(dst) < 0 || fs_fsync_dir(src) < 0)
		ret = -1;
	return ret;
}

/* RENAME INBOX (RFC 3501 6.3.5): every message moves to a new folder of
 * that name, keeping its UID there (the new folder's UIDNEXT starts where
 * INBOX's is); INBOX stays, empty, with its UIDVALIDITY and UIDNEXT, so no
 * UID is ever handed out twice. A crash halfway leaves the moved files
 * without rows: the next syncs give them new UIDs in the new folder. */
static int mailbox_rename_inbox(struct mail_index *idx, const char *to, const char **error_r)
{
	struct index_mailbox inbox, dst;
	char sql[320];
	int ret;

	if (mail_index_mailbox_create(idx, to, error_r) < 0)
		return -1;
	if (mail_index_mailbox_get(idx, "INBOX", &inbox) <= 0 || mail_index_mailbox_get(idx, to, &dst) <= 0) {
		*error_r = "[SERVERBUG] Index error";
		return -1;
	}
	if (move_dir_files(inbox.path, dst.path, "cur") < 0 || move_dir_files(inbox.path, dst.path, "new") < 0) {
		mcache_invalidate(inbox.path);
		mcache_invalidate(dst.path);
		*error_r = "[SERVERBUG] Cannot move the messages";
		return -1;
	}
	snprintf(sql, sizeof(sql), "BEGIN IMMEDIATE;"
		 " UPDATE messages SET mailbox_id = %lld WHERE mailbox_id = %lld;"
		 " UPDATE mailboxes SET uidnext = %u, highestmodseq = %llu WHERE id = %lld;"
		 " UPDATE mailboxes SET highestmodseq = highestmodseq + 1 WHERE id = %lld;"
		 " COMMIT", (long long)dst.id, (long long)inbox.id, inbox.uidnext,
		 (unsigned long long)inbox.highestmodseq + 1, (long long)dst.id, (long long)inbox.id);
	if ((ret = idx_exec(idx, sql)) < 0) {
		idx_exec(idx, "ROLLBACK");
		*error_r = "[SERVERBUG] Index error";
	}
	mcache_invalidate(inbox.path);
	mcache_invalidate(dst.path);
	store_changed(idx->root);
	return ret;
}

int mail_index_mailbox_rename(struct mail_index *idx, const char *from, const char *to,
			      const char **error_r)
{
	struct rename_ctx rc = { from, strlen(from), NULL, 0 };
	struct index_mailbox m;
	int ret = 0;

	if (name_validate(to, error_r) < 0)
		return -1;
	if (strcasecmp(from, "INBOX") == 0) {
		if (strcasecmp(to, "INBOX") == 0 || mail_index_mailbox_get(idx, to, &m) > 0) {
			*error_r = "[ALREADYEXISTS] The target mailbox already exists";
			return -1;
		}
		return mailbox_rename_inbox(idx, to, error_r);
	}
	if (mail_index_mailbox_get(idx, from, &m) <= 0) {
		*error_r = "[NONEXISTENT] No such mailbox";
		return -1;
	}
	if (strcasecmp(to, "INBOX") == 0 || mail_index_mailbox_get(idx, to, &m) > 0) {
		*error_r = "[ALREADYEXISTS] The target mailbox already exists";
		return -1;
	}
	mail_index_mailbox_list(idx, rename_collect, &rc);
	for (size_t i = 0; i < rc.n; i++) {
		char newname[INDEX_NAME_MAX * 2], dir[INDEX_NAME_MAX * 3];

		snprintf(newname, sizeof(newname), "%s%s", to, rc.list[i].name + rc.from_len);
		if (strlen(newname) >= INDEX_NAME_MAX - 1 || name_to_dir(newname, dir, sizeof(dir)) < 0 ||
		    strlen(dir) > NAME_MAX) {
			free(rc.list);
			*error_r = "[LIMIT] The new name (or a child's) would be too long or too deep";
			return -1;
		}
	}
	if (idx_exec(idx, "BEGIN IMMEDIATE") < 0) {
		free(rc.list);
		*error_r = "[SERVERBUG] Index error";
		return -1;
	}
	for (size_t i = 0; i < rc.n && ret == 0; i++) {
		char newname[INDEX_NAME_MAX], dir[INDEX_NAME_MAX * 3], path[PATH_MAX];
		sqlite3_stmt *st;

		snprintf(newname, sizeof(newname), "%s%s", to, rc.list[i].name + rc.from_len);
		if (name_to_dir(newname, dir, sizeof(dir)) < 0) {
			ret = -1;
			break;
		}
		snprintf(path, sizeof(path), "%s/%s", idx->root, dir);
		if (rename(rc.list[i].path, path) < 0) {
			ret = -1;
			break;
		}
		st = idx_prepare(idx, "UPDATE mailboxes SET name = ?, dir = ?, special_use = ? WHERE id = ?");
		if (st == NULL) {
			ret = -1;
			break;
		}
		sqlite3_bind_text(st, 1, newname, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 2, dir, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 3, special_use_of(newname), -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 4, rc.list[i].id);
		ret = idx_step_done(st);
	}
	fs_fsync_dir(idx->root);
	if (ret < 0) {
		idx_exec(idx, "ROLLBACK");
		idx_scan_folders(idx);
		*error_r = "[SERVERBUG] Rename failed";
	} else {
		ret = idx_exec(idx, "COMMIT");
	}
	/* Outside the transaction: a cache entry's lock is never taken while
	 * holding the index's write lock. */
	for (size_t i = 0; i < rc.n; i++)
		mcache_invalidate(rc.list[i].path);
	free(rc.list);
	store_changed(idx->root);
	return ret;
}

/* Sets the mark on the mailbox row only (a folder made by CREATE starts
 * unsubscribed; the ones found on disk, like the account's special
 * folders, start subscribed). */
static int mailbox_subscribed_set(struct mail_index *idx, const char *name, bool on)
{
	sqlite3_stmt *st = idx_prepare(idx, "UPDATE mailboxes SET subscribed = ? WHERE name = ?");

	if (st == NULL)
		return -1;
	sqlite3_bind_int(st, 1, on);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_TRANSIENT);
	return idx_step_done(st);
}

/* Bound on the names subscribed without a mailbox (a client's SUBSCRIBE
 * must not grow the index without end). */
#define SUBSCRIPTIONS_MAX_STR "10000"

int mail_index_mailbox_subscribe(struct mail_index *idx, const char *name, bool on,
				 const char **error_r)
{
	const char *key = strcasecmp(name, "INBOX") == 0 ? "INBOX" : name;
	sqlite3_stmt *st;
	bool has_row;
	int r;

	if (strlen(key) >= INDEX_NAME_MAX) {
		*error_r = "[LIMIT] Mailbox name too long";
		return -1;
	}
	/* A name may be subscribed whether or not the mailbox exists: the
	 * mark goes on its row when there is one, else in subscriptions. */
	r = mailbox_subscribed_set(idx, key, on);
	has_row = r == 0 && sqlite3_changes(idx->db) > 0;
	if (r == 0 && on && !has_row &&
	    (st = idx_prepare(idx, "SELECT count(*) >= " SUBSCRIPTIONS_MAX_STR " FROM subscriptions")) != NULL) {
		bool full = sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 0) != 0;

		sqlite3_finalize(st);
		if (full) {
			*error_r = "[LIMIT] Too many subscriptions to mailboxes that do not exist";
			return -1;
		}
	}
	if (r == 0 && (!on || !has_row)) {
		st = idx_prepare(idx, on ? "INSERT OR IGNORE INTO subscriptions(name) VALUES (?)"
				      : "DELETE FROM subscriptions WHERE name = ?");
		if (st == NULL)
			r = -1;
		else {
			sqlite3_bind_text(st, 1, key, -1, SQLITE_TRANSIENT);
			r = idx_step_done(st);
		}
	}
	if (r < 0) {
		*error_r = "[SERVERBUG] Index error";
		return -1;
	}
	return 0;
}

int mail_index_subscriptions(struct mail_index *idx, void (*cb)(const char *name, void *ctx), void *ctx)
{
	sqlite3_stmt *st = idx_prepare(idx, "SELECT name FROM subscriptions"
				       " UNION SELECT name FROM mailboxes WHERE subscribed");
	int r;

	if (st == NULL)
		return -1;
	while ((r = sqlite3_step(st)) == SQLITE_ROW)
		cb((const char *)sqlite3_column_text(st, 0), ctx);
	sqlite3_finalize(st);
	return r == SQLITE_DONE ? 0 : -1;
}
