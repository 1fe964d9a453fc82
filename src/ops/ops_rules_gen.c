/* The panel's rules as data and as Sieve (see ops_rules.h). Pure. */
#include "ops/ops_rules.h"
#include "directory/validate.h"
#include "mail/autoreply.h"
#include "lib/json.h"
#include "lib/json_parse.h"
#include "lib/str.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

static const char *const field_names[] = { "sender", "recipient", "subject", "header", "body" };
static const char *const match_names[] = { "contains", "is", "starts", "ends", "not-contains" };
static const char *const action_names[] = { "move", "copy", "read", "forward", "trash", "delete" }; /* not a setting key */

#define N(a) (sizeof(a) / sizeof((a)[0]))

const char *rules_field_name(enum rules_field f) { return field_names[f]; }
const char *rules_match_name(enum rules_match m) { return match_names[m]; }
const char *rules_action_name(enum rules_action a) { return action_names[a]; }

static int lookup(const char *const *names, size_t n, const char *s)
{
	for (size_t i = 0; s != NULL && i < n; i++) {
		if (strcmp(names[i], s) == 0)
			return (int)i;
	}
	return -1;
}

/* UTF-8 text of 1..max bytes without control characters. */
static bool text_ok(const char *s, size_t max)
{
	size_t len = strlen(s);

	if (len == 0 || len > max)
		return false;
	for (size_t i = 0; i < len;) {
		size_t n = str_utf8_char_len(s + i, len - i);

		if (n == 0 || (unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return false;
		i += n;
	}
	return true;
}

static bool header_name_ok(const char *s)
{
	size_t len = strlen(s);

	if (len == 0 || len > 76)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < 33 || s[i] > 126 || s[i] == ':')
			return false;
	}
	return true;
}

static bool folder_ok(const char *s)
{
	return text_ok(s, 200) && s[0] != '/' && s[0] != '.' && s[strlen(s) - 1] != '/' &&
	       strstr(s, "//") == NULL && strchr(s, '*') == NULL && strchr(s, '%') == NULL;
}

int rules_rule_check(const struct rules_rule *r, const char **error_r)
{
	char local[80], domain[260];

	if (!text_ok(r->name, RULES_NAME_MAX))
		return *error_r = "a rule needs a name of 1 to 100 bytes without control characters", -1;
	if (r->nconds < 1 || r->nconds > RULES_CONDS_MAX)
		return *error_r = "a rule needs 1 to 3 conditions", -1;
	if (r->nacts < 1 || r->nacts > RULES_ACTIONS_MAX)
		return *error_r = "a rule needs 1 to 4 actions", -1;
	for (unsigned i = 0; i < r->nconds; i++) {
		if (!text_ok(r->conds[i].value, RULES_VALUE_MAX))
			return *error_r = "a condition needs a value of 1 to 500 bytes without control characters", -1;
		if (r->conds[i].field == RULES_HEADER && !header_name_ok(r->conds[i].header))
			return *error_r = "a header condition needs a field name (printable ASCII without ':')", -1;
	}
	for (unsigned i = 0; i < r->nacts; i++) {
		const struct rules_act *a = &r->acts[i];
		const char *error;

		if ((a->type == RULES_MOVE || a->type == RULES_COPY) && !folder_ok(a->arg))
			return *error_r = "move and copy need a folder name (no leading '.' or '/', no '*' or '%')", -1;
		if (a->type == RULES_FORWARD &&
		    (strlen(a->arg) > 254 || validate_address(a->arg, local, sizeof(local), domain, sizeof(domain),
							      &error) < 0))
			return *error_r = "forward needs a valid mail address", -1;
		for (unsigned k = 0; k < i; k++) {
			if (r->acts[k].type == a->type && a->type != RULES_COPY && a->type != RULES_FORWARD)
				return *error_r = "an action is given twice", -1;
		}
		if ((a->type == RULES_DELETE || a->type == RULES_TRASH || a->type == RULES_MOVE) && r->nacts > 1) {
			for (unsigned k = 0; k < r->nacts; k++) {
				enum rules_action t = r->acts[k].type;
				if (k != i && (t == RULES_DELETE || t == RULES_TRASH || t == RULES_MOVE))
					return *error_r = "move, Trash and delete exclude each other", -1;
			}
		}
	}
	return 0;
}

static const char *member_str(const struct json_value *o, const char *name)
{
	const struct json_value *m = json_member(o, name);

	return m != NULL ? json_value_str(m) : NULL;
}

