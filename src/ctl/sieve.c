/* yubinctl sieve list|get|put|activate|deactivate|del|rename|check|global: an
 * account's Sieve scripts through ops/ops_sieve.c, the rules ManageSieve
 * and the API use (names, quota, every script compiled before it is
 * stored). */
#include "ctl/ctl.h"
#include "lib/config.h"
#include "lib/fsutil.h"
#include "lib/json.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The quota of yubin.conf (its defaults when it cannot be read). */
static void sieve_limits(struct ctl *c, struct ops_sieve_limits *lim)
{
	struct config cfg;
	char path[PATH_MAX], err[256];

	if (ctl_path(c, path, sizeof(path), "yubin.conf") < 0 || settings_conf_load(&cfg, path, err, sizeof(err)) < 0)
		settings_conf_defaults(&cfg);
	lim->max_script = (size_t)cfg.sieve_max_script_size;
	lim->max_scripts = cfg.sieve_max_scripts;
}

/* FILE, or "-" for standard input, at most OPS_SIEVE_SCRIPT_MAX bytes. */
static char *sieve_read(const char *file, size_t *len_r)
{
	size_t cap = 65536, len = 0;
	char *text;

	if (strcmp(file, "-") != 0) {
		text = fs_read_file(file, OPS_SIEVE_SCRIPT_MAX, len_r);
		if (text == NULL)
			ctl_fail("cannot read %s: %s", file,
				 errno == EFBIG ? "larger than 1M, the most a script may have" : strerror(errno));
		return text;
	}
	if ((text = malloc(cap + 1)) == NULL)
		return NULL;
	for (;;) {
		size_t n = fread(text + len, 1, cap - len, stdin);

		len += n;
		if (n == 0)
			break;
		if (len == cap) {
			char *bigger;
			if (cap >= OPS_SIEVE_SCRIPT_MAX) {
				free(text);
				ctl_fail("the script on standard input is larger than 1M, the most a script may have");
				return NULL;
			}
			cap *= 2;
			if ((bigger = realloc(text, cap + 1)) == NULL) {
				free(text);
				return NULL;
			}
			text = bigger;
		}
	}
	text[len] = '\0';
	*len_r = len;
	return text;
}

static void sieve_row(const char *name, size_t size, bool active, void *ctx)
{
	struct ctl_list *l = ctx;

	l->n++;
	if (l->j != NULL) {
		json_object_begin(l->j);
		json_kv_string(l->j, "name", name);
		json_kv_uint(l->j, "size", size);
		json_kv_bool(l->j, "active", active);
		json_object_end(l->j);
		return;
	}
	printf("%s%s (%zu bytes)\n", name, active ? " [active]" : "", size);
}

static int sieve_list(struct ctl *c, struct ops *o, const struct ops_actor *actor)
{
	char empty[400];
	struct ops_error err;
	struct ctl_list l;
	struct json j;

	snprintf(empty, sizeof(empty), "%s has no Sieve scripts", c->argv[1]);
	ctl_list_begin(c, &l, &j);
	return ctl_list_end(&l, ops_sieve_list(o, actor, c->argv[1], sieve_row, &l, &err), &err, empty);
}

/* The script of FILE (c->argv[file]) under the server's quota: NULL after
 * a message. */
static char *sieve_input(struct ctl *c, int file, struct ops_sieve_limits *lim, size_t *len_r)
{
	sieve_limits(c, lim);
	return sieve_read(c->argv[file], len_r);
}

static int sieve_put(struct ctl *c, struct ops *o, const struct ops_actor *actor)
{
	struct ops_sieve_limits lim;
	struct ops_error err;
	size_t len;
	char *text;
	int r;

	if ((text = sieve_input(c, 3, &lim, &len)) == NULL)
		return 1;
	r = ops_sieve_put(o, actor, c->argv[1], c->argv[2], text, len, &lim, &err);
	free(text);
	if (r < 0)
		return ctl_ops_fail(&err);
	printf("%s: script %s stored (%zu bytes); `yubinctl sieve activate %s %s` makes it the one that"
	       " runs\n", c->argv[1], c->argv[2], len, c->argv[1], c->argv[2]);
	return 0;
}

static int sieve_check(struct ctl *c)
{
	struct ops_sieve_limits lim;
	struct ops_error err;
	size_t len;
	char *text;
	int r;

	if ((text = sieve_input(c, 1, &lim, &len)) == NULL)
		return 1;
	r = ops_sieve_check(text, len, &lim, &err);
	free(text);
	if (r < 0)
		return ctl_ops_fail(&err);
	printf("%s: the script is valid\n", c->argv[1]);
	return 0;
}

/* yubinctl sieve global list|get|put|del: the server's scripts for
 * include :global (ops_sieve_global.c). */
