/* The shared DNS cache (see dns_cache.h): a hash table of answers with a
 * least-recently-used list, under one mutex. Entries past their expiry
 * are never returned; they go when met or when room is needed. */
#include "lib/dns_cache.h"
#include "lib/str.h"

#include <ctype.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

struct dns_centry {
	struct dns_centry *hnext;		/* hash chain */
	struct dns_centry *prev, *next;		/* LRU list, most recent first */
	uint64_t hash;
	int type;
	enum dns_result res;
	int64_t expires;			/* clock ms */
	unsigned char *buf;
	size_t len;
	char name[];
};

struct dns_cache {
	pthread_mutex_t lock;
	struct dns_centry **table;
	size_t nbuckets, count, max;
	size_t bytes, max_bytes;
	struct dns_centry *head, *tail;
	dns_clock_fn *clock;
	void *clock_ctx;
};

static int64_t dns_cache_monotonic(void *ctx)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct dns_cache *dns_cache_new(size_t max_entries, size_t max_bytes, dns_clock_fn *clock, void *clock_ctx)
{
	struct dns_cache *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return NULL;
	c->max = max_entries > 0 ? max_entries : 1;
	c->max_bytes = max_bytes;
	c->nbuckets = 64;
	while (c->nbuckets < c->max && c->nbuckets < ((size_t)1 << 24))
		c->nbuckets *= 2;
	c->table = calloc(c->nbuckets, sizeof(*c->table));
	if (c->table == NULL) {
		free(c);
		return NULL;
	}
	c->clock = clock != NULL ? clock : dns_cache_monotonic;
	c->clock_ctx = clock_ctx;
	pthread_mutex_init(&c->lock, NULL);
	return c;
}

static void dns_centry_free(struct dns_centry *e)
{
	free(e->buf);
	free(e);
}

void dns_cache_clear(struct dns_cache *c)
{
	if (c == NULL)
		return;
	pthread_mutex_lock(&c->lock);
	for (struct dns_centry *e = c->head, *next; e != NULL; e = next) {
		next = e->next;
		dns_centry_free(e);
	}
	memset(c->table, 0, c->nbuckets * sizeof(*c->table));
	c->head = c->tail = NULL;
	c->count = 0;
	c->bytes = 0;
	pthread_mutex_unlock(&c->lock);
}

void dns_cache_free(struct dns_cache *c)
{
	if (c == NULL)
		return;
	dns_cache_clear(c);
	pthread_mutex_destroy(&c->lock);
	free(c->table);
	free(c);
}

size_t dns_cache_bytes(struct dns_cache *c)
{
	size_t n;

	pthread_mutex_lock(&c->lock);
	n = c->bytes;
	pthread_mutex_unlock(&c->lock);
	return n;
}

size_t dns_cache_count(struct dns_cache *c)
{
	size_t n;

	pthread_mutex_lock(&c->lock);
	n = c->count;
	pthread_mutex_unlock(&c->lock);
	return n;
}

/* FNV-1a over the lower-cased name and the type. */
static uint64_t dns_cache_hash(const char *name, int type)
{
	uint64_t h = 14695981039346656037ull;

	for (const unsigned char *p = (const unsigned char *)name; *p != '\0'; p++) {
		h ^= (uint64_t)tolower(*p);
		h *= 1099511628211ull;
	}
	h ^= (uint64_t)(unsigned)type;
	h *= 1099511628211ull;
	return h;
}

static void dns_lru_unlink(struct dns_cache *c, struct dns_centry *e)
{
	if (e->prev != NULL)
		e->prev->next = e->next;
	else
		c->head = e->next;
	if (e->next != NULL)
		e->next->prev = e->prev;
	else
		c->tail = e->prev;
	e->prev = e->next = NULL;
}

static void dns_lru_push(struct dns_cache *c, struct dns_centry *e)
{
	e->prev = NULL;
	e->next = c->head;
	if (c->head != NULL)
		c->head->prev = e;
	c->head = e;
	if (c->tail == NULL)
		c->tail = e;
}

/* Takes e out of the table and the list and frees it. */
static void dns_cache_drop(struct dns_cache *c, struct dns_centry *e)
{
	struct dns_centry **pp = &c->table[e->hash & (c->nbuckets - 1)];

	while (*pp != NULL && *pp != e)
		pp = &(*pp)->hnext;
	if (*pp == e)
		*pp = e->hnext;
	dns_lru_unlink(c, e);
	c->bytes -= e->len;
	dns_centry_free(e);
	c->count--;
}

static struct dns_centry *dns_cache_find(struct dns_cache *c, const char *name, int type, uint64_t h)
{
	for (struct dns_centry *e = c->table[h & (c->nbuckets - 1)]; e != NULL; e = e->hnext) {
		if (e->hash == h && e->type == type && strcasecmp(e->name, name) == 0)
			return e;
	}
	return NULL;
}

