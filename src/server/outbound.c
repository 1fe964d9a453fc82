/* Outbound SMTP client (RFC 5321 as a client). Blocking sockets with
 * per-command timeouts from RFC 5321 4.5.3.2 (SO_RCVTIMEO/SO_SNDTIMEO),
 * OpenSSL on the same socket after STARTTLS. Runs only on the queue's
 * delivery threads. */
#include "server/outbound.h"
#include "server/outbound_sts.h"
#include "proto/smtp_client.h"
#include "lib/dns.h"
#include "lib/log.h"
#include "lib/str.h"
#include "lib/strbuf.h"
#include "settings/settings.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* RFC 5321 4.5.3.2 minimum timeouts, seconds. */
enum {
	TIMEOUT_CONNECT = 30,	/* not in the RFC: Postfix's smtp_connect_timeout */
	TIMEOUT_GREETING = 300,
	TIMEOUT_MAIL = 300,
	TIMEOUT_RCPT = 300,
	TIMEOUT_DATA_INIT = 120,
	TIMEOUT_DATA_BLOCK = 180,
	TIMEOUT_DATA_TERM = 600,
	TIMEOUT_OTHER = 300,
};

#define MAX_HOSTS 10
#define MAX_ADDRS 10

struct outbound_conn {
	int fd;
	SSL *ssl;
	bool broken;			/* connection unusable */
	bool in_tx;			/* a transaction needs RSET */
	bool unanswered;		/* broke before any reply to this MAIL */
	unsigned sent;			/* transactions begun on it */
	time_t opened;
	unsigned timeout;		/* the socket's, seconds (0: unset) */
	char host[DNS_NAME_MAX];
	char addr[64];
	struct smtp_ehlo ehlo;
	char rbuf[8192];
	size_t rpos, rlen;
	char err[256];			/* why broken */
	const struct outbound_sts *sts;	/* while opening: the policy, or NULL */
};

static SSL_CTX *client_ctx;

void outbound_start(const char *ca_file)
{
	client_ctx = SSL_CTX_new(TLS_client_method());
	if (client_ctx == NULL)
		log_fatal("outbound: cannot make the TLS client context");
	SSL_CTX_set_min_proto_version(client_ctx, TLS1_2_VERSION);
	/* opportunistic TLS (RFC 7435): encrypt, never refuse to deliver
	 * because of the certificate, like Postfix's
	 * smtp_tls_security_level = may */
	SSL_CTX_set_verify(client_ctx, SSL_VERIFY_NONE, NULL);
	/* the chain is still checked, its result read after the handshake
	 * where an MTA-STS policy asks for it (tls_cert_result) */
	if (ca_file != NULL && ca_file[0] != '\0' ? SSL_CTX_load_verify_locations(client_ctx, ca_file, NULL) != 1
	    : SSL_CTX_set_default_verify_paths(client_ctx) != 1) {
		log_warn(NULL, "outbound: cannot load the CAs %s: MTA-STS certificates will not validate",
			 ca_file != NULL && ca_file[0] != '\0' ? ca_file : "of the system");
		ERR_clear_error();
	}
}

void outbound_stop(void)
{
	SSL_CTX_free(client_ctx);
	client_ctx = NULL;
}

static void set_timeout(struct outbound_conn *c, unsigned secs)
{
	struct timeval tv = { (time_t)secs, 0 };

	if (c->timeout == secs)
		return;	/* two system calls saved per command */
	setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	c->timeout = secs;
}

static void conn_break(struct outbound_conn *c, const char *why)
{
	if (!c->broken)
		snprintf(c->err, sizeof(c->err), "%s", why);
	c->broken = true;
}

static int conn_write(struct outbound_conn *c, const char *buf, size_t len)
{
	while (len > 0 && !c->broken) {
		ssize_t n;
		if (c->ssl != NULL) {
			int k = SSL_write(c->ssl, buf, len > INT32_MAX ? INT32_MAX : (int)len);
			n = k > 0 ? k : -1;
		} else {
			n = send(c->fd, buf, len, MSG_NOSIGNAL);
			if (n < 0 && errno == EINTR)
				continue;
		}
		if (n <= 0) {
			conn_break(c, errno == EAGAIN ? "timeout while sending" : "lost connection while sending");
			return -1;
		}
		buf += n;
		len -= (size_t)n;
	}
	return c->broken ? -1 : 0;
}

