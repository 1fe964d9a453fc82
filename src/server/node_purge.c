/* Mailboxes a mail node is asked to delete (node_purge.h). */
#include "server/node_purge.h"
#include "store/mail_move.h"
#include "store/journal.h"
#include "server/server.h"
#include "directory/validate.h"
#include "lib/fsutil.h"
#include "lib/log.h"
#include "lib/str.h"
#include "store/index.h"
#include "store/maildir.h"
#include "store/quota.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Requests handled per pass; more wait for the next. */
#define NODE_PURGE_BATCH 100

struct node_purge_batch {
	struct dir_mailbox_deletion rows[NODE_PURGE_BATCH];
	unsigned n;
};

static void node_purge_collect(const struct dir_mailbox_deletion *d, void *ctx)
{
	struct node_purge_batch *b = ctx;

	if (b->n < NODE_PURGE_BATCH)
		b->rows[b->n++] = *d;
}

bool node_purge_is_on(const struct config *cfg)
{
	return cfg->node_name[0] != '\0' && strcmp(cfg->role, "proxy") != 0;
}

/* Whether the address lives on this node again (added anew, or moving
 * here): then the mailbox is its and stays. 1 yes, 0 no, -1 cannot tell. */
static int node_purge_is_ours(struct directory *dir, const char *address, const char *here)
{
	char node[DIR_NODE_NAME_MAX + 1], moving[DIR_NODE_NAME_MAX + 1];
	int r = directory_account_node(dir, address, node, sizeof(node));

	if (r <= 0)
		return r;
	/* NULL (this machine) is ours too: never remove what may be in use */
	if (node[0] == '\0' || strcmp(node, here) == 0)
		return 1;
	r = directory_account_moving(dir, address, moving, sizeof(moving));
	return r < 0 ? -1 : r > 0 && strcmp(moving, here) == 0;
}

/* Removes the mailbox of one request: 1 removed, 0 none was here, -1. */
static int node_purge_mailbox(const char *data_dir, const char *address, char *path, size_t size)
{
	char local[DIR_LOCAL_MAX + 1], domain[DIR_DOMAIN_MAX + 1];
	const char *error;
	struct stat st;

	/* a row names a path under DATA/mail only through a valid address */
	if (validate_address(address, local, sizeof(local), domain, sizeof(domain), &error) < 0 ||
	    maildir_path(path, size, data_dir, domain, local) < 0) {
		path[0] = '\0';
		return -1;
	}
	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : -1;
	/* a move's tombstone (mail_move.h): the account's too, and so is a
	 * frozen copy beside it (the account was deleted during a move) */
	if (!S_ISDIR(st.st_mode))
		return mail_move_clear(path, &error) < 0 ? -1 : 0;
	journal_wait_all();	/* no replay into a mailbox made again */
	if (fs_remove_tree(path) < 0)
		return -1;
	/* nothing of it is reused for an account added again at that path */
	mail_index_pool_forget(path);
	quota_forget(path);
	return 1;
}

static void node_purge_one(struct directory *dir, const struct dir_mailbox_deletion *d, const char *here,
			   const char *data_dir)
{
	char path[PATH_MAX], detail[128];
	int r = node_purge_is_ours(dir, d->address, here);

	if (r < 0)
		return;		/* the directory is unsure: the next pass */
	if (r > 0) {
		log_info(NULL, "node: %s lives on this node again: its mailbox stays", d->address);
		(void)directory_event_add(dir, "mailbox-kept", d->address, "",
					  "the account was added again on this node before its old mailbox was deleted");
		(void)directory_mailbox_deletion_done(dir, d->address, here, d->requested);
		return;
	}
	r = node_purge_mailbox(data_dir, d->address, path, sizeof(path));
	if (r < 0) {
		log_warn(NULL, "node: cannot delete the mailbox of %s (%s); trying again later", d->address,
			 path[0] != '\0' ? path : "not a valid address");
		if (path[0] == '\0')	/* will never be: drop the request */
			(void)directory_mailbox_deletion_done(dir, d->address, here, d->requested);
		return;
	}
	log_info(NULL, "node: deleted the mailbox of %s (%s)", d->address, r > 0 ? path : "none was here");
	snprintf(detail, sizeof(detail), r > 0 ? "the mailbox was deleted on node %s"
		 : "no mailbox was left on node %s", here);
	(void)directory_event_add(dir, "mailbox-deleted", d->address, "", detail);
	(void)directory_mailbox_deletion_done(dir, d->address, here, d->requested);
}

void node_purge_run(struct directory *dir, const struct config *cfg, const char *data_dir)
{
	struct node_purge_batch *b;

	if (!node_purge_is_on(cfg))
		return;
	b = calloc(1, sizeof(*b));
	if (b == NULL)
		return;
	if (directory_mailbox_deletion_list(dir, cfg->node_name, NODE_PURGE_BATCH, node_purge_collect, b) < 0)
		log_warn(NULL, "node: cannot read the mailboxes to delete; trying again later");
	for (unsigned i = 0; i < b->n && !atomic_load(&server->stopping); i++)
		node_purge_one(dir, &b->rows[i], cfg->node_name, data_dir);
	free(b);
}
