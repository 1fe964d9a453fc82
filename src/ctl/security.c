/* yubinctl security list|unblock|suspended|events: the brute-force
 * defence's blocked addresses and slowed accounts, suspended senders and
 * the events log, through ops/ops_log.c. Blocks live in the directory
 * (auth_blocks), which the daemon reads at every login, so an unblock
 * applies to the next login without a restart. */
#include "ctl/ctl.h"
#include "directory/directory.h"
#include "directory/validate.h"
#include "lib/json.h"
#include "lib/str.h"
#include "ops/ops_server.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

static void ctl_security_cb(const struct dir_auth_block *b, void *ctx)
{
	struct ctl_list *l = ctx;
	char since[40], until[40];

	l->n++;
	if (l->j != NULL) {
		json_object_begin(l->j);
		json_kv_string(l->j, "key", b->key);
		json_kv_string(l->j, "kind", b->kind);
		json_kv_int(l->j, "since", b->since);
		json_kv_int(l->j, "until", b->until);
		json_kv_uint(l->j, "failures", b->failures);
		json_kv_string(l->j, "detail", b->detail);
		json_object_end(l->j);
		return;
	}
	ctl_time_text(b->since, since, sizeof(since));
	ctl_time_text(b->until, until, sizeof(until));
	printf("%-8s %-40s since %s until %s\n         %s\n",
	       strcmp(b->kind, "ip") == 0 ? "blocked" : "slowed", b->key, since, until, b->detail);
}

int cmd_security_list(struct ctl *c)
{
	struct ctl_list l;
	struct ops_actor actor;
	struct ops_error err;
	struct ops *o;
	struct json j;

	if ((o = ctl_ops(c, &actor)) == NULL)
		return 1;
	ctl_list_begin(c, &l, &j);
	return ctl_list_end(&l, ops_security_blocks(o, &actor, ctl_security_cb, &l, &err), &err, "no blocked addresses or slowed accounts");
}

static void ctl_suspended_cb(const struct dir_hold *h, void *ctx)
{
	struct ctl_list *l = ctx;
	char since[40];

	l->n++;
	if (l->j != NULL) {
		json_object_begin(l->j);
		json_kv_string(l->j, "address", h->address);
		ctl_time_iso(h->since, since, sizeof(since));
		json_kv_string(l->j, "since", since);
		json_kv_string(l->j, "reason", h->reason);
		json_kv_string(l->j, "detail", h->detail);
		json_object_end(l->j);
		return;
	}
	ctl_time_text(h->since, since, sizeof(since));
	printf("%-40s since %s  %s: %s\n", h->address, since, h->reason, h->detail);
}

int cmd_security_suspended(struct ctl *c)
{
	struct ctl_list l;
	struct ops_actor actor;
	struct ops_error err;
	struct ops *o;
	struct json j;

	if ((o = ctl_ops(c, &actor)) == NULL)
		return 1;
	ctl_list_begin(c, &l, &j);
	return ctl_list_end(&l, ops_security_suspended(o, &actor, ctl_suspended_cb, &l, &err), &err, "no account's sending is suspended");
}

static void ctl_events_cb(const struct dir_event *e, void *ctx)
{
	struct ctl_list *l = ctx;
	char when[40], text[1200];

	l->n++;
	if (l->j != NULL) {
		json_object_begin(l->j);
		json_kv_int(l->j, "id", e->id);
		ctl_time_iso(e->ts, when, sizeof(when));
		json_kv_string(l->j, "time", when);
		json_kv_string(l->j, "kind", e->kind);
		json_kv_string(l->j, "address", e->address);
		json_kv_string(l->j, "ip", e->ip);
		json_kv_string(l->j, "detail", e->detail);
		json_object_end(l->j);
		return;
	}
	ctl_time_text(e->ts, when, sizeof(when));
	ops_event_explain(e, text, sizeof(text));
	printf("%s  %-17s %s  %s\n", when, e->kind, e->address[0] != '\0' ? e->address : "-", text);
}

int cmd_security_events(struct ctl *c)
{
	struct ctl_list l;
	struct ops_log_query q;
	struct ops_actor actor;
	struct ops_error err;
	struct ops *o;
	struct json j;

	memset(&q, 0, sizeof(q));
	if (ctl_log_query(c, &q) != 0)
		return 2;
	if ((o = ctl_ops(c, &actor)) == NULL)
		return 1;
	ctl_list_begin(c, &l, &j);
	return ctl_list_end(&l, ops_security_events(o, &actor, &q, ctl_events_cb, &l, &err), &err, "no events recorded");
}

int cmd_security_unblock(struct ctl *c)
{
	char key[DIR_ADDRESS_MAX + 1];
	struct ops_actor actor;
	struct ops_error err;
	struct ops *o;
	bool removed;

	if ((o = ctl_ops(c, &actor)) == NULL)
		return 1;
	if (ops_security_unblock(o, &actor, c->argv[0], key, &removed, &err) < 0)
		return ctl_ops_fail(&err);
	if (!removed)
		printf("%s is not blocked or slowed\n", key);
	else
		printf("%s unblocked: the next login is checked normally\n", key);
	return 0;
}
