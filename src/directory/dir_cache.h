#ifndef YUBIN_DIRECTORY_DIR_CACHE_H
#define YUBIN_DIRECTORY_DIR_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The daemon's cache of hot-path directory reads (RCPT and login: an
 * account, a domain, a setting) when the directory is in PostgreSQL.
 * Process-wide, shared by every thread. An entry lives at most
 * DIR_CACHE_TTL_MS; every change of accounts, domains or settings on any
 * node drops them all (LISTEN yubin_directory, fed by triggers), and so do
 * this process's own writes. While the listening connection is down the
 * cache is off: every read goes to the database (and fails while it is
 * down), so nothing stale is served longer than the TTL. */

#define DIR_CACHE_TTL_MS 2000

/* Starts listening on conninfo (the daemon's start-up, once); 0 or -1. */
int dir_cache_start(const char *conninfo);
void dir_cache_stop(void);

/* The generation a lookup starts at; pass it to put so that a value read
 * before a change is not kept after it. */
uint64_t dir_cache_generation(void);
/* 1 and the value (exactly size bytes) into val when cached, else 0. */
int dir_cache_get(char kind, const char *key, void *val, size_t size);
void dir_cache_put(char kind, const char *key, const void *val, size_t size, uint64_t gen);
/* Drops every entry (a change was made). */
void dir_cache_flush(void);
/* Whether the listener is connected (the cache in use). */
bool dir_cache_is_active(void);

#endif
