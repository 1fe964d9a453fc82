/* The JSON API through a proxy to the account's home node (see
 * http_forward.h): the decision on the worker, the relay on the loop. */
#include "http/http_forward.h"
#include "http/api.h"
#include "http/api_admin.h"
#include "http/http_internal.h"
#include "lib/log.h"
#include "lib/str.h"
#include "policy/foreign.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/queue.h>
#include <sys/socket.h>

/* Seconds the node may stay silent: longer than its slowest answer and
 * than the event streams' 25 s heartbeat. */
#define FORWARD_TIMEOUT 120
/* The client's side of an event stream: the node's stream lifetime and
 * a minute (api_mail_events.c). */
#define FORWARD_STREAM_TIMEOUT 660
/* Bytes waiting for the client before the node is no longer read. */
#define FORWARD_BUF_HIGH (256 * 1024)

/* ---- on the worker ------------------------------------------------------ */

/* The {address} of the route, if it has one. */
static const char *forward_route_address(const struct api_job *j)
{
	const char *p = j->route->path;
	unsigned n = 0;

	for (; *p != '\0'; p++) {
		if (*p != '{')
			continue;
		if (strncmp(p, "{address}", 9) == 0)
			return n < API_PARAMS_MAX && j->params[n][0] != '\0' ? j->params[n] : NULL;
		n++;
	}
	return NULL;
}

void http_forward_target_free(struct http_forward_target *t)
{
	if (t == NULL)
		return;
	if (t->ssl != NULL)
		SSL_free(t->ssl);
	explicit_bzero(t->secret, sizeof(t->secret));
	free(t);
}

/* Routes a proxy answers itself even for a mail user: what they say
 * names this server (the host names a mail client is to use). */
static bool forward_route_is_proxys(const struct api_route *route)
{
	return route->run == api_me_mobileconfig;
}

bool http_forward_decide(struct api_job *j)
{
	const char *address = NULL;
	struct http_forward_target *t;
	int r;

	if (j->env.forward_target == NULL || j->proxied || (j->route->flags & API_PUBLIC) != 0 ||
	    forward_route_is_proxys(j->route))
		return false;
	if (j->actor.kind == OPS_ACTOR_USER)
		address = j->actor.name;
	else
		address = forward_route_address(j);
	if (address == NULL)
		return false;
	t = calloc(1, sizeof(*t));
	if (t == NULL) {
		api_error(j, 500, "internal", NULL, "out of memory", "メモリ不足です");
		return true;
	}
	r = j->env.forward_target(address, t);
	if (r == 0) {
		http_forward_target_free(t);
		return false;
	}
	if (r < 0) {
		http_forward_target_free(t);
		api_error(j, 503, "unavailable", NULL, "the server of this mailbox cannot be reached now, try again later",
			  "このメールボックスのサーバーに今はつながりません。しばらくしてからお試しください");
		return true;
	}
	j->forward = t;
	return true;
}

bool http_forward_client(struct api_job *j)
{
	struct net_addr a;

	if (!j->proxied)
		return true;
	if (j->env.proxy_is_trusted == NULL || !j->env.proxy_is_trusted(j->ip, j->proxy_secret) ||
	    net_addr_parse(j->proxy_client, &a) < 0) {
		log_warn(NULL, "api: %s from %s: proxy headers refused (not a trusted proxy, or a wrong secret)",
			 j->route->path, j->ip);
		api_error(j, 403, "forbidden", NULL, "proxy headers from a peer that is not a trusted proxy",
			  "信頼されたプロキシ以外からのプロキシ用ヘッダーです");
		return false;
	}
	str_copy(j->ip, sizeof(j->ip), j->proxy_client);
	return true;
}

/* ---- on the loop: the relay -------------------------------------------- */

struct forward {
	struct evhttp_request *req;		/* the client's */
	struct evhttp_connection *evcon;	/* the client's connection */
	struct evhttp_connection *node;		/* to the node; NULL once let go */
	struct evhttp_request *nreq;		/* to the node, while it runs */
	struct event_base *base;
	bool started;		/* the reply's head went to the client */
	bool stream;		/* text/event-stream */
	bool paused;		/* the node is not read: the client is behind */
	bool node_done;		/* the node's answer is complete */
	struct evbuffer *pending;	/* the node's body not yet handed to the client */
	struct event *kick;	/* hands it over, outside the node's callbacks */
	char node_name[64];
	char path[128];
	struct forward *prev, *next;	/* this loop's forwards */
};

