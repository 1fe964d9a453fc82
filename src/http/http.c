/* The HTTP server of a loop: listeners, TLS, limits, routing, the
 * port-80 redirect and the security headers (see http.h). */
#include "http/http.h"
#include "http/api.h"
#include "http/http_autoconfig.h"
#include "http/http_mtasts.h"
#include "http/api_mail.h"
#include "http/http_internal.h"
#include "http/http_forward.h"
#include "lib/json.h"
#include "lib/log.h"
#include "lib/str.h"

#include <errno.h>
#include <limits.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/listener.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define HTTP_MAX_LISTENERS 16

struct http_loop {
	struct evhttp *https, *http;
	struct ssl_st *(*ssl_new)(void);
	const struct http_observer *observer;
	unsigned port_https;
	unsigned max_connections, max_connections_per_ip, request_timeout;
	bool (*peer_is_proxy)(const char *ip);
	struct evhttp_bound_socket *bound[HTTP_MAX_LISTENERS];
	size_t nbound;
	char static_dir[4096];
	char acme_dir[4096];		/* http-01 answers, "" for none */
	struct api_config api;
	struct http_conns conns;	/* the HTTPS ones */
	unsigned api_jobs;		/* API jobs not yet back and answered */
};

static const char csp[] =
	"default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
	"object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

void http_security_headers(struct evhttp_request *req, bool tls)
{
	http_security_headers_csp(req, tls, csp);
}

void http_security_headers_csp(struct evhttp_request *req, bool tls, const char *policy)
{
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);

	evhttp_add_header(h, "Content-Security-Policy", policy);
	evhttp_add_header(h, "X-Content-Type-Options", "nosniff");
	evhttp_add_header(h, "Referrer-Policy", "no-referrer");
	evhttp_add_header(h, "X-Frame-Options", "DENY");
	if (tls)
		evhttp_add_header(h, "Strict-Transport-Security", "max-age=31536000");
}

/* evhttp sends the body it is given even to HEAD, and then no
 * Content-Length: a HEAD gets GET's headers, its length included, and no
 * body (RFC 9110, 9.3.2), so the connection stays usable. */
void http_send_reply(struct evhttp_request *req, int code, const char *reason, struct evbuffer *body)
{
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);
	char len[32];

	if (evhttp_request_get_command(req) != EVHTTP_REQ_HEAD || code == 204 || code == 304) {
		evhttp_send_reply(req, code, reason, body);
		return;
	}
	if (evhttp_find_header(h, "Content-Length") == NULL) {
		snprintf(len, sizeof(len), "%zu", body != NULL ? evbuffer_get_length(body) : (size_t)0);
		evhttp_add_header(h, "Content-Length", len);
	}
	if (body != NULL)
		evbuffer_drain(body, evbuffer_get_length(body));
	evhttp_send_reply(req, code, reason, NULL);
}

void http_send_error(struct evhttp_request *req, int code, const char *reason, bool tls)
{
	struct evbuffer *body = evbuffer_new();

	http_security_headers(req, tls);
	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
			  "text/plain; charset=utf-8");
	if (body != NULL)
		evbuffer_add_printf(body, "%d %s\n", code, reason);
	http_send_reply(req, code, reason, body);
	if (body != NULL)
		evbuffer_free(body);
}

static void send_json(struct evhttp_request *req, int code, const char *reason, struct json *j)
{
	size_t len;
	const char *text = json_result(j, &len);
	struct evbuffer *body;

	if (text == NULL) {
		http_send_error(req, 500, "Internal Server Error", true);
		return;
	}
	body = evbuffer_new();
	http_security_headers(req, true);
	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", "application/json");
	evhttp_add_header(evhttp_request_get_output_headers(req), "Cache-Control", "no-store");
	if (body != NULL)
		evbuffer_add(body, text, len);
	http_send_reply(req, code, reason, body);
	if (body != NULL)
		evbuffer_free(body);
}

static void api_health(struct evhttp_request *req, struct http_loop *h)
{
	struct json j;

	json_init(&j);
	json_object_begin(&j);
	json_kv_string(&j, "status", "ok");
	json_object_end(&j);
	send_json(req, 200, "OK", &j);
	json_free(&j);
}