void dns_cache_put(struct dns_cache *c, const char *name, int type, enum dns_result res,
		   const unsigned char *buf, size_t len)
{
	uint32_t ttl = dns_cache_ttl(res, buf, len);
	uint64_t h = dns_cache_hash(name, type);
	size_t nlen = strlen(name);
	struct dns_centry *e, *old;

	if (c == NULL || ttl == 0 || nlen >= DNS_NAME_MAX || len > DNS_CACHE_ANSWER_MAX || len > c->max_bytes)
		return;
	e = calloc(1, sizeof(*e) + nlen + 1);
	if (e == NULL)
		return;
	if (buf != NULL && len > 0 && (e->buf = malloc(len)) == NULL) {
		free(e);
		return;
	}
	if (e->buf != NULL) {
		memcpy(e->buf, buf, len);
		e->len = len;
	}
	memcpy(e->name, name, nlen + 1);
	e->hash = h;
	e->type = type;
	e->res = res;
	pthread_mutex_lock(&c->lock);
	e->expires = c->clock(c->clock_ctx) + (int64_t)ttl * 1000;
	old = dns_cache_find(c, name, type, h);
	if (old != NULL)
		dns_cache_drop(c, old);
	while ((c->count >= c->max || c->bytes + e->len > c->max_bytes) && c->tail != NULL)
		dns_cache_drop(c, c->tail);
	e->hnext = c->table[h & (c->nbuckets - 1)];
	c->table[h & (c->nbuckets - 1)] = e;
	dns_lru_push(c, e);
	c->count++;
	c->bytes += e->len;
	pthread_mutex_unlock(&c->lock);
}

int dns_cache_get(struct dns_cache *c, const char *name, int type, enum dns_result *res_r,
		  unsigned char **buf_r, size_t *len_r)
{
	uint64_t h = dns_cache_hash(name, type);
	struct dns_centry *e;
	int found = 0;

	*buf_r = NULL;
	*len_r = 0;
	if (c == NULL)
		return 0;
	pthread_mutex_lock(&c->lock);
	e = dns_cache_find(c, name, type, h);
	if (e != NULL && e->expires <= c->clock(c->clock_ctx)) {
		dns_cache_drop(c, e);	/* past its TTL: never served */
		e = NULL;
	}
	if (e != NULL && (e->len == 0 || (*buf_r = malloc(e->len)) != NULL)) {
		if (e->len > 0)
			memcpy(*buf_r, e->buf, e->len);
		*len_r = e->len;
		*res_r = e->res;
		dns_lru_unlink(c, e);
		dns_lru_push(c, e);
		found = 1;
	}
	pthread_mutex_unlock(&c->lock);
	return found;
}

/* ---- TTLs from the packet (RFC 1035 section 4.1) */

static uint16_t dns_get16(const unsigned char *p)
{
	return (uint16_t)((p[0] << 8) | p[1]);
}

static uint32_t dns_get32(const unsigned char *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

/* Skips the (possibly compressed) name at *pos: 0, or -1 when malformed. */
static int dns_skip_name(const unsigned char *buf, size_t len, size_t *pos)
{
	size_t p = *pos;

	for (unsigned labels = 0; labels < 128; labels++) {
		unsigned l;

		if (p >= len)
			return -1;
		l = buf[p];
		if ((l & 0xc0) == 0xc0) {
			if (p + 2 > len)
				return -1;
			*pos = p + 2;
			return 0;
		}
		if ((l & 0xc0) != 0)
			return -1;
		p += 1 + l;
		if (l == 0) {
			*pos = p;
			return 0;
		}
	}
	return -1;
}

/* A TTL with the top bit set counts as 0 (RFC 2181 section 8). */
static uint32_t dns_ttl_value(uint32_t t)
{
	return (t & 0x80000000u) ? 0 : t;
}

uint32_t dns_cache_ttl(enum dns_result res, const unsigned char *buf, size_t len)
{
	size_t pos = 12, nrr;
	unsigned qd, an;
	uint32_t best = UINT32_MAX;
	bool found = false;

	if (res == DNS_TEMPFAIL)
		return DNS_CACHE_FAIL_TTL;
	if (buf == NULL || len < 12)
		return 0;
	qd = dns_get16(buf + 4);
	an = dns_get16(buf + 6);
	nrr = (size_t)an + dns_get16(buf + 8);	/* answers, then authority */
	for (unsigned i = 0; i < qd; i++) {
		if (dns_skip_name(buf, len, &pos) < 0 || pos + 4 > len)
			return 0;
		pos += 4;
	}
	for (size_t i = 0; i < nrr; i++) {
		uint16_t type, rdlen;
		uint32_t ttl;

		if (dns_skip_name(buf, len, &pos) < 0 || pos + 10 > len)
			return 0;
		type = dns_get16(buf + pos);
		ttl = dns_ttl_value(dns_get32(buf + pos + 4));
		rdlen = dns_get16(buf + pos + 8);
		pos += 10;
		if (pos + rdlen > len)
			return 0;
		if (res == DNS_OK && i < an) {
			/* every record of the answer, CNAMEs included */
			found = true;
			if (ttl < best)
				best = ttl;
		} else if (res != DNS_OK && i >= an && type == 6 && rdlen >= 22) {
			/* the SOA: min(its TTL, MINIMUM), RFC 2308 section 5 */
			uint32_t min = dns_ttl_value(dns_get32(buf + pos + rdlen - 4));
			found = true;
			best = ttl < min ? ttl : min;
			break;
		}
		pos += rdlen;
	}
	if (!found)
		return 0;
	if (res == DNS_OK)
		return best < DNS_CACHE_MAX_TTL ? best : DNS_CACHE_MAX_TTL;
	return best < DNS_CACHE_NEG_MAX_TTL ? best : DNS_CACHE_NEG_MAX_TTL;
}
