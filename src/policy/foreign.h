#ifndef YUBIN_POLICY_FOREIGN_H
#define YUBIN_POLICY_FOREIGN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The foreign-access restriction: may a login from this address go on?
 * Pure decision logic (CIDR and suffix matching, rule order) plus a
 * bounded reverse-DNS lookup for the suffix exemption. */

/* An IPv4 address is kept as ::ffff:a.b.c.d so one matcher serves both. */
struct net_addr {
	uint8_t b[16];
};

struct net_cidr {
	struct net_addr addr;	/* masked */
	unsigned prefix;	/* 0..128 (IPv4 /n is stored as /96+n) */
};

/* Parses "192.0.2.1" or "2001:db8::1" (IPv4-mapped IPv6 counts as IPv4). */
int net_addr_parse(const char *s, struct net_addr *addr_r);
bool net_addr_is_v4(const struct net_addr *a);
/* Parses "192.0.2.0/24", "2001:db8::/32" or a bare address (a /32 or
 * /128). Host bits must be zero. */
int net_cidr_parse(const char *s, struct net_cidr *cidr_r, const char **error_r);
bool net_cidr_contains(const struct net_cidr *c, const struct net_addr *a);
/* The canonical text of a CIDR ("10.0.0.0/8", "2001:db8::/32"). */
void net_cidr_format(const struct net_cidr *c, char *buf, size_t size);
/* true when a is in a comma/space separated CIDR list; a malformed entry
 * never matches (validate lists when they are set). */
bool net_cidr_list_match(const char *list, const struct net_addr *a);
/* 0 when every entry of list is a valid CIDR ("" is valid). */
int net_cidr_list_check(const char *list, const char **error_r);
/* Loopback, RFC 1918, CGNAT (100.64/10), link-local, ULA, unspecified. */
bool net_addr_is_private(const struct net_addr *a);
/* The brute-force key of an address: IPv4 as is, IPv6 its /64 prefix
 * ("2001:db8:1:2::/64"). */
void net_addr_block_key(const struct net_addr *a, char *buf, size_t size);

/* true when host name equals a suffix of the list or ends with "." and it
 * (case-insensitive, a trailing dot ignored): "mail-x.google.com" matches
 * "google.com", "evilgoogle.com" does not. */
bool foreign_rdns_suffix_match(const char *list, const char *host);

enum foreign_rule {
	FOREIGN_RULE_OFF,		/* restriction off for the domain (or service) */
	FOREIGN_RULE_PRIVATE,		/* loopback or private address */
	FOREIGN_RULE_HOME,		/* in the home country */
	FOREIGN_RULE_ALLOW_DOMAIN,	/* the domain's foreign-auth-allow */
	FOREIGN_RULE_ALLOW_SERVER,	/* server-wide foreign_auth.allow */
	FOREIGN_RULE_RDNS,		/* reverse-DNS suffix exemption */
	FOREIGN_RULE_GEOIP_MISSING,	/* no database: geoip.missing decided */
	FOREIGN_RULE_COUNTRY,		/* refused: a foreign country */
	FOREIGN_RULE_UNKNOWN,		/* refused: the database knows no country */
};

const char *foreign_rule_name(enum foreign_rule rule);

/* What the decision needs, gathered by the caller. */
struct foreign_input {
	struct net_addr addr;
	bool enabled;			/* the domain's switch for this service */
	const char *override_cc;	/* from the operator override table, or NULL */
	const char *db_cc;		/* GeoIP country, or NULL / "" when none */
	bool db_missing;		/* the database is missing or unreadable */
	bool missing_allow;		/* geoip.missing = allow */
	const char *home;		/* home country, "JP" */
	const char *domain_allow;	/* CIDR list */
	const char *server_allow;	/* CIDR list */
	const char *rdns_suffixes;	/* suffix list */
	/* Returns the verified reverse-DNS names of the address (newline
	 * separated) into buf, 1 found, 0 none; called only when needed. */
	int (*rdns)(void *ctx, char *buf, size_t size);
	void *rdns_ctx;
};

struct foreign_decision {
	bool allowed;
	enum foreign_rule rule;
	char country[3];		/* "" when unknown or not looked up */
	char rdns[256];			/* the name that matched (FOREIGN_RULE_RDNS) */
};

/* The rule order: the override table decides the country before all else
 * (so a private address can be made foreign); then an unmapped private
 * address is allowed; the switch off allows; home country allows; then
 * the domain's and the server's CIDR lists, then reverse DNS; else refused.
 * A missing database follows missing_allow once the explicit exemptions
 * had their say. */
void foreign_decide(const struct foreign_input *in, struct foreign_decision *out);

/* Verified reverse DNS (forward-confirmed: the PTR name must resolve back
 * to the address) through c-ares, the hosts file first, within timeout_ms
 * in all. Names are written newline-separated into buf. 1 found, 0 none
 * (or timeout). */
int foreign_rdns_lookup(const char *resolver, const char *ip, unsigned timeout_ms, char *buf,
			size_t size);

#endif