static void api_request(struct evhttp_request *req, struct http_loop *h)
{
	api_handle(req, &h->api);
}

static void metrics_page(struct evhttp_request *req, struct http_loop *h)
{
	http_metrics_serve(req, &h->api);
}

static void autoconfig(struct evhttp_request *req, struct http_loop *h)
{
	http_autoconfig_serve(req, &h->api);
}

static void autodiscover(struct evhttp_request *req, struct http_loop *h)
{
	http_autodiscover_serve(req, &h->api);
}

static void mtasts(struct evhttp_request *req, struct http_loop *h)
{
	http_mtasts_serve(req, &h->api);
}

static void static_files(struct evhttp_request *req, struct http_loop *h)
{
	http_static_serve(req, h->static_dir);
}

/* The routes of https.port: the first whose path matches (exact, or a
 * prefix when it ends with '/') answers, 405 when the method is not one
 * of its methods. */
static const struct route {
	unsigned methods;
	const char *path;
	void (*run)(struct evhttp_request *req, struct http_loop *h);
} routes[] = {
	{ EVHTTP_REQ_GET | EVHTTP_REQ_HEAD, "/api/v1/health", api_health },
	{ ~0u, "/api/", api_request },
	{ EVHTTP_REQ_GET | EVHTTP_REQ_HEAD, "/metrics", metrics_page },
	{ EVHTTP_REQ_GET | EVHTTP_REQ_HEAD, "/mail/config-v1.1.xml", autoconfig },
	{ EVHTTP_REQ_GET | EVHTTP_REQ_HEAD, "/.well-known/autoconfig/mail/config-v1.1.xml", autoconfig },
	{ EVHTTP_REQ_GET | EVHTTP_REQ_HEAD, "/.well-known/mta-sts.txt", mtasts },
	{ EVHTTP_REQ_POST, "/autodiscover/autodiscover.xml", autodiscover },
	{ EVHTTP_REQ_POST, "/Autodiscover/Autodiscover.xml", autodiscover },
	{ EVHTTP_REQ_GET | EVHTTP_REQ_HEAD, "/", static_files },
};

static bool route_matches(const struct route *r, const char *path)
{
	size_t n = strlen(r->path);

	if (r->path[n - 1] == '/')
		return strncmp(path, r->path, n) == 0;
	return strcmp(path, r->path) == 0;
}

static void refused_shutdown(evutil_socket_t unused, short what, void *arg);

/* Counts the connection for its client address at its first request. */
static bool connection_allowed(struct evhttp_request *req, struct http_loop *h)
{
	struct evhttp_connection *evcon = evhttp_request_get_connection(req);
	struct bufferevent *bev = evhttp_connection_get_bufferevent(evcon);
	char *ip = NULL;
	ev_uint16_t port = 0;

	evhttp_connection_get_peer(evcon, &ip, &port);
	/* a proxy carries many clients (http_forward.h): not counted as one */
	return http_conn_request(req, bufferevent_openssl_get_ssl(bev), ip,
				 ip != NULL && h->peer_is_proxy != NULL && h->peer_is_proxy(ip) ? UINT_MAX
				 : h->max_connections_per_ip);
}

static void https_request(struct evhttp_request *req, void *arg)
{
	struct http_loop *h = arg;
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	const char *path = uri != NULL ? evhttp_uri_get_path(uri) : NULL;
	struct bufferevent *bev = evhttp_connection_get_bufferevent(evhttp_request_get_connection(req));

	if (bufferevent_openssl_get_ssl(bev) == NULL) {
		/* a refused connection (refused_bev) whose request was already
		 * in the socket: the reply can no longer leave it */
		refused_shutdown(-1, 0, bev);
		http_send_error(req, 503, "Service Unavailable", true);
		return;
	}
	if (!connection_allowed(req, h)) {
		evhttp_add_header(evhttp_request_get_output_headers(req), "Connection", "close");
		http_send_error(req, 503, "Service Unavailable", true);
		return;
	}
	if (path == NULL || path[0] != '/') {
		http_send_error(req, 400, "Bad Request", true);
		return;
	}
	/* evhttp's body limit is the larger one of the upload routes: the
	 * others keep http.max_body_size */
	if (evbuffer_get_length(evhttp_request_get_input_buffer(req)) > h->api.max_body_size &&
	    !api_path_is_upload(path)) {
		http_send_error(req, 413, "Payload Too Large", true);
		return;
	}
	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		if (!route_matches(&routes[i], path))
			continue;
		if ((routes[i].methods & evhttp_request_get_command(req)) != 0) {
			routes[i].run(req, h);
		} else {
			evhttp_add_header(evhttp_request_get_output_headers(req), "Allow",
					  routes[i].methods == EVHTTP_REQ_POST ? "POST" : "GET, HEAD");
			http_send_error(req, 405, "Method Not Allowed", true);
		}
		return;
	}
	http_send_error(req, 404, "Not Found", true);
}

