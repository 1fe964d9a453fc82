#ifndef YUBIN_POLICY_DKIM_VERIFY_H
#define YUBIN_POLICY_DKIM_VERIFY_H

#include <stddef.h>
#include <stdint.h>

/* DKIM verification (RFC 6376; rsa-sha256 and ed25519-sha256, RFC 8463)
 * for Authentication-Results (RFC 8601). */

enum dkim_res { DKIM_NONE, DKIM_PASS, DKIM_FAIL, DKIM_NEUTRAL, DKIM_POLICY, DKIM_TEMPERROR, DKIM_PERMERROR };

struct dkim_verdict {
	enum dkim_res result;
	char domain[256];     /* d= */
	char selector[64];    /* s= */
	char algo[32];        /* a=, e.g. "rsa-sha256" */
	char header_b[16];    /* first 8+ chars of b= for header.b in Authentication-Results (RFC 6008) */
	char reason[128];     /* short human reason for fail/permerror, "" on pass */
};

/* At most this many signatures of a message are checked. */
#define DKIM_VERIFY_MAX 8

/* Verifies up to max DKIM-Signature headers of the message msg[0..len)
 * (header + body as stored: LF or CRLF line ends). Blocking DNS TXT lookups
 * of SELECTOR._domainkey.DOMAIN through resolver ("" = system, or "IP:PORT",
 * see src/lib/dns.h dns_txt_lookup). Returns the number of verdicts written
 * (0 = no signature, meaning dkim=none).
 *
 * Signatures are taken top down, at most DKIM_VERIFY_MAX of them. Results:
 * pass; fail when the body hash or the signature does not verify (also
 * when l= is longer than the body); permerror for a malformed or expired
 * signature (x=), no key (NXDOMAIN or no TXT record), a revoked, malformed
 * or unsuitable key (wrong k=, h= without sha256, t=s with i= outside d=
 * exactly, RSA shorter than 1024 bits); temperror when DNS failed. On pass
 * reason is "" except when l= left part of the body unsigned, which it
 * notes ("only N of M body bytes signed (l=)"); a key in testing mode
 * (t=y) adds "(key in testing mode)" to the reason. */
size_t dkim_verify(const char *resolver, const char *msg, size_t len, struct dkim_verdict *v, size_t max);
/* As dkim_verify with the answers of a batch (lib/dns_async.h). */
struct dns_batch;
size_t dkim_verify_batch(struct dns_batch *batch, const char *msg, size_t len, struct dkim_verdict *v, size_t max);
/* Asks the batch for the key of each signature in msg's header (the first
 * DKIM_VERIFY_MAX), without verifying anything: what the inbound checks
 * do as soon as the header is in, so the keys arrive while the body
 * does. */
void dkim_prefetch_batch(struct dns_batch *batch, const char *msg, size_t len);
/* As dkim_verify with the TXT lookup (passed ctx) and the time (Unix
 * seconds) given: for tests, which serve keys without DNS. lookup has the
 * contract of dns_txt_lookup (lib/dns.h); its records are freed with
 * dns_txt_free. */
typedef int dkim_txt_lookup_fn(void *ctx, const char *name, char ***txt_r, size_t *n_r,
			       const char **error_r);
size_t dkim_verify_with(dkim_txt_lookup_fn *lookup, void *ctx, const char *msg, size_t len,
			struct dkim_verdict *v, size_t max, int64_t now);
const char *dkim_res_name(enum dkim_res r);   /* "pass", "fail", ... as in RFC 8601 */

#endif
