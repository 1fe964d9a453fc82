/* Per-thread mappings of the spam models, checked against their files'
 * identity before each use (see spam_cache.h). */
#include "policy/spam_cache.h"

#include "lib/fsmap.h"
#include "lib/str.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#define SPAM_CACHE_MODEL_MAX ((size_t)1 << 30)

struct spam_cache_slot {
	char path[PATH_MAX];
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime;
	struct fs_map map;
	struct spam_model model;
	bool ok;		/* model is usable */
	unsigned long used;	/* for replacing the least recently used */
};

struct spam_cache {
	struct spam_cache_slot base;
	struct spam_cache_slot own[SPAM_CACHE_ACCOUNTS];
	unsigned long clock;
};

static __thread struct spam_cache *spam_cache_tls;
static __thread struct spam_cache spam_cache_mem;

static void spam_cache_slot_drop(struct spam_cache_slot *s)
{
	fs_map_free(&s->map);
	memset(s, 0, sizeof(*s));
}

/* Brings the slot to what path holds now: 1 usable, 0 no file (or a bad
 * one, logged by nobody: the caller scores without it). */
static int spam_cache_slot_load(struct spam_cache_slot *s, const char *path)
{
	struct stat st;
	const char *error;

	if (stat(path, &st) < 0) {
		spam_cache_slot_drop(s);
		return 0;
	}
	if (s->map.data != NULL && strcmp(s->path, path) == 0 && s->dev == st.st_dev &&
	    s->ino == st.st_ino && s->size == st.st_size && s->mtime.tv_sec == st.st_mtim.tv_sec &&
	    s->mtime.tv_nsec == st.st_mtim.tv_nsec)
		return s->ok;
	spam_cache_slot_drop(s);
	if (str_copy(s->path, sizeof(s->path), path) < 0 ||
	    fs_map_file(path, SPAM_CACHE_MODEL_MAX, &s->map) < 0)
		return 0;
	s->dev = st.st_dev;
	s->ino = st.st_ino;
	s->size = st.st_size;
	s->mtime = st.st_mtim;
	s->ok = spam_model_open(&s->model, s->map.data, s->map.size, &error) == 0;
	return s->ok;
}

int spam_cache_account_path(const char *data_dir, const char *address, char *buf, size_t size)
{
	char lower[320];
	int n;

	if (str_copy(lower, sizeof(lower), address) < 0 || strchr(lower, '/') != NULL ||
	    strchr(lower, '@') == NULL || lower[0] == '.')
		return -1;
	str_lower(lower);
	n = snprintf(buf, size, "%s/spam/account/%s.model", data_dir, lower);
	return n < 0 || (size_t)n >= size ? -1 : 0;
}

static struct spam_cache_slot *spam_cache_own(struct spam_cache *c, const char *path)
{
	struct spam_cache_slot *victim = &c->own[0];

	for (size_t i = 0; i < SPAM_CACHE_ACCOUNTS; i++) {
		if (c->own[i].path[0] != '\0' && strcmp(c->own[i].path, path) == 0)
			return &c->own[i];
		if (c->own[i].used < victim->used)
			victim = &c->own[i];
	}
	spam_cache_slot_drop(victim);
	return victim;
}

int spam_cache_get(const char *data_dir, const char *account, const struct spam_model **base_r,
		   const struct spam_model **own_r)
{
	struct spam_cache *c = spam_cache_tls;
	char path[PATH_MAX];

	*base_r = *own_r = NULL;
	if (c == NULL)
		c = spam_cache_tls = &spam_cache_mem;
	c->clock++;
	snprintf(path, sizeof(path), "%s/spam/global.model", data_dir);
	if (spam_cache_slot_load(&c->base, path) > 0)
		*base_r = &c->base.model;
	if (account != NULL && spam_cache_account_path(data_dir, account, path, sizeof(path)) == 0) {
		struct spam_cache_slot *s = spam_cache_own(c, path);

		s->used = c->clock;
		if (spam_cache_slot_load(s, path) > 0)
			*own_r = &s->model;
		else
			s->path[0] = '\0';
	}
	return 0;
}

void spam_cache_release(void)
{
	struct spam_cache *c = spam_cache_tls;

	if (c == NULL)
		return;
	spam_cache_slot_drop(&c->base);
	for (size_t i = 0; i < SPAM_CACHE_ACCOUNTS; i++)
		spam_cache_slot_drop(&c->own[i]);
	spam_cache_tls = NULL;
}
