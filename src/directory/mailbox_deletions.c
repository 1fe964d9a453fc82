/* Pending mailbox deletions (v15, issue 16): an account or a domain
 * deleted where its mailbox is not (a proxy, another node) leaves a row
 * for the account's home node, whose daemon removes the mailbox and then
 * the row (server/node_purge.c). Explicit on purpose: a node never
 * removes a mailbox because the directory does not list its account. */
#include "directory/directory.h"
#include "directory/dir_sql.h"
#include "lib/str.h"

#include <string.h>
#include <time.h>

int directory_mailbox_deletion_add(struct directory *dir, const char *address, const char *node,
				   const char **error_r)
{
	struct dir_stmt *st;

	if (node == NULL || node[0] == '\0' || strlen(node) > DIR_NODE_NAME_MAX) {
		*error_r = "no such node";
		return -1;
	}
	/* asked again (deleted, added and deleted again): the newer time */
	st = dir_prepare(dir, "INSERT INTO mailbox_deletions(node, address, requested) VALUES (?, lower(?), ?)"
			 " ON CONFLICT(node, address) DO UPDATE SET requested = excluded.requested",
			 node, address, NULL);
	if (st != NULL)
		dir_bind_int64(st, 3, (int64_t)time(NULL));
	return dir_run(dir, st, error_r);
}

int64_t directory_mailbox_deletion_add_domain(struct directory *dir, const char *domain, const char **error_r)
{
	/* WHERE true: SQLite's parser needs it between a SELECT and ON CONFLICT */
	struct dir_stmt *st = dir_prepare(dir,
		"INSERT INTO mailbox_deletions(node, address, requested)"
		" SELECT a.node, a.address, ?2 FROM accounts a JOIN domains d ON d.id = a.domain_id"
		" WHERE d.name = lower(?1) AND a.node IS NOT NULL AND a.node <> '' AND true"
		" ON CONFLICT(node, address) DO UPDATE SET requested = excluded.requested", domain, NULL);

	if (st != NULL)
		dir_bind_int64(st, 2, (int64_t)time(NULL));
	if (dir_run(dir, st, error_r) < 0)
		return -1;
	return dir->be->changes(dir->db);
}

int directory_mailbox_deletion_list(struct directory *dir, const char *node, unsigned limit,
				    dir_mailbox_deletion_cb *cb, void *ctx)
{
	struct dir_stmt *st = dir_prepare(dir, "SELECT address, requested FROM mailbox_deletions WHERE node = ?"
				       " ORDER BY requested, address LIMIT ?", node, NULL);
	struct dir_mailbox_deletion d;
	int r, n = 0;

	if (st == NULL)
		return -1;
	dir_bind_int64(st, 2, limit);
	while ((r = dir_step(st)) == DIR_ROW) {
		memset(&d, 0, sizeof(d));
		dir_col_text(st, 0, d.address, sizeof(d.address));
		d.requested = dir_int64(st, 1);
		str_copy(d.node, sizeof(d.node), node);
		cb(&d, ctx);
		n++;
	}
	dir_finish(dir, st);
	return r == DIR_DONE ? n : -1;
}

int directory_mailbox_deletion_pending(struct directory *dir, const char *address, const char *node)
{
	struct dir_stmt *st = dir_prepare(dir, "SELECT 1 FROM mailbox_deletions WHERE node = ? AND address = lower(?)",
				       node, address, NULL);
	int r;

	if (st == NULL)
		return -1;
	r = dir_step(st);
	dir_finish(dir, st);
	return r == DIR_ROW ? 1 : r == DIR_DONE ? 0 : -1;
}

int directory_mailbox_deletion_done(struct directory *dir, const char *address, const char *node,
				    int64_t requested)
{
	const char *error;

	/* only the request seen: one made again meanwhile stays for the next pass */
	struct dir_stmt *st = dir_prepare(dir, "DELETE FROM mailbox_deletions WHERE node = ? AND address = lower(?)"
				       " AND requested <= ?", node, address, NULL);

	if (st != NULL)
		dir_bind_int64(st, 3, requested);
	return dir_change_one(dir, st, &error);
}
