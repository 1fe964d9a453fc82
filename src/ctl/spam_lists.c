/* yubinctl spam allow|block add|del|list DOMAIN|ADDRESS [PATTERN]: the
 * spam filter's allow and block lists, through ops/ops_spam.c. */
#include "ctl/ctl.h"
#include "lib/json.h"
#include "spam/spam_list.h"

#include <stdio.h>
#include <string.h>

struct spam_lists_print {
	struct ctl *c;
	struct json *j;
	unsigned n;
};

static void spam_lists_row(const char *kind, const char *pattern, int64_t created, void *ctx)
{
	struct spam_lists_print *p = ctx;
	char when[64];

	p->n++;
	if (p->j != NULL) {
		json_object_begin(p->j);
		json_kv_string(p->j, "list", kind);
		json_kv_string(p->j, "pattern", pattern);
		json_kv_int(p->j, "created", created);
		json_object_end(p->j);
		return;
	}
	ctl_time_text(created, when, sizeof(when));
	printf("%-6s %-40s %s\n", kind, pattern, when);
}

static int spam_lists_run(struct ctl *c, const char *kind)
{
	const char *verb = c->argv[0], *target = c->argv[1];
	char norm[SPAM_LIST_PATTERN_MAX];
	struct ops_actor actor;
	struct ops_error err;
	struct ops *o;

	if (strcmp(verb, "list") != 0 && c->argc != 3)
		return ctl_fail("`spam %s %s` needs DOMAIN|ADDRESS PATTERN", kind, verb);
	if (strcmp(verb, "list") == 0 && c->argc != 2)
		return ctl_fail("`spam %s list` takes DOMAIN|ADDRESS only", kind);
	if ((o = ctl_ops(c, &actor)) == NULL)
		return 1;
	if (strcmp(verb, "add") == 0) {
		if (ops_spamlist_add(o, &actor, kind, target, c->argv[2], norm, sizeof(norm), &err) < 0)
			return ctl_ops_fail(&err);
		printf("%s: %s added to the %s list\n", target, norm, kind);
		return 0;
	}
	if (strcmp(verb, "del") == 0) {
		if (ops_spamlist_del(o, &actor, kind, target, c->argv[2], norm, sizeof(norm), &err) < 0)
			return ctl_ops_fail(&err);
		printf("%s: %s removed from the %s list\n", target, norm, kind);
		return 0;
	}
	if (strcmp(verb, "list") == 0) {
		struct spam_lists_print p = { c, NULL, 0 };
		struct json j;
		int r;

		if (c->json) {
			json_init(&j);
			json_array_begin(&j);
			p.j = &j;
		}
		r = ops_spamlist_list(o, &actor, kind, target, spam_lists_row, &p, &err);
		if (c->json) {
			json_array_end(&j);
			if (r == 0)
				return ctl_json_print(&j);
			json_free(&j);
		}
		if (r < 0)
			return ctl_ops_fail(&err);
		if (p.n == 0)
			printf("%s: the %s list is empty\n", target, kind);
		return 0;
	}
	return ctl_fail("`spam %s` takes add, del or list, not '%s'", kind, verb);
}

int cmd_spam_allow(struct ctl *c)
{
	return spam_lists_run(c, "allow");
}

int cmd_spam_block(struct ctl *c)
{
	return spam_lists_run(c, "block");
}