/* One line without CRLF into line (truncated to size-1). */
static int conn_readline(struct outbound_conn *c, char *line, size_t size, size_t *len_r)
{
	size_t n = 0;

	for (;;) {
		while (c->rpos < c->rlen) {
			char ch = c->rbuf[c->rpos++];
			if (ch == '\n') {
				if (n > 0 && line[n - 1] == '\r')
					n--;
				line[n] = '\0';
				*len_r = n;
				return 0;
			}
			if (n + 1 < size)
				line[n++] = ch;
		}
		if (c->broken)
			return -1;
		{
			ssize_t r;
			if (c->ssl != NULL) {
				int k = SSL_read(c->ssl, c->rbuf, sizeof(c->rbuf));
				r = k > 0 ? k : -1;
			} else {
				do
					r = recv(c->fd, c->rbuf, sizeof(c->rbuf), 0);
				while (r < 0 && errno == EINTR);
			}
			if (r <= 0) {
				conn_break(c, r < 0 && errno == EAGAIN ? "timeout" : "lost connection");
				return -1;
			}
			c->rpos = 0;
			c->rlen = (size_t)r;
		}
	}
}

/* Reads a whole reply; -1 (connection broken) or 0. */
static int conn_reply(struct outbound_conn *c, struct smtp_reply *r, unsigned timeout)
{
	char line[1024];
	size_t len;
	const char *error;

	smtp_reply_init(r);
	set_timeout(c, timeout);
	for (;;) {
		int k;
		if (conn_readline(c, line, sizeof(line), &len) < 0)
			return -1;
		k = smtp_reply_feed(r, line, len, &error);
		if (k < 0) {
			conn_break(c, "malformed reply from the server");
			return -1;
		}
		if (k == 1)
			return 0;
		if (r->lines > 200) {
			conn_break(c, "reply too long");
			return -1;
		}
	}
}

static int conn_cmd(struct outbound_conn *c, struct smtp_reply *r, unsigned timeout, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int conn_cmd(struct outbound_conn *c, struct smtp_reply *r, unsigned timeout, const char *fmt, ...)
{
	char buf[1100];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf) - 2, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(buf) - 2)
		return -1;
	memcpy(buf + n, "\r\n", 3);
	set_timeout(c, timeout);
	if (conn_write(c, buf, (size_t)n + 2) < 0)
		return -1;
	return conn_reply(c, r, timeout);
}

/* "host H[A] said: 550 5.1.1 text (in reply to CMD)" with the code first,
 * as every recorded result starts with a reply code. */
static void reply_text(const struct outbound_conn *c, const struct smtp_reply *r, const char *cmd,
		       char *buf, size_t size)
{
	char one[1024];

	smtp_reply_format(r, one, sizeof(one));
	snprintf(buf, size, "%s (host %s[%s], in reply to %s)", one, c->host, c->addr, cmd);
}

static void broken_text(const struct outbound_conn *c, const char *during, char *buf, size_t size)
{
	snprintf(buf, size, "451 4.4.2 %s with %s[%s] %s", c->err[0] != '\0' ? c->err : "lost connection",
		 c->host, c->addr, during);
}

static int tcp_connect(const struct dns_addr *a, char *err, size_t errsize)
{
	int fd = socket(a->ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	struct pollfd pfd;
	int soerr = 0, one = 1;
	socklen_t sl = sizeof(soerr);

	if (fd < 0) {
		snprintf(err, errsize, "socket: %s", strerror(errno));
		return -1;
	}
	if (connect(fd, (const struct sockaddr *)&a->ss, a->len) < 0 && errno != EINPROGRESS) {
		snprintf(err, errsize, "%s", strerror(errno));
		close(fd);
		return -1;
	}
	pfd.fd = fd;
	pfd.events = POLLOUT;
	if (poll(&pfd, 1, TIMEOUT_CONNECT * 1000) <= 0) {
		snprintf(err, errsize, "connection timed out");
		close(fd);
		return -1;
	}
	getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl);
	if (soerr != 0) {
		snprintf(err, errsize, "%s", strerror(soerr));
		close(fd);
		return -1;
	}
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
}

static int conn_ehlo(struct outbound_conn *c, const struct outbound_opts *o, struct smtp_reply *r)
{
	if (conn_cmd(c, r, TIMEOUT_OTHER, "EHLO %s", o->hostname) < 0)
		return -1;
	if (r->code / 100 == 2) {
		smtp_ehlo_parse(&c->ehlo, r);
		return 0;
	}
	memset(&c->ehlo, 0, sizeof(c->ehlo));
	if (conn_cmd(c, r, TIMEOUT_OTHER, "HELO %s", o->hostname) < 0)
		return -1;
	return r->code / 100 == 2 ? 0 : -1;
}

