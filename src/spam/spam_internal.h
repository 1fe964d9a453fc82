#ifndef YUBIN_SPAM_SPAM_INTERNAL_H
#define YUBIN_SPAM_SPAM_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/strbuf.h"
#include "spam/spam_token.h"

/* Shared between the tokenizer's files; not an interface of the layer. */

#define SPAM_WORD_MAX 40	/* longer words become a "_f:longword" feature */
#define SPAM_OSB_MAX 4
#define SPAM_TEXT_MAX 64	/* bytes of a feature's text that count */
#define SPAM_BIGRAM_MEMO 512	/* a power of two */

struct spam_tok_ctx {
	const struct spam_token_limits *limits;
	struct spam_tokens *t;
	/* the last words of the running text, for word pairs */
	uint32_t recent[SPAM_OSB_MAX];
	char recent_text[SPAM_OSB_MAX][SPAM_WORD_MAX + 1];
	unsigned int recent_count;
	size_t words;		/* words seen in bodies */
	size_t caps_words;	/* of them all in capitals */
	/* hashes of recent CJK bigrams of body text (first code point 0:
	 * empty): Japanese text repeats its bigrams, and each one's hash is
	 * a serial walk over six bytes */
	struct spam_bigram_memo {
		uint32_t a, b, hash;
	} bigrams[SPAM_BIGRAM_MEMO];
};

/* spam_hash in steps, for callers that hash as they go: the seed, the
 * bytes (FNV-1a), then the final mix. */
#define SPAM_HASH_SEED 2166136261u

static inline uint32_t spam_hash_step(uint32_t h, const void *data, size_t len)
{
	const unsigned char *p = data;

	for (size_t i = 0; i < len; i++)
		h = (h ^ p[i]) * 16777619u;
	return h;
}

static inline uint32_t spam_hash_mix(uint32_t h)
{
	h ^= h >> 16;
	h *= 0x85ebca6bu;
	h ^= h >> 13;
	h *= 0xc2b2ae35u;
	h ^= h >> 16;
	return h;
}

/* Adds a feature by its hash (text only used with keep_text). */
bool spam_tokens_add_hash(struct spam_tokens *t, uint32_t hash, const char *text, size_t len);
/* Adds "_f:" + name. */
void spam_feature(struct spam_tok_ctx *c, const char *name);

/* Words of UTF-8 text, each with prefix (NULL for body text); with
 * pairs, nearby words are paired too. Forgets the previous words first. */
void spam_text_words(struct spam_tok_ctx *c, const char *prefix, const char *text, size_t len,
		     bool pairs);
/* Finds URLs (scheme://host, www.host) in text and adds their hosts and
 * registrable domains. Returns how many it found. */
size_t spam_text_urls(struct spam_tok_ctx *c, const char *text, size_t len);
/* Adds the host of one URL or bare host name (url:, urld: features). */
void spam_url_host(struct spam_tok_ctx *c, const char *host, size_t len);

struct spam_html_info {
	size_t tags, images, links, comments;
	bool hidden;		/* display:none, visibility:hidden, tiny font */
	bool bad_tags;		/* unclosed or unknown markup */
};

/* Appends the visible text of HTML to out (tags removed, entities decoded,
 * script and style dropped, blocks as spaces) and notes what it saw; link
 * and image URLs are given to spam_url_host through c. */
void spam_html_to_text(struct spam_tok_ctx *c, const char *html, size_t len, struct strbuf *out,
		       struct spam_html_info *info);

#endif
