#ifndef YUBIN_STORE_INDEX_PRIVATE_H
#define YUBIN_STORE_INDEX_PRIVATE_H

/* Shared by index.c (folders) and index_msgs.c (messages) only. */

#include <sqlite3.h>

#include "store/index.h"

struct mail_index {
	sqlite3 *db;
	char root[4096];
};

int idx_exec(struct mail_index *idx, const char *sql);
sqlite3_stmt *idx_prepare(struct mail_index *idx, const char *sql);
int idx_step_done(sqlite3_stmt *st);

#endif
