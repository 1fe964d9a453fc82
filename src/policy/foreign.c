/* The foreign-access restriction: CIDR and suffix matching, the rule
 * order, and forward-confirmed reverse DNS. */
#include "policy/foreign.h"
#include "lib/dns.h"
#include "lib/str.h"

#include <arpa/inet.h>
#include <ares.h>
#include <ctype.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

static const uint8_t v4_mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

int net_addr_parse(const char *s, struct net_addr *addr_r)
{
	struct in_addr a4;

	memset(addr_r, 0, sizeof(*addr_r));
	if (inet_pton(AF_INET, s, &a4) == 1) {
		memcpy(addr_r->b, v4_mapped, 12);
		memcpy(addr_r->b + 12, &a4, 4);
		return 0;
	}
	return inet_pton(AF_INET6, s, addr_r->b) == 1 ? 0 : -1;
}

bool net_addr_is_v4(const struct net_addr *a)
{
	return memcmp(a->b, v4_mapped, 12) == 0;
}

static void net_mask(struct net_addr *a, unsigned prefix)
{
	for (unsigned i = 0; i < 16; i++) {
		unsigned bits = prefix > i * 8 ? prefix - i * 8 : 0;
		a->b[i] &= bits >= 8 ? 0xff : (uint8_t)(0xff << (8 - bits));
	}
}

int net_cidr_parse(const char *s, struct net_cidr *cidr_r, const char **error_r)
{
	char host[64];
	const char *slash = strchr(s, '/');
	struct net_addr masked;
	uint64_t n;
	unsigned max;

	if (str_copyn(host, sizeof(host), s, slash != NULL ? (size_t)(slash - s) : strlen(s)) < 0 ||
	    net_addr_parse(host, &cidr_r->addr) < 0) {
		*error_r = "not an IP address";
		return -1;
	}
	max = net_addr_is_v4(&cidr_r->addr) && strchr(host, ':') == NULL ? 32 : 128;
	n = max;
	if (slash != NULL && str_parse_uint(slash + 1, max, &n) < 0) {
		*error_r = max == 32 ? "the prefix length must be 0..32" : "the prefix length must be 0..128";
		return -1;
	}
	cidr_r->prefix = (unsigned)n + (max == 32 ? 96 : 0);
	masked = cidr_r->addr;
	net_mask(&masked, cidr_r->prefix);
	if (memcmp(&masked, &cidr_r->addr, sizeof(masked)) != 0) {
		*error_r = "host bits set after the prefix (e.g. 192.0.2.0/24, not 192.0.2.1/24)";
		return -1;
	}
	return 0;
}

bool net_cidr_contains(const struct net_cidr *c, const struct net_addr *a)
{
	struct net_addr m = *a;

	net_mask(&m, c->prefix);
	return memcmp(&m, &c->addr, sizeof(m)) == 0;
}

void net_cidr_format(const struct net_cidr *c, char *buf, size_t size)
{
	char ip[INET6_ADDRSTRLEN];

	if (net_addr_is_v4(&c->addr) && c->prefix >= 96) {
		inet_ntop(AF_INET, c->addr.b + 12, ip, sizeof(ip));
		snprintf(buf, size, "%s/%u", ip, c->prefix - 96);
	} else {
		inet_ntop(AF_INET6, c->addr.b, ip, sizeof(ip));
		snprintf(buf, size, "%s/%u", ip, c->prefix);
	}
}

/* Calls fn on each entry of a comma/space separated list; stops when it
 * returns true. */
static bool list_each(const char *list, bool (*fn)(const char *item, void *ctx), void *ctx)
{
	const char *p = list;

	while (p != NULL && *p != '\0') {
		char item[256];
		size_t n;

		while (*p == ',' || *p == ' ' || *p == '\t')
			p++;
		n = strcspn(p, ", \t");
		if (n == 0)
			break;
		if (str_copyn(item, sizeof(item), p, n) == 0 && fn(item, ctx))
			return true;
		p += n;
	}
	return false;
}

static bool cidr_item_match(const char *item, void *ctx)
{
	struct net_cidr c;
	const char *error;

	return net_cidr_parse(item, &c, &error) == 0 && net_cidr_contains(&c, ctx);
}

bool net_cidr_list_match(const char *list, const struct net_addr *a)
{
	return list_each(list, cidr_item_match, (void *)a);
}

static bool cidr_item_bad(const char *item, void *ctx)
{
	struct net_cidr c;

	return net_cidr_parse(item, &c, ctx) < 0;
}