static int conn_starttls(struct outbound_conn *c, const struct outbound_opts *o, struct smtp_reply *r)
{
	SSL_CTX *ctx = client_ctx;

	if (conn_cmd(c, r, TIMEOUT_OTHER, "STARTTLS") < 0 || r->code != 220 || ctx == NULL)
		return -1;
	c->ssl = SSL_new(ctx);
	if (c->ssl == NULL)
		return -1;
	SSL_set_fd(c->ssl, c->fd);
	if (c->host[0] != '\0' && inet_addr(c->host) == INADDR_NONE)
		SSL_set_tlsext_host_name(c->ssl, c->host);
	if (c->sts != NULL && c->sts->active)
		SSL_set1_host(c->ssl, c->host);	/* RFC 8461 §4.2: the MX host name */
	set_timeout(c, TIMEOUT_OTHER);
	if (SSL_connect(c->ssl) != 1) {
		ERR_clear_error();
		conn_break(c, "TLS handshake failed");
		return -1;
	}
	c->rpos = c->rlen = 0;
	return conn_ehlo(c, o, r);
}

static int conn_auth(struct outbound_conn *c, const struct outbound_opts *o, struct smtp_reply *r)
{
	size_t ulen = strlen(o->user), plen = strlen(o->password);
	unsigned char raw[600];
	char b64[820];
	int k;

	if (c->ssl == NULL)
		return -2;	/* never send a password in the clear */
	if (c->ehlo.auth_plain) {
		if (ulen + plen + 2 > sizeof(raw))
			return -1;
		raw[0] = '\0';
		memcpy(raw + 1, o->user, ulen);
		raw[1 + ulen] = '\0';
		memcpy(raw + 2 + ulen, o->password, plen);
		base64_encode(raw, ulen + plen + 2, b64);
		k = conn_cmd(c, r, TIMEOUT_OTHER, "AUTH PLAIN %s", b64);
	} else if (c->ehlo.auth_login) {
		base64_encode((const unsigned char *)o->user, ulen, b64);
		k = conn_cmd(c, r, TIMEOUT_OTHER, "AUTH LOGIN %s", b64);
		if (k == 0 && r->code == 334) {
			base64_encode((const unsigned char *)o->password, plen, b64);
			k = conn_cmd(c, r, TIMEOUT_OTHER, "%s", b64);
		}
	} else {
		return -3;
	}
	explicit_bzero(raw, sizeof(raw));
	explicit_bzero(b64, sizeof(b64));
	return k == 0 && r->code / 100 == 2 ? 0 : -1;
}

/* Parses smtp.relayhost: "host", "host:port", "[host]", "[host]:port".
 * Brackets mean no MX lookup, as in Postfix. */
static int relay_parse(const char *spec, char *host, size_t size, unsigned *port, bool *mx)
{
	const char *colon;

	*mx = spec[0] != '[';
	if (spec[0] == '[') {
		const char *end = strchr(spec, ']');
		if (end == NULL || str_copyn(host, size, spec + 1, (size_t)(end - spec - 1)) < 0)
			return -1;
		colon = end[1] == ':' ? end + 1 : NULL;
	} else {
		colon = strrchr(spec, ':');
		if (str_copyn(host, size, spec, colon != NULL ? (size_t)(colon - spec) : strlen(spec)) < 0)
			return -1;
	}
	if (colon != NULL) {
		uint64_t p;
		if (str_parse_uint(colon + 1, 65535, &p) < 0 || p == 0)
			return -1;
		*port = (unsigned)p;
	}
	return 0;
}

static void addr_text(const struct dns_addr *a, char *buf, size_t size)
{
	if (a->ss.ss_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)&a->ss)->sin6_addr, buf, (socklen_t)size);
	else
		inet_ntop(AF_INET, &((const struct sockaddr_in *)&a->ss)->sin_addr, buf, (socklen_t)size);
}

/* The RFC 8460 result of the certificate check of a TLS session (the
 * chain against mta_sts.ca_file, the name against the MX host), or NULL
 * when it passed. */
static const char *tls_cert_result(SSL *ssl)
{
	long v = SSL_get0_peer_certificate(ssl) != NULL ? SSL_get_verify_result(ssl)
		: X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT;

	switch (v) {
	case X509_V_OK:
		return NULL;
	case X509_V_ERR_HOSTNAME_MISMATCH:
		return STS_RESULT_HOST_MISMATCH;
	case X509_V_ERR_CERT_HAS_EXPIRED:
	case X509_V_ERR_CERT_NOT_YET_VALID:
		return STS_RESULT_EXPIRED;
	default:
		return STS_RESULT_NOT_TRUSTED;
	}
}

