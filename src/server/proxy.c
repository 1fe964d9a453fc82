/* server.role = proxy: a client's IMAP or POP3 session, once the proxy's
 * own login check let it in, goes on at the account's home node. The
 * proxy looks the node up (a worker: the directory may be remote),
 * connects, logs in there with the proxy authentication (server/proxy.h)
 * and then copies bytes both ways, each direction bounded: when one side
 * does not read, the proxy stops reading from the other. */
#include "server/proxy.h"
#include "server/conn.h"
#include "directory/directory.h"
#include "settings/settings.h"
#include "lib/log.h"
#include "lib/str.h"
#include "lib/workers.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

/* Bytes one direction may hold before its reader is paused, and the mark
 * under which it reads again. */
#define PROXY_BUF_HIGH (256 * 1024)
#define PROXY_BUF_LOW (64 * 1024)
/* Longest line of the node before the relay starts (greeting, replies). */
#define PROXY_LINE_MAX 8192

enum proxy_step {
	PROXY_LOOKUP,		/* the node on a worker */
	PROXY_GREETING,		/* connected, waiting for the node's greeting */
	PROXY_STARTTLS,		/* proxy.node_tls: STARTTLS / STLS sent */
	PROXY_HANDSHAKE,	/* ... its TLS handshake under way */
	PROXY_TLS_GREETING,	/* ManageSieve: its capabilities again, under TLS */
	PROXY_CLIENT,		/* ID / XCLIENT sent */
	PROXY_LOGIN,		/* AUTHENTICATE / AUTH sent */
	PROXY_RELAY,
	PROXY_FAILED,
};

struct proxy {
	struct conn *c;
	struct event_base *base;
	enum proxy_proto proto;
	enum proxy_step step;
	char address[DIR_ADDRESS_MAX + 1];
	char client_ip[64];
	unsigned short client_port;
	char sid[12];
	proxy_ready_fn *ready;
	void *ctx;
	bool abandoned;		/* the session left while the lookup ran */
	/* from the lookup */
	int lookup_status;	/* 0, or -1 with why */
	char why[160];
	char node[DIR_NODE_NAME_MAX + 1];
	struct sockaddr_storage sa;
	socklen_t salen;
	char user[64], secret[256];
	char source[64];	/* the first listen.address, unless a wildcard */
	unsigned connect_timeout, idle_timeout;
	bool tls;		/* proxy.node_tls: STARTTLS to the node, its certificate checked */
	char host[DIR_NODE_ADDR_MAX + 1];	/* the host of the node's address */
	struct bufferevent *node_bev;
};

bool proxy_role_is_proxy(void)
{
	bool proxy;

	pthread_rwlock_rdlock(&server->lock);
	proxy = strcmp(server->cfg.role, "proxy") == 0;
	pthread_rwlock_unlock(&server->lock);
	return proxy;
}

static void proxy_wipe_free(struct proxy *p)
{
	if (p->node_bev != NULL)
		bufferevent_free(p->node_bev);
	explicit_bzero(p->secret, sizeof(p->secret));
	free(p);
}

/* ---- the node: lookup on a worker ------------------------------------- */

