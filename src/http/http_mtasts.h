#ifndef YUBIN_HTTP_HTTP_MTASTS_H
#define YUBIN_HTTP_HTTP_MTASTS_H

#include "http/api.h"

/* The MTA-STS policy document (http_mtasts.c): the request to a worker as
 * a public API job; the job itself. */
void http_mtasts_serve(struct evhttp_request *req, const struct api_config *api);
api_handler http_mtasts_job;
/* The domain of a Host header "mta-sts.DOMAIN[:PORT]", lower case, into
 * out: false when host is not one (pure, bounded by size). */
bool http_mtasts_domain(const char *host, char *out, size_t size);

#endif
