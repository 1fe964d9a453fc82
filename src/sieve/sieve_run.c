/* The interpreter: runs the compiled nodes of a script over a message,
 * keeps the variables, match variables and imap4flags' internal flags,
 * and leaves the actions in a struct sieve_result (sieve_action.c).
 * Implicit keep as RFC 5228 2.10.2; a run-time error or a limit gives the
 * implicit keep alone, with the error and its line. */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sieve/sieve_run_int.h"

void sieve_run_fail(struct sieve_run *r, unsigned int line, const char *fmt, ...)
{
	va_list ap;
	char msg[sizeof(r->res->err.msg)];

	if (r->failed)
		return;
	r->failed = true;
	r->stopped = true;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	r->res->err.line = line;
	snprintf(r->res->err.msg, sizeof(r->res->err.msg), "line %u: %s", line, msg);
}

static bool in_globals(struct sieve_run *r, const char *name)
{
	for (unsigned int i = 0; i < r->global_count; i++)
		if (strcasecmp(r->globals[i], name) == 0)
			return true;
	return false;
}

struct sieve_var *sieve_run_var(struct sieve_run *r, const char *name, bool create)
{
	uint32_t scope = in_globals(r, name) ? SIEVE_SCOPE_GLOBAL : r->scope;
	struct sieve_var *v;

	if (strncasecmp(name, "global.", 7) == 0) {
		name += 7;
		scope = SIEVE_SCOPE_GLOBAL;
	}
	for (unsigned int i = 0; i < r->var_count; i++)
		if (r->vars[i].scope == scope && strcasecmp(r->vars[i].name, name) == 0)
			return &r->vars[i];
	if (!create || strlen(name) > SIEVE_VAR_NAME_MAX)
		return NULL;
	if (r->var_count >= r->lim->max_variables) {
		sieve_run_fail(r, 0, "too many variables");
		return NULL;
	}
	r->vars = realloc(r->vars, (r->var_count + 1) * sizeof(*r->vars));
	if (r->vars == NULL)
		abort();
	v = &r->vars[r->var_count++];
	snprintf(v->name, sizeof(v->name), "%s", name);
	v->scope = scope;
	strbuf_init(&v->value);
	return v;
}

/* The length of a variable reference's name at s ("name}" or "1}"), 0 when
 * s does not start one (RFC 5229 3). */
static size_t var_ref(const char *s, size_t len, bool *is_num)
{
	size_t i = 0;

	*is_num = len > 0 && isdigit((unsigned char)s[0]);
	if (*is_num) {
		while (i < len && isdigit((unsigned char)s[i]))
			i++;
	} else {
		for (;;) {
			if (i >= len || !(isalpha((unsigned char)s[i]) || s[i] == '_'))
				return 0;
			while (i < len && (isalnum((unsigned char)s[i]) || s[i] == '_'))
				i++;
			if (i < len && s[i] == '.') {
				i++;
				continue;
			}
			break;
		}
	}
	return i < len && s[i] == '}' ? i : 0;
}

void sieve_run_expand(struct sieve_run *r, uint32_t si, struct strbuf *out)
{
	const struct sieve_str *st = &r->s->strs[si];
	const char *s = sieve_str_ptr(r->s, si);
	size_t len = st->len, start = out->len;

	if (!st->has_var) {
		strbuf_append(out, s, len);
		return;
	}
	for (size_t i = 0; i < len;) {
		bool num;
		size_t n;

		if (s[i] == '$' && i + 1 < len && s[i + 1] == '{' &&
		    (n = var_ref(s + i + 2, len - i - 2, &num)) > 0) {
			char name[64];

			if (num) {
				unsigned long k = n <= 3 ? strtoul(s + i + 2, NULL, 10) : 1000;

				if (k < r->mv.count)
					strbuf_append(out, r->mv.v[k].data, r->mv.v[k].len);
			} else if (n < sizeof(name)) {
				struct sieve_var *v;

				memcpy(name, s + i + 2, n);
				name[n] = '\0';
				v = sieve_run_var(r, name, false);
				if (v != NULL)
					strbuf_append(out, v->value.data, v->value.len);
			}
			i += n + 3;
		} else {
			strbuf_append_c(out, s[i]);
			i++;
		}
		if (out->len - start > r->lim->max_string) {
			strbuf_truncate(out, start + r->lim->max_string);
			return;
		}
	}
}

