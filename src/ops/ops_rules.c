/* The panel's sorting rules and auto-reply as operations (see ops_rules.h). */
#include "ops/ops_rules.h"
#include "sieve/sieve.h"
#include "store/maildir.h"
#include "lib/fsutil.h"
#include "lib/json.h"
#include "lib/str.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

bool ops_rules_setting(enum setting_id id)
{
	return id == SETTING_AUTOREPLY || id == SETTING_AUTOREPLY_SUBJECT || id == SETTING_AUTOREPLY_BODY ||
	       id == SETTING_AUTOREPLY_START || id == SETTING_AUTOREPLY_END || id == SETTING_AUTOREPLY_DAYS ||
	       id == SETTING_AUTOREPLY_QUOTE;
}

/* MAILDIR/sieve of the account (made when missing) into dir. */
static int rules_dir(struct ops *o, const struct ops_actor *actor, const char *address, char *dir, size_t size,
		     char *canon, size_t csize, struct ops_error *err)
{
	struct dir_account a;
	char md[PATH_MAX];

	if (ops_account_get(o, actor, address, &a, err) < 0)
		return -1;
	if (maildir_path(md, sizeof(md), o->data, a.domain, a.local) < 0 ||
	    (size_t)snprintf(dir, size, "%s/sieve", md) >= size)
		return ops_fail(err, "internal", NULL, "mailbox path of %s too long", "%s のメールボックスのパスが長すぎます",
				address);
	if ((mkdir(md, 0700) < 0 && errno != EEXIST) || (mkdir(dir, 0700) < 0 && errno != EEXIST))
		return ops_fail(err, "internal", NULL, "cannot make %s: %s", "%s を作れません: %s", dir, strerror(errno));
	str_copy(canon, csize, a.address);
	return 0;
}

static int rules_load(const char *dir, struct rules_set *set, struct ops_error *err)
{
	char path[PATH_MAX];
	const char *error = "";
	size_t len = 0;
	char *text;
	int r;

	snprintf(path, sizeof(path), "%s/rules.json", dir);
	if ((text = fs_read_file(path, RULES_JSON_MAX, &len)) == NULL) {
		if (errno == ENOENT) {
			memset(set, 0, sizeof(*set));
			return 0;
		}
		return ops_fail(err, "internal", NULL, "cannot read %s: %s", "%s を読めません: %s", path, strerror(errno));
	}
	r = rules_parse(text, len, set, &error);
	free(text);
	if (r < 0)
		return ops_fail(err, "internal", NULL, "%s is broken: %s", "%s が壊れています: %s", path, error);
	return 0;
}

static int rules_save(const char *dir, const struct rules_set *set, struct ops_error *err)
{
	struct strbuf out = STRBUF_INIT;
	char path[PATH_MAX];
	int r;

	snprintf(path, sizeof(path), "%s/rules.json", dir);
	rules_write_json(set, &out);
	r = fs_write_file_atomic(path, out.data != NULL ? out.data : "", out.len, 0600);
	strbuf_free(&out);
	if (r < 0)
		return ops_fail(err, "internal", NULL, "cannot write %s: %s", "%s を書けません: %s", path, strerror(errno));
	return 0;
}

/* "\n" -> line break, "\\" -> backslash. */
static void body_decode(const char *in, char *out, size_t size)
{
	size_t o = 0;

	for (; *in != '\0' && o + 1 < size; in++) {
		if (in[0] == '\\' && (in[1] == 'n' || in[1] == '\\')) {
			out[o++] = in[1] == 'n' ? '\n' : '\\';
			in++;
		} else {
			out[o++] = *in;
		}
	}
	out[o] = '\0';
}

static void body_encode(const char *in, char *out, size_t size)
{
	size_t o = 0;

	for (; *in != '\0' && o + 2 < size; in++) {
		if (*in == '\r')
			continue;
		if (*in == '\n' || *in == '\\') {
			out[o++] = '\\';
			out[o++] = *in == '\n' ? 'n' : '\\';
		} else {
			out[o++] = *in;
		}
	}
	out[o] = '\0';
}

static void autoreply_read(struct ops *o, const char *address, struct ops_autoreply *ar)
{
	char raw[4200], days[32];

	memset(ar, 0, sizeof(*ar));
	ar->on = settings_account_bool(o->dir, address, SETTING_AUTOREPLY);
	ar->quote = settings_account_bool(o->dir, address, SETTING_AUTOREPLY_QUOTE);
	settings_account_string(o->dir, address, SETTING_AUTOREPLY_SUBJECT, ar->subject, sizeof(ar->subject));
	settings_account_string(o->dir, address, SETTING_AUTOREPLY_BODY, raw, sizeof(raw));
	body_decode(raw, ar->body, sizeof(ar->body));
	settings_account_string(o->dir, address, SETTING_AUTOREPLY_START, ar->start, sizeof(ar->start));
	settings_account_string(o->dir, address, SETTING_AUTOREPLY_END, ar->end, sizeof(ar->end));
	settings_account_string(o->dir, address, SETTING_AUTOREPLY_DAYS, days, sizeof(days));
	ar->days = (unsigned)strtoul(days, NULL, 10);
	if (ar->days < 1 || ar->days > 365)
		ar->days = 1;
}