static __thread struct forward *forwards;

static void forward_unlink(struct forward *f)
{
	if (f->prev != NULL)
		f->prev->next = f->next;
	else
		forwards = f->next;
	if (f->next != NULL)
		f->next->prev = f->prev;
}

static void forward_node_free_cb(evutil_socket_t fd, short what, void *arg)
{
	evhttp_connection_free(arg);
}

/* Lets the node's connection go: from the node's own callbacks it is
 * freed on the next turn of the loop. */
static void forward_node_release(struct forward *f, bool deferred)
{
	struct evhttp_connection *node = f->node;
	static const struct timeval now = { 0, 0 };

	f->node = NULL;
	f->nreq = NULL;
	if (node == NULL)
		return;
	if (!deferred || event_base_once(f->base, -1, EV_TIMEOUT, forward_node_free_cb, node, &now) < 0)
		evhttp_connection_free(node);
}

static void forward_free(struct forward *f)
{
	forward_unlink(f);
	if (f->kick != NULL)
		event_free(f->kick);
	if (f->pending != NULL)
		evbuffer_free(f->pending);
	free(f);
}

/* The client's connection is cut (its reply cannot be completed): evhttp
 * then ends it on its own path, calling forward_client_closed. */
static void forward_client_abort(struct forward *f)
{
	struct bufferevent *bev = evhttp_connection_get_bufferevent(f->evcon);
	evutil_socket_t fd = bev != NULL ? bufferevent_getfd(bev) : -1;

	if (fd >= 0)
		shutdown(fd, SHUT_RDWR);
}

/* The client went: the node's request goes too. evhttp frees the request
 * with the connection, unless it detached it first (a reply being sent):
 * then it is ours to free. */
static void forward_client_closed(struct evhttp_connection *evcon, void *arg)
{
	struct forward *f = arg;

	forward_node_release(f, false);
	if (evhttp_request_get_connection(f->req) == NULL)
		evhttp_request_free(f->req);
	forward_free(f);
}

/* The reply is about to end (complete, or an error before it started):
 * the client's connection is evhttp's again, whose reply may free it (and
 * call the close callback) at once; f goes now. */
static void forward_let_go(struct forward *f)
{
	evhttp_connection_set_closecb(f->evcon, NULL, NULL);
	forward_free(f);
}

static void forward_fail(struct forward *f, const char *why)
{
	struct evkeyvalq *h = evhttp_request_get_output_headers(f->req);
	struct evhttp_request *req;
	struct evbuffer *body;

	log_warn(NULL, "api: %s through node %s: %s", f->path, f->node_name, why);
	if (f->started) {
		forward_client_abort(f);	/* forward_client_closed frees f */
		return;
	}
	req = f->req;
	forward_let_go(f);
	body = evbuffer_new();
	http_security_headers(req, true);
	evhttp_add_header(h, "Content-Type", "application/json");
	evhttp_add_header(h, "Cache-Control", "no-store");
	if (body != NULL)
		evbuffer_add_printf(body, "{\"error\":{\"code\":\"unavailable\",\"message\":\"the server of this"
				    " mailbox cannot be reached now, try again later\"}}");
	http_send_reply(req, 503, "Service Unavailable", body);
	if (body != NULL)
		evbuffer_free(body);
}

static bool forward_hop_header(const char *key)
{
	static const char *const hop[] = {
		"Connection", "Keep-Alive", "Proxy-Connection", "Transfer-Encoding", "TE", "Trailer", "Upgrade",
		"Content-Length", "Expect",
	};

	for (size_t i = 0; i < sizeof(hop) / sizeof(hop[0]); i++) {
		if (strcasecmp(key, hop[i]) == 0)
			return true;
	}
	return strncasecmp(key, "X-Yubin-", 8) == 0;	/* never the client's own */
}

