#ifndef YUBIN_SERVER_WEB_H
#define YUBIN_SERVER_WEB_H

#include "http/http.h"

/* Fills a JSON API job's environment on the calling worker thread
 * (struct http_params.api_env). */
void web_api_env(struct http_api_env *env);

/* web_submit.c: a webmail message through the submission path of port
 * 587 (http_api_env.mail_submit; ops_mail_write.h). Worker thread. */
struct ops_submit;
struct ops_submit_result;
int web_mail_submit(const struct ops *o, const struct ops_submit *in, struct ops_submit_result *r);

#endif