/* STARTTLS as the policy (c->sts, or none: opportunistic) wants it. 0 go
 * on (result says how TLS went: "" when not tried), -1 fail with why
 * (*retry_plain when the mail may go again in the clear). */
static int tls_negotiate(struct outbound_conn *c, const struct outbound_opts *o, bool tls_ok, char *result,
			 size_t rsize, char *why, size_t whysize, bool *retry_plain)
{
	const struct outbound_sts *sts = c->sts != NULL && c->sts->active ? c->sts : NULL;
	bool enforce = sts != NULL && sts->enforce;
	struct smtp_reply r;
	const char *bad;

	if (!tls_ok || c->ssl != NULL)
		return 0;
	if (!c->ehlo.starttls) {
		str_copy(result, rsize, STS_RESULT_NO_STARTTLS);
		if (!enforce)
			return 0;
		snprintf(why, whysize, "451 4.7.5 %s[%s] offers no STARTTLS, which the MTA-STS policy of %s"
			 " requires", c->host, c->addr, sts->domain);
		return -1;
	}
	if (conn_starttls(c, o, &r) < 0) {
		str_copy(result, rsize, STS_RESULT_VALIDATION);
		/* a broken TLS server still gets its mail, in the clear, on
		 * a new connection (Postfix does the same), unless enforced */
		*retry_plain = !enforce;
		if (enforce)
			snprintf(why, whysize, "451 4.7.5 STARTTLS with %s[%s] failed, and the MTA-STS policy of %s"
				 " requires TLS", c->host, c->addr, sts->domain);
		else
			snprintf(why, whysize, "451 4.4.2 STARTTLS with %s[%s] failed", c->host, c->addr);
		return -1;
	}
	bad = sts != NULL ? tls_cert_result(c->ssl) : NULL;
	str_copy(result, rsize, bad != NULL ? bad : STS_RESULT_SUCCESS);
	if (bad != NULL && enforce) {
		snprintf(why, whysize, "451 4.7.5 the certificate of %s[%s] does not validate (%s), which the"
			 " MTA-STS policy of %s requires", c->host, c->addr, bad, sts->domain);
		return -1;
	}
	return 0;
}

/* Tries one address; a session ready for MAIL, or NULL with why. result:
 * the TLS result for the day's report ("" when TLS was not considered). */
static struct outbound_conn *try_addr(const struct outbound_opts *o, const char *host,
				      const struct dns_addr *a, bool relay, bool tls_ok,
				      bool implicit_tls, const struct outbound_sts *sts, char *result, size_t rsize,
				      char *why, size_t whysize, bool *retry_plain)
{
	struct outbound_conn *c = calloc(1, sizeof(*c));
	struct smtp_reply r;
	char err[256], tmp[1200];

	*retry_plain = false;
	result[0] = '\0';
	if (c == NULL)
		return NULL;
	str_copy(c->host, sizeof(c->host), host);
	c->sts = sts;
	addr_text(a, c->addr, sizeof(c->addr));
	c->fd = tcp_connect(a, err, sizeof(err));
	if (c->fd < 0) {
		snprintf(why, whysize, "451 4.4.1 connect to %s[%s]: %s", host, c->addr, err);
		free(c);
		return NULL;
	}
	if (implicit_tls) {
		SSL_CTX *ctx = client_ctx;
		c->ssl = ctx != NULL ? SSL_new(ctx) : NULL;
		set_timeout(c, TIMEOUT_GREETING);
		if (c->ssl == NULL || SSL_set_fd(c->ssl, c->fd) != 1 || SSL_connect(c->ssl) != 1) {
			ERR_clear_error();
			snprintf(why, whysize, "451 4.4.2 TLS handshake with %s[%s] failed", host, c->addr);
			goto fail;
		}
	}
	if (conn_reply(c, &r, TIMEOUT_GREETING) < 0) {
		broken_text(c, "while receiving the initial server greeting", why, whysize);
		goto fail;
	}
	if (r.code != 220) {
		reply_text(c, &r, "the greeting", tmp, sizeof(tmp));
		/* a refusing greeting: try the next host, defer if none */
		snprintf(why, whysize, "451 4.4.2 %s", tmp);
		goto fail;
	}
	if (conn_ehlo(c, o, &r) < 0) {
		if (c->broken)
			broken_text(c, "while sending EHLO", why, whysize);
		else
			reply_text(c, &r, "EHLO", why, whysize);
		goto fail;
	}
	if (!relay && tls_negotiate(c, o, tls_ok, result, rsize, why, whysize, retry_plain) < 0)
		goto fail;
	if (relay && c->ehlo.starttls && c->ssl == NULL && tls_ok && conn_starttls(c, o, &r) < 0) {
		*retry_plain = true;
		snprintf(why, whysize, "451 4.4.2 STARTTLS with %s[%s] failed", host, c->addr);
		goto fail;
	}
	if (relay && o->user[0] != '\0') {
		int k = conn_auth(c, o, &r);
		if (k == -2) {
			snprintf(why, whysize, "451 4.7.0 relay host %s[%s] offers no STARTTLS: password not sent",
				 host, c->addr);
			goto fail;
		}
		if (k == -3) {
			snprintf(why, whysize, "451 4.7.0 relay host %s[%s] offers no AUTH PLAIN or LOGIN",
				 host, c->addr);
			goto fail;
		}
		if (k < 0) {
			if (c->broken)
				broken_text(c, "during AUTH", why, whysize);
			else {
				reply_text(c, &r, "AUTH", tmp, sizeof(tmp));
				/* like Postfix's smtp_sasl_auth_soft_bounce: defer */
				snprintf(why, whysize, "451 4.7.0 authentication failed: %s", tmp);
			}
			goto fail;
		}
	}
	log_info(NULL, "outbound: connected to %s[%s]%s%s%s", host, c->addr, c->ssl != NULL ? " with TLS" : "",
		 result[0] != '\0' ? ", " : "", result);
	c->opened = time(NULL);
	c->sts = NULL;
	return c;
fail:
	if (c->ssl != NULL)
		SSL_free(c->ssl);
	close(c->fd);
	free(c);
	return NULL;
}

