/* The thin SQL layer's calls over a directory handle: prepare with text
 * arguments, step, read columns, run a change. Each forwards to the
 * handle's backend (dir_sql.h). */
#include "directory/dir_sql.h"
#include "lib/str.h"

#include <stdarg.h>
#include <stdio.h>

int dir_step(struct dir_stmt *st)
{
	return st->be->step(st);
}

const char *dir_text(struct dir_stmt *st, int col)
{
	return st->be->text(st, col);
}

int64_t dir_int64(struct dir_stmt *st, int col)
{
	return st->be->int64(st, col);
}

void dir_bind_int64(struct dir_stmt *st, int i, int64_t v)
{
	st->be->bind_int64(st, i, v);
}

void dir_bind_text(struct dir_stmt *st, int i, const char *v)
{
	st->be->bind_text(st, i, v);
}

/* Ends the use of a statement from dir_prepare. */
void dir_finish(struct directory *dir, struct dir_stmt *st)
{
	if (st != NULL)
		dir->be->finish(dir->db, st);
}

int dir_exec(struct directory *dir, const char *sql)
{
	return dir->be->exec(dir->db, sql, NULL, 0);
}

/* Prepares sql and binds the given text arguments (NULL ends the list).
 * sql must stay valid while dir is open (a string literal); the statement
 * goes back with dir_finish. */
struct dir_stmt *dir_prepare(struct directory *dir, const char *sql, ...)
{
	struct dir_stmt *st;
	va_list ap;
	const char *arg;
	int i = 1;

	st = dir->be->prepare(dir->db, sql);
	if (st == NULL)
		return NULL;
	va_start(ap, sql);
	while ((arg = va_arg(ap, const char *)) != NULL)
		dir_bind_text(st, i++, arg);
	va_end(ap);
	return st;
}

/* Runs a statement that returns no rows; -1 with a message on failure. */
int dir_run(struct directory *dir, struct dir_stmt *st, const char **error_r)
{
	int r;

	if (st == NULL) {
		*error_r = "database error";
		return -1;
	}
	r = dir_step(st);
	dir_finish(dir, st);
	if (r != DIR_DONE) {
		*error_r = r == DIR_CONSTRAINT ? "already exists" : "database error";
		return -1;
	}
	return 0;
}

/* Runs a change of one row: 1 changed, 0 no such row, -1 error. */
int dir_change_one(struct directory *dir, struct dir_stmt *st, const char **error_r)
{
	if (dir_run(dir, st, error_r) < 0)
		return -1;
	return dir->be->changes(dir->db) > 0 ? 1 : 0;
}

int dir_one_text(struct directory *dir, struct dir_stmt *st, char *buf, size_t size)
{
	int r;

	if (st == NULL)
		return -1;
	r = dir_step(st);
	if (r == DIR_ROW)
		dir_col_text(st, 0, buf, size);
	dir_finish(dir, st);
	return r == DIR_ROW ? 1 : r == DIR_DONE ? 0 : -1;
}

void dir_col_text(struct dir_stmt *st, int col, char *buf, size_t size)
{
	if (str_copy(buf, size, dir_text(st, col)) < 0)
		buf[0] = '\0';
}
