/* Brute-force counters: a fixed-size table of keys, each with a two-bucket
 * sliding window (the previous window's count weighted by how much of it
 * still overlaps, plus the current one). */
#include "policy/bruteforce.h"
#include "lib/str.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define BF_KEY_MAX 330
#define BF_PROBE 16

struct bf_entry {
	char key[BF_KEY_MAX];
	int64_t bucket;		/* window number of cur */
	unsigned cur, prev;
	int64_t last;		/* last failure, 0 = free slot */
	bool throttled;		/* an account already reported as slowed */
	unsigned blocks;	/* blocks of an address in a row */
	int64_t last_block;
};

struct bf_table {
	pthread_mutex_t lock;
	size_t n;
	struct bf_entry *e;
};

struct bf_table *bf_table_new(size_t entries)
{
	struct bf_table *t = calloc(1, sizeof(*t));

	if (t == NULL)
		return NULL;
	t->n = entries < BF_PROBE ? BF_PROBE : entries;
	t->e = calloc(t->n, sizeof(*t->e));
	if (t->e == NULL) {
		free(t);
		return NULL;
	}
	pthread_mutex_init(&t->lock, NULL);
	return t;
}

void bf_table_free(struct bf_table *t)
{
	if (t == NULL)
		return;
	pthread_mutex_destroy(&t->lock);
	free(t->e);
	free(t);
}

static uint64_t bf_hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;
		if (c >= 'A' && c <= 'Z')
			c = (unsigned char)(c - 'A' + 'a');
		h = (h ^ c) * 1099511628211ULL;
	}
	return h;
}

/* The entry of key; with create, a free or the stalest slot of its probe
 * range is taken over. */
static struct bf_entry *bf_find_locked(struct bf_table *t, const char *key, bool create)
{
	size_t start = (size_t)(bf_hash(key) % t->n);
	struct bf_entry *victim = NULL;

	for (size_t i = 0; i < BF_PROBE; i++) {
		struct bf_entry *e = &t->e[(start + i) % t->n];

		if (e->last != 0 && str_eq_ci(e->key, key))
			return e;
		if (victim == NULL || e->last < victim->last)
			victim = e;
	}
	if (!create || str_copy(victim->key, sizeof(victim->key), key) < 0)
		return NULL;
	victim->bucket = 0;
	victim->cur = victim->prev = 0;
	victim->throttled = false;
	victim->blocks = 0;
	victim->last_block = 0;
	return victim;
}

static unsigned bf_count_entry(const struct bf_entry *e, unsigned window, int64_t now)
{
	int64_t bucket = now / window, into = now % window;
	unsigned prev, cur;

	if (e->bucket == bucket) {
		cur = e->cur;
		prev = e->prev;
	} else if (e->bucket == bucket - 1) {
		cur = 0;
		prev = e->cur;
	} else {
		return 0;
	}
	return cur + (unsigned)(((uint64_t)prev * (uint64_t)(window - into) + window - 1) / window);
}

static void bf_add_entry(struct bf_entry *e, unsigned window, int64_t now)
{
	int64_t bucket = now / window;

	if (e->bucket == bucket - 1) {
		e->prev = e->cur;
		e->cur = 0;
	} else if (e->bucket != bucket) {
		e->prev = e->cur = 0;
	}
	e->bucket = bucket;
	e->cur++;
	e->last = now > 0 ? now : 1;
}

unsigned bf_delay_ms(unsigned n, unsigned after, unsigned max_s)
{
	unsigned shift;

	if (n <= after || max_s == 0)
		return 0;
	shift = n - after - 1;
	if (shift >= 20 || (1u << shift) >= max_s)
		return max_s * 1000;
	return (1u << shift) * 1000;
}

unsigned bf_block_seconds(const struct bf_limits *lim, unsigned blocks)
{
	uint64_t s = lim->block_time;

	for (unsigned i = 1; i < blocks && s < lim->block_max; i++)
		s *= 2;
	return (unsigned)(s > lim->block_max ? lim->block_max : s);
}

