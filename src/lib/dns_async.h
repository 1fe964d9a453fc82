#ifndef YUBIN_LIB_DNS_ASYNC_H
#define YUBIN_LIB_DNS_ASYNC_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include "lib/dns.h"

/* DNS on the event loops. Each loop has one resolver: a c-ares channel
 * whose sockets and timer are events of the loop's event_base, so a
 * lookup never holds a thread. Answers go into the process-wide cache
 * (lib/dns_cache.h) that every loop shares. A name already being asked
 * on the loop is not asked again: the later batches wait for the same
 * query.
 *
 * A batch is the lookups of one message's checks (SPF, DKIM, DMARC).
 * The checks are pure evaluators that take their DNS through callbacks;
 * they run against the batch again and again: a name the batch has no
 * answer for is noted as wanted and reads as a temporary failure, the
 * batch fetches what was wanted (from the cache, else from the network),
 * and when the answers are in, the evaluation runs again, until it needs
 * nothing more. The batch keeps every answer it got for the life of the
 * message, so the final evaluation (on a worker) sees the same answers
 * even when their TTL has run out meanwhile.
 *
 * The batch has a budget: the total time it may have lookups in flight.
 * When it runs out, the lookups in flight and any later ones count as
 * temporary failures (the checks give temperror); the queries themselves
 * go on and fill the cache for later messages.
 *
 * A server that answers nothing while several queries wait past the
 * first try's timeout is taken as not answering until it answers
 * anything again: the lookups waiting for it, and new ones, fail at
 * once (temporary failures), and one query at a time still goes out as
 * a probe. */

struct event_base;
struct dns_cache;
struct dns_async;
struct dns_batch;

/* On the loop's thread: a resolver for base using cache (not owned). */
struct dns_async *dns_async_new(struct event_base *base, struct dns_cache *cache);
/* Cancels what is in flight (batches see temporary failures). */
void dns_async_free(struct dns_async *r);
/* The first try's timeout (c-ares doubles it for the next) and the tries
 * of a query: a dead server costs 3 s, then its failure is cached. */
#define DNS_ASYNC_TIMEOUT_MS 1000
#define DNS_ASYNC_TRIES 2
/* A server silent on this many queries for a try's timeout is taken as
 * not answering: lookups fail at once until it answers anything. */
#define DNS_ASYNC_SILENT_MIN 2

/* At most this many names per batch; more lookups fail temporarily. */
#define DNS_BATCH_MAX 160

/* A batch on resolver r for server spec resolver ("" system, or
 * "ADDRESS[:PORT]", the setting dns.resolver) with budget_ms of lookup
 * time. NULL when out of memory. */
struct dns_batch *dns_batch_new(struct dns_async *r, const char *resolver, unsigned budget_ms);
void dns_batch_free(struct dns_batch *b);
/* cb(arg) runs on the loop after answers arrived or the budget ran out
 * (never from inside a dns_batch_* call). */
void dns_batch_set_cb(struct dns_batch *b, void (*cb)(void *arg), void *arg);
/* Sends the queries for the names noted as wanted. The number of queries
 * in flight afterwards (0: the batch holds all it was asked for). */
unsigned dns_batch_fetch(struct dns_batch *b);
/* No more queries: a name without an answer is a temporary failure from
 * now on (cache hits are still taken). For the final evaluation, which
 * may run on another thread once nothing is in flight. */
void dns_batch_freeze(struct dns_batch *b);
bool dns_batch_is_exhausted(const struct dns_batch *b);
/* Names the batch knows (answered, wanted or in flight), and those in
 * flight: an evaluation that adds no name needs nothing more. */
size_t dns_batch_size(const struct dns_batch *b);
unsigned dns_batch_pending(const struct dns_batch *b);
/* Milliseconds of the budget used so far. */
unsigned dns_batch_used_ms(const struct dns_batch *b);

/* The lookups, with the contracts of lib/dns.h's blocking ones. A name
 * without an answer yet gives DNS_TEMPFAIL and is noted as wanted. */
enum dns_result dns_batch_txt(struct dns_batch *b, const char *name, char ***txt_r, size_t *n_r,
			      const char **error_r);
enum dns_result dns_batch_addr(struct dns_batch *b, const char *name, int family, struct dns_addr *addrs,
			       size_t max, size_t *n_r, const char **error_r);
enum dns_result dns_batch_mx(struct dns_batch *b, const char *name, struct dns_mx **mx_r, size_t *n_r,
			     const char **error_r);
enum dns_result dns_batch_ptr(struct dns_batch *b, const struct sockaddr *sa, char (*names)[DNS_NAME_MAX],
			      size_t max, size_t *n_r, const char **error_r);

#endif
