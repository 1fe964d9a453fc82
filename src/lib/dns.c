/* MX and address lookups with c-ares, run synchronously on the caller's
 * thread: a private channel per lookup, driven with poll() until the
 * callback has fired. c-ares rather than res_nquery() because it takes a
 * server with a port ("127.0.0.1:5353") and keeps no global state. */
#include "lib/dns.h"
#include "lib/str.h"

#include <ares.h>
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <netdb.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

static pthread_once_t dns_once = PTHREAD_ONCE_INIT;

static void dns_init(void)
{
	ares_library_init(ARES_LIB_INIT_ALL);
}

struct dns_answer {
	bool done;
	int status;
	unsigned char *buf;
	int len;
};

static void dns_query_cb(void *arg, int status, int timeouts, unsigned char *abuf, int alen)
{
	struct dns_answer *a = arg;

	a->done = true;
	a->status = status;
	if (abuf != NULL && alen > 0) {
		a->buf = malloc((size_t)alen);
		if (a->buf != NULL) {
			memcpy(a->buf, abuf, (size_t)alen);
			a->len = alen;
		}
	}
}

enum dns_result dns_status(int status, const char **error_r)
{
	switch (status) {
	case ARES_SUCCESS:
		return DNS_OK;
	case ARES_ENODATA:
		*error_r = "no such record";
		return DNS_NODATA;
	case ARES_ENOTFOUND:
		*error_r = "domain not found (NXDOMAIN)";
		return DNS_NXDOMAIN;
	default:
		*error_r = ares_strerror(status);
		return DNS_TEMPFAIL;
	}
}

int dns_channel_new(const char *resolver, unsigned timeout_ms, unsigned tries,
		    struct ares_channeldata **ch_r, const char **error_r)
{
	struct ares_options opts;
	int rc;

	pthread_once(&dns_once, dns_init);
	memset(&opts, 0, sizeof(opts));
	opts.timeout = (int)(timeout_ms > 0 ? timeout_ms : 1);	/* ms per try */
	opts.tries = (int)(tries > 0 ? tries : 1);
	rc = ares_init_options(ch_r, &opts, ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES);
	if (rc != ARES_SUCCESS) {
		*error_r = ares_strerror(rc);
		return -1;
	}
	if (resolver != NULL && resolver[0] != '\0' &&
	    ares_set_servers_ports_csv(*ch_r, resolver) != ARES_SUCCESS) {
		ares_destroy(*ch_r);
		*error_r = "bad resolver address";
		return -1;
	}
	return 0;
}

static long dns_ms_since(const struct timespec *t0)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - t0->tv_sec) * 1000 + (now.tv_nsec - t0->tv_nsec) / 1000000;
}

int dns_channel_run(struct ares_channeldata *ch, bool (*done)(void *ctx), void *ctx,
		    unsigned limit_ms)
{
	struct timespec t0;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (!done(ctx)) {
		ares_socket_t socks[ARES_GETSOCK_MAXNUM];
		struct pollfd pfd[ARES_GETSOCK_MAXNUM];
		struct timeval tv, *tvp;
		/* the ARES_GETSOCK_* macros shift a signed 1 into the sign bit */
		unsigned bits = (unsigned)ares_getsock(ch, socks, ARES_GETSOCK_MAXNUM);
		long left = limit_ms > 0 ? (long)limit_ms - dns_ms_since(&t0) : 1000;
		int n = 0, wait_ms;

		if (left <= 0)
			return -1;
		for (int i = 0; i < ARES_GETSOCK_MAXNUM; i++) {
			short ev = 0;
			if (bits & (1u << i))
				ev |= POLLIN;
			if (bits & (1u << (i + ARES_GETSOCK_MAXNUM)))
				ev |= POLLOUT;
			if (ev == 0)
				continue;
			pfd[n].fd = socks[i];
			pfd[n].events = ev;
			pfd[n].revents = 0;
			n++;
		}
		tvp = ares_timeout(ch, NULL, &tv);
		if (n == 0 && tvp == NULL)
			break;	/* nothing in flight: the callbacks have run */
		wait_ms = tvp != NULL ? (int)(tvp->tv_sec * 1000 + tvp->tv_usec / 1000) : (int)left;
		if (wait_ms > left)
			wait_ms = (int)left;
		if (poll(pfd, (nfds_t)n, wait_ms) < 0)
			continue;
		for (int i = 0; i < n; i++) {
			ares_socket_t r = (pfd[i].revents & (POLLIN | POLLERR | POLLHUP)) ? pfd[i].fd : ARES_SOCKET_BAD;
			ares_socket_t w = (pfd[i].revents & POLLOUT) ? pfd[i].fd : ARES_SOCKET_BAD;
			if (r != ARES_SOCKET_BAD || w != ARES_SOCKET_BAD)
				ares_process_fd(ch, r, w);
		}
		ares_process_fd(ch, ARES_SOCKET_BAD, ARES_SOCKET_BAD);	/* timeouts */
	}
	return 0;
}

