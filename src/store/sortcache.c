/* The webmail's sort-key cache (sortcache.h). Each folder holds its
 * entries by ascending UID and, per key, the entries' indexes in key
 * order. A use compares the entries' UIDs with the folder's current ones:
 * equal, the page is read off the order at once; else the entries are
 * rebuilt in one pass (gone ones dropped, loaded ones added), each order
 * is renumbered in one pass and the new entries, sorted among themselves,
 * merged in. Keys are made outside the lock (reading headers is slow);
 * what changed meanwhile is found when the result is merged, and the use
 * tries again. */
#include "store/sortcache.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct sc_entry {
	uint32_t uid;
	int64_t date;
	uint64_t size;
	char *key[SORTCACHE_TEXTS];
};

struct sc_folder {
	struct sc_folder *next;
	char *path;
	uint32_t uidvalidity;
	bool sized;			/* one order, by size; no text keys */
	struct sc_entry *e;		/* by ascending UID */
	size_t n;
	uint32_t *order[SORTCACHE_TEXTS];	/* indexes into e, in key order (sized: [0]) */
	size_t bytes;
	uint64_t used;
};

static pthread_mutex_t sc_lock = PTHREAD_MUTEX_INITIALIZER;
static struct sc_folder *sc_folders;
static size_t sc_total;
static uint64_t sc_tick;

#define SC_TRIES 3

char *sortcache_key_make(const char *text)
{
	size_t len = strlen(text);
	char *k;

	if (len > SORTCACHE_KEY_MAX) {
		len = SORTCACHE_KEY_MAX;
		while (len > 0 && ((unsigned char)text[len] & 0xc0) == 0x80)
			len--;
	}
	k = malloc(len + 1);
	if (k == NULL)
		return NULL;
	for (size_t i = 0; i < len; i++)
		k[i] = text[i] >= 'A' && text[i] <= 'Z' ? (char)(text[i] - 'A' + 'a') : text[i];
	k[len] = '\0';
	return k;
}

static size_t entry_bytes(const struct sc_entry *x)
{
	size_t b = sizeof(*x) + SORTCACHE_TEXTS * sizeof(uint32_t);

	for (int k = 0; k < SORTCACHE_TEXTS; k++)
		b += x->key[k] != NULL ? strlen(x->key[k]) + 1 : 0;
	return b;
}

static void folder_free(struct sc_folder *f)
{
	if (f == NULL)
		return;
	for (size_t i = 0; i < f->n; i++)
		for (int k = 0; k < SORTCACHE_TEXTS; k++)
			free(f->e[i].key[k]);
	for (int k = 0; k < SORTCACHE_TEXTS; k++)
		free(f->order[k]);
	free(f->e);
	free(f->path);
	free(f);
}

static void folder_unlink(struct sc_folder *f)
{
	for (struct sc_folder **p = &sc_folders; *p != NULL; p = &(*p)->next) {
		if (*p == f) {
			*p = f->next;
			sc_total -= f->bytes;
			return;
		}
	}
}

static int norders(const struct sc_folder *f)
{
	return f->sized ? 1 : SORTCACHE_TEXTS;
}

/* The folder's entry (a stale UIDVALIDITY's dropped), made when missing. */
static struct sc_folder *folder_get(const char *path, uint32_t uidvalidity, bool sized)
{
	struct sc_folder *f;

	for (f = sc_folders; f != NULL; f = f->next) {
		if (f->sized != sized || strcmp(f->path, path) != 0)
			continue;
		if (f->uidvalidity == uidvalidity)
			break;
		folder_unlink(f);
		folder_free(f);
		f = NULL;
		break;
	}
	if (f == NULL) {
		f = calloc(1, sizeof(*f));
		if (f == NULL || (f->path = strdup(path)) == NULL) {
			free(f);
			return NULL;
		}
		f->uidvalidity = uidvalidity;
		f->sized = sized;
		f->next = sc_folders;
		sc_folders = f;
	}
	f->used = ++sc_tick;
	return f;
}

/* Drops the least recently used folders other than keep while over the
 * budget. */
static void evict(const struct sc_folder *keep)
{
	while (sc_total > SORTCACHE_BYTES_MAX) {
		struct sc_folder *old = NULL;

		for (struct sc_folder *f = sc_folders; f != NULL; f = f->next)
			if (f != keep && (old == NULL || f->used < old->used))
				old = f;
		if (old == NULL)
			return;
		folder_unlink(old);
		folder_free(old);
	}
}

/* The UIDs of rows the folder lacks (malloc'd, ascending) and whether any
 * of its entries is gone from rows. */
