/* The Sieve step of local delivery (see smtp_sieve.h). */
#include "server/smtp_sieve.h"
#include "server/server.h"
#include "sieve/sieve.h"
#include "store/index.h"
#include "store/sieve_store.h"
#include "lib/fsutil.h"
#include "lib/log.h"
#include "lib/str.h"

#include <errno.h>
#include <stdarg.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define SIEVE_CACHE_MAX 256		/* compiled scripts kept */
#define SIEVE_VIEW_BODY_MAX (2 * 1024 * 1024)	/* octets of a message a script sees */
#define SIEVE_SCRIPT_READ_MAX (1024 * 1024)

/* One compiled script, shared by the workers while refs > 0. */
struct sieve_cached {
	struct sieve_cached *prev, *next;	/* most recently used first */
	char path[PATH_MAX];
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime;
	struct sieve_script *script;	/* NULL: it did not compile */
	char error[200];
	unsigned refs;
	bool dropped;		/* out of the list: freed by the last user */
};

static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
static struct sieve_cached *cache_head;
static unsigned cache_count;

static void cached_free(struct sieve_cached *c)
{
	sieve_script_free(c->script);
	free(c);
}

static void cache_unlink(struct sieve_cached *c)
{
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		cache_head = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	c->prev = c->next = NULL;
	cache_count--;
}

/* Takes c out of the cache; freed now or by its last user. */
static void cache_drop(struct sieve_cached *c)
{
	cache_unlink(c);
	c->dropped = true;
	if (c->refs == 0)
		cached_free(c);
}

static void cache_release(struct sieve_cached *c)
{
	pthread_mutex_lock(&cache_lock);
	if (--c->refs == 0 && c->dropped)
		cached_free(c);
	pthread_mutex_unlock(&cache_lock);
}

static bool same_file(const struct sieve_cached *c, const struct stat *st)
{
	return c->dev == st->st_dev && c->ino == st->st_ino && c->size == st->st_size &&
	       c->mtime.tv_sec == st->st_mtim.tv_sec && c->mtime.tv_nsec == st->st_mtim.tv_nsec;
}

/* The compiled script at path (its file's stat in st), from the cache or
 * compiled now; the caller releases it. NULL only when out of memory or
 * the file vanished. */
static struct sieve_cached *cache_get(const char *path, const struct stat *st)
{
	struct sieve_limits lim;
	struct sieve_cached *c, *n;
	struct sieve_error err;
	size_t len;
	char *text;

	pthread_mutex_lock(&cache_lock);
	for (c = cache_head; c != NULL; c = c->next) {
		if (strcmp(c->path, path) != 0)
			continue;
		if (!same_file(c, st)) {
			cache_drop(c);
			break;
		}
		if (c != cache_head) {	/* most recently used first */
			cache_unlink(c);
			c->next = cache_head;
			cache_head->prev = c;
			cache_head = c;
			cache_count++;
		}
		c->refs++;
		pthread_mutex_unlock(&cache_lock);
		return c;
	}
	pthread_mutex_unlock(&cache_lock);

	/* compiled outside the lock: another worker may do the same at once,
	 * the second insert wins and the first is dropped */
	if ((n = calloc(1, sizeof(*n))) == NULL)
		return NULL;
	text = fs_read_file(path, SIEVE_SCRIPT_READ_MAX, &len);
	if (text == NULL) {
		free(n);
		return NULL;
	}
	str_copy(n->path, sizeof(n->path), path);
	n->dev = st->st_dev;
	n->ino = st->st_ino;
	n->size = st->st_size;
	n->mtime = st->st_mtim;
	sieve_limits_default(&lim);
	lim.max_script = SIEVE_SCRIPT_READ_MAX;
	if (sieve_compile(text, len, &lim, &n->script, &err) < 0) {
		n->script = NULL;
		str_copy(n->error, sizeof(n->error), err.msg);
	}
	free(text);
	n->refs = 1;
	pthread_mutex_lock(&cache_lock);
	for (c = cache_head; c != NULL; c = c->next) {
		if (strcmp(c->path, path) == 0) {
			cache_drop(c);
			break;
		}
	}
	while (cache_count >= SIEVE_CACHE_MAX) {
		for (c = cache_head; c->next != NULL; c = c->next)
			;
		cache_drop(c);
	}
	n->next = cache_head;
	if (cache_head != NULL)
		cache_head->prev = n;
	cache_head = n;
	cache_count++;
	pthread_mutex_unlock(&cache_lock);
	return n;
}

void smtp_sieve_cache_clear(void)
{
	pthread_mutex_lock(&cache_lock);
	while (cache_head != NULL)
		cache_drop(cache_head);
	pthread_mutex_unlock(&cache_lock);
}