/* The node's status and headers: the client's reply starts. */
static int forward_node_header(struct evhttp_request *nreq, void *arg)
{
	struct forward *f = arg;
	struct evkeyvalq *in = evhttp_request_get_input_headers(nreq);
	struct evkeyvalq *out = evhttp_request_get_output_headers(f->req);
	const char *length = evhttp_find_header(in, "Content-Length");
	struct evkeyval *kv;

	TAILQ_FOREACH(kv, in, next) {
		if (!forward_hop_header(kv->key))
			evhttp_add_header(out, kv->key, kv->value);
	}
	if (length != NULL)
		evhttp_add_header(out, "Content-Length", length);
	f->stream = evhttp_find_header(in, "Content-Type") != NULL &&
		    strncasecmp(evhttp_find_header(in, "Content-Type"), "text/event-stream", 17) == 0;
	if (f->stream) {
		/* as the node's own stream: the client's connection lives as
		 * long as the stream and ends with it */
		evhttp_add_header(out, "Connection", "close");
		evhttp_connection_set_timeout(f->evcon, FORWARD_STREAM_TIMEOUT);
	}
	f->started = true;
	evhttp_send_reply_start(f->req, evhttp_request_get_response_code(nreq),
				evhttp_request_get_response_code_line(nreq));
	return 0;
}

/* The client took what was sent: read the node again. */
static void forward_client_drained(struct evhttp_connection *evcon, void *arg)
{
	struct forward *f = arg;

	if (f->paused && f->node != NULL) {
		f->paused = false;
		bufferevent_enable(evhttp_connection_get_bufferevent(f->node), EV_READ);
	}
}

/* On the loop, outside the node's callbacks (evhttp's client side does
 * not get the client's writes going from within them): what the node sent
 * goes on to the client, and the reply ends once the node's has. */
static void forward_kick(evutil_socket_t fd, short what, void *arg)
{
	struct forward *f = arg;
	struct bufferevent *cbev = evhttp_connection_get_bufferevent(f->evcon);
	struct evhttp_request *req = f->req;

	if (evbuffer_get_length(f->pending) > 0)
		evhttp_send_reply_chunk_with_cb(req, f->pending, forward_client_drained, f);
	if (f->node_done) {
		forward_let_go(f);
		evhttp_send_reply_end(req);
		return;
	}
	if (cbev != NULL && evbuffer_get_length(bufferevent_get_output(cbev)) >= FORWARD_BUF_HIGH && f->node != NULL) {
		f->paused = true;
		bufferevent_disable(evhttp_connection_get_bufferevent(f->node), EV_READ);
	}
}

/* A piece of the node's body: to the client on the next turn. */
static void forward_node_chunk(struct evhttp_request *nreq, void *arg)
{
	struct forward *f = arg;

	evbuffer_add_buffer(f->pending, evhttp_request_get_input_buffer(nreq));
	event_active(f->kick, EV_TIMEOUT, 0);
}

static void forward_node_error(enum evhttp_request_error error, void *arg)
{
	struct forward *f = arg;
	const char *why = error == EVREQ_HTTP_TIMEOUT ? "the node did not answer in time"
			  : error == EVREQ_HTTP_EOF ? "the node closed the connection"
			  : error == EVREQ_HTTP_INVALID_HEADER ? "the node's answer is malformed"
			  : error == EVREQ_HTTP_DATA_TOO_LONG ? "the node's answer is too long"
			  : "the node is unreachable";

	forward_node_release(f, true);
	forward_fail(f, why);
}

/* The node's answer is complete (or failed: nreq NULL, after the error
 * callback, which already answered). */
static void forward_node_done(struct evhttp_request *nreq, void *arg)
{
	struct forward *f = arg;

	if (nreq == NULL || f->node == NULL)
		return;
	forward_node_release(f, true);
	if (!f->started) {
		forward_fail(f, "no answer");
		return;
	}
	f->node_done = true;
	event_active(f->kick, EV_TIMEOUT, 0);
}

/* The client's headers for the node, with the client's address and the
 * proxies' secret. */
