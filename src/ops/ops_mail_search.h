#ifndef YUBIN_OPS_OPS_MAIL_SEARCH_H
#define YUBIN_OPS_OPS_MAIL_SEARCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ops/ops.h"
#include "store/fts.h"
#include "store/index.h"

/* A mail user's search of its own mailbox (webmail: GET /api/v1/mail/search)
 * through the full-text index (store/fts.h). */

#define OPS_SEARCH_TEXT_MAX 256		/* bytes per text parameter */
#define OPS_SEARCH_WORDS_MAX 16		/* words in all */
#define OPS_SEARCH_LIMIT_MAX 500
#define OPS_SEARCH_OFFSET_MAX 1000000

struct ops_mail_search_query {
	/* words (split at white space, U+3000 included) that must all be
	 * found: q anywhere (header, body, attachment names), from in From,
	 * to in To or Cc, subject, body; NULL or "" for none */
	const char *q, *from, *to, *subject, *body;
	int64_t since, before;		/* internal date bounds, Unix time; 0 for none */
	const char *folder;		/* NULL: every folder */
	size_t offset, limit;
};

struct ops_mail_hit {
	const char *folder;
	uint32_t uid;
	int64_t date;
	uint64_t size;
	uint32_t flags;			/* INDEX_FLAG_* */
	const char *keywords;		/* space-separated, "" for none */
	const struct fts_summary *summary;
};

typedef void ops_mail_hit_cb(const struct ops_mail_hit *hit, void *ctx);

/* Searches the actor's own mailbox (mail users only): cb gets the page's
 * hits, newest first; *total_r counts every hit, *partial_r tells that
 * some messages were not yet indexed (at most FTS_SYNC_MAX are indexed
 * per call). */
int ops_mail_search(struct ops *o, const struct ops_actor *actor, const struct ops_mail_search_query *q,
		    ops_mail_hit_cb *cb, void *ctx, size_t *total_r, bool *partial_r, struct ops_error *err);

/* The words of a search text (pure): up to max (pointer, length) pairs
 * into s, split at ASCII blanks and U+3000. Returns how many, or -1 when
 * there are more than max. */
int ops_mail_search_words(const char *s, const char **words, size_t *lens, size_t max);

#endif