static int cond_from_json(const struct json_value *v, struct rules_cond *c, const char **error_r)
{
	const char *f = member_str(v, "field"), *m = member_str(v, "match"), *val = member_str(v, "value");
	const char *h = member_str(v, "header");
	int fi = lookup(field_names, N(field_names), f), mi = lookup(match_names, N(match_names), m);

	if (v->type != JSON_OBJECT || fi < 0)
		return *error_r = "a condition's field is sender, recipient, subject, header or body", -1;
	if (mi < 0)
		return *error_r = "a condition's match is contains, is, starts, ends or not-contains", -1;
	if (val == NULL || strlen(val) > RULES_VALUE_MAX)
		return *error_r = "a condition needs a value of at most 500 bytes", -1;
	if (h != NULL && strlen(h) >= sizeof(c->header))
		return *error_r = "a header name is too long", -1;
	c->field = (enum rules_field)fi;
	c->match = (enum rules_match)mi;
	str_copy(c->value, sizeof(c->value), val);
	str_copy(c->header, sizeof(c->header), h != NULL ? h : "");
	return 0;
}

static int act_from_json(const struct json_value *v, struct rules_act *a, const char **error_r)
{
	const char *t = member_str(v, "type"), *arg = member_str(v, "arg");
	int ti = lookup(action_names, N(action_names), t);

	if (v->type != JSON_OBJECT || ti < 0)
		return *error_r = "an action's type is move, copy, read, forward, trash or delete", -1;
	if (arg != NULL && strlen(arg) > RULES_VALUE_MAX)
		return *error_r = "an action's argument is too long", -1;
	a->type = (enum rules_action)ti;
	str_copy(a->arg, sizeof(a->arg), arg != NULL ? arg : "");
	return 0;
}

int rules_rule_from_json(const struct json_value *v, struct rules_rule *r, const char **error_r)
{
	const struct json_value *conds, *acts, *en, *e;
	const char *name = v != NULL ? member_str(v, "name") : NULL;

	memset(r, 0, sizeof(*r));
	if (v == NULL || v->type != JSON_OBJECT || name == NULL || strlen(name) > RULES_NAME_MAX)
		return *error_r = "a rule is an object with a name of at most 100 bytes", -1;
	str_copy(r->name, sizeof(r->name), name);
	en = json_member(v, "enabled"); /* not a setting key */
	r->enabled = en == NULL || en->type == JSON_TRUE;
	conds = json_member(v, "conditions");
	acts = json_member(v, "actions");
	if (conds == NULL || conds->type != JSON_ARRAY || conds->count < 1 || conds->count > RULES_CONDS_MAX)
		return *error_r = "a rule needs 1 to 3 conditions", -1;
	if (acts == NULL || acts->type != JSON_ARRAY || acts->count < 1 || acts->count > RULES_ACTIONS_MAX)
		return *error_r = "a rule needs 1 to 4 actions", -1;
	for (e = conds->child; e != NULL; e = e->next) {
		if (cond_from_json(e, &r->conds[r->nconds++], error_r) < 0)
			return -1;
	}
	for (e = acts->child; e != NULL; e = e->next) {
		if (act_from_json(e, &r->acts[r->nacts++], error_r) < 0)
			return -1;
	}
	return rules_rule_check(r, error_r);
}

int rules_parse(const char *text, size_t len, struct rules_set *set, const char **error_r)
{
	struct json_limits lim = { RULES_JSON_MAX, 6, RULES_MAX * 40 + 16 };
	const struct json_value *root, *list, *e;
	struct json_doc *doc;
	size_t off;
	int r = 0;

	memset(set, 0, sizeof(*set));
	if (len == 0)
		return 0;
	if ((doc = json_parse(text, len, &lim, error_r, &off)) == NULL)
		return -1;
	root = json_doc_root(doc);
	list = root->type == JSON_OBJECT ? json_member(root, "rules") : NULL;
	if (list == NULL || list->type != JSON_ARRAY || list->count > RULES_MAX) {
		*error_r = "rules.json is an object whose \"rules\" is an array of at most 50 rules";
		r = -1;
	}
	for (e = r == 0 ? list->child : NULL; e != NULL && r == 0; e = e->next)
		r = rules_rule_from_json(e, &set->rules[set->count++], error_r);
	json_doc_free(doc);
	if (r < 0)
		set->count = 0;
	return r;
}

