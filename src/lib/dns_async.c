/* DNS on the event loops (see dns_async.h): a c-ares channel per loop,
 * driven by libevent (ARES_OPT_SOCK_STATE_CB gives the sockets to watch,
 * ares_timeout() the next timer), the shared cache in front of it, and
 * the per-message batches with their budget. */
#include "lib/dns_async.h"
#include "lib/dns_cache.h"
#include "lib/log.h"
#include "lib/str.h"

#include <ares.h>
#include <arpa/nameser.h>
#include <event2/event.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

struct dns_sock {
	ares_socket_t fd;
	short what;
	struct event *ev;
};

struct dns_async {
	struct event_base *base;
	struct dns_cache *cache;
	ares_channel ch;		/* made at the first query */
	char spec[256];			/* the servers ch was made for */
	struct event *timer;
	struct dns_sock *socks;
	size_t nsocks, capsocks;
	struct dns_query *inflight;	/* queries sent, waiting for their answer */
	/* health of the server (see dns_async_check) */
	int64_t last_reply_ms;		/* when it last answered anything */
	bool silent;			/* not answering: lookups fail at once */
	unsigned probes;		/* queries in flight sent while silent */
	struct event *health_ev;
};

enum dns_bstate { BE_WANTED, BE_PENDING, BE_DONE };

struct dns_query;

struct dns_bentry {
	struct dns_batch *b;
	char name[DNS_NAME_MAX];
	int type;
	enum dns_bstate state;
	enum dns_result res;
	unsigned char *buf;
	size_t len;
	struct dns_query *q;		/* while pending */
	struct dns_bentry *qnext;	/* the next batch entry waiting for q */
	bool silent;			/* failed because the server is not answering */
};

/* One query on the wire; every batch that wants the same name and type
 * meanwhile waits for it too, instead of sending its own. */
struct dns_query {
	struct dns_async *r;
	struct dns_query *next;		/* in r->inflight */
	struct dns_bentry *waiters;
	int type;
	int64_t sent_ms;
	bool probe;			/* sent while the server was silent */
	char name[DNS_NAME_MAX];
};

struct dns_batch {
	struct dns_async *r;
	char spec[256];
	struct dns_bentry *e[DNS_BATCH_MAX];
	size_t n;
	unsigned npending;
	unsigned budget_ms, used_ms;
	struct timespec busy_since;
	struct event *budget_ev, *notify_ev;
	bool exhausted, frozen;
	void (*cb)(void *arg);
	void *arg;
};

static pthread_once_t dns_async_once = PTHREAD_ONCE_INIT;

static void dns_async_lib_init(void)
{
	ares_library_init(ARES_LIB_INIT_ALL);
}

/* ---- the resolver */

static void dns_async_rearm(struct dns_async *r)
{
	struct timeval tv, *tvp = NULL;

	if (r->ch != NULL)
		tvp = ares_timeout(r->ch, NULL, &tv);
	if (tvp != NULL)
		evtimer_add(r->timer, tvp);
	else
		evtimer_del(r->timer);
}

static void dns_async_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct dns_async *r = arg;

	if (r->ch != NULL)
		ares_process_fd(r->ch, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
	dns_async_rearm(r);
}

static void dns_async_sock_cb(evutil_socket_t fd, short what, void *arg)
{
	struct dns_async *r = arg;

	if (r->ch != NULL)
		ares_process_fd(r->ch, (what & EV_READ) ? fd : ARES_SOCKET_BAD,
				(what & EV_WRITE) ? fd : ARES_SOCKET_BAD);
	dns_async_rearm(r);
}

