#ifndef YUBIN_STORE_SORTCACHE_H
#define YUBIN_STORE_SORTCACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/index.h"

/* The webmail's sort-key cache: per folder (its Maildir path and
 * UIDVALIDITY) and process-wide, each message's sender and subject sort
 * keys and the folder's UIDs kept in the order of each key; and, apart
 * (no header read for it), the folder's UIDs in the order of size. A message's
 * header never changes under its UID, so a key once made stays right; the
 * cache is checked against the folder's current UIDs at every use (the
 * rows the list has read anyway): UIDs gone are dropped, new ones have
 * their keys made by the caller and merged in. Unchanged folder: one pass
 * over the UIDs, no sort. Bounded by SORTCACHE_BYTES_MAX in all (the least
 * recently used folders go first). Thread-safe. */

enum sortcache_key { SORTCACHE_FROM, SORTCACHE_SUBJECT, SORTCACHE_SIZE };
/* The keys made from text (by the caller's sortcache_load_fn). */
#define SORTCACHE_TEXTS 2

/* Keys are compared bytewise on at most this many bytes (then arrival). */
#define SORTCACHE_KEY_MAX 128
#define SORTCACHE_BYTES_MAX ((size_t)64 << 20)

/* Makes the keys of messages uids (ascending, n of them): keys_r[i][k] is
 * a malloc'd string (NULL: empty). 0, or -1 (keys_r's strings are freed by
 * the cache either way). */
typedef int sortcache_load_fn(void *ctx, const uint32_t *uids, size_t n, char *(*keys_r)[SORTCACHE_TEXTS]);

/* The page offset..offset+limit of folder's messages rows (n, by ascending
 * UID) in the order of key (ties by arrival date, then UID; desc reverses
 * it) into uids_r (room for limit). *count_r: how many. 0 or -1. load is
 * not called for SORTCACHE_SIZE (the rows have the sizes). */
int sortcache_page(const char *path, uint32_t uidvalidity, enum sortcache_key key, const struct index_brief *rows,
		   size_t n, sortcache_load_fn *load, void *ctx, bool desc, size_t offset, size_t limit,
		   uint32_t *uids_r, size_t *count_r);

/* Makes a sort key from decoded text: ASCII letters folded to lower case,
 * at most SORTCACHE_KEY_MAX bytes (cut at a UTF-8 boundary). malloc'd. */
char *sortcache_key_make(const char *text);

/* Forgets everything (tests; shutdown). */
void sortcache_clear(void);
/* Bytes held now (tests). */
size_t sortcache_bytes(void);

#endif