void rules_rule_json(struct json *j, const struct rules_rule *r)
{
	json_object_begin(j);
	json_kv_string(j, "name", r->name);
	json_kv_bool(j, "enabled", r->enabled); /* not a setting key */
	json_key(j, "conditions");
	json_array_begin(j);
	for (unsigned i = 0; i < r->nconds; i++) {
		json_object_begin(j);
		json_kv_string(j, "field", field_names[r->conds[i].field]);
		if (r->conds[i].field == RULES_HEADER)
			json_kv_string(j, "header", r->conds[i].header);
		json_kv_string(j, "match", match_names[r->conds[i].match]);
		json_kv_string(j, "value", r->conds[i].value);
		json_object_end(j);
	}
	json_array_end(j);
	json_key(j, "actions");
	json_array_begin(j);
	for (unsigned i = 0; i < r->nacts; i++) {
		json_object_begin(j);
		json_kv_string(j, "type", action_names[r->acts[i].type]);
		if (r->acts[i].arg[0] != '\0')
			json_kv_string(j, "arg", r->acts[i].arg);
		json_object_end(j);
	}
	json_array_end(j);
	json_object_end(j);
}

void rules_write_json(const struct rules_set *set, struct strbuf *out)
{
	struct json j;
	const char *text;
	size_t len;

	json_init(&j);
	json_object_begin(&j);
	json_key(&j, "rules");
	json_array_begin(&j);
	for (unsigned i = 0; i < set->count; i++)
		rules_rule_json(&j, &set->rules[i]);
	json_array_end(&j);
	json_object_end(&j);
	if ((text = json_result(&j, &len)) != NULL) {
		strbuf_append(out, text, len);
		strbuf_append_c(out, '\n');
	}
	json_free(&j);
}

/* ---- generation -------------------------------------------------------- */

/* A Sieve quoted string; glob: *, ? and \ stand for themselves in :matches. */
static void quote(struct strbuf *out, const char *s, bool glob)
{
	strbuf_append_c(out, '"');
	for (; *s != '\0'; s++) {
		if (glob && (*s == '*' || *s == '?' || *s == '\\'))
			strbuf_append_str(out, "\\\\");
		if (*s == '"' || *s == '\\')
			strbuf_append_c(out, '\\');
		if (*s == '\r' || *s == '\n') {
			if (*s == '\n')
				strbuf_append_str(out, "\r\n");
			continue;
		}
		strbuf_append_c(out, *s);
	}
	strbuf_append_c(out, '"');
}

/* The pattern for value under m: :is, :contains or :matches with * around. */
static void cond_key(struct strbuf *out, const struct rules_cond *c)
{
	struct strbuf k = STRBUF_INIT;

	if (c->match == RULES_STARTS || c->match == RULES_ENDS) {
		strbuf_append_c(out, '"');
		if (c->match == RULES_ENDS)
			strbuf_append_c(out, '*');
		quote(&k, c->value, true);
		strbuf_append(out, k.data + 1, k.len - 2);
		if (c->match == RULES_STARTS)
			strbuf_append_c(out, '*');
		strbuf_append_c(out, '"');
	} else {
		quote(out, c->value, false);
	}
	strbuf_free(&k);
}

static const char *match_tag(enum rules_match m)
{
	return m == RULES_IS ? ":is" : m == RULES_STARTS || m == RULES_ENDS ? ":matches" : ":contains";
}

static void gen_cond(struct strbuf *out, const struct rules_cond *c)
{
	bool addr = (c->field == RULES_SENDER || c->field == RULES_RECIPIENT) &&
		    c->match != RULES_CONTAINS && c->match != RULES_NOT_CONTAINS;
	const char *fields = c->field == RULES_SENDER ? "\"from\"" : c->field == RULES_RECIPIENT ?
			     "[\"to\", \"cc\"]" : c->field == RULES_SUBJECT ? "\"subject\"" : NULL;

	if (c->match == RULES_NOT_CONTAINS)
		strbuf_append_str(out, "not ");
	if (c->field == RULES_BODY) {
		strbuf_printf(out, "body :text %s ", match_tag(c->match));
	} else if (addr) {
		strbuf_printf(out, "address :all %s %s ", match_tag(c->match), fields);
	} else {
		strbuf_printf(out, "header %s ", match_tag(c->match));
		if (fields != NULL) {
			strbuf_append_str(out, fields);
		} else {
			quote(out, c->header, false);
		}
		strbuf_append_c(out, ' ');
	}
	cond_key(out, c);
}