int net_cidr_list_check(const char *list, const char **error_r)
{
	return list_each(list, cidr_item_bad, error_r) ? -1 : 0;
}

bool net_addr_is_private(const struct net_addr *a)
{
	static const char *const nets[] = {
		"127.0.0.0/8", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10",
		"169.254.0.0/16", "0.0.0.0/32", "::1/128", "::/128", "fc00::/7", "fe80::/10",
	};

	for (size_t i = 0; i < sizeof(nets) / sizeof(nets[0]); i++) {
		if (cidr_item_match(nets[i], (void *)a))
			return true;
	}
	return false;
}

void net_addr_block_key(const struct net_addr *a, char *buf, size_t size)
{
	struct net_cidr c;

	c.addr = *a;
	c.prefix = net_addr_is_v4(a) ? 128 : 64;
	net_mask(&c.addr, c.prefix);
	if (net_addr_is_v4(a))
		inet_ntop(AF_INET, a->b + 12, buf, (socklen_t)size);
	else
		net_cidr_format(&c, buf, size);
}

struct suffix_ctx {
	const char *host;
	size_t hlen;
};

static bool suffix_item_match(const char *item, void *ctx)
{
	struct suffix_ctx *s = ctx;
	size_t n;

	if (item[0] == '.')
		item++;
	n = strlen(item);
	if (n > 0 && item[n - 1] == '.')
		n--;
	if (n == 0 || n > s->hlen)
		return false;
	if (strncasecmp(s->host + s->hlen - n, item, n) != 0)
		return false;
	return n == s->hlen || s->host[s->hlen - n - 1] == '.';
}

bool foreign_rdns_suffix_match(const char *list, const char *host)
{
	struct suffix_ctx s = { host, strlen(host) };

	if (s.hlen > 0 && host[s.hlen - 1] == '.')
		s.hlen--;
	if (s.hlen == 0)
		return false;
	return list_each(list, suffix_item_match, &s);
}

const char *foreign_rule_name(enum foreign_rule rule)
{
	switch (rule) {
	case FOREIGN_RULE_OFF: return "off";
	case FOREIGN_RULE_PRIVATE: return "private";
	case FOREIGN_RULE_HOME: return "home";
	case FOREIGN_RULE_ALLOW_DOMAIN: return "allow-domain";
	case FOREIGN_RULE_ALLOW_SERVER: return "allow-server";
	case FOREIGN_RULE_RDNS: return "rdns";
	case FOREIGN_RULE_GEOIP_MISSING: return "geoip-missing";
	case FOREIGN_RULE_COUNTRY: return "country";
	case FOREIGN_RULE_UNKNOWN: return "unknown-country";
	}
	return "?";
}

/* Finds the first name of a newline-separated list that ends in a suffix. */
static bool rdns_names_match(const char *suffixes, const char *names, char *match, size_t size)
{
	const char *p = names;

	while (*p != '\0') {
		char name[256];
		size_t n = strcspn(p, "\n");

		if (str_copyn(name, sizeof(name), p, n) == 0 && foreign_rdns_suffix_match(suffixes, name)) {
			str_copy(match, size, name);
			return true;
		}
		p += n;
		if (*p == '\n')
			p++;
	}
	return false;
}

void foreign_decide(const struct foreign_input *in, struct foreign_decision *out)
{
	memset(out, 0, sizeof(*out));
	if (in->override_cc != NULL && in->override_cc[0] != '\0')
		str_copy(out->country, sizeof(out->country), in->override_cc);
	else if (in->db_cc != NULL && in->db_cc[0] != '\0')
		str_copy(out->country, sizeof(out->country), in->db_cc);
	out->allowed = true;
	if (!in->enabled) {
		out->rule = FOREIGN_RULE_OFF;
		return;
	}
	if ((in->override_cc == NULL || in->override_cc[0] == '\0') && net_addr_is_private(&in->addr)) {
		out->rule = FOREIGN_RULE_PRIVATE;
		return;
	}
	if (out->country[0] != '\0' && in->home != NULL && strcasecmp(out->country, in->home) == 0) {
		out->rule = FOREIGN_RULE_HOME;
		return;
	}
	if (in->domain_allow != NULL && net_cidr_list_match(in->domain_allow, &in->addr)) {
		out->rule = FOREIGN_RULE_ALLOW_DOMAIN;
		return;
	}
	if (in->server_allow != NULL && net_cidr_list_match(in->server_allow, &in->addr)) {
		out->rule = FOREIGN_RULE_ALLOW_SERVER;
		return;
	}
	if (in->rdns != NULL && in->rdns_suffixes != NULL && in->rdns_suffixes[0] != '\0') {
		char names[1024];

		if (in->rdns(in->rdns_ctx, names, sizeof(names)) > 0 &&
		    rdns_names_match(in->rdns_suffixes, names, out->rdns, sizeof(out->rdns))) {
			out->rule = FOREIGN_RULE_RDNS;
			return;
		}
	}
	if (out->country[0] == '\0' && in->db_missing) {
		out->rule = FOREIGN_RULE_GEOIP_MISSING;
		out->allowed = in->missing_allow;
		return;
	}
	out->rule = out->country[0] != '\0' ? FOREIGN_RULE_COUNTRY : FOREIGN_RULE_UNKNOWN;
	out->allowed = false;
}