static int sieve_global(struct ctl *c)
{
	const char *verb = c->argc > 1 ? c->argv[1] : "";
	int want = strcmp(verb, "list") == 0 ? 2 : strcmp(verb, "put") == 0 ? 4 :
		   strcmp(verb, "get") == 0 || strcmp(verb, "del") == 0 ? 3 : 0;
	struct ops_sieve_limits lim;
	struct ops_actor actor;
	struct ops_error err;
	struct ops *o;
	size_t len;
	char *text;
	int r;

	if (want == 0 || c->argc != want)
		return ctl_fail("usage: yubinctl sieve global list [--json] | sieve global get|del NAME |"
				" sieve global put NAME FILE|-");
	if ((o = ctl_ops(c, &actor)) == NULL)
		return 1;
	if (want == 2) {
		struct ctl_list l;
		struct json j;

		ctl_list_begin(c, &l, &j);
		return ctl_list_end(&l, ops_sieve_global_list(o, &actor, sieve_row, &l, &err), &err,
				    "no global Sieve scripts");
	}
	if (strcmp(verb, "get") == 0) {
		if (ops_sieve_global_get(o, &actor, c->argv[2], &text, &len, &err) < 0)
			return ctl_ops_fail(&err);
		fwrite(text, 1, len, stdout);
		free(text);
		return 0;
	}
	if (strcmp(verb, "del") == 0) {
		if (ops_sieve_global_delete(o, &actor, c->argv[2], &err) < 0)
			return ctl_ops_fail(&err);
		printf("global script %s deleted\n", c->argv[2]);
		return 0;
	}
	if ((text = sieve_input(c, 3, &lim, &len)) == NULL)
		return 1;
	r = ops_sieve_global_put(o, &actor, c->argv[2], text, len, &lim, &err);
	free(text);
	if (r < 0)
		return ctl_ops_fail(&err);
	printf("global script %s stored (%zu bytes); scripts use it with include :global \"%s\"\n", c->argv[2],
	       len, c->argv[2]);
	return 0;
}

/* verb, the number of arguments after it, and the usage */
static const struct {
	const char *verb;
	int args;
	const char *usage;
} sieve_forms[] = {
	{ "list", 1, "sieve list ADDRESS [--json]" },
	{ "get", 2, "sieve get ADDRESS NAME" },
	{ "put", 3, "sieve put ADDRESS NAME FILE|-" },
	{ "activate", 2, "sieve activate ADDRESS NAME" },
	{ "deactivate", 1, "sieve deactivate ADDRESS" },
	{ "del", 2, "sieve del ADDRESS NAME" },
	{ "rename", 3, "sieve rename ADDRESS OLD NEW" },
	{ "check", 1, "sieve check FILE|-" },
};

int cmd_sieve(struct ctl *c)
{
	const char *verb = c->argv[0];
	struct ops_actor actor;
	struct ops_error err;
	struct ops *o;
	size_t i, len;
	char *text;

	if (strcmp(verb, "global") == 0)
		return sieve_global(c);
	for (i = 0; i < sizeof(sieve_forms) / sizeof(sieve_forms[0]); i++) {
		if (strcmp(sieve_forms[i].verb, verb) == 0)
			break;
	}
	if (i == sizeof(sieve_forms) / sizeof(sieve_forms[0]))
		return ctl_fail("unknown `sieve %s`: list, get, put, activate, deactivate, del, rename, check or global",
				verb);
	if (c->argc - 1 != sieve_forms[i].args)
		return ctl_fail("usage: yubinctl %s", sieve_forms[i].usage);
	if (strcmp(verb, "check") == 0)
		return sieve_check(c);
	if ((o = ctl_ops(c, &actor)) == NULL)
		return 1;
	if (strcmp(verb, "list") == 0)
		return sieve_list(c, o, &actor);
	if (strcmp(verb, "put") == 0)
		return sieve_put(c, o, &actor);
	if (strcmp(verb, "get") == 0) {
		if (ops_sieve_get(o, &actor, c->argv[1], c->argv[2], &text, &len, &err) < 0)
			return ctl_ops_fail(&err);
		fwrite(text, 1, len, stdout);
		free(text);
		return 0;
	}
	if (strcmp(verb, "activate") == 0 || strcmp(verb, "deactivate") == 0) {
		const char *name = strcmp(verb, "activate") == 0 ? c->argv[2] : "";
		if (ops_sieve_activate(o, &actor, c->argv[1], name, &err) < 0)
			return ctl_ops_fail(&err);
		if (name[0] != '\0')
			printf("%s: script %s is the one that runs on delivery\n", c->argv[1], name);
		else
			printf("%s: no script runs on delivery\n", c->argv[1]);
		return 0;
	}
	if (strcmp(verb, "del") == 0) {
		if (ops_sieve_delete(o, &actor, c->argv[1], c->argv[2], &err) < 0)
			return ctl_ops_fail(&err);
		printf("%s: script %s deleted\n", c->argv[1], c->argv[2]);
		return 0;
	}
	if (ops_sieve_rename(o, &actor, c->argv[1], c->argv[2], c->argv[3], &err) < 0)
		return ctl_ops_fail(&err);
	printf("%s: script %s renamed to %s\n", c->argv[1], c->argv[2], c->argv[3]);
	return 0;
}
