/* The event loops: listeners per (address, service), the accept that hands
 * a connection to its session, and the graceful stop. */
#include "server/loop.h"
#include "server/server.h"
#include "server/conn.h"
#include "server/sessions.h"
#include "server/stats.h"
#include "http/http.h"
#include "server/web.h"
#include "server/proxy.h"
#include "lib/dns_async.h"
#include "lib/log.h"
#include "lib/str.h"

#include <errno.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct listener_ctx {
	struct loop *loop;
	enum service service;
};

static void listener_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa,
			    int socklen, void *arg)
{
	struct listener_ctx *ctx = arg;

	if (atomic_load(&server->stopping)) {
		evutil_closesocket(fd);
		return;
	}
	stats_inc(STATS_CONN_ACCEPTED, ctx->service);
	switch (ctx->service) {
	case SERVICE_SMTP:
	case SERVICE_SUBMISSION:
	case SERVICE_SMTPS:
	case SERVICE_LMTP:
		smtp_session_accept(ctx->loop, fd, sa, ctx->service);
		break;
	case SERVICE_POP3:
	case SERVICE_POP3S:
		pop3_session_accept(ctx->loop, fd, sa, ctx->service);
		break;
	case SERVICE_IMAP:
	case SERVICE_IMAPS:
		imap_session_accept(ctx->loop, fd, sa, ctx->service);
		break;
	case SERVICE_SIEVE:
		managesieve_session_accept(ctx->loop, fd, sa, ctx->service);
		break;
	default:
		evutil_closesocket(fd);
	}
}

static unsigned service_port(const struct config *cfg, enum service s)
{
	switch (s) {
	case SERVICE_SMTP: return cfg->port_smtp;
	case SERVICE_SUBMISSION: return cfg->port_submission;
	case SERVICE_SMTPS: return cfg->port_smtps;
	case SERVICE_POP3: return cfg->port_pop3;
	case SERVICE_POP3S: return cfg->port_pop3s;
	case SERVICE_IMAP: return cfg->port_imap;
	case SERVICE_IMAPS: return cfg->port_imaps;
	case SERVICE_SIEVE: return cfg->port_sieve;
	case SERVICE_LMTP: return cfg->port_lmtp;
	default: return 0;
	}
}

static const char *const service_names[SERVICE_COUNT] = {
	"smtp", "submission", "smtps", "pop3", "pop3s", "imap", "imaps", "sieve", "lmtp",
};

static void loop_bind(struct loop *loop, const char *spec, enum service s)
{
	struct sockaddr_storage ss;
	int sslen = sizeof(ss);
	struct listener_ctx *ctx;
	struct evconnlistener *l;

	if (evutil_parse_sockaddr_port(spec, (struct sockaddr *)&ss, &sslen) < 0)
		log_fatal("listen: bad address %s", spec);
	ctx = calloc(1, sizeof(*ctx));
	if (ctx == NULL)
		log_fatal("out of memory");
	ctx->loop = loop;
	ctx->service = s;
	l = evconnlistener_new_bind(loop->base, listener_accept, ctx,
				    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE |
				    LEV_OPT_REUSEABLE_PORT | LEV_OPT_CLOSE_ON_EXEC,
				    1024, (struct sockaddr *)&ss, sslen);
	if (l == NULL)
		log_fatal("listen: cannot bind %s (%s): %s", spec, service_names[s], strerror(errno));
	if (loop->nlisteners < sizeof(loop->listeners) / sizeof(loop->listeners[0])) {
		loop->listener_ctx[loop->nlisteners] = ctx;
		loop->listeners[loop->nlisteners++] = l;
	}
	if (loop->index == 0)
		log_info(NULL, "listen: %s on %s", service_names[s], spec);
}

/* Binds every (address, service) pair for one loop. */
static void loop_listen(struct loop *loop, const struct config *cfg)
{
	char addrs[256];
	char *save = NULL;

	str_copy(addrs, sizeof(addrs), cfg->listen_address);
	for (char *a = strtok_r(addrs, ", ", &save); a != NULL; a = strtok_r(NULL, ", ", &save)) {
		for (int s = 0; s < SERVICE_COUNT; s++) {
			char spec[300];
			unsigned port = service_port(cfg, (enum service)s);

			if (port == 0)
				continue;
			if (strchr(a, ':') != NULL)
				snprintf(spec, sizeof(spec), "[%s]:%u", a, port);
			else
				snprintf(spec, sizeof(spec), "%s:%u", a, port);
			loop_bind(loop, spec, (enum service)s);
		}
	}
}

/* The web server of a loop (http/): its ports, limits and static files
 * (DATA/web). */