static void gen_rule(struct strbuf *out, const struct rules_rule *r, unsigned n)
{
	bool read = false, decided = false;

	strbuf_printf(out, "\n# rule %u: ", n);
	strbuf_append_str(out, r->name);	/* checked: no line breaks */
	strbuf_append_str(out, r->enabled ? "\n" : " (off)\n");
	if (!r->enabled)
		return;
	strbuf_append_str(out, r->nconds > 1 ? "if allof (" : "if ");
	for (unsigned i = 0; i < r->nconds; i++) {
		if (i > 0)
			strbuf_append_str(out, ",\n          ");
		gen_cond(out, &r->conds[i]);
	}
	strbuf_append_str(out, r->nconds > 1 ? ") {\n" : " {\n");
	for (unsigned i = 0; i < r->nacts; i++)
		read = read || r->acts[i].type == RULES_READ;
	if (read)
		strbuf_append_str(out, "    addflag \"\\\\Seen\";\n");
	for (unsigned i = 0; i < r->nacts; i++) {
		const struct rules_act *a = &r->acts[i];

		switch (a->type) {
		case RULES_MOVE:
		case RULES_COPY:
			strbuf_append_str(out, a->type == RULES_COPY ? "    fileinto :copy :create " :
					  "    fileinto :create ");
			quote(out, a->arg, false);
			strbuf_append_str(out, ";\n");
			decided = decided || a->type == RULES_MOVE;
			break;
		case RULES_FORWARD:
			strbuf_append_str(out, "    redirect :copy ");
			quote(out, a->arg, false);
			strbuf_append_str(out, ";\n");
			break;
		case RULES_TRASH:
			strbuf_append_str(out, "    fileinto :create \"Trash\";\n");
			decided = true;
			break;
		case RULES_DELETE:
			strbuf_append_str(out, "    discard;\n");
			decided = true;
			break;
		case RULES_READ:
			break;
		}
	}
	if (!decided)
		strbuf_append_str(out, "    keep;\n");	/* the rule decided: the own script does not run */
	strbuf_append_str(out, "    stop;\n}\n");
}

static void gen_vacation(struct strbuf *out, const struct rules_autoreply *ar)
{
	bool s = ar->start != NULL && ar->start[0] != '\0', e = ar->end != NULL && ar->end[0] != '\0';
	const char *indent = s || e ? "    " : "";

	strbuf_append_str(out, "\n# auto-reply\n");
	if (s && e)
		strbuf_append_str(out, "if allof (");
	else if (s || e)
		strbuf_append_str(out, "if ");
	if (s) {
		strbuf_append_str(out, "currentdate :value \"ge\" \"date\" ");
		quote(out, ar->start, false);
	}
	if (s && e)
		strbuf_append_str(out, ",\n          ");
	if (e) {
		strbuf_append_str(out, "currentdate :value \"le\" \"date\" ");
		quote(out, ar->end, false);
	}
	if (s && e)
		strbuf_append_c(out, ')');
	if (s || e)
		strbuf_append_str(out, " {\n");
	strbuf_printf(out, "%svacation :days %u", indent, ar->days < 1 ? 1 : ar->days > 365 ? 365 : ar->days);
	if (ar->quote)	/* delivery quotes the original for this handle (mail/autoreply.h) */
		strbuf_append_str(out, " :handle \"" AUTOREPLY_QUOTE_HANDLE "\"");
	if (ar->subject != NULL && ar->subject[0] != '\0') {
		strbuf_append_str(out, " :subject ");
		quote(out, ar->subject, false);
	}
	strbuf_append_c(out, ' ');
	quote(out, ar->body != NULL && ar->body[0] != '\0' ? ar->body : "I am away and will reply later.", false);
	strbuf_append_str(out, ";\n");
	if (s || e)
		strbuf_append_str(out, "}\n");
}

void rules_generate(const struct rules_set *set, const struct rules_autoreply *ar, struct strbuf *out)
{
	strbuf_append_str(out, "# Generated by Yubin from the panel's sorting rules and auto-reply.\n"
			       "# Changes here are overwritten; edit them in the panel or with yubinctl.\n"
			       "require [\"fileinto\", \"mailbox\", \"copy\", \"imap4flags\", \"body\", \"vacation\","
			       " \"date\", \"relational\"];\n");
	if (ar != NULL && ar->on)
		gen_vacation(out, ar);
	for (unsigned i = 0; i < set->count; i++)
		gen_rule(out, &set->rules[i], i + 1);
}