static bool flag_in(const char *set, size_t setlen, const char *f, size_t flen)
{
	for (size_t i = 0; i < setlen;) {
		size_t n = strcspn(set + i, " ");

		if (n > setlen - i)
			n = setlen - i;
		if (n == flen && strncasecmp(set + i, f, n) == 0)
			return true;
		i += n + 1;
	}
	return false;
}

void sieve_flags_add(struct strbuf *set, const char *flags, size_t len)
{
	for (size_t i = 0; i < len;) {
		size_t n = 0;

		while (i < len && (flags[i] == ' ' || flags[i] == '\t'))
			i++;
		while (i + n < len && flags[i + n] != ' ' && flags[i + n] != '\t')
			n++;
		if (n > 0 && !flag_in(strbuf_cstr(set), set->len, flags + i, n)) {
			if (set->len > 0)
				strbuf_append_c(set, ' ');
			strbuf_append(set, flags + i, n);
		}
		i += n;
	}
}

void sieve_flags_remove(struct strbuf *set, const char *flags, size_t len)
{
	struct strbuf keep = STRBUF_INIT;
	const char *p = strbuf_cstr(set);

	while (*p != '\0') {
		size_t n = strcspn(p, " ");

		if (!flag_in(flags, len, p, n)) {
			if (keep.len > 0)
				strbuf_append_c(&keep, ' ');
			strbuf_append(&keep, p, n);
		}
		p += n;
		while (*p == ' ')
			p++;
	}
	strbuf_truncate(set, 0);
	strbuf_append(set, keep.data != NULL ? keep.data : "", keep.len);
	strbuf_free(&keep);
}

/* The flags of a list argument, expanded, normalised into out. */
static void list_flags(struct sieve_run *r, uint32_t li, struct strbuf *out)
{
	const struct sieve_list *l = &r->s->lists[li];
	struct strbuf t = STRBUF_INIT;

	for (uint32_t i = 0; i < l->count; i++) {
		strbuf_truncate(&t, 0);
		sieve_run_expand(r, l->first + i, &t);
		sieve_flags_add(out, strbuf_cstr(&t), t.len);
	}
	strbuf_free(&t);
}

static void cmd_flag(struct sieve_run *r, const struct sieve_node *nd)
{
	struct strbuf given = STRBUF_INIT, *target = &r->flags;
	struct sieve_var *v = NULL;

	list_flags(r, nd->sl[SL_P0], &given);
	if (nd->sl[SL_P1] != 0) {
		struct strbuf name = STRBUF_INIT;

		sieve_run_expand(r, r->s->lists[nd->sl[SL_P1]].first, &name);
		v = sieve_run_var(r, strbuf_cstr(&name), true);
		strbuf_free(&name);
		if (v == NULL) {
			strbuf_free(&given);
			return;
		}
		target = &v->value;
		if (nd->id != SID_SETFLAG) {
			struct strbuf norm = STRBUF_INIT;

			sieve_flags_add(&norm, strbuf_cstr(target), target->len);
			strbuf_truncate(target, 0);
			strbuf_append(target, strbuf_cstr(&norm), norm.len);
			strbuf_free(&norm);
		}
	}
	if (nd->id == SID_SETFLAG) {
		strbuf_truncate(target, 0);
		sieve_flags_add(target, strbuf_cstr(&given), given.len);
	} else if (nd->id == SID_ADDFLAG) {
		sieve_flags_add(target, strbuf_cstr(&given), given.len);
	} else {
		sieve_flags_remove(target, strbuf_cstr(&given), given.len);
	}
	if (target->data == NULL)
		strbuf_append(target, "", 0);
	strbuf_free(&given);
}

