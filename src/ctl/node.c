/* yubinctl node add|list|drain|activate|remove: the mail nodes (issue 16 §2). */
#include "ctl/ctl.h"
#include "lib/config.h"
#include "lib/json.h"
#include "lib/str.h"
#include "ops/ops_move.h"
#include "settings/settings.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* NAME imap=HOST:PORT pop3=HOST:PORT lmtp=HOST:PORT http=HOST:PORT
 * capacity=SIZE (bytes with K/M/G/T; stored in MB). */
static int ctl_node_parse(struct ctl *c, struct dir_node *n)
{
	memset(n, 0, sizeof(*n));
	if (str_copy(n->name, sizeof(n->name), c->argv[0]) < 0)
		return ctl_fail("a node name has at most %d characters", DIR_NODE_NAME_MAX);
	for (int i = 1; i < c->argc; i++) {
		const char *a = c->argv[i], *eq = strchr(a, '=');
		char *field = NULL;
		size_t size = sizeof(n->imap);

		if (eq == NULL)
			return ctl_fail("'%s': node fields are KEY=VALUE (imap, pop3, lmtp, http, capacity)", a);
		if (strncmp(a, "imap=", 5) == 0)
			field = n->imap;
		else if (strncmp(a, "pop3=", 5) == 0)
			field = n->pop3;
		else if (strncmp(a, "lmtp=", 5) == 0)
			field = n->lmtp;
		else if (strncmp(a, "http=", 5) == 0)
			field = n->http;
		if (field != NULL) {
			if (str_copy(field, size, eq + 1) < 0)
				return ctl_fail("'%s': the address is too long", a);
			continue;
		}
		if (strncmp(a, "capacity=", 9) == 0) {
			uint64_t bytes;

			if (str_parse_size(eq + 1, &bytes) < 0 || bytes < 1024 * 1024)
				return ctl_fail("'%s': the capacity is a size of at least 1M (K/M/G/T suffixes)", a);
			n->capacity_mb = bytes / (1024 * 1024);
			continue;
		}
		return ctl_fail("'%s': unknown node field (imap, pop3, lmtp, http, capacity)", a);
	}
	return 0;
}

int cmd_node_add(struct ctl *c)
{
	struct ops_actor actor;
	struct ops_error err;
	struct dir_node n;
	struct ops *o;

	if (ctl_node_parse(c, &n) != 0 || (o = ctl_ops(c, &actor)) == NULL)
		return 1;
	if (ops_node_add(o, &actor, &n, &err) < 0)
		return ctl_ops_fail(&err);
	printf("added node %s\n", n.name);
	return 0;
}

static void ctl_node_cb(const struct dir_node *n, void *ctx)
{
	struct ctl_list *l = ctx;
	char created[40];

	l->n++;
	if (l->j != NULL) {
		ctl_time_iso(n->created, created, sizeof(created));
		json_object_begin(l->j);
		json_kv_string(l->j, "name", n->name);
		json_kv_string(l->j, "imap", n->imap);
		json_kv_string(l->j, "pop3", n->pop3);
		json_kv_string(l->j, "lmtp", n->lmtp);
		json_kv_string(l->j, "http", n->http);
		json_kv_string(l->j, "state", n->state);
		json_kv_uint(l->j, "capacity_mb", n->capacity_mb);
		json_kv_int(l->j, "free_mb", n->free_mb);
		json_kv_uint(l->j, "accounts", n->accounts);
		json_kv_string(l->j, "created", created);
		json_object_end(l->j);
		return;
	}
	if (l->n == 1)
		printf("%-16s %-9s %8s %10s %10s  %s\n", "NODE", "STATE", "ACCOUNTS", "CAPACITY", "FREE",
		       "IMAP / POP3 / LMTP");
	printf("%-16s %-9s %8u %8lluMB %8lldMB  %s / %s / %s\n", n->name, n->state, n->accounts,
	       (unsigned long long)n->capacity_mb, (long long)n->free_mb, n->imap[0] ? n->imap : "-",
	       n->pop3[0] ? n->pop3 : "-", n->lmtp[0] ? n->lmtp : "-");
}

int cmd_node_list(struct ctl *c)
{
	struct ops_actor actor;
	struct ops_error err;
	struct ctl_list l;
	struct json j;
	struct ops *o;
	int r;

	if ((o = ctl_ops(c, &actor)) == NULL)
		return 1;
	ctl_list_begin(c, &l, &j);
	r = ops_node_list(o, &actor, ctl_node_cb, &l, &err);
	return ctl_list_end(&l, r, &err, "no nodes: every mailbox is on this machine (add one with yubinctl node add)");
}