/* HOST:PORT or [V6]:PORT into sa (host names resolved here, on a worker). */
static int proxy_resolve(struct proxy *p, const char *addr)
{
	char host[DIR_NODE_ADDR_MAX + 1], *colon;
	struct addrinfo hints, *res = NULL;
	int r;

	str_copy(host, sizeof(host), addr);
	colon = strrchr(host, ':');
	if (colon == NULL)
		return -1;
	*colon = '\0';
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	if (host[0] == '[' && colon > host + 1 && colon[-1] == ']') {
		colon[-1] = '\0';
		r = getaddrinfo(host + 1, colon + 1, &hints, &res);
	} else {
		r = getaddrinfo(host, colon + 1, &hints, &res);
	}
	if (r != 0 || res == NULL || res->ai_addrlen > sizeof(p->sa)) {
		if (res != NULL)
			freeaddrinfo(res);
		return -1;
	}
	memcpy(&p->sa, res->ai_addr, res->ai_addrlen);
	p->salen = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

static const char *proxy_proto_name(enum proxy_proto proto)
{
	static const char *const names[] = { "imap", "pop3", "sieve", "lmtp", "http" };

	return names[proto];
}

/* A node's ManageSieve: the host of its IMAP address at port. 0, or -1
 * (no host there; the IMAP address is then tried and fails clearly). */
static int proxy_sieve_address(const char *imap, unsigned port, char *out, size_t size)
{
	const char *colon = strrchr(imap, ':');

	if (colon == NULL || colon == imap || (size_t)(colon - imap) + 8 > size)
		return -1;
	snprintf(out, size, "%.*s:%u", (int)(colon - imap), imap, port);
	return 0;
}

void proxy_source_address(char *out, size_t size)
{
	pthread_rwlock_rdlock(&server->lock);
	str_copy(out, size, server->cfg.listen_address);
	pthread_rwlock_unlock(&server->lock);
	out[strcspn(out, ", ")] = '\0';
	if (strcmp(out, "0.0.0.0") == 0 || strcmp(out, "::") == 0)
		out[0] = '\0';
}

int proxy_node_find(struct directory *dir, const char *address, enum proxy_proto proto, char *node_r,
		    size_t node_size, char *addr_r, size_t addr_size, char *why, size_t why_size)
{
	struct dir_node n;
	const char *addr;
	char sieve[DIR_NODE_ADDR_MAX + 1];
	unsigned sieve_port;
	int r;

	node_r[0] = '\0';
	pthread_rwlock_rdlock(&server->lock);
	sieve_port = server->cfg.proxy_sieve_port;
	pthread_rwlock_unlock(&server->lock);
	if (dir == NULL || (r = directory_account_node(dir, address, node_r, node_size)) < 0) {
		str_copy(why, why_size, "the directory is unavailable");
		return -1;
	}
	if (r == 0)
		return 0;
	if (node_r[0] == '\0') {
		snprintf(why, why_size, "%s has no home node", address);
		return -1;
	}
	if ((r = directory_node_get(dir, node_r, &n)) <= 0) {
		snprintf(why, why_size, "node %s is %s", node_r, r < 0 ? "unreadable" : "not listed");
		return -1;
	}
	addr = proto == PROXY_POP3 ? n.pop3 : proto == PROXY_LMTP ? n.lmtp : proto == PROXY_HTTP ? n.http : n.imap;
	if (proto == PROXY_SIEVE && proxy_sieve_address(n.imap, sieve_port, sieve, sizeof(sieve)) == 0)
		addr = sieve;
	if (addr[0] == '\0' || strlen(addr) >= addr_size) {
		snprintf(why, why_size, "node %s has no %s address", node_r, proxy_proto_name(proto));
		return -1;
	}
	str_copy(addr_r, addr_size, addr);
	return 1;
}

static void proxy_lookup_run(void *ctx)
{
	struct proxy *p = ctx;
	char addr[DIR_NODE_ADDR_MAX + 1];
	int r;

	pthread_rwlock_rdlock(&server->lock);
	str_copy(p->user, sizeof(p->user), server->cfg.proxy_user);
	str_copy(p->secret, sizeof(p->secret), server->cfg.proxy_secret);
	p->connect_timeout = server->cfg.proxy_connect_timeout;
	p->idle_timeout = p->proto == PROXY_IMAP
		? (server->cfg.imap_timeout > server->cfg.imap_idle_timeout
		   ? server->cfg.imap_timeout : server->cfg.imap_idle_timeout)
		: p->proto == PROXY_POP3 ? server->cfg.pop3_timeout : server->cfg.sieve_timeout;
	pthread_rwlock_unlock(&server->lock);
	p->idle_timeout += 60;	/* the node's own timeouts end a session first */
	proxy_source_address(p->source, sizeof(p->source));
	p->lookup_status = -1;
	r = proxy_node_find(server_directory(), p->address, p->proto, p->node, sizeof(p->node), addr, sizeof(addr),
			    p->why, sizeof(p->why));
	if (r == 0)
		snprintf(p->why, sizeof(p->why), "%s has no home node", p->address);
	if (r <= 0)
		return;
	if (proxy_resolve(p, addr) < 0) {
		snprintf(p->why, sizeof(p->why), "node %s has no usable %s address", p->node,
			 proxy_proto_name(p->proto));
		return;
	}
	/* the host of HOST:PORT or [V6]:PORT, the name its certificate shows */
	str_copy(p->host, sizeof(p->host), addr[0] == '[' ? addr + 1 : addr);
	if (addr[0] == '[')
		p->host[strcspn(p->host, "]")] = '\0';
	else if (strrchr(p->host, ':') != NULL)
		*strrchr(p->host, ':') = '\0';
	p->tls = proxy_tls_is_on();
	p->lookup_status = 0;
}

/* ---- the node: connecting and logging in ------------------------------- */

static void proxy_fail(struct proxy *p, const char *why)
{
	log_warn(p->sid, "proxy: %s for %s on node %s: %s", proxy_proto_name(p->proto),
		 p->address, p->node[0] ? p->node : "-", why);
	p->step = PROXY_FAILED;
	if (p->node_bev != NULL) {
		bufferevent_free(p->node_bev);
		p->node_bev = NULL;
	}
	p->ready(p->ctx, false, why);
}

static void proxy_send_login(struct proxy *p)
{
	char sasl[DIR_ADDRESS_MAX + 64 + 256 + 3], b64[(sizeof(sasl) + 2) / 3 * 4 + 1];
	size_t la = strlen(p->address), lu = strlen(p->user), ls = strlen(p->secret);
	struct evbuffer *out = bufferevent_get_output(p->node_bev);

	memcpy(sasl, p->address, la);
	sasl[la] = '\0';
	memcpy(sasl + la + 1, p->user, lu);
	sasl[la + 1 + lu] = '\0';
	memcpy(sasl + la + 2 + lu, p->secret, ls);
	base64_encode((const unsigned char *)sasl, la + 2 + lu + ls, b64);
	if (p->proto == PROXY_IMAP)
		evbuffer_add_printf(out, "P2 AUTHENTICATE PLAIN %s\r\n", b64);
	else if (p->proto == PROXY_SIEVE)
		evbuffer_add_printf(out, "AUTHENTICATE \"PLAIN\" \"%s\"\r\n", b64);
	else
		evbuffer_add_printf(out, "AUTH PLAIN %s\r\n", b64);
	explicit_bzero(sasl, sizeof(sasl));
	explicit_bzero(b64, sizeof(b64));
	p->step = PROXY_LOGIN;
}

/* Is line the node's positive answer? ManageSieve's untagged data lines
 * (capabilities in quotes) and IMAP's untagged or other tags' lines are
 * neither answer: *skip_r then. */
static bool proxy_line_ok(const struct proxy *p, const char *line, const char *tag, bool *skip_r)
{
	size_t n = strlen(tag);

	*skip_r = false;
	switch (p->proto) {
	case PROXY_IMAP:
		if (strncmp(line, tag, n) != 0 || line[n] != ' ') {
			*skip_r = true;
			return false;
		}
		return strncmp(line + n + 1, "OK", 2) == 0 && (line[n + 3] == ' ' || line[n + 3] == '\0');
	case PROXY_POP3:
		return strncmp(line, "+OK", 3) == 0;
	default:
		if (line[0] == '"') {
			*skip_r = true;
			return false;
		}
		return strncmp(line, "OK", 2) == 0 && (line[2] == ' ' || line[2] == '\0');
	}
}

/* The client's address for the node's logs and events (server/proxy.h). */
static void proxy_send_client(struct proxy *p)
{
	struct evbuffer *out = bufferevent_get_output(p->node_bev);

	if (p->proto == PROXY_IMAP)
		evbuffer_add_printf(out, "P1 ID (\"x-originating-ip\" \"%s\" \"x-originating-port\""
				    " \"%u\" \"x-session-id\" \"%s\")\r\n", p->client_ip, p->client_port, p->sid);
	else if (p->proto == PROXY_POP3)
		evbuffer_add_printf(out, "XCLIENT ADDR=%s PORT=%u\r\n", p->client_ip, p->client_port);
	else
		evbuffer_add_printf(out, "XCLIENT \"ADDR=%s\" \"PORT=%u\"\r\n", p->client_ip, p->client_port);
	p->step = PROXY_CLIENT;
}

static void proxy_node_read_login(struct bufferevent *bev, void *arg);
static void proxy_node_event_login(struct bufferevent *bev, short what, void *arg);

static void proxy_send_starttls(struct proxy *p)
{
	struct evbuffer *out = bufferevent_get_output(p->node_bev);

	evbuffer_add_printf(out, "%s\r\n", p->proto == PROXY_IMAP ? "P0 STARTTLS"
			    : p->proto == PROXY_POP3 ? "STLS" : "STARTTLS");
	p->step = PROXY_STARTTLS;
}

/* The node said yes to STARTTLS: the connection goes on through TLS, the
 * node's certificate checked (server/proxy_tls.c). 0, or -1. */
static int proxy_start_tls(struct proxy *p)
{
	struct ssl_st *ssl = proxy_tls_new(p->host, true);
	struct bufferevent *tls;
	struct timeval tv = { (time_t)p->connect_timeout, 0 };

	if (ssl == NULL)
		return -1;
	tls = bufferevent_openssl_filter_new(p->base, p->node_bev, ssl, BUFFEREVENT_SSL_CONNECTING,
					     BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
	if (tls == NULL) {
		SSL_free(ssl);
		return -1;
	}
	bufferevent_openssl_set_allow_dirty_shutdown(tls, 1);
	p->node_bev = tls;	/* the socket's bufferevent is under it now */
	p->step = PROXY_HANDSHAKE;
	bufferevent_setcb(tls, proxy_node_read_login, NULL, proxy_node_event_login, p);
	bufferevent_set_timeouts(tls, &tv, &tv);
	bufferevent_enable(tls, EV_READ | EV_WRITE);
	return 0;
}

/* One line of the node before the relay: 1 go on, 0 the exchange failed,
 * 2 stop reading (ready() ran, p may be gone: touch nothing; or the
 * connection became TLS). */
static int proxy_node_line(struct proxy *p, const char *line)
{
	bool skip, ok;

	switch (p->step) {
	case PROXY_GREETING:
		if (p->proto == PROXY_IMAP) {
			if (strncmp(line, "* OK", 4) != 0)
				return 0;
		} else if (!proxy_line_ok(p, line, "", &skip)) {
			return skip ? 1 : 0;
		}
		if (p->tls)
			proxy_send_starttls(p);
		else
			proxy_send_client(p);
		return 1;
	case PROXY_STARTTLS:
		ok = proxy_line_ok(p, line, "P0", &skip);
		if (skip)
			return 1;
		if (!ok || proxy_start_tls(p) < 0) {
			log_warn(p->sid, "proxy: node %s: no TLS (%s is on): %s", p->node,
				 settings_key(SETTING_CONF_PROXY_NODE_TLS), line);
			return 0;
		}
		return 2;
	case PROXY_TLS_GREETING:
		if (!proxy_line_ok(p, line, "", &skip))
			return skip ? 1 : 0;
		proxy_send_client(p);
		return 1;
	case PROXY_CLIENT:
		ok = proxy_line_ok(p, line, "P1", &skip);
		if (skip)
			return 1;	/* the untagged ID answer */
		if (!ok)
			return 0;
		proxy_send_login(p);
		return 1;
	case PROXY_LOGIN:
		ok = proxy_line_ok(p, line, "P2", &skip);
		if (skip)
			return 1;
		if (ok) {
			/* the text after "[tag ]OK " (or "+OK ") */
			line += p->proto == PROXY_IMAP ? 5 : p->proto == PROXY_POP3 ? 3 : 2;
			p->step = PROXY_RELAY;
			p->ready(p->ctx, true, line[0] == ' ' ? line + 1 : line);
			return 2;
		}
		log_warn(p->sid, "proxy: node %s refused the login of %s: %s", p->node, p->address, line);
		return 0;
	default:
		return 1;
	}
}

static void proxy_node_read_login(struct bufferevent *bev, void *arg)
{
	struct proxy *p = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	char *line;
	size_t len;

	while ((line = evbuffer_readln(in, &len, EVBUFFER_EOL_CRLF)) != NULL) {
		int r = len < PROXY_LINE_MAX ? proxy_node_line(p, line) : 0;

		explicit_bzero(line, len);
		free(line);
		if (r == 2)
			return;	/* what the node sent after its OK stays in `in` for the relay */
		if (r == 0) {
			proxy_fail(p, "the node refused the session");
			return;
		}
	}
	if (evbuffer_get_length(in) > PROXY_LINE_MAX)
		proxy_fail(p, "the node sent an overlong line");
}

static void proxy_node_event_login(struct bufferevent *bev, short what, void *arg)
{
	struct proxy *p = arg;

	if (what & BEV_EVENT_CONNECTED) {
		if (p->step != PROXY_HANDSHAKE)
			return;	/* the socket's connection; the greeting comes next */
		/* TLS is up: ManageSieve says its capabilities again (RFC 5804
		 * 2.2), IMAP and POP3 wait for the next command */
		if (p->proto == PROXY_SIEVE)
			p->step = PROXY_TLS_GREETING;
		else
			proxy_send_client(p);
		return;
	}
	proxy_fail(p, (what & BEV_EVENT_TIMEOUT) ? "the node did not answer in time"
		   : p->step == PROXY_HANDSHAKE ? "TLS with the node failed (its certificate or name?)"
		   : (what & BEV_EVENT_EOF) ? "the node closed the connection" : "the node is unreachable");
}

/* A socket for the node, bound to the proxy's own listen address when it
 * has one (the nodes trust the proxies by address: proxy.trusted); -1
 * lets libevent make an unbound one. */
static evutil_socket_t proxy_socket(struct proxy *p)
{
	struct sockaddr_storage src;
	int srclen = sizeof(src);
	evutil_socket_t fd;

	if (p->source[0] == '\0' ||
	    evutil_parse_sockaddr_port(p->source, (struct sockaddr *)&src, &srclen) < 0 ||
	    src.ss_family != p->sa.ss_family)
		return -1;
	fd = socket(p->sa.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -1;
	if (bind(fd, (struct sockaddr *)&src, (socklen_t)srclen) < 0) {
		log_warn(p->sid, "proxy: cannot use %s as the source address: %s", p->source, strerror(errno));
		evutil_closesocket(fd);
		return -1;
	}
	return fd;
}

static void proxy_lookup_done(void *ctx)
{
	struct proxy *p = ctx;
	struct timeval tv = { (time_t)p->connect_timeout, 0 };

	if (p->abandoned) {
		proxy_wipe_free(p);
		return;
	}
	if (p->lookup_status < 0) {
		proxy_fail(p, p->why);
		return;
	}
	p->node_bev = bufferevent_socket_new(p->base, proxy_socket(p), BEV_OPT_CLOSE_ON_FREE);
	if (p->node_bev == NULL) {
		proxy_fail(p, "out of memory");
		return;
	}
	p->step = PROXY_GREETING;
	bufferevent_setcb(p->node_bev, proxy_node_read_login, NULL, proxy_node_event_login, p);
	bufferevent_set_timeouts(p->node_bev, &tv, &tv);
	bufferevent_enable(p->node_bev, EV_READ | EV_WRITE);
	if (bufferevent_socket_connect(p->node_bev, (struct sockaddr *)&p->sa, (int)p->salen) < 0) {
		proxy_fail(p, "the node is unreachable");
		return;
	}
	setsockopt(bufferevent_getfd(p->node_bev), IPPROTO_TCP, TCP_NODELAY, &(int){ 1 }, sizeof(int));
}

struct proxy *proxy_start(struct conn *c, enum proxy_proto proto, const char *address,
			  proxy_ready_fn *ready, void *ctx)
{
	struct proxy *p = calloc(1, sizeof(*p));

	if (p == NULL)
		return NULL;
	p->c = c;
	p->base = c->loop->base;
	p->proto = proto;
	p->ready = ready;
	p->ctx = ctx;
	str_copy(p->address, sizeof(p->address), address);
	str_copy(p->client_ip, sizeof(p->client_ip), c->ip);
	p->client_port = c->port;
	str_copy(p->sid, sizeof(p->sid), c->sid);
	p->step = PROXY_LOOKUP;
	worker_pool_submit(server->workers, p->base, proxy_lookup_run, proxy_lookup_done, p);
	return p;
}

void proxy_free(struct proxy *p)
{
	if (p == NULL)
		return;
	if (p->step == PROXY_LOOKUP) {
		p->abandoned = true;	/* freed when the lookup returns */
		return;
	}
	proxy_wipe_free(p);
}

/* ---- the relay --------------------------------------------------------- */

static void proxy_client_read(struct conn *c);

/* Node -> client, unless the client's output is full. */
static void proxy_node_read(struct bufferevent *bev, void *arg)
{
	struct proxy *p = arg;

	evbuffer_add_buffer(bufferevent_get_output(p->c->bev), bufferevent_get_input(bev));
	if (conn_output_pending(p->c) >= PROXY_BUF_HIGH)
		bufferevent_disable(bev, EV_READ);
}

/* The client took its output: read the node again. */
static void proxy_client_drained(struct conn *c)
{
	struct proxy *p = c->session;

	if (p->node_bev == NULL)
		return;
	bufferevent_enable(p->node_bev, EV_READ);
	if (evbuffer_get_length(bufferevent_get_input(p->node_bev)) > 0)
		proxy_node_read(p->node_bev, p);
}

/* The node took its input: read the client again. */
static void proxy_node_drained(struct bufferevent *bev, void *arg)
{
	struct proxy *p = arg;

	if (p->c->paused)
		conn_resume(p->c);
}

static void proxy_node_event(struct bufferevent *bev, short what, void *arg)
{
	struct proxy *p = arg;

	if (what & BEV_EVENT_CONNECTED)
		return;
	/* the node ended the session (LOGOUT, QUIT, its timeout, its end):
	 * the client gets what it sent, then the close */
	evbuffer_add_buffer(bufferevent_get_output(p->c->bev), bufferevent_get_input(bev));
	log_info(p->sid, "proxy: node %s ended the session of %s", p->node, p->address);
	bufferevent_free(p->node_bev);
	p->node_bev = NULL;
	conn_finish(p->c);
}

/* Client -> node, unless the node's input is full. */
static void proxy_client_read(struct conn *c)
{
	struct proxy *p = c->session;
	struct evbuffer *out;

	if (p->node_bev == NULL) {
		evbuffer_drain(conn_input(c), evbuffer_get_length(conn_input(c)));
		return;
	}
	out = bufferevent_get_output(p->node_bev);
	evbuffer_add_buffer(out, conn_input(c));
	if (evbuffer_get_length(out) >= PROXY_BUF_HIGH)
		conn_pause(c);
}

static void proxy_client_timeout(struct conn *c)
{
	struct proxy *p = c->session;

	log_info(c->sid, "proxy: %s idle, closing the session of %s", c->ip, p->address);
	conn_finish(c);
}

static void proxy_client_shutdown(struct conn *c)
{
	conn_finish(c);
}

static void proxy_client_free(struct conn *c)
{
	proxy_wipe_free(c->session);
}

static const struct conn_ops proxy_conn_ops = {
	.on_read = proxy_client_read,
	.on_timeout = proxy_client_timeout,
	.on_shutdown = proxy_client_shutdown,
	.on_free = proxy_client_free,
};

static void proxy_relay_start_node(struct proxy *p)
{
	bufferevent_setcb(p->node_bev, proxy_node_read, proxy_node_drained, proxy_node_event, p);
	bufferevent_setwatermark(p->node_bev, EV_WRITE, PROXY_BUF_LOW, 0);
	bufferevent_set_timeouts(p->node_bev, NULL, NULL);
	bufferevent_enable(p->node_bev, EV_READ | EV_WRITE);
}

void proxy_relay(struct proxy *p)
{
	struct conn *c = p->c;

	explicit_bzero(p->secret, sizeof(p->secret));
	conn_deadline_clear(c);
	c->ops = &proxy_conn_ops;
	c->session = p;
	conn_set_timeout(c, p->idle_timeout);
	conn_set_drain_cb(c, proxy_client_drained, PROXY_BUF_LOW);
	proxy_relay_start_node(p);
	log_info(p->sid, "proxy: %s of %s from %s relayed to node %s", proxy_proto_name(p->proto),
		 p->address, p->client_ip, p->node);
	if (evbuffer_get_length(bufferevent_get_input(p->node_bev)) > 0)
		proxy_node_read(p->node_bev, p);
	conn_resume(c);
}