static void apply_modifiers(uint8_t mods, struct strbuf *v)
{
	if (mods & (MOD_LOWER | MOD_UPPER))
		for (size_t i = 0; i < v->len; i++)
			v->data[i] = (char)((mods & MOD_LOWER) ? tolower((unsigned char)v->data[i]) :
					    toupper((unsigned char)v->data[i]));
	if ((mods & (MOD_LOWERFIRST | MOD_UPPERFIRST)) && v->len > 0)
		v->data[0] = (char)((mods & MOD_LOWERFIRST) ? tolower((unsigned char)v->data[0]) :
				    toupper((unsigned char)v->data[0]));
	if (mods & (MOD_QUOTEWILD | MOD_QUOTEREGEX)) {
		const char *special = (mods & MOD_QUOTEWILD) ? "*?\\" : "*.?+^$|()[]{}\\";
		struct strbuf q = STRBUF_INIT;

		for (size_t i = 0; i < v->len; i++) {
			if (strchr(special, v->data[i]) != NULL && v->data[i] != '\0')
				strbuf_append_c(&q, '\\');
			strbuf_append_c(&q, v->data[i]);
		}
		strbuf_truncate(v, 0);
		strbuf_append(v, q.data != NULL ? q.data : "", q.len);
		strbuf_free(&q);
	}
	if (mods & MOD_LENGTH) {
		size_t chars = 0;

		for (size_t i = 0; i < v->len; i++)
			chars += ((unsigned char)v->data[i] & 0xc0) != 0x80;
		strbuf_truncate(v, 0);
		strbuf_printf(v, "%zu", chars);
	}
}

static void cmd_set(struct sieve_run *r, const struct sieve_node *nd)
{
	struct strbuf val = STRBUF_INIT;
	struct sieve_var *v;

	sieve_run_expand(r, r->s->lists[nd->sl[SL_P1]].first, &val);
	apply_modifiers(nd->mods, &val);
	v = sieve_run_var(r, sieve_str_ptr(r->s, r->s->lists[nd->sl[SL_P0]].first), true);
	if (v != NULL) {
		strbuf_truncate(&v->value, 0);
		strbuf_append(&v->value, val.data != NULL ? val.data : "", val.len);
	}
	strbuf_free(&val);
}

static void cmd_global(struct sieve_run *r, const struct sieve_node *nd)
{
	const struct sieve_list *l = &r->s->lists[nd->sl[SL_P0]];

	for (uint32_t i = 0; i < l->count; i++) {
		const char *n = sieve_str_ptr(r->s, l->first + i);

		if (in_globals(r, n))
			continue;
		r->globals = realloc(r->globals, (r->global_count + 1) * sizeof(char *));
		if (r->globals == NULL || (r->globals[r->global_count] = strdup(n)) == NULL)
			abort();
		r->global_count++;
	}
}

static void cmd_include(struct sieve_run *r, const struct sieve_node *nd)
{
	struct strbuf name = STRBUF_INIT;
	const struct sieve_script *saved = r->s;
	struct sieve_script *sub = NULL;
	struct sieve_error err;
	char **saved_globals = r->globals, key[300];
	unsigned int saved_gc = r->global_count;
	uint32_t saved_scope = r->scope;
	const char *text = NULL;
	size_t len = 0;

	sieve_run_expand(r, r->s->lists[nd->sl[SL_P0]].first, &name);
	snprintf(key, sizeof(key), "%c%s", (nd->flags & NF_GLOBAL) ? 'g' : 'p', strbuf_cstr(&name));
	for (unsigned int i = 0; i < r->included_count; i++)
		if ((nd->flags & NF_ONCE) && strcmp(r->included[i], key) == 0)
			goto out;
	if (r->include_depth >= r->lim->max_includes) {
		sieve_run_fail(r, nd->line, "include nested too deep");
		goto out;
	}
	if (r->env->include_text != NULL)
		text = r->env->include_text(r->env->ctx, strbuf_cstr(&name), nd->flags & NF_GLOBAL, &len);
	if (text == NULL) {
		if (!(nd->flags & NF_OPTIONAL))
			sieve_run_fail(r, nd->line, "included script \"%s\" not found", strbuf_cstr(&name));
		goto out;
	}
	if (sieve_compile(text, len, r->lim, &sub, &err) < 0) {
		sieve_run_fail(r, nd->line, "included script \"%s\": %s", strbuf_cstr(&name), err.msg);
		goto out;
	}
	r->included = realloc(r->included, (r->included_count + 1) * sizeof(char *));
	if (r->included == NULL || (r->included[r->included_count] = strdup(key)) == NULL)
		abort();
	r->included_count++;
	r->s = sub;
	r->scope = ++r->invocations;
	r->globals = NULL;
	r->global_count = 0;
	r->include_depth++;
	sieve_run_block(r, 0, sub->node_count);
	r->include_depth--;
	r->returned = false;
	for (unsigned int i = 0; i < r->global_count; i++)
		free(r->globals[i]);
	free(r->globals);
	r->globals = saved_globals;
	r->global_count = saved_gc;
	r->scope = saved_scope;
	r->s = saved;
	r->mv.count = 0;
out:
	sieve_script_free(sub);
	strbuf_free(&name);
}

