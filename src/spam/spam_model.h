#ifndef YUBIN_SPAM_SPAM_MODEL_H
#define YUBIN_SPAM_SPAM_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "spam/spam_token.h"

/* The spam model: logistic regression over hashed features. A message's
 * score is the log-odds that it is spam:
 *     s = bias + (sum of w[feature & mask]) / sqrt(number of features)
 * Training is one online gradient step per message (incremental: a Junk
 * move can train one message), so the batch trainer simply makes a few
 * passes over its messages.
 *
 * The model's bytes are its file (little-endian): a 64-byte header, then
 * 2^bits float weights, then 2^bits float sums of squared gradients (for
 * training only: scoring reads the weights). The file is loaded with mmap and only read, so
 * any number of threads score with it without locks; a new model is
 * written beside it and renamed over it (see lib/fsmap.h and
 * fs_write_file_atomic), and readers pick up the new mapping when they
 * next look. Pure: no I/O here. */

#define SPAM_MODEL_MAGIC "YBSPAM\r\n"
#define SPAM_MODEL_VERSION 1
#define SPAM_MODEL_BITS_MIN 10
#define SPAM_MODEL_BITS_MAX 26
/* features scaled by 1/sqrt(their number) */
#define SPAM_MODEL_NORM 1u
/* trained with the tokenizer's portable header set (spam_token_limits) */
#define SPAM_MODEL_PORTABLE 2u

struct spam_model_header {
	char magic[8];
	uint32_t version;
	uint32_t bits;		/* 2^bits weights follow the header */
	uint64_t ham, spam;	/* messages trained */
	int64_t updated;	/* Unix time of the last training */
	float bias;
	uint32_t osb_window;	/* tokenizer setting it was trained with */
	uint32_t flags;		/* SPAM_MODEL_NORM, SPAM_MODEL_PORTABLE */
	uint32_t reserved;
	uint64_t checksum;	/* of the whole file with this field zero */
};

struct spam_model {
	const struct spam_model_header *hdr;
	const float *w;
	uint32_t mask;
	/* set when the model owns writable memory (new or copied) */
	struct spam_model_header *whdr;
	float *ww;
	float *wg;		/* AdaGrad: sums of squared gradients */
	size_t size;		/* bytes, header included */
};

/* Checks a model file's bytes (magic, version, size, checksum) and points
 * m at them (not copied: they must stay mapped while m is used). */
int spam_model_open(struct spam_model *m, const void *data, size_t size, const char **error_r);
/* A new, empty (all zero) model of 2^bits weights in owned memory. */
int spam_model_new(struct spam_model *m, unsigned bits, unsigned osb_window, uint32_t flags);
/* An owned, writable copy of a model, for training. */
int spam_model_copy(struct spam_model *dst, const struct spam_model *src);
/* Frees owned memory; accepts a model that owns none. */
void spam_model_free(struct spam_model *m);
/* Sets the time and checksum of an owned model; its bytes are then
 * ready to write: *data_r, *size_r. */
void spam_model_seal(struct spam_model *m, int64_t now, const void **data_r, size_t *size_r);

/* The log-odds that the message is spam: the base model plus, when not
 * NULL, a personal model on top of it. */
double spam_model_score(const struct spam_model *base, const struct spam_model *own,
			const struct spam_tokens *t);
/* Log-odds to a probability. */
double spam_model_probability(double score);
/* One gradient step on owned model m towards the label; base (or NULL) is
 * the model m is trained on top of. Returns the score before the step. */
double spam_model_train(struct spam_model *m, const struct spam_model *base,
			const struct spam_tokens *t, bool is_spam, float rate);
/* Undoes what training t as spam (was_spam) or ham taught the owned model
 * m on top of base, as far as it can: steps the other way, a step that
 * goes past zero taken back and tried at half the rate, until m adds at
 * most tolerance to t's score in the old direction. 0, or -1 when out of
 * memory. */
int spam_model_untrain(struct spam_model *m, const struct spam_model *base, const struct spam_tokens *t,
		       bool was_spam, double tolerance);
/* Counts a trained message (the header's ham/spam). */
void spam_model_count(struct spam_model *m, bool is_spam, int delta);
/* Weights that are not zero (for stats). */
size_t spam_model_used(const struct spam_model *m);

struct spam_contrib {
	size_t index;		/* in the token set */
	double weight;		/* its part of the score */
};
/* The n features with the largest effect on the score, spammy or hammy,
 * largest first. Returns how many were written. */
size_t spam_model_explain(const struct spam_model *base, const struct spam_model *own,
			  const struct spam_tokens *t, struct spam_contrib *out, size_t n);

#endif