static int folder_diff(const struct sc_folder *f, const struct index_brief *rows, size_t n, uint32_t **missing_r,
		       size_t *nmissing_r, bool *gone_r)
{
	size_t j = 0, kept = 0, nm = 0;
	uint32_t *m = NULL;

	for (size_t i = 0; i < n; i++) {
		while (j < f->n && f->e[j].uid < rows[i].uid)
			j++;
		if (j < f->n && f->e[j].uid == rows[i].uid) {
			kept++;
			continue;
		}
		if (m == NULL && (m = malloc((n - i) * sizeof(*m))) == NULL)
			return -1;
		m[nm++] = rows[i].uid;
	}
	*missing_r = m;
	*nmissing_r = nm;
	*gone_r = kept < f->n;
	return 0;
}

struct sc_cmp_ctx {
	const struct sc_entry *e;
	int k;		/* a text key, or -1: size */
};

static int entry_cmp(const struct sc_entry *x, const struct sc_entry *y, int k)
{
	int c = k < 0 ? (x->size > y->size) - (x->size < y->size)
		      : strcmp(x->key[k] != NULL ? x->key[k] : "", y->key[k] != NULL ? y->key[k] : "");

	if (c != 0)
		return c;
	if (x->date != y->date)
		return x->date < y->date ? -1 : 1;
	return x->uid < y->uid ? -1 : x->uid > y->uid;
}

static int index_cmp(const void *a, const void *b, void *arg)
{
	const struct sc_cmp_ctx *c = arg;

	return entry_cmp(&c->e[*(const uint32_t *)a], &c->e[*(const uint32_t *)b], c->k);
}

/* Renumbers order (old indexes through map; UINT32_MAX: gone) and merges
 * the added indexes into it. *order_r is replaced. */
static int order_merge(uint32_t **order_r, size_t nold, const uint32_t *map, const struct sc_entry *e, size_t n,
		       uint32_t *added, size_t nadded, int k)
{
	struct sc_cmp_ctx c = { e, k };
	uint32_t *old = *order_r, *out = malloc((n > 0 ? n : 1) * sizeof(*out));
	size_t a = 0, o = 0, w = 0;

	if (out == NULL)
		return -1;
	qsort_r(added, nadded, sizeof(*added), index_cmp, &c);
	for (size_t i = 0; i < nold; i++)
		if (map[old[i]] != UINT32_MAX)
			old[o++] = map[old[i]];
	for (size_t i = 0; i < o || a < nadded;) {
		if (a < nadded && (i == o || entry_cmp(&e[added[a]], &e[old[i]], k) < 0))
			out[w++] = added[a++];
		else
			out[w++] = old[i++];
	}
	free(old);
	*order_r = out;
	return 0;
}

/* Makes the folder's entries exactly rows: its own where it has them, the
 * loaded ones (lu/lk, nl; lk NULL for a sized folder) for the others. 1
 * when a row is in neither (the folder changed meanwhile: try again), 0,
 * -1. Loaded keys taken are set to NULL in lk. */
static int folder_apply(struct sc_folder *f, const struct index_brief *rows, size_t n, const uint32_t *lu,
			char *(*lk)[SORTCACHE_TEXTS], size_t nl)
{
	struct sc_entry *e = malloc((n > 0 ? n : 1) * sizeof(*e));
	uint32_t *map = malloc((f->n > 0 ? f->n : 1) * sizeof(*map));
	uint32_t *added = malloc((n > 0 ? n : 1) * sizeof(*added)), *tmp = NULL;
	size_t j = 0, l = 0, nadded = 0, bytes = 0;
	int r = -1;

	if (e == NULL || map == NULL || added == NULL)
		goto out;
	for (size_t i = 0; i < n; i++) {
		while (j < f->n && f->e[j].uid < rows[i].uid)
			j++;
		while (l < nl && lu[l] < rows[i].uid)
			l++;
		if (!(j < f->n && f->e[j].uid == rows[i].uid) && !(l < nl && lu[l] == rows[i].uid)) {
			r = 1;
			goto out;
		}
	}
	for (size_t i = 0; i < f->n; i++)
		map[i] = UINT32_MAX;
	j = l = 0;
	for (size_t i = 0; i < n; i++) {
		while (j < f->n && f->e[j].uid < rows[i].uid)
			j++;
		while (l < nl && lu[l] < rows[i].uid)
			l++;
		if (j < f->n && f->e[j].uid == rows[i].uid) {
			e[i] = f->e[j];
			memset(f->e[j].key, 0, sizeof(f->e[j].key));
			map[j] = (uint32_t)i;
		} else {
			e[i] = (struct sc_entry){ .uid = rows[i].uid, .date = rows[i].internaldate, .size = rows[i].size };
			if (lk != NULL) {
				memcpy(e[i].key, lk[l], sizeof(e[i].key));
				memset(lk[l], 0, sizeof(lk[l]));
			}
			added[nadded++] = (uint32_t)i;
		}
		bytes += entry_bytes(&e[i]);
	}
	for (int k = 0; k < norders(f); k++) {
		if (k > 0) {
			free(tmp);
			if ((tmp = malloc((nadded > 0 ? nadded : 1) * sizeof(*tmp))) == NULL)
				goto fail;
			memcpy(tmp, added, nadded * sizeof(*tmp));
		}
		if (order_merge(&f->order[k], f->order[k] != NULL ? f->n : 0, map, e, n, k > 0 ? tmp : added,
				nadded, f->sized ? -1 : k) < 0)
			goto fail;
	}
	for (size_t i = 0; i < f->n; i++)
		for (int k = 0; k < SORTCACHE_TEXTS; k++)
			free(f->e[i].key[k]);
	free(f->e);
	f->e = e;
	e = NULL;
	f->n = n;
	sc_total = sc_total - f->bytes + bytes;
	f->bytes = bytes;
	r = 0;
	goto out;
fail:
	/* the orders no longer match: start the folder afresh next time */
	for (size_t i = 0; i < n; i++)
		for (int k = 0; k < SORTCACHE_TEXTS; k++)
			free(e[i].key[k]);
	for (size_t i = 0; i < f->n; i++)
		for (int k = 0; k < SORTCACHE_TEXTS; k++)
			f->e[i].key[k] = NULL;
	f->n = 0;
	sc_total -= f->bytes;
	f->bytes = 0;
	for (int k = 0; k < SORTCACHE_TEXTS; k++) {
		free(f->order[k]);
		f->order[k] = NULL;
	}
out:
	free(e);
	free(map);
	free(added);
	free(tmp);
	return r;
}