/* Whether the policy lets mail go to MX host (recorded when it does not). */
static bool sts_host_allowed(const struct outbound_sts *sts, const char *target, const char *host, bool *failed)
{
	if (!sts->active || mta_sts_policy_allows(&sts->policy, host))
		return true;
	*failed = true;
	outbound_sts_record(target, sts, STS_RESULT_VALIDATION, host, "");
	return !sts->enforce;	/* testing: deliver as before, and report */
}

/* Each MX host in turn, each of its addresses, until one takes the
 * session; under an enforce MTA-STS policy (RFC 8461 §5) only the hosts
 * it names and only over TLS with a valid certificate, else 4xx. */
static struct outbound_conn *open_hosts(const struct outbound_opts *o, const char *target, const struct dns_mx *mx,
					size_t nmx, unsigned port, bool relay, bool use_mx, char *reply, size_t size)
{
	struct outbound_sts sts;
	struct outbound_conn *c = NULL;
	const char *error = "";
	bool sts_failed = false;
	char result[40], ip[64];

	memset(&sts, 0, sizeof(sts));
	if (!relay && use_mx && o->sts) {
		outbound_sts_lookup(o->resolver, o->sts_ca_file, target, &sts);
		if (sts.fetch_error) {
			outbound_sts_record(target, &sts, STS_RESULT_FETCH, "", "");
			outbound_sts_event("mta-sts-fetch-failed", sts.domain, sts.detail);
		}
	}
	snprintf(reply, size, "451 4.4.4 no mail exchanger for %s could be reached", target);
	for (size_t i = 0; i < nmx && i < MAX_HOSTS && c == NULL; i++) {
		struct dns_addr addrs[MAX_ADDRS];
		size_t naddrs = 0;
		enum dns_result res;

		if (!sts_host_allowed(&sts, target, mx[i].host, &sts_failed)) {
			snprintf(reply, size, "451 4.7.5 MX host %s is not allowed by the MTA-STS policy of %s",
				 mx[i].host, sts.domain);
			continue;
		}
		res = dns_addr_lookup(o->resolver, mx[i].host, port, addrs, MAX_ADDRS, &naddrs, &error);
		if (res != DNS_OK) {
			if (nmx == 1 && res == DNS_NXDOMAIN && !use_mx)
				snprintf(reply, size, "550 5.1.2 Host or domain name not found: %s", mx[i].host);
			else
				snprintf(reply, size, "451 4.4.3 cannot find the address of %s: %s", mx[i].host, error);
			continue;
		}
		for (size_t k = 0; k < naddrs && c == NULL; k++) {
			bool retry_plain;
			bool implicit = relay && port == 465;
			c = try_addr(o, mx[i].host, &addrs[k], relay, true, implicit, relay ? NULL : &sts, result,
				     sizeof(result), reply, size, &retry_plain);
			if (!relay && result[0] != '\0') {
				addr_text(&addrs[k], ip, sizeof(ip));
				outbound_sts_record(target, &sts, result, mx[i].host, ip);
				sts_failed |= sts.active && strcmp(result, STS_RESULT_SUCCESS) != 0;
			}
			if (c == NULL && retry_plain && !(relay && o->user[0] != '\0'))
				c = try_addr(o, mx[i].host, &addrs[k], relay, false, false, NULL, result, sizeof(result),
					     reply, size, &retry_plain);
		}
	}
	if (sts_failed && c == NULL && sts.enforce)
		outbound_sts_event("mta-sts-deferred", sts.domain, reply);
	else if (sts_failed && c != NULL)
		outbound_sts_event("mta-sts-testing", sts.domain, "delivered without a valid MTA-STS session");
	return c;
}

