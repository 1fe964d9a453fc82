/* DKIM keys in the directory (issue 16 §1): the rows behind
 * server/dkim_share.c, written once for both backends. */
#include "directory/directory.h"
#include "directory/dir_sql.h"

#include <string.h>
#include <time.h>

int directory_dkim_keys_set(struct directory *dir, const char *domain, const struct dir_dkim_key *k, size_t n,
			    const char **error_r)
{
	bool own = !directory_in_transaction(dir);
	struct timespec now;
	int64_t us;

	clock_gettime(CLOCK_REALTIME, &now);
	us = (int64_t)now.tv_sec * 1000000 + now.tv_nsec / 1000;

	if (own && directory_begin(dir) < 0) {
		*error_r = "database error";
		return -1;
	}
	if (dir_run(dir, dir_prepare(dir, "DELETE FROM dkim_keys WHERE domain = ?", domain, NULL), error_r) < 0)
		goto fail;
	for (size_t i = 0; i < n; i++) {
		struct dir_stmt *st = dir_prepare(dir, "INSERT INTO dkim_keys(domain, selector, type, state, since, pem, pos,"
						  " updated) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", domain, k[i].selector, k[i].type,
						  k[i].state, NULL);

		if (st != NULL) {
			dir_bind_int64(st, 5, k[i].since);
			dir_bind_text(st, 6, k[i].pem);
			dir_bind_int64(st, 7, (int64_t)i);
			dir_bind_int64(st, 8, us);
		}
		if (dir_run(dir, st, error_r) < 0)
			goto fail;
	}
	if (own && directory_commit(dir) < 0) {
		*error_r = "database error";
		goto fail;
	}
	return 0;
fail:
	if (own)
		directory_rollback(dir);
	return -1;
}

int directory_dkim_keys_get(struct directory *dir, const char *domain, struct dir_dkim_key *k, size_t max,
			    size_t *n_r)
{
	struct dir_stmt *st = dir_prepare(dir, "SELECT selector, type, state, since, pem FROM dkim_keys"
					  " WHERE domain = ? ORDER BY pos, selector", domain, NULL);
	int r;

	*n_r = 0;
	if (st == NULL)
		return -1;
	while ((r = dir_step(st)) == DIR_ROW) {
		struct dir_dkim_key *x = &k[*n_r];

		if (*n_r == max)
			continue;	/* more than the signer keeps: the first max */
		memset(x, 0, sizeof(*x));
		dir_col_text(st, 0, x->selector, sizeof(x->selector));
		dir_col_text(st, 1, x->type, sizeof(x->type));
		dir_col_text(st, 2, x->state, sizeof(x->state));
		x->since = dir_int64(st, 3);
		dir_col_text(st, 4, x->pem, sizeof(x->pem));
		(*n_r)++;
	}
	dir_finish(dir, st);
	return r == DIR_DONE ? 0 : -1;
}

int directory_dkim_domains(struct directory *dir, dir_name_cb *cb, void *ctx)
{
	struct dir_stmt *st = dir_prepare(dir, "SELECT DISTINCT domain FROM dkim_keys ORDER BY domain", NULL);
	int r;

	if (st == NULL)
		return -1;
	while ((r = dir_step(st)) == DIR_ROW)
		cb(dir_text(st, 0), ctx);
	dir_finish(dir, st);
	return r == DIR_DONE ? 0 : -1;
}

int directory_dkim_mark(struct directory *dir, int64_t mark_r[2])
{
	struct dir_stmt *st = dir_prepare(dir, "SELECT count(*), coalesce(max(updated), 0) FROM dkim_keys", NULL);
	int r;

	if (st == NULL)
		return -1;
	r = dir_step(st);
	if (r == DIR_ROW) {
		mark_r[0] = dir_int64(st, 0);
		mark_r[1] = dir_int64(st, 1);
	}
	dir_finish(dir, st);
	return r == DIR_ROW ? 0 : -1;
}
