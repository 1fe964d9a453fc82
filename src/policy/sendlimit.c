/* Sliding-window sending limits: see sendlimit.h. */
#include "policy/sendlimit.h"
#include "lib/str.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#define SENDLIMIT_MAX 10000000

void sendwin_init(struct sendwin *w, unsigned bucket_secs, unsigned nbuckets)
{
	memset(w, 0, sizeof(*w));
	w->bucket_secs = bucket_secs > 0 ? bucket_secs : 1;
	w->nbuckets = nbuckets == 0 ? 1 : nbuckets > SENDWIN_MAX_BUCKETS ? SENDWIN_MAX_BUCKETS : nbuckets;
}

void sendwin_clear(struct sendwin *w)
{
	memset(w->counts, 0, sizeof(w->counts));
}

static int64_t sendwin_index(const struct sendwin *w, int64_t t)
{
	return t < 0 ? 0 : t / w->bucket_secs;
}

static uint32_t *sendwin_slot(struct sendwin *w, int64_t idx)
{
	return &w->counts[(uint64_t)idx % w->nbuckets];
}

/* Moves the newest bucket to now's, emptying the buckets that left. A clock
 * that went back keeps the newest bucket. */
static void sendwin_advance(struct sendwin *w, int64_t now)
{
	int64_t idx = sendwin_index(w, now);

	if (idx <= w->head)
		return;
	if (idx - w->head >= (int64_t)w->nbuckets) {
		sendwin_clear(w);
	} else {
		for (int64_t i = w->head + 1; i <= idx; i++)
			*sendwin_slot(w, i) = 0;
	}
	w->head = idx;
}

void sendwin_add(struct sendwin *w, int64_t now, uint32_t n)
{
	int64_t idx;
	uint32_t *slot;

	sendwin_advance(w, now);
	idx = sendwin_index(w, now);
	if (idx <= w->head - (int64_t)w->nbuckets)
		return;		/* older than the window: nothing to count */
	slot = sendwin_slot(w, idx > w->head ? w->head : idx);
	*slot = *slot > UINT32_MAX - n ? UINT32_MAX : *slot + n;
}

uint64_t sendwin_count(struct sendwin *w, int64_t now)
{
	uint64_t sum = 0;

	sendwin_advance(w, now);
	for (unsigned i = 0; i < w->nbuckets; i++)
		sum += w->counts[i];
	return sum;
}

int64_t sendwin_free_at(struct sendwin *w, int64_t now, uint64_t limit)
{
	uint64_t count = sendwin_count(w, now), dropped = 0;

	if (count < limit)
		return now;
	/* Oldest bucket first: when enough have left, one more fits. */
	for (int64_t idx = w->head - (int64_t)w->nbuckets + 1; idx <= w->head; idx++) {
		dropped += *sendwin_slot(w, idx);
		if (count - dropped < limit)
			return (idx + (int64_t)w->nbuckets) * (int64_t)w->bucket_secs;
	}
	/* limit 0 never frees; callers treat 0 as unlimited anyway */
	return (w->head + (int64_t)w->nbuckets) * (int64_t)w->bucket_secs;
}

void sendlimit_init(struct sendlimit *l)
{
	sendwin_init(&l->hour, SENDLIMIT_HOUR_BUCKET, SENDLIMIT_HOUR_BUCKETS);
	sendwin_init(&l->day, SENDLIMIT_DAY_BUCKET, SENDLIMIT_DAY_BUCKETS);
}

enum sendlimit_verdict sendlimit_check_n(struct sendlimit *l, int64_t now, uint32_t n,
					 uint64_t limit_hour, uint64_t limit_day, int64_t *reset_r)
{
	/* n more fit while count + n <= limit, i.e. count < limit - n + 1 */
	if (limit_day > 0 && sendwin_count(&l->day, now) + n > limit_day) {
		*reset_r = sendwin_free_at(&l->day, now, n <= limit_day ? limit_day - n + 1 : 1);
		return SENDLIMIT_DAY;
	}
	if (limit_hour > 0 && sendwin_count(&l->hour, now) + n > limit_hour) {
		*reset_r = sendwin_free_at(&l->hour, now, n <= limit_hour ? limit_hour - n + 1 : 1);
		return SENDLIMIT_HOUR;
	}
	*reset_r = now;
	return SENDLIMIT_OK;
}

enum sendlimit_verdict sendlimit_check(struct sendlimit *l, int64_t now, uint64_t limit_hour,
				       uint64_t limit_day, int64_t *reset_r)
{
	return sendlimit_check_n(l, now, 1, limit_hour, limit_day, reset_r);
}

void sendlimit_add(struct sendlimit *l, int64_t now, uint32_t n)
{
	sendwin_add(&l->hour, now, n);
	sendwin_add(&l->day, now, n);
}

void sendlimit_reply_text(enum sendlimit_verdict v, const char *address, uint64_t limit,
			  int64_t now, int64_t reset, char *buf, size_t size)
{
	time_t t = (time_t)reset;
	struct tm tm;
	char when[40];
	int64_t minutes = reset > now ? (reset - now + 59) / 60 : 0;

	if (gmtime_r(&t, &tm) == NULL || strftime(when, sizeof(when), "%Y-%m-%d %H:%M UTC", &tm) == 0)
		snprintf(when, sizeof(when), "%lld", (long long)reset);
	snprintf(buf, size, "%s sending limit reached: %s may send to %llu recipients per %s;"
		 " sending resumes at %s (in %lld minute%s)",
		 v == SENDLIMIT_DAY ? "Daily" : "Hourly", address, (unsigned long long)limit,
		 v == SENDLIMIT_DAY ? "day" : "hour", when, (long long)minutes, minutes == 1 ? "" : "s");
}

int sendlimit_parse(const char *text, uint64_t *limit_r, const char **error_r)
{
	if (str_eq_ci(text, "unlimited")) {
		*limit_r = 0;
		return 0;
	}
	if (str_parse_uint(text, SENDLIMIT_MAX, limit_r) < 0) {
		*error_r = "must be a number of recipients from 0 to 10000000, or unlimited (0 means unlimited)";
		return -1;
	}
	return 0;
}
