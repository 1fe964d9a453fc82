/* yubinctl rules list|add|del|move|enable|disable and autoreply show|set:
 * the panel's sorting rules and auto-reply through ops/ops_rules.c, the
 * functions the JSON API uses too. */
#include "ctl/ctl.h"
#include "ops/ops_rules.h"
#include "lib/json.h"
#include "lib/json_parse.h"
#include "lib/str.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void rule_text(unsigned n, const struct rules_rule *r)
{
	printf("%u. %s%s\n", n, r->name, r->enabled ? "" : " [off]");
	for (unsigned i = 0; i < r->nconds; i++) {
		const struct rules_cond *c = &r->conds[i];

		printf("   %s %s%s%s %s \"%s\"\n", i == 0 ? "if " : "and", rules_field_name(c->field),
		       c->field == RULES_HEADER ? " " : "", c->field == RULES_HEADER ? c->header : "",
		       rules_match_name(c->match), c->value);
	}
	for (unsigned i = 0; i < r->nacts; i++)
		printf("   -> %s%s%s\n", rules_action_name(r->acts[i].type), r->acts[i].arg[0] != '\0' ? " " : "",
		       r->acts[i].arg);
}

static int rules_list(struct ctl *c, struct ops *o, const struct ops_actor *actor)
{
	struct rules_set *set = malloc(sizeof(*set));
	struct ops_error err;
	struct json j;

	if (set == NULL)
		return ctl_fail("out of memory");
	if (ops_rules_list(o, actor, c->argv[1], set, &err) < 0) {
		free(set);
		return ctl_ops_fail(&err);
	}
	if (c->json) {
		json_init(&j);
		json_array_begin(&j);
		for (unsigned i = 0; i < set->count; i++)
			rules_rule_json(&j, &set->rules[i]);
		json_array_end(&j);
		free(set);
		return ctl_json_print(&j);
	}
	if (set->count == 0)
		printf("%s has no sorting rules\n", c->argv[1]);
	for (unsigned i = 0; i < set->count; i++)
		rule_text(i + 1, &set->rules[i]);
	free(set);
	return 0;
}

/* rules add ADDRESS JSON, or ADDRESS NAME FIELD MATCH VALUE ACTION [ARG]
 * (FIELD header:NAME for a header). */
static int rule_from_args(struct ctl *c, struct rules_rule *r)
{
	struct json_limits lim = { RULES_JSON_MAX, 6, 64 };
	struct json_doc *doc;
	const char *error = "";
	size_t off;
	int rc;

	if (c->argc == 3) {
		if ((doc = json_parse(c->argv[2], strlen(c->argv[2]), &lim, &error, &off)) == NULL)
			return ctl_fail("the rule is not JSON: %s (at byte %zu)", error, off);
		rc = rules_rule_from_json(json_doc_root(doc), r, &error);
		json_doc_free(doc);
		return rc < 0 ? ctl_fail("%s", error) : 0;
	}
	if (c->argc < 7 || c->argc > 8)
		return ctl_fail("usage: yubinctl rules add ADDRESS NAME FIELD MATCH VALUE ACTION [ARG] | rules add"
				" ADDRESS JSON");
	{
		char json[4096];
		struct json j;
		const char *field = c->argv[3], *text;
		size_t len;

		json_init(&j);
		json_object_begin(&j);
		json_kv_string(&j, "name", c->argv[2]);
		json_key(&j, "conditions");
		json_array_begin(&j);
		json_object_begin(&j);
		if (strncmp(field, "header:", 7) == 0) {
			json_kv_string(&j, "field", "header");
			json_kv_string(&j, "header", field + 7);
		} else {
			json_kv_string(&j, "field", field);
		}
		json_kv_string(&j, "match", c->argv[4]);
		json_kv_string(&j, "value", c->argv[5]);
		json_object_end(&j);
		json_array_end(&j);
		json_key(&j, "actions");
		json_array_begin(&j);
		json_object_begin(&j);
		json_kv_string(&j, "type", c->argv[6]);
		if (c->argc == 8)
			json_kv_string(&j, "arg", c->argv[7]);
		json_object_end(&j);
		json_array_end(&j);
		json_object_end(&j);
		text = json_result(&j, &len);
		str_copy(json, sizeof(json), text != NULL ? text : "");
		json_free(&j);
		if ((doc = json_parse(json, strlen(json), &lim, &error, &off)) == NULL)
			return ctl_fail("the rule is too long");
		rc = rules_rule_from_json(json_doc_root(doc), r, &error);
		json_doc_free(doc);
		return rc < 0 ? ctl_fail("%s", error) : 0;
	}
}

static int position(const char *s, unsigned *pos)
{
	char *end;
	unsigned long v = strtoul(s, &end, 10);

	if (*s == '\0' || *end != '\0' || v < 1 || v > RULES_MAX)
		return ctl_fail("a rule's position is a number from 1 to %d", RULES_MAX);
	*pos = (unsigned)v;
	return 0;
}