/* The host of a Host header without its port, if it is a plain name or
 * address literal; else the empty string. */
static void host_only(const char *host, char *out, size_t size)
{
	size_t n;

	out[0] = '\0';
	if (host == NULL)
		return;
	if (host[0] == '[')
		n = strcspn(host, "]") + 1;
	else
		n = strcspn(host, ":");
	if (n == 0 || n >= size || (host[0] == '[' && host[n - 1] != ']'))
		return;
	for (size_t i = 0; i < n; i++) {
		char c = host[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '-' || c == ':' || c == '[' || c == ']'))
			return;
	}
	if (host[n] != '\0' && host[n] != ':')
		return;
	str_copyn(out, size, host, n);
}

/* Port 80: /.well-known/ is served here (Thunderbird's autoconfig, else
 * 404), so is /mail/config-v1.1.xml (Thunderbird asks autoconfig.DOMAIN
 * over plain HTTP too); the rest moves to https.port, same path and
 * query. */
static void http_request(struct evhttp_request *req, void *arg)
{
	struct http_loop *h = arg;
	const char *target = evhttp_request_get_uri(req);
	char host[256], port[16] = "", *location;
	size_t n;

	if (target == NULL || target[0] != '/')
		target = "/";
	if (http_autoconfig_path(target)) {
		http_autoconfig_serve(req, &h->api);
		return;
	}
	if (strncmp(target, "/.well-known/acme-challenge/", 28) == 0 && h->acme_dir[0] != '\0') {
		http_acme_challenge(req, h->acme_dir, target + 28);
		return;
	}
	if (strncmp(target, "/.well-known/", 13) == 0) {
		http_send_error(req, 404, "Not Found", false);
		return;
	}
	host_only(evhttp_request_get_host(req), host, sizeof(host));
	if (host[0] == '\0' || h->port_https == 0) {
		http_send_error(req, 400, "Bad Request", false);
		return;
	}
	if (h->port_https != 443)
		snprintf(port, sizeof(port), ":%u", h->port_https);
	n = strlen(host) + strlen(port) + strlen(target) + 16;
	location = malloc(n);
	if (location == NULL) {
		http_send_error(req, 503, "Service Unavailable", false);
		return;
	}
	snprintf(location, n, "https://%s%s%s", host, port, target);
	evhttp_add_header(evhttp_request_get_output_headers(req), "Location", location);
	free(location);
	http_send_error(req, 301, "Moved Permanently", false);
}

/* Past http.max_connections (or when no SSL can be made) the connection is
 * closed unanswered: evhttp would put a plain bufferevent on a NULL one and
 * answer cleartext HTTP on the HTTPS port, so the refused connection gets
 * a bufferevent of its own whose socket is shut down before the loop reads
 * from it (an event made active now runs before the next poll); evhttp
 * then sees the end and frees it. No handshake is spent on it. */
static void refused_shutdown(evutil_socket_t unused, short what, void *arg)
{
	evutil_socket_t fd = bufferevent_getfd(arg);

	if (fd >= 0)
		shutdown(fd, SHUT_RDWR);
}

static struct bufferevent *refused_bev(struct event_base *base)
{
	struct bufferevent *bev = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
	static const struct timeval now = { 0, 0 };

