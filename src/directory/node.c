/* Mail nodes and accounts' home nodes (issue 16 §2), written once for
 * both backends over dir_query.c's calls. */
#include "directory/directory.h"
#include "directory/dir_sql.h"
#include "lib/str.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* A node's name: a short label of letters, digits, '-', '.', '_'. */
static int node_name_check(const char *name, const char **error_r)
{
	size_t n = strlen(name);

	if (n == 0 || n > DIR_NODE_NAME_MAX) {
		*error_r = "a node name has 1 to 63 characters";
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		char c = name[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '.' || c == '_')) {
			*error_r = "a node name has only letters, digits, '-', '.' and '_'";
			return -1;
		}
	}
	return 0;
}

/* host:port or [v6]:port with a port of 1-65535; "" allowed (no such
 * service on the node). */
static int node_addr_check(const char *addr, const char **error_r)
{
	const char *colon = strrchr(addr, ':');
	unsigned long port = 0;
	char *end;

	if (addr[0] == '\0')
		return 0;
	if (strlen(addr) > DIR_NODE_ADDR_MAX || colon == NULL || colon == addr) {
		*error_r = "a node address is HOST:PORT";
		return -1;
	}
	for (const char *p = addr; p < colon; p++) {
		if ((unsigned char)*p <= ' ' || *p == '/' || *p == '@') {
			*error_r = "a node address is HOST:PORT";
			return -1;
		}
	}
	if (colon[1] >= '0' && colon[1] <= '9')
		port = strtoul(colon + 1, &end, 10);
	if (port == 0 || port > 65535 || *end != '\0') {
		*error_r = "a node address ends in a port of 1 to 65535";
		return -1;
	}
	return 0;
}

int directory_node_add(struct directory *dir, const struct dir_node *n, const char **error_r)
{
	struct dir_stmt *st;
	int r;

	if (node_name_check(n->name, error_r) < 0 || node_addr_check(n->imap, error_r) < 0 ||
	    node_addr_check(n->pop3, error_r) < 0 || node_addr_check(n->lmtp, error_r) < 0 ||
	    node_addr_check(n->http, error_r) < 0)
		return -1;
	if (n->capacity_mb > INT64_MAX) {
		*error_r = "the capacity is too large";
		return -1;
	}
	st = dir_prepare(dir, "INSERT INTO nodes(name, imap, pop3, lmtp, http, state, capacity_mb, created)"
			 " VALUES (?, ?, ?, ?, ?, 'active', ?, ?)",
			 n->name, n->imap, n->pop3, n->lmtp, n->http, NULL);
	if (st != NULL) {
		dir_bind_int64(st, 6, (int64_t)n->capacity_mb);
		dir_bind_int64(st, 7, (int64_t)time(NULL));
	}
	r = dir_run(dir, st, error_r);
	if (r < 0 && strcmp(*error_r, "already exists") == 0)
		*error_r = "the node already exists";
	return r;
}

#define NODE_SELECT \
	"SELECT n.name, n.imap, n.pop3, n.lmtp, n.http, n.state, n.capacity_mb, n.created," \
	" (SELECT count(*) FROM accounts a WHERE a.node = n.name)," \
	" n.capacity_mb - (SELECT coalesce(sum(a.quota_mb), 0) FROM accounts a WHERE a.node = n.name)" \
	" FROM nodes n"

static void node_from_row(struct dir_stmt *st, struct dir_node *n)
{
	memset(n, 0, sizeof(*n));
	dir_col_text(st, 0, n->name, sizeof(n->name));
	dir_col_text(st, 1, n->imap, sizeof(n->imap));
	dir_col_text(st, 2, n->pop3, sizeof(n->pop3));
	dir_col_text(st, 3, n->lmtp, sizeof(n->lmtp));
	dir_col_text(st, 4, n->http, sizeof(n->http));
	dir_col_text(st, 5, n->state, sizeof(n->state));
	n->capacity_mb = (uint64_t)dir_int64(st, 6);
	n->created = dir_int64(st, 7);
	n->accounts = (unsigned)dir_int64(st, 8);
	n->free_mb = dir_int64(st, 9);
}