static int ctl_node_state(struct ctl *c, const char *state)
{
	struct ops_actor actor;
	struct ops_error err;
	struct ops *o;

	if ((o = ctl_ops(c, &actor)) == NULL)
		return 1;
	if (ops_node_state(o, &actor, c->argv[0], state, &err) < 0)
		return ctl_ops_fail(&err);
	printf("node %s is %s\n", c->argv[0], state);
	return 0;
}

/* The mover's settings from yubin.conf: the proxy login and the address
 * the nodes trust (the first listen.address, as the proxy uses). */
struct ctl_move_conf {
	struct config cfg;
	char source[256];
	struct timespec start;
	struct ops_move_params p;
};

static void ctl_move_progress(void *ctx, const char *line)
{
	const struct timespec *t0 = ctx;
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	printf("%7.1fs %s\n", (double)(now.tv_sec - t0->tv_sec) + (double)(now.tv_nsec - t0->tv_nsec) / 1e9, line);
	fflush(stdout);
}

static int ctl_move_conf(struct ctl *c, struct ctl_move_conf *m)
{
	char path[PATH_MAX], err[256];

	if (ctl_path(c, path, sizeof(path), "yubin.conf") < 0 || settings_conf_load(&m->cfg, path, err, sizeof(err)) < 0)
		return ctl_fail("cannot read yubin.conf: %s", err);
	str_copy(m->source, sizeof(m->source), m->cfg.listen_address);
	m->source[strcspn(m->source, ", ")] = '\0';
	if (strcmp(m->source, "0.0.0.0") == 0 || strcmp(m->source, "::") == 0)
		m->source[0] = '\0';
	memset(&m->p, 0, sizeof(m->p));
	m->p.source_ip = m->source;
	m->p.proxy_user = m->cfg.proxy_user;
	m->p.proxy_secret = m->cfg.proxy_secret;
	m->p.timeout = m->cfg.proxy_connect_timeout > 0 ? 6 * m->cfg.proxy_connect_timeout : 60;
	m->p.progress = c->json ? NULL : ctl_move_progress;
	clock_gettime(CLOCK_MONOTONIC, &m->start);
	m->p.progress_ctx = &m->start;
	return 0;
}

/* node drain NAME [--no-move]: no new accounts; and, unless --no-move,
 * every account there moved to the active nodes. */
int cmd_node_drain(struct ctl *c)
{
	struct ctl_move_conf m;
	struct ops_actor actor;
	struct ops_error err;
	unsigned moved = 0;
	struct ops *o;
	int r;

	if (c->no_move)
		return ctl_node_state(c, "draining");
	if (ctl_move_conf(c, &m) != 0 || (o = ctl_ops(c, &actor)) == NULL)
		return 1;
	r = ops_node_drain_move(o, &actor, c->argv[0], &m.p, &moved, &err);
	explicit_bzero(m.cfg.proxy_secret, sizeof(m.cfg.proxy_secret));
	if (r < 0) {
		fprintf(stderr, "after %u account(s) moved:\n", moved);
		return ctl_ops_fail(&err);
	}
	printf("node %s is draining; %u account(s) moved away\n", c->argv[0], moved);
	return 0;
}

/* account move ADDRESS NODE */
int cmd_account_move(struct ctl *c)
{
	struct ops_move_report rep;
	struct ctl_move_conf m;
	struct ops_actor actor;
	struct ops_error err;
	struct ops *o;
	int r;

	if (ctl_move_conf(c, &m) != 0 || (o = ctl_ops(c, &actor)) == NULL)
		return 1;
	r = ops_account_move(o, &actor, c->argv[0], c->argv[1], &m.p, &rep, &err);
	explicit_bzero(m.cfg.proxy_secret, sizeof(m.cfg.proxy_secret));
	if (r < 0 && !rep.purged && strcmp(err.code != NULL ? err.code : "", "partial") != 0)
		return ctl_ops_fail(&err);
	printf("moved %s from %s to %s: %u folders, %u messages copied, %u files, %u passes\n", c->argv[0],
	       rep.from, rep.to, rep.folders, rep.copied, rep.files, rep.passes);
	return r < 0 ? ctl_ops_fail(&err) : 0;
}

int cmd_node_activate(struct ctl *c)
{
	return ctl_node_state(c, "active");
}

int cmd_node_remove(struct ctl *c)
{
	struct ops_actor actor;
	struct ops_error err;
	struct ops *o;

	if ((o = ctl_ops(c, &actor)) == NULL)
		return 1;
	if (ops_node_remove(o, &actor, c->argv[0], &err) < 0)
		return ctl_ops_fail(&err);
	printf("removed node %s\n", c->argv[0]);
	return 0;
}
