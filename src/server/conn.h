#ifndef YUBIN_SERVER_CONN_H
#define YUBIN_SERVER_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include "server/server.h"

struct bufferevent;
struct evbuffer;
struct conn;

/* What a protocol session is told by its connection. The session code never
 * knows whether TLS is on: it reads lines from conn_input() and writes with
 * conn_write(); STARTTLS swaps the transport underneath. */
struct conn_ops {
	/* New input is buffered. */
	void (*on_read)(struct conn *c);
	/* No input for the idle timeout: the session says goodbye. */
	void (*on_timeout)(struct conn *c);
	/* The server is shutting down: close now if idle. */
	void (*on_shutdown)(struct conn *c);
	/* The connection is gone; the session must not touch c afterwards. */
	void (*on_free)(struct conn *c);
};

struct conn {
	struct conn *prev, *next;	/* the loop's list */
	struct loop *loop;
	struct bufferevent *bev;
	struct event *flush_timer;
	enum service service;
	const struct conn_ops *ops;
	void *session;
	char sid[12];
	char ip[64];
	unsigned short port;
	bool tls;
	bool handshaking;
	bool finishing;
	bool lingering;		/* output sent, half-closed, draining input */
	bool paused;
	bool counted;		/* holds a per-IP slot */
	void (*drain_cb)(struct conn *c);
	char tls_info[128];
};

/* Wraps an accepted socket; implicit TLS starts the handshake at once. */
struct conn *conn_new(struct loop *loop, int fd, const struct sockaddr *sa, enum service service,
		      bool implicit_tls, const struct conn_ops *ops, void *session);
struct evbuffer *conn_input(struct conn *c);
void conn_write(struct conn *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void conn_write_raw(struct conn *c, const void *data, size_t len);
/* Output bytes not yet sent. */
size_t conn_output_pending(struct conn *c);
/* Upgrades to TLS in place (STARTTLS/STLS): anything the client sent after
 * the command is discarded first, as RFC 3207 requires. */
int conn_starttls(struct conn *c);
/* Stops and restarts reading (while a worker job runs). Resuming calls
 * on_read when input is already buffered. */
void conn_pause(struct conn *c);
void conn_resume(struct conn *c);
void conn_set_timeout(struct conn *c, unsigned seconds);
/* Closes after the pending output is sent. */
void conn_finish(struct conn *c);
/* Closes now. */
void conn_close(struct conn *c);
/* Calls on_shutdown for every connection of the loop. */
void conn_shutdown_all(struct loop *loop);
unsigned conn_count(struct loop *loop);

/* Per-client-address connection counting across all loops. */
bool conn_ip_acquire(struct conn *c, unsigned max);

/* Writes to the write-side callback when output drains below low water. */
void conn_set_drain_cb(struct conn *c, void (*cb)(struct conn *c), size_t lowat);

#endif
