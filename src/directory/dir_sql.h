#ifndef YUBIN_DIRECTORY_DIR_SQL_H
#define YUBIN_DIRECTORY_DIR_SQL_H

/* The directory's thin SQL layer: each backend (SQLite, PostgreSQL)
 * prepares a statement, binds parameters, steps through rows and reads
 * columns behind one function table, so directory.c writes each query once.
 * Queries use SQLite's placeholders (? and ?N) and the SQL both dialects
 * share; the PostgreSQL backend rewrites the placeholders ($N) and the
 * schema's column types (dir_dialect.c). Private to src/directory/. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum dir_step_result {
	DIR_ROW = 1,
	DIR_DONE = 0,
	DIR_ERROR = -1,
	DIR_CONSTRAINT = -2,	/* a unique or foreign key was violated */
};

enum dir_dialect { DIR_SQLITE, DIR_POSTGRESQL };

struct dir_stmt;

struct dir_backend {
	enum dir_dialect dialect;
	void (*close)(void *db);
	/* Runs sql (one or several statements, no parameters): 0 or -1 with
	 * a message in err. */
	int (*exec)(void *db, const char *sql, char *err, size_t errsize);
	/* sql must outlive the connection (a string literal): backends key
	 * their caches on it. NULL on failure. */
	struct dir_stmt *(*prepare)(void *db, const char *sql);
	void (*bind_text)(struct dir_stmt *st, int i, const char *v);
	void (*bind_int64)(struct dir_stmt *st, int i, int64_t v);
	int (*step)(struct dir_stmt *st);
	/* Column col of the current row; "" / 0 for NULL. */
	const char *(*text)(struct dir_stmt *st, int col);
	int64_t (*int64)(struct dir_stmt *st, int col);
	void (*finish)(void *db, struct dir_stmt *st);
	/* Rows the last finished INSERT/UPDATE/DELETE changed. */
	int64_t (*changes)(void *db);
	bool (*in_transaction)(void *db);
	/* The schema version (0 for a new database); set runs inside the
	 * migration's transaction. */
	int (*version_get)(void *db, int *version_r);
	int (*version_set)(void *db, int version);
};

/* What every backend's statement starts with. */
struct dir_stmt {
	const struct dir_backend *be;
};

extern const struct dir_backend dir_sqlite_backend;
extern const struct dir_backend dir_pg_backend;

/* Opens a connection: NULL with a message in err. */
void *dir_sqlite_open(const char *path, char *err, size_t errsize);
void *dir_pg_open(const char *conninfo, char *err, size_t errsize);

/* The transaction statements of a dialect. */
const char *dir_sql_begin(enum dir_dialect d);

/* A directory handle: a backend and its connection. */
struct dir_settings_memo;

struct directory {
	const struct dir_backend *be;
	void *db;
	struct dir_settings_memo *memo;	/* directory_settings_batch_begin's */
};

/* ---- dir_query.c: the calls directory*.c write their queries with ---- */

/* Prepares sql (a string literal: backends key their caches on it) and
 * binds the text arguments that follow, up to a NULL; NULL on failure. */
struct dir_stmt *dir_prepare(struct directory *dir, const char *sql, ...);
int dir_step(struct dir_stmt *st);
const char *dir_text(struct dir_stmt *st, int col);
int64_t dir_int64(struct dir_stmt *st, int col);
/* Column col into buf ("" when it does not fit). */
void dir_col_text(struct dir_stmt *st, int col, char *buf, size_t size);
void dir_bind_text(struct dir_stmt *st, int i, const char *v);
void dir_bind_int64(struct dir_stmt *st, int i, int64_t v);
/* Ends the use of a statement from dir_prepare (NULL: nothing). */
void dir_finish(struct directory *dir, struct dir_stmt *st);
/* Runs sql without parameters: 0 or -1. */
int dir_exec(struct directory *dir, const char *sql);
/* Runs a statement that returns no rows, then finishes it: 0, or -1 with
 * "already exists" (a constraint) or "database error" in *error_r. */
int dir_run(struct directory *dir, struct dir_stmt *st, const char **error_r);
/* As dir_run for a change of one row: 1 changed, 0 no such row, -1. */
int dir_change_one(struct directory *dir, struct dir_stmt *st, const char **error_r);
/* Runs a query of one text value, then finishes it: 1 with it in buf, 0
 * no row, -1 error. */
int dir_one_text(struct directory *dir, struct dir_stmt *st, char *buf, size_t size);

/* directory.c, for directory_state.c: an event row (id, ts, kind,
 * address, ip, detail) into *e; a LIKE pattern for text containing q. */
struct dir_event;
void dir_event_from_row(struct dir_stmt *st, struct dir_event *e);
int dir_like_contains(const char *q, char *out, size_t size);

/* ---- dir_dialect.c: pure rewriting of SQLite's SQL for PostgreSQL ---- */

/* Rewrites sql's placeholders (? and ?N, outside quotes) to $N; the
 * number of parameters into *nparams_r and which of the first 32 occur
 * (bit N - 1 for $N) into *used_r. -1 when out does not hold it. */
int dir_dialect_params(const char *sql, char *out, size_t size, int *nparams_r, uint32_t *used_r);
/* Rewrites a schema script's column types for PostgreSQL: INTEGER PRIMARY
 * KEY an identity column, INTEGER BIGINT, no WITHOUT ROWID or
 * AUTOINCREMENT. -1 when out
 * does not hold it. */
int dir_dialect_schema(const char *sql, char *out, size_t size);
/* Whether conninfo names a PostgreSQL database (postgresql:// or
 * postgres://) rather than an SQLite file. */
bool dir_dialect_is_pg(const char *where);

/* ---- dir_schema.c: the migrations, one list for both backends ---- */

/* The newest schema version the list knows. */
int dir_schema_latest(void);
/* Brings the schema up to date: 0, or -1 with a message in err. */
int dir_schema_migrate(const struct dir_backend *be, void *db, char *err, size_t errsize);

#endif
