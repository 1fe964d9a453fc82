/* The directory's SQLite backend (DATA/yubin.db, WAL): the embedded
 * default. Prepared statements are kept per connection, one per distinct
 * SQL text: preparing costs more than running most lookups. */
#include "directory/dir_sql.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SQ_STMT_SLOTS 64

struct sq_stmt {
	struct dir_stmt base;
	sqlite3_stmt *st;
	const char *sql;	/* the caller's string literal; NULL: slot free */
	bool busy;		/* handed out and not yet finished */
	bool cached;		/* a slot of the cache, else freed at finish */
	int last;		/* the last step's result */
};

struct sq_db {
	sqlite3 *db;
	struct sq_stmt slots[SQ_STMT_SLOTS];
};

void *dir_sqlite_open(const char *path, char *err, size_t errsize)
{
	struct sq_db *d = calloc(1, sizeof(*d));
	char *errmsg = NULL;

	if (d == NULL) {
		snprintf(err, errsize, "out of memory");
		return NULL;
	}
	if (sqlite3_open_v2(path, &d->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
			    SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		snprintf(err, errsize, "%s: %s", path, sqlite3_errmsg(d->db));
		dir_sqlite_backend.close(d);
		return NULL;
	}
	sqlite3_busy_timeout(d->db, 5000);
	if (sqlite3_exec(d->db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
			 " PRAGMA foreign_keys=ON;", NULL, NULL, &errmsg) != SQLITE_OK) {
		snprintf(err, errsize, "%s: %s", path, errmsg != NULL ? errmsg : sqlite3_errmsg(d->db));
		sqlite3_free(errmsg);
		dir_sqlite_backend.close(d);
		return NULL;
	}
	return d;
}

static void sq_close(void *db)
{
	struct sq_db *d = db;

	if (d == NULL)
		return;
	for (size_t i = 0; i < SQ_STMT_SLOTS; i++)
		sqlite3_finalize(d->slots[i].st);
	sqlite3_close(d->db);
	free(d);
}

static int sq_exec(void *db, const char *sql, char *err, size_t errsize)
{
	struct sq_db *d = db;
	char *errmsg = NULL;

	if (sqlite3_exec(d->db, sql, NULL, NULL, &errmsg) == SQLITE_OK)
		return 0;
	if (err != NULL)
		snprintf(err, errsize, "%s", errmsg != NULL ? errmsg : sqlite3_errmsg(d->db));
	sqlite3_free(errmsg);
	return -1;
}

static size_t sq_hash(const char *sql)
{
	size_t h = 5381;

	for (const unsigned char *p = (const unsigned char *)sql; *p != '\0'; p++)
		h = h * 33 + *p;
	return h;
}

/* The cached statement for sql when it is free, else a new one, kept in
 * the cache when there is room. */
static struct dir_stmt *sq_prepare(void *db, const char *sql)
{
	struct sq_db *d = db;
	size_t start = sq_hash(sql) % SQ_STMT_SLOTS;
	struct sq_stmt *slot = NULL, *s;
	sqlite3_stmt *st;

	for (size_t n = 0; n < SQ_STMT_SLOTS; n++) {
		struct sq_stmt *e = &d->slots[(start + n) % SQ_STMT_SLOTS];

		if (e->sql == NULL) {
			slot = e;
			break;
		}
		if (e->sql == sql || strcmp(e->sql, sql) == 0) {
			if (e->busy)
				break;	/* in use further up the stack: a private one */
			e->busy = true;
			return &e->base;
		}
	}
	if (sqlite3_prepare_v3(d->db, sql, -1, slot != NULL ? SQLITE_PREPARE_PERSISTENT : 0,
			       &st, NULL) != SQLITE_OK) {
		sqlite3_finalize(st);
		return NULL;
	}
	s = slot != NULL ? slot : calloc(1, sizeof(*s));
	if (s == NULL) {
		sqlite3_finalize(st);
		return NULL;
	}
	s->base.be = &dir_sqlite_backend;
	s->st = st;
	s->sql = sql;
	s->busy = true;
	s->cached = slot != NULL;
	return &s->base;
}

static void sq_finish(void *db, struct dir_stmt *base)
{
	struct sq_stmt *s = (struct sq_stmt *)base;

	(void)db;
	if (s == NULL)
		return;
	if (!s->cached) {
		sqlite3_finalize(s->st);
		free(s);
		return;
	}
	sqlite3_reset(s->st);
	sqlite3_clear_bindings(s->st);
	s->busy = false;
}

static void sq_bind_text(struct dir_stmt *base, int i, const char *v)
{
	sqlite3_bind_text(((struct sq_stmt *)base)->st, i, v, -1, SQLITE_TRANSIENT);
}

static void sq_bind_int64(struct dir_stmt *base, int i, int64_t v)
{
	sqlite3_bind_int64(((struct sq_stmt *)base)->st, i, v);
}

static int sq_step(struct dir_stmt *base)
{
	struct sq_stmt *s = (struct sq_stmt *)base;
	int r = sqlite3_step(s->st);

	s->last = r;
	return r == SQLITE_ROW ? DIR_ROW : r == SQLITE_DONE ? DIR_DONE
	       : (r & 0xff) == SQLITE_CONSTRAINT ? DIR_CONSTRAINT : DIR_ERROR;
}

static const char *sq_text(struct dir_stmt *base, int col)
{
	const unsigned char *t = sqlite3_column_text(((struct sq_stmt *)base)->st, col);

	return t != NULL ? (const char *)t : "";
}

static int64_t sq_int64(struct dir_stmt *base, int col)
{
	return sqlite3_column_int64(((struct sq_stmt *)base)->st, col);
}

static int64_t sq_changes(void *db)
{
	return sqlite3_changes(((struct sq_db *)db)->db);
}

static bool sq_in_transaction(void *db)
{
	return !sqlite3_get_autocommit(((struct sq_db *)db)->db);
}

static int sq_version_get(void *db, int *version_r)
{
	struct sq_db *d = db;
	sqlite3_stmt *st;

	*version_r = 0;
	if (sqlite3_prepare_v2(d->db, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK)
		return -1;
	if (sqlite3_step(st) == SQLITE_ROW)
		*version_r = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return 0;
}

static int sq_version_set(void *db, int version)
{
	char sql[64];

	snprintf(sql, sizeof(sql), "PRAGMA user_version=%d", version);
	return sq_exec(db, sql, NULL, 0);
}

const struct dir_backend dir_sqlite_backend = {
	.dialect = DIR_SQLITE,
	.close = sq_close,
	.exec = sq_exec,
	.prepare = sq_prepare,
	.bind_text = sq_bind_text,
	.bind_int64 = sq_bind_int64,
	.step = sq_step,
	.text = sq_text,
	.int64 = sq_int64,
	.finish = sq_finish,
	.changes = sq_changes,
	.in_transaction = sq_in_transaction,
	.version_get = sq_version_get,
	.version_set = sq_version_set,
};
