#ifndef YUBIN_SPAM_SPAM_RULES_H
#define YUBIN_SPAM_SPAM_RULES_H

#include <stdbool.h>
#include <stddef.h>

/* Rules added to the classifier's score (pure): the results of the inbound
 * checks (SPF, DKIM, DMARC) and a few header anomalies, each with a fixed
 * weight on the same log-odds scale. The daemon passes the results it has
 * just computed; for a stored message they are read back from its
 * Authentication-Results field. */

struct spam_auth {
	/* RFC 8601 result names ("pass", "fail", ...); "" when not checked */
	char spf[16], dkim[16], dmarc[16];
};

struct spam_rule_hit {
	const char *name;	/* e.g. "DMARC_FAIL" */
	double score;
};

#define SPAM_RULES_MAX 8

/* Reads the results of the message's topmost Authentication-Results field
 * (the receiving server adds its own on top, after removing copies forged
 * from outside). DKIM: "pass" when any signature passed, else the first
 * result. Returns false when there is no such field. */
bool spam_auth_from_message(const char *msg, size_t size, struct spam_auth *auth_r);

/* The rules that fire for the message and its check results (auth may be
 * NULL): at most SPAM_RULES_MAX into hits; returns how many, with their
 * sum in *total_r. */
size_t spam_rules_eval(const char *msg, size_t size, const struct spam_auth *auth,
		       struct spam_rule_hit *hits, double *total_r);

#endif
