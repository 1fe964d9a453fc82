/* The spam model: scoring, training and the checked file layout. */
#include "spam/spam_model.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

_Static_assert(sizeof(struct spam_model_header) == 64, "the file header is 64 bytes");
#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the model file is little-endian; a big-endian build needs byte swapping here"
#endif

/* A 64-bit checksum of the file, eight bytes at a time; the checksum
 * field counts as zero. */
static uint64_t spam_model_checksum(const void *data, size_t size)
{
	const unsigned char *p = data;
	uint64_t h = 0x9e3779b97f4a7c15ull ^ size;
	size_t off_sum = offsetof(struct spam_model_header, checksum);

	for (size_t i = 0; i + 8 <= size; i += 8) {
		uint64_t v;

		if (i == off_sum)
			v = 0;
		else
			memcpy(&v, p + i, 8);
		h ^= v;
		h *= 0xff51afd7ed558ccdull;
		h ^= h >> 32;
	}
	h ^= h >> 29;
	h *= 0xc4ceb9fe1a85ec53ull;
	h ^= h >> 32;
	return h;
}

static size_t spam_model_bytes(unsigned bits)
{
	return sizeof(struct spam_model_header) + ((size_t)2 << bits) * sizeof(float);
}

int spam_model_open(struct spam_model *m, const void *data, size_t size, const char **error_r)
{
	struct spam_model_header h;

	memset(m, 0, sizeof(*m));
	if (size < sizeof(h)) {
		*error_r = "the model file is too short";
		return -1;
	}
	memcpy(&h, data, sizeof(h));
	if (memcmp(h.magic, SPAM_MODEL_MAGIC, 8) != 0) {
		*error_r = "not a Yubin spam model (bad magic)";
		return -1;
	}
	if (h.version != SPAM_MODEL_VERSION) {
		*error_r = "the model file has a version this build does not read";
		return -1;
	}
	if (h.bits < SPAM_MODEL_BITS_MIN || h.bits > SPAM_MODEL_BITS_MAX ||
	    size != spam_model_bytes(h.bits)) {
		*error_r = "the model file has the wrong size for its header";
		return -1;
	}
	if (spam_model_checksum(data, size) != h.checksum) {
		*error_r = "the model file is damaged (checksum mismatch)";
		return -1;
	}
	m->hdr = data;
	m->w = (const float *)((const char *)data + sizeof(h));
	m->mask = (uint32_t)((1u << h.bits) - 1);
	m->size = size;
	return 0;
}

int spam_model_new(struct spam_model *m, unsigned bits, unsigned osb_window, uint32_t flags)
{
	memset(m, 0, sizeof(*m));
	if (bits < SPAM_MODEL_BITS_MIN || bits > SPAM_MODEL_BITS_MAX)
		return -1;
	m->size = spam_model_bytes(bits);
	m->whdr = calloc(1, m->size);
	if (m->whdr == NULL)
		return -1;
	memcpy(m->whdr->magic, SPAM_MODEL_MAGIC, 8);
	m->whdr->version = SPAM_MODEL_VERSION;
	m->whdr->bits = bits;
	m->whdr->osb_window = osb_window;
	m->whdr->flags = flags;
	m->hdr = m->whdr;
	m->ww = (float *)(m->whdr + 1);
	m->wg = m->ww + ((size_t)1 << bits);
	m->w = m->ww;
	m->mask = (uint32_t)((1u << bits) - 1);
	return 0;
}

int spam_model_copy(struct spam_model *dst, const struct spam_model *src)
{
	memset(dst, 0, sizeof(*dst));
	dst->whdr = malloc(src->size);
	if (dst->whdr == NULL)
		return -1;
	memcpy(dst->whdr, src->hdr, src->size);
	dst->size = src->size;
	dst->hdr = dst->whdr;
	dst->ww = (float *)(dst->whdr + 1);
	dst->w = dst->ww;
	dst->mask = src->mask;
	dst->wg = dst->ww + (size_t)src->mask + 1;
	return 0;
}

void spam_model_free(struct spam_model *m)
{
	if (m == NULL)
		return;
	free(m->whdr);
	memset(m, 0, sizeof(*m));
}

void spam_model_seal(struct spam_model *m, int64_t now, const void **data_r, size_t *size_r)
{
	m->whdr->updated = now;
	m->whdr->checksum = 0;
	m->whdr->checksum = spam_model_checksum(m->whdr, m->size);
	*data_r = m->whdr;
	*size_r = m->size;
}

static double spam_model_sum(const struct spam_model *m, const struct spam_tokens *t)
{
	const float *w = m->w;
	uint32_t mask = m->mask;
	double s = 0;

	for (size_t i = 0; i < t->count; i++)
		s += w[t->hash[i] & mask];
	return s;
}

