/* yubinctl account show/list, and the mailbox usage figures they share
 * with doctor. */
#include "ctl/ctl.h"
#include "directory/directory.h"
#include "lib/json.h"
#include "store/maildir.h"
#include "settings/settings.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#define MIB (1024ULL * 1024)

void ctl_usage_get(const struct ctl *c, const struct dir_account *a, struct ctl_usage *u)
{
	char path[PATH_MAX];
	struct stat st;

	memset(u, 0, sizeof(*u));
	u->quota_bytes = (uint64_t)a->quota_mb * MIB;
	if (maildir_path(path, sizeof(path), c->data, a->domain, a->local) < 0 ||
	    stat(path, &st) < 0 || !S_ISDIR(st.st_mode))
		return;
	u->present = true;
	if (maildir_usage(path, &u->bytes, &u->messages) < 0) {
		/* A part could not be read: the sums are a lower bound. */
	}
	if (u->quota_bytes > 0)
		u->permille = u->bytes * 1000 / u->quota_bytes;
}

void ctl_mb_text(uint64_t bytes, char *buf, size_t size)
{
	uint64_t tenths = bytes * 10 / MIB;

	snprintf(buf, size, "%llu.%llu MB", (unsigned long long)(tenths / 10),
		 (unsigned long long)(tenths % 10));
}

void ctl_usage_text(const struct ctl_usage *u, char *buf, size_t size)
{
	char used[32];

	ctl_mb_text(u->bytes, used, sizeof(used));
	snprintf(buf, size, "%s of %llu MB (%llu.%llu%%), %llu message%s", used,
		 (unsigned long long)(u->quota_bytes / MIB), (unsigned long long)(u->permille / 10),
		 (unsigned long long)(u->permille % 10), (unsigned long long)u->messages,
		 u->messages == 1 ? "" : "s");
}

/* The fields show and list have in common. */
static void ctl_account_json_fields(struct json *j, const struct ctl *c, const struct dir_account *a,
				    const struct ctl_usage *u)
{
	char created[32], path[PATH_MAX];

	ctl_time_iso(a->created, created, sizeof(created));
	json_kv_string(j, "address", a->address);
	json_kv_string(j, "domain", a->domain);
	json_kv_uint(j, "quota_mb", a->quota_mb);
	json_kv_uint(j, "usage_bytes", u->bytes);
	json_key(j, "usage_mb");
	json_fixed(j, u->bytes * 100 / MIB, 2);
	json_key(j, "usage_percent");
	json_fixed(j, u->permille, 1);
	json_kv_uint(j, "messages", u->messages);
	json_kv_bool(j, settings_key(SETTING_ENABLED), a->enabled);
	json_kv_string(j, settings_key(SETTING_MEMO), a->memo);
	json_kv_string(j, "created", created);
	if (maildir_path(path, sizeof(path), c->data, a->domain, a->local) < 0)
		path[0] = '\0';
	json_kv_string(j, "mailbox", path);
	json_kv_bool(j, "mailbox_present", u->present);
}

