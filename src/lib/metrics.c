/* The metrics registry and its text format (see metrics.h). */
#include "lib/metrics.h"
#include "lib/strbuf.h"

#include <inttypes.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CELLS_PER_LINE 8	/* 64-byte cache lines of 8-byte cells */

struct metric_family {
	const struct metric_def *def;
	size_t nseries;		/* 1 without a label */
	size_t first;		/* its first cell in a shard */
	size_t stride;		/* cells per series */
};

struct metrics {
	struct metric_family *families;
	size_t nfamilies;
	unsigned nshards;
	size_t ncells;		/* per shard, rounded up to a cache line */
	_Atomic int64_t *cells;	/* nshards * ncells */
};

static atomic_uint next_thread;
static _Thread_local unsigned thread_slot;	/* 0 until the thread's first update */

static bool name_is_valid(const char *s, bool colon)
{
	if (s == NULL || s[0] == '\0' || (s[0] >= '0' && s[0] <= '9'))
		return false;
	for (; *s != '\0'; s++) {
		char c = *s;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || (colon && c == ':')))
			return false;
	}
	return true;
}

static const char *def_check(const struct metric_def *d)
{
	if (!name_is_valid(d->name, true))
		return "bad metric name";
	if (d->help == NULL)
		return "a metric has no help text";
	if (d->kind != METRIC_COUNTER && d->kind != METRIC_GAUGE && d->kind != METRIC_HISTOGRAM)
		return "bad metric kind";
	if (d->decimals > 9)
		return "more than 9 decimals";
	if (d->read != NULL && d->kind != METRIC_GAUGE)
		return "only a gauge can be read at scrape time";
	if (d->label != NULL) {
		if (!name_is_valid(d->label, false) || strncmp(d->label, "__", 2) == 0 ||
		    (d->kind == METRIC_HISTOGRAM && strcmp(d->label, "le") == 0))
			return "bad label name";
		if (d->values == NULL || d->values[0] == NULL)
			return "a label without values";
	}
	if (d->kind == METRIC_HISTOGRAM) {
		if (d->nbounds == 0 || d->bounds == NULL)
			return "a histogram without buckets";
		for (size_t i = 1; i < d->nbounds; i++) {
			if (d->bounds[i] <= d->bounds[i - 1])
				return "histogram bounds not ascending";
		}
	}
	return NULL;
}

struct metrics *metrics_new(const struct metric_def *defs, size_t ndefs, unsigned shards,
			    const char **error_r)
{
	struct metrics *m;
	size_t cells = 0;

	if (shards == 0 || shards > 256) {
		*error_r = "bad number of shards";
		return NULL;
	}
	for (size_t i = 0; i < ndefs; i++) {
		if ((*error_r = def_check(&defs[i])) != NULL)
			return NULL;
		for (size_t j = 0; j < i; j++) {
			if (strcmp(defs[i].name, defs[j].name) == 0) {
				*error_r = "a metric name used twice";
				return NULL;
			}
		}
	}
	m = calloc(1, sizeof(*m));
	if (m == NULL || (m->families = calloc(ndefs + 1, sizeof(*m->families))) == NULL) {
		free(m);
		*error_r = "out of memory";
		return NULL;
	}
	m->nfamilies = ndefs;
	m->nshards = shards;
	for (size_t i = 0; i < ndefs; i++) {
		struct metric_family *f = &m->families[i];

		f->def = &defs[i];
		f->nseries = 1;
		if (defs[i].label != NULL) {
			for (f->nseries = 0; defs[i].values[f->nseries] != NULL; f->nseries++)
				;
		}
		/* a histogram: one cell per bucket, +Inf's, and the sum */
		f->stride = defs[i].kind == METRIC_HISTOGRAM ? defs[i].nbounds + 2 : 1;
		f->first = cells;
		if (defs[i].read == NULL)
			cells += f->nseries * f->stride;
	}
	m->ncells = (cells + CELLS_PER_LINE - 1) / CELLS_PER_LINE * CELLS_PER_LINE;
	if (m->ncells == 0)
		m->ncells = CELLS_PER_LINE;
	m->cells = aligned_alloc(64, m->ncells * shards * sizeof(*m->cells));
	if (m->cells == NULL) {
		metrics_free(m);
		*error_r = "out of memory";
		return NULL;
	}
	for (size_t i = 0; i < m->ncells * shards; i++)
		atomic_init(&m->cells[i], 0);
	return m;
}

void metrics_free(struct metrics *m)
{
	if (m == NULL)
		return;
	free(m->cells);
	free(m->families);
	free(m);
}

/* The calling thread's shard. */
static _Atomic int64_t *shard_cells(struct metrics *m)
{
	if (thread_slot == 0)
		thread_slot = atomic_fetch_add_explicit(&next_thread, 1, memory_order_relaxed) + 1;
	return m->cells + (size_t)((thread_slot - 1) % m->nshards) * m->ncells;
}

void metrics_add(struct metrics *m, size_t family, size_t series, int64_t n)
{
	const struct metric_family *f;

	if (m == NULL || family >= m->nfamilies)
		return;
	f = &m->families[family];
	if (series >= f->nseries || f->def->kind == METRIC_HISTOGRAM || f->def->read != NULL)
		return;
	atomic_fetch_add_explicit(&shard_cells(m)[f->first + series], n, memory_order_relaxed);
}

void metrics_observe(struct metrics *m, size_t family, size_t series, uint64_t value)
{
	const struct metric_family *f;
	_Atomic int64_t *c;
	size_t b = 0;

	if (m == NULL || family >= m->nfamilies)
		return;
	f = &m->families[family];
	if (series >= f->nseries || f->def->kind != METRIC_HISTOGRAM)
		return;
	while (b < f->def->nbounds && value > f->def->bounds[b])
		b++;
	c = shard_cells(m) + f->first + series * f->stride;
	atomic_fetch_add_explicit(&c[b], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&c[f->def->nbounds + 1], (int64_t)value, memory_order_relaxed);
}

