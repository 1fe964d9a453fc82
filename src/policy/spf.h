#ifndef YUBIN_POLICY_SPF_H
#define YUBIN_POLICY_SPF_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/dns.h"

/* SPF (RFC 7208): check_host() over a record parser and the macro
 * expander. The core (spf.c) is pure: DNS comes through struct spf_dns,
 * so unit tests and the fuzzer serve records from a table. spf_dns.c
 * provides the real lookups through lib/dns.h. */

enum spf_result {
	SPF_NONE, SPF_NEUTRAL, SPF_PASS, SPF_FAIL, SPF_SOFTFAIL, SPF_TEMPERROR, SPF_PERMERROR
};

/* RFC 7208 section 4.6.4: terms that cause DNS lookups, and lookups
 * that find nothing (NODATA or NXDOMAIN). */
#define SPF_LOOKUP_LIMIT 10
#define SPF_VOID_LIMIT 2
/* MX names of one "mx", PTR names of one "ptr" (section 4.6.4). */
#define SPF_NAME_LIMIT 10

/* An IPv4 or IPv6 address (family AF_INET: the first 4 bytes). */
struct spf_ip {
	int family;
	unsigned char addr[16];
};

/* The lookups the core needs. Each returns a lib/dns.h result; on DNS_OK
 * *n_r >= 1. txt: records of name (each record's strings joined), freed by
 * the core with free_txt. addr: the A (AF_INET) or AAAA (AF_INET6)
 * records of name. mx: MX host names of name (a null MX gives ""). ptr:
 * PTR names of ip. */
struct spf_dns {
	void *ctx;
	enum dns_result (*txt)(void *ctx, const char *name, char ***txt_r, size_t *n_r);
	void (*free_txt)(void *ctx, char **txt, size_t n);
	enum dns_result (*addr)(void *ctx, const char *name, int family, struct spf_ip *out,
				size_t max, size_t *n_r);
	enum dns_result (*mx)(void *ctx, const char *name, char (*names)[DNS_NAME_MAX], size_t max,
			      size_t *n_r);
	enum dns_result (*ptr)(void *ctx, const struct spf_ip *ip, char (*names)[DNS_NAME_MAX],
			       size_t max, size_t *n_r);
};

/* What is checked: the client's address, its HELO/EHLO name, and the
 * MAIL FROM address ("" or NULL for the null reverse-path <>, then the
 * HELO identity is checked, RFC 7208 section 2.3). receiver: our host
 * name (the %{r} macro). */
struct spf_request {
	struct spf_ip ip;
	const char *helo;
	const char *mail_from;
	const char *receiver;
};

struct spf_outcome {
	enum spf_result result;
	bool helo_identity;		/* the HELO name was checked (null MAIL FROM) */
	char identity[320];		/* the checked address: local@domain or postmaster@helo */
	char domain[DNS_NAME_MAX];	/* its domain */
	char mechanism[96];		/* the mechanism that matched ("default" when none did) */
	char reason[160];		/* why, for temperror/permerror/none; else "" */
	unsigned lookups;		/* DNS-querying terms used */
	unsigned voids;			/* void lookups met */
};

/* Runs check_host() for the request (the MAIL FROM identity, or HELO when
 * MAIL FROM is null) and fills *out. Returns out->result. */
enum spf_result spf_check(const struct spf_dns *dns, const struct spf_request *req,
			  struct spf_outcome *out);
/* check_host(ip, domain, sender) itself (RFC 7208 section 4). */
enum spf_result spf_check_host(const struct spf_dns *dns, const struct spf_request *req,
			       const char *domain, const char *sender, struct spf_outcome *out);

/* The result's name as RFC 8601 writes it: "pass", "fail", ... */
const char *spf_result_name(enum spf_result r);

/* Parses an address (IPv4, IPv6; an IPv4-mapped IPv6 address becomes
 * IPv4). 0, or -1. */
int spf_ip_parse(const char *s, struct spf_ip *ip_r);

/* Checks a record's syntax (the whole record, as check_host does before
 * evaluating anything): 0, or -1 with the reason. For tests and the fuzzer. */
int spf_record_check(const char *record, const char **error_r);

/* The context the macro letters take their values from. */
struct spf_macro_ctx {
	const char *sender;	/* %{s}: local@domain */
	const char *domain;	/* %{d}: the current domain */
	const char *helo;	/* %{h} */
	const char *receiver;	/* %{r} (explanations only) */
	const struct spf_ip *ip;	/* %{i} %{c} %{v} */
	bool exp;		/* an explanation: %{c} %{r} %{t} allowed */
	long long now;		/* %{t} */
};

/* Expands the macro-string src[0..len) (RFC 7208 section 7) into out;
 * domain: the result is a domain name, truncated from the left to 253
 * characters. 0, or -1 with the reason (a syntax error, or a result
 * longer than size). */
int spf_macro_expand(const char *src, size_t len, const struct spf_macro_ctx *mc, bool domain,
		     char *out, size_t size, const char **error_r);

/* The real DNS (spf_dns.c): blocking lookups through resolver (the
 * setting dns.resolver, "" for the system's), or the answers of a batch
 * (lib/dns_async.h: what it lacks reads as a temporary failure and is
 * noted for fetching). ctx must stay valid while dns is in use. */
struct dns_batch;
struct spf_dns_real {
	const char *resolver;
	struct dns_batch *batch;
};
void spf_dns_real_init(struct spf_dns *dns, struct spf_dns_real *ctx, const char *resolver);
void spf_dns_batch_init(struct spf_dns *dns, struct spf_dns_real *ctx, struct dns_batch *batch);

#endif