static void forward_request_headers(struct forward *f, const struct api_job *j,
				    const struct http_forward_target *t, size_t body_len)
{
	struct evkeyvalq *in = evhttp_request_get_input_headers(f->req);
	struct evkeyvalq *out = evhttp_request_get_output_headers(f->nreq);
	struct evkeyval *kv;
	char len[32];

	TAILQ_FOREACH(kv, in, next) {
		if (!forward_hop_header(kv->key))
			evhttp_add_header(out, kv->key, kv->value);
	}
	if (evhttp_find_header(out, "Host") == NULL)
		evhttp_add_header(out, "Host", t->host);
	evhttp_add_header(out, HTTP_FORWARD_CLIENT_HEADER, j->ip);
	evhttp_add_header(out, HTTP_FORWARD_SECRET_HEADER, t->secret);
	evhttp_add_header(out, "Connection", "close");
	if (body_len > 0 || j->method == EVHTTP_REQ_POST || j->method == EVHTTP_REQ_PUT ||
	    j->method == EVHTTP_REQ_PATCH) {
		snprintf(len, sizeof(len), "%zu", body_len);
		evhttp_add_header(out, "Content-Length", len);
	}
}

/* The request's body: what API_RAW_BODY routes took out, else what evhttp
 * read (the JSON parser only looked at it). */
static void forward_request_body(struct forward *f, const struct api_job *j, size_t *len_r)
{
	struct evbuffer *out = evhttp_request_get_output_buffer(f->nreq);

	if (j->body_raw != NULL)
		evbuffer_add(out, j->body_raw, j->body_raw_len);
	else
		evbuffer_add_buffer(out, evhttp_request_get_input_buffer(f->req));
	*len_r = evbuffer_get_length(out);
}

static struct evhttp_connection *forward_connect(struct forward *f, struct http_forward_target *t)
{
	struct bufferevent *bev;
	struct evhttp_connection *node;

	bev = bufferevent_openssl_socket_new(f->base, -1, t->ssl, BUFFEREVENT_SSL_CONNECTING,
					     BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
	if (bev == NULL)
		return NULL;
	t->ssl = NULL;	/* the bufferevent's now */
	bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
	node = evhttp_connection_base_bufferevent_new(f->base, NULL, bev, t->host, (ev_uint16_t)t->port);
	if (node == NULL) {
		bufferevent_free(bev);
		return NULL;
	}
	if (t->source[0] != '\0')
		evhttp_connection_set_local_address(node, t->source);
	evhttp_connection_set_timeout(node, FORWARD_TIMEOUT);
	evhttp_connection_set_retries(node, 0);
	return node;
}

void http_forward_start(struct api_job *j)
{
	struct forward *f = calloc(1, sizeof(*f));
	struct http_forward_target *t = j->forward;
	const char *target = evhttp_request_get_uri(j->req);
	size_t body_len = 0;

	j->forward = NULL;
	if (f == NULL) {
		http_forward_target_free(t);
		http_send_error(j->req, 503, "Service Unavailable", true);
		return;
	}
	f->req = j->req;
	f->evcon = j->evcon;
	f->base = j->cfg->base;
	f->pending = evbuffer_new();
	f->kick = event_new(f->base, -1, 0, forward_kick, f);
	str_copy(f->node_name, sizeof(f->node_name), t->node);
	str_copy(f->path, sizeof(f->path), j->route->path);
	f->next = forwards;
	if (forwards != NULL)
		forwards->prev = f;
	forwards = f;
	evhttp_connection_set_closecb(f->evcon, forward_client_closed, f);
	if (f->pending != NULL && f->kick != NULL)
		f->node = forward_connect(f, t);
	if (f->node == NULL || (f->nreq = evhttp_request_new(forward_node_done, f)) == NULL) {
		http_forward_target_free(t);
		forward_node_release(f, false);
		forward_fail(f, "out of memory");
		return;
	}
	evhttp_request_set_header_cb(f->nreq, forward_node_header);
	evhttp_request_set_chunked_cb(f->nreq, forward_node_chunk);
	evhttp_request_set_error_cb(f->nreq, forward_node_error);
	forward_request_body(f, j, &body_len);
	forward_request_headers(f, j, t, body_len);
	http_forward_target_free(t);
	if (evhttp_make_request(f->node, f->nreq, evhttp_request_get_command(f->req), target) < 0) {
		f->nreq = NULL;	/* freed by evhttp_make_request */
		forward_node_release(f, false);
		forward_fail(f, "cannot send the request");
	}
}

void http_forward_stop(void)
{
	struct forward *f = forwards, *next;

	for (; f != NULL; f = next) {
		next = f->next;
		if (f->stream && f->started) {
			struct evhttp_request *req = f->req;

			forward_node_release(f, false);
			forward_let_go(f);
			evhttp_send_reply_end(req);
		}
	}
}
