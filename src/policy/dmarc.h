#ifndef YUBIN_POLICY_DMARC_H
#define YUBIN_POLICY_DMARC_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/dns.h"

/* DMARC (RFC 7489) for inbound mail: the policy record, the From: domain,
 * organizational domains (the public suffix list, libpsl), identifier
 * alignment and the policy to apply. The evaluation takes its TXT lookup
 * as a function, so tests run without DNS. */

enum dmarc_res { DMARC_RES_NONE, DMARC_RES_PASS, DMARC_RES_FAIL, DMARC_RES_TEMPERROR, DMARC_RES_PERMERROR };
enum dmarc_policy { DMARC_POLICY_NONE, DMARC_POLICY_QUARANTINE, DMARC_POLICY_REJECT };

struct dmarc_record {
	enum dmarc_policy p, sp, np;
	bool has_sp, has_np;
	bool adkim_strict, aspf_strict;
	unsigned pct;			/* 0..100, default 100 */
	char rua[256];			/* as published, unused but kept for the record */
};

/* Parses a DMARC record ("v=DMARC1; p=..."). 1 parsed; 0 not a DMARC
 * record (no v=DMARC1 first); -1 a DMARC record that cannot be used
 * (*error_r says why). A bad or missing p= with a rua= is read as p=none
 * (RFC 7489 section 6.6.3). */
int dmarc_record_parse(const char *txt, struct dmarc_record *rec_r, const char **error_r);

/* The RFC5322.From domain of a header block (header[0..len), the block may
 * continue with the body). 1 with the domain (lowercased, without a final
 * dot) in domain_r; 0 when there is no From field; -1 when DMARC cannot
 * use it (several From fields, addresses in several domains, no address,
 * a malformed one), with the reason. Several addresses in one domain are
 * fine (RFC 7489 section 6.6.1). */
int dmarc_from_domain(const char *header, size_t len, char *domain_r, size_t size, const char **error_r);

/* The organizational domain of domain (section 3.2: one label more than
 * its public suffix) into buf; the domain itself when it is a public
 * suffix or unknown. */
void dmarc_org_domain(const char *domain, char *buf, size_t size);
/* Identifier alignment (section 3.1): equal (strict), or the same
 * organizational domain (relaxed). Case-insensitive. */
bool dmarc_aligned(const char *a, const char *b, bool strict);

/* What the evaluation needs besides DNS. */
struct dmarc_input {
	const char *from_domain;	/* from dmarc_from_domain */
	const char *spf_domain;		/* the domain SPF checked (MAIL FROM, or HELO) */
	bool spf_pass;
	const char *const *dkim_domains;	/* d= of the signatures that passed */
	size_t ndkim;
	unsigned sample;		/* 0..99, random: the pct= sampling */
};

struct dmarc_verdict {
	enum dmarc_res result;
	struct dmarc_record rec;
	bool have_record;
	char record_domain[DNS_NAME_MAX];	/* where the record was found */
	enum dmarc_policy policy;		/* the published policy that applies (p, sp or np) */
	enum dmarc_policy disposition;		/* after pct= sampling; none unless result is fail */
	bool spf_aligned, dkim_aligned;
	char reason[160];
};

typedef enum dns_result dmarc_txt_fn(void *ctx, const char *name, char ***txt_r, size_t *n_r);
typedef void dmarc_txt_free_fn(void *ctx, char **txt, size_t n);

/* Looks up the policy for in->from_domain (_dmarc.DOMAIN, then
 * _dmarc.ORGDOMAIN) with txt, checks alignment and fills *v. Returns
 * v->result. */
enum dmarc_res dmarc_evaluate(dmarc_txt_fn *txt, dmarc_txt_free_fn *txt_free, void *ctx,
			      const struct dmarc_input *in, struct dmarc_verdict *v);
/* dmarc_evaluate with the real DNS (lib/dns.h) through resolver. */
enum dmarc_res dmarc_check(const char *resolver, const struct dmarc_input *in, struct dmarc_verdict *v);
/* dmarc_evaluate with the answers of a batch (lib/dns_async.h). */
struct dns_batch;
enum dmarc_res dmarc_check_batch(struct dns_batch *batch, const struct dmarc_input *in, struct dmarc_verdict *v);

const char *dmarc_res_name(enum dmarc_res r);		/* "pass", "fail", ... (RFC 8601) */
const char *dmarc_policy_name(enum dmarc_policy p);	/* "none", "quarantine", "reject" */

#endif
