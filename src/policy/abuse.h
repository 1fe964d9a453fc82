#ifndef YUBIN_POLICY_ABUSE_H
#define YUBIN_POLICY_ABUSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Compromised-account detection (pure: the daemon gathers the signals and
 * passes them in). A stolen password shows as a burst of sending far above
 * the account's usual rate, many recipients it never wrote to before, a
 * flood of bounces for mail it sent, or logins from several countries in a
 * short time. Crossing any threshold suspends the account's sending. */

struct abuse_thresholds {
	unsigned burst_min;		/* recipients in 60 minutes, at least ... */
	unsigned burst_factor;		/* ... and this many times the usual peak hour */
	unsigned new_rcpt_max;		/* distinct new recipients within ... */
	unsigned new_rcpt_window;	/* ... seconds */
	unsigned bounce_min;		/* bounces in 24 hours, at least ... */
	unsigned bounce_percent;	/* ... and this percentage of the recipients sent */
	unsigned login_countries;	/* countries with a successful login within ... */
	unsigned login_window;		/* ... seconds */
};

/* What the daemon knows about an account at one moment. Counts start
 * again after a suspension is lifted. */
struct abuse_signals {
	uint64_t hour_sent;		/* recipients in the last 60 minutes */
	uint64_t usual_peak_hour;	/* busiest hour of the previous 7 days */
	uint64_t new_rcpts;		/* distinct new recipients in new_rcpt_window */
	uint64_t bounces_day;		/* bounces received in the last 24 hours */
	uint64_t sent_day;		/* recipients in the last 24 hours */
	unsigned countries;		/* distinct login countries in login_window */
};

enum abuse_reason {
	ABUSE_NONE,
	ABUSE_BURST,
	ABUSE_NEW_RCPTS,
	ABUSE_BOUNCES,
	ABUSE_COUNTRIES,
};

/* The defaults documented in docs/operations.md. */
void abuse_thresholds_default(struct abuse_thresholds *t);
/* The first threshold crossed (a 0 threshold is off), with a sentence
 * saying why in why. */
enum abuse_reason abuse_evaluate(const struct abuse_thresholds *t, const struct abuse_signals *sig,
				 char *why, size_t size);
/* "burst", "new-recipients", "bounces", "countries". */
const char *abuse_reason_name(enum abuse_reason r);

/* A set of recipients first written to at some time, for the "many new
 * recipients" signal: keeps 64-bit hashes with their time. */
struct abuse_rcptset {
	uint64_t *hash;
	int64_t *ts;
	size_t n, cap;
};

uint64_t abuse_rcpt_hash(const char *address);
/* Adds h at now unless present; entries older than window are dropped.
 * Returns the number of entries within the window after the add. */
size_t abuse_rcptset_add(struct abuse_rcptset *set, uint64_t h, int64_t now, unsigned window);
bool abuse_rcptset_has(const struct abuse_rcptset *set, uint64_t h);
void abuse_rcptset_clear(struct abuse_rcptset *set);

/* The country code in an `auth-ok` event's detail: the text after
 * "country=" (two letters, upper-cased into cc). false when absent. */
bool abuse_detail_country(const char *detail, char cc[3]);

#endif
