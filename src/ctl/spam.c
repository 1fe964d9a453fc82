/* yubinctl spam score|train|stats: the spam classifier from the command
 * line. Models live under DATA/spam/: global.model (server-wide) and
 * account/ADDRESS.model (a user's corrections on top of it). */
#include "ctl/ctl.h"
#include "lib/fsmap.h"
#include "lib/fsutil.h"
#include "lib/str.h"
#include "spam/spam_model.h"
#include "spam/spam_rules.h"
#include "spam/spam_tag.h"
#include "spam/spam_token.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libpsl.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define SPAM_BITS 20
#define SPAM_OSB 1
#define SPAM_MAX_BYTES (512 * 1024)
#define SPAM_MAX_TOKENS 20000
#define SPAM_MODEL_MAX ((size_t)1 << 30)
/* Tuned on the spam-bench split (see bench/README.md): AdaGrad steps of
 * 1.0, 8 passes, word pairs of neighbours only, 2^20 weights. */
#define SPAM_EPOCHS 8
#define SPAM_RATE 1.0f
#define SPAM_ACCOUNT_BITS 16	/* a user's corrections are few features */
/* The default level's threshold on the log-odds (P(spam) 0.88): no ham of
 * the benchmark's test half above it (spam/spam_tag.c has every level's). */
#define SPAM_THRESHOLD spam_level_threshold(SPAM_LEVEL_DEFAULT)
#define SPAM_EXPLAIN 15

struct spam_ctl {
	struct spam_token_limits limits;
	struct fs_map base_map, own_map;
	struct spam_model base, own;	/* base always set (maybe empty) */
	bool has_own;
	char base_path[PATH_MAX], own_path[PATH_MAX];
	char *buf;			/* message read buffer */
};

/* Reads at most SPAM_MAX_BYTES of a message (the tokenizer looks at no
 * more); *len_r is what was read. */