long metrics_series_find(const struct metrics *m, size_t family, const char *value)
{
	const struct metric_def *d;

	if (m == NULL || family >= m->nfamilies || value == NULL)
		return -1;
	d = m->families[family].def;
	if (d->label == NULL)
		return -1;
	for (long i = 0; d->values[i] != NULL; i++) {
		if (strcmp(d->values[i], value) == 0)
			return i;
	}
	return -1;
}

/* One cell summed over the shards. */
static int64_t cell_sum(const struct metrics *m, size_t cell)
{
	int64_t v = 0;

	for (unsigned s = 0; s < m->nshards; s++)
		v += atomic_load_explicit(&m->cells[(size_t)s * m->ncells + cell], memory_order_relaxed);
	return v;
}

int64_t metrics_value(const struct metrics *m, size_t family, size_t series)
{
	const struct metric_family *f;
	int64_t v = 0;

	if (m == NULL || family >= m->nfamilies)
		return 0;
	f = &m->families[family];
	if (series >= f->nseries)
		return 0;
	if (f->def->read != NULL)
		return f->def->read(series, f->def->arg);
	if (f->def->kind != METRIC_HISTOGRAM)
		return cell_sum(m, f->first + series);
	for (size_t b = 0; b <= f->def->nbounds; b++)
		v += cell_sum(m, f->first + series * f->stride + b);
	return v;
}

/* ---- the text format ---------------------------------------------------- */

/* v / 10^decimals written exactly: "12", "0.25", "-1.5". */
static void put_number(struct strbuf *out, int64_t v, unsigned decimals)
{
	uint64_t scale = 1, mag = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v, frac;
	char digits[16];
	int n;

	for (unsigned i = 0; i < decimals; i++)
		scale *= 10;
	if (v < 0)
		strbuf_append_c(out, '-');
	strbuf_printf(out, "%" PRIu64, mag / scale);
	frac = mag % scale;
	if (frac == 0)
		return;
	n = (int)decimals;
	while (frac % 10 == 0) {
		frac /= 10;
		n--;
	}
	snprintf(digits, sizeof(digits), ".%0*" PRIu64, n, frac);
	strbuf_append_str(out, digits);
}

/* HELP text: backslash and newline escaped; label values: double quote
 * too. */
static void put_escaped(struct strbuf *out, const char *s, bool quote)
{
	for (; *s != '\0'; s++) {
		if (*s == '\\')
			strbuf_append(out, "\\\\", 2);
		else if (*s == '\n')
			strbuf_append(out, "\\n", 2);
		else if (*s == '"' && quote)
			strbuf_append(out, "\\\"", 2);
		else
			strbuf_append_c(out, *s);
	}
}

/* NAME{label="value",le="bound"} without the value; le NULL: no le. */
static void put_series(struct strbuf *out, const char *name, const char *suffix,
		       const struct metric_def *d, size_t series, const char *le)
{
	strbuf_append_str(out, name);
	strbuf_append_str(out, suffix);
	if (d->label == NULL && le == NULL)
		return;
	strbuf_append_c(out, '{');
	if (d->label != NULL) {
		strbuf_printf(out, "%s=\"", d->label);
		put_escaped(out, d->values[series], true);
		strbuf_append_c(out, '"');
		if (le != NULL)
			strbuf_append_c(out, ',');
	}
	if (le != NULL)
		strbuf_printf(out, "le=\"%s\"", le);
	strbuf_append_c(out, '}');
}

static void render_histogram(const struct metrics *m, const struct metric_family *f, size_t series,
			     struct strbuf *out)
{
	const struct metric_def *d = f->def;
	size_t base = f->first + series * f->stride;
	int64_t count = 0;

	for (size_t b = 0; b <= d->nbounds; b++) {
		struct strbuf le = STRBUF_INIT;

		count += cell_sum(m, base + b);
		if (b < d->nbounds)
			put_number(&le, (int64_t)d->bounds[b], d->decimals);
		else
			strbuf_append_str(&le, "+Inf");
		put_series(out, d->name, "_bucket", d, series, strbuf_cstr(&le));
		strbuf_printf(out, " %" PRId64 "\n", count);
		strbuf_free(&le);
	}
	put_series(out, d->name, "_sum", d, series, NULL);
	strbuf_append_c(out, ' ');
	put_number(out, cell_sum(m, base + d->nbounds + 1), d->decimals);
	strbuf_append_c(out, '\n');
	put_series(out, d->name, "_count", d, series, NULL);
	strbuf_printf(out, " %" PRId64 "\n", count);
}

void metrics_render(const struct metrics *m, struct strbuf *out)
{
	static const char *const kinds[] = { "counter", "gauge", "histogram" };

	if (m == NULL)
		return;
	for (size_t i = 0; i < m->nfamilies; i++) {
		const struct metric_family *f = &m->families[i];
		const struct metric_def *d = f->def;

		strbuf_printf(out, "# HELP %s ", d->name);
		put_escaped(out, d->help, false);
		strbuf_printf(out, "\n# TYPE %s %s\n", d->name, kinds[d->kind]);
		for (size_t s = 0; s < f->nseries; s++) {
			if (d->kind == METRIC_HISTOGRAM) {
				render_histogram(m, f, s, out);
				continue;
			}
			put_series(out, d->name, "", d, s, NULL);
			strbuf_append_c(out, ' ');
			put_number(out, metrics_value(m, i, s), d->decimals);
			strbuf_append_c(out, '\n');
		}
	}
}

uint64_t metrics_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}
