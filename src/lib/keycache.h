#ifndef YUBIN_LIB_KEYCACHE_H
#define YUBIN_LIB_KEYCACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A bounded cache of 32-byte keys (keyed digests, uniformly random), each
 * remembered until it expires: server/auth.c's verified logins. Set
 * associative with two choices: a key may live in either of two sets of
 * KEYCACHE_WAYS entries, and a new key takes an empty or expired entry of
 * them, else the one of both used longest ago. So the sets fill evenly
 * and a working set up to most of the capacity stays cached, instead of
 * keys that hash alike evicting each other in turn (a direct-mapped
 * table's thrash); past the capacity, the least recently used go. Memory: KEYCACHE_ENTRY_SIZE bytes an entry, allocated
 * once. Not thread-safe: the caller locks. Pure (no clock: now passed). */

#define KEYCACHE_WAYS 16
#define KEYCACHE_ENTRY_SIZE 48

struct keycache;

/* At least entries entries (rounded up to a power of two, at least one
 * set); NULL when out of memory. */
struct keycache *keycache_new(size_t entries);
/* Wipes and frees; NULL is fine. */
void keycache_free(struct keycache *c);
size_t keycache_capacity(const struct keycache *c);
/* Whether key is cached and not expired at now (a hit counts as a use). */
bool keycache_check(struct keycache *c, const unsigned char key[32], int64_t now);
/* Remembers key until expires (again, when it is there). */
void keycache_store(struct keycache *c, const unsigned char key[32], int64_t expires, int64_t now);

#endif