struct outbound_conn *outbound_open(const struct outbound_opts *o, const char *domain, char *reply,
				    size_t size)
{
	struct dns_mx *mx = NULL;
	size_t nmx = 0;
	bool relay = o->relayhost[0] != '\0', use_mx = true;
	char target[DNS_NAME_MAX];
	unsigned port = o->port;
	const char *error = "";
	struct outbound_conn *c = NULL;

	if (relay) {
		port = 25;
		if (relay_parse(o->relayhost, target, sizeof(target), &port, &use_mx) < 0) {
			snprintf(reply, size, "451 4.3.5 bad %s setting", settings_key(SETTING_CONF_SMTP_RELAYHOST));
			return NULL;
		}
	} else if (domain[0] == '[') {
		/* an address literal: no lookup */
		const char *end = strchr(domain, ']');
		const char *lit = strncasecmp(domain, "[IPv6:", 6) == 0 ? domain + 6 : domain + 1;
		if (end == NULL || str_copyn(target, sizeof(target), lit, (size_t)(end - lit)) < 0) {
			snprintf(reply, size, "550 5.1.2 bad address literal %s", domain);
			return NULL;
		}
		use_mx = false;
	} else {
		str_copy(target, sizeof(target), domain);
	}
	if (use_mx) {
		enum dns_result res = dns_mx_lookup(o->resolver, target, &mx, &nmx, &error);
		if (res == DNS_NXDOMAIN) {
			snprintf(reply, size, "550 5.1.2 Host or domain name not found: %s (%s)", target, error);
			return NULL;
		}
		if (res == DNS_TEMPFAIL) {
			snprintf(reply, size, "451 4.4.3 Host or domain name lookup failed for %s: %s", target, error);
			return NULL;
		}
		if (res == DNS_OK && nmx == 1 && mx[0].host[0] == '\0') {
			free(mx);
			snprintf(reply, size, "556 5.1.10 %s does not accept mail (null MX)", target);
			return NULL;
		}
	}
	if (nmx == 0) {
		/* no MX: the domain itself is the implicit MX (RFC 5321 5.1) */
		free(mx);
		mx = calloc(1, sizeof(*mx));
		if (mx == NULL) {
			snprintf(reply, size, "451 4.3.0 out of memory");
			return NULL;
		}
		str_copy(mx[0].host, sizeof(mx[0].host), target);
		nmx = 1;
	}
	c = open_hosts(o, target, mx, nmx, port, relay, use_mx, reply, size);
	free(mx);
	if (c == NULL)
		log_info(NULL, "outbound: %s: %s", relay ? o->relayhost : domain, reply);
	else
		reply[0] = '\0';	/* no failure to remember: a later reconnect is tried */
	return c;
}

bool outbound_is_usable(const struct outbound_conn *c)
{
	return c != NULL && !c->broken;
}

/* An idle connection has nothing to read: the server speaks only when
 * asked. Readable (a 421 before it closes, or the end of the stream) or
 * a socket error means the server gave up on it. */
bool outbound_is_alive(struct outbound_conn *c)
{
	struct pollfd pfd = { .fd = c->fd, .events = POLLIN };

	if (c->broken || c->in_tx || c->rpos < c->rlen || (c->ssl != NULL && SSL_pending(c->ssl) > 0))
		return false;
	if (poll(&pfd, 1, 0) != 0) {
		conn_break(c, "closed by the server while idle");
		return false;
	}
	return true;
}

unsigned outbound_sent(const struct outbound_conn *c)
{
	return c->sent;
}