int cmd_account_show(struct ctl *c)
{
	struct dir_account a;
	struct ctl_usage u;
	char created[40], text[128], path[PATH_MAX], node[DIR_NODE_NAME_MAX + 1], moving[DIR_NODE_NAME_MAX + 1];
	struct json j;

	if (ctl_account_get(c, c->argv[0], &a) != 0)
		return 1;
	if (directory_account_node(c->dir, a.address, node, sizeof(node)) <= 0)
		node[0] = '\0';	/* "": this machine (no mail nodes) */
	if (directory_account_moving(c->dir, a.address, moving, sizeof(moving)) <= 0)
		moving[0] = '\0';	/* no move running */
	ctl_usage_get(c, &a, &u);
	if (c->json) {
		json_init(&j);
		json_object_begin(&j);
		ctl_account_json_fields(&j, c, &a, &u);
		json_kv_string(&j, "node", node);
		json_kv_string(&j, "moving", moving);
		ctl_abuse_show(c, &a, &j);
		ctl_settings_json(c, &j, SETTING_ACCOUNT, a.address);
		json_object_end(&j);
		return ctl_json_print(&j);
	}
	ctl_time_text(a.created, created, sizeof(created));
	ctl_usage_text(&u, text, sizeof(text));
	if (maildir_path(path, sizeof(path), c->data, a.domain, a.local) < 0)
		path[0] = '\0';
	printf("address   %s\n", a.address);
	printf("enabled   %s\n", a.enabled ? "yes" : "no (logins refused, mail rejected)");
	printf("quota     %u MB\n", a.quota_mb);
	if (u.present)
		printf("usage     %s, %llu bytes%s\n", text, (unsigned long long)u.bytes,
		       u.bytes >= u.quota_bytes ? " - FULL" : u.permille >= 900 ? " - nearly full" : "");
	else
		printf("usage     unknown: the mailbox directory is missing\n");
	printf("memo      %s\n", a.memo);
	printf("created   %s\n", created);
	if (node[0] != '\0')
		printf("node      %s (the mailbox lives there)\n", node);
	if (moving[0] != '\0')
		printf("moving    to %s (yubinctl account move; run it again if it stopped)\n", moving);
	else
		printf("mailbox   %s\n", path);
	ctl_abuse_show(c, &a, NULL);
	ctl_settings_print(c, SETTING_ACCOUNT, a.address);
	return 0;
}

struct ctl_list_ctx {
	struct ctl *c;
	struct json *j;
	unsigned count;
};

/* A row of ops_account_list; the usage shown is the CLI's own (the
 * mailbox walked: exact bytes and messages, "missing" without one). */
static void ctl_account_list_cb(const struct ops_account_row *row, void *ctx)
{
	struct ctl_list_ctx *lc = ctx;
	const struct dir_account *a = row->a;
	struct ctl_usage u;
	char used[32];

	ctl_usage_get(lc->c, a, &u);
	lc->count++;
	if (lc->j != NULL) {
		json_object_begin(lc->j);
		ctl_account_json_fields(lc->j, lc->c, a, &u);
		json_object_end(lc->j);
		return;
	}
	if (lc->count == 1)
		printf("%-40s %8s %10s %6s %-8s %s\n", "ADDRESS", "QUOTA", "USED", "USE%", "ENABLED", "MEMO");
	if (u.present)
		ctl_mb_text(u.bytes, used, sizeof(used));
	else
		snprintf(used, sizeof(used), "missing");
	printf("%-40s %5u MB %10s %5llu%% %-8s %s\n", a->address, a->quota_mb, used,
	       (unsigned long long)(u.permille / 10), a->enabled ? "yes" : "no", a->memo);
}

int cmd_account_list(struct ctl *c)
{
	char domain[DIR_DOMAIN_MAX + 1];
	struct ctl_list_ctx lc = { c, NULL, 0 };
	struct dir_domain d;
	struct ops_actor actor;
	struct ops_error err;
	struct ops *o;
	struct json j;
	size_t total;
	int r;

	if (ctl_directory(c) == NULL || (o = ctl_ops(c, &actor)) == NULL)
		return 1;
	if (c->argc > 0) {
		if (ctl_domain_arg(c->argv[0], domain, sizeof(domain)) < 0)
			return 1;
		r = directory_domain_get(c->dir, domain, &d);
		if (r <= 0)
			return r < 0 ? ctl_fail("cannot read the domain %s from the database", domain)
				     : ctl_fail("no such domain: %s", domain);
	}
	if (c->json) {
		json_init(&j);
		json_array_begin(&j);
		lc.j = &j;
	}
	r = ops_account_list(o, &actor, c->argc > 0 ? domain : NULL, NULL, 0, 0, ctl_account_list_cb, &lc,
			     &total, &err);
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
		printf("no accounts%s%s\n", c->argc > 0 ? " in " : "", c->argc > 0 ? domain : "");
	return 0;
}