static int spam_read_message(struct spam_ctl *s, const char *path, size_t *len_r)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t got = 0;

	if (fd < 0)
		return -1;
	while (got < SPAM_MAX_BYTES) {
		ssize_t n = read(fd, s->buf + got, SPAM_MAX_BYTES - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			close(fd);
			return -1;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	*len_r = got;
	return 0;
}

static int spam_account_path(struct ctl *c, const char *account, char *buf, size_t size)
{
	char rel[400], lower[320];

	if (str_copy(lower, sizeof(lower), account) < 0 || strchr(lower, '/') != NULL ||
	    strchr(lower, '@') == NULL || lower[0] == '.')
		return ctl_fail("'%s' is not an account address", account);
	str_lower(lower);
	snprintf(rel, sizeof(rel), "spam/account/%s.model", lower);
	return ctl_path(c, buf, size, rel) < 0 ? 1 : 0;
}

/* Maps and checks one model file; missing is not an error (*found_r false). */
static int spam_model_load(const char *path, struct fs_map *map, struct spam_model *m,
			   bool *found_r)
{
	const char *error;

	*found_r = false;
	if (fs_map_file(path, SPAM_MODEL_MAX, map) < 0) {
		if (errno == ENOENT)
			return 0;
		return ctl_fail("cannot read the model %s: %s", path, strerror(errno));
	}
	if (spam_model_open(m, map->data, map->size, &error) < 0) {
		fs_map_free(map);
		return ctl_fail("%s: %s", path, error);
	}
	*found_r = true;
	return 0;
}

static int spam_ctl_open(struct ctl *c, struct spam_ctl *s, bool need_own)
{
	bool found;

	memset(s, 0, sizeof(*s));
	s->limits.max_bytes = SPAM_MAX_BYTES;
	s->limits.max_tokens = SPAM_MAX_TOKENS;
	s->limits.osb_window = SPAM_OSB;
	s->limits.psl = psl_builtin();
	s->buf = malloc(SPAM_MAX_BYTES);
	if (s->buf == NULL)
		return ctl_fail("out of memory");
	if (ctl_path(c, s->base_path, sizeof(s->base_path), "spam/global.model") < 0)
		return 1;
	if (spam_model_load(s->base_path, &s->base_map, &s->base, &found) != 0)
		return 1;
	if (!found && spam_model_new(&s->base, SPAM_BITS, SPAM_OSB,
				     SPAM_MODEL_NORM | (c->portable ? SPAM_MODEL_PORTABLE : 0)) < 0)
		return ctl_fail("out of memory");
	if (found && c->portable && (s->base.hdr->flags & SPAM_MODEL_PORTABLE) == 0)
		return ctl_fail("%s was trained on all header fields: --portable needs a new model",
				s->base_path);
	/* the tokenizer as the model was trained */
	s->limits.osb_window = s->base.hdr->osb_window;
	s->limits.portable = (s->base.hdr->flags & SPAM_MODEL_PORTABLE) != 0;
	if (need_own) {
		if (spam_account_path(c, c->account, s->own_path, sizeof(s->own_path)) != 0)
			return 1;
		if (spam_model_load(s->own_path, &s->own_map, &s->own, &found) != 0)
			return 1;
		s->has_own = found;
	}
	return 0;
}

static void spam_ctl_close(struct spam_ctl *s)
{
	if (s->base_map.data == NULL)
		spam_model_free(&s->base);
	if (s->own_map.data == NULL)
		spam_model_free(&s->own);
	fs_map_free(&s->base_map);
	fs_map_free(&s->own_map);
	free(s->buf);
}

static void spam_explain_print(const struct spam_ctl *s, const struct spam_tokens *t)
{
	struct spam_contrib top[SPAM_EXPLAIN];
	size_t n = spam_model_explain(&s->base, s->has_own ? &s->own : NULL, t, top, SPAM_EXPLAIN);

	printf("features: %zu%s\n", t->count, t->truncated ? " (limit reached)" : "");
	printf("top features (+ spammy, - hammy):\n");
	for (size_t i = 0; i < n; i++)
		printf("  %+8.4f  %s\n", top[i].weight, spam_tokens_text(t, top[i].index));
}

/* The score of a message: the classifier's log-odds plus the rules (the
 * check results read from its Authentication-Results field). */
static double spam_score_message(struct spam_ctl *s, struct spam_tokens *t, const char *msg,
				 size_t len, struct spam_rule_hit *hits, size_t *nhits_r)
{
	struct spam_rule_hit local[SPAM_RULES_MAX];
	struct spam_auth auth;
	bool has_auth = spam_auth_from_message(msg, len, &auth);
	double rules;
	size_t n;

	spam_tokenize(msg, len, &s->limits, t);
	n = spam_rules_eval(msg, len, has_auth ? &auth : NULL, hits != NULL ? hits : local, &rules);
	if (nhits_r != NULL)
		*nhits_r = n;
	return spam_model_score(&s->base, s->has_own ? &s->own : NULL, t) + rules;
}

/* One line per message: "PATH SCORE S|H" (several files or --list). */
static int spam_score_line(struct spam_ctl *s, struct spam_tokens *t, const char *path)
{
	size_t len;
	double score;

	if (spam_read_message(s, path, &len) < 0) {
		ctl_warn("cannot read %s: %s", path, strerror(errno));
		return 1;
	}
	score = spam_score_message(s, t, s->buf, len, NULL, NULL);
	printf("%s %.6f %c\n", path, score, score > SPAM_THRESHOLD ? 'S' : 'H');
	return 0;
}

static int spam_score_list(struct spam_ctl *s, struct spam_tokens *t, const char *list)
{
	FILE *f = strcmp(list, "-") == 0 ? stdin : fopen(list, "r");
	char line[PATH_MAX + 2];
	int status = 0;

	if (f == NULL)
		return ctl_fail("cannot open %s: %s", list, strerror(errno));
	while (fgets(line, sizeof(line), f) != NULL) {
		line[strcspn(line, "\r\n")] = '\0';
		if (line[0] != '\0')
			status |= spam_score_line(s, t, line);
	}
	if (f != stdin)
		fclose(f);
	return status;
}

/* Which spam-level settings would tag a message of this score. */
static void spam_levels_print(double score)
{
	unsigned first = 0;

	for (unsigned l = SPAM_LEVEL_MIN; l <= SPAM_LEVEL_MAX && first == 0; l++) {
		if (score > spam_level_threshold(l))
			first = l;
	}
	if (first == 0)
		printf("tagged at %s: none (1-%u)\n", settings_key(SETTING_SPAM_LEVEL), SPAM_LEVEL_MAX);
	else if (first == SPAM_LEVEL_MAX)
		printf("tagged at %s: %u only\n", settings_key(SETTING_SPAM_LEVEL), first);
	else
		printf("tagged at %s: %u to %u\n", settings_key(SETTING_SPAM_LEVEL), first, SPAM_LEVEL_MAX);
}

int cmd_spam_score(struct ctl *c)
{
	struct spam_ctl s;
	struct spam_tokens t;
	int status;

	if (c->argc == 0 && c->list == NULL)
		return ctl_fail("`spam score` needs a FILE or --list FILE");
	if (spam_ctl_open(c, &s, c->account != NULL) != 0) {
		spam_ctl_close(&s);
		return 1;
	}
	spam_tokens_init(&t, &s.limits, c->argc == 1 && c->list == NULL);
	if (c->argc == 1 && c->list == NULL) {
		struct spam_rule_hit hits[SPAM_RULES_MAX];
		size_t len, nhits;
		double score;

		if (spam_read_message(&s, c->argv[0], &len) < 0) {
			status = ctl_fail("cannot read %s: %s", c->argv[0], strerror(errno));
			goto out;
		}
		score = spam_score_message(&s, &t, s.buf, len, hits, &nhits);
		printf("score: %.4f (P(spam) %.4f)\n", score, spam_model_probability(score));
		printf("verdict: %s (threshold %.2f, %s %u)\n", score > SPAM_THRESHOLD ? "spam" : "ham",
		       SPAM_THRESHOLD, settings_key(SETTING_SPAM_LEVEL), SPAM_LEVEL_DEFAULT);
		spam_levels_print(score);
		printf("model: %s%s, %llu ham, %llu spam trained%s\n", s.base_path,
		       s.base_map.data == NULL ? " (missing: empty)" : "",
		       (unsigned long long)s.base.hdr->ham, (unsigned long long)s.base.hdr->spam,
		       s.has_own ? " (+ the account's own model)" : "");
		printf("rules:%s\n", nhits == 0 ? " none fired" : "");
		for (size_t i = 0; i < nhits; i++)
			printf("  %+8.4f  %s\n", hits[i].score, hits[i].name);
		spam_explain_print(&s, &t);
		status = 0;
		goto out;
	}
	status = 0;
	for (int i = 0; i < c->argc; i++)
		status |= spam_score_line(&s, &t, c->argv[i]);
	if (c->list != NULL)
		status |= spam_score_list(&s, &t, c->list);
out:
	spam_tokens_free(&t);
	spam_ctl_close(&s);
	return status;
}

int cmd_spam_stats(struct ctl *c)
{
	struct spam_ctl s;
	const struct spam_model *m;
	char when[64];

	if (spam_ctl_open(c, &s, c->account != NULL) != 0) {
		spam_ctl_close(&s);
		return 1;
	}
	m = c->account != NULL ? &s.own : &s.base;
	if ((c->account != NULL && !s.has_own) || (c->account == NULL && s.base_map.data == NULL)) {
		printf("model: %s (none yet: train with yubinctl spam train)\n",
		       c->account != NULL ? s.own_path : s.base_path);
		spam_ctl_close(&s);
		return 0;
	}
	ctl_time_text(m->hdr->updated, when, sizeof(when));
	printf("model: %s\n", c->account != NULL ? s.own_path : s.base_path);
	printf("trained: %llu ham, %llu spam\n", (unsigned long long)m->hdr->ham,
	       (unsigned long long)m->hdr->spam);
	printf("updated: %s\n", when);
	printf("size: %zu bytes (2^%u weights, %zu in use)\n", m->size, (unsigned)m->hdr->bits,
	       spam_model_used(m));
	printf("features: words and word pairs up to %u apart, headers, URLs, structure\n",
	       (unsigned)m->hdr->osb_window);
	spam_ctl_close(&s);
	return 0;
}

/* Training: every message is tokenized once into this set, then the
 * learner makes a few shuffled passes over it. */
struct spam_train_set {
	uint32_t *feats;
	size_t nfeats, cap;
	struct spam_train_msg {
		size_t off;
		uint32_t n;
		bool spam;
	} *msgs;
	size_t nmsgs, msgs_cap;
	size_t ham, spam, unreadable;
};

static void spam_train_add(struct spam_train_set *ts, const struct spam_tokens *t, bool spam)
{
	if (ts->nfeats + t->count > ts->cap) {
		ts->cap = (ts->cap + t->count) * 2;
		ts->feats = realloc(ts->feats, ts->cap * sizeof(*ts->feats));
	}
	if (ts->nmsgs == ts->msgs_cap) {
		ts->msgs_cap = ts->msgs_cap * 2 + 64;
		ts->msgs = realloc(ts->msgs, ts->msgs_cap * sizeof(*ts->msgs));
	}
	if (ts->feats == NULL || ts->msgs == NULL)
		abort();
	memcpy(ts->feats + ts->nfeats, t->hash, t->count * sizeof(*t->hash));
	ts->msgs[ts->nmsgs].off = ts->nfeats;
	ts->msgs[ts->nmsgs].n = (uint32_t)t->count;
	ts->msgs[ts->nmsgs].spam = spam;
	ts->nmsgs++;
	ts->nfeats += t->count;
	if (spam)
		ts->spam++;
	else
		ts->ham++;
}

static void spam_train_data(struct spam_ctl *s, struct spam_train_set *ts, struct spam_tokens *t,
			    const char *data, size_t len, bool spam)
{
	spam_tokenize(data, len, &s->limits, t);
	spam_train_add(ts, t, spam);
}

static void spam_train_file(struct spam_ctl *s, struct spam_train_set *ts, struct spam_tokens *t,
			    const char *path, bool spam)
{
	size_t len;

	if (spam_read_message(s, path, &len) < 0) {
		ctl_warn("cannot read %s: %s", path, strerror(errno));
		ts->unreadable++;
		return;
	}
	spam_train_data(s, ts, t, s->buf, len, spam);
}

/* The regular files of one directory (not recursive, no dot files). */
static int spam_train_dir(struct spam_ctl *s, struct spam_train_set *ts, struct spam_tokens *t,
			  const char *dir, bool spam)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char path[PATH_MAX];
	struct stat st;

	if (d == NULL)
		return ctl_fail("cannot open %s: %s", dir, strerror(errno));
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if (snprintf(path, sizeof(path), "%s/%s", dir, de->d_name) >= (int)sizeof(path) ||
		    stat(path, &st) < 0 || !S_ISREG(st.st_mode))
			continue;
		spam_train_file(s, ts, t, path, spam);
	}
	closedir(d);
	return 0;
}

