#ifndef YUBIN_OPS_OPS_RULES_H
#define YUBIN_OPS_OPS_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/strbuf.h"

/* The panel's sorting rules and auto-reply, built on Sieve.
 *
 * Rules are data (MAILDIR/sieve/rules.json): an ordered list of at most
 * RULES_MAX rules, each with a name, on/off, 1 to 3 conditions joined by
 * AND and 1 to 4 actions. Together with the auto-reply settings they are
 * generated into one hidden script, MAILDIR/sieve/panel (not a NAME.sieve,
 * so ManageSieve never lists it), which delivery runs before the account's
 * own active script. The reading, writing and generation below are pure
 * (ops_rules_gen.c); the files and the operations are in ops_rules.c. */

#define RULES_MAX 50
#define RULES_CONDS_MAX 3
#define RULES_ACTIONS_MAX 4
#define RULES_NAME_MAX 100	/* bytes */
#define RULES_VALUE_MAX 500	/* bytes of a condition's value or an action's argument */
#define RULES_JSON_MAX (RULES_MAX * 8192)

enum rules_field { RULES_SENDER, RULES_RECIPIENT, RULES_SUBJECT, RULES_HEADER, RULES_BODY };
enum rules_match { RULES_CONTAINS, RULES_IS, RULES_STARTS, RULES_ENDS, RULES_NOT_CONTAINS };
enum rules_action { RULES_MOVE, RULES_COPY, RULES_READ, RULES_FORWARD, RULES_TRASH, RULES_DELETE };

struct rules_cond {
	enum rules_field field;
	enum rules_match match;
	char header[80];		/* RULES_HEADER: the field's name */
	char value[RULES_VALUE_MAX + 1];
};

struct rules_act {
	enum rules_action type;
	char arg[RULES_VALUE_MAX + 1];	/* folder (move, copy) or address (forward) */
};

struct rules_rule {
	char name[RULES_NAME_MAX + 1];
	bool enabled;
	unsigned nconds, nacts;
	struct rules_cond conds[RULES_CONDS_MAX];
	struct rules_act acts[RULES_ACTIONS_MAX];
};

struct rules_set {
	unsigned count;
	struct rules_rule rules[RULES_MAX];
};

/* The auto-reply settings as generation needs them. */
struct rules_autoreply {
	bool on;
	const char *subject;	/* UTF-8, "" for "Auto: " + the original's */
	const char *body;	/* UTF-8 */
	const char *start, *end;	/* "YYYY-MM-DD" or "" */
	unsigned days;		/* 1..365 */
	bool quote;		/* the reply quotes the original (:handle AUTOREPLY_QUOTE_HANDLE) */
};

const char *rules_field_name(enum rules_field f);
const char *rules_match_name(enum rules_match m);
const char *rules_action_name(enum rules_action a);

/* Checks one rule (names, values, folders, addresses): 0, or -1 with
 * *error_r (English) naming what is wrong. */
int rules_rule_check(const struct rules_rule *r, const char **error_r);

/* Reads a rule from its JSON object ({"name","enabled","conditions":[
 * {"field","match","header","value"}],"actions":[{"type","arg"}]}):
 * 0, or -1 with *error_r. */
struct json_value;
int rules_rule_from_json(const struct json_value *v, struct rules_rule *r, const char **error_r);
/* Reads rules.json (an object {"rules":[...]}; empty text: no rules):
 * 0, or -1 with *error_r. */
int rules_parse(const char *text, size_t len, struct rules_set *set, const char **error_r);
/* Writes the set as rules.json. */
void rules_write_json(const struct rules_set *set, struct strbuf *out);
struct json;
void rules_rule_json(struct json *j, const struct rules_rule *r);

/* Generates the panel's Sieve script: the auto-reply's vacation (when on,
 * within its dates), then the enabled rules in order, the first that
 * matches deciding and stopping. Always compiles (tested). */
void rules_generate(const struct rules_set *set, const struct rules_autoreply *ar, struct strbuf *out);


/* ---- the operations (ops_rules.c), for yubinctl and the JSON API ---- */

#include "ops/ops.h"
#include "settings/settings.h"

/* The rules of the account (positions are 1-based in the API and CLI). */
int ops_rules_list(struct ops *o, const struct ops_actor *actor, const char *address, struct rules_set *set,
		   struct ops_error *err);
/* Adds r (checked) at position pos (0: at the end). */
int ops_rules_add(struct ops *o, const struct ops_actor *actor, const char *address, const struct rules_rule *r,
		  unsigned pos, struct ops_error *err);
int ops_rules_del(struct ops *o, const struct ops_actor *actor, const char *address, unsigned pos,
		  struct ops_error *err);
int ops_rules_move(struct ops *o, const struct ops_actor *actor, const char *address, unsigned from,
		   unsigned to, struct ops_error *err);
int ops_rules_enable(struct ops *o, const struct ops_actor *actor, const char *address, unsigned pos,
		     bool on, struct ops_error *err);

struct ops_autoreply {
	bool on;
	char subject[256];
	char body[4100];	/* with real line breaks */
	char start[16], end[16];
	unsigned days;
	bool quote;
};
int ops_autoreply_get(struct ops *o, const struct ops_actor *actor, const char *address,
		      struct ops_autoreply *ar, struct ops_error *err);
/* Sets the fields given (NULL: unchanged; body with real line breaks)
 * through the settings, then regenerates the panel script once. */
struct ops_autoreply_change {
	const char *on, *subject, *body, *start, *end, *days, *quote;
};
int ops_autoreply_set(struct ops *o, const struct ops_actor *actor, const char *address,
		      const struct ops_autoreply_change *c, struct ops_error *err);

/* Writes MAILDIR/sieve/panel from rules.json and the auto-reply settings
 * (removed when there is neither): after every change of either. */
int ops_rules_regenerate(struct ops *o, const char *address, struct ops_error *err);
/* true for the settings whose change regenerates the panel script. */
bool ops_rules_setting(enum setting_id id);

#endif
