/* The JSON API's frame (see api.h): routing, the request's language,
 * content type and body on the loop; authentication and the handler on a
 * worker; the reply back on the loop, unless the client has gone. */
#include "http/api.h"
#include "http/http_internal.h"
#include "http/http_forward.h"
#include "lib/log.h"
#include "lib/str.h"
#include "lib/workers.h"

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <sodium.h>
#include <sys/queue.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define API_JSON_DEPTH 16
#define API_JSON_VALUES 20000

/* ---- replies ---- */

struct json *api_reply(struct api_job *j, int status)
{
	json_free(&j->out);
	json_init(&j->out);
	j->status = status;
	if (j->raw != NULL) {
		evbuffer_free(j->raw);
		j->raw = NULL;
	}
	j->content_type = NULL;
	j->disposition[0] = '\0';
	json_object_begin(&j->out);
	return &j->out;
}

void api_reply_end(struct api_job *j)
{
	json_object_end(&j->out);
}

void api_error(struct api_job *j, int status, const char *code, const char *field, const char *en,
	       const char *ja)
{
	struct json *o = api_reply(j, status);

	json_key(o, "error");
	json_object_begin(o);
	json_kv_string(o, "code", code);
	json_kv_string(o, "message", j->ja ? ja : en);
	if (field != NULL)
		json_kv_string(o, "field", field);
	json_object_end(o);
	api_reply_end(j);
}

static int api_status_of(const char *code)
{
	static const struct {
		const char *code;
		int status;
	} map[] = {
		{ "bad_login", 401 }, { "bad_token", 401 }, { "not_logged_in", 401 },
		{ "forbidden", 403 }, { "foreign_blocked", 403 }, { "csrf", 403 },
		{ "not_found", 404 }, { "exists", 409 }, { "not_empty", 409 }, { "active", 409 },
		{ "rate_limited", 429 }, { "internal", 500 },
		{ "suspended", 403 }, { "too_large", 413 }, { "unavailable", 503 }, { "conflict", 409 },
	};

	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		if (strcmp(map[i].code, code) == 0)
			return map[i].status;
	}
	return 400;
}

/* The request's name of a field the operations (and so yubinctl) call
 * otherwise, for every route; a route whose request names one field
 * differently again says so with api_ops_error_at. */
static const char *api_request_field(const char *field)
{
	static const struct {
		const char *ops;
		const char *request;
	} map[] = {
		{ "quota", "quota_mb" },
		{ "current_password", "current" },
		{ "expires", "expires_in" },
	};

	if (field == NULL)
		return NULL;
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		if (strcmp(map[i].ops, field) == 0)
			return map[i].request;
	}
	return field;
}

void api_ops_error_at(struct api_job *j, const struct ops_error *err, const char *field)
{
	const char *code = err->code != NULL ? err->code : "internal";
	struct json *o = api_reply(j, api_status_of(code));

	json_key(o, "error");
	json_object_begin(o);
	json_kv_string(o, "code", code);
	json_kv_string(o, "message", j->ja && err->ja[0] != '\0' ? err->ja : err->en);
	if (field != NULL)
		json_kv_string(o, "field", field);
	if (err->line > 0)
		json_kv_uint(o, "line", err->line);
	json_object_end(o);
	api_reply_end(j);
}

void api_ops_error(struct api_job *j, const struct ops_error *err)
{
	api_ops_error_at(j, err, api_request_field(err->field));
}

void api_json_actor(struct json *out, const struct ops_actor *a)
{
	enum ops_actor_kind role = ops_actor_role(a);

	json_key(out, "actor");
	json_object_begin(out);
	json_kv_string(out, "role", role == OPS_ACTOR_USER ? "user"
				    : role == OPS_ACTOR_DOMAIN_ADMIN ? "domain_admin" : "admin");
	json_kv_string(out, "name", a->name);
	json_key(out, "domains");
	json_array_begin(out);
	for (size_t i = 0; i < a->ndomains; i++)
		json_string(out, a->domains[i]);
	if (role == OPS_ACTOR_USER && strchr(a->name, '@') != NULL)
		json_string(out, strchr(a->name, '@') + 1);
	json_array_end(out);
	json_object_end(out);
}

void api_json_help(struct json *out, const char *en, const char *ja)
{
	json_key(out, "help");
	json_object_begin(out);
	json_kv_string(out, "en", en);
	json_kv_string(out, "ja", ja);
	json_object_end(out);
}

void api_json_string_or_null(struct json *out, const char *key, const char *text)
{
	json_key(out, key);
	if (text[0] != '\0')
		json_string(out, text);
	else
		json_null(out);
}

