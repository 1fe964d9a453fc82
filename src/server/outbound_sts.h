#ifndef YUBIN_SERVER_OUTBOUND_STS_H
#define YUBIN_SERVER_OUTBOUND_STS_H

#include <stdbool.h>
#include <stddef.h>

#include "policy/mta_sts.h"

/* Outbound MTA-STS (RFC 8461) for the delivery threads: the recipient
 * domain's policy (the _mta-sts TXT record through dns.resolver, the
 * policy fetched over HTTPS from mta-sts.DOMAIN and kept in a per-domain
 * cache for its max_age, fetched again when the record's id changes), and
 * the journal of TLS results per destination that the daily TLS reports
 * (server/tlsrpt.c, RFC 8460) are made from. */

struct outbound_sts {
	bool active;			/* a testing or enforce policy applies */
	bool enforce;
	char domain[256];		/* the policy domain (lower case) */
	char id[MTA_STS_ID_MAX + 1];
	struct mta_sts_policy policy;
	bool fetch_error;		/* a record, but no policy could be had */
	char detail[256];		/* why (fetch_error) */
};

/* The policy for mail to domain (resolver: dns.resolver; ca_file: the CAs
 * for the policy host, "" the system's). Blocks for the DNS lookup and, when
 * the cache has no current policy, the HTTPS fetch (20 s at most). */
void outbound_sts_lookup(const char *resolver, const char *ca_file, const char *domain, struct outbound_sts *s_r);

/* RFC 8460 result types this client reports. */
#define STS_RESULT_SUCCESS "success"
#define STS_RESULT_NO_STARTTLS "starttls-not-supported"
#define STS_RESULT_HOST_MISMATCH "certificate-host-mismatch"
#define STS_RESULT_EXPIRED "certificate-expired"
#define STS_RESULT_NOT_TRUSTED "certificate-not-trusted"
#define STS_RESULT_VALIDATION "validation-failure"
#define STS_RESULT_FETCH "sts-policy-fetch-error"

/* Records one session's result (one connection to an MX) for the day's
 * TLS report of domain: s (NULL or inactive: no policy), mx the MX host,
 * ip its address. Appends a line to DATA/tlsrpt/YYYY-MM-DD. */
void outbound_sts_record(const char *domain, const struct outbound_sts *s, const char *result, const char *mx,
			 const char *ip);
/* Records event kind for domain (server_event) unless the same kind was
 * recorded for it within the hour: retries every few minutes would
 * otherwise fill the events with one finding. */
void outbound_sts_event(const char *kind, const char *domain, const char *detail);
/* The data directory of the journal (server_start's); cache emptied. */
void outbound_sts_start(const char *data_dir);
void outbound_sts_stop(void);

#endif
