#ifndef YUBIN_POLICY_SENDLIMIT_H
#define YUBIN_POLICY_SENDLIMIT_H

#include <stddef.h>
#include <stdint.h>

/* Sending limits per account, counted per recipient (pure: no I/O, no
 * clock; the caller passes the time). Each limit is a sliding window made
 * of buckets: the hour of 60 one-minute buckets, the day of 144 ten-minute
 * buckets, so "1500 per hour" means in any 60 minutes, not per clock hour,
 * and the time at which sending resumes can be told exactly. */

#define SENDWIN_MAX_BUCKETS 144
#define SENDLIMIT_HOUR_BUCKET 60	/* seconds */
#define SENDLIMIT_HOUR_BUCKETS 60
#define SENDLIMIT_DAY_BUCKET 600
#define SENDLIMIT_DAY_BUCKETS 144

/* A window of nbuckets buckets of bucket_secs seconds. At time t it holds
 * the buckets (t/bucket_secs - nbuckets, t/bucket_secs]. */
struct sendwin {
	unsigned bucket_secs, nbuckets;
	int64_t head;		/* bucket index of the newest bucket */
	uint32_t counts[SENDWIN_MAX_BUCKETS];
};

void sendwin_init(struct sendwin *w, unsigned bucket_secs, unsigned nbuckets);
/* Adds n at time now (a time before the newest bucket counts in it). */
void sendwin_add(struct sendwin *w, int64_t now, uint32_t n);
/* The sum of the window at time now. */
uint64_t sendwin_count(struct sendwin *w, int64_t now);
/* The earliest time (>= now) at which the window holds fewer than limit,
 * so that one more fits. */
int64_t sendwin_free_at(struct sendwin *w, int64_t now, uint64_t limit);
/* Empties the window. */
void sendwin_clear(struct sendwin *w);

struct sendlimit {
	struct sendwin hour, day;
};

enum sendlimit_verdict {
	SENDLIMIT_OK,
	SENDLIMIT_HOUR,		/* the hourly limit is reached */
	SENDLIMIT_DAY,		/* the daily limit is reached */
};

void sendlimit_init(struct sendlimit *l);
/* Whether one more recipient fits the limits at now (a limit of 0 means
 * unlimited). When not, *reset_r gets the time at which one fits again.
 * Counts nothing: sendlimit_add does. The daily limit wins when both are
 * reached, since it lasts longer. */
enum sendlimit_verdict sendlimit_check(struct sendlimit *l, int64_t now, uint64_t limit_hour,
				       uint64_t limit_day, int64_t *reset_r);
/* As sendlimit_check for n recipients at once (all or none: forwarded
 * copies); *reset_r is when n fit again (never, when n exceeds the limit
 * itself: then when the window is empty). */
enum sendlimit_verdict sendlimit_check_n(struct sendlimit *l, int64_t now, uint32_t n,
					 uint64_t limit_hour, uint64_t limit_day, int64_t *reset_r);
void sendlimit_add(struct sendlimit *l, int64_t now, uint32_t n);

/* The text of the 451 4.7.1 reply (without the codes): which limit, how
 * many recipients it allows, when sending resumes in UTC and in minutes. */
void sendlimit_reply_text(enum sendlimit_verdict v, const char *address, uint64_t limit,
			  int64_t now, int64_t reset, char *buf, size_t size);

/* Parses a limit setting: a number 0..10000000 or "unlimited" (= 0). */
int sendlimit_parse(const char *text, uint64_t *limit_r, const char **error_r);

#endif