/* An mbox: messages start at lines "From "; ">From " lines are left as
 * they are (a word more or less). */
static void spam_train_mbox(struct spam_ctl *s, struct spam_train_set *ts, struct spam_tokens *t,
			    const char *data, size_t size, bool spam)
{
	size_t start = 0;

	while (start < size) {
		const char *nl = memchr(data + start, '\n', size - start);
		size_t body = nl != NULL ? (size_t)(nl - data) + 1 : size, end = body;

		/* the next "\nFrom " ends this message */
		while (end < size) {
			const char *p = memmem(data + end, size - end, "\nFrom ", 6);

			end = p != NULL ? (size_t)(p - data) + 1 : size;
			break;
		}
		spam_train_data(s, ts, t, data + body, end - body, spam);
		start = end;
	}
}

/* A file that starts with a header field, not with the path of a file,
 * is one message. */
static bool spam_is_one_message(const char *data, size_t size)
{
	const char *nl = memchr(data, '\n', size), *colon;
	size_t n = nl != NULL ? (size_t)(nl - data) : size;
	char first[PATH_MAX];
	struct stat st;

	colon = memchr(data, ':', n);
	if (colon == NULL || colon == data || memchr(data, ' ', (size_t)(colon - data)) != NULL)
		return false;
	while (n > 0 && data[n - 1] == '\r')
		n--;
	if (n >= sizeof(first))
		return true;
	memcpy(first, data, n);
	first[n] = '\0';
	return stat(first, &st) < 0;
}