static double spam_model_norm(const struct spam_model *m, const struct spam_tokens *t)
{
	if ((m->hdr->flags & SPAM_MODEL_NORM) == 0)
		return 1;
	return t->count > 0 ? 1.0 / sqrt((double)t->count) : 0;
}

double spam_model_score(const struct spam_model *base, const struct spam_model *own,
			const struct spam_tokens *t)
{
	double s = base->hdr->bias + spam_model_sum(base, t) * spam_model_norm(base, t);

	if (own != NULL)
		s += own->hdr->bias + spam_model_sum(own, t) * spam_model_norm(own, t);
	return s;
}

double spam_model_probability(double score)
{
	return 1.0 / (1.0 + exp(-score));
}

double spam_model_train(struct spam_model *m, const struct spam_model *base,
			const struct spam_tokens *t, bool is_spam, float rate)
{
	double s = spam_model_score(base != NULL ? base : m, base != NULL ? m : NULL, t);
	double g = ((is_spam ? 1.0 : 0.0) - spam_model_probability(s)) * spam_model_norm(m, t);
	float g2 = (float)(g * g);

	/* AdaGrad: each weight's step shrinks as its feature is seen more */
	for (size_t i = 0; i < t->count; i++) {
		size_t k = t->hash[i] & m->mask;

		m->wg[k] += g2;
		m->ww[k] += (float)(rate * g / sqrt(m->wg[k] + 1e-6f));
	}
	m->whdr->bias += (float)(rate * g * 0.01);
	return s;
}

/* m's own part of the score of t (the score with m on top of base, less
 * base's alone). */
static double spam_model_own_part(const struct spam_model *m, const struct spam_model *base,
				  const struct spam_tokens *t)
{
	return base != NULL ? spam_model_score(base, m, t) - spam_model_score(base, NULL, t)
			    : spam_model_score(m, NULL, t);
}

int spam_model_untrain(struct spam_model *m, const struct spam_model *base, const struct spam_tokens *t,
		       bool was_spam, double tolerance)
{
	float *w = malloc((t->count + 1) * sizeof(*w)), *g = malloc((t->count + 1) * sizeof(*g));
	float rate = 1.0f;

	if (w == NULL || g == NULL) {
		free(w);
		free(g);
		return -1;
	}
	for (int step = 0; step < 24; step++) {
		double own = spam_model_own_part(m, base, t), after;

		if (was_spam ? own <= tolerance : own >= -tolerance)
			break;
		for (size_t i = 0; i < t->count; i++) {
			w[i] = m->ww[t->hash[i] & m->mask];
			g[i] = m->wg[t->hash[i] & m->mask];
		}
		w[t->count] = m->whdr->bias;
		spam_model_train(m, base, t, !was_spam, rate);
		after = spam_model_own_part(m, base, t);
		if (was_spam ? after < -tolerance : after > tolerance) {
			/* past zero: back, and a smaller step */
			for (size_t i = t->count; i-- > 0;) {
				m->ww[t->hash[i] & m->mask] = w[i];
				m->wg[t->hash[i] & m->mask] = g[i];
			}
			m->whdr->bias = w[t->count];
			rate /= 2;
		}
	}
	free(w);
	free(g);
	return 0;
}

void spam_model_count(struct spam_model *m, bool is_spam, int delta)
{
	uint64_t *n = is_spam ? &m->whdr->spam : &m->whdr->ham;

	if (delta < 0 && *n < (uint64_t)-delta)
		*n = 0;
	else
		*n += (uint64_t)(int64_t)delta;
}

size_t spam_model_used(const struct spam_model *m)
{
	size_t n = 0;

	for (size_t i = 0; i <= m->mask; i++)
		n += m->w[i] != 0;
	return n;
}

size_t spam_model_explain(const struct spam_model *base, const struct spam_model *own,
			  const struct spam_tokens *t, struct spam_contrib *out, size_t n)
{
	double norm = spam_model_norm(base, t);
	size_t got = 0;

	if (n == 0)
		return 0;

	for (size_t i = 0; i < t->count; i++) {
		double w = base->w[t->hash[i] & base->mask];
		size_t j;

		if (own != NULL)
			w += own->w[t->hash[i] & own->mask];
		w *= norm;
		if (got == n && fabs(w) <= fabs(out[n - 1].weight))
			continue;
		j = got < n ? got++ : n - 1;
		/* insertion into the sorted list */
		while (j > 0 && fabs(out[j - 1].weight) < fabs(w)) {
			out[j] = out[j - 1];
			j--;
		}
		out[j].index = i;
		out[j].weight = w;
	}
	return got;
}