void bf_failure(struct bf_table *t, const struct bf_limits *lim, const char *ip_key,
		const char *account, int64_t now, struct bf_failure *out)
{
	unsigned window = lim->window > 0 ? lim->window : 1;
	struct bf_entry *e;
	unsigned ad = 0;

	memset(out, 0, sizeof(*out));
	pthread_mutex_lock(&t->lock);
	e = bf_find_locked(t, ip_key, true);
	if (e != NULL) {
		bf_add_entry(e, window, now);
		out->ip_failures = bf_count_entry(e, window, now);
		if (lim->ip_block_after > 0 && out->ip_failures >= lim->ip_block_after) {
			/* Repeated blocks within a day grow. */
			if (e->last_block == 0 || now - e->last_block > 86400)
				e->blocks = 0;
			e->blocks++;
			e->last_block = now;
			out->block = true;
			out->block_seconds = bf_block_seconds(lim, e->blocks);
			/* Start counting afresh once the block ends. */
			e->cur = e->prev = 0;
		}
	}
	if (account != NULL && account[0] != '\0' && lim->account_delay_after > 0) {
		e = bf_find_locked(t, account, true);
		if (e != NULL) {
			bf_add_entry(e, window, now);
			out->account_failures = bf_count_entry(e, window, now);
			if (out->account_failures > lim->account_delay_after && !e->throttled) {
				e->throttled = true;
				out->throttle_start = true;
			} else if (out->account_failures <= lim->account_delay_after) {
				e->throttled = false;
			}
			ad = bf_delay_ms(out->account_failures, lim->account_delay_after, lim->delay_max);
		}
	}
	pthread_mutex_unlock(&t->lock);
	out->delay_ms = bf_delay_ms(out->ip_failures, lim->ip_delay_after, lim->delay_max);
	if (ad > out->delay_ms)
		out->delay_ms = ad;
}

unsigned bf_account_delay_ms(struct bf_table *t, const struct bf_limits *lim, const char *account,
			     int64_t now)
{
	struct bf_entry *e;
	unsigned n = 0;

	if (lim->account_delay_after == 0 || account == NULL || account[0] == '\0')
		return 0;
	pthread_mutex_lock(&t->lock);
	e = bf_find_locked(t, account, false);
	if (e != NULL)
		n = bf_count_entry(e, lim->window > 0 ? lim->window : 1, now);
	pthread_mutex_unlock(&t->lock);
	return bf_delay_ms(n, lim->account_delay_after, lim->delay_max);
}

unsigned bf_count(struct bf_table *t, const struct bf_limits *lim, const char *key, int64_t now)
{
	struct bf_entry *e;
	unsigned n = 0;

	pthread_mutex_lock(&t->lock);
	e = bf_find_locked(t, key, false);
	if (e != NULL)
		n = bf_count_entry(e, lim->window > 0 ? lim->window : 1, now);
	pthread_mutex_unlock(&t->lock);
	return n;
}

int bf_state_get(struct bf_table *t, const char *key, struct bf_state *st_r)
{
	struct bf_entry *e;

	memset(st_r, 0, sizeof(*st_r));
	pthread_mutex_lock(&t->lock);
	e = bf_find_locked(t, key, false);
	if (e != NULL) {
		st_r->bucket = e->bucket;
		st_r->last = e->last;
		st_r->last_block = e->last_block;
		st_r->cur = e->cur;
		st_r->prev = e->prev;
		st_r->blocks = e->blocks;
		st_r->throttled = e->throttled;
	}
	pthread_mutex_unlock(&t->lock);
	return e != NULL ? 1 : 0;
}

void bf_state_set(struct bf_table *t, const char *key, const struct bf_state *st)
{
	struct bf_entry *e;

	pthread_mutex_lock(&t->lock);
	e = bf_find_locked(t, key, st != NULL && st->last != 0);
	if (e != NULL && (st == NULL || st->last == 0)) {
		e->cur = e->prev = 0;
		e->throttled = false;
		e->blocks = 0;
		e->last_block = 0;
	} else if (e != NULL) {
		e->bucket = st->bucket;
		e->last = st->last;
		e->last_block = st->last_block;
		e->cur = st->cur;
		e->prev = st->prev;
		e->blocks = st->blocks;
		e->throttled = st->throttled;
	}
	pthread_mutex_unlock(&t->lock);
}

void bf_reset(struct bf_table *t, const char *key)
{
	struct bf_entry *e;

	pthread_mutex_lock(&t->lock);
	e = bf_find_locked(t, key, false);
	if (e != NULL) {
		e->cur = e->prev = 0;
		e->throttled = false;
	}
	pthread_mutex_unlock(&t->lock);
}
