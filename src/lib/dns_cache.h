#ifndef YUBIN_LIB_DNS_CACHE_H
#define YUBIN_LIB_DNS_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include "lib/dns.h"

/* The process-wide DNS cache: raw answers by (name, type), kept for the
 * TTL the answer gives and never served past it. Every event loop's
 * resolver (lib/dns_async.h) reads and fills the same cache, under one
 * lock; it holds at most a fixed number of entries and of bytes and drops
 * the least recently used when full. Answers over DNS_CACHE_ANSWER_MAX
 * bytes are not cached (no real SPF, DKIM or DMARC answer is that big).
 *
 * How long an outcome is kept (RFC 2308):
 * - an answer: the smallest TTL of its answer records, at most a day;
 * - NODATA / NXDOMAIN: min(SOA TTL, SOA MINIMUM) of the SOA in the
 *   authority section, at most 3 hours; without an SOA it is not cached;
 * - SERVFAIL, timeout, refusal: DNS_CACHE_FAIL_TTL seconds (section 7:
 *   never more than 5 minutes), so a dead server costs one timeout per
 *   name every so often, not one per message.
 * A TTL of 0 is not cached. */

#define DNS_CACHE_ENTRIES 65536	/* the daemon's cache */
#define DNS_CACHE_BYTES (32u << 20)
#define DNS_CACHE_ANSWER_MAX 16384
#define DNS_CACHE_FAIL_TTL 30
#define DNS_CACHE_MAX_TTL 86400
#define DNS_CACHE_NEG_MAX_TTL 10800

struct dns_cache;

/* Milliseconds on a monotonic clock; tests pass their own. */
typedef int64_t dns_clock_fn(void *ctx);

/* A cache of at most max_entries answers of max_bytes in all. clock
 * NULL: CLOCK_MONOTONIC. */
struct dns_cache *dns_cache_new(size_t max_entries, size_t max_bytes, dns_clock_fn *clock, void *clock_ctx);
void dns_cache_free(struct dns_cache *c);

/* Stores the outcome of a query for name (case-insensitive) and type
 * (ns_t_txt ...): res, with the raw answer buf[0..len) (may be NULL for a
 * timeout). Outcomes that may not be cached are ignored. */
void dns_cache_put(struct dns_cache *c, const char *name, int type, enum dns_result res,
		   const unsigned char *buf, size_t len);
/* 1 with the outcome (and a malloc'd copy of the answer in *buf_r, NULL
 * when there is none) when a live entry is there; 0 when not. */
int dns_cache_get(struct dns_cache *c, const char *name, int type, enum dns_result *res_r,
		  unsigned char **buf_r, size_t *len_r);
void dns_cache_clear(struct dns_cache *c);
/* Entries held (live or not yet dropped), and the bytes of their answers. */
size_t dns_cache_count(struct dns_cache *c);
size_t dns_cache_bytes(struct dns_cache *c);

/* How many seconds the outcome res with answer buf[0..len) may be
 * cached (above): 0 for not at all. Pure; reads a hostile packet safely. */
uint32_t dns_cache_ttl(enum dns_result res, const unsigned char *buf, size_t len);

#endif
