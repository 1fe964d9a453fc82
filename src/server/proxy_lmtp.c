/* server.role = proxy, SMTP: a message for accounts on mail nodes goes to
 * each recipient's node by LMTP (RFC 2033) at the end of DATA, on a worker
 * with blocking, time-limited sockets. The node runs the whole delivery
 * (inbound checks, virus, spam, Sieve, quota, forwarding) for the real
 * client, which XCLIENT names. Each recipient has its own result (LMTP
 * replies once per recipient); one reply goes back to the SMTP client:
 * every recipient delivered, 250; none, the nodes' refusal; a mix, 250
 * once the others are in the proxy's own queue, which tries them again
 * through the MX (the proxies' port 25: a temporary refusal waits, a
 * permanent one becomes a bounce to the sender), so nobody gets the
 * message twice; only when that queueing fails, 451 (the client sends
 * again: a recipient may get it twice, none loses it). */
#include "server/proxy.h"
#include "server/queue.h"
#include "server/smtp_session.h"
#include "directory/directory.h"
#include "settings/settings.h"
#include "proto/smtp_client.h"
#include "lib/log.h"
#include "lib/str.h"
#include "lib/workers.h"

#include <errno.h>
#include <limits.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <event2/buffer.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define LMTP_CHUNK 65536

struct lmtp_rcpt {
	char address[320];
	char node[DIR_NODE_NAME_MAX + 1];
	int cls;			/* 2, 4, 5; 0 not tried yet */
	char reply[300];
};

struct lmtp_job {
	struct smtp_session *s;
	char sid[12], txid[16];
	char from[330], params[64];
	char client_ip[64], helo[256], hostname[256], source[64];
	char received[1024];
	unsigned timeout;
	bool tls;		/* proxy.node_tls: STARTTLS to the nodes */
	const char *body;	/* the session's, or NULL: body_fd */
	int body_fd;
	uint64_t body_len;
	struct lmtp_rcpt *rcpts;
	unsigned nrcpts;
	unsigned nqueued;	/* the refused ones of a mix, queued to try again */
	char queue_id[64];
};

struct lmtp_conn {
	int fd;
	struct ssl_st *ssl;	/* after STARTTLS (proxy.node_tls), else NULL */
	char host[DIR_NODE_ADDR_MAX + 1];	/* the node's, for its certificate */
	char buf[4096];
	size_t len;
	time_t deadline;
};

static int lmtp_wait(struct lmtp_conn *c, short ev)
{
	struct pollfd p = { c->fd, ev, 0 };
	time_t left = c->deadline - time(NULL);

	if (left <= 0)
		return -1;
	return poll(&p, 1, (int)left * 1000) == 1 ? 0 : -1;
}

/* An SSL call that could not go on: waits for what it wants; 0 to try
 * again, -1 on an error or past the deadline. */
static int lmtp_ssl_wait(struct lmtp_conn *c, int ret)
{
	int e = SSL_get_error(c->ssl, ret);

	if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
		return lmtp_wait(c, e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT);
	ERR_clear_error();
	return -1;
}

static int lmtp_send(struct lmtp_conn *c, const char *data, size_t len)
{
	while (c->ssl != NULL && len > 0) {
		int n = SSL_write(c->ssl, data, len > INT_MAX ? INT_MAX : (int)len);

		if (n <= 0) {
			if (lmtp_ssl_wait(c, n) < 0)
				return -1;
			continue;	/* the same bytes again, as SSL_write wants */
		}
		data += n;
		len -= (size_t)n;
	}
	while (len > 0) {
		ssize_t n = send(c->fd, data, len, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
			if (lmtp_wait(c, POLLOUT) < 0)
				return -1;
			continue;
		}
		if (n <= 0)
			return -1;
		data += n;
		len -= (size_t)n;
	}
	return 0;
}

/* More of the node's bytes into c->buf: 0, or -1. */
static int lmtp_fill(struct lmtp_conn *c)
{
	for (;;) {
		ssize_t n;

		if (c->ssl != NULL) {
			int k = SSL_read(c->ssl, c->buf + c->len, (int)(sizeof(c->buf) - c->len));

			if (k > 0) {
				c->len += (size_t)k;
				return 0;
			}
			if (lmtp_ssl_wait(c, k) < 0)
				return -1;
			continue;
		}
		if (lmtp_wait(c, POLLIN) < 0)
			return -1;
		n = recv(c->fd, c->buf + c->len, sizeof(c->buf) - c->len, MSG_DONTWAIT);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (n <= 0)
			return -1;
		c->len += (size_t)n;
		return 0;
	}
}

