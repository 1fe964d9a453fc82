/* `yubinctl index rebuild ADDRESS`: brings an account's mail index in line
 * with its Maildir (new files get UIDs, vanished ones go, flags are read
 * from file names), keeping every UID the index still holds. A damaged
 * index is set aside and rebuilt, keeping the UIDs it can still tell.
 * With --force the index is made anew (new UIDVALIDITY: clients download
 * the mailbox again). Both are safe with the daemon running: the new
 * index is written beside the old one and put in place atomically
 * (store/index_rebuild.c). */
#include "ctl/ctl.h"
#include "directory/directory.h"
#include "store/index.h"
#include "store/maildir.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct rebuild_ctx {
	struct mail_index *idx;
	unsigned folders, messages, failed;
};

static void rebuild_folder(const struct index_mailbox *m, void *arg)
{
	struct rebuild_ctx *rc = arg;
	struct index_mailbox copy = *m;
	struct index_view v;

	if (mail_index_sync(rc->idx, &copy, &v) < 0) {
		rc->failed++;
		ctl_warn("folder %s could not be indexed", m->name);
		return;
	}
	printf("  %-24s %6zu messages  UIDVALIDITY %u  UIDNEXT %u\n", m->name, v.count,
	       v.uidvalidity, v.uidnext);
	rc->folders++;
	rc->messages += (unsigned)v.count;
	index_view_free(&v);
}

/* A new index file, put in place atomically: --force (every folder gets
 * a new UIDVALIDITY) or a damaged index (set aside, UIDs kept where its
 * rows can still be read). */
static int index_rebuild_whole(struct ctl *c, const struct dir_account *a, const char *root)
{
	struct index_rebuild_report rep;
	char err[256];

	if (mail_index_rebuild(root, c->force ? INDEX_REBUILD_FRESH : INDEX_REBUILD_DAMAGED, &rep, err,
			       sizeof(err)) < 0)
		return ctl_fail("cannot rebuild the index of %s: %s", a->address, err);
	if (rep.corrupt)
		printf("the index of %s was damaged: kept aside as %s/index.db.corrupt-*\n", a->address, root);
	printf("index of %s%s: %s\n", a->address, c->force ? " (made anew)" : "", rep.detail);
	ctl_event(c, "index-rebuilt", a->address, "%s%s", rep.corrupt ? "damaged index set aside; " : "",
		  rep.detail);
	printf("%u folders, %u messages\n", rep.folders, rep.messages);
	return 0;
}

int cmd_index_rebuild(struct ctl *c)
{
	struct dir_account a;
	struct rebuild_ctx rc = { NULL, 0, 0, 0 };
	char root[PATH_MAX], data[PATH_MAX], err[256];

	if (ctl_account_get(c, c->argv[0], &a) != 0)
		return 1;
	if (realpath(c->data, data) == NULL)
		return ctl_fail("%s: %s", c->data, strerror(errno));
	if (maildir_path(root, sizeof(root), data, a.domain, a.local) < 0)
		return ctl_fail("the mailbox path is too long");
	if (access(root, F_OK) < 0 && maildir_create(root) < 0)
		return ctl_fail("cannot create the mailbox %s: %s", root, strerror(errno));
	if (c->force || mail_index_check(root) == 1)
		return index_rebuild_whole(c, &a, root);
	rc.idx = mail_index_open(root, err, sizeof(err));
	if (rc.idx == NULL)
		return ctl_fail("%s (yubinctl index rebuild %s --force makes a new index)", err, a.address);
	printf("index of %s:\n", a.address);
	mail_index_mailbox_list(rc.idx, rebuild_folder, &rc);
	mail_index_close(rc.idx);
	ctl_event(c, "index-rebuilt", a.address, "%u folders, %u messages, UIDs kept", rc.folders,
		  rc.messages);
	printf("%u folders, %u messages\n", rc.folders, rc.messages);
	return rc.failed > 0 ? 1 : 0;
}