/* ---- the body and the query ---- */

bool api_body_object(struct api_job *j)
{
	if (j->body != NULL && j->body->type == JSON_OBJECT)
		return true;
	api_error(j, 400, "bad_json", NULL, "the request body must be a JSON object",
		  "リクエストの本文は JSON のオブジェクトにしてください");
	return false;
}

static int api_bad_field(struct api_job *j, const char *name, const char *en_type, const char *ja_type)
{
	char en[160], ja[200];

	snprintf(en, sizeof(en), "%s must be %s", name, en_type);
	snprintf(ja, sizeof(ja), "%s は%sにしてください", name, ja_type);
	api_error(j, 400, "invalid_field", name, en, ja);
	return -1;
}

int api_body_string(struct api_job *j, const char *name, const char **out)
{
	const struct json_value *v = json_member(j->body, name);

	if (v == NULL)
		return 0;
	*out = json_value_str(v);
	return *out != NULL ? 1 : api_bad_field(j, name, "a string", "文字列");
}

int api_body_bool(struct api_job *j, const char *name, bool *out)
{
	const struct json_value *v = json_member(j->body, name);

	if (v == NULL)
		return 0;
	if (v->type != JSON_TRUE && v->type != JSON_FALSE)
		return api_bad_field(j, name, "true or false", "true か false");
	*out = v->type == JSON_TRUE;
	return 1;
}

int api_body_uint(struct api_job *j, const char *name, uint64_t max, uint64_t *out)
{
	const struct json_value *v = json_member(j->body, name);

	if (v == NULL)
		return 0;
	if (json_value_uint(v, max, out) < 0)
		return api_bad_field(j, name, "a whole number in range", "範囲内の整数");
	return 1;
}

bool api_body_only(struct api_job *j, const char *const *names)
{
	for (const struct json_value *m = j->body->child; m != NULL; m = m->next) {
		size_t i;

		for (i = 0; names[i] != NULL; i++) {
			if (strcmp(names[i], m->name) == 0 && strlen(names[i]) == m->name_len)
				break;
		}
		if (names[i] == NULL) {
			char en[200], ja[240];

			snprintf(en, sizeof(en), "unknown member \"%.100s\"", m->name);
			snprintf(ja, sizeof(ja), "\"%.100s\" という項目はありません", m->name);
			api_error(j, 400, "unknown_field", NULL, en, ja);
			return false;
		}
	}
	return true;
}

const char *api_query(struct api_job *j, const char *name)
{
	return evhttp_find_header(&j->query, name);
}

/* ---- the worker's part ---- */

static bool api_authenticate(struct api_job *j)
{
	struct ops_error err;
	int64_t now = time(NULL);

	if (j->bearer[0] != '\0') {
		if (ops_token_verify(&j->ops, j->bearer, j->ip, now, &j->actor, &err) < 0) {
			api_ops_error(j, &err);
			return false;
		}
		return true;
	}
	if (j->cookie[0] == '\0') {
		api_error(j, 401, "not_logged_in", NULL, "not logged in", "ログインしていません");
		return false;
	}
	if (ops_session_verify(&j->ops, j->cookie, j->ip, now, j->env.session_idle, j->env.session_lifetime,
			       &j->actor, j->csrf, &err) < 0) {
		api_ops_error(j, &err);
		return false;
	}
	j->by_cookie = true;
	if (j->method != EVHTTP_REQ_GET && j->method != EVHTTP_REQ_HEAD &&
	    (strlen(j->csrf_header) != strlen(j->csrf) || j->csrf[0] == '\0' ||
	     sodium_memcmp(j->csrf_header, j->csrf, strlen(j->csrf)) != 0)) {
		api_error(j, 403, "csrf", NULL, "missing or wrong X-CSRF-Token header",
			  "X-CSRF-Token ヘッダーがないか、正しくありません");
		return false;
	}
	return true;
}

static void api_work(void *arg)
{
	struct api_job *j = arg;

	j->cfg->env(&j->env);
	if (j->env.dir == NULL) {
		api_error(j, 503, "unavailable", NULL, "the directory is unavailable",
			  "ディレクトリを利用できません");
		return;
	}
	j->ops.dir = j->env.dir;
	j->ops.data = j->env.data_dir;
	if (!http_forward_client(j))
		return;
	if ((j->route->flags & API_PUBLIC) == 0 && !api_authenticate(j))
		return;
	if (http_forward_decide(j))
		return;
	j->route->run(j);
	if (j->status == 0)
		api_error(j, 500, "internal", NULL, "no reply", "応答がありません");
}

/* ---- back on the loop ---- */

