/* Junk moves train the account's own spam model (see spam_learn.h). */
#include "server/spam_learn.h"
#include "server/server.h"
#include "policy/spam_cache.h"
#include "spam/spam_model.h"
#include "spam/spam_tag.h"
#include "spam/spam_token.h"
#include "lib/fsmap.h"
#include "lib/fsutil.h"
#include "lib/log.h"
#include "lib/str.h"
#include "lib/workers.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libpsl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define SPAM_LEARN_BYTES (512 * 1024)
#define SPAM_LEARN_BATCH_BYTES (16 * 1024 * 1024)	/* held for one command at most */
#define SPAM_LEARN_TOKENS 20000
#define SPAM_LEARN_BITS 16		/* as yubinctl's account models */
#define SPAM_LEARN_STEPS 8
#define SPAM_LEARN_MARGIN 1.0		/* past the default threshold */
#define SPAM_LEARN_MODEL_MAX ((size_t)1 << 28)

struct spam_learn_msg {
	char *data;
	size_t len;
};

struct spam_learn {
	char sid[12];
	char address[320];
	int direction;
	size_t n, bytes;
	struct spam_learn_msg msgs[SPAM_LEARN_MSGS];
};

/* one writer of any model at a time in this process */
static pthread_mutex_t spam_learn_lock = PTHREAD_MUTEX_INITIALIZER;

static bool spam_learn_is(const char *name, const char *use, const char *folder, const char *flag)
{
	return strcmp(name, folder) == 0 || (use != NULL && strcmp(use, flag) == 0);
}

int spam_learn_direction(const char *src, const char *src_use, const char *dst, const char *dst_use)
{
	bool from_junk = spam_learn_is(src, src_use, "Junk", "\\Junk");
	bool to_junk = spam_learn_is(dst, dst_use, "Junk", "\\Junk");

	if (to_junk && !from_junk)
		return 1;
	if (from_junk && !to_junk && !spam_learn_is(dst, dst_use, "Trash", "\\Trash"))
		return -1;
	return 0;
}

struct spam_learn *spam_learn_new(const char *sid, const char *address, int direction)
{
	struct spam_learn *l = calloc(1, sizeof(*l));

	if (l == NULL)
		return NULL;
	str_copy(l->sid, sizeof(l->sid), sid);
	str_copy(l->address, sizeof(l->address), address);
	l->direction = direction;
	return l;
}

void spam_learn_free(struct spam_learn *l)
{
	if (l == NULL)
		return;
	for (size_t i = 0; i < l->n; i++)
		free(l->msgs[i].data);
	free(l);
}

