/* The directory's PostgreSQL backend (libpq): the directory shared by
 * several nodes. Statements are SQLite's SQL with the placeholders
 * rewritten once per SQL text; parameters go as text and the server
 * infers their types. A lost connection is re-made on the next statement;
 * until then every statement fails (callers answer with a temporary
 * error). */
#include "directory/dir_sql.h"
#include "lib/log.h"

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PG_SQL_SLOTS 256
#define PG_PARAMS_MAX 16
#define PG_SQL_MAX 8192
#define PG_TEXT_OID 25

struct pg_sql {
	const char *sql;	/* the caller's literal; NULL: slot free */
	char *pg;		/* rewritten */
	int nparams;
	uint32_t used;		/* the parameters the text names */
};

struct pg_db {
	PGconn *conn;
	int64_t changes;
	int64_t retry_ms;	/* no new connection attempt before (monotonic ms) */
	struct pg_sql sqls[PG_SQL_SLOTS];
};

struct pg_stmt {
	struct dir_stmt base;
	struct pg_db *d;
	const char *pg;
	int nparams;
	uint32_t used;
	char *vals[PG_PARAMS_MAX];
	PGresult *res;
	int row, nrows;
	bool ran;
	bool owns_pg;	/* the text found no slot in the cache */
};

/* A connection to conninfo (a postgresql:// URI) that gives up after a
 * few seconds instead of hanging a worker on an unreachable server;
 * connect_timeout in the URI wins. */
static PGconn *pg_connect(const char *conninfo)
{
	const char *keys[] = { "connect_timeout", "application_name", "dbname", NULL };
	const char *vals[] = { "3", "yubin", conninfo, NULL };

	return PQconnectdbParams(keys, vals, 1);
}

/* The server's warnings go to the log, not to stderr. */
static void pg_notice(void *ctx, const char *message)
{
	(void)ctx;
	log_warn(NULL, "directory: PostgreSQL: %.*s", (int)strcspn(message, "\n"), message);
}

void *dir_pg_open(const char *conninfo, char *err, size_t errsize)
{
	struct pg_db *d = calloc(1, sizeof(*d));

	if (d == NULL) {
		snprintf(err, errsize, "out of memory");
		return NULL;
	}
	d->conn = pg_connect(conninfo);
	if (d->conn == NULL || PQstatus(d->conn) != CONNECTION_OK) {
		snprintf(err, errsize, "PostgreSQL: %s", d->conn != NULL ? PQerrorMessage(d->conn) : "out of memory");
		err[strcspn(err, "\n")] = '\0';
		dir_pg_backend.close(d);
		return NULL;
	}
	PQsetNoticeProcessor(d->conn, pg_notice, NULL);
	PQclear(PQexec(d->conn, "SET client_min_messages = warning"));
	return d;
}

static void pg_close(void *db)
{
	struct pg_db *d = db;

	if (d == NULL)
		return;
	for (size_t i = 0; i < PG_SQL_SLOTS; i++)
		free(d->sqls[i].pg);
	PQfinish(d->conn);
	free(d);
}

/* Whether the connection is usable, re-making it once when it was lost
 * (and no transaction was open on it). */
static int64_t pg_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static bool pg_alive(struct pg_db *d)
{
	if (PQstatus(d->conn) == CONNECTION_OK)
		return true;
	/* At most one attempt a second per connection: an unreachable server
	 * must not hold every lookup for the connect timeout. */
	if (pg_now_ms() < d->retry_ms)
		return false;
	PQreset(d->conn);
	if (PQstatus(d->conn) != CONNECTION_OK) {
		d->retry_ms = pg_now_ms() + 1000;
		return false;
	}
	PQclear(PQexec(d->conn, "SET client_min_messages = warning"));
	log_info(NULL, "directory: reconnected to PostgreSQL");
	return true;
}

