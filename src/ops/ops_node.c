/* Mail nodes (issue 16 §2): adding, listing, draining and removing the
 * machines that hold mailboxes, and placing a new account on one. */
#include "ops/ops.h"

#include <stdio.h>
#include <string.h>

int ops_node_add(struct ops *o, const struct ops_actor *actor, const struct dir_node *n,
		 struct ops_error *err)
{
	const char *error;

	memset(err, 0, sizeof(*err));
	if (!ops_may_server(actor))
		return ops_fail(err, "forbidden", NULL, "you may not add nodes", "ノードを追加する権限がありません");
	if (n->imap[0] == '\0' && n->pop3[0] == '\0' && n->lmtp[0] == '\0')
		return ops_fail(err, "invalid", "imap", "a node needs at least one of imap=, pop3=, lmtp=",
				"ノードには imap=、pop3=、lmtp= のいずれかが必要です");
	if (directory_node_add(o->dir, n, &error) < 0)
		return ops_fail(err, strstr(error, "already exists") != NULL ? "exists" : "invalid", "name",
				"cannot add the node %s: %s", "ノード %s を追加できません: %s", n->name, error);
	ops_event(o, actor, "node-added", "", "node %s imap=%s pop3=%s lmtp=%s capacity %llu MB", n->name,
		  n->imap, n->pop3, n->lmtp, (unsigned long long)n->capacity_mb);
	ops_audit(o, actor, "node.add", n->name, "imap=%s pop3=%s lmtp=%s http=%s capacity=%llu MB",
		  n->imap, n->pop3, n->lmtp, n->http, (unsigned long long)n->capacity_mb);
	return 0;
}

int ops_node_list(struct ops *o, const struct ops_actor *actor, dir_node_cb *cb, void *ctx,
		  struct ops_error *err)
{
	memset(err, 0, sizeof(*err));
	if (!ops_may_server(actor))
		return ops_fail(err, "forbidden", NULL, "you may not list nodes", "ノード一覧を見る権限がありません");
	if (directory_node_list(o->dir, cb, ctx) < 0)
		return ops_fail(err, "internal", NULL, "cannot read the nodes", "ノードを読めません");
	return 0;
}

int ops_node_state(struct ops *o, const struct ops_actor *actor, const char *name, const char *state,
		   struct ops_error *err)
{
	const char *error = "database error";
	int r;

	memset(err, 0, sizeof(*err));
	if (!ops_may_server(actor))
		return ops_fail(err, "forbidden", NULL, "you may not change nodes", "ノードを変更する権限がありません");
	r = directory_node_set_state(o->dir, name, state, &error);
	if (r == 0)
		return ops_fail(err, "not_found", "name", "no such node: %s", "ノード %s はありません", name);
	if (r < 0)
		return ops_fail(err, "internal", NULL, "cannot change the node %s: %s",
				"ノード %s を変更できません: %s", name, error);
	ops_event(o, actor, "node-state", "", "node %s %s", name, state);
	ops_audit(o, actor, "node.state", name, "%s", state);
	return 0;
}

int ops_node_remove(struct ops *o, const struct ops_actor *actor, const char *name, struct ops_error *err)
{
	const char *error = "database error";
	int r;

	memset(err, 0, sizeof(*err));
	if (!ops_may_server(actor))
		return ops_fail(err, "forbidden", NULL, "you may not remove nodes", "ノードを削除する権限がありません");
	r = directory_node_del(o->dir, name, &error);
	if (r == 0)
		return ops_fail(err, "not_found", "name", "no such node: %s", "ノード %s はありません", name);
	if (r < 0)
		return ops_fail(err, strstr(error, "accounts") != NULL ? "not_empty" : "internal", "name",
				"cannot remove the node %s: %s", "ノード %s を削除できません: %s", name, error);
	ops_event(o, actor, "node-removed", "", "node %s", name);
	ops_audit(o, actor, "node.remove", name, "removed");
	return 0;
}

int ops_node_place(struct ops *o, const char *wanted, char *node_r, size_t size, struct ops_error *err)
{
	struct dir_node n;
	int r;

	node_r[0] = '\0';
	if (wanted == NULL || wanted[0] == '\0') {
		if (directory_node_pick(o->dir, node_r, size) < 0)
			return ops_fail(err, "internal", NULL, "cannot read the nodes", "ノードを読めません");
		return 0;
	}
	r = directory_node_get(o->dir, wanted, &n);
	if (r < 0)
		return ops_fail(err, "internal", NULL, "cannot read the nodes", "ノードを読めません");
	if (r == 0)
		return ops_fail(err, "not_found", "node", "no such node: %s", "ノード %s はありません", wanted);
	if (strcmp(n.state, "active") != 0)
		return ops_fail(err, "invalid", "node", "the node %s is %s: new accounts go to active nodes",
				"ノード %s は %s です: 新しいアカウントは active のノードへ", wanted, n.state);
	snprintf(node_r, size, "%s", n.name);
	return 0;
}