static void api_job_free(struct api_job *j)
{
	json_free(&j->out);
	json_doc_free(j->doc);
	free(j->body_raw);
	evhttp_clear_headers(&j->query);
	if (j->raw != NULL)
		evbuffer_free(j->raw);
	explicit_bzero(j->cookie, sizeof(j->cookie));
	explicit_bzero(j->bearer, sizeof(j->bearer));
	explicit_bzero(j->csrf, sizeof(j->csrf));
	explicit_bzero(j->proxy_secret, sizeof(j->proxy_secret));
	http_forward_target_free(j->forward);
	free(j);
}

static void api_send(struct api_job *j)
{
	struct evkeyvalq *h = evhttp_request_get_output_headers(j->req);
	struct evbuffer *body = j->raw;
	size_t len;
	const char *text;

	http_security_headers(j->req, true);
	evhttp_add_header(h, "Cache-Control", "no-store");
	if (j->set_cookie[0] != '\0')
		evhttp_add_header(h, "Set-Cookie", j->set_cookie);
	if (j->disposition[0] != '\0')
		evhttp_add_header(h, "Content-Disposition", j->disposition);
	if (j->status == 204) {
		evhttp_send_reply(j->req, 204, NULL, NULL);
		return;
	}
	if (body == NULL) {
		text = json_result(&j->out, &len);
		if (text == NULL) {
			http_send_error(j->req, 500, "Internal Server Error", true);
			return;
		}
		body = evbuffer_new();
		if (body != NULL)
			evbuffer_add(body, text, len);
	}
	evhttp_add_header(h, "Content-Type", j->content_type != NULL ? j->content_type : "application/json");
	http_send_reply(j->req, j->status, NULL, body);
	if (body != NULL && body != j->raw)
		evbuffer_free(body);
}

static void api_finish(evutil_socket_t fd, short what, void *arg);

/* evhttp frees the connection while the job runs (evhttp reads nothing
 * from a connection whose request is being answered, so a client's close
 * is seen only when the reply is written: this is the loop's end past the
 * shutdown grace, http_loop_free). evhttp frees the request with the
 * connection, unless it detached it first (then it is ours to free).
 * Either way the reply must not be sent. A job back from its worker and
 * waiting out its delay ends now; one still on a worker ends in done. */
static void api_closed(struct evhttp_connection *evcon, void *arg)
{
	struct api_job *j = arg;

	j->gone = true;
	j->orphan = evhttp_request_get_connection(j->req) == NULL;
	if (j->delay != NULL) {
		event_free(j->delay);
		j->delay = NULL;
		api_finish(-1, 0, j);
	}
}

static void api_delay_end(evutil_socket_t fd, short what, void *arg)
{
	struct api_job *j = arg;

	event_free(j->delay);
	j->delay = NULL;
	api_finish(-1, 0, j);
}

static void api_finish(evutil_socket_t fd, short what, void *arg)
{
	struct api_job *j = arg;

	(*j->cfg->jobs)--;
	if (j->gone) {
		log_info(NULL, "api: %s: the connection ended before the reply", j->route->path);
		if (j->orphan)
			evhttp_request_free(j->req);
	} else {
		evhttp_connection_set_closecb(j->evcon, NULL, NULL);
		if (j->forward != NULL) {
			http_forward_start(j);	/* the request is the relay's now */
		} else if (j->stream != NULL && j->status == 200) {
			j->stream(j, true);	/* the request is the stream's now */
			j->stream = NULL;
		} else {
			api_send(j);
		}
	}
	if (j->stream != NULL)
		j->stream(j, false);
	api_job_free(j);
}

static void api_done(void *arg)
{
	struct api_job *j = arg;

	if (j->delay_ms > 0 && !j->gone) {
		struct timeval tv = { (time_t)(j->delay_ms / 1000), (suseconds_t)(j->delay_ms % 1000) * 1000 };

		j->delay = evtimer_new(j->cfg->base, api_delay_end, j);
		if (j->delay != NULL && evtimer_add(j->delay, &tv) == 0)
			return;
		if (j->delay != NULL)
			event_free(j->delay);
		j->delay = NULL;
	}
	api_finish(-1, 0, j);
}

/* ---- the loop's part: from a request to a job ---- */

/* Sends a reply made on the loop (before any job) and frees the job. */
static void api_answer_now(struct api_job *j)
{
	api_send(j);
	api_job_free(j);
}

