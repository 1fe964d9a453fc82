/* Domains: add and delete (with their accounts, settings, mail and DKIM
 * keys). */
#include "ops/ops.h"
#include "store/journal.h"
#include "ops/ops_server.h"
#include "ops/ops_cert.h"
#include "directory/validate.h"
#include "lib/fsutil.h"
#include "lib/str.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int ops_domain_name(const char *arg, char *name, struct ops_error *err)
{
	const char *error;

	if (str_copy(name, DIR_DOMAIN_MAX + 1, arg) < 0)
		return ops_fail(err, "invalid_domain", "domain", "the domain name is longer than 253 characters",
				"ドメイン名が 253 文字を超えています");
	str_lower(name);
	if (validate_domain(name, &error) < 0)
		return ops_fail(err, "invalid_domain", "domain", "'%s' is not a valid domain name: %s",
				"'%s' は正しいドメイン名ではありません: %s", arg, error);
	return 0;
}

static int ops_domain_path(struct ops *o, const char *name, char *buf, size_t size, struct ops_error *err)
{
	int n = snprintf(buf, size, "%s/mail/%s", o->data, name);

	if (n < 0 || (size_t)n >= size)
		return ops_fail(err, "internal", NULL, "the path %s/mail/%s is too long",
				"パス %s/mail/%s が長すぎます", o->data, name);
	return 0;
}

/* A new domain's DKIM keys (kept when it has some), so that its mail is
 * signed from the start. The domain works without them: a failure shows
 * as a domain without keys (ops_dkim_list), which rotate makes. */
static void ops_domain_dkim_add(struct ops *o, const struct ops_actor *actor, const char *name)
{
	struct ops_dkim_keys *k = malloc(sizeof(*k));
	struct ops_error err;

	if (k != NULL)
		(void)ops_dkim_domain_added(o, actor, name, k, &err);
	free(k);
}

int ops_domain_add(struct ops *o, const struct ops_actor *actor, const char *name, char *name_r,
		   bool *mkdir_failed_r, struct ops_error *err)
{
	char path[4096];
	const char *error;

	memset(err, 0, sizeof(*err));
	*mkdir_failed_r = false;
	if (ops_domain_name(name, name_r, err) < 0)
		return -1;
	if (!ops_may_server(actor))
		return ops_fail(err, "forbidden", NULL, "you may not add domains", "ドメインを追加する権限がありません");
	if (directory_domain_add(o->dir, name_r, &error) < 0)
		return ops_fail(err, strstr(error, "already exists") != NULL ? "exists" : "internal", "domain",
				"cannot add %s: %s", "%s を追加できません: %s", name_r, error);
	if (ops_domain_path(o, name_r, path, sizeof(path), err) < 0)
		return -1;
	*mkdir_failed_r = fs_mkdir_p(path, 0700) < 0;
	ops_domain_dkim_add(o, actor, name_r);
	ops_event(o, actor, "domain-added", name_r, "by %s", actor->name);
	ops_audit(o, actor, "domain.add", name_r, "added");
	return 0;
}

struct ops_names {
	char (*names)[DIR_ADDRESS_MAX + 1];
	size_t count, cap;
	bool failed;
};

static void names_add(struct ops_names *n, const char *name)
{
	if (n->count == n->cap) {
		size_t cap = n->cap == 0 ? 16 : n->cap * 2;
		void *bigger = realloc(n->names, cap * sizeof(*n->names));

		if (bigger == NULL) {
			n->failed = true;
			return;
		}
		n->names = bigger;
		n->cap = cap;
	}
	str_copy(n->names[n->count++], sizeof(n->names[0]), name);
}

static void ops_collect_cb(const struct dir_account *a, void *ctx)
{
	names_add(ctx, a->address);
}

static void hostname_collect_cb(const char *domain, const char *name, void *ctx)
{
	names_add(ctx, name);
}

/* A deleted domain's host names: its added ones and the default ones
 * (mail., autoconfig., mta-sts.) lose their certificates and renewal
 * state, so nothing renews a certificate for a domain no longer here. */
static void domain_forget_names(struct ops *o, const char *domain)
{
	struct ops_names added = { NULL, 0, 0, false };
	const char *error;
	char name[512];

	directory_hostname_list(o->dir, domain, hostname_collect_cb, &added);
	for (size_t i = 0; i < added.count; i++) {
		(void)directory_hostname_del(o->dir, added.names[i], &error);
		ops_cert_forget(o, added.names[i]);
	}
	free(added.names);
	for (size_t l = 0; l < 3; l++) {
		snprintf(name, sizeof(name), "%s.%s", ops_cert_default_labels[l], domain);
		if (strlen(name) <= 253)
			ops_cert_forget(o, name);
	}
	if (o->conf_reload != NULL)
		o->conf_reload(o);
}

