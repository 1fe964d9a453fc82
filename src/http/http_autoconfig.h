#ifndef YUBIN_HTTP_HTTP_AUTOCONFIG_H
#define YUBIN_HTTP_HTTP_AUTOCONFIG_H

#include "http/api.h"

/* Thunderbird's autoconfig document (http_autoconfig.c): the request to
 * a worker as a public API job; the job itself. */
void http_autoconfig_serve(struct evhttp_request *req, const struct api_config *api);
api_handler http_autoconfig_job;
/* Microsoft Autodiscover, the same way; the address in its request body
 * (pure, bounded: see http_autoconfig.c). */
void http_autodiscover_serve(struct evhttp_request *req, const struct api_config *api);
api_handler http_autodiscover_job;
bool http_autodiscover_address(const char *body, size_t len, char *out, size_t size);
/* Is the request target (path and query) one of the autoconfig paths? */
bool http_autoconfig_path(const char *target);

#endif