/* One whole reply (multi-line joined); -1 on a broken or silent node. */
static int lmtp_read_reply(struct lmtp_conn *c, struct smtp_reply *r)
{
	const char *error;

	smtp_reply_init(r);
	for (;;) {
		char *eol = memchr(c->buf, '\n', c->len);

		if (eol != NULL) {
			size_t linelen = (size_t)(eol - c->buf), used = linelen + 1;
			int done;

			if (linelen > 0 && c->buf[linelen - 1] == '\r')
				linelen--;
			done = smtp_reply_feed(r, c->buf, linelen, &error);
			memmove(c->buf, c->buf + used, c->len - used);
			c->len -= used;
			if (done != 0)
				return done > 0 ? 0 : -1;
			continue;
		}
		if (c->len == sizeof(c->buf) || lmtp_fill(c) < 0)
			return -1;
	}
}

/* A command and its reply: the reply's class (2, 4, 5), or -1. */
static int lmtp_cmd(struct lmtp_conn *c, struct smtp_reply *r, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int lmtp_cmd(struct lmtp_conn *c, struct smtp_reply *r, const char *fmt, ...)
{
	char line[1100];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line) - 2, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(line) - 2)
		return -1;
	memcpy(line + n, "\r\n", 2);
	if (lmtp_send(c, line, (size_t)n + 2) < 0 || lmtp_read_reply(c, r) < 0)
		return -1;
	return smtp_reply_class(r);
}

/* STARTTLS after LHLO (proxy.node_tls): the node's certificate checked,
 * then LHLO again (RFC 3207). 0, or -1 with why. */
static int lmtp_starttls(struct lmtp_job *job, struct lmtp_conn *c, struct smtp_reply *r, char *why, size_t size)
{
	int k;

	if (lmtp_cmd(c, r, "STARTTLS") != 2 || c->len > 0 || (c->ssl = proxy_tls_new(c->host, true)) == NULL ||
	    SSL_set_fd(c->ssl, c->fd) != 1) {
		snprintf(why, size, "the node offers no TLS (%s is on)", settings_key(SETTING_CONF_PROXY_NODE_TLS));
		return -1;
	}
	while ((k = SSL_connect(c->ssl)) != 1) {
		if (lmtp_ssl_wait(c, k) < 0) {
			snprintf(why, size, "TLS with the node failed (its certificate or name?)");
			return -1;
		}
	}
	if (lmtp_cmd(c, r, "LHLO %s", job->hostname) != 2) {
		snprintf(why, size, "the node broke off the session after STARTTLS");
		return -1;
	}
	return 0;
}

/* The node's LMTP address; -1 with why. */
static int lmtp_connect(struct lmtp_job *job, const char *node, struct lmtp_conn *c, char *why, size_t size)
{
	struct directory *dir = server_directory();
	struct dir_node n;
	struct addrinfo hints, *res = NULL;
	char host[DIR_NODE_ADDR_MAX + 1], *colon;

	if (dir == NULL || directory_node_get(dir, node, &n) <= 0 || n.lmtp[0] == '\0') {
		snprintf(why, size, "node %s has no LMTP address", node);
		return -1;
	}
	str_copy(host, sizeof(host), n.lmtp);
	colon = strrchr(host, ':');
	if (colon == NULL) {
		snprintf(why, size, "node %s: bad LMTP address %s", node, n.lmtp);
		return -1;
	}
	*colon = '\0';
	if (host[0] == '[' && colon > host + 1 && colon[-1] == ']')
		colon[-1] = '\0';
	str_copy(c->host, sizeof(c->host), host[0] == '[' ? host + 1 : host);
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	if (getaddrinfo(host[0] == '[' ? host + 1 : host, colon + 1, &hints, &res) != 0) {
		snprintf(why, size, "node %s: cannot resolve %s", node, n.lmtp);
		return -1;
	}
	c->fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (c->fd >= 0 && job->source[0] != '\0') {
		struct addrinfo *src = NULL;

		hints.ai_flags = AI_NUMERICHOST | AI_PASSIVE;
		if (getaddrinfo(job->source, "0", &hints, &src) == 0 && src->ai_family == res->ai_family)
			bind(c->fd, src->ai_addr, src->ai_addrlen);
		if (src != NULL)
			freeaddrinfo(src);
	}
	if (c->fd < 0 || (connect(c->fd, res->ai_addr, res->ai_addrlen) < 0 && errno != EINPROGRESS) ||
	    lmtp_wait(c, POLLOUT) < 0) {
		snprintf(why, size, "node %s (%s) is unreachable", node, n.lmtp);
		freeaddrinfo(res);
		return -1;
	}
	freeaddrinfo(res);
	/* the body goes in several writes and each reply is awaited: without
	 * this the last write waits for the node's delayed ACK (~40 ms) */
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &(int){ 1 }, sizeof(int));
	{
		int err = 0;
		socklen_t len = sizeof(err);

		if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0 || err != 0) {
			snprintf(why, size, "node %s (%s) is unreachable", node, n.lmtp);
			return -1;
		}
	}
	return 0;
}

