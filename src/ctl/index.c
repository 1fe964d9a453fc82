/* `yubinctl index rebuild ADDRESS`: brings an account's mail index in line
 * with its Maildir (new files get UIDs, vanished ones go, flags are read
 * from file names), keeping every UID the index still holds. A damaged
 * index is set aside and rebuilt, keeping the UIDs it can still tell.
 * With --force the index is made anew (new UIDVALIDITY: clients download
 * the mailbox again). Both are safe with the daemon running: the new
 * index is written beside the old one and put in place atomically
 * (store/index_rebuild.c). The full-text search index (store/fts.c) is
 * then made anew; --search-only does only that. */
#include "ctl/ctl.h"
#include "ops/ops_server.h"
#include "directory/directory.h"
#include "store/index.h"
#include "store/maildir.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct rebuild_print {
	const char *address;
	bool header;	/* "index of ADDRESS:" printed */
};

/* One folder of an in-place sync, under the heading. */
static void rebuild_folder(const char *name, size_t messages, uint32_t uidvalidity, uint32_t uidnext,
			   bool failed, void *ctx)
{
	struct rebuild_print *f = ctx;

	if (failed) {
		ctl_warn("folder %s could not be indexed", name);
		return;
	}
	if (!f->header) {
		f->header = true;
		printf("index of %s:\n", f->address);
	}
	printf("  %-24s %6zu messages  UIDVALIDITY %u  UIDNEXT %u\n", name, messages, uidvalidity, uidnext);
}

int cmd_index_rebuild(struct ctl *c)
{
	struct ops_index_result *r;
	struct dir_account a;
	struct ops_actor actor;
	struct ops_error err;
	struct ops *o;
	struct rebuild_print f = { NULL, false };
	int rc;

	if (ctl_account_get(c, c->argv[0], &a) != 0)
		return 1;
	o = ctl_ops(c, &actor);
	r = calloc(1, sizeof(*r));
	if (o == NULL || r == NULL) {
		free(r);
		return o == NULL ? 1 : ctl_fail("out of memory");
	}
	f.address = a.address;
	if (c->search_only) {
		rc = ops_index_rebuild_search(o, &actor, a.address, r, &err);
		if (rc == 0)
			printf("search index of %s: %u messages\n", r->address, r->search_messages);
		free(r);
		return rc < 0 ? ctl_ops_fail(&err) : 0;
	}
	if (ops_index_rebuild(o, &actor, a.address, c->force, rebuild_folder, &f, r, &err) < 0) {
		free(r);
		return ctl_ops_fail(&err);
	}
	if (r->whole) {
		if (r->corrupt)
			printf("the index of %s was damaged: kept aside as %s/index.db.corrupt-*\n", r->address,
			       r->root);
		printf("index of %s%s: %s\n", r->address, c->force ? " (made anew)" : "", r->detail);
	} else if (!f.header) {
		printf("index of %s:\n", r->address);
	}
	printf("%u folders, %u messages\n", r->folders, r->messages);
	if (r->search_failed)
		ctl_warn("the search index could not be rebuilt (searches read the messages meanwhile)");
	else
		printf("search index: %u messages\n", r->search_messages);
	rc = r->failed > 0 || r->search_failed ? 1 : 0;
	free(r);
	return rc;
}
