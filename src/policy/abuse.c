/* Compromised-account detection rules: see abuse.h. */
#include "policy/abuse.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void abuse_thresholds_default(struct abuse_thresholds *t)
{
	t->burst_min = 500;
	t->burst_factor = 10;
	t->new_rcpt_max = 200;
	t->new_rcpt_window = 3600;
	t->bounce_min = 50;
	t->bounce_percent = 30;
	t->login_countries = 3;
	t->login_window = 3600;
}

enum abuse_reason abuse_evaluate(const struct abuse_thresholds *t, const struct abuse_signals *sig,
				 char *why, size_t size)
{
	why[0] = '\0';
	if (t->burst_min > 0 && sig->hour_sent >= t->burst_min &&
	    (t->burst_factor == 0 || sig->hour_sent >= (uint64_t)t->burst_factor * sig->usual_peak_hour)) {
		snprintf(why, size, "sent to %llu recipients within 60 minutes; its busiest hour in the"
			 " previous 7 days had %llu", (unsigned long long)sig->hour_sent,
			 (unsigned long long)sig->usual_peak_hour);
		return ABUSE_BURST;
	}
	if (t->new_rcpt_max > 0 && sig->new_rcpts >= t->new_rcpt_max) {
		snprintf(why, size, "sent to %llu new recipients (never written to in the previous 30"
			 " days) within %u minutes", (unsigned long long)sig->new_rcpts,
			 (t->new_rcpt_window + 59) / 60);
		return ABUSE_NEW_RCPTS;
	}
	if (t->bounce_min > 0 && sig->bounces_day >= t->bounce_min && sig->sent_day >= t->bounce_min &&
	    sig->bounces_day * 100 >= (uint64_t)t->bounce_percent * sig->sent_day) {
		snprintf(why, size, "received %llu bounces within 24 hours for %llu recipients sent",
			 (unsigned long long)sig->bounces_day, (unsigned long long)sig->sent_day);
		return ABUSE_BOUNCES;
	}
	if (t->login_countries > 0 && sig->countries >= t->login_countries) {
		snprintf(why, size, "logged in successfully from %u countries within %u minutes",
			 sig->countries, (t->login_window + 59) / 60);
		return ABUSE_COUNTRIES;
	}
	return ABUSE_NONE;
}

const char *abuse_reason_name(enum abuse_reason r)
{
	switch (r) {
	case ABUSE_NONE: return "none";
	case ABUSE_BURST: return "burst";
	case ABUSE_NEW_RCPTS: return "new-recipients";
	case ABUSE_BOUNCES: return "bounces";
	case ABUSE_COUNTRIES: return "countries";
	}
	return "unknown";
}

uint64_t abuse_rcpt_hash(const char *address)
{
	/* FNV-1a, case-folded: only for counting, a collision merely
	 * under-counts by one. */
	uint64_t h = 14695981039346656037ULL;

	for (const unsigned char *p = (const unsigned char *)address; *p != '\0'; p++) {
		unsigned char ch = *p >= 'A' && *p <= 'Z' ? (unsigned char)(*p + 32) : *p;
		h = (h ^ ch) * 1099511628211ULL;
	}
	return h;
}

bool abuse_rcptset_has(const struct abuse_rcptset *set, uint64_t h)
{
	for (size_t i = 0; i < set->n; i++) {
		if (set->hash[i] == h)
			return true;
	}
	return false;
}

size_t abuse_rcptset_add(struct abuse_rcptset *set, uint64_t h, int64_t now, unsigned window)
{
	size_t o = 0;

	for (size_t i = 0; i < set->n; i++) {
		if (set->ts[i] > now - (int64_t)window) {
			set->hash[o] = set->hash[i];
			set->ts[o++] = set->ts[i];
		}
	}
	set->n = o;
	if (abuse_rcptset_has(set, h))
		return set->n;
	if (set->n == set->cap) {
		size_t cap = set->cap == 0 ? 16 : set->cap * 2;
		uint64_t *hash = realloc(set->hash, cap * sizeof(*hash));
		int64_t *ts;

		if (hash == NULL)
			return set->n;
		set->hash = hash;
		ts = realloc(set->ts, cap * sizeof(*ts));
		if (ts == NULL)
			return set->n;
		set->ts = ts;
		set->cap = cap;
	}
	set->hash[set->n] = h;
	set->ts[set->n++] = now;
	return set->n;
}

void abuse_rcptset_clear(struct abuse_rcptset *set)
{
	free(set->hash);
	free(set->ts);
	memset(set, 0, sizeof(*set));
}

bool abuse_detail_country(const char *detail, char cc[3])
{
	const char *p = strstr(detail, "country=");

	if (p == NULL)
		return false;
	p += 8;
	for (int i = 0; i < 2; i++) {
		char ch = p[i];
		if (ch >= 'a' && ch <= 'z')
			ch = (char)(ch - 32);
		if (ch < 'A' || ch > 'Z')
			return false;
		cc[i] = ch;
	}
	if ((p[2] >= 'A' && p[2] <= 'Z') || (p[2] >= 'a' && p[2] <= 'z'))
		return false;
	cc[2] = '\0';
	return true;
}
