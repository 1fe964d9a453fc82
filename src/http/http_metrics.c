/* GET /metrics: the daemon's metrics in the Prometheus text format
 * (version 0.0.4), for clients on the loopback interface and server
 * administrators. */
#include "http/api.h"
#include "http/http.h"
#include "http/http_internal.h"
#include "http/http_metrics.h"
#include "lib/strbuf.h"

#include <arpa/inet.h>
#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <stdio.h>
#include <string.h>

#define METRICS_TYPE "text/plain; version=0.0.4; charset=utf-8"

bool http_addr_is_loopback(const char *ip)
{
	struct in_addr a4;
	struct in6_addr a6;
	static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

	if (ip == NULL)
		return false;
	if (inet_pton(AF_INET, ip, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	if (inet_pton(AF_INET6, ip, &a6) != 1)
		return false;
	if (IN6_IS_ADDR_LOOPBACK(&a6))
		return true;
	/* an IPv4 client on an IPv6 socket */
	return memcmp(a6.s6_addr, mapped, sizeof(mapped)) == 0 && a6.s6_addr[12] == 127;
}

/* The connection's own peer address (never a header such as
 * X-Forwarded-For) is on loopback. */
static bool metrics_from_loopback(struct evhttp_request *req)
{
	struct evhttp_connection *evcon = evhttp_request_get_connection(req);
	char *ip = NULL;
	ev_uint16_t port = 0;

	if (evcon == NULL)
		return false;
	evhttp_connection_get_peer(evcon, &ip, &port);
	return http_addr_is_loopback(ip);
}

/* The request brings a session cookie or an Authorization header. */
static bool metrics_has_credentials(struct evhttp_request *req)
{
	struct evkeyvalq *in = evhttp_request_get_input_headers(req);
	char cookie[OPS_SESSION_ID_LEN + 2];

	api_cookie_value(evhttp_find_header(in, "Cookie"), "yubin_session", cookie, sizeof(cookie));
	return cookie[0] != '\0' || evhttp_find_header(in, "Authorization") != NULL;
}

/* The page (text format 0.0.4) into a new buffer; NULL without memory. */
static struct evbuffer *metrics_text(const struct http_observer *obs)
{
	struct strbuf text = STRBUF_INIT;
	struct evbuffer *body = evbuffer_new();

	if (body == NULL)
		return NULL;
	obs->metrics(&text);
	evbuffer_add(body, strbuf_cstr(&text), text.len);
	strbuf_free(&text);
	return body;
}

/* On a worker, once the API's authentication has made j->actor: the page
 * for a server administrator (session or token), 403 for anyone else. */
static void api_metrics(struct api_job *j)
{
	if (!ops_may_server(&j->actor)) {
		api_error(j, 403, "forbidden", NULL, "only server administrators may read the metrics",
			  "メトリクスを読めるのはサーバー管理者だけです");
		return;
	}
	j->raw = metrics_text(j->cfg->observer);
	if (j->raw == NULL) {
		api_error(j, 500, "internal", NULL, "out of memory", "メモリ不足です");
		return;
	}
	j->status = 200;
	j->content_type = METRICS_TYPE;
}

static const struct api_route metrics_route = { EVHTTP_REQ_GET, "/metrics", api_metrics, 0 };

/* Who may read the metrics: a loopback client, answered here on the loop
 * (only atomics are read); else one that brings the credentials of a
 * server administrator, checked by the API's authentication on a worker
 * (it reads the directory); anyone else gets 403. */
void http_metrics_serve(struct evhttp_request *req, const struct api_config *api)
{
	struct evbuffer *body;
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);

	if (api->observer == NULL || api->observer->metrics == NULL) {
		http_send_error(req, 404, "Not Found", true);
		return;
	}
	if (!metrics_from_loopback(req)) {
		if (metrics_has_credentials(req))
			api_handle_route(req, api, &metrics_route);
		else
			http_send_error(req, 403, "Forbidden", true);
		return;
	}
	body = metrics_text(api->observer);
	if (body == NULL) {
		http_send_error(req, 503, "Service Unavailable", true);
		return;
	}
	http_security_headers(req, true);
	evhttp_add_header(h, "Content-Type", METRICS_TYPE);
	evhttp_add_header(h, "Cache-Control", "no-store");
	http_send_reply(req, 200, "OK", body);
	evbuffer_free(body);
}