/* c-ares tells which sockets to watch, and for what. */
static void dns_async_sock_state(void *data, ares_socket_t fd, int readable, int writable)
{
	struct dns_async *r = data;
	short what = (short)((readable ? EV_READ : 0) | (writable ? EV_WRITE : 0));
	size_t i;

	for (i = 0; i < r->nsocks && r->socks[i].fd != fd; i++)
		;
	if (i < r->nsocks) {
		if (r->socks[i].what == what)
			return;
		event_free(r->socks[i].ev);
		if (what == 0) {
			r->socks[i] = r->socks[--r->nsocks];
			return;
		}
	} else {
		if (what == 0)
			return;
		if (r->nsocks == r->capsocks) {
			size_t cap = r->capsocks ? r->capsocks * 2 : 8;
			struct dns_sock *g = realloc(r->socks, cap * sizeof(*g));
			if (g == NULL)
				return;	/* its queries time out */
			r->socks = g;
			r->capsocks = cap;
		}
		i = r->nsocks++;
		r->socks[i].fd = fd;
	}
	r->socks[i].what = what;
	r->socks[i].ev = event_new(r->base, fd, (short)(what | EV_PERSIST), dns_async_sock_cb, r);
	if (r->socks[i].ev == NULL) {
		r->socks[i] = r->socks[--r->nsocks];
		return;
	}
	event_add(r->socks[i].ev, NULL);
}

/* ---- the server's health
 *
 * A server that answers nothing at all while several queries wait past
 * the first try's timeout (when c-ares itself gives up on that try and
 * sends again) is taken as not answering: the batches waiting for it get
 * a temporary failure at once, and so do new lookups, instead of each
 * waiting for c-ares's full timeout. The queries go on, and one query at
 * a time still goes out for a name a batch wants, without anyone waiting
 * for it: any reply from the server, even SERVFAIL or NXDOMAIN, makes it
 * answering again. A slow server that answers something within the
 * timeout, or one that drops only some names, is never taken for dead:
 * only silence counts. The probes (queries sent while the server is
 * silent) are one at a time, so a dead server gets at most one query per
 * timeout from each loop besides the retries of those sent before. */

static int64_t dns_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A reply of the server, as opposed to its silence or our own failure. */
static bool dns_async_is_reply(int status)
{
	switch (status) {
	case ARES_ETIMEOUT:
	case ARES_ECONNREFUSED:
	case ARES_ENOMEM:
	case ARES_EDESTRUCTION:
	case ARES_ECANCELLED:
	case ARES_EBADNAME:
	case ARES_ENOTINITIALIZED:
		return false;
	default:
		return true;
	}
}

static void dns_batch_answer_in(struct dns_bentry *e, enum dns_result res, const unsigned char *buf, size_t len);

/* Every batch entry waiting for q gets a temporary failure now. */
static void dns_query_fail_waiters(struct dns_query *q)
{
	struct dns_bentry *w = q->waiters;

	q->waiters = NULL;
	while (w != NULL) {
		struct dns_bentry *next = w->qnext;
		w->qnext = NULL;
		w->silent = true;
		dns_batch_answer_in(w, DNS_TEMPFAIL, NULL, 0);
		w = next;
	}
}

static void dns_async_set_silent(struct dns_async *r, bool silent)
{
	if (r->silent == silent)
		return;
	r->silent = silent;
	if (silent) {
		log_warn(NULL, "dns: the server %s answers nothing: lookups fail at once (temperror) until it answers "
			       "again", r->spec[0] != '\0' ? r->spec : "(system resolver)");
		for (struct dns_query *q = r->inflight; q != NULL; q = q->next)
			dns_query_fail_waiters(q);
	} else {
		log_info(NULL, "dns: the server %s answers again", r->spec[0] != '\0' ? r->spec : "(system resolver)");
	}
}

/* Counts the queries the server has been silent on for a try's timeout;
 * two or more make it not answering. Arms the timer for the next time
 * a query reaches that age. */
static void dns_async_check(struct dns_async *r)
{
	int64_t now = dns_now_ms(), next = 0;
	unsigned overdue = 0;

	for (struct dns_query *q = r->inflight; q != NULL; q = q->next) {
		int64_t due = q->sent_ms + DNS_ASYNC_TIMEOUT_MS;
		if (q->sent_ms < r->last_reply_ms)
			continue;	/* heard from since */
		if (due <= now)
			overdue++;
		else if (next == 0 || due < next)
			next = due;
	}
	if (overdue >= DNS_ASYNC_SILENT_MIN)
		dns_async_set_silent(r, true);
	if (next != 0) {
		struct timeval tv = { (time_t)((next - now) / 1000), (suseconds_t)((next - now) % 1000) * 1000 };
		evtimer_add(r->health_ev, &tv);
	}
}