time_t outbound_opened(const struct outbound_conn *c)
{
	return c->opened;
}

/* Scans the message for 8-bit bytes (BODY=8BITMIME). */
static bool file_has_8bit(int fd, uint64_t off, uint64_t len)
{
	char buf[65536];

	while (len > 0) {
		ssize_t n = pread(fd, buf, len < sizeof(buf) ? len : sizeof(buf), (off_t)off);
		if (n <= 0)
			return false;
		for (ssize_t i = 0; i < n; i++) {
			if ((unsigned char)buf[i] >= 0x80)
				return true;
		}
		off += (uint64_t)n;
		len -= (uint64_t)n;
	}
	return false;
}

/* Streams the message with dot-stuffing and the final ".". */
static int send_body(struct outbound_conn *c, int fd, uint64_t off, uint64_t len)
{
	char in[65536];
	struct strbuf out;
	bool bol = true;
	char last[2] = { '\r', '\n' };

	strbuf_init(&out);
	set_timeout(c, TIMEOUT_DATA_BLOCK);
	while (len > 0) {
		ssize_t n = pread(fd, in, len < sizeof(in) ? len : sizeof(in), (off_t)off);
		if (n <= 0) {
			strbuf_free(&out);
			conn_break(c, "cannot read the queue file");
			return -1;
		}
		strbuf_truncate(&out, 0);
		for (const char *p = in, *end = in + n; p < end;) {
			/* one line (or the chunk's rest) at a time */
			const char *nl = memchr(p, '\n', (size_t)(end - p));
			const char *stop = nl != NULL ? nl + 1 : end;

			if (bol && *p == '.')
				strbuf_append_c(&out, '.');
			strbuf_append(&out, p, (size_t)(stop - p));
			bol = nl != NULL;
			p = stop;
		}
		last[0] = n >= 2 ? in[n - 2] : last[1];
		last[1] = in[n - 1];
		if (conn_write(c, out.data, out.len) < 0) {
			strbuf_free(&out);
			return -1;
		}
		off += (uint64_t)n;
		len -= (uint64_t)n;
	}
	strbuf_free(&out);
	if (last[0] == '\r' && last[1] == '\n')
		return conn_write(c, ".\r\n", 3);
	return conn_write(c, "\r\n.\r\n", 5);
}

