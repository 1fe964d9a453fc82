/* /api/v1/accounts/{address}/rules and /autoreply: the panel's sorting
 * rules and auto-reply, on ops_rules.c (what yubinctl rules and autoreply
 * use). Every change answers with the rules (or the auto-reply) as they
 * now are. */
#include "http/api.h"
#include "http/api_admin.h"
#include "ops/ops_rules.h"
#include "lib/json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void rules_reply(struct api_job *j)
{
	struct rules_set *set = malloc(sizeof(*set));
	struct ops_error err;
	struct json *o;

	if (set == NULL) {
		api_error(j, 500, "internal", NULL, "out of memory", "メモリが足りません");
		return;
	}
	if (ops_rules_list(&j->ops, &j->actor, j->params[0], set, &err) < 0) {
		free(set);
		api_ops_error(j, &err);
		return;
	}
	o = api_reply(j, 200);
	json_key(o, "rules");
	json_array_begin(o);
	for (unsigned i = 0; i < set->count; i++)
		rules_rule_json(o, &set->rules[i]);
	json_array_end(o);
	api_reply_end(j);
	free(set);
}

void api_rules_list(struct api_job *j)
{
	rules_reply(j);
}

/* POST a rule: {"name","enabled","conditions":[...],"actions":[...]}. */
void api_rules_add(struct api_job *j)
{
	struct rules_rule r;
	struct ops_error err;
	const char *error = "";

	if (!api_body_object(j))
		return;
	if (rules_rule_from_json(j->body, &r, &error) < 0) {
		api_error(j, 400, "invalid_value", "rule", error, "ルールが正しくありません");
		return;
	}
	if (ops_rules_add(&j->ops, &j->actor, j->params[0], &r, 0, &err) < 0) {
		api_ops_error(j, &err);
		return;
	}
	rules_reply(j);
}

/* The {position} path segment: 1..RULES_MAX, else 404. */
static int rules_position(struct api_job *j, unsigned *pos)
{
	char *end;
	unsigned long v = strtoul(j->params[1], &end, 10);

	if (j->params[1][0] == '\0' || *end != '\0' || v < 1 || v > RULES_MAX) {
		api_error(j, 404, "not_found", "position", "no rule at that position", "その位置にルールがありません");
		return -1;
	}
	*pos = (unsigned)v;
	return 0;
}

void api_rules_delete(struct api_job *j)
{
	struct ops_error err;
	unsigned pos;

	if (rules_position(j, &pos) < 0)
		return;
	if (ops_rules_del(&j->ops, &j->actor, j->params[0], pos, &err) < 0) {
		api_ops_error(j, &err);
		return;
	}
	rules_reply(j);
}

void api_rules_move(struct api_job *j)
{
	static const char *const names[] = { "to", NULL };
	struct ops_error err;
	uint64_t to = 0;
	unsigned pos;

	if (rules_position(j, &pos) < 0 || !api_body_object(j) || !api_body_only(j, names) ||
	    api_body_uint(j, "to", RULES_MAX, &to) < 0)
		return;
	if (to < 1) {
		api_error(j, 400, "invalid_field", "to", "to is the new position (1..50)", "to は新しい位置（1〜50）です");
		return;
	}
	if (ops_rules_move(&j->ops, &j->actor, j->params[0], pos, (unsigned)to, &err) < 0) {
		api_ops_error(j, &err);
		return;
	}
	rules_reply(j);
}

static void rules_switch(struct api_job *j, bool on)
{
	struct ops_error err;
	unsigned pos;

	if (rules_position(j, &pos) < 0)
		return;
	if (ops_rules_enable(&j->ops, &j->actor, j->params[0], pos, on, &err) < 0) {
		api_ops_error(j, &err);
		return;
	}
	rules_reply(j);
}

void api_rules_enable(struct api_job *j)
{
	rules_switch(j, true);
}

void api_rules_disable(struct api_job *j)
{
	rules_switch(j, false);
}

static void autoreply_reply(struct api_job *j)
{
	struct ops_autoreply ar;
	struct ops_error err;
	struct json *o;

	if (ops_autoreply_get(&j->ops, &j->actor, j->params[0], &ar, &err) < 0) {
		api_ops_error(j, &err);
		return;
	}
	o = api_reply(j, 200);
	json_kv_bool(o, "on", ar.on);
	json_kv_string(o, "subject", ar.subject);
	json_kv_string(o, "body", ar.body);
	json_kv_string(o, "start", ar.start);
	json_kv_string(o, "end", ar.end);
	json_kv_uint(o, "days", ar.days);
	json_kv_bool(o, "quote", ar.quote);
	api_reply_end(j);
}

void api_autoreply_get(struct api_job *j)
{
	autoreply_reply(j);
}

/* PUT {"on","subject","body","start","end","days","quote"}: the fields given. */
void api_autoreply_put(struct api_job *j)
{
	static const char *const names[] = { "on", "subject", "body", "start", "end", "days", "quote", NULL };
	struct ops_autoreply_change c = { 0 };
	struct ops_error err;
	char days[16];
	uint64_t d = 0;
	bool on = false, quote = false, has_on;

	if (!api_body_object(j) || !api_body_only(j, names) || api_body_string(j, "subject", &c.subject) < 0 ||
	    api_body_string(j, "body", &c.body) < 0 || api_body_string(j, "start", &c.start) < 0 ||
	    api_body_string(j, "end", &c.end) < 0 || api_body_bool(j, "on", &on) < 0 ||
	    api_body_uint(j, "days", 365, &d) < 0 || api_body_bool(j, "quote", &quote) < 0)
		return;
	if (json_member(j->body, "quote") != NULL)
		c.quote = quote ? "on" : "off";
	has_on = json_member(j->body, "on") != NULL;
	if (has_on)
		c.on = on ? "on" : "off";
	if (json_member(j->body, "days") != NULL) {
		snprintf(days, sizeof(days), "%llu", (unsigned long long)d);
		c.days = days;
	}
	if (ops_autoreply_set(&j->ops, &j->actor, j->params[0], &c, &err) < 0) {
		api_ops_error(j, &err);
		return;
	}
	autoreply_reply(j);
}