static void dns_async_health_cb(evutil_socket_t fd, short what, void *arg)
{
	dns_async_check(arg);
}

struct dns_async *dns_async_new(struct event_base *base, struct dns_cache *cache)
{
	struct dns_async *r = calloc(1, sizeof(*r));

	pthread_once(&dns_async_once, dns_async_lib_init);
	if (r == NULL)
		return NULL;
	r->base = base;
	r->cache = cache;
	r->timer = evtimer_new(base, dns_async_timer_cb, r);
	r->health_ev = evtimer_new(base, dns_async_health_cb, r);
	if (r->timer == NULL || r->health_ev == NULL) {
		if (r->timer != NULL)
			event_free(r->timer);
		free(r);
		return NULL;
	}
	return r;
}

void dns_async_free(struct dns_async *r)
{
	if (r == NULL)
		return;
	if (r->ch != NULL)
		ares_destroy(r->ch);	/* the callbacks run with ARES_EDESTRUCTION */
	r->ch = NULL;
	for (size_t i = 0; i < r->nsocks; i++)
		event_free(r->socks[i].ev);
	free(r->socks);
	event_free(r->timer);
	event_free(r->health_ev);
	free(r);
}

/* The channel for servers spec: 0, or -1. A changed dns.resolver makes
 * a new one (what was in flight fails) and empties the cache. */
static int dns_async_channel(struct dns_async *r, const char *spec)
{
	struct ares_options opts;

	if (r->ch != NULL && strcmp(r->spec, spec) == 0)
		return 0;
	if (r->ch != NULL) {
		ares_destroy(r->ch);
		r->ch = NULL;
		dns_cache_clear(r->cache);
	}
	memset(&opts, 0, sizeof(opts));
	opts.timeout = DNS_ASYNC_TIMEOUT_MS;
	opts.tries = DNS_ASYNC_TRIES;
	opts.sock_state_cb = dns_async_sock_state;
	opts.sock_state_cb_data = r;
	if (ares_init_options(&r->ch, &opts, ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES | ARES_OPT_SOCK_STATE_CB) !=
	    ARES_SUCCESS) {
		r->ch = NULL;
		return -1;
	}
	if (spec[0] != '\0' && ares_set_servers_ports_csv(r->ch, spec) != ARES_SUCCESS) {
		ares_destroy(r->ch);
		r->ch = NULL;
		return -1;
	}
	str_copy(r->spec, sizeof(r->spec), spec);
	r->silent = false;
	r->probes = 0;
	r->last_reply_ms = 0;
	return 0;
}

/* Outcomes worth remembering for a while: answers, and the failures of
 * the server (not our own, such as being out of memory or shutting down). */
static bool dns_async_cacheable(int status)
{
	switch (status) {
	case ARES_SUCCESS:
	case ARES_ENODATA:
	case ARES_ENOTFOUND:
	case ARES_ETIMEOUT:
	case ARES_ESERVFAIL:
	case ARES_EREFUSED:
	case ARES_ECONNREFUSED:
		return true;
	default:
		return false;
	}
}

static void dns_async_query_cb(void *arg, int status, int timeouts, unsigned char *abuf, int alen)
{
	struct dns_query *q = arg, **pp;
	const char *error;
	enum dns_result res = dns_status(status, &error);
	size_t len = abuf != NULL && alen > 0 ? (size_t)alen : 0;
	struct dns_bentry *w;

	if (dns_async_is_reply(status)) {
		q->r->last_reply_ms = dns_now_ms();
		dns_async_set_silent(q->r, false);
	} else if (status == ARES_ETIMEOUT) {
		dns_async_check(q->r);	/* (q counts: it is still in flight) */
	}
	for (pp = &q->r->inflight; *pp != NULL && *pp != q; pp = &(*pp)->next)
		;
	if (*pp == q)
		*pp = q->next;
	if (q->probe)
		q->r->probes--;
	if (dns_async_cacheable(status))
		dns_cache_put(q->r->cache, q->name, q->type, res, len > 0 ? abuf : NULL, len);
	w = q->waiters;
	q->waiters = NULL;
	while (w != NULL) {
		struct dns_bentry *next = w->qnext;
		w->qnext = NULL;
		dns_batch_answer_in(w, res, len > 0 ? abuf : NULL, len);
		w = next;
	}
	free(q);
}