static bool dns_answer_done(void *ctx)
{
	return ((struct dns_answer *)ctx)->done;
}

/* The calling thread's deadline for lookups (dns_deadline_set), or
 * tv_sec == 0 for none. */
static __thread struct timespec dns_deadline;

void dns_deadline_set(unsigned ms)
{
	if (ms == 0) {
		memset(&dns_deadline, 0, sizeof(dns_deadline));
		return;
	}
	clock_gettime(CLOCK_MONOTONIC, &dns_deadline);
	dns_deadline.tv_sec += (time_t)(ms / 1000);
	dns_deadline.tv_nsec += (long)(ms % 1000) * 1000000;
	if (dns_deadline.tv_nsec >= 1000000000) {
		dns_deadline.tv_sec++;
		dns_deadline.tv_nsec -= 1000000000;
	}
}

/* Milliseconds left before the thread's deadline: 0 for no deadline, -1
 * when it has passed. */
static long dns_deadline_left(void)
{
	struct timespec now;
	long left;

	if (dns_deadline.tv_sec == 0)
		return 0;
	clock_gettime(CLOCK_MONOTONIC, &now);
	left = (dns_deadline.tv_sec - now.tv_sec) * 1000 + (dns_deadline.tv_nsec - now.tv_nsec) / 1000000;
	return left > 0 ? left : -1;
}

/* One query of type type for name; the raw answer in *a. */
static enum dns_result dns_query(const char *resolver, const char *name, int type,
				 struct dns_answer *a, const char **error_r)
{
	ares_channel ch;
	long left = dns_deadline_left();

	memset(a, 0, sizeof(*a));
	if (left < 0) {
		*error_r = "time limit for DNS lookups reached";
		return DNS_TEMPFAIL;
	}
	if (dns_channel_new(resolver, 3000, 3, &ch, error_r) < 0)
		return DNS_TEMPFAIL;
	ares_query(ch, name, ns_c_in, type, dns_query_cb, a);
	dns_channel_run(ch, dns_answer_done, a, (unsigned)left);
	ares_destroy(ch);	/* runs the callback with ARES_EDESTRUCTION if still pending */
	return dns_status(a->status, error_r);
}

void dns_mx_sort(struct dns_mx *mx, size_t n)
{
	/* insertion sort: stable, and MX sets are small */
	for (size_t i = 1; i < n; i++) {
		struct dns_mx tmp = mx[i];
		size_t j = i;
		while (j > 0 && mx[j - 1].pref > tmp.pref) {
			mx[j] = mx[j - 1];
			j--;
		}
		mx[j] = tmp;
	}
}

enum dns_result dns_mx_parse(const unsigned char *buf, size_t len, struct dns_mx **mx_r, size_t *n_r,
			     const char **error_r)
{
	struct ares_mx_reply *mx = NULL;
	size_t n = 0;

	*mx_r = NULL;
	*n_r = 0;
	if (buf == NULL || len > INT_MAX || ares_parse_mx_reply(buf, (int)len, &mx) != ARES_SUCCESS) {
		*error_r = "no MX records";
		return DNS_NODATA;
	}
	for (struct ares_mx_reply *m = mx; m != NULL; m = m->next)
		n++;
	*mx_r = calloc(n > 0 ? n : 1, sizeof(**mx_r));
	if (*mx_r == NULL) {
		ares_free_data(mx);
		*error_r = "out of memory";
		return DNS_TEMPFAIL;
	}
	n = 0;
	for (struct ares_mx_reply *m = mx; m != NULL; m = m->next) {
		const char *h = m->host;
		if (strcmp(h, ".") == 0)
			h = "";
		str_copy((*mx_r)[n].host, DNS_NAME_MAX, h);
		(*mx_r)[n].pref = m->priority;
		n++;
	}
	ares_free_data(mx);
	dns_mx_sort(*mx_r, n);
	*n_r = n;
	return n > 0 ? DNS_OK : DNS_NODATA;
}