/* SRC: a Maildir (cur/ and new/), a directory of message files, an mbox,
 * one message, or a file listing message paths one per line. */
static int spam_train_source(struct spam_ctl *s, struct spam_train_set *ts, struct spam_tokens *t,
			     const char *src, bool spam)
{
	struct stat st;
	struct fs_map map;
	char sub[PATH_MAX];
	int status = 0;

	if (stat(src, &st) < 0)
		return ctl_fail("cannot open %s: %s", src, strerror(errno));
	if (S_ISDIR(st.st_mode)) {
		snprintf(sub, sizeof(sub), "%s/cur", src);
		if (stat(sub, &st) == 0 && S_ISDIR(st.st_mode)) {
			status |= spam_train_dir(s, ts, t, sub, spam);
			snprintf(sub, sizeof(sub), "%s/new", src);
			return status | spam_train_dir(s, ts, t, sub, spam);
		}
		return spam_train_dir(s, ts, t, src, spam);
	}
	if (fs_map_file(src, SIZE_MAX, &map) < 0)
		return ctl_fail("cannot read %s: %s", src, strerror(errno));
	if (map.size >= 5 && memcmp(map.data, "From ", 5) == 0) {
		spam_train_mbox(s, ts, t, map.data, map.size, spam);
	} else if (spam_is_one_message(map.data, map.size)) {
		spam_train_data(s, ts, t, map.data, map.size, spam);
	} else {
		const char *p = map.data, *end = p + map.size;

		while (p < end) {
			const char *nl = memchr(p, '\n', (size_t)(end - p));
			size_t n = nl != NULL ? (size_t)(nl - p) : (size_t)(end - p);

			while (n > 0 && p[n - 1] == '\r')
				n--;
			if (n > 0 && n < sizeof(sub)) {
				memcpy(sub, p, n);
				sub[n] = '\0';
				spam_train_file(s, ts, t, sub, spam);
			}
			p += n;
			while (p < end && (*p == '\r' || *p == '\n'))
				p++;
		}
	}
	fs_map_free(&map);
	return status;
}