/* e no longer waits for its query (which goes on, for the cache). */
static void dns_query_detach(struct dns_bentry *e)
{
	struct dns_bentry **pp;

	if (e->q == NULL)
		return;
	for (pp = &e->q->waiters; *pp != NULL && *pp != e; pp = &(*pp)->qnext)
		;
	if (*pp == e)
		*pp = e->qnext;
	e->qnext = NULL;
	e->q = NULL;
}

/* ---- batches */

static long dns_ms_between(const struct timespec *a, const struct timespec *b)
{
	return (b->tv_sec - a->tv_sec) * 1000 + (b->tv_nsec - a->tv_nsec) / 1000000;
}

static void dns_batch_notify(struct dns_batch *b)
{
	if (b->notify_ev != NULL)
		event_active(b->notify_ev, EV_TIMEOUT, 0);
}

/* The budget is spent only while something is in flight. */
static void dns_batch_clock_start(struct dns_batch *b)
{
	struct timeval tv;
	unsigned left = b->budget_ms > b->used_ms ? b->budget_ms - b->used_ms : 0;

	clock_gettime(CLOCK_MONOTONIC, &b->busy_since);
	tv.tv_sec = left / 1000;
	tv.tv_usec = (suseconds_t)(left % 1000) * 1000;
	evtimer_add(b->budget_ev, &tv);
}

static void dns_batch_clock_stop(struct dns_batch *b)
{
	struct timespec now;
	long spent;

	clock_gettime(CLOCK_MONOTONIC, &now);
	spent = dns_ms_between(&b->busy_since, &now);
	if (spent > 0)
		b->used_ms += (unsigned)spent;
	evtimer_del(b->budget_ev);
}

static void dns_batch_answer_in(struct dns_bentry *e, enum dns_result res, const unsigned char *buf, size_t len)
{
	struct dns_batch *b = e->b;

	e->q = NULL;
	e->state = BE_DONE;
	e->res = res;
	if (buf != NULL && len > 0 && (e->buf = malloc(len)) != NULL) {
		memcpy(e->buf, buf, len);
		e->len = len;
	} else if (res == DNS_OK) {
		e->res = DNS_TEMPFAIL;	/* out of memory */
	}
	if (b->npending > 0 && --b->npending == 0)
		dns_batch_clock_stop(b);
	dns_batch_notify(b);
}

static void dns_batch_budget_cb(evutil_socket_t fd, short what, void *arg)
{
	struct dns_batch *b = arg;

	b->exhausted = true;
	b->used_ms = b->budget_ms;
	for (size_t i = 0; i < b->n; i++) {
		struct dns_bentry *e = b->e[i];
		if (e->state != BE_PENDING)
			continue;
		dns_query_detach(e);
		e->state = BE_DONE;
		e->res = DNS_TEMPFAIL;
	}
	b->npending = 0;
	dns_batch_notify(b);
}

static void dns_batch_notify_cb(evutil_socket_t fd, short what, void *arg)
{
	struct dns_batch *b = arg;

	if (b->cb != NULL)
		b->cb(b->arg);
}

struct dns_batch *dns_batch_new(struct dns_async *r, const char *resolver, unsigned budget_ms)
{
	struct dns_batch *b = calloc(1, sizeof(*b));

	if (b == NULL)
		return NULL;
	b->r = r;
	str_copy(b->spec, sizeof(b->spec), resolver != NULL ? resolver : "");
	b->budget_ms = budget_ms;
	b->budget_ev = evtimer_new(r->base, dns_batch_budget_cb, b);
	b->notify_ev = event_new(r->base, -1, 0, dns_batch_notify_cb, b);
	if (b->budget_ev == NULL || b->notify_ev == NULL) {
		dns_batch_free(b);
		return NULL;
	}
	return b;
}

