/* `yubinctl index rebuild ADDRESS`: brings an account's mail index in line
 * with its Maildir (new files get UIDs, vanished ones go, flags are read
 * from file names), keeping every UID the index still holds. With --force
 * the index is thrown away and made anew (new UIDVALIDITY: clients
 * download the mailbox again); use that only with the daemon stopped. */
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

int cmd_index_rebuild(struct ctl *c)
{
	struct dir_account a;
	struct rebuild_ctx rc = { NULL, 0, 0, 0 };
	char root[PATH_MAX], data[PATH_MAX], path[PATH_MAX + 16], err[256];

	if (ctl_account_get(c, c->argv[0], &a) != 0)
		return 1;
	if (realpath(c->data, data) == NULL)
		return ctl_fail("%s: %s", c->data, strerror(errno));
	if (maildir_path(root, sizeof(root), data, a.domain, a.local) < 0)
		return ctl_fail("the mailbox path is too long");
	if (access(root, F_OK) < 0 && maildir_create(root) < 0)
		return ctl_fail("cannot create the mailbox %s: %s", root, strerror(errno));
	if (c->force) {
		static const char *const files[] = { "index.db", "index.db-wal", "index.db-shm" };
		for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
			snprintf(path, sizeof(path), "%s/%s", root, files[i]);
			if (unlink(path) < 0 && errno != ENOENT)
				return ctl_fail("cannot remove %s: %s", path, strerror(errno));
		}
	}
	rc.idx = mail_index_open(root, err, sizeof(err));
	if (rc.idx == NULL)
		return ctl_fail("%s", err);
	printf("index of %s%s:\n", a.address, c->force ? " (made anew)" : "");
	mail_index_mailbox_list(rc.idx, rebuild_folder, &rc);
	mail_index_close(rc.idx);
	ctl_event(c, "index-rebuilt", a.address, "%u folders, %u messages%s", rc.folders, rc.messages,
		  c->force ? ", new UIDVALIDITY" : "");
	printf("%u folders, %u messages\n", rc.folders, rc.messages);
	return rc.failed > 0 ? 1 : 0;
}
