#ifndef YUBIN_HTTP_HTTP_H
#define YUBIN_HTTP_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ops/ops.h"

/* The HTTP server of one event loop (libevent's evhttp): https.port serves
 * the API and the static files of the panels, http.port redirects to it
 * except /.well-known/. The server hands over its loop's event_base and
 * the settings; this module owns the listeners (SO_REUSEPORT, one set per
 * loop like the mail ports) and the connections. */

struct event_base;
struct ssl_st;
struct strbuf;

/* What the web server tells the daemon, for /metrics; members may be
 * NULL. Called on the loops' threads. */
struct http_observer {
	void (*accepted)(bool tls);		/* a connection on http.port / https.port */
	void (*request_done)(uint64_t usec);	/* an HTTPS request answered, taking usec */
	void (*metrics)(struct strbuf *out);	/* the /metrics page (text format 0.0.4) */
};

struct worker_pool;

/* What a JSON API request needs on its worker thread, from the server
 * (which owns the per-thread directory handles and the login check). */
struct ops_mail_learn;

struct http_forward_target;

struct http_api_env {
	struct directory *dir;		/* this thread's handle; NULL: unavailable */
	const char *data_dir;
	unsigned session_idle, session_lifetime;	/* seconds */
	ops_login_check_fn *login_check;	/* a mail user's login (service "web") */
	void *login_ctx;
	/* A panel login refused (wrong credentials, blocked, foreign): the
	 * web's count of refused logins, made here only. NULL: none. */
	void (*login_refused)(void);
	/* An administrator's login under the brute-force defence of its
	 * client address: blocked now? and a failure counted (the delay of
	 * the answer in ms). NULL: none. */
	bool (*admin_blocked)(const char *ip, const char *name);
	unsigned (*admin_failed)(const char *ip, const char *name);
	bool (*queue_wake)(const struct ops *o);	/* the queue runner's, for a retry */
	bool (*conf_reload)(const struct ops *o);	/* reads yubin.conf again, as SIGHUP */
	bool (*certs_reload)(const struct ops *o);	/* the certificates only (an import) */
	/* Hands a name to the daemon's certificate thread for an ACME
	 * renewal: false when its queue is full. */
	bool (*certs_renew)(const char *name, bool force);
	/* the submission path of port 587, for the webmail (ops_mail_write.h) */
	int (*mail_submit)(const struct ops *o, const struct ops_submit *in, struct ops_submit_result *r);
	uint64_t max_message_size;	/* smtp.max_message_size */
	char hostname[256], dns_resolver[256];	/* for the DNS records and their check */
	size_t sieve_max_script;	/* sieve.max_script_size */
	unsigned sieve_max_scripts;	/* sieve.max_scripts */
	/* The webmail's moves into and out of Junk teach the spam filter
	 * (ops/ops_mail.h). NULL: no learning. */
	const struct ops_mail_learn *mail_learn;
	/* server.role = proxy: where a request about address goes
	 * (http_forward.h): 1 to the node in *t, 0 served here, -1 the node
	 * cannot be named or reached (503). NULL: everything is served here. */
	int (*forward_target)(const char *address, struct http_forward_target *t);
	/* A request with the proxy headers: is ip a trusted proxy and secret
	 * the proxies' secret? NULL: nobody is. */
	bool (*proxy_is_trusted)(const char *ip, const char *secret);
};

struct http_params {
	const char *listen_address;	/* comma-separated addresses */
	unsigned port_http, port_https;	/* 0: that side is off */
	uint64_t max_header_size, max_body_size;
	uint64_t max_upload_size;	/* the API's upload routes (webmail attachments); 0: none */
	unsigned timeout;		/* seconds idle or stalled */
	unsigned request_timeout;	/* seconds for a whole request */
	unsigned max_connections;	/* HTTPS connections in all */
	unsigned max_connections_per_ip;
	/* Is ip a trusted proxy (all its clients' requests come from it: not
	 * held to max_connections_per_ip)? NULL: nobody is. */
	bool (*peer_is_proxy)(const char *ip);
	const char *static_dir;		/* files served on https.port */
	const char *acme_dir;		/* ACME http-01 answers (TOKEN files) on http.port, or NULL */
	/* A new SSL from the current certificates (SNI-aware); called for
	 * every connection, so a reload applies to the next one. */
	struct ssl_st *(*ssl_new)(void);
	bool log_listen;		/* say which addresses were bound */
	const struct http_observer *observer;	/* may be NULL */
	/* The JSON API: its jobs (directory, password hashing) run on the
	 * workers; api_env is called there, at the start of each job. */
	struct worker_pool *workers;
	void (*api_env)(struct http_api_env *env);
};

struct http_loop;

/* Binds the ports on base; NULL with err filled when a port cannot be
 * bound. Both ports 0: an empty http_loop (nothing served). */
struct http_loop *http_loop_start(struct event_base *base, const struct http_params *p,
				  char *err, size_t errsize);
/* Stops accepting (on the loop's thread, or before it runs). */
void http_loop_stop_accepting(struct http_loop *h);
/* SIGTERM, on the loop's thread: stops accepting, closes the idle HTTPS
 * connections (and those still reading a request); a connection handling
 * a request closes once its reply has gone, an API job's included. */
void http_loop_shutdown(struct http_loop *h);
/* No HTTPS connection and no API job left: the loop may end. */
bool http_loop_is_done(const struct http_loop *h);
/* Closes every connection and frees h (after its loop has stopped). */
void http_loop_free(struct http_loop *h);
/* HTTPS connections open now, on all loops. */
unsigned http_conn_open_count(void);

#endif
