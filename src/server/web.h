#ifndef YUBIN_SERVER_WEB_H
#define YUBIN_SERVER_WEB_H

#include "http/http.h"

/* Fills a JSON API job's environment on the calling worker thread
 * (struct http_params.api_env). */
void web_api_env(struct http_api_env *env);

#endif