void dns_batch_free(struct dns_batch *b)
{
	if (b == NULL)
		return;
	for (size_t i = 0; i < b->n; i++) {
		dns_query_detach(b->e[i]);
		free(b->e[i]->buf);
		free(b->e[i]);
	}
	if (b->budget_ev != NULL)
		event_free(b->budget_ev);
	if (b->notify_ev != NULL)
		event_free(b->notify_ev);
	free(b);
}

void dns_batch_set_cb(struct dns_batch *b, void (*cb)(void *arg), void *arg)
{
	b->cb = cb;
	b->arg = arg;
}

void dns_batch_freeze(struct dns_batch *b)
{
	b->frozen = true;
}

bool dns_batch_is_exhausted(const struct dns_batch *b)
{
	return b->exhausted;
}

size_t dns_batch_size(const struct dns_batch *b)
{
	return b->n;
}

unsigned dns_batch_pending(const struct dns_batch *b)
{
	return b->npending;
}

unsigned dns_batch_used_ms(const struct dns_batch *b)
{
	return b->used_ms;
}

unsigned dns_batch_fetch(struct dns_batch *b)
{
	struct dns_async *r = b->r;
	bool have_channel = dns_async_channel(r, b->spec) == 0;

	for (size_t i = 0; i < b->n; i++) {
		struct dns_bentry *e = b->e[i];
		struct dns_query *q, *fresh = NULL;

		if (e->state != BE_WANTED)
			continue;
		for (q = have_channel ? r->inflight : NULL; q != NULL; q = q->next) {
			if (q->type == e->type && strcasecmp(q->name, e->name) == 0)
				break;
		}
		if (q == NULL && have_channel && !b->exhausted && (!r->silent || r->probes == 0) &&
		    (q = calloc(1, sizeof(*q))) != NULL) {
			q->r = r;
			q->type = e->type;
			q->sent_ms = dns_now_ms();
			q->probe = r->silent;
			r->probes += q->probe;
			str_copy(q->name, sizeof(q->name), e->name);
			q->next = r->inflight;
			r->inflight = q;
			fresh = q;
			if (!evtimer_pending(r->health_ev, NULL))
				dns_async_check(r);
		}
		if (q == NULL || r->silent) {
			/* (while the server is silent a new query is a probe
			 * no one waits for) */
			e->state = BE_DONE;
			e->res = DNS_TEMPFAIL;
			e->silent = r->silent;
			if (fresh != NULL)
				ares_query(r->ch, fresh->name, ns_c_in, fresh->type, dns_async_query_cb, fresh);
			continue;
		}
		e->q = q;
		e->qnext = q->waiters;
		q->waiters = e;
		e->state = BE_PENDING;
		if (b->npending++ == 0)
			dns_batch_clock_start(b);
		if (fresh != NULL) {
			/* (the callback may run at once, e.g. for a bad name) */
			ares_query(r->ch, fresh->name, ns_c_in, fresh->type, dns_async_query_cb, fresh);
			fresh = NULL;
		}
	}
	dns_async_rearm(r);
	return b->npending;
}

static struct dns_bentry *dns_batch_add(struct dns_batch *b, const char *name, int type)
{
	struct dns_bentry *e;

	if (b->n >= DNS_BATCH_MAX || (e = calloc(1, sizeof(*e))) == NULL)
		return NULL;
	e->b = b;
	str_copy(e->name, sizeof(e->name), name);
	e->type = type;
	b->e[b->n++] = e;
	return e;
}

