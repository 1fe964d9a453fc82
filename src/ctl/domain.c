/* yubinctl domain add/del/list/show/set. */
#include "ctl/ctl.h"
#include "directory/directory.h"
#include "lib/fsutil.h"
#include "lib/json.h"
#include "lib/str.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

/* Looks the domain named by arg up; 0, or 1 after a message. */
static int ctl_domain_get(struct ctl *c, const char *arg, char *name, size_t size,
			  struct dir_domain *d)
{
	int r;

	if (ctl_domain_arg(arg, name, size) < 0 || ctl_directory(c) == NULL)
		return 1;
	r = directory_domain_get(c->dir, name, d);
	if (r < 0)
		return ctl_fail("cannot read the domain %s from the database", name);
	if (r == 0)
		return ctl_fail("no such domain: %s (yubinctl domain list shows them)", name);
	return 0;
}

static int ctl_domain_mail_path(const struct ctl *c, const char *name, char *buf, size_t size)
{
	char rel[DIR_DOMAIN_MAX + 8];

	snprintf(rel, sizeof(rel), "mail/%s", name);
	return ctl_path(c, buf, size, rel);
}

int cmd_domain_add(struct ctl *c)
{
	char name[DIR_DOMAIN_MAX + 1], path[PATH_MAX];
	struct ops_actor actor;
	struct ops_error err;
	struct ops *o;
	int64_t start = (int64_t)time(NULL);
	bool mkdir_failed;

	if (ctl_domain_arg(c->argv[0], name, sizeof(name)) < 0 || (o = ctl_ops(c, &actor)) == NULL)
		return 1;
	if (ops_domain_add(o, &actor, name, name, &mkdir_failed, &err) < 0)
		return ctl_ops_fail(&err);
	if (mkdir_failed && ctl_domain_mail_path(c, name, path, sizeof(path)) == 0)
		ctl_warn("cannot create %s (it is created with the first account)", path);
	printf("added domain %s\n", name);
	/* the domain works without DKIM keys, so a failure only warns */
	if (ctl_dkim_domain_added(c, name, start) != 0)
		ctl_warn("%s has no DKIM keys yet: make them with yubinctl dkim rotate %s --now", name, name);
	return 0;
}

int cmd_domain_del(struct ctl *c)
{
	char name[DIR_DOMAIN_MAX + 1];
	struct ops_domain_del_result res;
	struct ops_actor actor;
	struct ops_error err;
	struct dir_domain d;
	struct ops *o;

	if (ctl_domain_get(c, c->argv[0], name, sizeof(name), &d) != 0 || (o = ctl_ops(c, &actor)) == NULL)
		return 1;
	if (ops_domain_del(o, &actor, name, c->force, &res, &err) < 0)
		return ctl_ops_fail(&err);
	if (res.mail_left)
		return ctl_fail("the domain %s is deleted but %s could not be fully removed", name, res.path);
	if (res.dkim_left)
		ctl_warn("the DKIM keys of %s in %s/dkim/%s could not be fully removed", name, c->data, name);
	printf("deleted domain %s", name);
	if (res.accounts > 0)
		printf(" with %zu account%s and their mail", res.accounts, res.accounts == 1 ? "" : "s");
	printf("\n");
	if (res.on_nodes > 0)
		printf("the mailboxes of %zu of them are deleted by their nodes within a minute\n", res.on_nodes);
	return 0;
}

static void ctl_domain_json(struct json *j, const struct dir_domain *d)
{
	char created[32];

	ctl_time_iso(d->created, created, sizeof(created));
	json_kv_string(j, "name", d->name);
	json_kv_uint(j, "accounts", d->accounts);
	json_kv_string(j, "created", created);
}

struct ctl_domain_list_ctx {
	struct json *j;
	unsigned count;
};

static void ctl_domain_list_cb(const struct dir_domain *d, void *ctx)
{
	struct ctl_domain_list_ctx *lc = ctx;
	char created[40];

	lc->count++;
	if (lc->j != NULL) {
		json_object_begin(lc->j);
		ctl_domain_json(lc->j, d);
		json_object_end(lc->j);
		return;
	}
	if (lc->count == 1)
		printf("%-40s %8s  %s\n", "DOMAIN", "ACCOUNTS", "CREATED");
	ctl_time_text(d->created, created, sizeof(created));
	printf("%-40s %8u  %s\n", d->name, d->accounts, created);
}

int cmd_domain_list(struct ctl *c)
{
	struct ctl_domain_list_ctx lc = { NULL, 0 };
	struct ops_actor actor;
	struct ops_error err;
	struct ops *o;
	struct json j;
	int r;

	if ((o = ctl_ops(c, &actor)) == NULL)
		return 1;
	if (c->json) {
		json_init(&j);
		json_array_begin(&j);
		lc.j = &j;
	}
	r = ops_domain_list(o, &actor, ctl_domain_list_cb, &lc, &err);
	if (c->json) {
		json_array_end(&j);
		if (r < 0) {
			json_free(&j);
			return ctl_ops_fail(&err);
		}
		return ctl_json_print(&j);
	}
	if (r < 0)
		return ctl_ops_fail(&err);
	if (lc.count == 0)
		printf("no domains (add one with yubinctl domain add DOMAIN)\n");
	return 0;
}

int cmd_domain_show(struct ctl *c)
{
	char name[DIR_DOMAIN_MAX + 1], created[40], path[PATH_MAX];
	struct dir_domain d;
	struct json j;

	if (ctl_domain_get(c, c->argv[0], name, sizeof(name), &d) != 0 ||
	    ctl_domain_mail_path(c, name, path, sizeof(path)) < 0)
		return 1;
	if (c->json) {
		json_init(&j);
		json_object_begin(&j);
		ctl_domain_json(&j, &d);
		json_kv_string(&j, "mail", path);
		ctl_settings_json(c, &j, SETTING_DOMAIN, d.name);
		json_object_end(&j);
		return ctl_json_print(&j);
	}
	ctl_time_text(d.created, created, sizeof(created));
	printf("domain    %s\n", d.name);
	printf("accounts  %u\n", d.accounts);
	printf("created   %s\n", created);
	printf("mail      %s\n", path);
	ctl_settings_print(c, SETTING_DOMAIN, d.name);
	return 0;
}

int cmd_domain_set(struct ctl *c)
{
	char name[DIR_DOMAIN_MAX + 1];
	struct dir_domain d;

	if (ctl_domain_get(c, c->argv[0], name, sizeof(name), &d) != 0)
		return 1;
	return ctl_setting_set(c, SETTING_DOMAIN, d.name, c->argv[1], c->argv[2]);
}

int cmd_domain_unset(struct ctl *c)
{
	char name[DIR_DOMAIN_MAX + 1];
	struct dir_domain d;

	if (ctl_domain_get(c, c->argv[0], name, sizeof(name), &d) != 0)
		return 1;
	return ctl_setting_unset(c, SETTING_DOMAIN, d.name, c->argv[1]);
}