enum dns_result dns_mx_lookup(const char *resolver, const char *domain, struct dns_mx **mx_r,
			      size_t *n_r, const char **error_r)
{
	struct dns_answer a;
	enum dns_result res;

	*mx_r = NULL;
	*n_r = 0;
	res = dns_query(resolver, domain, ns_t_mx, &a, error_r);
	if (res == DNS_OK)
		res = dns_mx_parse(a.buf, (size_t)a.len, mx_r, n_r, error_r);
	free(a.buf);
	return res;
}

enum dns_result dns_ns_lookup(const char *resolver, const char *domain, char (*names)[DNS_NAME_MAX], size_t max,
			      size_t *n_r, const char **error_r)
{
	struct hostent *he = NULL;
	struct dns_answer a;
	enum dns_result res;

	*n_r = 0;
	res = dns_query(resolver, domain, ns_t_ns, &a, error_r);
	if (res == DNS_OK) {
		if (a.buf == NULL || a.len <= 0 || ares_parse_ns_reply(a.buf, a.len, &he) != ARES_SUCCESS ||
		    he == NULL) {
			res = DNS_NODATA;
		} else {
			for (size_t i = 0; he->h_aliases != NULL && he->h_aliases[i] != NULL && *n_r < max; i++)
				snprintf(names[(*n_r)++], DNS_NAME_MAX, "%s", he->h_aliases[i]);
			ares_free_hostent(he);
			if (*n_r == 0)
				res = DNS_NODATA;
		}
	}
	free(a.buf);
	return res;
}

enum dns_result dns_srv_parse(const unsigned char *buf, size_t len, struct dns_srv **srv_r, size_t *n_r,
			      const char **error_r)
{
	struct ares_srv_reply *srv = NULL;
	size_t n = 0;

	*srv_r = NULL;
	*n_r = 0;
	if (buf == NULL || len > INT_MAX || ares_parse_srv_reply(buf, (int)len, &srv) != ARES_SUCCESS) {
		*error_r = "no SRV records";
		return DNS_NODATA;
	}
	for (struct ares_srv_reply *r = srv; r != NULL; r = r->next)
		n++;
	*srv_r = calloc(n > 0 ? n : 1, sizeof(**srv_r));
	if (*srv_r == NULL) {
		ares_free_data(srv);
		*error_r = "out of memory";
		return DNS_TEMPFAIL;
	}
	n = 0;
	for (struct ares_srv_reply *r = srv; r != NULL; r = r->next, n++) {
		str_copy((*srv_r)[n].target, DNS_NAME_MAX, strcmp(r->host, ".") == 0 ? "" : r->host);
		(*srv_r)[n].priority = r->priority;
		(*srv_r)[n].weight = r->weight;
		(*srv_r)[n].port = r->port;
	}
	ares_free_data(srv);
	*n_r = n;
	return n > 0 ? DNS_OK : DNS_NODATA;
}

enum dns_result dns_srv_lookup(const char *resolver, const char *name, struct dns_srv **srv_r, size_t *n_r,
			       const char **error_r)
{
	struct dns_answer a;
	enum dns_result res;

	*srv_r = NULL;
	*n_r = 0;
	res = dns_query(resolver, name, ns_t_srv, &a, error_r);
	if (res == DNS_OK)
		res = dns_srv_parse(a.buf, (size_t)a.len, srv_r, n_r, error_r);
	free(a.buf);
	return res;
}

enum dns_result dns_addr_parse(const unsigned char *buf, size_t len, int family, unsigned port,
			       struct dns_addr *addrs, size_t max, size_t *n_r, const char **error_r)
{
	size_t n = 0;

	*n_r = 0;
	if (buf != NULL && len <= INT_MAX && family == AF_INET) {
		struct ares_addrttl ttls[16];
		int nt = 16;
		if (ares_parse_a_reply(buf, (int)len, NULL, ttls, &nt) == ARES_SUCCESS) {
			for (int i = 0; i < nt && n < max; i++, n++) {
				struct sockaddr_in *sin = (struct sockaddr_in *)&addrs[n].ss;
				memset(&addrs[n], 0, sizeof(addrs[n]));
				sin->sin_family = AF_INET;
				sin->sin_addr = ttls[i].ipaddr;
				sin->sin_port = htons((uint16_t)port);
				addrs[n].len = sizeof(*sin);
			}
		}
	} else if (buf != NULL && len <= INT_MAX && family == AF_INET6) {
		struct ares_addr6ttl ttls[16];
		int nt = 16;
		if (ares_parse_aaaa_reply(buf, (int)len, NULL, ttls, &nt) == ARES_SUCCESS) {
			for (int i = 0; i < nt && n < max; i++, n++) {
				struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&addrs[n].ss;
				memset(&addrs[n], 0, sizeof(addrs[n]));
				sin6->sin6_family = AF_INET6;
				memcpy(&sin6->sin6_addr, &ttls[i].ip6addr, sizeof(sin6->sin6_addr));
				sin6->sin6_port = htons((uint16_t)port);
				addrs[n].len = sizeof(*sin6);
			}
		}
	}
	*n_r = n;
	if (n == 0) {
		*error_r = "no address records";
		return DNS_NODATA;
	}
	return DNS_OK;
}

