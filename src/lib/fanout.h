#ifndef YUBIN_LIB_FANOUT_H
#define YUBIN_LIB_FANOUT_H

#include <stddef.h>

/* A fixed set of threads that run one function over an array of items at
 * once, for blocking calls that the kernel serves better together than
 * one after another (fdatasync of many files: concurrent syncs share one
 * journal commit and one cache flush). One caller at a time. */

struct fanout;

typedef void fanout_fn(void *item);

struct fanout *fanout_new(unsigned threads);
/* Runs fn(items[i]) for every i, on the pool's threads and the caller's;
 * returns when every call has returned. */
void fanout_run(struct fanout *f, fanout_fn *fn, void **items, size_t n);
/* NULL is fine. */
void fanout_free(struct fanout *f);

#endif