static int pg_exec(void *db, const char *sql, char *err, size_t errsize)
{
	struct pg_db *d = db;
	PGresult *res;
	int ok;

	if (!pg_alive(d)) {
		if (err != NULL)
			snprintf(err, errsize, "PostgreSQL: %s", PQerrorMessage(d->conn));
		return -1;
	}
	res = PQexec(d->conn, sql);
	ok = PQresultStatus(res) == PGRES_COMMAND_OK || PQresultStatus(res) == PGRES_TUPLES_OK;
	if (!ok && err != NULL) {
		snprintf(err, errsize, "PostgreSQL: %s", PQresultErrorMessage(res));
		err[strcspn(err, "\n")] = '\0';
	}
	PQclear(res);
	return ok ? 0 : -1;
}

static size_t pg_hash(const char *sql)
{
	size_t h = 5381;

	for (const unsigned char *p = (const unsigned char *)sql; *p != '\0'; p++)
		h = h * 33 + *p;
	return h;
}

/* sql rewritten for PostgreSQL, once per connection and SQL text. */
static const struct pg_sql *pg_sql_get(struct pg_db *d, const char *sql, struct pg_sql *tmp)
{
	size_t start = pg_hash(sql) % PG_SQL_SLOTS;
	struct pg_sql *slot = tmp;
	char buf[PG_SQL_MAX];

	for (size_t n = 0; n < PG_SQL_SLOTS; n++) {
		struct pg_sql *e = &d->sqls[(start + n) % PG_SQL_SLOTS];

		if (e->sql == NULL) {
			slot = e;
			break;
		}
		if (e->sql == sql || strcmp(e->sql, sql) == 0)
			return e;
	}
	if (dir_dialect_params(sql, buf, sizeof(buf), &slot->nparams, &slot->used) < 0 ||
	    slot->nparams > PG_PARAMS_MAX || (slot->pg = strdup(buf)) == NULL)
		return NULL;
	slot->sql = sql;
	return slot;
}

static struct dir_stmt *pg_prepare(void *db, const char *sql)
{
	struct pg_db *d = db;
	struct pg_sql tmp = { 0 };
	const struct pg_sql *q;
	struct pg_stmt *s;

	if (!pg_alive(d))
		return NULL;
	q = pg_sql_get(d, sql, &tmp);
	if (q == NULL || (s = calloc(1, sizeof(*s))) == NULL) {
		free(tmp.pg);
		return NULL;
	}
	s->base.be = &dir_pg_backend;
	s->d = d;
	s->nparams = q->nparams;
	s->used = q->used;
	/* A text that found no slot is kept by the statement. */
	s->pg = q == &tmp ? tmp.pg : q->pg;
	s->owns_pg = q == &tmp;
	return &s->base;
}

static void pg_finish(void *db, struct dir_stmt *base)
{
	struct pg_stmt *s = (struct pg_stmt *)base;

	(void)db;
	if (s == NULL)
		return;
	if (s->owns_pg)
		free((char *)s->pg);
	for (int i = 0; i < PG_PARAMS_MAX; i++)
		free(s->vals[i]);
	PQclear(s->res);
	free(s);
}

static void pg_bind_text(struct dir_stmt *base, int i, const char *v)
{
	struct pg_stmt *s = (struct pg_stmt *)base;

	if (i < 1 || i > PG_PARAMS_MAX)
		return;
	free(s->vals[i - 1]);
	s->vals[i - 1] = strdup(v != NULL ? v : "");
}

static void pg_bind_int64(struct dir_stmt *base, int i, int64_t v)
{
	char num[32];

	snprintf(num, sizeof(num), "%lld", (long long)v);
	pg_bind_text(base, i, num);
}

