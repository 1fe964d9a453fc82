/* The bounded set-associative key cache (keycache.h). */
#include "lib/keycache.h"

#include <stdlib.h>
#include <string.h>

struct keycache_entry {
	unsigned char key[32];
	int64_t expires;	/* 0: empty */
	uint64_t used;		/* the cache's use count when last stored or hit */
};

_Static_assert(sizeof(struct keycache_entry) == KEYCACHE_ENTRY_SIZE, "entry size");

struct keycache {
	struct keycache_entry *e;
	size_t nsets;		/* a power of two */
	uint64_t uses;
};

struct keycache *keycache_new(size_t entries)
{
	struct keycache *c = calloc(1, sizeof(*c));
	size_t sets = 1;

	if (c == NULL)
		return NULL;
	while (sets * KEYCACHE_WAYS < entries && sets < ((size_t)1 << 40))
		sets <<= 1;
	c->nsets = sets;
	c->e = calloc(sets * KEYCACHE_WAYS, sizeof(*c->e));
	if (c->e == NULL) {
		free(c);
		return NULL;
	}
	return c;
}

void keycache_free(struct keycache *c)
{
	if (c == NULL)
		return;
	explicit_bzero(c->e, c->nsets * KEYCACHE_WAYS * sizeof(*c->e));
	free(c->e);
	free(c);
}

size_t keycache_capacity(const struct keycache *c)
{
	return c->nsets * KEYCACHE_WAYS;
}

/* The key's two candidate sets (two choices: a key goes to the one with
 * room, which keeps every set's load near the mean). The key is a digest:
 * its bytes are as good as any hash. */
static void keycache_sets(struct keycache *c, const unsigned char key[32], struct keycache_entry *set_r[2])
{
	for (int s = 0; s < 2; s++) {
		uint64_t h = 0;

		for (int i = 0; i < 8; i++)
			h = h << 8 | key[s * 8 + i];
		set_r[s] = &c->e[(h & (c->nsets - 1)) * KEYCACHE_WAYS];
	}
}

/* Compares in constant time (the keys are secrets' digests). */
static bool keycache_equal(const unsigned char *a, const unsigned char *b)
{
	unsigned char d = 0;

	for (int i = 0; i < 32; i++)
		d |= a[i] ^ b[i];
	return d == 0;
}

static struct keycache_entry *keycache_find(struct keycache *c, const unsigned char key[32])
{
	struct keycache_entry *sets[2];

	keycache_sets(c, key, sets);
	for (int s = 0; s < 2; s++) {
		for (int w = 0; w < KEYCACHE_WAYS; w++) {
			if (sets[s][w].expires > 0 && keycache_equal(sets[s][w].key, key))
				return &sets[s][w];
		}
	}
	return NULL;
}

bool keycache_check(struct keycache *c, const unsigned char key[32], int64_t now)
{
	struct keycache_entry *e = keycache_find(c, key);

	if (e == NULL || e->expires <= now)
		return false;
	e->used = ++c->uses;
	return true;
}

/* Where a new key goes: an empty or expired entry of its sets, else the
 * one of both sets used longest ago. */
static struct keycache_entry *keycache_victim(struct keycache *c, const unsigned char key[32], int64_t now)
{
	struct keycache_entry *sets[2], *victim = NULL;

	keycache_sets(c, key, sets);
	for (int s = 0; s < 2; s++) {
		for (int w = 0; w < KEYCACHE_WAYS; w++) {
			struct keycache_entry *e = &sets[s][w];

			if (e->expires <= now)
				return e;
			if (victim == NULL || e->used < victim->used)
				victim = e;
		}
	}
	return victim;
}

void keycache_store(struct keycache *c, const unsigned char key[32], int64_t expires, int64_t now)
{
	struct keycache_entry *e = keycache_find(c, key);

	if (e == NULL)
		e = keycache_victim(c, key, now);
	memcpy(e->key, key, 32);
	e->expires = expires;
	e->used = ++c->uses;
}
