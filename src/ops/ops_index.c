/* An account's mail index brought in line with its Maildir (yubinctl
 * index rebuild and the JSON API). In place every UID the index holds is
 * kept; a damaged index, or force, means a new file written beside the
 * old one and renamed over it (store/index_rebuild.c), which the daemon's
 * pooled handles notice by its inode and reopen. */
#include "ops/ops_server.h"
#include "lib/str.h"
#include "store/fts.h"
#include "store/index.h"
#include "store/maildir.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct ops_index_sync {
	struct mail_index *idx;
	struct ops_index_result *r;
	ops_index_folder_cb *cb;
	void *ctx;
};

static void ops_index_folder(const struct index_mailbox *m, void *arg)
{
	struct ops_index_sync *sc = arg;
	struct index_mailbox copy = *m;
	struct index_view v;

	if (mail_index_sync(sc->idx, &copy, &v) < 0) {
		sc->r->failed++;
		if (sc->cb != NULL)
			sc->cb(m->name, 0, 0, 0, true, sc->ctx);
		return;
	}
	if (sc->cb != NULL)
		sc->cb(m->name, v.count, v.uidvalidity, v.uidnext, false, sc->ctx);
	sc->r->folders++;
	sc->r->messages += (unsigned)v.count;
	index_view_free(&v);
}

struct ops_fts_rebuild {
	struct mail_index *idx;
	struct fts_index *f;
	struct ops_index_result *r;
};

static void ops_fts_folder(const struct index_mailbox *m, void *arg)
{
	struct ops_fts_rebuild *fr = arg;
	struct index_mailbox copy = *m;
	struct index_view v;
	struct fts_folder fs;

	if (mail_index_sync(fr->idx, &copy, &v) < 0) {
		fr->r->search_failed = true;
		return;
	}
	if (fts_folder_sync(fr->f, &copy, &v, SIZE_MAX, &fs) < 0) {
		fr->r->search_failed = true;
	} else {
		fr->r->search_messages += (unsigned)(v.count - fs.missing);
		fts_folder_free(&fs);
	}
	index_view_free(&v);
}

/* Empties the search index and indexes every folder again. */
static void ops_fts_rebuild(struct ops_index_result *r)
{
	struct ops_fts_rebuild fr = { NULL, NULL, r };
	char e[256];

	r->search_messages = 0;
	fr.idx = mail_index_open(r->root, e, sizeof(e));
	fr.f = fr.idx != NULL ? fts_open(r->root, e, sizeof(e)) : NULL;
	if (fr.f == NULL || fts_clear(fr.f) < 0)
		r->search_failed = true;
	else
		mail_index_mailbox_list(fr.idx, ops_fts_folder, &fr);
	fts_close(fr.f);
	mail_index_close(fr.idx);
}

/* A new index file: force, or a damaged index set aside. */
static int ops_index_whole(struct ops *o, const struct ops_actor *actor, bool force,
			   struct ops_index_result *r, struct ops_error *err)
{
	struct index_rebuild_report rep;
	char e[256];

	if (mail_index_rebuild(r->root, force ? INDEX_REBUILD_FRESH : INDEX_REBUILD_DAMAGED, &rep, e,
			       sizeof(e)) < 0)
		return ops_fail(err, "internal", NULL, "cannot rebuild the index of %s: %s",
				"%s のインデックスを作り直せません: %s", r->address, e);
	r->whole = true;
	r->corrupt = rep.corrupt;
	r->folders = rep.folders;
	r->messages = rep.messages;
	str_copy(r->detail, sizeof(r->detail), rep.detail);
	ops_event(o, actor, "index-rebuilt", r->address, "%s%s", rep.corrupt ? "damaged index set aside; " : "",
		  rep.detail);
	ops_audit(o, actor, "index.rebuild", r->address, "%s%s%s", force ? "made anew: " : "",
		  rep.corrupt ? "damaged index set aside; " : "", rep.detail);
	return 0;
}

/* The account's Maildir into r->root (created when missing). */
static int ops_index_account(struct ops *o, const struct ops_actor *actor, const char *address,
			     struct dir_account *a_r, struct ops_index_result *r, struct ops_error *err)
{
	struct dir_account a;
	char data[PATH_MAX];

	memset(r, 0, sizeof(*r));
	if (ops_actor_role(actor) == OPS_ACTOR_USER)
		return ops_fail(err, "forbidden", NULL, "you may not rebuild the index of %s",
				"%s のインデックスを作り直す権限がありません", address);
	if (ops_account_get(o, actor, address, &a, err) < 0)
		return -1;
	str_copy(r->address, sizeof(r->address), a.address);
	if (realpath(o->data, data) == NULL)
		return ops_fail(err, "internal", NULL, "%s: %s", "%s: %s", o->data, strerror(errno));
	if (maildir_path(r->root, sizeof(r->root), data, a.domain, a.local) < 0)
		return ops_fail(err, "internal", NULL, "the mailbox path is too long",
				"メールボックスのパスが長すぎます");
	if (access(r->root, F_OK) < 0 && maildir_create(r->root) < 0)
		return ops_fail(err, "internal", NULL, "cannot create the mailbox %s: %s",
				"メールボックス %s を作れません: %s", r->root, strerror(errno));
	*a_r = a;
	return 0;
}

int ops_index_rebuild_search(struct ops *o, const struct ops_actor *actor, const char *address,
			     struct ops_index_result *r, struct ops_error *err)
{
	struct dir_account a;

	if (ops_index_account(o, actor, address, &a, r, err) < 0)
		return -1;
	ops_fts_rebuild(r);
	if (r->search_failed)
		return ops_fail(err, "internal", NULL, "cannot rebuild the search index of %s",
				"%s の検索インデックスを作り直せません", a.address);
	ops_audit(o, actor, "index.rebuild", a.address, "search index: %u messages", r->search_messages);
	return 0;
}

int ops_index_rebuild(struct ops *o, const struct ops_actor *actor, const char *address, bool force,
		      ops_index_folder_cb *cb, void *ctx, struct ops_index_result *r, struct ops_error *err)
{
	struct dir_account a;
	struct ops_index_sync sc;
	char e[256];
	int rc;

	if (ops_index_account(o, actor, address, &a, r, err) < 0)
		return -1;
	if (force || mail_index_check(r->root) == 1) {
		rc = ops_index_whole(o, actor, force, r, err);
		if (rc == 0)
			ops_fts_rebuild(r);
		return rc;
	}
	memset(&sc, 0, sizeof(sc));
	sc.r = r;
	sc.cb = cb;
	sc.ctx = ctx;
	sc.idx = mail_index_open(r->root, e, sizeof(e));
	if (sc.idx == NULL)
		return ops_fail(err, "internal", NULL, "%s (yubinctl index rebuild %s --force makes a new index)",
				"%s (yubinctl index rebuild %s --force で新しく作れます)", e, a.address);
	mail_index_mailbox_list(sc.idx, ops_index_folder, &sc);
	mail_index_close(sc.idx);
	ops_fts_rebuild(r);
	ops_event(o, actor, "index-rebuilt", a.address, "%u folders, %u messages, UIDs kept", r->folders,
		  r->messages);
	ops_audit(o, actor, "index.rebuild", a.address, "%u folders, %u messages, UIDs kept%s", r->folders,
		  r->messages, r->failed > 0 ? " (some folders failed)" : "");
	return 0;
}