/* The body, dot-stuffed, and the final dot. */
static int lmtp_send_body(struct lmtp_job *job, struct lmtp_conn *c)
{
	char in[LMTP_CHUNK], out[LMTP_CHUNK * 2 + 8];
	bool bol = true;
	uint64_t off = 0;

	if (lmtp_send(c, job->received, strlen(job->received)) < 0)
		return -1;
	while (off < job->body_len) {
		size_t want = job->body_len - off > sizeof(in) ? sizeof(in) : (size_t)(job->body_len - off);
		size_t o = 0;
		const char *p;

		if (job->body != NULL) {
			p = job->body + off;
		} else {
			ssize_t n = pread(job->body_fd, in, want, (off_t)off);
			if (n <= 0)
				return -1;
			want = (size_t)n;
			p = in;
		}
		for (size_t i = 0; i < want; i++) {
			if (bol && p[i] == '.')
				out[o++] = '.';
			out[o++] = p[i];
			bol = p[i] == '\n';
		}
		if (lmtp_send(c, out, o) < 0)
			return -1;
		off += want;
	}
	return lmtp_send(c, bol ? ".\r\n" : "\r\n.\r\n", bol ? 3 : 5);
}

static void lmtp_set(struct lmtp_rcpt *r, int cls, const char *text)
{
	r->cls = cls;
	str_copy(r->reply, sizeof(r->reply), text);
}

/* One node's transaction for its recipients (those with node == name). */
static void lmtp_node_run(struct lmtp_job *job, const char *name)
{
	struct lmtp_conn c = { .fd = -1, .deadline = time(NULL) + job->timeout };
	struct smtp_reply *r = malloc(sizeof(*r));
	char why[200] = "out of memory", text[300];
	unsigned accepted = 0;
	int cls;

	if (r == NULL || lmtp_connect(job, name, &c, why, sizeof(why)) < 0)
		goto temp;
	if (lmtp_read_reply(&c, r) < 0 || smtp_reply_class(r) != 2) {
		snprintf(why, sizeof(why), "node %s did not greet", name);
		goto temp;
	}
	if (lmtp_cmd(&c, r, "LHLO %s", job->hostname) != 2) {
		snprintf(why, sizeof(why), "node %s broke off the session", name);
		goto temp;
	}
	if (job->tls && lmtp_starttls(job, &c, r, why, sizeof(why)) < 0)
		goto temp;
	if (lmtp_cmd(&c, r, "XCLIENT ADDR=%s HELO=%s", job->client_ip, job->helo) != 2 ||
	    (cls = lmtp_cmd(&c, r, "MAIL FROM:<%s>%s", job->from, job->params)) < 0) {
		snprintf(why, sizeof(why), "node %s broke off the session", name);
		goto temp;
	}
	if (cls != 2) {
		smtp_reply_format(r, text, sizeof(text));
		for (unsigned i = 0; i < job->nrcpts; i++)
			if (strcmp(job->rcpts[i].node, name) == 0)
				lmtp_set(&job->rcpts[i], cls, text);
		goto out;
	}
	for (unsigned i = 0; i < job->nrcpts; i++) {
		if (strcmp(job->rcpts[i].node, name) != 0)
			continue;
		if ((cls = lmtp_cmd(&c, r, "RCPT TO:<%s>", job->rcpts[i].address)) < 0) {
			snprintf(why, sizeof(why), "node %s broke off the session", name);
			goto temp;
		}
		smtp_reply_format(r, text, sizeof(text));
		lmtp_set(&job->rcpts[i], cls == 2 ? 0 : cls, text);	/* 0: waits for DATA */
		accepted += cls == 2;
	}
	if (accepted == 0)
		goto out;
	if (lmtp_cmd(&c, r, "DATA") < 0 || r->code != 354 || lmtp_send_body(job, &c) < 0) {
		snprintf(why, sizeof(why), "node %s broke off the message", name);
		goto temp;
	}
	for (unsigned i = 0; i < job->nrcpts; i++) {
		if (strcmp(job->rcpts[i].node, name) != 0 || job->rcpts[i].cls != 0)
			continue;
		if (lmtp_read_reply(&c, r) < 0) {
			snprintf(why, sizeof(why), "node %s gave no reply after the message", name);
			goto temp;
		}
		smtp_reply_format(r, text, sizeof(text));
		lmtp_set(&job->rcpts[i], smtp_reply_class(r), text);
	}
out:
	lmtp_send(&c, "QUIT\r\n", 6);
	if (c.ssl != NULL)
		SSL_free(c.ssl);
	close(c.fd);
	free(r);
	return;
temp:
	for (unsigned i = 0; i < job->nrcpts; i++)
		if (strcmp(job->rcpts[i].node, name) == 0 && job->rcpts[i].cls == 0) {
			job->rcpts[i].cls = 4;
			snprintf(job->rcpts[i].reply, sizeof(job->rcpts[i].reply), "451 4.4.0 %s", why);
		}
	if (c.ssl != NULL)
		SSL_free(c.ssl);
	if (c.fd >= 0)
		close(c.fd);
	free(r);
}