int outbound_send(struct outbound_conn *c, const struct queue_env *env, const char *path,
		  const size_t *idx, size_t n, char (*replies)[QUEUE_REPLY_MAX])
{
	struct smtp_reply r;
	struct strbuf cmds;
	char params[128] = "", tmp[QUEUE_REPLY_MAX];
	bool *accepted = calloc(n > 0 ? n : 1, sizeof(bool));
	size_t naccepted = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	bool pipelined = c->ehlo.pipelining;

	for (size_t i = 0; i < n; i++)
		replies[i][0] = '\0';
	if (fd < 0 || accepted == NULL) {
		for (size_t i = 0; i < n; i++)
			snprintf(replies[i], QUEUE_REPLY_MAX, "451 4.3.0 cannot read the queue file");
		goto out;
	}
	if (c->ehlo.size && c->ehlo.size_max > 0 && env->body_len > c->ehlo.size_max) {
		for (size_t i = 0; i < n; i++)
			snprintf(replies[i], QUEUE_REPLY_MAX,
				 "552 5.3.4 message size %" PRIu64 " exceeds the limit %" PRIu64 " of %s[%s]",
				 env->body_len, c->ehlo.size_max, c->host, c->addr);
		goto out;
	}
	if (c->ehlo.size)
		snprintf(params, sizeof(params), " SIZE=%" PRIu64, env->body_len);
	if (c->ehlo.eightbitmime && file_has_8bit(fd, env->body_off, env->body_len))
		strncat(params, " BODY=8BITMIME", sizeof(params) - strlen(params) - 1);

	strbuf_init(&cmds);
	c->in_tx = true;
	c->sent++;
	strbuf_printf(&cmds, "MAIL FROM:<%s>%s\r\n", env->from, params);
	if (pipelined) {
		/* RFC 2920: MAIL, every RCPT and DATA in one write */
		for (size_t i = 0; i < n; i++)
			strbuf_printf(&cmds, "RCPT TO:<%s>\r\n", env->rcpts[idx[i]].addr);
		strbuf_append_str(&cmds, "DATA\r\n");
	}
	set_timeout(c, TIMEOUT_MAIL);
	if (conn_write(c, cmds.data, cmds.len) < 0 || conn_reply(c, &r, TIMEOUT_MAIL) < 0) {
		/* not even MAIL was answered: the server took nothing */
		c->unanswered = true;
		strbuf_free(&cmds);
		goto broken;
	}
	strbuf_free(&cmds);
	if (r.code / 100 != 2) {
		reply_text(c, &r, "MAIL FROM", tmp, sizeof(tmp));
		for (size_t i = 0; i < n; i++)
			str_copy(replies[i], QUEUE_REPLY_MAX, tmp);
		if (pipelined) {
			/* drain the RCPT and DATA replies */
			for (size_t i = 0; i <= n; i++) {
				if (conn_reply(c, &r, TIMEOUT_RCPT) < 0)
					goto broken;
			}
		}
		goto rset;
	}
	for (size_t i = 0; i < n; i++) {
		if (!pipelined) {
			char line[QUEUE_ADDR_MAX + 16];
			int k = snprintf(line, sizeof(line), "RCPT TO:<%s>\r\n", env->rcpts[idx[i]].addr);
			set_timeout(c, TIMEOUT_RCPT);
			if (conn_write(c, line, (size_t)k) < 0)
				goto broken;
		}
		if (conn_reply(c, &r, TIMEOUT_RCPT) < 0)
			goto broken;
		if (r.code / 100 == 2) {
			accepted[i] = true;
			naccepted++;
		} else {
			reply_text(c, &r, "RCPT TO", replies[i], QUEUE_REPLY_MAX);
		}
	}
	if (!pipelined && naccepted == 0)
		goto rset;
	if (!pipelined) {
		set_timeout(c, TIMEOUT_DATA_INIT);
		if (conn_write(c, "DATA\r\n", 6) < 0)
			goto broken;
	}
	if (conn_reply(c, &r, TIMEOUT_DATA_INIT) < 0)
		goto broken;
	if (r.code != 354) {
		if (naccepted > 0) {
			reply_text(c, &r, "DATA", tmp, sizeof(tmp));
			for (size_t i = 0; i < n; i++) {
				if (accepted[i])
					str_copy(replies[i], QUEUE_REPLY_MAX, tmp);
			}
		}
		goto rset;
	}
	if (naccepted == 0) {
		/* the pipelined DATA was accepted though no recipient was:
		 * end it empty (RFC 2920 3.1) */
		if (conn_write(c, ".\r\n", 3) < 0 || conn_reply(c, &r, TIMEOUT_DATA_TERM) < 0)
			goto broken;
		goto rset;
	}
	if (send_body(c, fd, env->body_off, env->body_len) < 0)
		goto broken;
	if (conn_reply(c, &r, TIMEOUT_DATA_TERM) < 0) {
		/* lost after the final dot: SMTP cannot tell whether the
		 * message was taken; it is retried (RFC 5321 6.1) */
		broken_text(c, "after the end of data", tmp, sizeof(tmp));
		for (size_t i = 0; i < n; i++) {
			if (accepted[i])
				str_copy(replies[i], QUEUE_REPLY_MAX, tmp);
		}
		goto out;
	}
	reply_text(c, &r, "end of DATA", tmp, sizeof(tmp));
	for (size_t i = 0; i < n; i++) {
		if (accepted[i])
			str_copy(replies[i], QUEUE_REPLY_MAX, tmp);
	}
	c->in_tx = false;
	goto out;
rset:
	if (!c->broken && conn_cmd(c, &r, TIMEOUT_OTHER, "RSET") == 0 && r.code / 100 == 2)
		c->in_tx = false;
	else
		conn_break(c, "RSET failed");
	goto out;
broken:
	broken_text(c, "during the transaction", tmp, sizeof(tmp));
	for (size_t i = 0; i < n; i++) {
		if (replies[i][0] == '\0')
			str_copy(replies[i], QUEUE_REPLY_MAX, tmp);
	}
out:
	for (size_t i = 0; i < n; i++) {
		if (replies[i][0] == '\0')
			snprintf(replies[i], QUEUE_REPLY_MAX, "451 4.3.0 no result");
	}
	free(accepted);
	if (fd >= 0)
		close(fd);
	return c->unanswered ? -1 : 0;
}

void outbound_close(struct outbound_conn *c)
{
	struct smtp_reply r;

	if (c == NULL)
		return;
	if (!c->broken)
		conn_cmd(c, &r, 10, "QUIT");
	if (c->ssl != NULL) {
		if (!c->broken)
			SSL_shutdown(c->ssl);
		SSL_free(c->ssl);
	}
	close(c->fd);
	free(c);
}