	if (bev == NULL)
		return NULL;	/* evhttp's own attempt fails too: it closes the socket */
	if (event_base_once(base, -1, EV_TIMEOUT, refused_shutdown, bev, &now) < 0) {
		bufferevent_free(bev);
		return NULL;
	}
	return bev;
}

static struct bufferevent *tls_bev(struct event_base *base, void *arg)
{
	struct http_loop *h = arg;
	SSL *ssl = h->ssl_new();
	struct bufferevent *bev;

	if (h->observer != NULL && h->observer->accepted != NULL)
		h->observer->accepted(true);
	if (ssl == NULL)
		return refused_bev(base);
	if (h->conns.stopping || http_conn_attach(ssl, h->max_connections, &h->conns) < 0) {
		SSL_free(ssl);
		return refused_bev(base);
	}
	bev = bufferevent_openssl_socket_new(base, -1, ssl, BUFFEREVENT_SSL_ACCEPTING,
					     BEV_OPT_CLOSE_ON_FREE);
	if (bev == NULL)
		return refused_bev(base);	/* the SSL went with it */
	if (http_conn_deadline(ssl, bev, h->request_timeout) < 0) {
		bufferevent_free(bev);
		return refused_bev(base);
	}
	return bev;
}

/* Port 80: only counted; NULL makes evhttp use its plain bufferevent. */
static struct bufferevent *plain_bev(struct event_base *base, void *arg)
{
	struct http_loop *h = arg;

	if (h->observer != NULL && h->observer->accepted != NULL)
		h->observer->accepted(false);
	return NULL;
}

static void listener_error(struct evconnlistener *l, void *arg)
{
	log_warn(NULL, "http: accept failed: %s", strerror(errno));
}

/* Binds port on every listen address for evh. */
static int bind_all(struct http_loop *h, struct evhttp *evh, struct event_base *base, const struct http_params *p,
		    unsigned port, const char *name, char *err, size_t errsize)
{
	char addrs[256], *save = NULL;

	str_copy(addrs, sizeof(addrs), p->listen_address);
	for (char *a = strtok_r(addrs, ", ", &save); a != NULL; a = strtok_r(NULL, ", ", &save)) {
		struct sockaddr_storage ss;
		int sslen = sizeof(ss);
		char spec[300];
		struct evconnlistener *l;

		snprintf(spec, sizeof(spec), strchr(a, ':') != NULL ? "[%s]:%u" : "%s:%u", a, port);
		if (evutil_parse_sockaddr_port(spec, (struct sockaddr *)&ss, &sslen) < 0) {
			snprintf(err, errsize, "bad address %s", spec);
			return -1;
		}
		l = evconnlistener_new_bind(base, NULL, NULL,
					    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE |
					    LEV_OPT_REUSEABLE_PORT | LEV_OPT_CLOSE_ON_EXEC |
					    LEV_OPT_DISABLED,
					    1024, (struct sockaddr *)&ss, sslen);
		if (l == NULL) {
			snprintf(err, errsize, "cannot bind %s (%s): %s", spec, name, strerror(errno));
			return -1;
		}
		evconnlistener_set_error_cb(l, listener_error);
		/* Linux copies the listener's TCP_NODELAY to each accepted
		 * socket: a response is written as header and body records,
		 * which Nagle would hold for the client's delayed ACK (40 ms
		 * a request on a keep-alive connection). */
		setsockopt(evconnlistener_get_fd(l), IPPROTO_TCP, TCP_NODELAY, &(int){ 1 }, sizeof(int));
		if (h->nbound == HTTP_MAX_LISTENERS ||
		    (h->bound[h->nbound] = evhttp_bind_listener(evh, l)) == NULL) {
			evconnlistener_free(l);
			snprintf(err, errsize, "cannot serve %s (%s)", spec, name);
			return -1;
		}
		h->nbound++;
		evconnlistener_enable(l);
		if (p->log_listen)
			log_info(NULL, "listen: %s on %s", name, spec);
	}
	return 0;
}