/* The request's headers into j: false when answered already. */
static bool api_headers(struct api_job *j)
{
	struct evkeyvalq *in = evhttp_request_get_input_headers(j->req);
	const char *auth = evhttp_find_header(in, "Authorization");
	const char *csrf = evhttp_find_header(in, "X-CSRF-Token");
	const char *origin = evhttp_find_header(in, "Origin");
	const char *host = evhttp_find_header(in, "Host");

	api_cookie_value(evhttp_find_header(in, "Cookie"), "yubin_session", j->cookie, sizeof(j->cookie));
	if (auth != NULL) {
		if (strncasecmp(auth, "Bearer ", 7) != 0 || strlen(auth + 7) >= sizeof(j->bearer) ||
		    auth[7] == '\0') {
			api_error(j, 401, "bad_token", NULL, "the Authorization header must be Bearer and a token",
				  "Authorization ヘッダーは Bearer とトークンにしてください");
			return false;
		}
		str_copy(j->bearer, sizeof(j->bearer), auth + 7);
	}
	if (csrf != NULL)
		str_copy(j->csrf_header, sizeof(j->csrf_header), csrf);
	if (evhttp_find_header(in, HTTP_FORWARD_CLIENT_HEADER) != NULL ||
	    evhttp_find_header(in, HTTP_FORWARD_SECRET_HEADER) != NULL) {
		const char *client = evhttp_find_header(in, HTTP_FORWARD_CLIENT_HEADER);
		const char *secret = evhttp_find_header(in, HTTP_FORWARD_SECRET_HEADER);

		j->proxied = true;	/* checked on the worker: http_forward_client */
		str_copy(j->proxy_client, sizeof(j->proxy_client), client != NULL ? client : "");
		str_copy(j->proxy_secret, sizeof(j->proxy_secret), secret != NULL ? secret : "");
	}
	/* A browser names the page a request came from: a cross-origin page
	 * may not change anything, even with a cookie it cannot read. */
	if (origin != NULL && j->method != EVHTTP_REQ_GET && j->method != EVHTTP_REQ_HEAD) {
		if (!api_origin_is_host(origin, host)) {
			api_error(j, 403, "csrf", NULL, "cross-origin request refused",
				  "別のオリジンからのリクエストは受け付けません");
			return false;
		}
	}
	return true;
}

/* Content type and body: false when answered already. */
static bool api_body(struct api_job *j)
{
	struct evbuffer *in = evhttp_request_get_input_buffer(j->req);
	size_t len = evbuffer_get_length(in);
	const char *type = evhttp_find_header(evhttp_request_get_input_headers(j->req), "Content-Type");
	struct json_limits lim = { j->cfg->max_body_size, API_JSON_DEPTH, API_JSON_VALUES };
	const char *error = NULL;
	size_t off = 0;

	if (len == 0)
		return true;
	if (len > ((j->route->flags & API_UPLOAD) != 0 ? j->cfg->max_upload_size : j->cfg->max_body_size)) {
		api_error(j, 413, "too_large", NULL, "the request body is too large",
			  "リクエストの本文が大きすぎます");
		return false;
	}
	if ((j->route->flags & API_RAW_BODY) != 0) {
		j->body_raw = malloc(len + 1);
		if (j->body_raw == NULL) {
			api_error(j, 500, "internal", NULL, "out of memory", "メモリ不足です");
			return false;
		}
		j->body_raw_len = evbuffer_remove(in, j->body_raw, len) == (int)len ? len : 0;
		j->body_raw[j->body_raw_len] = '\0';
		return true;
	}
	if (!api_type_is_json(type)) {
		api_error(j, 415, "unsupported_media_type", NULL, "the body must be application/json",
			  "本文は application/json にしてください");
		return false;
	}
	j->doc = json_parse((const char *)evbuffer_pullup(in, -1), len, &lim, &error, &off);
	if (j->doc == NULL) {
		char en[160], ja[200];

		snprintf(en, sizeof(en), "bad JSON at byte %zu: %s", off, error);
		snprintf(ja, sizeof(ja), "JSON が正しくありません (%zu バイト目: %s)", off, error);
		api_error(j, 400, "bad_json", NULL, en, ja);
		return false;
	}
	j->body = json_doc_root(j->doc);
	return true;
}

static const char *api_method_name(unsigned m)
{
	return m == EVHTTP_REQ_GET ? "GET" : m == EVHTTP_REQ_POST ? "POST" : m == EVHTTP_REQ_PUT ? "PUT"
	       : m == EVHTTP_REQ_PATCH ? "PATCH" : m == EVHTTP_REQ_DELETE ? "DELETE" : "HEAD";
}