/* Some recipients delivered, others refused: the refused ones go into the
 * proxy's queue (their results then come from its delivery: a retry, or a
 * bounce), so the client's 250 holds for everyone. 0, or -1. */
static int lmtp_queue_rest(struct lmtp_job *job)
{
	const char *rcpts[job->nrcpts];
	struct maildir_msg msg = {
		.prefix = job->received, .prefix_len = strlen(job->received),
		.body = job->body, .body_fd = job->body != NULL ? -1 : job->body_fd, .body_len = (size_t)job->body_len,
	};
	const char *error = "";
	size_t n = 0;

	for (unsigned i = 0; i < job->nrcpts; i++) {
		if (job->rcpts[i].cls != 2)
			rcpts[n++] = job->rcpts[i].address;
	}
	if (queue_submit(NULL, job->from, rcpts, n, &msg, job->queue_id, sizeof(job->queue_id), &error) < 0) {
		log_error(job->sid, "proxy: id=%s cannot queue the %zu refused recipients: %s", job->txid, n, error);
		return -1;
	}
	job->nqueued = (unsigned)n;
	return 0;
}

static void lmtp_job_run(void *ctx)
{
	struct lmtp_job *job = ctx;
	unsigned ok = 0;

	for (unsigned i = 0; i < job->nrcpts; i++) {
		bool first = true;

		for (unsigned j = 0; j < i && first; j++)
			first = strcmp(job->rcpts[j].node, job->rcpts[i].node) != 0;
		if (first)
			lmtp_node_run(job, job->rcpts[i].node);
	}
	for (unsigned i = 0; i < job->nrcpts; i++)
		ok += job->rcpts[i].cls == 2;
	if (ok > 0 && ok < job->nrcpts)
		lmtp_queue_rest(job);
}

static void lmtp_job_free(struct lmtp_job *job)
{
	free(job->rcpts);
	free(job);
}