/* The raw answer for name/type (see the header comment). */
static enum dns_result dns_batch_raw(struct dns_batch *b, const char *name, int type, const unsigned char **buf_r,
				     size_t *len_r, const char **error_r)
{
	struct dns_bentry *e = NULL;
	enum dns_result res;
	unsigned char *buf;
	size_t len;

	*buf_r = NULL;
	*len_r = 0;
	for (size_t i = 0; i < b->n && e == NULL; i++) {
		if (b->e[i]->type == type && strcasecmp(b->e[i]->name, name) == 0)
			e = b->e[i];
	}
	if (e == NULL && strlen(name) < DNS_NAME_MAX && dns_cache_get(b->r->cache, name, type, &res, &buf, &len)) {
		e = dns_batch_add(b, name, type);
		if (e == NULL) {
			free(buf);
		} else {
			e->state = BE_DONE;
			e->res = res;
			e->buf = buf;
			e->len = len;
		}
	} else if (e == NULL && !b->frozen && !b->exhausted && strlen(name) < DNS_NAME_MAX) {
		e = dns_batch_add(b, name, type);	/* wanted */
	}
	if (e == NULL) {
		*error_r = b->exhausted || b->frozen ? "the time for the DNS lookups of this message ran out"
						     : "too many DNS lookups";
		return DNS_TEMPFAIL;
	}
	if (e->state != BE_DONE) {
		*error_r = "DNS lookup not finished";
		return DNS_TEMPFAIL;
	}
	if (e->res == DNS_TEMPFAIL) {
		*error_r = e->silent ? "the DNS server is not answering"
			   : b->exhausted && e->buf == NULL ? "the time for the DNS lookups of this message ran out"
							    : "DNS server failure or timeout";
		return DNS_TEMPFAIL;
	}
	if (e->res != DNS_OK) {
		*error_r = e->res == DNS_NXDOMAIN ? "domain not found (NXDOMAIN)" : "no such record";
		return e->res;
	}
	*buf_r = e->buf;
	*len_r = e->len;
	return DNS_OK;
}

enum dns_result dns_batch_txt(struct dns_batch *b, const char *name, char ***txt_r, size_t *n_r,
			      const char **error_r)
{
	const unsigned char *buf;
	size_t len;
	enum dns_result res = dns_batch_raw(b, name, ns_t_txt, &buf, &len, error_r);

	*txt_r = NULL;
	*n_r = 0;
	return res == DNS_OK ? dns_txt_parse(buf, len, txt_r, n_r, error_r) : res;
}

enum dns_result dns_batch_addr(struct dns_batch *b, const char *name, int family, struct dns_addr *addrs,
			       size_t max, size_t *n_r, const char **error_r)
{
	const unsigned char *buf;
	size_t len;
	enum dns_result res;

	*n_r = 0;
	if (family != AF_INET && family != AF_INET6) {
		*error_r = "not an address family";
		return DNS_NODATA;
	}
	res = dns_batch_raw(b, name, family == AF_INET ? ns_t_a : ns_t_aaaa, &buf, &len, error_r);
	return res == DNS_OK ? dns_addr_parse(buf, len, family, 0, addrs, max, n_r, error_r) : res;
}

enum dns_result dns_batch_mx(struct dns_batch *b, const char *name, struct dns_mx **mx_r, size_t *n_r,
			     const char **error_r)
{
	const unsigned char *buf;
	size_t len;
	enum dns_result res = dns_batch_raw(b, name, ns_t_mx, &buf, &len, error_r);

	*mx_r = NULL;
	*n_r = 0;
	return res == DNS_OK ? dns_mx_parse(buf, len, mx_r, n_r, error_r) : res;
}

enum dns_result dns_batch_ptr(struct dns_batch *b, const struct sockaddr *sa, char (*names)[DNS_NAME_MAX],
			      size_t max, size_t *n_r, const char **error_r)
{
	char qname[80];
	const unsigned char *buf;
	size_t len;
	enum dns_result res;

	*n_r = 0;
	if (dns_ptr_name(sa, qname, sizeof(qname)) < 0) {
		*error_r = "not an IP address";
		return DNS_NODATA;
	}
	res = dns_batch_raw(b, qname, ns_t_ptr, &buf, &len, error_r);
	return res == DNS_OK ? dns_ptr_parse(buf, len, names, max, n_r, error_r) : res;
}