/* Shuffled passes over the set (a fixed seed: the same input trains the
 * same model). */
static void spam_train_passes(struct spam_model *m, const struct spam_model *base,
			      const struct spam_train_set *ts)
{
	size_t *order = malloc((ts->nmsgs + 1) * sizeof(*order));
	uint64_t rng = 0x2545f4914f6cdd1dull;
	struct spam_tokens view;

	if (order == NULL)
		abort();
	memset(&view, 0, sizeof(view));
	for (size_t i = 0; i < ts->nmsgs; i++)
		order[i] = i;
	for (int e = 0; e < SPAM_EPOCHS; e++) {
		for (size_t i = ts->nmsgs; i > 1; i--) {
			size_t j;

			rng ^= rng << 13;
			rng ^= rng >> 7;
			rng ^= rng << 17;
			j = (size_t)(rng % i);
			size_t tmp = order[i - 1];
			order[i - 1] = order[j];
			order[j] = tmp;
		}
		for (size_t i = 0; i < ts->nmsgs; i++) {
			const struct spam_train_msg *msg = &ts->msgs[order[i]];

			view.hash = ts->feats + msg->off;
			view.count = msg->n;
			spam_model_train(m, base, &view, msg->spam, SPAM_RATE / (float)(1 + e));
		}
	}
	free(order);
}

