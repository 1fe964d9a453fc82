#ifndef YUBIN_POLICY_MTA_STS_H
#define YUBIN_POLICY_MTA_STS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* MTA-STS (RFC 8461) and TLS reporting (RFC 8460) texts, pure: the
 * _mta-sts TXT record, the policy document and its mx patterns, and the
 * _smtp._tls TXT record. No I/O; every output bounded. */

#define MTA_STS_ID_MAX 32		/* §3.1: 1-32 letters and digits */
#define MTA_STS_MX_MAX 16		/* patterns kept; more is an error */
#define MTA_STS_NAME_MAX 253
#define MTA_STS_MAX_AGE_MAX 31557600u	/* §3.2: at most one year */
#define MTA_STS_POLICY_MAX (64 * 1024)	/* a larger body is refused */
#define TLSRPT_RUA_MAX 4
#define TLSRPT_URI_MAX 512

enum mta_sts_mode {
	MTA_STS_NONE,
	MTA_STS_TESTING,
	MTA_STS_ENFORCE,
};

struct mta_sts_policy {
	enum mta_sts_mode mode;
	uint32_t max_age;
	size_t n_mx;
	char mx[MTA_STS_MX_MAX][MTA_STS_NAME_MAX + 1];	/* lower case, "*." kept */
};

/* One TXT string of _mta-sts.DOMAIN: 1 an STSv1 record (its id into
 * id_r, MTA_STS_ID_MAX + 1 bytes), 0 a record of something else (not
 * starting with v=STSv1), -1 a malformed STSv1 record (*error_r says). */
int mta_sts_txt_parse(const char *txt, char *id_r, const char **error_r);

/* The policy body (len bytes, not NUL-terminated; CRLF or LF lines):
 * 1 valid into p, -1 invalid (*error_r says). Unknown keys are ignored
 * (§3.2); version, mode and max_age are required, mx too unless mode is
 * none. */
int mta_sts_policy_parse(const char *body, size_t len, struct mta_sts_policy *p, const char **error_r);

/* Whether MX host name host matches pattern (§4.1): equal ignoring case
 * and a final dot, or "*.REST" matching exactly one more label. */
bool mta_sts_mx_match(const char *pattern, const char *host);
/* Whether any pattern of p matches host. */
bool mta_sts_policy_allows(const struct mta_sts_policy *p, const char *host);

const char *mta_sts_mode_name(enum mta_sts_mode m);

/* _smtp._tls.DOMAIN (RFC 8460 §3): 1 a TLSRPTv1 record with its rua URIs
 * (mailto: and https: only; others skipped) into rua_r, *n_r of them;
 * 0 not a TLSRPTv1 record; -1 malformed or no usable URI. */
int tlsrpt_txt_parse(const char *txt, char rua_r[TLSRPT_RUA_MAX][TLSRPT_URI_MAX + 1], size_t *n_r,
		     const char **error_r);

#endif