int directory_node_get(struct directory *dir, const char *name, struct dir_node *n_r)
{
	struct dir_stmt *st = dir_prepare(dir, NODE_SELECT " WHERE n.name = ?", name, NULL);
	int r;

	if (st == NULL)
		return -1;
	r = dir_step(st);
	if (r == DIR_ROW)
		node_from_row(st, n_r);
	dir_finish(dir, st);
	return r == DIR_ROW ? 1 : r == DIR_DONE ? 0 : -1;
}

int directory_node_list(struct directory *dir, dir_node_cb *cb, void *ctx)
{
	struct dir_stmt *st = dir_prepare(dir, NODE_SELECT " ORDER BY n.name", NULL);
	struct dir_node n;
	int r;

	if (st == NULL)
		return -1;
	while ((r = dir_step(st)) == DIR_ROW) {
		node_from_row(st, &n);
		cb(&n, ctx);
	}
	dir_finish(dir, st);
	return r == DIR_DONE ? 0 : -1;
}

int directory_node_set_state(struct directory *dir, const char *name, const char *state,
			     const char **error_r)
{
	if (strcmp(state, "active") != 0 && strcmp(state, "draining") != 0) {
		*error_r = "a node's state is active or draining";
		return -1;
	}
	return dir_change_one(dir, dir_prepare(dir, "UPDATE nodes SET state = ? WHERE name = ?", state,
					       name, NULL), error_r);
}

int directory_node_del(struct directory *dir, const char *name, const char **error_r)
{
	struct dir_node n;
	int r = directory_node_get(dir, name, &n);

	if (r <= 0) {
		if (r < 0)
			*error_r = "database error";
		return r;
	}
	if (n.accounts > 0) {
		*error_r = "accounts still live on the node: move them first";
		return -1;
	}
	/* mailbox deletions still waiting for it go with it: nobody would
	 * ever take them */
	if (dir_run(dir, dir_prepare(dir, "DELETE FROM mailbox_deletions WHERE node = ?", name, NULL), error_r) < 0)
		return -1;
	return dir_change_one(dir, dir_prepare(dir, "DELETE FROM nodes WHERE name = ?", name, NULL), error_r);
}

int directory_node_pick(struct directory *dir, char *name_r, size_t size)
{
	return dir_one_text(dir, dir_prepare(dir, NODE_SELECT " WHERE n.state = 'active'"
					     " ORDER BY 10 DESC, n.name LIMIT 1", NULL), name_r, size);
}

int directory_account_node(struct directory *dir, const char *address, char *node_r, size_t size)
{
	return dir_one_text(dir, dir_prepare(dir, "SELECT node FROM accounts WHERE address = lower(?)",
					     address, NULL), node_r, size);
}

int directory_account_set_node(struct directory *dir, const char *address, const char *node,
			       const char **error_r)
{
	if (node == NULL || node[0] == '\0')
		return dir_change_one(dir, dir_prepare(dir, "UPDATE accounts SET node = NULL"
						       " WHERE address = lower(?)", address, NULL), error_r);
	return dir_change_one(dir, dir_prepare(dir, "UPDATE accounts SET node = ? WHERE address = lower(?)",
					       node, address, NULL), error_r);
}

int directory_account_moving(struct directory *dir, const char *address, char *node_r, size_t size)
{
	node_r[0] = '\0';
	return dir_one_text(dir, dir_prepare(dir, "SELECT moving FROM accounts WHERE address = lower(?)",
					     address, NULL), node_r, size);
}

int directory_account_set_moving(struct directory *dir, const char *address, const char *node,
				 const char **error_r)
{
	if (node == NULL)
		return dir_change_one(dir, dir_prepare(dir, "UPDATE accounts SET moving = NULL"
						       " WHERE address = lower(?)", address, NULL), error_r);
	return dir_change_one(dir, dir_prepare(dir, "UPDATE accounts SET moving = ? WHERE address = lower(?)"
					       " AND (moving IS NULL OR moving = ?)", node, address, node, NULL),
			      error_r);
}

int directory_account_move_finish(struct directory *dir, const char *address, const char *from,
				  const char *to, const char **error_r)
{
	return dir_change_one(dir, dir_prepare(dir, "UPDATE accounts SET node = ?, moving = NULL"
					       " WHERE address = lower(?) AND node = ? AND moving = ?",
					       to, address, from, to, NULL), error_r);
}