int cmd_rules(struct ctl *c)
{
	const char *verb = c->argv[0];
	struct ops_actor actor;
	struct ops_error err;
	struct rules_rule rule;
	unsigned a = 0, b = 0;
	struct ops *o;
	int r;

	if (strcmp(verb, "list") == 0 && c->argc != 2)
		return ctl_fail("usage: yubinctl rules list ADDRESS [--json]");
	if ((strcmp(verb, "del") == 0 || strcmp(verb, "enable") == 0 || strcmp(verb, "disable") == 0) &&
	    (c->argc != 3 || position(c->argv[2], &a) < 0))
		return c->argc != 3 ? ctl_fail("usage: yubinctl rules %s ADDRESS N", verb) : 1;
	if (strcmp(verb, "move") == 0 &&
	    (c->argc != 4 || position(c->argv[2], &a) < 0 || position(c->argv[3], &b) < 0))
		return c->argc != 4 ? ctl_fail("usage: yubinctl rules move ADDRESS FROM TO") : 1;
	if (strcmp(verb, "add") == 0 && rule_from_args(c, &rule) != 0)
		return 1;
	if (strcmp(verb, "list") != 0 && strcmp(verb, "add") != 0 && strcmp(verb, "del") != 0 &&
	    strcmp(verb, "move") != 0 && strcmp(verb, "enable") != 0 && strcmp(verb, "disable") != 0)
		return ctl_fail("unknown `rules %s`: list, add, del, move, enable or disable", verb);
	if ((o = ctl_ops(c, &actor)) == NULL)
		return 1;
	if (strcmp(verb, "list") == 0)
		return rules_list(c, o, &actor);
	if (strcmp(verb, "add") == 0)
		r = ops_rules_add(o, &actor, c->argv[1], &rule, 0, &err);
	else if (strcmp(verb, "del") == 0)
		r = ops_rules_del(o, &actor, c->argv[1], a, &err);
	else if (strcmp(verb, "move") == 0)
		r = ops_rules_move(o, &actor, c->argv[1], a, b, &err);
	else
		r = ops_rules_enable(o, &actor, c->argv[1], a, strcmp(verb, "enable") == 0, &err);
	if (r < 0)
		return ctl_ops_fail(&err);
	printf("%s: rules %s done\n", c->argv[1], verb);
	return 0;
}

/* "\n" in a command-line body is a line break. */
static void cli_body(const char *in, char *out, size_t size)
{
	size_t o = 0;

	for (; *in != '\0' && o + 1 < size; in++) {
		if (in[0] == '\\' && in[1] == 'n') {
			out[o++] = '\n';
			in++;
		} else {
			out[o++] = *in;
		}
	}
	out[o] = '\0';
}

static int autoreply_show(struct ctl *c, struct ops *o, const struct ops_actor *actor)
{
	struct ops_autoreply ar;
	struct ops_error err;
	struct json j;

	if (ops_autoreply_get(o, actor, c->argv[1], &ar, &err) < 0)
		return ctl_ops_fail(&err);
	if (c->json) {
		json_init(&j);
		json_object_begin(&j);
		json_kv_bool(&j, "on", ar.on);
		json_kv_string(&j, "subject", ar.subject);
		json_kv_string(&j, "body", ar.body);
		json_kv_string(&j, "start", ar.start);
		json_kv_string(&j, "end", ar.end);
		json_kv_uint(&j, "days", ar.days);
		json_kv_bool(&j, "quote", ar.quote);
		json_object_end(&j);
		return ctl_json_print(&j);
	}
	printf("auto-reply: %s\nsubject: %s\nstart: %s\nend: %s\ndays: %u\nquote: %s\nbody:\n%s\n",
	       ar.on ? "on" : "off", ar.subject[0] != '\0' ? ar.subject : "(Auto: + the original subject)",
	       ar.start[0] != '\0' ? ar.start : "-", ar.end[0] != '\0' ? ar.end : "-", ar.days,
	       ar.quote ? "on" : "off", ar.body);
	return 0;
}

int cmd_autoreply(struct ctl *c)
{
	struct ops_autoreply_change ch = { 0 };
	struct ops_actor actor;
	struct ops_error err;
	static char body[4200];
	struct ops *o;

	if (strcmp(c->argv[0], "show") != 0 && strcmp(c->argv[0], "set") != 0)
		return ctl_fail("unknown `autoreply %s`: show or set", c->argv[0]);
	if (strcmp(c->argv[0], "show") == 0 && c->argc != 2)
		return ctl_fail("usage: yubinctl autoreply show ADDRESS [--json]");
	if (strcmp(c->argv[0], "set") == 0 && c->argc < 3)
		return ctl_fail("usage: yubinctl autoreply set ADDRESS on=on|off subject=S body=TEXT start=DATE"
				" end=DATE days=N quote=on|off ...");
	for (int i = 2; i < c->argc; i++) {
		const char *kv = c->argv[i], *eq = strchr(kv, '=');
		size_t k = eq != NULL ? (size_t)(eq - kv) : 0;

		if (eq == NULL)
			return ctl_fail("`%s`: give KEY=VALUE (on, subject, body, start, end, days, quote)", kv);
		if (k == 2 && strncmp(kv, "on", 2) == 0)
			ch.on = eq + 1;
		else if (k == 7 && strncmp(kv, "subject", 7) == 0)
			ch.subject = eq + 1;
		else if (k == 4 && strncmp(kv, "body", 4) == 0)
			cli_body(eq + 1, body, sizeof(body)), ch.body = body;
		else if (k == 5 && strncmp(kv, "start", 5) == 0)
			ch.start = eq + 1;
		else if (k == 3 && strncmp(kv, "end", 3) == 0)
			ch.end = eq + 1;
		else if (k == 4 && strncmp(kv, "days", 4) == 0)
			ch.days = eq + 1;
		else if (k == 5 && strncmp(kv, "quote", 5) == 0)
			ch.quote = eq + 1;
		else
			return ctl_fail("unknown auto-reply field in `%s`: on, subject, body, start, end, days or quote",
					kv);
	}
	if ((o = ctl_ops(c, &actor)) == NULL)
		return 1;
	if (strcmp(c->argv[0], "show") == 0)
		return autoreply_show(c, o, &actor);
	if (ops_autoreply_set(o, &actor, c->argv[1], &ch, &err) < 0)
		return ctl_ops_fail(&err);
	printf("%s: auto-reply updated\n", c->argv[1]);
	return 0;
}