/* The domain's rows, and for its accounts with a home node a request to
 * that node to delete the mailbox (server/node_purge.c), in one
 * transaction; the rows requested into r->on_nodes. */
static int ops_domain_del_rows(struct ops *o, struct ops_domain_del_result *r, bool force, const char **error_r)
{
	int64_t n;

	if (directory_begin(o->dir) < 0) {
		*error_r = "database busy";
		return -1;
	}
	n = directory_mailbox_deletion_add_domain(o->dir, r->name, error_r);
	if (n < 0 || directory_domain_del(o->dir, r->name, force, error_r) < 0) {
		directory_rollback(o->dir);
		return -1;
	}
	if (directory_commit(o->dir) < 0) {
		directory_rollback(o->dir);
		*error_r = "commit failed";
		return -1;
	}
	r->on_nodes = (size_t)n;
	return 0;
}

int ops_domain_del(struct ops *o, const struct ops_actor *actor, const char *name, bool force,
		   struct ops_domain_del_result *r, struct ops_error *err)
{
	struct ops_names accounts = { NULL, 0, 0, false };
	char path[4096];
	struct dir_domain d;
	const char *error;
	struct stat st;
	int found;

	memset(err, 0, sizeof(*err));
	memset(r, 0, sizeof(*r));
	if (ops_domain_name(name, r->name, err) < 0)
		return -1;
	if (!ops_may_server(actor))
		return ops_fail(err, "forbidden", NULL, "you may not delete domains", "ドメインを削除する権限がありません");
	found = directory_domain_get(o->dir, r->name, &d);
	if (found < 0)
		return ops_fail(err, "internal", NULL, "cannot read the domain %s from the database",
				"ドメイン %s をデータベースから読めません", r->name);
	if (found == 0)
		return ops_fail(err, "not_found", "domain", "no such domain: %s (yubinctl domain list shows them)",
				"ドメイン %s はありません", r->name);
	if (d.accounts > 0 && !force)
		return ops_fail(err, "not_empty", "domain",
				"the domain %s still has %u account%s: delete them first, or use"
				" yubinctl domain del %s --force to delete them and their mail too",
				"ドメイン %s にはまだ %u 個のアカウントがあります%s: 先に削除するか %s を強制削除してください",
				r->name, d.accounts, d.accounts == 1 ? "" : "s", r->name);
	if (ops_domain_path(o, r->name, r->path, sizeof(r->path), err) < 0)
		return -1;
	/* Remember the accounts for their settings and their history. */
	if (directory_account_list(o->dir, r->name, ops_collect_cb, &accounts) < 0 || accounts.failed) {
		free(accounts.names);
		return ops_fail(err, "internal", NULL, "cannot list the accounts of %s",
				"%s のアカウント一覧を読めません", r->name);
	}
	if (ops_domain_del_rows(o, r, force, &error) < 0) {
		free(accounts.names);
		return ops_fail(err, "internal", NULL, "cannot delete %s: %s", "%s を削除できません: %s",
				r->name, error);
	}
	for (size_t i = 0; i < accounts.count; i++) {
		(void)directory_setting_clear(o->dir, "account", accounts.names[i], &error);
		ops_event(o, actor, "account-deleted", accounts.names[i], "deleted with its domain %s", r->name);
	}
	free(accounts.names);
	(void)directory_session_revoke_domain(o->dir, r->name);
	r->accounts = accounts.count;
	(void)directory_setting_clear(o->dir, "domain", r->name, &error);
	journal_wait_all();	/* no replay into a mailbox made again */
	r->mail_left = stat(r->path, &st) == 0 && fs_remove_tree(r->path) < 0;
	/* its DKIM keys go too (a domain added again gets new ones), from the
	 * directory first: nodes write out what it holds */
	(void)directory_dkim_keys_set(o->dir, r->name, NULL, 0, &error);
	if (dkim_keys_dir(path, sizeof(path), o->data, r->name) == 0 && stat(path, &st) == 0)
		r->dkim_left = fs_remove_tree(path) < 0;
	domain_forget_names(o, r->name);
	ops_event(o, actor, "domain-deleted", r->name, r->mail_left ? "%zu accounts; mail directory not fully removed"
		  : "with %zu accounts and their mail", r->accounts);
	if (r->on_nodes > 0)
		ops_event(o, actor, "domain-deleted", r->name, "the mailboxes of %zu accounts are deleted by their nodes",
			  r->on_nodes);
	ops_audit(o, actor, "domain.del", r->name, "deleted with %zu accounts%s", r->accounts,
		  r->mail_left ? "; mail directory not fully removed" : "");
	return 0;
}