static int spam_train_save(struct spam_model *m, const char *path)
{
	char dir[PATH_MAX], *slash;
	const void *data;
	size_t size;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash != NULL) {
		*slash = '\0';
		if (fs_mkdir_p(dir, 0700) < 0)
			return ctl_fail("cannot create %s: %s", dir, strerror(errno));
	}
	spam_model_seal(m, (int64_t)time(NULL), &data, &size);
	if (fs_write_file_atomic(path, data, size, 0600) < 0)
		return ctl_fail("cannot write %s: %s", path, strerror(errno));
	return 0;
}

/* Takes the lock the daemon's Junk learning takes on an account's model
 * (ADDRESS.model.lock): the descriptor, -1 when there is no lock to take,
 * -2 after a message. */
static int spam_train_lock(struct ctl *c)
{
	char path[PATH_MAX], lock[PATH_MAX + 8], *slash;
	int fd;

	if (spam_account_path(c, c->account, path, sizeof(path)) != 0)
		return -2;
	snprintf(lock, sizeof(lock), "%s.lock", path);
	slash = strrchr(path, '/');
	if (slash != NULL)
		*slash = '\0';
	if (fs_mkdir_p(path, 0700) < 0)
		return -1;
	fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd >= 0 && flock(fd, LOCK_EX) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

int cmd_spam_train(struct ctl *c)
{
	struct spam_ctl s;
	struct spam_train_set ts;
	struct spam_tokens t;
	struct spam_model m;
	bool own = c->account != NULL;
	int status = 0, lockfd = -1;

	if (c->ham == NULL && c->spam == NULL)
		return ctl_fail("`spam train` needs --ham SRC and/or --spam SRC");
	/* the daemon learns from Junk moves into the same file: one writer */
	if (own && (lockfd = spam_train_lock(c)) == -2)
		return 1;
	if (spam_ctl_open(c, &s, own) != 0) {
		spam_ctl_close(&s);
		if (lockfd >= 0)
			close(lockfd);
		return 1;
	}
	memset(&ts, 0, sizeof(ts));
	memset(&m, 0, sizeof(m));
	spam_tokens_init(&t, &s.limits, false);
	if (c->ham != NULL)
		status |= spam_train_source(&s, &ts, &t, c->ham, false);
	if (c->spam != NULL && status == 0)
		status |= spam_train_source(&s, &ts, &t, c->spam, true);
	if (status != 0)
		goto out;
	if (own ? (s.has_own ? spam_model_copy(&m, &s.own) : spam_model_new(&m, SPAM_ACCOUNT_BITS, SPAM_OSB, SPAM_MODEL_NORM))
		: spam_model_copy(&m, &s.base)) {
		status = ctl_fail("out of memory");
		goto out;
	}
	spam_train_passes(&m, own ? &s.base : NULL, &ts);
	spam_model_count(&m, false, (int)ts.ham);
	spam_model_count(&m, true, (int)ts.spam);
	status = spam_train_save(&m, own ? s.own_path : s.base_path);
	if (status == 0)
		printf("trained %zu ham and %zu spam messages%s into %s\n", ts.ham, ts.spam,
		       ts.unreadable > 0 ? " (some unreadable: see the warnings)" : "",
		       own ? s.own_path : s.base_path);
out:
	spam_model_free(&m);
	spam_tokens_free(&t);
	free(ts.feats);
	free(ts.msgs);
	spam_ctl_close(&s);
	if (lockfd >= 0)
		close(lockfd);	/* releases the flock */
	return status;
}