static ssize_t spam_learn_read(int fd, char *buf, size_t want)
{
	size_t got = 0;

	while (got < want) {
		ssize_t n = read(fd, buf + got, want - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return (ssize_t)got;
}

int spam_learn_add(struct spam_learn *l, const char *path)
{
	struct spam_learn_msg *m;
	struct stat st;
	size_t want;
	int fd;
	ssize_t got;

	if (l == NULL || l->n >= SPAM_LEARN_MSGS)
		return -1;
	m = &l->msgs[l->n];
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return -1;
	if (fstat(fd, &st) < 0 || st.st_size <= 0) {
		close(fd);
		return -1;
	}
	want = (size_t)st.st_size < SPAM_LEARN_BYTES ? (size_t)st.st_size : SPAM_LEARN_BYTES;
	if (l->bytes + want > SPAM_LEARN_BATCH_BYTES) {
		close(fd);
		return -1;
	}
	m->data = malloc(want);
	got = m->data != NULL ? spam_learn_read(fd, m->data, want) : -1;
	close(fd);
	if (got <= 0) {
		free(m->data);
		m->data = NULL;
		return -1;
	}
	m->len = (size_t)got;
	l->bytes += m->len;
	return (int)l->n++;
}

void spam_learn_drop(struct spam_learn *l, int i)
{
	if (l == NULL || i < 0 || (size_t)i >= l->n)
		return;
	free(l->msgs[i].data);
	l->msgs[i].data = NULL;
	l->msgs[i].len = 0;
}

/* ---- the record of learned messages: "HASH S|H" lines, oldest first */

struct spam_record {
	uint64_t *hash;
	char *label;
	size_t n, cap;
};

static uint64_t spam_learn_hash(const char *p, size_t len)
{
	uint64_t h = 1469598103934665603ULL;

	for (size_t i = 0; i < len; i++) {
		h ^= (unsigned char)p[i];
		h *= 1099511628211ULL;
	}
	return h;
}

static void spam_record_load(struct spam_record *r, const char *path)
{
	FILE *f = fopen(path, "r");
	char line[64];

	memset(r, 0, sizeof(*r));
	r->cap = SPAM_LEARN_RECORD_MAX + SPAM_LEARN_MSGS;
	r->hash = calloc(r->cap, sizeof(*r->hash));
	r->label = calloc(r->cap, 1);
	if (f == NULL || r->hash == NULL || r->label == NULL) {
		if (f != NULL)
			fclose(f);
		return;
	}
	while (fgets(line, sizeof(line), f) != NULL && r->n < SPAM_LEARN_RECORD_MAX) {
		uint64_t h;
		char c;

		if (sscanf(line, "%16" SCNx64 " %c", &h, &c) == 2 && (c == 'S' || c == 'H')) {
			r->hash[r->n] = h;
			r->label[r->n++] = c;
		}
	}
	fclose(f);
}

static ssize_t spam_record_find(const struct spam_record *r, uint64_t h)
{
	for (size_t i = r->n; i-- > 0;) {
		if (r->hash[i] == h)
			return (ssize_t)i;
	}
	return -1;
}

static void spam_record_remove(struct spam_record *r, size_t i)
{
	memmove(r->hash + i, r->hash + i + 1, (r->n - i - 1) * sizeof(*r->hash));
	memmove(r->label + i, r->label + i + 1, r->n - i - 1);
	r->n--;
}

static void spam_record_add(struct spam_record *r, uint64_t h, char label)
{
	if (r->hash == NULL || r->label == NULL)
		return;
	if (r->n == r->cap)
		spam_record_remove(r, 0);
	r->hash[r->n] = h;
	r->label[r->n++] = label;
}

static int spam_record_save(const struct spam_record *r, const char *path)
{
	size_t skip = r->n > SPAM_LEARN_RECORD_MAX ? r->n - SPAM_LEARN_RECORD_MAX : 0;
	char *buf = malloc((r->n - skip) * 20 + 1);
	size_t len = 0;
	int rc;

	if (buf == NULL)
		return -1;
	for (size_t i = skip; i < r->n; i++)
		len += (size_t)sprintf(buf + len, "%016" PRIx64 " %c\n", r->hash[i], r->label[i]);
	rc = fs_write_file_atomic(path, buf, len, 0600);
	free(buf);
	return rc;
}

static void spam_record_free(struct spam_record *r)
{
	free(r->hash);
	free(r->label);
}

/* ---- training */

struct spam_learn_ctx {
	struct spam_model own;
	const struct spam_model *base;
	struct spam_token_limits lim;
	struct spam_tokens t;
	unsigned learned, unlearned, skipped;
};

/* The message's features, without the filter's own marks (X-Spam fields,
 * the Subject tag): the daemon scored it without them. */
static void spam_learn_tokenize(struct spam_learn_ctx *c, const char *msg, size_t len)
{
	struct spam_edit e[16];
	bool subject;
	size_t n = spam_tag_edits(msg, len, SPAM_TAG_REMOVE, e, 16, &subject);
	char *clean;

	spam_tokens_reset(&c->t);
	if (n == 0 || n > 16 || (clean = malloc(len + 1)) == NULL) {
		spam_tokenize(msg, len, &c->lim, &c->t);
		return;
	}
	spam_tokenize(clean, spam_tag_apply(msg, len, e, n, clean), &c->lim, &c->t);
	free(clean);
}

/* Steps towards label until the model agrees with a margin (at least one). */
static void spam_learn_towards(struct spam_learn_ctx *c, bool spam)
{
	double want = spam_level_threshold(SPAM_LEVEL_DEFAULT) + (spam ? SPAM_LEARN_MARGIN : -SPAM_LEARN_MARGIN);

	for (int i = 0; i < SPAM_LEARN_STEPS; i++) {
		double s = spam_model_train(&c->own, c->base, &c->t, spam, 1.0f);

		if (i > 0 && (spam ? s > want : s < want))
			break;
	}
}

static void spam_learn_one(struct spam_learn_ctx *c, struct spam_record *rec, const struct spam_learn_msg *m,
			   int direction)
{
	uint64_t h = spam_learn_hash(m->data, m->len);
	ssize_t at = spam_record_find(rec, h);
	char want = direction > 0 ? 'S' : 'H';

	if (at >= 0 && rec->label[at] == want) {
		c->skipped++;
		return;
	}
	spam_learn_tokenize(c, m->data, m->len);
	if (at >= 0) {
		bool was_spam = rec->label[at] == 'S';

		spam_model_untrain(&c->own, c->base, &c->t, was_spam, 0.1);
		spam_model_count(&c->own, was_spam, -1);
		spam_record_remove(rec, (size_t)at);
		c->unlearned++;
		return;
	}
	spam_learn_towards(c, direction > 0);
	spam_model_count(&c->own, direction > 0, 1);
	spam_record_add(rec, h, want);
	c->learned++;
}

/* The account's model as it is now, writable; a new one when it has none. */
static int spam_learn_load_own(struct spam_learn_ctx *c, const char *path)
{
	struct fs_map map;
	struct spam_model m;
	const char *error;
	int rc;

	if (fs_map_file(path, SPAM_LEARN_MODEL_MAX, &map) < 0) {
		if (errno != ENOENT)
			return -1;
		return spam_model_new(&c->own, SPAM_LEARN_BITS, c->base != NULL ? c->base->hdr->osb_window : 1,
				      c->base != NULL ? c->base->hdr->flags & (SPAM_MODEL_NORM | SPAM_MODEL_PORTABLE)
						      : SPAM_MODEL_NORM);
	}
	rc = spam_model_open(&m, map.data, map.size, &error) == 0 ? spam_model_copy(&c->own, &m) : -1;
	fs_map_free(&map);
	return rc;
}

static int spam_learn_train(struct spam_learn *l, const char *model, const char *record,
			    struct spam_learn_ctx *c)
{
	const struct spam_model *own_now;
	struct spam_record rec;
	const void *data;
	size_t size;
	int rc = -1;

	spam_cache_get(server->data_dir, NULL, &c->base, &own_now);
	if (spam_learn_load_own(c, model) < 0)
		return -1;
	c->lim = (struct spam_token_limits){ .max_bytes = SPAM_LEARN_BYTES, .max_tokens = SPAM_LEARN_TOKENS,
					     .osb_window = c->own.hdr->osb_window, .psl = psl_builtin(),
					     .portable = (c->own.hdr->flags & SPAM_MODEL_PORTABLE) != 0 };
	spam_tokens_init(&c->t, &c->lim, false);
	spam_record_load(&rec, record);
	for (size_t i = 0; i < l->n; i++) {
		if (l->msgs[i].data != NULL)
			spam_learn_one(c, &rec, &l->msgs[i], l->direction);
	}
	if (c->learned + c->unlearned == 0) {
		rc = 0;
	} else {
		spam_model_seal(&c->own, (int64_t)time(NULL), &data, &size);
		rc = fs_write_file_atomic(model, data, size, 0600) < 0 || spam_record_save(&rec, record) < 0 ? -1 : 0;
	}
	spam_record_free(&rec);
	spam_tokens_free(&c->t);
	spam_model_free(&c->own);
	return rc;
}

static void spam_learn_run(void *ctx)
{
	struct spam_learn *l = ctx;
	struct spam_learn_ctx c;
	char model[PATH_MAX], record[PATH_MAX + 16], lockpath[PATH_MAX + 16], dir[PATH_MAX + 16];
	char detail[256];
	int lockfd, rc;

	memset(&c, 0, sizeof(c));
	if (spam_cache_account_path(server->data_dir, l->address, model, sizeof(model)) < 0)
		goto out;
	snprintf(record, sizeof(record), "%.*s.learned", (int)(strlen(model) - 6), model);
	snprintf(lockpath, sizeof(lockpath), "%s.lock", model);
	snprintf(dir, sizeof(dir), "%s/spam/account", server->data_dir);
	if (fs_mkdir_p(dir, 0700) < 0) {
		log_error(l->sid, "spam: cannot create %s: %s", dir, strerror(errno));
		goto out;
	}
	pthread_mutex_lock(&spam_learn_lock);
	lockfd = open(lockpath, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (lockfd >= 0)
		flock(lockfd, LOCK_EX);
	rc = spam_learn_train(l, model, record, &c);
	if (lockfd >= 0)
		close(lockfd);	/* releases the flock */
	pthread_mutex_unlock(&spam_learn_lock);
	if (rc < 0) {
		log_error(l->sid, "spam: cannot train the model of %s: %s", l->address, strerror(errno));
		goto out;
	}
	snprintf(detail, sizeof(detail), "moved %s Junk: %u learned as %s, %u unlearned, %u already known",
		 l->direction > 0 ? "into" : "out of", c.learned, l->direction > 0 ? "spam" : "ham",
		 c.unlearned, c.skipped);
	log_info(l->sid, "spam: %s: %s", l->address, detail);
	server_event("spam-learned", l->address, "", detail);
out:
	spam_learn_free(l);
}

void spam_learn_submit(struct spam_learn *l)
{
	size_t held = 0;

	for (size_t i = 0; l != NULL && i < l->n; i++)
		held += l->msgs[i].data != NULL;
	if (held == 0) {
		spam_learn_free(l);
		return;
	}
	worker_pool_submit(server->workers, NULL, spam_learn_run, NULL, l);
}
