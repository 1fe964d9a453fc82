/* Connection limits of https.port: in all (counted from accept to the
 * SSL's free, so a connection that never sends a request counts too) and
 * per client address (counted from its first request, when evhttp tells
 * the address). The state hangs on the connection's SSL as ex_data and is
 * released by OpenSSL when the connection is freed, whatever the path. */
#include "http/http_internal.h"
#include "http/http.h"
#include "lib/ipcount.h"
#include "lib/metrics.h"
#include "lib/str.h"

#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

/* the per-address group of the HTTP side (server/conn.c uses 0-2) */
#define HTTP_IP_GROUP 3

struct conn_state {
	struct http_conns *list;	/* the loop's */
	struct conn_state *prev, *next;
	bool busy;		/* a request is handled or answered */
	char ip[64];		/* "" until the first request */
	struct bufferevent *bev;
	struct event *deadline;	/* the next request must be in by then */
	struct timeval limit;
	uint64_t started;	/* the request's arrival (metrics_now_us) */
};

static atomic_uint total;
static int ex_index = -1;
static pthread_once_t ex_once = PTHREAD_ONCE_INIT;
static const struct http_observer *observer;

static void state_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl, void *argp)
{
	struct conn_state *st = ptr;

	if (st == NULL)
		return;
	if (st->ip[0] != '\0')
		ipcount_release(HTTP_IP_GROUP, st->ip);
	if (st->deadline != NULL)
		event_free(st->deadline);
	if (st->list != NULL) {
		if (st->prev != NULL)
			st->prev->next = st->next;
		else
			st->list->head = st->next;
		if (st->next != NULL)
			st->next->prev = st->prev;
		st->list->count--;
	}
	atomic_fetch_sub(&total, 1);
	free(st);
}

static void ex_init(void)
{
	ex_index = SSL_get_ex_new_index(0, NULL, NULL, NULL, state_free);
}

int http_conn_attach(SSL *ssl, unsigned max_total, struct http_conns *list)
{
	struct conn_state *st;

	pthread_once(&ex_once, ex_init);
	if (ex_index < 0 || atomic_fetch_add(&total, 1) >= max_total) {
		atomic_fetch_sub(&total, 1);
		return -1;
	}
	st = calloc(1, sizeof(*st));
	if (st == NULL || SSL_set_ex_data(ssl, ex_index, st) != 1) {
		free(st);
		atomic_fetch_sub(&total, 1);
		return -1;
	}
	st->list = list;
	st->next = list->head;
	if (list->head != NULL)
		list->head->prev = st;
	list->head = st;
	list->count++;
	return 0;
}

/* The request did not arrive in time (a client trickling bytes that each
 * reset the idle timeout): shutting the socket down makes evhttp see the
 * end of the connection and free it on its own path. */
static void deadline_cb(evutil_socket_t unused, short what, void *arg)
{
	struct conn_state *st = arg;
	evutil_socket_t fd = st->bev != NULL ? bufferevent_getfd(st->bev) : -1;

	if (fd >= 0)
		shutdown(fd, SHUT_RDWR);
}

static void response_done(struct evhttp_request *req, void *arg)
{
	struct conn_state *st = arg;

	st->busy = false;
	if (st->list != NULL && st->list->stopping)
		deadline_cb(-1, 0, st);	/* the reply has gone: the connection ends */
	else
		evtimer_add(st->deadline, &st->limit);
	if (observer != NULL && observer->request_done != NULL)
		observer->request_done(metrics_now_us() - st->started);
}

int http_conn_deadline(SSL *ssl, struct bufferevent *bev, unsigned seconds)
{
	struct conn_state *st = SSL_get_ex_data(ssl, ex_index);

	if (st == NULL)
		return -1;
	st->bev = bev;
	st->limit.tv_sec = (time_t)seconds;
	st->deadline = evtimer_new(bufferevent_get_base(bev), deadline_cb, st);
	if (st->deadline == NULL)
		return -1;
	evtimer_add(st->deadline, &st->limit);
	return 0;
}

bool http_conn_request(struct evhttp_request *req, SSL *ssl, const char *ip, unsigned max_per_ip)
{
	struct conn_state *st = ssl != NULL ? SSL_get_ex_data(ssl, ex_index) : NULL;

	if (st == NULL)
		return false;
	if (st->deadline != NULL) {
		/* no deadline while the request is handled and answered */
		evtimer_del(st->deadline);
		evhttp_request_set_on_complete_cb(req, response_done, st);
		st->started = metrics_now_us();
		st->busy = true;
	}
	if (st->ip[0] != '\0')
		return true;	/* counted at its first request */
	if (ip == NULL || ip[0] == '\0' || strlen(ip) >= sizeof(st->ip) || !ipcount_acquire(HTTP_IP_GROUP, ip, max_per_ip))
		return false;
	str_copy(st->ip, sizeof(st->ip), ip);
	return true;
}

void http_conns_stop(struct http_conns *list)
{
	list->stopping = true;
	for (struct conn_state *st = list->head; st != NULL; st = st->next) {
		if (!st->busy)
			deadline_cb(-1, 0, st);
	}
}

void http_conns_detach(struct http_conns *list)
{
	struct conn_state *st = list->head, *next;

	for (; st != NULL; st = next) {
		next = st->next;
		st->list = NULL;
		st->prev = st->next = NULL;
	}
	list->head = NULL;
	list->count = 0;
}

void http_conn_observe(const struct http_observer *obs)
{
	observer = obs;
}

unsigned http_conn_open_count(void)
{
	return atomic_load(&total);
}
