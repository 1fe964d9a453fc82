#ifndef YUBIN_POLICY_TLSRPT_H
#define YUBIN_POLICY_TLSRPT_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/json.h"

/* The daily TLS report (RFC 8460 §4) from the day's journal of outbound
 * TLS results (server/outbound_sts.c: one tab-separated line per session,
 * DOMAIN TYPE MODE MAX_AGE MX-PATTERNS RESULT MX-HOST MX-IP). Pure: the
 * journal text in, the JSON report out; every table bounded. */

#define TLSRPT_POLICIES_MAX 16		/* distinct policies per domain and day */
#define TLSRPT_DETAILS_MAX 64		/* failure rows per policy */

struct tlsrpt_meta {
	const char *organization;	/* organization-name: the server's host name */
	const char *contact;		/* contact-info: the reports' sender */
	const char *report_id;
	const char *start, *end;	/* RFC 3339 date-times of the day */
};

/* Calls cb for each policy domain with results in the journal, once each
 * (in the order first seen, at most max domains). */
void tlsrpt_journal_domains(const char *journal, size_t len, size_t max,
			    void (*cb)(const char *domain, void *ctx), void *ctx);

/* The report of domain into j: 1 written, 0 the journal has no line of
 * the domain. Malformed lines are skipped. */
int tlsrpt_report_json(const char *journal, size_t len, const char *domain, const struct tlsrpt_meta *m,
		       struct json *j);

#endif