/* Finds the route: false (answered 404 or 405) when there is none. */
static bool api_route_find(struct api_job *j, const char *path)
{
	char allow[80] = "";
	char params[API_PARAMS_MAX][API_PARAM_MAX];

	for (size_t i = 0; i < api_nroutes; i++) {
		if (!api_path_match_slash(api_routes[i].path, path, params,
					  (api_routes[i].flags & API_PATH_SLASH) != 0))
			continue;
		if (api_routes[i].method == j->method ||
		    (j->method == EVHTTP_REQ_HEAD && api_routes[i].method == EVHTTP_REQ_GET)) {
			j->route = &api_routes[i];
			memcpy(j->params, params, sizeof(params));
			return true;
		}
		if (strlen(allow) + 10 < sizeof(allow))
			snprintf(allow + strlen(allow), sizeof(allow) - strlen(allow), "%s%s",
				 allow[0] != '\0' ? ", " : "", api_method_name(api_routes[i].method));
	}
	if (allow[0] == '\0') {
		api_error(j, 404, "not_found", NULL, "no such API endpoint", "その API はありません");
		return false;
	}
	evhttp_add_header(evhttp_request_get_output_headers(j->req), "Allow", allow);
	api_error(j, 405, "method_not_allowed", NULL, "method not allowed here",
		  "このメソッドは使えません");
	return false;
}

bool api_path_is_upload(const char *path)
{
	char params[API_PARAMS_MAX][API_PARAM_MAX];

	for (size_t i = 0; i < api_nroutes; i++) {
		if ((api_routes[i].flags & API_UPLOAD) != 0 && api_path_match(api_routes[i].path, path, params))
			return true;
	}
	return false;
}

/* A job for req with its query and language: NULL when answered. */
/* The query's pairs into q; empty pairs ("?&lang=en") are skipped. */
static int api_query_parse(const char *query, struct evkeyvalq *q)
{
	char *compact = malloc(strlen(query) + 1);
	int r;

	if (compact == NULL)
		return -1;
	api_query_compact(query, compact);
	r = evhttp_parse_query_str(compact, q);
	free(compact);
	return r;
}

static struct api_job *api_job_new(struct evhttp_request *req, const struct api_config *cfg)
{
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	struct evkeyvalq *in = evhttp_request_get_input_headers(req);
	struct api_job *j = calloc(1, sizeof(*j));
	const char *query = uri != NULL ? evhttp_uri_get_query(uri) : NULL;

	if (j == NULL) {
		http_send_error(req, 503, "Service Unavailable", true);
		return NULL;
	}
	j->cfg = cfg;
	j->req = req;
	j->method = evhttp_request_get_command(req);
	json_init(&j->out);
	TAILQ_INIT(&j->query);
	if (query != NULL && api_query_parse(query, &j->query) < 0) {
		evhttp_clear_headers(&j->query);
		j->ja = api_lang_is_ja(NULL, evhttp_find_header(in, "Accept-Language"));
		api_error(j, 400, "bad_query", NULL, "malformed query string", "クエリ文字列が正しくありません");
		api_answer_now(j);
		return NULL;
	}
	j->ja = api_lang_is_ja(api_query(j, "lang"), evhttp_find_header(in, "Accept-Language"));
	return j;
}

/* The job's headers and body, then the job to the workers. */
static void api_submit(struct api_job *j)
{
	const struct api_config *cfg = j->cfg;
	struct evhttp_request *req = j->req;
	char *ip = NULL;
	ev_uint16_t port = 0;

	if (!api_headers(j) || !api_body(j)) {
		api_answer_now(j);
		return;
	}
	if (cfg->workers == NULL || cfg->env == NULL) {
		api_error(j, 503, "unavailable", NULL, "the API is not available here", "API は利用できません");
		api_answer_now(j);
		return;
	}
	j->evcon = evhttp_request_get_connection(req);
	evhttp_connection_get_peer(j->evcon, &ip, &port);
	str_copy(j->ip, sizeof(j->ip), ip != NULL ? ip : "");
	evhttp_connection_set_closecb(j->evcon, api_closed, j);
	(*cfg->jobs)++;
	worker_pool_submit(cfg->workers, cfg->base, api_work, api_done, j);
}

void api_handle(struct evhttp_request *req, const struct api_config *cfg)
{
	struct api_job *j = api_job_new(req, cfg);

	if (j == NULL)
		return;
	if (!api_route_find(j, evhttp_uri_get_path(evhttp_request_get_evhttp_uri(req)))) {
		api_answer_now(j);
		return;
	}
	api_submit(j);
}

void api_handle_route(struct evhttp_request *req, const struct api_config *cfg, const struct api_route *route)
{
	struct api_job *j = api_job_new(req, cfg);

	if (j == NULL)
		return;
	j->route = route;
	api_submit(j);
}
