#ifndef YUBIN_POLICY_BRUTEFORCE_H
#define YUBIN_POLICY_BRUTEFORCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Brute-force defence: failed logins counted per client address (IPv6 by
 * /64) and per account over a sliding window. An address gets growing
 * reply delays, then a temporary block; an account under attack is only
 * slowed (never blocked), and not at all for addresses it has logged in
 * from before, so the owner is never locked out by attacks from elsewhere.
 * The counters live in memory (one table shared by all threads); the
 * blocks themselves are kept by the caller in the directory, which is the
 * truth (yubinctl security unblock deletes them there). */

struct bf_limits {
	unsigned window;		/* seconds failures are counted over */
	unsigned ip_delay_after;	/* failures from an address before replies slow down */
	unsigned ip_block_after;	/* failures from an address that block it (0: never) */
	unsigned block_time;		/* seconds of the first block */
	unsigned block_max;		/* a repeated block doubles, up to this */
	unsigned account_delay_after;	/* failures for an account before it is slowed (0: never) */
	unsigned delay_max;		/* longest reply delay, seconds */
};

struct bf_table;

/* entries: how many keys are remembered (oldest forgotten first). */
struct bf_table *bf_table_new(size_t entries);
void bf_table_free(struct bf_table *t);

/* What a failed login did to the counters. */
struct bf_failure {
	unsigned ip_failures;		/* within the window, this one included */
	unsigned account_failures;
	unsigned delay_ms;		/* delay the failure reply by this */
	bool block;			/* the address is to be blocked now */
	unsigned block_seconds;
	bool throttle_start;		/* the account just started being slowed */
};

/* Counts a failed login from ip_key for account (account may be "" when
 * the name is not an address) at time now. */
void bf_failure(struct bf_table *t, const struct bf_limits *lim, const char *ip_key,
		const char *account, int64_t now, struct bf_failure *out);
/* The delay for any login for account from an address that has never
 * logged in to it (0 when the account is not under attack). */
unsigned bf_account_delay_ms(struct bf_table *t, const struct bf_limits *lim, const char *account,
			     int64_t now);
/* One key's counters as they are, so that several nodes can keep them in
 * a shared database: load them before bf_failure, store them after. */
struct bf_state {
	int64_t bucket, last, last_block;
	unsigned cur, prev, blocks;
	bool throttled;
};

/* 1 and key's counters into *st_r when the table knows key, else 0. */
int bf_state_get(struct bf_table *t, const char *key, struct bf_state *st_r);
/* Sets key's counters (st NULL: forgets them). */
void bf_state_set(struct bf_table *t, const char *key, const struct bf_state *st);
/* The failure count of a key in the window (for tests and listings). */
unsigned bf_count(struct bf_table *t, const struct bf_limits *lim, const char *key, int64_t now);
/* Forgets a key's failures (an operator's unblock, or a block lifted). */
void bf_reset(struct bf_table *t, const char *key);
/* The reply delay for n failures: 0 up to after, then 1 s doubling, up to
 * max seconds. */
unsigned bf_delay_ms(unsigned n, unsigned after, unsigned max_s);
/* The length of the blocks-th block in a row (1 = first). */
unsigned bf_block_seconds(const struct bf_limits *lim, unsigned blocks);

#endif
