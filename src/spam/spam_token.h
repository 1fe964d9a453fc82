#ifndef YUBIN_SPAM_SPAM_TOKEN_H
#define YUBIN_SPAM_SPAM_TOKEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/strbuf.h"

/* The spam tokenizer (pure): a message in, a set of 32-bit feature hashes
 * out. The message is decoded first with the mail layer (RFC 2047 header
 * words, transfer encodings, charsets to UTF-8, HTML to text), so the same
 * text in ISO-2022-JP, Shift_JIS, EUC-JP or UTF-8 gives the same features.
 *
 * Features: words of the body (lowercased; Japanese and Chinese runs as
 * character bigrams) and pairs of nearby words (orthogonal sparse bigrams),
 * header words prefixed by their field's name, URL hosts and registrable
 * domains, attachment types and name extensions, and structural features
 * ("_f:..."): HTML-only, image-only, hidden HTML text, recipients,
 * Received hops, missing Date/Message-ID, From/Reply-To mismatch.
 *
 * No I/O: the public suffix list comes in as a libpsl context (NULL: the
 * registrable domain is guessed as the last two labels), and the limits
 * bound the bytes read and the features kept. */

struct psl_ctx_st;

struct spam_token_limits {
	size_t max_bytes;	/* of the message looked at, e.g. 512 KiB */
	size_t max_tokens;	/* distinct features kept, e.g. 20000 */
	unsigned int osb_window;	/* word pairs up to this distance (0: words only) */
	const struct psl_ctx_st *psl;	/* libpsl context or NULL */
	/* words of the top-level header only from fields that mean the same
	 * at every site (Subject, From, Content-Type, X-Mailer...): for a
	 * model trained elsewhere and shipped */
	bool portable;
};

/* A set of distinct feature hashes; with keep_text, the text of each
 * feature too (for `yubinctl spam score`'s explanation). */
struct spam_tokens {
	uint32_t *hash;
	size_t count, cap;	/* cap: the limit's max_tokens */
	uint32_t *set;		/* open addressing over hash values + 1 */
	size_t set_mask;	/* slots - 1; the slots double up to set_max */
	size_t set_max;
	bool keep_text;
	struct strbuf text;	/* NUL-separated texts, in hash order */
	uint32_t *text_off;	/* offset of each feature's text in text */
	bool truncated;		/* max_tokens or max_bytes was reached */
};

/* Sets up an empty set for at most limits->max_tokens features. */
void spam_tokens_init(struct spam_tokens *t, const struct spam_token_limits *limits,
		      bool keep_text);
/* Empties the set for the next message; the memory is kept. */
void spam_tokens_reset(struct spam_tokens *t);
void spam_tokens_free(struct spam_tokens *t);
/* The text of feature i (only with keep_text; "" otherwise). */
const char *spam_tokens_text(const struct spam_tokens *t, size_t i);

/* Adds the feature "prefix" + text (hashed); false when the set is full. */
bool spam_tokens_add(struct spam_tokens *t, const char *prefix, const char *text, size_t len);

/* Tokenizes the message (size bytes, may hold NULs) into t, which is
 * reset first. Always gives a set, for any input. */
void spam_tokenize(const char *msg, size_t size, const struct spam_token_limits *limits,
		   struct spam_tokens *t);

/* The hash used for features: 32 bits, seeded by the prefix. */
uint32_t spam_hash(const char *prefix, const char *text, size_t len);

#endif
