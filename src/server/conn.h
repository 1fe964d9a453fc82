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
	/* The deadline set with conn_deadline_arm() passed: the session says
	 * why and closes. */
	void (*on_deadline)(struct conn *c);
};

/* Output back-pressure. A client that sends commands and never reads the
 * replies would make the server buffer them without limit, so a
 * connection stops reading once CONN_OUT_HIGH bytes wait to be sent and
 * reads again when they drained below CONN_OUT_LOW (the client's
 * unread commands wait in the kernel, and the client's own sends block).
 * A session that could write more than CONN_OUT_MAX unsent bytes (one
 * huge response) is closed instead. Session loops that handle several
 * pipelined commands per read ask conn_output_full() before each one;
 * streams of big bodies refill through conn_set_drain_cb(). */
#define CONN_OUT_HIGH (256 * 1024)
#define CONN_OUT_LOW (64 * 1024)
#define CONN_OUT_MAX (128 * 1024 * 1024)

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
	bool out_blocked;	/* not reading until the output drains */
	bool out_logged;
	struct event *drain_timer;	/* polls the TLS filter's socket side */
	struct event *deadline;	/* conn_deadline_arm() */
	void (*drain_cb)(struct conn *c);
	size_t drain_lowat;
	char tls_info[128];
	bool proxy_peer;	/* the peer is in proxy.trusted (server/proxy.h) */
	char via[64];		/* the proxy's address once it told the client's */
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
/* Frees what connections still counted at shutdown (after the loops). */
void conn_ip_table_stop(void);

/* True when CONN_OUT_HIGH bytes or more wait to be sent. The connection
 * then stops reading, and calls on_read again once the output drained
 * below CONN_OUT_LOW (even with no new input: the session's loop stopped
 * with commands still buffered). Past CONN_OUT_MAX it logs and closes. */
bool conn_output_full(struct conn *c);

/* A total time limit on top of the idle timeout: a slow client sending
 * one byte before each idle timeout would otherwise hold a connection for
 * ever. Sessions arm it at the first byte of a command (or at the start
 * of a message's data) and clear it when that is complete; if it passes,
 * on_deadline runs. Arming an armed deadline keeps the earlier one. */
void conn_deadline_arm(struct conn *c, unsigned seconds);
void conn_deadline_clear(struct conn *c);
bool conn_deadline_is_armed(const struct conn *c);
/* For line-based sessions after a pass over the input: a partial line
 * left in the input buffer must complete within seconds of its first
 * byte; a pass that consumed a line starts the count again. */
void conn_line_deadline(struct conn *c, bool consumed, unsigned seconds);

/* Writes to the write-side callback when output drains below low water. */
void conn_set_drain_cb(struct conn *c, void (*cb)(struct conn *c), size_t lowat);

#endif