/* Writes (or removes) dir/panel for the set and the auto-reply. */
static int panel_write(const char *dir, const struct rules_set *set, const struct ops_autoreply *ar,
		       struct ops_error *err)
{
	struct rules_autoreply ra = { ar->on, ar->subject, ar->body, ar->start, ar->end, ar->days, ar->quote };
	struct strbuf out = STRBUF_INIT;
	struct sieve_script *script = NULL;
	struct sieve_limits lim;
	struct sieve_error serr;
	char path[PATH_MAX];
	int r;

	snprintf(path, sizeof(path), "%s/panel", dir);
	if (set->count == 0 && !ar->on) {
		if (unlink(path) < 0 && errno != ENOENT)
			return ops_fail(err, "internal", NULL, "cannot remove %s: %s", "%s を削除できません: %s", path,
					strerror(errno));
		return 0;
	}
	rules_generate(set, &ra, &out);
	sieve_limits_default(&lim);
	lim.max_script = 1024 * 1024;
	if (sieve_compile(out.data, out.len, &lim, &script, &serr) < 0) {
		strbuf_free(&out);
		return ops_fail(err, "internal", NULL, "the generated script does not compile: %s",
				"生成したスクリプトをコンパイルできません: %s", serr.msg);
	}
	sieve_script_free(script);
	r = fs_write_file_atomic(path, out.data, out.len, 0600);
	strbuf_free(&out);
	if (r < 0)
		return ops_fail(err, "internal", NULL, "cannot write %s: %s", "%s を書けません: %s", path, strerror(errno));
	return 0;
}

int ops_rules_regenerate(struct ops *o, const char *address, struct ops_error *err)
{
	struct ops_actor cli;
	struct ops_autoreply ar;
	struct rules_set *set = malloc(sizeof(*set));
	char dir[PATH_MAX], canon[400];
	int r = -1;

	memset(&cli, 0, sizeof(cli));
	cli.kind = cli.role = OPS_ACTOR_CLI;
	if (set == NULL)
		return ops_fail(err, "internal", NULL, "out of memory", "メモリが足りません");
	if (rules_dir(o, &cli, address, dir, sizeof(dir), canon, sizeof(canon), err) == 0 &&
	    rules_load(dir, set, err) == 0) {
		autoreply_read(o, canon, &ar);
		r = panel_write(dir, set, &ar, err);
	}
	free(set);
	return r;
}

int ops_rules_list(struct ops *o, const struct ops_actor *actor, const char *address, struct rules_set *set,
		   struct ops_error *err)
{
	char dir[PATH_MAX], canon[400];

	memset(err, 0, sizeof(*err));
	if (rules_dir(o, actor, address, dir, sizeof(dir), canon, sizeof(canon), err) < 0)
		return -1;
	return rules_load(dir, set, err);
}

enum rules_op { OP_ADD, OP_DEL, OP_MOVE, OP_ENABLE };

struct rules_change {
	enum rules_op op;
	const struct rules_rule *rule;
	unsigned pos, to;
	bool on;
};

static int change_apply(struct rules_set *set, const struct rules_change *c, struct ops_error *err)
{
	struct rules_rule tmp;
	unsigned n = set->count, p = c->pos;

	if (c->op == OP_ADD) {
		if (n >= RULES_MAX)
			return ops_fail(err, "too_many", "rules", "at most %d rules", "ルールは %d 件までです", RULES_MAX);
		p = p == 0 || p > n + 1 ? n + 1 : p;
		memmove(&set->rules[p], &set->rules[p - 1], (n - (p - 1)) * sizeof(set->rules[0]));
		set->rules[p - 1] = *c->rule;
		set->count++;
		return 0;
	}
	if (p < 1 || p > n || (c->op == OP_MOVE && (c->to < 1 || c->to > n)))
		return ops_fail(err, "not_found", "position", "no rule at that position (1..%u)",
				"その位置にルールがありません（1〜%u）", n);
	switch (c->op) {
	case OP_DEL:
		memmove(&set->rules[p - 1], &set->rules[p], (n - p) * sizeof(set->rules[0]));
		set->count--;
		break;
	case OP_MOVE:
		tmp = set->rules[p - 1];
		memmove(&set->rules[p - 1], &set->rules[p], (n - p) * sizeof(set->rules[0]));
		memmove(&set->rules[c->to], &set->rules[c->to - 1], (n - 1 - (c->to - 1)) * sizeof(set->rules[0]));
		set->rules[c->to - 1] = tmp;
		break;
	case OP_ENABLE:
		set->rules[p - 1].enabled = c->on;
		break;
	case OP_ADD:
		break;
	}
	return 0;
}

static const char *const op_names[] = { "rules.add", "rules.del", "rules.move", "rules.enable" };