/* ---- what the script sees ---------------------------------------------- */

struct sieve_ctx {
	const char *maildir;
	char *include;		/* the last included script's text */
};

static bool env_mailbox_exists(void *ctx, const char *name)
{
	struct sieve_ctx *c = ctx;
	char path[PATH_MAX];
	const char *error;

	return mail_folder_path(c->maildir, name, false, path, sizeof(path), &error) == 1;
}

static bool env_duplicate_seen(void *ctx, const char *handle, const char *id, uint64_t seconds)
{
	struct sieve_ctx *c = ctx;

	return vacation_db_duplicate(c->maildir, handle, id, seconds, (int64_t)time(NULL), false) == 1;
}

static const char *env_include(void *ctx, const char *name, bool global, size_t *len_r)
{
	struct sieve_ctx *c = ctx;

	free(c->include);
	c->include = NULL;
	/* global: the server's scripts, DATA/sieve/NAME.sieve (ops_sieve_global.c) */
	if (sieve_store_get(global ? server->data_dir : c->maildir, name, SIEVE_SCRIPT_READ_MAX, &c->include,
			    len_r) != 1)
		return NULL;
	return c->include;
}

/* The copy as the recipient gets it: its trace fields, then the message
 * (at most SIEVE_VIEW_BODY_MAX octets of it). */
static char *sieve_view(const struct smtp_sieve_msg *m, size_t *len_r)
{
	size_t body = m->body_len < SIEVE_VIEW_BODY_MAX ? m->body_len : SIEVE_VIEW_BODY_MAX;
	char *v = malloc(m->prefix_len + body + 1);
	size_t got = 0;

	if (v == NULL)
		return NULL;
	memcpy(v, m->prefix, m->prefix_len);
	if (m->body != NULL) {
		memcpy(v + m->prefix_len, m->body, body);
		got = body;
	} else {
		while (got < body) {
			ssize_t n = pread(m->body_fd, v + m->prefix_len + got, body - got, (off_t)got);
			if (n <= 0) {
				if (n < 0 && errno == EINTR)
					continue;
				break;
			}
			got += (size_t)n;
		}
		if (got < body) {
			free(v);
			return NULL;
		}
	}
	v[m->prefix_len + got] = '\0';
	*len_r = m->prefix_len + got;
	return v;
}

/* The spam step's log-odds score on RFC 5235's scale: 1 (surely not spam)
 * to 10 (surely spam), the percent likewise; -1 when not tested. */
static void sieve_spam_values(const struct spam_verdict *v, int *score_r, int *percent_r)
{
	double x;

	if (v == NULL || !v->checked) {
		*score_r = *percent_r = -1;
		return;
	}
	x = (v->score + 4.0) / 10.0;	/* -4 -> 0, +6 -> 1 */
	x = x < 0.0 ? 0.0 : x > 1.0 ? 1.0 : x;
	*score_r = 1 + (int)lround(x * 9.0);
	*percent_r = (int)lround(x * 100.0);
}

/* imap4flags to Maildir letters, in ASCII order. */
static void sieve_flags(const char *flags, char *out, size_t size)
{
	static const struct { const char *name; char letter; } map[] = {
		{ "\\draft", 'D' }, { "\\flagged", 'F' }, { "\\answered", 'R' }, { "\\seen", 'S' }, { "\\deleted", 'T' },
	};
	size_t o = 0;

	out[0] = '\0';
	if (flags == NULL)
		return;
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]) && o + 1 < size; i++) {
		const char *p = flags;
		size_t n = strlen(map[i].name);

		while ((p = strcasestr(p, map[i].name)) != NULL) {
			if ((p == flags || p[-1] == ' ') && (p[n] == '\0' || p[n] == ' ')) {
				out[o++] = map[i].letter;
				break;
			}
			p += n;
		}
	}
	out[o] = '\0';
}

/* ---- the plan ---------------------------------------------------------- */