static void lmtp_job_done(void *ctx)
{
	struct lmtp_job *job = ctx;
	struct smtp_session *s = job->s;
	unsigned ok = 0, perm = 0;
	const char *first_fail = NULL;

	s->job_pending = false;
	for (unsigned i = 0; i < job->nrcpts; i++) {
		struct lmtp_rcpt *r = &job->rcpts[i];

		log_info(job->sid, "proxy: lmtp id=%s from=<%s> to=<%s> node=%s: %s", job->txid, job->from,
			 r->address, r->node, r->reply);
		ok += r->cls == 2;
		perm += r->cls == 5;
		if (r->cls != 2 && first_fail == NULL)
			first_fail = r->reply;
	}
	if (s->conn_gone) {
		smtp_session_free(s);
		lmtp_job_free(job);
		return;
	}
	if (ok == job->nrcpts)
		smtp_reply(s, "250 2.0.0 Ok: delivered to the mail nodes as %s", job->txid);
	else if (job->nqueued > 0)
		smtp_reply(s, "250 2.0.0 Ok: delivered to the mail nodes as %s, %u recipient%s queued as %s",
			   job->txid, job->nqueued, job->nqueued == 1 ? "" : "s", job->queue_id);
	else if (ok == 0 && perm == job->nrcpts)
		smtp_reply(s, "%s", first_fail);
	else if (ok == 0 && first_fail != NULL && first_fail[0] == '4')
		smtp_reply(s, "%s", first_fail);
	else
		smtp_reply(s, "451 4.3.0 Not every recipient's node took the message; send it again later");
	s->state = SMTP_S_READY;
	smtp_tx_reset(s);
	lmtp_job_free(job);
	smtp_session_resume(s);
}

/* The proxy's own trace field, prepended. */
static void lmtp_received(struct lmtp_job *job, const struct smtp_session *s)
{
	char date[64];
	time_t now = time(NULL);
	struct tm tm;

	gmtime_r(&now, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm);
	snprintf(job->received, sizeof(job->received),
		 "Received: from %s ([%s])\r\n\tby %s (Yubin proxy) with %s id %s;\r\n\t%s\r\n",
		 s->helo, s->conn->ip, s->lim.hostname, smtp_protocol_name(s), s->tx.txid, date);
}

bool proxy_smtp_deliver(struct smtp_session *s)
{
	struct lmtp_job *job;

	if (s->tx.nrcpts == 0 || s->tx.rcpts[0].node[0] == '\0')
		return false;
	job = calloc(1, sizeof(*job));
	if (job == NULL || (job->rcpts = calloc(s->tx.nrcpts, sizeof(*job->rcpts))) == NULL) {
		free(job);
		smtp_local_error(s, "451 4.3.0 Insufficient system resources", __func__);
		smtp_tx_reset(s);
		return true;
	}
	job->s = s;
	str_copy(job->sid, sizeof(job->sid), s->conn->sid);
	str_copy(job->txid, sizeof(job->txid), s->tx.txid);
	if (!s->tx.from.null_path)
		mail_path_format(&s->tx.from, job->from, sizeof(job->from));
	snprintf(job->params, sizeof(job->params), "%s%s",
		 s->tx.params.body == SMTP_BODY_8BITMIME ? " BODY=8BITMIME" : "",
		 s->tx.params.smtputf8 ? " SMTPUTF8" : "");
	str_copy(job->client_ip, sizeof(job->client_ip), s->conn->ip);
	str_copy(job->helo, sizeof(job->helo), s->helo[0] != '\0' ? s->helo : "unknown");
	str_copy(job->hostname, sizeof(job->hostname), s->lim.hostname);
	pthread_rwlock_rdlock(&server->lock);
	job->timeout = server->cfg.proxy_connect_timeout * 6;
	job->tls = strcmp(server->cfg.proxy_node_tls, "on") == 0;
	str_copy(job->source, sizeof(job->source), server->cfg.listen_address);
	pthread_rwlock_unlock(&server->lock);
	job->source[strcspn(job->source, ", ")] = '\0';
	if (strcmp(job->source, "0.0.0.0") == 0 || strcmp(job->source, "::") == 0)
		job->source[0] = '\0';
	lmtp_received(job, s);
	job->body_fd = s->tx.spool_fd;
	if (s->tx.spool_fd < 0) {
		job->body = (const char *)evbuffer_pullup(s->tx.body, -1);
		if (job->body == NULL)
			job->body = "";
	}
	job->body_len = s->tx.data.bytes;
	job->nrcpts = s->tx.nrcpts;
	for (unsigned i = 0; i < s->tx.nrcpts; i++) {
		str_copy(job->rcpts[i].address, sizeof(job->rcpts[i].address), s->tx.rcpts[i].address);
		str_copy(job->rcpts[i].node, sizeof(job->rcpts[i].node), s->tx.rcpts[i].node);
	}
	s->state = SMTP_S_BUSY;
	s->job_pending = true;
	conn_pause(s->conn);
	worker_pool_submit(server->workers, s->conn->loop->base, lmtp_job_run, lmtp_job_done, job);
	return true;
}
