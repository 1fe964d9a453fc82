#include "server/conn.h"
#include "server/stats.h"
#include "server/proxy.h"
#include "lib/ipcount.h"
#include "lib/log.h"
#include "lib/str.h"
#include "lib/tls.h"

#include <arpa/inet.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/ssl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

static __thread struct conn *loop_conns;
static __thread unsigned loop_nconns;

static void conn_read_cb(struct bufferevent *bev, void *arg);
static void conn_event_cb(struct bufferevent *bev, short what, void *arg);
static void conn_write_cb(struct bufferevent *bev, void *arg);
static void conn_drained(struct conn *c);

/* Each service group has its own per-address limit. */
static int service_group(enum service s)
{
	if (s == SERVICE_POP3 || s == SERVICE_POP3S)
		return 1;
	if (s == SERVICE_SIEVE)
		return 4;	/* 3 is the web server's */
	return s == SERVICE_IMAP || s == SERVICE_IMAPS ? 2 : 0;
}

bool conn_ip_acquire(struct conn *c, unsigned max)
{
	if (c->proxy_peer)
		return true;	/* a proxy carries many clients: not counted */
	c->counted = ipcount_acquire(service_group(c->service), c->ip, max);
	return c->counted;
}

static void conn_ip_release(struct conn *c)
{
	if (!c->counted)
		return;
	ipcount_release(service_group(c->service), c->ip);
	c->counted = false;
}

void conn_ip_table_stop(void)
{
	ipcount_clear();
}

static void conn_setup_bev(struct conn *c)
{
	bufferevent_setcb(c->bev, conn_read_cb, conn_write_cb, conn_event_cb, c);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
}

/* The service a certificate was asked for on (the SNI-miss events). */
static const char *const conn_tls_service[SERVICE_COUNT] = {
	"smtp", "submission", "smtps", "pop3", "pop3s", "imap", "imaps",
};

struct conn *conn_new(struct loop *loop, int fd, const struct sockaddr *sa, enum service service,
		      bool implicit_tls, const struct conn_ops *ops, void *session)
{
	struct conn *c = calloc(1, sizeof(*c));

	if (c == NULL) {
		evutil_closesocket(fd);
		return NULL;
	}
	c->loop = loop;
	c->service = service;
	c->ops = ops;
	c->session = session;
	/* Replies often go out in several TLS records; without this, Nagle
	 * holds the last one until the client's delayed ACK (40 ms). */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &(int){ 1 }, sizeof(int));
	str_random_id(c->sid, 9);
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
		inet_ntop(AF_INET, &in->sin_addr, c->ip, sizeof(c->ip));
		c->port = ntohs(in->sin_port);
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
		inet_ntop(AF_INET6, &in6->sin6_addr, c->ip, sizeof(c->ip));
		c->port = ntohs(in6->sin6_port);
		/* Report IPv4-mapped addresses as plain IPv4. */
		if (strncmp(c->ip, "::ffff:", 7) == 0 && strchr(c->ip + 7, '.') != NULL)
			memmove(c->ip, c->ip + 7, strlen(c->ip + 7) + 1);
	} else {
		str_copy(c->ip, sizeof(c->ip), "unknown");
	}
	c->proxy_peer = proxy_peer_is_trusted(c->ip);
	evutil_make_socket_nonblocking(fd);
	if (implicit_tls) {
		SSL *ssl = server_ssl_new_for(conn_tls_service[service], c->ip);
		if (ssl == NULL) {
			evutil_closesocket(fd);
			free(c);
			return NULL;
		}
		c->bev = bufferevent_openssl_socket_new(loop->base, fd, ssl, BUFFEREVENT_SSL_ACCEPTING,
							BEV_OPT_CLOSE_ON_FREE);
		c->tls = true;
		c->handshaking = true;
	} else {
		c->bev = bufferevent_socket_new(loop->base, fd, BEV_OPT_CLOSE_ON_FREE);
	}
	if (c->bev == NULL) {
		evutil_closesocket(fd);
		free(c);
		return NULL;
	}
	conn_setup_bev(c);
	c->next = loop_conns;
	if (loop_conns != NULL)
		loop_conns->prev = c;
	loop_conns = c;
	loop_nconns++;
	stats_conn_open(service, 1);
	return c;
}