static void page_copy(const struct sc_folder *f, int slot, bool desc, size_t offset, size_t limit,
		      uint32_t *uids_r, size_t *count_r)
{
	size_t c = 0;

	for (size_t i = offset; i < f->n && c < limit; i++)
		uids_r[c++] = f->e[f->order[slot][desc ? f->n - 1 - i : i]].uid;
	*count_r = c;
}

static void keys_free(char *(*keys)[SORTCACHE_TEXTS], size_t n)
{
	for (size_t i = 0; keys != NULL && i < n; i++)
		for (int k = 0; k < SORTCACHE_TEXTS; k++)
			free(keys[i][k]);
	free(keys);
}

int sortcache_page(const char *path, uint32_t uidvalidity, enum sortcache_key key, const struct index_brief *rows,
		   size_t n, sortcache_load_fn *load, void *ctx, bool desc, size_t offset, size_t limit,
		   uint32_t *uids_r, size_t *count_r)
{
	bool sized = key == SORTCACHE_SIZE;
	int slot = sized ? 0 : (int)key;

	*count_r = 0;
	if ((int)key < 0 || (int)key > SORTCACHE_SIZE || n >= UINT32_MAX)
		return -1;
	for (int t = 0; t < SC_TRIES; t++) {
		char *(*keys)[SORTCACHE_TEXTS] = NULL;
		uint32_t *missing = NULL;
		size_t nm = 0;
		bool gone = false;
		struct sc_folder *f;
		int r;

		pthread_mutex_lock(&sc_lock);
		f = folder_get(path, uidvalidity, sized);
		if (f == NULL || folder_diff(f, rows, n, &missing, &nm, &gone) < 0) {
			pthread_mutex_unlock(&sc_lock);
			return -1;
		}
		if (nm == 0 && !gone && f->order[slot] != NULL) {
			page_copy(f, slot, desc, offset, limit, uids_r, count_r);
			pthread_mutex_unlock(&sc_lock);
			return 0;
		}
		pthread_mutex_unlock(&sc_lock);
		if (nm > 0 && !sized && ((keys = calloc(nm, sizeof(*keys))) == NULL || load(ctx, missing, nm, keys) < 0)) {
			keys_free(keys, nm);
			free(missing);
			return -1;
		}
		pthread_mutex_lock(&sc_lock);
		f = folder_get(path, uidvalidity, sized);
		r = f != NULL ? folder_apply(f, rows, n, missing, keys, nm) : -1;
		if (r == 0) {
			page_copy(f, slot, desc, offset, limit, uids_r, count_r);
			evict(f);
		}
		pthread_mutex_unlock(&sc_lock);
		keys_free(keys, nm);
		free(missing);
		if (r <= 0)
			return r;
	}
	return -1;
}

void sortcache_clear(void)
{
	pthread_mutex_lock(&sc_lock);
	while (sc_folders != NULL) {
		struct sc_folder *f = sc_folders;

		sc_folders = f->next;
		folder_free(f);
	}
	sc_total = 0;
	pthread_mutex_unlock(&sc_lock);
}

size_t sortcache_bytes(void)
{
	size_t b;

	pthread_mutex_lock(&sc_lock);
	b = sc_total;
	pthread_mutex_unlock(&sc_lock);
	return b;
}