/* Loads, changes, saves, regenerates, under the account's rules lock. */
static int rules_change(struct ops *o, const struct ops_actor *actor, const char *address,
			const struct rules_change *c, struct ops_error *err)
{
	struct rules_set *set;
	struct ops_autoreply ar;
	char dir[PATH_MAX], canon[400], lock[PATH_MAX + 16];
	int fd, r = -1;

	memset(err, 0, sizeof(*err));
	if (rules_dir(o, actor, address, dir, sizeof(dir), canon, sizeof(canon), err) < 0)
		return -1;
	snprintf(lock, sizeof(lock), "%s/rules.lock", dir);
	if ((fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) < 0 || flock(fd, LOCK_EX) < 0) {
		if (fd >= 0)
			close(fd);
		return ops_fail(err, "internal", NULL, "cannot lock %s: %s", "%s をロックできません: %s", lock,
				strerror(errno));
	}
	if ((set = malloc(sizeof(*set))) == NULL) {
		close(fd);
		return ops_fail(err, "internal", NULL, "out of memory", "メモリが足りません");
	}
	if (rules_load(dir, set, err) == 0 && change_apply(set, c, err) == 0) {
		autoreply_read(o, canon, &ar);
		/* the script first: a set that would not compile is not stored */
		if (panel_write(dir, set, &ar, err) == 0 && rules_save(dir, set, err) == 0)
			r = 0;
	}
	free(set);
	close(fd);
	if (r < 0)
		return -1;
	ops_event(o, actor, "rules-changed", canon, "%s %u%s%s", op_names[c->op], c->pos,
		  c->rule != NULL ? " " : "", c->rule != NULL ? c->rule->name : "");
	ops_audit(o, actor, op_names[c->op], canon, "position %u%s%s", c->pos, c->rule != NULL ? ": " : "",
		  c->rule != NULL ? c->rule->name : "");
	return 0;
}

int ops_rules_add(struct ops *o, const struct ops_actor *actor, const char *address, const struct rules_rule *r,
		  unsigned pos, struct ops_error *err)
{
	struct rules_change c = { OP_ADD, r, pos, 0, false };
	const char *error;

	if (rules_rule_check(r, &error) < 0)
		return ops_fail(err, "invalid_value", "rule", "%s", "ルールが正しくありません: %s", error);
	return rules_change(o, actor, address, &c, err);
}

int ops_rules_del(struct ops *o, const struct ops_actor *actor, const char *address, unsigned pos,
		  struct ops_error *err)
{
	struct rules_change c = { OP_DEL, NULL, pos, 0, false };

	return rules_change(o, actor, address, &c, err);
}

int ops_rules_move(struct ops *o, const struct ops_actor *actor, const char *address, unsigned from,
		   unsigned to, struct ops_error *err)
{
	struct rules_change c = { OP_MOVE, NULL, from, to, false };

	return rules_change(o, actor, address, &c, err);
}

int ops_rules_enable(struct ops *o, const struct ops_actor *actor, const char *address, unsigned pos,
		     bool on, struct ops_error *err)
{
	struct rules_change c = { OP_ENABLE, NULL, pos, 0, on };

	return rules_change(o, actor, address, &c, err);
}

int ops_autoreply_get(struct ops *o, const struct ops_actor *actor, const char *address,
		      struct ops_autoreply *ar, struct ops_error *err)
{
	struct dir_account a;

	memset(err, 0, sizeof(*err));
	if (ops_account_get(o, actor, address, &a, err) < 0)
		return -1;
	autoreply_read(o, a.address, ar);
	return 0;
}

int ops_autoreply_set(struct ops *o, const struct ops_actor *actor, const char *address,
		      const struct ops_autoreply_change *c, struct ops_error *err)
{
	const struct { enum setting_id id; const char *value; } f[] = {
		{ SETTING_AUTOREPLY_SUBJECT, c->subject }, { SETTING_AUTOREPLY_BODY, c->body },
		{ SETTING_AUTOREPLY_START, c->start }, { SETTING_AUTOREPLY_END, c->end },
		{ SETTING_AUTOREPLY_DAYS, c->days }, { SETTING_AUTOREPLY_QUOTE, c->quote },
		{ SETTING_AUTOREPLY, c->on },
	};
	struct ops_setting_result *res = malloc(sizeof(*res));
	char *enc = malloc(OPS_VALUE_MAX);
	int r = 0;

	memset(err, 0, sizeof(*err));
	if (res == NULL || enc == NULL) {
		free(res);
		free(enc);
		return ops_fail(err, "internal", NULL, "out of memory", "メモリが足りません");
	}
	for (size_t i = 0; i < sizeof(f) / sizeof(f[0]) && r == 0; i++) {
		const char *v = f[i].value;

		if (v == NULL)
			continue;
		if (f[i].id == SETTING_AUTOREPLY_BODY) {
			if (strlen(v) > 4000)
				return free(res), free(enc), ops_fail(err, "invalid_value", "body",
					"the auto-reply's text is at most 4000 bytes", "自動応答の本文は 4000 バイトまでです");
			body_encode(v, enc, OPS_VALUE_MAX);
			v = enc;
		}
		r = ops_setting_set(o, actor, SETTING_ACCOUNT, address, settings_key(f[i].id), v, res, err);
	}
	free(res);
	free(enc);
	return r;
}