struct evbuffer *conn_input(struct conn *c)
{
	return bufferevent_get_input(c->bev);
}

void conn_write(struct conn *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	evbuffer_add_vprintf(bufferevent_get_output(c->bev), fmt, ap);
	va_end(ap);
}

void conn_write_raw(struct conn *c, const void *data, size_t len)
{
	bufferevent_write(c->bev, data, len);
}

size_t conn_output_pending(struct conn *c)
{
	struct bufferevent *under = bufferevent_get_underlying(c->bev);
	size_t n = evbuffer_get_length(bufferevent_get_output(c->bev));

	if (under != NULL)
		n += evbuffer_get_length(bufferevent_get_output(under));
	return n;
}

int conn_starttls(struct conn *c)
{
	SSL *ssl = server_ssl_new_for(conn_tls_service[c->service], c->ip);
	struct bufferevent *tls;

	if (ssl == NULL)
		return -1;
	/* Plaintext pipelined after STARTTLS must not be taken as protected
	 * commands (CVE-2011-0411). */
	evbuffer_drain(bufferevent_get_input(c->bev), evbuffer_get_length(bufferevent_get_input(c->bev)));
	tls = bufferevent_openssl_filter_new(c->loop->base, c->bev, ssl, BUFFEREVENT_SSL_ACCEPTING,
					     BEV_OPT_CLOSE_ON_FREE);
	if (tls == NULL) {
		SSL_free(ssl);
		return -1;
	}
	/* The filter passes its output down as long as the socket side takes
	 * it; bound that side, so that unsent bytes stay in c->bev's output
	 * and its write callback tells when they drained. */
	bufferevent_setwatermark(c->bev, EV_WRITE, 0, CONN_OUT_LOW);
	c->bev = tls;
	c->tls = true;
	c->handshaking = true;
	conn_setup_bev(c);
	return 0;
}

/* Reading is on only while nobody holds it off: a job (paused), the
 * output back-pressure (out_blocked) or the close (finishing). */
static void conn_reading_update(struct conn *c)
{
	if (c->finishing || c->lingering)
		return;
	if (c->paused || c->out_blocked)
		bufferevent_disable(c->bev, EV_READ);
	else
		bufferevent_enable(c->bev, EV_READ);
}

static void conn_watermark_update(struct conn *c)
{
	size_t lowat = c->drain_cb != NULL ? c->drain_lowat : 0;

	if (c->out_blocked && (lowat == 0 || lowat > CONN_OUT_LOW))
		lowat = CONN_OUT_LOW;
	bufferevent_setwatermark(c->bev, EV_WRITE, lowat, 0);
}

void conn_pause(struct conn *c)
{
	c->paused = true;
	conn_reading_update(c);
}

void conn_resume(struct conn *c)
{
	c->paused = false;
	if (c->finishing)
		return;
	conn_reading_update(c);
	/* While the output is blocked, its drain calls on_read. */
	if (!c->out_blocked && evbuffer_get_length(bufferevent_get_input(c->bev)) > 0)
		c->ops->on_read(c);
}

static void conn_drain_poll(evutil_socket_t fd, short what, void *arg)
{
	conn_drained(arg);
}

/* Behind the TLS filter (after STARTTLS) the socket side may still hold
 * bytes when the filter's own output is empty, and no write callback
 * comes for those: poll them instead. */
static void conn_drain_poll_arm(struct conn *c)
{
	static const struct timeval tick = { 0, 50000 };

	if (bufferevent_get_underlying(c->bev) == NULL)
		return;
	if (c->drain_timer == NULL)
		c->drain_timer = evtimer_new(c->loop->base, conn_drain_poll, c);
	if (c->drain_timer != NULL)
		evtimer_add(c->drain_timer, &tick);
}