/* One A or AAAA query for host: up to max addresses with port set. */
static enum dns_result dns_addr_query(const char *resolver, const char *host, int type, unsigned port,
				      struct dns_addr *addrs, size_t max, size_t *n_r,
				      const char **error_r)
{
	struct dns_answer a;
	enum dns_result res = dns_query(resolver, host, type, &a, error_r);

	*n_r = 0;
	if (res == DNS_OK)
		res = dns_addr_parse(a.buf, (size_t)a.len, type == ns_t_a ? AF_INET : AF_INET6, port, addrs,
				     max, n_r, error_r);
	free(a.buf);
	return res;
}

enum dns_result dns_addr_lookup_family(const char *resolver, const char *host, int family,
				       struct dns_addr *addrs, size_t max, size_t *n_r,
				       const char **error_r)
{
	*n_r = 0;
	if (family != AF_INET && family != AF_INET6) {
		*error_r = "not an address family";
		return DNS_NODATA;
	}
	return dns_addr_query(resolver, host, family == AF_INET ? ns_t_a : ns_t_aaaa, 0, addrs, max,
			      n_r, error_r);
}

enum dns_result dns_addr_lookup(const char *resolver, const char *host, unsigned port,
				struct dns_addr *addrs, size_t max, size_t *n_r,
				const char **error_r)
{
	static const int types[2] = { ns_t_a, ns_t_aaaa };
	enum dns_result worst = DNS_NODATA;
	const char *err = "no address records";
	size_t n = 0;

	*n_r = 0;
	/* a literal address needs no lookup */
	{
		struct in_addr in4;
		struct in6_addr in6;
		if (inet_pton(AF_INET, host, &in4) == 1 && max > 0) {
			struct sockaddr_in *sin = (struct sockaddr_in *)&addrs[0].ss;
			memset(&addrs[0], 0, sizeof(addrs[0]));
			sin->sin_family = AF_INET;
			sin->sin_addr = in4;
			sin->sin_port = htons((uint16_t)port);
			addrs[0].len = sizeof(*sin);
			*n_r = 1;
			return DNS_OK;
		}
		if (inet_pton(AF_INET6, host, &in6) == 1 && max > 0) {
			struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&addrs[0].ss;
			memset(&addrs[0], 0, sizeof(addrs[0]));
			sin6->sin6_family = AF_INET6;
			sin6->sin6_addr = in6;
			sin6->sin6_port = htons((uint16_t)port);
			addrs[0].len = sizeof(*sin6);
			*n_r = 1;
			return DNS_OK;
		}
	}
	for (int t = 0; t < 2; t++) {
		const char *e = NULL;
		size_t got = 0;
		enum dns_result res = dns_addr_query(resolver, host, types[t], port, addrs + n, max - n,
						     &got, &e);

		if (res != DNS_OK) {
			if (res == DNS_TEMPFAIL || (res == DNS_NXDOMAIN && worst != DNS_TEMPFAIL)) {
				worst = res;
				err = e;
			}
			continue;
		}
		n += got;
	}
	*n_r = n;
	if (n > 0)
		return DNS_OK;
	*error_r = err;
	return worst;
}

enum dns_result dns_txt_parse(const unsigned char *buf, size_t len, char ***txt_r, size_t *n_r,
			      const char **error_r)
{
	struct ares_txt_ext *txt = NULL;
	char **out = NULL;
	size_t n = 0, cap = 0;

	*txt_r = NULL;
	*n_r = 0;
	if (buf == NULL || len > INT_MAX || ares_parse_txt_reply_ext(buf, (int)len, &txt) != ARES_SUCCESS) {
		*error_r = "no TXT records";
		return DNS_NODATA;
	}
	/* a record is one or more character-strings, joined without spaces
	 * (RFC 7208 §3.3, RFC 6376 §3.6.2.2) */
	for (struct ares_txt_ext *t = txt; t != NULL; t = t->next) {
		char *cur, *grown;
		size_t old;

		if (t->record_start || n == 0) {
			if (n == cap) {
				char **g = realloc(out, (cap = cap ? cap * 2 : 4) * sizeof(*out));
				if (g == NULL)
					goto oom;
				out = g;
			}
			out[n] = calloc(1, 1);
			if (out[n] == NULL)
				goto oom;
			n++;
		}
		cur = out[n - 1];
		old = strlen(cur);
		grown = realloc(cur, old + t->length + 1);
		if (grown == NULL)
			goto oom;
		memcpy(grown + old, t->txt, t->length);
		grown[old + t->length] = '\0';
		out[n - 1] = grown;
	}
	ares_free_data(txt);
	*txt_r = out;
	*n_r = n;
	return n > 0 ? DNS_OK : DNS_NODATA;
oom:
	ares_free_data(txt);
	dns_txt_free(out, n);
	*error_r = "out of memory";
	return DNS_TEMPFAIL;
}

