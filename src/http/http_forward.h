#ifndef YUBIN_HTTP_HTTP_FORWARD_H
#define YUBIN_HTTP_HTTP_FORWARD_H

#include <stdbool.h>

/* server.role = proxy: the JSON API of an account whose mailbox is on a
 * mail node goes on to that node's web server (http_forward.c). The
 * proxy authenticates the request as it would serve it (session cookie
 * with its CSRF token, or a Bearer token; logins, brute-force defence and
 * the foreign-access restriction are the proxy's), then sends it as it
 * came (method, target, headers, body) over HTTPS to the node, adding the
 * client's address (X-Yubin-Client-Address) and the proxies' secret
 * (X-Yubin-Proxy-Secret). The node checks the credentials again against
 * the shared directory (sessions and tokens live there) and takes the
 * client's address only from a peer in proxy.trusted with the secret.
 * The node's answer goes back as it comes, streamed (server-sent events
 * included), the client's reading pacing the node's.
 *
 * Which requests: every authenticated one of a mail user (its own home
 * node), and an administrator's on a route naming an account
 * (/api/v1/accounts/{address}/...: its sieve scripts, rules, usage live
 * on that account's node). The rest (logins, domains, the server's own
 * queue, certificates, settings, and a user's mobileconfig profile,
 * which names the proxy's host) is served on the proxy: it touches the
 * directory, which every machine shares, or the proxy itself. */

struct api_job;
struct ssl_st;

#define HTTP_FORWARD_CLIENT_HEADER "X-Yubin-Client-Address"
#define HTTP_FORWARD_SECRET_HEADER "X-Yubin-Proxy-Secret"

/* Where one request goes, filled on the worker (http.h's env). */
struct http_forward_target {
	char node[64];		/* its name, for the logs */
	char host[64];		/* a numeric address */
	unsigned port;
	char source[64];	/* the proxy's address to connect from; "" any */
	char secret[256];	/* proxy.secret */
	struct ssl_st *ssl;	/* for this hop (verified when proxy.node_tls is on) */
};

/* On the worker, after authentication: true when the job is settled here
 * (j->forward set, or an error reply made), false to run the route. */
bool http_forward_decide(struct api_job *j);
/* On the node's worker, before authentication: a request that names a
 * client address is taken from a trusted proxy only (j->ip becomes the
 * client's); false when refused (a 403 reply made). */
bool http_forward_client(struct api_job *j);
/* On the loop, instead of the reply: takes the request over and frees
 * j->forward. */
void http_forward_start(struct api_job *j);
/* Frees a target that was not used. */
void http_forward_target_free(struct http_forward_target *t);
/* SIGTERM, on the loop's thread: ends the forwarded event streams (the
 * browser reconnects elsewhere); other forwarded replies finish. */
void http_forward_stop(void);

#endif
