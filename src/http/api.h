#ifndef YUBIN_HTTP_API_H
#define YUBIN_HTTP_API_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "http/api_parse.h"
#include "http/http.h"
#include "lib/json.h"
#include "lib/json_parse.h"
#include "ops/ops.h"

#include <event2/keyvalq_struct.h>

/* The JSON API under /api/v1/ (api.c): the loop matches the route, checks
 * the content type, parses the body and the headers it needs, then hands
 * a job to the workers; there the caller is authenticated (session cookie
 * with its CSRF token, or a Bearer token) and the route's handler runs the
 * operations of ops/ with the worker's directory handle; the reply is sent
 * back on the loop. One table of routes (api_routes.c), one file per
 * resource (api_session.c, api_domains.c, api_accounts.c, ...). */

struct evhttp_request;
struct evhttp_connection;
struct evbuffer;
struct event_base;
struct event;


struct api_job;
typedef void api_handler(struct api_job *j);

enum api_route_flags {
	API_PUBLIC = 1 << 0,	/* no login needed (nor looked at) */
	API_RAW_BODY = 1 << 1,	/* any body type, copied to body_raw unparsed */
	API_PATH_SLASH = 1 << 2,	/* a {x} may hold an encoded '/' (folder names) */
	API_UPLOAD = 1 << 3,	/* a body up to max_upload_size (else max_body_size) */
};

struct api_route {
	unsigned method;	/* one EVHTTP_REQ_* */
	const char *path;	/* "/api/v1/domains/{domain}/accounts": {x} is one segment */
	api_handler *run;
	unsigned flags;
};

extern const struct api_route api_routes[];
extern const size_t api_nroutes;

/* What the loop's HTTP server hands to each job. */
struct api_config {
	struct worker_pool *workers;
	void (*env)(struct http_api_env *env);
	struct event_base *base;
	uint64_t max_body_size;
	uint64_t max_upload_size;	/* API_UPLOAD routes */
	const struct http_observer *observer;	/* the metrics page; may be NULL */
	unsigned *jobs;		/* the loop's count of jobs not yet answered */
};

struct api_job {
	/* filled on the loop */
	const struct api_config *cfg;
	struct evhttp_request *req;
	struct evhttp_connection *evcon;
	bool gone;		/* the client closed the connection meanwhile */
	bool orphan;		/* ... and evhttp left the request to us */
	const struct api_route *route;
	unsigned method;
	char params[API_PARAMS_MAX][API_PARAM_MAX];	/* decoded path segments */
	struct evkeyvalq query;
	struct json_doc *doc;
	const struct json_value *body;	/* NULL: no body */
	char *body_raw;		/* API_RAW_BODY routes: the body, NUL-ended */
	size_t body_raw_len;
	char cookie[OPS_SESSION_ID_LEN + 2];	/* "" when none */
	char bearer[OPS_TOKEN_TEXT_MAX + 2];
	char csrf_header[80];
	bool ja;		/* answer in Japanese */
	char ip[64];
	/* sent by a proxy (http_forward.h): the client's address, the secret */
	bool proxied;
	char proxy_client[64];
	char proxy_secret[256];
	/* the worker's */
	struct http_api_env env;
	struct ops ops;
	struct ops_actor actor;
	bool by_cookie;
	char csrf[65];
	/* the reply */
	int status;
	struct json out;
	struct evbuffer *raw;	/* a non-JSON body (CSV), or NULL */
	const char *content_type;
	char disposition[320];	/* Content-Disposition, or "" */
	char set_cookie[160];
	/* A reply that goes on (server-sent events): set by the handler,
	 * called once on the loop instead of sending the reply, start true
	 * when it should take the request over (a 200 to a live client),
	 * false when it only frees what it holds. */
	void (*stream)(struct api_job *j, bool start);
	void *stream_arg;
	struct http_forward_target *forward;	/* to a node instead of a reply */
	unsigned delay_ms;	/* wait so long before replying (failed logins) */
	struct event *delay;	/* that wait, while it runs */
};

/* Whether path is one of an API_UPLOAD route (its body may pass
 * http.max_body_size). */
bool api_path_is_upload(const char *path);

/* /api/v1/... on https.port (http.c's route table). */
void api_handle(struct evhttp_request *req, const struct api_config *cfg);

/* A request outside /api/v1/ answered by the API's kind of job (its
 * authentication, then route->run): GET /metrics with credentials. */
void api_handle_route(struct evhttp_request *req, const struct api_config *cfg,
		      const struct api_route *route);

/* Error replies: {"error":{"code","message","field"[,"line"]}} in the
 * request's language. */
void api_error(struct api_job *j, int status, const char *code, const char *field, const char *en,
	       const char *ja);
/* An ops refusal, with its HTTP status chosen from its code; error.field
 * names the request's field (quota_mb where ops says quota). */
void api_ops_error(struct api_job *j, const struct ops_error *err);
/* The same with error.field given (NULL: none): for a route whose request
 * field is not the one the operation names. */
void api_ops_error_at(struct api_job *j, const struct ops_error *err, const char *field);

/* The reply's JSON object: begin it, write members into j->out, end it. */
struct json *api_reply(struct api_job *j, int status);
void api_reply_end(struct api_job *j);

/* Body and query helpers. api_body_object answers 400 bad_json itself when
 * the body is not an object and returns false. */
bool api_body_object(struct api_job *j);
/* A string member: 1 present, 0 absent, -1 wrong type (answered 400). */
int api_body_string(struct api_job *j, const char *name, const char **out);
int api_body_bool(struct api_job *j, const char *name, bool *out);
int api_body_uint(struct api_job *j, const char *name, uint64_t max, uint64_t *out);
/* Rejects members other than the names given (NULL-terminated); false
 * when one was answered 400. */
bool api_body_only(struct api_job *j, const char *const *names);
const char *api_query(struct api_job *j, const char *name);

/* The account as the API shows it: {"address","quota_mb","used_bytes",
 * "memo","enabled","suspended"}. */
void api_json_account(struct api_job *j, struct json *out, const struct dir_account *a);

/* The actor as JSON: {"role","name","domains":[...]} (GET/POST session). */
void api_json_actor(struct json *out, const struct ops_actor *a);

/* A setting's help as {"help":{"en","ja"}} (settings schema, server settings). */
void api_json_help(struct json *out, const char *en, const char *ja);
/* key with text, or null when text is empty. */
void api_json_string_or_null(struct json *out, const char *key, const char *text);

/* Handlers (one file per resource). */
api_handler api_session_get, api_session_login, api_session_logout;
api_handler api_settings_schema, api_domain_settings_get, api_domain_setting_put, api_domain_setting_delete;
api_handler api_account_settings_get, api_account_setting_put, api_account_setting_delete;
api_handler api_domains_list, api_domain_add, api_domain_del;
api_handler api_accounts_list, api_accounts_csv, api_account_add, api_accounts_bulk;
api_handler api_account_get, api_account_patch, api_account_password, api_account_unsuspend,
	api_account_del;
api_handler api_openapi;

#endif
