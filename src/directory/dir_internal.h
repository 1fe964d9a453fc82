#ifndef YUBIN_DIRECTORY_DIR_INTERNAL_H
#define YUBIN_DIRECTORY_DIR_INTERNAL_H

/* The SQLite helpers of directory.c, shared with the directory's other
 * files (node.c). Not for use outside src/directory/. */
#include <sqlite3.h>
#include <stddef.h>

struct directory;

/* Prepares sql (a string literal) with its text arguments, NULL-ended. */
sqlite3_stmt *dir_prepare(struct directory *dir, const char *sql, ...);
/* Ends the use of a statement from dir_prepare. */
void dir_finish(struct directory *dir, sqlite3_stmt *st);
/* Runs a statement that returns no rows: 0, or -1 with a message. */
int dir_run(struct directory *dir, sqlite3_stmt *st, const char **error_r);
/* Runs a change of one row: 1 changed, 0 no such row, -1 error. */
int dir_change_one(struct directory *dir, sqlite3_stmt *st, const char **error_r);
/* A text column into buf ("" when NULL or too long). */
void col_text(sqlite3_stmt *st, int col, char *buf, size_t size);

#endif
