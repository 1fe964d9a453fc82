#ifndef YUBIN_HTTP_HTTP_INTERNAL_H
#define YUBIN_HTTP_HTTP_INTERNAL_H

#include <stdbool.h>

struct evhttp_request;
struct ssl_st;
struct bufferevent;
struct evbuffer;
struct http_observer;
struct api_config;

/* Security headers every response carries; HSTS only over TLS. */
void http_security_headers(struct evhttp_request *req, bool tls);
/* The same with another Content-Security-Policy (the webmail's). */
void http_security_headers_csp(struct evhttp_request *req, bool tls, const char *policy);
/* evhttp_send_reply, but a HEAD gets the headers and length only. */
void http_send_reply(struct evhttp_request *req, int code, const char *reason, struct evbuffer *body);
/* A short error page (text/plain) with the security headers. */
void http_send_error(struct evhttp_request *req, int code, const char *reason, bool tls);
/* GET/HEAD of a file under root (http_static.c). */
void http_static_serve(struct evhttp_request *req, const char *root);
struct conn_state;

/* The HTTPS connections of one loop (used on its thread only). */
struct http_conns {
	struct conn_state *head;
	unsigned count;
	bool stopping;		/* SIGTERM: each closes once it is idle */
};

/* Counts a new HTTPS connection on its SSL and in the loop's list; -1
 * past max_total (http_conn.c). */
int http_conn_attach(struct ssl_st *ssl, unsigned max_total, struct http_conns *list);
/* SIGTERM: closes the connections that are not handling a request; the
 * others close once their reply has gone. */
void http_conns_stop(struct http_conns *list);
/* Before the list's memory goes: a bufferevent (and its SSL) whose free
 * libevent deferred is freed later, by event_base_free. */
void http_conns_detach(struct http_conns *list);
/* Arms the request deadline of an attached connection: each request
 * (line, headers and body) must have arrived within seconds of the
 * connection's start or of the previous response's end; else the
 * connection is closed. */
int http_conn_deadline(struct ssl_st *ssl, struct bufferevent *bev, unsigned seconds);
/* At each request: stops the deadline until the response is sent, and
 * counts the connection for ip at its first request; false past
 * max_per_ip (or when the connection was not attached). */
bool http_conn_request(struct evhttp_request *req, struct ssl_st *ssl, const char *ip,
		       unsigned max_per_ip);
/* Whom to tell each request's time (set once, before the loops run). */
void http_conn_observe(const struct http_observer *obs);
/* GET /metrics: loopback clients and server administrators (http_metrics.c). */
void http_metrics_serve(struct evhttp_request *req, const struct api_config *api);

/* Port 80's GET /.well-known/acme-challenge/TOKEN (http_acme.c): the key
 * authorization the ACME client left in dir/TOKEN, else 404. */
void http_acme_challenge(struct evhttp_request *req, const char *dir, const char *token);

#endif