static int pg_run(struct pg_stmt *s)
{
	const char *vals[PG_PARAMS_MAX];
	Oid types[PG_PARAMS_MAX];
	const char *state;
	ExecStatusType st;
	bool idle;

	/* The server infers each parameter's type from its use; one the
	 * text does not name (a shared binding) is given as text. */
	for (int i = 0; i < s->nparams; i++) {
		vals[i] = s->vals[i] != NULL ? s->vals[i] : "";
		types[i] = s->used & (1u << i) ? 0 : PG_TEXT_OID;
	}
	s->ran = true;
	idle = PQtransactionStatus(s->d->conn) == PQTRANS_IDLE;
	s->res = PQexecParams(s->d->conn, s->pg, s->nparams, types, vals, NULL, NULL, 0);
	/* The server went away since the last statement (a restart): outside
	 * a transaction nothing is lost by trying once more on a new one. */
	if (PQresultStatus(s->res) == PGRES_FATAL_ERROR && PQstatus(s->d->conn) == CONNECTION_BAD && idle &&
	    pg_alive(s->d)) {
		PQclear(s->res);
		s->res = PQexecParams(s->d->conn, s->pg, s->nparams, types, vals, NULL, NULL, 0);
	}
	st = PQresultStatus(s->res);
	if (st == PGRES_TUPLES_OK) {
		s->nrows = PQntuples(s->res);
		s->row = -1;
		return DIR_DONE;
	}
	if (st == PGRES_COMMAND_OK) {
		s->d->changes = strtoll(PQcmdTuples(s->res), NULL, 10);
		return DIR_DONE;
	}
	state = PQresultErrorField(s->res, PG_DIAG_SQLSTATE);
	if (state != NULL && strncmp(state, "23", 2) == 0)
		return DIR_CONSTRAINT;
	log_warn(NULL, "directory: PostgreSQL: %.*s", (int)strcspn(PQresultErrorMessage(s->res), "\n"),
		 PQresultErrorMessage(s->res));
	return DIR_ERROR;
}

static int pg_step(struct dir_stmt *base)
{
	struct pg_stmt *s = (struct pg_stmt *)base;

	if (!s->ran) {
		int r = pg_run(s);

		if (r != DIR_DONE || PQresultStatus(s->res) != PGRES_TUPLES_OK)
			return r;
	}
	if (s->res == NULL || PQresultStatus(s->res) != PGRES_TUPLES_OK)
		return DIR_DONE;
	if (s->row + 1 >= s->nrows) {
		s->row = s->nrows;
		return DIR_DONE;
	}
	s->row++;
	return DIR_ROW;
}

static const char *pg_col_text(struct dir_stmt *base, int col)
{
	struct pg_stmt *s = (struct pg_stmt *)base;

	if (s->res == NULL || s->row < 0 || s->row >= s->nrows || col >= PQnfields(s->res))
		return "";
	return PQgetvalue(s->res, s->row, col);
}

static int64_t pg_col_int64(struct dir_stmt *base, int col)
{
	return strtoll(pg_col_text(base, col), NULL, 10);
}

static int64_t pg_changes(void *db)
{
	return ((struct pg_db *)db)->changes;
}

static bool pg_in_transaction(void *db)
{
	return PQtransactionStatus(((struct pg_db *)db)->conn) != PQTRANS_IDLE;
}

static int pg_version_get(void *db, int *version_r)
{
	struct pg_db *d = db;
	PGresult *res;
	int ok;

	*version_r = 0;
	if (!pg_alive(d))
		return -1;
	/* A new database has no version table yet: version 0. */
	res = PQexec(d->conn, "SELECT to_regclass('yubin_schema') IS NOT NULL");
	ok = PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1;
	if (!ok || strcmp(PQgetvalue(res, 0, 0), "t") != 0) {
		PQclear(res);
		return ok ? 0 : -1;
	}
	PQclear(res);
	res = PQexec(d->conn, "SELECT coalesce(max(version), 0) FROM yubin_schema");
	ok = PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1;
	if (ok)
		*version_r = atoi(PQgetvalue(res, 0, 0));
	PQclear(res);
	return ok ? 0 : -1;
}

static int pg_version_set(void *db, int version)
{
	char sql[256];

	snprintf(sql, sizeof(sql), "CREATE TABLE IF NOT EXISTS yubin_schema (version INTEGER NOT NULL);"
		 " DELETE FROM yubin_schema; INSERT INTO yubin_schema(version) VALUES (%d)", version);
	return pg_exec(db, sql, NULL, 0);
}

const struct dir_backend dir_pg_backend = {
	.dialect = DIR_POSTGRESQL,
	.close = pg_close,
	.exec = pg_exec,
	.prepare = pg_prepare,
	.bind_text = pg_bind_text,
	.bind_int64 = pg_bind_int64,
	.step = pg_step,
	.text = pg_col_text,
	.int64 = pg_col_int64,
	.finish = pg_finish,
	.changes = pg_changes,
	.in_transaction = pg_in_transaction,
	.version_get = pg_version_get,
	.version_set = pg_version_set,
};