static void plan_note(struct sieve_plan *p, unsigned line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void plan_note(struct sieve_plan *p, unsigned line, const char *fmt, ...)
{
	size_t n = strlen(p->why);
	char one[300];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(one, sizeof(one), fmt, ap);
	va_end(ap);
	snprintf(p->why + n, sizeof(p->why) - n, "%s%s (line %u)", n > 0 ? "; " : "", one, line);
}

static void plan_redirect(struct sieve_plan *p, const char *to)
{
	size_t old = p->redirect != NULL ? strlen(p->redirect) : 0;
	char *r;

	if (p->redirect != NULL && strstr(p->redirect, to) != NULL)
		return;
	if ((r = realloc(p->redirect, old + strlen(to) + 3)) == NULL)
		return;
	snprintf(r + old, strlen(to) + 3, "%s%s", old > 0 ? ", " : "", to);
	p->redirect = r;
}

static void plan_copy(struct sieve_plan *p, const struct sieve_action *a)
{
	char flags[8];

	sieve_flags(a->flags, flags, sizeof(flags));
	for (unsigned i = 0; i < p->ncopies; i++) {
		if (strcmp(p->copies[i].name, a->arg) == 0)
			return;	/* one copy per folder (RFC 5228 4.1) */
	}
	if (p->ncopies == SIEVE_PLAN_COPIES || strlen(a->arg) >= sizeof(p->copies[0].name)) {
		plan_note(p, a->line, "fileinto \"%s\" skipped: too many folders or too long a name", a->arg);
		p->keep = true;
		return;
	}
	str_copy(p->copies[p->ncopies].name, sizeof(p->copies[0].name), a->arg);
	str_copy(p->copies[p->ncopies].flags, sizeof(p->copies[0].flags), flags);
	p->ncopies++;
	plan_note(p, a->line, "fileinto \"%s\"", a->arg);
}

static void plan_fill(struct sieve_plan *p, const struct sieve_result *res, bool spam, uint32_t exts,
		      const char *script)
{
	for (unsigned i = 0; i < res->count; i++) {
		const struct sieve_action *a = &res->actions[i];

		switch (a->kind) {
		case SIEVE_ACT_KEEP:
			p->keep = true;
			sieve_flags(a->flags, p->keep_flags, sizeof(p->keep_flags));
			if (!res->implicit_keep || i + 1 < res->count)
				plan_note(p, a->line, "keep");
			break;
		case SIEVE_ACT_FILEINTO:
			if (strcasecmp(a->arg, "INBOX") == 0 && !p->keep) {
				p->keep = true;
				sieve_flags(a->flags, p->keep_flags, sizeof(p->keep_flags));
				plan_note(p, a->line, "fileinto \"%s\"", a->arg);
			} else {
				plan_copy(p, a);
			}
			break;
		case SIEVE_ACT_REDIRECT:
			/* tagged spam goes on only when the script looked at the verdict */
			if (spam && (exts & (SIEVE_EXT_SPAMTEST | SIEVE_EXT_SPAMTESTPLUS)) == 0) {
				plan_note(p, a->line, "redirect to %s skipped: the message is spam and the script does not"
					  " test spamtest", a->arg);
				p->keep = p->keep || !a->copy;
				break;
			}
			plan_redirect(p, a->arg);
			plan_note(p, a->line, "redirect to %s", a->arg);
			break;
		case SIEVE_ACT_DISCARD:
			plan_note(p, a->line, "discard");
			break;
		case SIEVE_ACT_REJECT:
		case SIEVE_ACT_EREJECT:
			p->reject = true;
			p->ereject = a->kind == SIEVE_ACT_EREJECT;
			free(p->reason);
			p->reason = strdup(a->arg != NULL ? a->arg : "");
			plan_note(p, a->line, "%s: %s", sieve_action_name(a->kind), a->arg != NULL ? a->arg : "");
			break;
		case SIEVE_ACT_VACATION:
			smtp_vacation_free(p->vacation);
			p->vacation = smtp_vacation_from(&a->vacation, a->arg, a->line, script);
			plan_note(p, a->line, "vacation");
			break;
		}
	}
}

/* Whether a run decided nothing: only the implicit keep (and perhaps a
 * vacation), so the account's own script decides. */
static bool run_decided_nothing(const struct sieve_result *res)
{
	for (unsigned i = 0; i < res->count; i++) {
		const struct sieve_action *a = &res->actions[i];

		if (a->kind == SIEVE_ACT_VACATION)
			continue;
		if (a->kind == SIEVE_ACT_KEEP && res->implicit_keep && i + 1 == res->count &&
		    (a->flags == NULL || a->flags[0] == '\0'))
			continue;
		return false;
	}
	return true;
}

/* Runs the script at path (st its stat; name for the messages) on the
 * view into plan: 0, or -1 out of memory. *nothing_r: it decided nothing. */
static int run_script(const struct smtp_sieve_msg *m, const char *path, const struct stat *st, const char *name,
		      const char *view, size_t len, struct sieve_plan *plan, bool *nothing_r)
{
	struct sieve_ctx ctx = { .maildir = m->maildir };
	struct sieve_cached *c;
	struct sieve_message msg;
	struct sieve_result res;
	struct sieve_limits lim;
	struct sieve_env env;
	struct tm tm;
	time_t now;

	*nothing_r = true;
	if ((c = cache_get(path, st)) == NULL)
		return -1;
	plan->ran = true;
	if (c->script == NULL) {
		plan->error = plan->keep = true;
		snprintf(plan->why, sizeof(plan->why), "script \"%s\" does not compile (%s): kept in the inbox",
			 name, c->error);
		cache_release(c);
		return 0;
	}
	memset(&env, 0, sizeof(env));
	env.ctx = &ctx;
	env.mailbox_exists = env_mailbox_exists;
	env.include_text = env_include;
	env.duplicate_seen = env_duplicate_seen;
	now = time(NULL);
	localtime_r(&now, &tm);
	env.now = now;
	env.zone_minutes = (int)(tm.tm_gmtoff / 60);
	sieve_spam_values(m->spam, &env.spam_score, &env.spam_percent);
	env.virus_score = 0;
	memset(&msg, 0, sizeof(msg));
	msg.data = view;
	msg.size = len;
	msg.env_from = m->from;
	msg.env_to = m->address;
	sieve_limits_default(&lim);
	if (sieve_run(c->script, &msg, &env, &lim, &res) < 0 || res.error) {
		plan->error = true;
		plan->keep = true;
		snprintf(plan->why, sizeof(plan->why), "script \"%s\" failed at run time (%s): kept in the inbox",
			 name, res.err.msg);
	} else {
		plan_fill(plan, &res, m->spam != NULL && m->spam->spam, sieve_script_extensions(c->script), name);
		*nothing_r = run_decided_nothing(&res);
		/* the run succeeded: its duplicate ids are remembered (RFC 7352 3) */
		for (unsigned i = 0; i < res.dup_count; i++)
			(void)vacation_db_duplicate(m->maildir, res.dup_ids[i],
						    res.dup_ids[i] + strlen(res.dup_ids[i]) + 1, res.dup_seconds[i],
						    (int64_t)now, true);
	}
	sieve_result_free(&res);
	free(ctx.include);
	cache_release(c);
	return 0;
}

/* The panel's generated script (MAILDIR/sieve/panel): 1 when it decided
 * the message's fate (plan filled), 0 when the own script is to run
 * (*vacation_r: the panel's auto-reply, if any), -1 out of memory. */
static int run_panel(const struct smtp_sieve_msg *m, const char *view, size_t len, struct sieve_plan *plan,
		     struct smtp_vacation **vacation_r)
{
	char path[PATH_MAX];
	struct stat st;
	bool nothing;

	*vacation_r = NULL;
	if ((size_t)snprintf(path, sizeof(path), "%s/sieve/panel", m->maildir) >= sizeof(path) ||
	    stat(path, &st) < 0)
		return 0;
	if (run_script(m, path, &st, "panel", view, len, plan, &nothing) < 0)
		return -1;
	if (!nothing && !plan->error) {
		char why[sizeof(plan->why)];

		/* doctor finds the rule from the line (ops_doctor_filters.c) */
		snprintf(why, sizeof(why), "panel: %s", plan->why);
		memcpy(plan->why, why, sizeof(why));
		return 1;
	}
	*vacation_r = plan->vacation;
	plan->vacation = NULL;
	smtp_sieve_plan_free(plan);
	memset(plan, 0, sizeof(*plan));
	return 0;
}

int smtp_sieve_run(const struct smtp_sieve_msg *m, struct sieve_plan *plan)
{
	char active[SIEVE_STORE_NAME_MAX + 1], path[PATH_MAX];
	struct smtp_vacation *vacation = NULL;
	struct stat st;
	size_t len;
	char *view;
	bool nothing, own;
	int r;

	memset(plan, 0, sizeof(*plan));
	/* the script's file and its stat are the cache key */
	own = sieve_store_active(m->maildir, active, sizeof(active)) == 1 &&
	      sieve_store_path(m->maildir, active, path, sizeof(path)) == 0 && stat(path, &st) == 0;
	if (!own) {
		char panel[PATH_MAX];

		snprintf(panel, sizeof(panel), "%s/sieve/panel", m->maildir);
		if (access(panel, F_OK) < 0)
			return 0;	/* neither: no Sieve step */
	}
	if ((view = sieve_view(m, &len)) == NULL)
		return -1;
	r = run_panel(m, view, len, plan, &vacation);
	if (r == 0 && own)
		r = run_script(m, path, &st, active, view, len, plan, &nothing);
	if (r >= 0 && vacation != NULL) {
		if (plan->vacation == NULL) {	/* one vacation per message: the own script's wins */
			plan->vacation = vacation;
			plan->ran = true;
			vacation = NULL;
		}
	}
	smtp_vacation_free(vacation);
	free(view);
	return r < 0 ? -1 : 0;
}

void smtp_sieve_plan_free(struct sieve_plan *plan)
{
	free(plan->redirect);
	plan->redirect = NULL;
	free(plan->reason);
	plan->reason = NULL;
	smtp_vacation_free(plan->vacation);
	plan->vacation = NULL;
}