static struct evhttp *evhttp_make(struct event_base *base, const struct http_params *p,
				  void (*cb)(struct evhttp_request *, void *), struct http_loop *h)
{
	struct evhttp *evh = evhttp_new(base);

	if (evh == NULL)
		return NULL;
	evhttp_set_max_headers_size(evh, (ev_ssize_t)p->max_header_size);
	/* the larger limit for the connection; api.c holds every other
	 * route to max_body_size */
	evhttp_set_max_body_size(evh, (ev_ssize_t)(p->max_upload_size > p->max_body_size ?
						    p->max_upload_size : p->max_body_size));
	evhttp_set_timeout(evh, (int)p->timeout);
	evhttp_set_allowed_methods(evh, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD | EVHTTP_REQ_POST |
				   EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE | EVHTTP_REQ_PATCH |
				   EVHTTP_REQ_OPTIONS);
	evhttp_set_default_content_type(evh, "text/plain; charset=utf-8");
	evhttp_set_gencb(evh, cb, h);
	return evh;
}

struct http_loop *http_loop_start(struct event_base *base, const struct http_params *p,
				  char *err, size_t errsize)
{
	struct http_loop *h = calloc(1, sizeof(*h));

	if (h == NULL) {
		snprintf(err, errsize, "out of memory");
		return NULL;
	}
	h->ssl_new = p->ssl_new;
	h->observer = p->observer;
	http_conn_observe(p->observer);
	h->port_https = p->port_https;
	h->max_connections = p->max_connections;
	h->max_connections_per_ip = p->max_connections_per_ip;
	h->peer_is_proxy = p->peer_is_proxy;
	h->request_timeout = p->request_timeout;
	str_copy(h->static_dir, sizeof(h->static_dir), p->static_dir);
	str_copy(h->acme_dir, sizeof(h->acme_dir), p->acme_dir != NULL ? p->acme_dir : "");
	h->api = (struct api_config){ p->workers, p->api_env, base, p->max_body_size, p->max_upload_size,
				      p->observer, &h->api_jobs };
	if (p->port_https != 0) {
		h->https = evhttp_make(base, p, https_request, h);
		if (h->https == NULL)
			goto fail_oom;
		evhttp_set_bevcb(h->https, tls_bev, h);
		/* a body past the limit (an upload too big) is read to its end and
		 * answered 413, so the browser sees the answer, not a reset */
		evhttp_set_flags(h->https, EVHTTP_SERVER_LINGERING_CLOSE);
		if (bind_all(h, h->https, base, p, p->port_https, "https", err, errsize) < 0)
			goto fail;
	}
	if (p->port_http != 0) {
		h->http = evhttp_make(base, p, http_request, h);
		if (h->http == NULL)
			goto fail_oom;
		evhttp_set_max_body_size(h->http, (ev_ssize_t)p->max_body_size);	/* no uploads */
		evhttp_set_bevcb(h->http, plain_bev, h);
		if (bind_all(h, h->http, base, p, p->port_http, "http", err, errsize) < 0)
			goto fail;
	}
	return h;
fail_oom:
	snprintf(err, errsize, "out of memory");
fail:
	http_loop_free(h);
	return NULL;
}

void http_loop_stop_accepting(struct http_loop *h)
{
	if (h == NULL)
		return;
	for (size_t i = 0; i < h->nbound; i++)
		evconnlistener_disable(evhttp_bound_socket_get_listener(h->bound[i]));
}

void http_loop_shutdown(struct http_loop *h)
{
	if (h == NULL)
		return;
	http_loop_stop_accepting(h);
	http_conns_stop(&h->conns);
	api_mail_events_stop();	/* streams are busy connections: end them */
	http_forward_stop();	/* the relayed ones too */
}

bool http_loop_is_done(const struct http_loop *h)
{
	return h == NULL || (h->conns.count == 0 && h->api_jobs == 0);
}

void http_loop_free(struct http_loop *h)
{
	if (h == NULL)
		return;
	if (h->https != NULL)
		evhttp_free(h->https);
	if (h->http != NULL)
		evhttp_free(h->http);
	http_conns_detach(&h->conns);
	if (h->api_jobs > 0) {
		/* The grace ran out: those jobs still read h->api on their
		 * workers, and their done never runs (the loop is over), so h
		 * stays for them until the exit. */
		log_warn(NULL, "http: %u API requests still running at the end of the grace", h->api_jobs);
		return;
	}
	free(h);
}
