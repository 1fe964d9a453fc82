#ifndef YUBIN_SERVER_PROXY_H
#define YUBIN_SERVER_PROXY_H

#include <stdbool.h>

#include "server/auth.h"
#include "server/server.h"

struct conn;
struct directory;

/* ---- on a mail node (proxy_auth.c) ----
 * A proxy (its address in proxy.trusted) logs in on behalf of a user with
 * SASL PLAIN: authorization identity = the user's address, authentication
 * identity = proxy.user, password = proxy.secret. It first tells the
 * client's real address (IMAP: ID "x-originating-ip"; POP3: XCLIENT
 * ADDR=; ManageSieve: XCLIENT "ADDR=..."), which then stands in the
 * session's logs and events. Nothing of this is accepted from any other
 * address. */

/* Is ip (a connection's peer) one of proxy.trusted? */
bool proxy_peer_is_trusted(const char *ip);
/* Is secret proxy.secret (never, when that is empty)? Constant time. */
bool proxy_secret_is(const char *secret);
/* The client's real address from a trusted proxy: c->ip becomes it (the
 * proxy's stays in c->via). 0, or -1 (not a proxy, not an address, told
 * twice). */
int proxy_client_address(struct conn *c, const char *ip);
/* Is the account's mailbox on this machine? Always without node.name (one
 * machine); with it, when the account's home node is this node. 1 yes,
 * 0 another node's (*node_r names it, "" none), -1 directory error. */
int proxy_account_is_here(struct directory *dir, const char *address, char *node_r, size_t size);
/* The proxy login of req->user (the authorization identity) with authcid
 * and req->password checked against proxy.user/proxy.secret on a worker;
 * res and done as for auth_submit. */
void proxy_login_submit(struct loop *loop, const char *authcid, const struct auth_request *req,
			struct auth_result *res, void (*done)(void *ctx), void *ctx);

/* ---- server.role = proxy (proxy.c) ----
 * After the proxy's own login check the session is forwarded to the
 * account's home node: proxy_start looks the node up, connects, logs in
 * there with the proxy authentication and calls ready; on success the
 * session writes its own success reply and hands the connection over with
 * proxy_relay, which copies bytes both ways with bounded buffers. */

enum proxy_proto { PROXY_IMAP, PROXY_POP3, PROXY_SIEVE, PROXY_LMTP, PROXY_HTTP };

struct proxy;
/* ok: logged in on the node, line: the node's success text (IMAP: after
 * the tag and "OK "; POP3: after "+OK "; ManageSieve: after "OK ", its
 * quoted text). !ok: line says why (a temporary error for the client).
 * ManageSieve goes to the host of the node's IMAP address at
 * proxy.sieve_port (the node list has no column of its own for it). */
typedef void proxy_ready_fn(void *ctx, bool ok, const char *line);

/* The HOST:PORT of address's home node for proto into addr_r (ManageSieve:
 * its IMAP host at proxy.sieve_port), its name into node_r: 1; 0 no such
 * account; -1 with why (no home node, the node not listed, no address, the
 * directory unavailable). On a worker. */
int proxy_node_find(struct directory *dir, const char *address, enum proxy_proto proto, char *node_r,
		    size_t node_size, char *addr_r, size_t addr_size, char *why, size_t why_size);
/* The address a proxy connects to the nodes from: its first
 * listen.address, "" for a wildcard (the nodes trust proxies by address). */
void proxy_source_address(char *out, size_t size);

/* ---- TLS to the nodes (proxy_tls.c) ----
 * proxy.node_tls = on: every hop is TLS (STARTTLS for IMAP, POP3,
 * ManageSieve and LMTP; HTTPS) with the node's certificate checked against
 * proxy.node_ca_file and the name proxy.node_tls_name (else the host of
 * the node's address). HTTPS to a node is TLS either way. */
void proxy_tls_start(void);
void proxy_tls_stop(void);
bool proxy_tls_is_on(void);
/* A new SSL for a hop to host (a name or an IP address), checking the
 * node's certificate when verify; NULL on failure. */
struct ssl_st *proxy_tls_new(const char *host, bool verify);

/* Is this daemon a proxy (server.role = proxy)? */
bool proxy_role_is_proxy(void);
/* Starts the way to address's node for the session on c; ready is called
 * later on c's loop (never from inside proxy_start). NULL: out of memory. */
struct proxy *proxy_start(struct conn *c, enum proxy_proto proto, const char *address,
			  proxy_ready_fn *ready, void *ctx);
/* Takes c over (its ops and session) and relays until either side ends.
 * The session must not touch c afterwards. */
void proxy_relay(struct proxy *p);
/* Abandons a proxy that did not reach proxy_relay (the client left). */
void proxy_free(struct proxy *p);

/* ---- server.role = proxy, SMTP (proxy_lmtp.c) ----
 * At the end of DATA: when the recipients are on mail nodes (RCPT set
 * their node), the message goes to each node by LMTP on a worker and the
 * session gets its reply there; true. false: not for the nodes. */
struct smtp_session;
bool proxy_smtp_deliver(struct smtp_session *s);

#endif
