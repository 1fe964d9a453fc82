/* GET /metrics: the daemon's metrics in the Prometheus text format
 * (version 0.0.4), for clients on the loopback interface only. */
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

/* Who may read the metrics. Today: loopback clients only, by the
 * connection's own peer address (never a header such as X-Forwarded-For).
 * When the API's administrator sessions and tokens exist, a request that
 * carries a server administrator's session or a token with that role is
 * let in here too. */
static bool metrics_allowed(struct evhttp_request *req)
{
	struct evhttp_connection *evcon = evhttp_request_get_connection(req);
	char *ip = NULL;
	ev_uint16_t port = 0;

	if (evcon == NULL)
		return false;
	evhttp_connection_get_peer(evcon, &ip, &port);
	return http_addr_is_loopback(ip);
}

void http_metrics_serve(struct evhttp_request *req, const struct http_observer *obs)
{
	struct strbuf text = STRBUF_INIT;
	struct evbuffer *body;
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);

	if (!metrics_allowed(req)) {
		http_send_error(req, 403, "Forbidden", true);
		return;
	}
	if (obs == NULL || obs->metrics == NULL) {
		http_send_error(req, 404, "Not Found", true);
		return;
	}
	obs->metrics(&text);
	body = evbuffer_new();
	if (body == NULL) {
		strbuf_free(&text);
		http_send_error(req, 503, "Service Unavailable", true);
		return;
	}
	evbuffer_add(body, strbuf_cstr(&text), text.len);
	strbuf_free(&text);
	http_security_headers(req, true);
	evhttp_add_header(h, "Content-Type", "text/plain; version=0.0.4; charset=utf-8");
	evhttp_add_header(h, "Cache-Control", "no-store");
	http_send_reply(req, 200, "OK", body);
	evbuffer_free(body);
}