enum dns_result dns_raw_lookup(const char *resolver, const char *name, int type, unsigned char **buf_r,
			       size_t *len_r, const char **error_r)
{
	struct dns_answer a;
	enum dns_result res = dns_query(resolver, name, type, &a, error_r);

	*buf_r = a.buf;
	*len_r = a.buf != NULL && a.len > 0 ? (size_t)a.len : 0;
	return res;
}

enum dns_result dns_txt_lookup(const char *resolver, const char *name, char ***txt_r, size_t *n_r,
			       const char **error_r)
{
	struct dns_answer a;
	enum dns_result res;

	*txt_r = NULL;
	*n_r = 0;
	res = dns_query(resolver, name, ns_t_txt, &a, error_r);
	if (res == DNS_OK)
		res = dns_txt_parse(a.buf, (size_t)a.len, txt_r, n_r, error_r);
	free(a.buf);
	return res;
}

void dns_txt_free(char **txt, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(txt[i]);
	free(txt);
}

int dns_ptr_name(const struct sockaddr *sa, char *qname, size_t size)
{
	if (size < 80)
		return -1;
	if (sa->sa_family == AF_INET) {
		const unsigned char *b = (const unsigned char *)&((const struct sockaddr_in *)sa)->sin_addr;
		snprintf(qname, size, "%u.%u.%u.%u.in-addr.arpa", b[3], b[2], b[1], b[0]);
		return 0;
	}
	if (sa->sa_family == AF_INET6) {
		const unsigned char *b = ((const struct sockaddr_in6 *)sa)->sin6_addr.s6_addr;
		static const char hex[] = "0123456789abcdef";
		size_t o = 0;
		for (int i = 15; i >= 0; i--) {
			qname[o++] = hex[b[i] & 15];
			qname[o++] = '.';
			qname[o++] = hex[b[i] >> 4];
			qname[o++] = '.';
		}
		memcpy(qname + o, "ip6.arpa", 9);
		return 0;
	}
	return -1;
}

enum dns_result dns_ptr_parse(const unsigned char *buf, size_t len, char (*names)[DNS_NAME_MAX], size_t max,
			      size_t *n_r, const char **error_r)
{
	struct hostent *he = NULL;
	size_t n = 0;

	*n_r = 0;
	if (buf == NULL || len > INT_MAX ||
	    ares_parse_ptr_reply(buf, (int)len, NULL, 0, AF_INET, &he) != ARES_SUCCESS || he == NULL) {
		*error_r = "no PTR records";
		return DNS_NODATA;
	}
	/* c-ares puts every PTR name among the aliases and the last one in
	 * h_name as well: each name once */
	if (he->h_name != NULL && n < max)
		str_copy(names[n++], DNS_NAME_MAX, he->h_name);
	for (char **al = he->h_aliases; al != NULL && *al != NULL && n < max; al++) {
		bool seen = false;
		for (size_t i = 0; i < n && !seen; i++)
			seen = strcasecmp(names[i], *al) == 0;
		if (!seen)
			str_copy(names[n++], DNS_NAME_MAX, *al);
	}
	ares_free_hostent(he);
	*n_r = n;
	return n > 0 ? DNS_OK : DNS_NODATA;
}

enum dns_result dns_ptr_lookup(const char *resolver, const struct sockaddr *sa, char (*names)[DNS_NAME_MAX],
			       size_t max, size_t *n_r, const char **error_r)
{
	char qname[80];
	struct dns_answer a;
	enum dns_result res;

	*n_r = 0;
	if (dns_ptr_name(sa, qname, sizeof(qname)) < 0) {
		*error_r = "not an IP address";
		return DNS_NODATA;
	}
	res = dns_query(resolver, qname, ns_t_ptr, &a, error_r);
	if (res == DNS_OK)
		res = dns_ptr_parse(a.buf, (size_t)a.len, names, max, n_r, error_r);
	free(a.buf);
	return res;
}