bool conn_output_full(struct conn *c)
{
	size_t n = conn_output_pending(c);

	if (c->finishing)
		return true;
	if (n > CONN_OUT_MAX) {
		log_warn(c->sid, "output: %zu bytes unsent to %s, over the limit of %u; closing", n, c->ip,
			 (unsigned)CONN_OUT_MAX);
		evbuffer_drain(bufferevent_get_output(c->bev), n);
		conn_finish(c);
		return true;
	}
	if (n < CONN_OUT_HIGH)
		return false;
	if (!c->out_blocked) {
		c->out_blocked = true;
		if (!c->out_logged)
			log_info(c->sid, "output: %zu bytes unsent to %s; not reading its commands until it"
				 " reads the replies", n, c->ip);
		c->out_logged = true;
		conn_reading_update(c);
		conn_watermark_update(c);
		conn_drain_poll_arm(c);
	}
	return true;
}

/* The output drained: read again, and let the session go on with the
 * commands it left in the input buffer. */
static void conn_unblock(struct conn *c)
{
	if (!c->out_blocked || c->finishing || c->lingering)
		return;
	if (conn_output_pending(c) > CONN_OUT_LOW) {
		conn_drain_poll_arm(c);
		return;
	}
	c->out_blocked = false;
	conn_watermark_update(c);
	conn_reading_update(c);
	if (!c->paused && evbuffer_get_length(bufferevent_get_input(c->bev)) > 0)
		c->ops->on_read(c);
}

static void conn_deadline_fire(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;

	if (c->finishing || c->lingering || c->ops->on_deadline == NULL)
		return;
	c->ops->on_deadline(c);
}

void conn_deadline_arm(struct conn *c, unsigned seconds)
{
	struct timeval tv = { (time_t)seconds, 0 };

	if (seconds == 0 || c->finishing || conn_deadline_is_armed(c))
		return;
	if (c->deadline == NULL)
		c->deadline = evtimer_new(c->loop->base, conn_deadline_fire, c);
	if (c->deadline != NULL)
		evtimer_add(c->deadline, &tv);
}

void conn_deadline_clear(struct conn *c)
{
	if (c->deadline != NULL)
		evtimer_del(c->deadline);
}

bool conn_deadline_is_armed(const struct conn *c)
{
	return c->deadline != NULL && evtimer_pending(c->deadline, NULL);
}

void conn_line_deadline(struct conn *c, bool consumed, unsigned seconds)
{
	struct evbuffer *in = bufferevent_get_input(c->bev);
	struct evbuffer_ptr lf;

	if (c->finishing)
		return;
	lf = evbuffer_search(in, "\n", 1, NULL);
	/* Nothing buffered, or whole lines that wait for the session (a job
	 * or the output back-pressure): no client is slow there. */
	if (evbuffer_get_length(in) == 0 || lf.pos >= 0) {
		conn_deadline_clear(c);
		return;
	}
	if (consumed)
		conn_deadline_clear(c);
	conn_deadline_arm(c, seconds);
}

void conn_set_timeout(struct conn *c, unsigned seconds)
{
	struct timeval rd = { (time_t)seconds, 0 }, wr = { 300, 0 };

	bufferevent_set_timeouts(c->bev, &rd, &wr);
}

static void conn_free(struct conn *c)
{
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		loop_conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	loop_nconns--;
	stats_conn_open(c->service, -1);
	conn_ip_release(c);
	if (c->ops->on_free != NULL)
		c->ops->on_free(c);
	if (c->flush_timer != NULL)
		event_free(c->flush_timer);
	if (c->drain_timer != NULL)
		event_free(c->drain_timer);
	if (c->deadline != NULL)
		event_free(c->deadline);
	bufferevent_free(c->bev);
	free(c);
}

void conn_close(struct conn *c)
{
	conn_free(c);
}

/* All output is sent: half-close, then read and discard until the client
 * closes too (at most 2 s). Closing outright with unread input (commands
 * pipelined behind a 421 or BYE) makes the kernel answer with a reset, and
 * a reset destroys the reply still on its way to the client. */
