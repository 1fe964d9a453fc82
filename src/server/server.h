#ifndef YUBIN_SERVER_SERVER_H
#define YUBIN_SERVER_SERVER_H

#include <stdatomic.h>
#include <stdbool.h>
#include <pthread.h>

#include "lib/config.h"

struct event_base;
struct evconnlistener;
struct directory;
struct tls_server;
struct imap_session;
struct worker_pool;
struct group_commit;
struct dns_async;
struct dns_cache;
struct index_rebuild_report;
struct http_loop;

/* What a listening port serves. */
enum service {
	SERVICE_SMTP,		/* 25: MX, STARTTLS, AUTH allowed under TLS */
	SERVICE_SUBMISSION,	/* 587: STARTTLS, AUTH required */
	SERVICE_SMTPS,		/* 465: implicit TLS, AUTH required */
	SERVICE_POP3,		/* 110: STLS */
	SERVICE_POP3S,		/* 995: implicit TLS */
	SERVICE_IMAP,		/* 143: STARTTLS */
	SERVICE_IMAPS,		/* 993: implicit TLS */
	SERVICE_SIEVE,		/* 4190: ManageSieve, STARTTLS */
	SERVICE_LMTP,		/* lmtp.port: LMTP from trusted proxies only */
	SERVICE_COUNT
};

/* One event loop: a thread with its own event_base and its own listeners
 * (SO_REUSEPORT), so a connection never leaves the loop that accepted it. */
struct loop {
	unsigned index;
	pthread_t thread;
	struct event_base *base;
	struct evconnlistener *listeners[SERVICE_COUNT * 4];
	void *listener_ctx[SERVICE_COUNT * 4];
	unsigned nlisteners;
	struct event *sig_event;
	/* IMAP sessions in IDLE on this loop, polled together by one timer
	 * (imap_session.c) instead of a timer each */
	struct imap_session *idle_head;
	struct event *idle_tick;
	struct dns_async *dns;	/* this loop's resolver (lib/dns_async.h) */
	struct http_loop *http;	/* this loop's web server (http/http.h) */
};

/* The daemon's shared state. Config and TLS are swapped under the lock by
 * SIGHUP; sessions take a snapshot of what they need at accept time. */
struct server {
	char data_dir[4096];
	struct config cfg;
	struct tls_server *tls;	/* its table of certificates swaps itself */
	struct worker_pool *workers;
	struct group_commit *committer;	/* the Maildir copies of SMTP deliveries */
	struct dns_cache *dns_cache;	/* shared by the loops' resolvers */
	struct loop *loops;
	unsigned nloops;
	pthread_rwlock_t lock;
	atomic_bool stopping;
	atomic_uint connections[SERVICE_COUNT];
	atomic_uint sessions_busy;	/* transactions in flight */
};

extern struct server *server;

/* Start-up and shutdown of the shared state, called by main in this order:
 * server_start (data directory lock, settings, DATA/tmp), server_tls_start
 * (certificates: fatal without one), ..., server_tls_stop, server_stop. */
void server_start(const char *data_dir);
void server_tls_start(void);
void server_write_pidfile(void);
/* SIGHUP: settings and certificates again. Listener addresses and ports
 * need a restart. */
void server_reload(void);
/* The certificates only (after an ACME order or an import): the table is
 * swapped under its own lock, connections keep the contexts they hold.
 * 0, or -1 with the old table kept. */
int server_tls_reload(void);
void server_tls_stop(void);
void server_stop(void);
/* The store's index_rebuilt_cb: records the event for the mailbox owner. */
void server_index_rebuilt(const char *root, const struct index_rebuild_report *rep);

/* The directory handle of the calling thread (loop or worker), opened on
 * first use; NULL if the database cannot be opened (then the caller
 * answers with a temporary error). While it cannot, a new attempt is made
 * at most once a second across all threads. */
struct directory *server_directory(void);
/* Whether the last attempt to open a handle failed (PostgreSQL down). */
bool server_directory_is_down(void);
/* Where the directory lives: directory.url, else DATA/yubin.db. */
void server_directory_where(char *buf, size_t size);
/* Records an event from a worker thread (fire and forget). */
void server_event(const char *kind, const char *address, const char *ip, const char *detail);
/* Copies the current config (under the lock). */
void server_config(struct config *cfg_r);
/* A new SSL for a connection from the current TLS context (the HTTPS
 * port's; _for: a mail service's, with the client address for the
 * SNI-miss events). */
struct ssl_st *server_ssl_new(void);
struct ssl_st *server_ssl_new_for(const char *service, const char *ip);
/* Mailbox path of an address's parts. */
int server_maildir(char *buf, size_t size, const char *domain, const char *local);

#endif
