#ifndef YUBIN_HTTP_HTTP_INTERNAL_H
#define YUBIN_HTTP_HTTP_INTERNAL_H

#include <stdbool.h>

struct evhttp_request;

/* Security headers every response carries; HSTS only over TLS. */
void http_security_headers(struct evhttp_request *req, bool tls);
/* A short error page (text/plain) with the security headers. */
void http_send_error(struct evhttp_request *req, int code, const char *reason, bool tls);
/* GET/HEAD of a file under root (http_static.c). */
void http_static_serve(struct evhttp_request *req, const char *root);

#endif