static void conn_linger(struct conn *c)
{
	struct timeval tv = { 2, 0 };
	evutil_socket_t fd = bufferevent_getfd(c->bev);

	if (c->lingering || fd < 0) {
		conn_free(c);
		return;
	}
	c->lingering = true;
	conn_ip_release(c);	/* the client may connect again at once */
	if (c->flush_timer != NULL)
		event_del(c->flush_timer);
	shutdown(fd, SHUT_WR);
	evbuffer_drain(bufferevent_get_input(c->bev), evbuffer_get_length(bufferevent_get_input(c->bev)));
	bufferevent_set_timeouts(c->bev, &tv, NULL);
	bufferevent_enable(c->bev, EV_READ);
}

static void conn_flush_check(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;
	static const struct timeval tick = { 0, 10000 };

	if (c->lingering)
		return;
	if (conn_output_pending(c) == 0) {
		conn_linger(c);
		return;
	}
	/* The TLS filter has passed everything down; wait for the socket. */
	if (c->flush_timer == NULL)
		c->flush_timer = evtimer_new(c->loop->base, conn_flush_check, c);
	evtimer_add(c->flush_timer, &tick);
}

void conn_finish(struct conn *c)
{
	struct timeval tv = { 10, 0 };

	static const struct timeval now = { 0, 0 };

	if (c->finishing)
		return;
	c->finishing = true;
	conn_deadline_clear(c);
	bufferevent_disable(c->bev, EV_READ);
	bufferevent_set_timeouts(c->bev, NULL, &tv);
	/* Never free synchronously: the caller may still hold the session. */
	if (c->flush_timer == NULL)
		c->flush_timer = evtimer_new(c->loop->base, conn_flush_check, c);
	evtimer_add(c->flush_timer, &now);
}

static void conn_read_cb(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;

	if (c->lingering) {
		evbuffer_drain(bufferevent_get_input(bev), evbuffer_get_length(bufferevent_get_input(bev)));
		return;
	}
	if (c->finishing || c->paused || c->out_blocked)
		return;
	c->ops->on_read(c);
}

static void conn_write_cb(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;

	if (c->finishing) {
		if (conn_output_pending(c) == 0 && !c->lingering)
			conn_linger(c);
		return;
	}
	conn_drained(c);
}

/* The output went below a low-water mark: refill a stream (drain_cb),
 * or read again after back-pressure. */
static void conn_drained(struct conn *c)
{
	if (c->finishing || c->lingering)
		return;
	if (c->drain_cb != NULL) {
		if (conn_output_pending(c) > c->drain_lowat)
			conn_drain_poll_arm(c);
		else
			c->drain_cb(c);
	}
	conn_unblock(c);
}

void conn_set_drain_cb(struct conn *c, void (*cb)(struct conn *c), size_t lowat)
{
	c->drain_cb = cb;
	c->drain_lowat = cb != NULL ? lowat : 0;
	conn_watermark_update(c);
}

static void conn_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct conn *c = arg;

	if (what & BEV_EVENT_CONNECTED) {
		SSL *ssl = bufferevent_openssl_get_ssl(c->bev);
		if (ssl != NULL) {
			c->handshaking = false;
			tls_describe(ssl, c->tls_info, sizeof(c->tls_info));
			log_debug(c->sid, "tls: %s", c->tls_info);
		}
		return;
	}
	if ((what & BEV_EVENT_TIMEOUT) && !c->finishing && (what & BEV_EVENT_READING)) {
		c->ops->on_timeout(c);
		return;
	}
	if ((what & BEV_EVENT_TIMEOUT) && (what & BEV_EVENT_WRITING))
		log_info(c->sid, "output: %s read nothing for %s; closing", c->ip,
			 c->finishing ? "10 s after the goodbye" : "300 s");
	if (what & BEV_EVENT_ERROR) {
		if (c->handshaking)
			log_info(c->sid, "tls: handshake failed with %s", c->ip);
		else
			log_debug(c->sid, "connection error with %s", c->ip);
	}
	conn_free(c);
}

void conn_shutdown_all(struct loop *loop)
{
	struct conn *c = loop_conns, *next;

	for (; c != NULL; c = next) {
		next = c->next;
		if (c->ops->on_shutdown != NULL && !c->finishing)
			c->ops->on_shutdown(c);
	}
}

unsigned conn_count(struct loop *loop)
{
	return loop_nconns;
}
