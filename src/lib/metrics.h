#ifndef YUBIN_LIB_METRICS_H
#define YUBIN_LIB_METRICS_H

#include <stddef.h>
#include <stdint.h>

struct strbuf;

/* A registry of counters, gauges and histograms, written out in the
 * Prometheus text exposition format (version 0.0.4).
 *
 * The families and their series are fixed when the registry is made (a
 * table, one label at most per family with its values listed), so the hot
 * path is an index: one relaxed atomic add into the calling thread's
 * shard, no lock and no lookup. Each thread takes a shard of its own at
 * its first update (threads beyond the number of shards share one, still
 * correctly, as the adds are atomic); a scrape sums the shards. Shards
 * start on separate cache lines, so the loops and workers do not bounce
 * a line between cores. */

enum metric_kind {
	METRIC_COUNTER,
	METRIC_GAUGE,
	METRIC_HISTOGRAM,
};

struct metric_def {
	const char *name;		/* [a-zA-Z_:][a-zA-Z0-9_:]* */
	const char *help;
	enum metric_kind kind;
	const char *label;		/* NULL: one series without labels */
	const char *const *values;	/* the label's values, NULL-terminated */
	/* histogram: the buckets' upper bounds, strictly ascending (+Inf is
	 * implied), in the unit observed */
	const uint64_t *bounds;
	size_t nbounds;
	/* values, sums and bounds are shown divided by 10^decimals (6:
	 * observed in microseconds, shown in seconds); at most 9 */
	unsigned decimals;
	/* A gauge read at scrape time instead of kept in the registry: the
	 * value of series i. It must be cheap and must not block (it runs on
	 * the thread that renders, an event loop). */
	int64_t (*read)(size_t series, void *arg);
	void *arg;
};

struct metrics;

/* Checks the table (names, labels, bounds) and makes the registry with
 * shards shards (1 to 256). NULL with *error_r set on a bad table. defs
 * and the strings it points to must outlive the registry. */
struct metrics *metrics_new(const struct metric_def *defs, size_t ndefs, unsigned shards,
			    const char **error_r);
/* Accepts NULL. */
void metrics_free(struct metrics *m);

/* Adds n to series `series` (the index of its label value; 0 without a
 * label) of a counter or kept gauge `family`. Out-of-range indexes and
 * the other kinds are ignored. */
void metrics_add(struct metrics *m, size_t family, size_t series, int64_t n);
/* Counts value into a histogram's series. */
void metrics_observe(struct metrics *m, size_t family, size_t series, uint64_t value);
/* The index of a label value in family, or -1. */
long metrics_series_find(const struct metrics *m, size_t family, const char *value);
/* The current value of a counter's or gauge's series (summed over the
 * shards), or a histogram series' count. */
int64_t metrics_value(const struct metrics *m, size_t family, size_t series);

/* Writes every family: # HELP, # TYPE, then its series; a histogram as
 * cumulative NAME_bucket{le="..."} lines ending with +Inf, then NAME_sum
 * and NAME_count. Label values and help texts are escaped as the format
 * says. */
void metrics_render(const struct metrics *m, struct strbuf *out);

/* A monotonic clock in microseconds, for durations to observe. */
uint64_t metrics_now_us(void);

#endif
