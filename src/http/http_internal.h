#ifndef YUBIN_HTTP_HTTP_INTERNAL_H
#define YUBIN_HTTP_HTTP_INTERNAL_H

#include <stdbool.h>

struct evhttp_request;
struct ssl_st;

/* Security headers every response carries; HSTS only over TLS. */
void http_security_headers(struct evhttp_request *req, bool tls);
/* A short error page (text/plain) with the security headers. */
void http_send_error(struct evhttp_request *req, int code, const char *reason, bool tls);
/* GET/HEAD of a file under root (http_static.c). */
void http_static_serve(struct evhttp_request *req, const char *root);
/* Counts a new HTTPS connection on its SSL; -1 past max_total
 * (http_conn.c). */
int http_conn_attach(struct ssl_st *ssl, unsigned max_total);
/* At each request: counts the connection for ip at its first; false past
 * max_per_ip (or when the connection was not attached). */
bool http_conn_request(struct ssl_st *ssl, const char *ip, unsigned max_per_ip);

#endif
