#ifndef YUBIN_LIB_DNS_H
#define YUBIN_LIB_DNS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

/* Blocking DNS lookups for outbound delivery, through c-ares. Each call
 * runs its own c-ares channel to completion on the calling thread (the
 * outbound delivery threads), so no event loop is involved. resolver is
 * "" for the system resolver (/etc/resolv.conf) or "ADDRESS[:PORT]"
 * (the setting dns.resolver), which is how tests reach a local dnsmasq.
 * The *_parse functions read the records of a raw answer (as the
 * asynchronous resolver, lib/dns_async.h, and its cache keep them). */

#define DNS_NAME_MAX 256

struct dns_mx {
	char host[DNS_NAME_MAX];
	unsigned pref;
};

/* An SRV record (RFC 2782); target "" for "." (service not offered). */
struct dns_srv {
	char target[DNS_NAME_MAX];
	unsigned priority, weight, port;
};

struct dns_addr {
	struct sockaddr_storage ss;
	socklen_t len;
};

/* Results of a lookup. */
enum dns_result {
	DNS_OK = 1,		/* answers */
	DNS_NODATA = 0,		/* the name exists, no record of that type */
	DNS_TEMPFAIL = -1,	/* timeout, SERVFAIL: try again later */
	DNS_NXDOMAIN = -2,	/* the name does not exist: permanent */
};

/* MX records of domain, sorted by preference (equal preferences keep the
 * server's order). *mx_r is malloc'd. A null MX (RFC 7505: one record ".")
 * comes back as DNS_OK with *n_r == 1 and host "". */
enum dns_result dns_mx_lookup(const char *resolver, const char *domain, struct dns_mx **mx_r,
			      size_t *n_r, const char **error_r);
/* A and AAAA records of host (IPv4 first), each with port set. */
enum dns_result dns_addr_lookup(const char *resolver, const char *host, unsigned port,
				struct dns_addr *addrs, size_t max, size_t *n_r,
				const char **error_r);
/* A (family AF_INET) or AAAA (AF_INET6) records of host only, port 0:
 * one query, so a caller can tell NODATA of one type (SPF's "a"/"mx"
 * mechanisms look up the client address's family only). */
enum dns_result dns_addr_lookup_family(const char *resolver, const char *host, int family,
				       struct dns_addr *addrs, size_t max, size_t *n_r,
				       const char **error_r);
/* TXT records of name, each record's character-strings joined into one
 * string (RFC 7208 §3.3). *txt_r is an array of *n_r malloc'd strings;
 * free it with dns_txt_free(). */
enum dns_result dns_txt_lookup(const char *resolver, const char *name, char ***txt_r, size_t *n_r,
			       const char **error_r);
void dns_txt_free(char **txt, size_t n);
/* One query of type (ns_t_txt ...) for name: the outcome and the raw
 * answer (malloc'd, NULL when none) for a caller that keeps it in the
 * DNS cache (lib/dns_cache.h) and reads it with a *_parse function. */
enum dns_result dns_raw_lookup(const char *resolver, const char *name, int type, unsigned char **buf_r,
			       size_t *len_r, const char **error_r);
/* SRV records of name (e.g. _imaps._tcp.example.com), in the server's
 * order. *srv_r is malloc'd. */
enum dns_result dns_srv_lookup(const char *resolver, const char *name, struct dns_srv **srv_r, size_t *n_r,
			       const char **error_r);
/* NS names of domain (its name servers), up to max. */
enum dns_result dns_ns_lookup(const char *resolver, const char *domain, char (*names)[DNS_NAME_MAX], size_t max,
			      size_t *n_r, const char **error_r);
/* PTR names of an IPv4 or IPv6 address (reverse DNS), up to max. */
enum dns_result dns_ptr_lookup(const char *resolver, const struct sockaddr *sa, char (*names)[DNS_NAME_MAX],
			       size_t max, size_t *n_r, const char **error_r);
/* A deadline for every lookup the calling thread makes from now on: ms
 * milliseconds from now (a lookup running at the deadline gives up with
 * DNS_TEMPFAIL, later ones fail at once); 0 removes it. For checks that
 * must finish in bounded time whatever the DNS does (inbound SPF, DKIM,
 * DMARC on a worker thread). */
void dns_deadline_set(unsigned ms);
/* For modules that drive c-ares themselves (policy/foreign.c's
 * forward-confirmed reverse DNS): a private channel on resolver (as above)
 * with timeout_ms per try, then dns_channel_run() polls it on the calling
 * thread until done(ctx) is true, nothing is in flight, or limit_ms
 * (0: no limit of its own) passes (-1). ares_destroy() frees it. */
struct ares_channeldata;
int dns_channel_new(const char *resolver, unsigned timeout_ms, unsigned tries,
		    struct ares_channeldata **ch_r, const char **error_r);
int dns_channel_run(struct ares_channeldata *ch, bool (*done)(void *ctx), void *ctx,
		    unsigned limit_ms);
/* The records of a raw answer packet buf[0..len) (NULL: none), as the
 * lookups above return them (addr: family AF_INET or AF_INET6, port set).
 * DNS_NODATA when the answer holds none. */
enum dns_result dns_mx_parse(const unsigned char *buf, size_t len, struct dns_mx **mx_r, size_t *n_r,
			     const char **error_r);
enum dns_result dns_addr_parse(const unsigned char *buf, size_t len, int family, unsigned port,
			       struct dns_addr *addrs, size_t max, size_t *n_r, const char **error_r);
enum dns_result dns_srv_parse(const unsigned char *buf, size_t len, struct dns_srv **srv_r, size_t *n_r,
			      const char **error_r);
enum dns_result dns_txt_parse(const unsigned char *buf, size_t len, char ***txt_r, size_t *n_r,
			      const char **error_r);
enum dns_result dns_ptr_parse(const unsigned char *buf, size_t len, char (*names)[DNS_NAME_MAX], size_t max,
			      size_t *n_r, const char **error_r);
/* The reverse-DNS name of an address (in-addr.arpa / ip6.arpa) into
 * qname (size >= 80): 0, or -1 when sa is not IPv4 or IPv6. */
int dns_ptr_name(const struct sockaddr *sa, char *qname, size_t size);
/* A c-ares status as a result (and its text in *error_r). */
enum dns_result dns_status(int status, const char **error_r);
/* Sorts MX records by preference, stable. */
void dns_mx_sort(struct dns_mx *mx, size_t n);

#endif