static const char *one(struct sieve_run *r, const struct sieve_node *nd, int slot, struct strbuf *b)
{
	strbuf_truncate(b, 0);
	sieve_run_expand(r, r->s->lists[nd->sl[slot]].first, b);
	return strbuf_cstr(b);
}

void sieve_run_command(struct sieve_run *r, uint32_t ni)
{
	const struct sieve_node *nd = &r->s->nodes[ni];
	struct strbuf b = STRBUF_INIT;

	switch (nd->id) {
	case SID_STOP: r->stopped = true; break;
	case SID_RETURN: r->returned = true; break;
	case SID_KEEP: sieve_action_add(r, nd, SIEVE_ACT_KEEP, NULL, NULL); break;
	case SID_DISCARD: sieve_action_add(r, nd, SIEVE_ACT_DISCARD, NULL, NULL); break;
	case SID_FILEINTO:
		sieve_action_add(r, nd, SIEVE_ACT_FILEINTO, one(r, nd, SL_P0, &b), NULL);
		break;
	case SID_REDIRECT:
		sieve_action_add(r, nd, SIEVE_ACT_REDIRECT, one(r, nd, SL_P0, &b), NULL);
		break;
	case SID_REJECT: case SID_EREJECT:
		sieve_action_add(r, nd, nd->id == SID_REJECT ? SIEVE_ACT_REJECT : SIEVE_ACT_EREJECT,
				 one(r, nd, SL_P0, &b), NULL);
		break;
	case SID_SETFLAG: case SID_ADDFLAG: case SID_REMOVEFLAG: cmd_flag(r, nd); break;
	case SID_SET: cmd_set(r, nd); break;
	case SID_VACATION: sieve_action_vacation(r, nd); break;
	case SID_INCLUDE: cmd_include(r, nd); break;
	case SID_GLOBAL: cmd_global(r, nd); break;
	default: break;
	}
	strbuf_free(&b);
}

int sieve_run_block(struct sieve_run *r, uint32_t from, uint32_t to)
{
	bool taken = false;

	for (uint32_t i = from; i < to && !r->stopped && !r->returned;) {
		const struct sieve_node *nd = &r->s->nodes[i];

		if (++r->res->steps > r->lim->max_steps) {
			sieve_run_fail(r, nd->line, "too many steps");
			break;
		}
		switch (nd->id) {
		case SID_IF:
			taken = false;
			/* fall through */
		case SID_ELSIF:
			if (!taken && sieve_run_test(r, i + 1)) {
				taken = true;
				sieve_run_block(r, r->s->nodes[i + 1].end, nd->end);
			}
			break;
		case SID_ELSE:
			if (!taken)
				sieve_run_block(r, i + 1, nd->end);
			taken = true;
			break;
		default:
			sieve_run_command(r, i);
			break;
		}
		i = nd->end;
	}
	return r->failed ? -1 : 0;
}

int sieve_run(const struct sieve_script *script, const struct sieve_message *msg,
	      const struct sieve_env *env, const struct sieve_limits *lim,
	      struct sieve_result *result)
{
	struct sieve_run r;

	struct sieve_message empty;

	memset(result, 0, sizeof(*result));
	memset(&r, 0, sizeof(r));
	if (msg->data == NULL) {
		empty = *msg;
		empty.data = "";
		empty.size = 0;
		msg = &empty;
	}
	r.s = script;
	r.msg = msg;
	r.env = env;
	r.lim = lim;
	r.res = result;
	r.implicit_keep = true;
	r.work = lim->max_work;
	strbuf_init(&r.flags);
	for (unsigned int i = 0; i < SIEVE_MATCH_VARS; i++)
		strbuf_init(&r.mv.v[i]);
	sieve_run_block(&r, 0, script->node_count);
	sieve_result_finish(&r);
	for (unsigned int i = 0; i < SIEVE_MATCH_VARS; i++)
		strbuf_free(&r.mv.v[i]);
	for (unsigned int i = 0; i < r.var_count; i++)
		strbuf_free(&r.vars[i].value);
	free(r.vars);
	for (unsigned int i = 0; i < r.global_count; i++)
		free(r.globals[i]);
	free(r.globals);
	for (unsigned int i = 0; i < r.included_count; i++)
		free(r.included[i]);
	free(r.included);
	strbuf_free(&r.flags);
	sieve_msg_free(&r);
	return result->error ? -1 : 0;
}