/* ---- reverse DNS through c-ares ---- */

struct rdns_state {
	ares_channel ch;
	struct net_addr addr;
	int family;
	char ptr[8][256];
	unsigned nptr;
	bool ptr_done;
	unsigned fwd_pending;
	char *out;
	size_t outsize, outlen;
};

static void rdns_fwd_cb(void *arg, int status, int timeouts, struct hostent *he)
{
	struct rdns_state *st = ((void **)arg)[0];
	const char *name = ((void **)arg)[1];
	bool confirmed = false;

	st->fwd_pending--;
	if (status == ARES_SUCCESS && he != NULL) {
		for (char **a = he->h_addr_list; *a != NULL && !confirmed; a++) {
			if (he->h_addrtype == AF_INET && st->family == AF_INET)
				confirmed = memcmp(*a, st->addr.b + 12, 4) == 0;
			else if (he->h_addrtype == AF_INET6 && st->family == AF_INET6)
				confirmed = memcmp(*a, st->addr.b, 16) == 0;
		}
	}
	if (confirmed && st->outlen + strlen(name) + 2 < st->outsize) {
		st->outlen += (size_t)snprintf(st->out + st->outlen, st->outsize - st->outlen, "%s%s",
					       st->outlen > 0 ? "\n" : "", name);
	}
	free(arg);
}

static void rdns_add_ptr(struct rdns_state *st, const char *name)
{
	if (name == NULL || name[0] == '\0' || st->nptr >= 8)
		return;
	for (unsigned i = 0; i < st->nptr; i++) {
		if (strcasecmp(st->ptr[i], name) == 0)
			return;
	}
	if (str_copy(st->ptr[st->nptr], sizeof(st->ptr[0]), name) == 0)
		st->nptr++;
}

static void rdns_ptr_cb(void *arg, int status, int timeouts, struct hostent *he)
{
	struct rdns_state *st = arg;

	st->ptr_done = true;
	if (status != ARES_SUCCESS || he == NULL)
		return;
	rdns_add_ptr(st, he->h_name);
	for (char **al = he->h_aliases; al != NULL && *al != NULL; al++)
		rdns_add_ptr(st, *al);
	for (unsigned i = 0; i < st->nptr; i++) {
		void **pair = malloc(2 * sizeof(void *));

		if (pair == NULL)
			continue;
		pair[0] = st;
		pair[1] = st->ptr[i];
		st->fwd_pending++;
		ares_gethostbyname(st->ch, st->ptr[i], st->family, rdns_fwd_cb, pair);
	}
}

static bool rdns_done(void *ctx)
{
	const struct rdns_state *st = ctx;

	return st->ptr_done && st->fwd_pending == 0;
}

int foreign_rdns_lookup(const char *resolver, const char *ip, unsigned timeout_ms, char *buf,
			size_t size)
{
	struct rdns_state st;
	const char *error;

	buf[0] = '\0';
	memset(&st, 0, sizeof(st));
	if (net_addr_parse(ip, &st.addr) < 0 || size < 2)
		return 0;
	st.family = net_addr_is_v4(&st.addr) ? AF_INET : AF_INET6;
	st.out = buf;
	st.outsize = size;
	if (dns_channel_new(resolver, timeout_ms / 2 > 0 ? timeout_ms / 2 : 1, 1, &st.ch, &error) < 0)
		return 0;
	if (st.family == AF_INET)
		ares_gethostbyaddr(st.ch, st.addr.b + 12, 4, AF_INET, rdns_ptr_cb, &st);
	else
		ares_gethostbyaddr(st.ch, st.addr.b, 16, AF_INET6, rdns_ptr_cb, &st);
	dns_channel_run(st.ch, rdns_done, &st, timeout_ms);
	/* Cancels what is still in flight; the callbacks run and free. */
	ares_destroy(st.ch);
	return buf[0] != '\0' ? 1 : 0;
}