static void loop_http_start(struct loop *loop)
{
	const struct config *cfg = &server->cfg;
	char web[4200], acme[4200], err[512];
	struct http_params p = {
		.listen_address = cfg->listen_address, .port_http = cfg->port_http,
		.port_https = cfg->port_https, .max_header_size = cfg->http_max_header_size,
		.max_body_size = cfg->http_max_body_size, .timeout = cfg->http_timeout,
		.max_upload_size = cfg->smtp_max_message_size,
		.request_timeout = cfg->http_request_timeout,
		.max_connections = cfg->http_max_connections,
		.max_connections_per_ip = cfg->http_max_connections_per_ip,
		.peer_is_proxy = proxy_peer_is_trusted,
		.static_dir = web, .acme_dir = acme, .ssl_new = server_ssl_new, .log_listen = loop->index == 0,
		.observer = stats_http_observer(),
		.workers = server->workers, .api_env = web_api_env,
	};

	snprintf(web, sizeof(web), "%s/web", server->data_dir);
	snprintf(acme, sizeof(acme), "%s/acme/http-01", server->data_dir);
	loop->http = http_loop_start(loop->base, &p, err, sizeof(err));
	if (loop->http == NULL)
		log_fatal("listen: %s", err);
}

static void *loop_main(void *arg)
{
	struct loop *loop = arg;

	event_base_dispatch(loop->base);
	return NULL;
}

/* Runs on each loop when SIGTERM arrives: stop accepting, let idle sessions
 * go, and leave the loop once its connections are gone. */
static void loop_stop_cb(evutil_socket_t fd, short what, void *arg)
{
	struct loop *loop = arg;

	for (unsigned i = 0; i < loop->nlisteners; i++)
		evconnlistener_disable(loop->listeners[i]);
	http_loop_shutdown(loop->http);
	conn_shutdown_all(loop);
	if (loop->sig_event != NULL)
		event_del(loop->sig_event);
	if (loop->idle_tick != NULL)
		event_del(loop->idle_tick);
}

static void loop_check_cb(evutil_socket_t fd, short what, void *arg)
{
	struct loop *loop = arg;

	if (conn_count(loop) == 0 && http_loop_is_done(loop->http))
		event_base_loopexit(loop->base, NULL);
}

void loops_start(void)
{
	unsigned nloops = server->cfg.server_loops;

	if (nloops == 0) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);
		nloops = n > 0 ? (unsigned)n : 1;
	}
	server->nloops = nloops;
	server->loops = calloc(nloops, sizeof(struct loop));
	if (server->loops == NULL)
		log_fatal("out of memory");
	for (unsigned i = 0; i < nloops; i++) {
		struct loop *loop = &server->loops[i];
		loop->index = i;
		loop->base = event_base_new();
		if (loop->base == NULL)
			log_fatal("event_base_new failed");
		loop->dns = dns_async_new(loop->base, server->dns_cache);
		if (loop->dns == NULL)
			log_fatal("cannot make the DNS resolver of a loop");
		loop_listen(loop, &server->cfg);
		loop_http_start(loop);
	}
}

void loops_run(void)
{
	for (unsigned i = 0; i < server->nloops; i++) {
		if (pthread_create(&server->loops[i].thread, NULL, loop_main, &server->loops[i]) != 0)
			log_fatal("cannot start loop thread");
	}
}

void loops_stop(void)
{
	static const struct timeval now = { 0, 0 }, tick = { 0, 100000 };
	struct timeval grace = { (time_t)server->cfg.shutdown_grace, 0 };
	struct event **checks = calloc(server->nloops, sizeof(*checks));

	for (unsigned i = 0; i < server->nloops; i++) {
		struct loop *loop = &server->loops[i];

		if (checks != NULL) {
			checks[i] = event_new(loop->base, -1, EV_PERSIST, loop_check_cb, loop);
			event_add(checks[i], &tick);
		}
		event_base_once(loop->base, -1, EV_TIMEOUT, loop_stop_cb, loop, &now);
		event_base_loopexit(loop->base, &grace);
	}
	for (unsigned i = 0; i < server->nloops; i++) {
		struct loop *loop = &server->loops[i];

		pthread_join(loop->thread, NULL);
		dns_async_free(loop->dns);
		http_loop_free(loop->http);
		if (checks != NULL && checks[i] != NULL)
			event_free(checks[i]);
		for (unsigned j = 0; j < loop->nlisteners; j++) {
			evconnlistener_free(loop->listeners[j]);
			free(loop->listener_ctx[j]);
		}
	}
	free(checks);
}

void loops_free(void)
{
	for (unsigned i = 0; i < server->nloops; i++) {
		struct loop *loop = &server->loops[i];

		if (loop->idle_tick != NULL)
			event_free(loop->idle_tick);	/* made by the first IMAP IDLE */
		if (loop->sig_event != NULL)
			event_free(loop->sig_event);
		event_base_free(loop->base);
	}
}
