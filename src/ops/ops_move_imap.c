/* The mover's IMAP client (ops_move_imap.h). */
#include "ops/ops_move_imap.h"
#include "ops/ops_move.h"
#include "lib/fsutil.h"
#include "lib/str.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

static int imap_fail(struct move_imap *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int imap_fail(struct move_imap *m, const char *fmt, ...)
{
	char text[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	snprintf(m->err, sizeof(m->err), "%s: %s", m->where, text);
	return -1;
}

/* host:port or [v6]:port into host and port. */
static int split_hostport(const char *hp, char *host, size_t hsize, char *port, size_t psize)
{
	const char *colon = strrchr(hp, ':');
	const char *h = hp;
	size_t hlen;

	if (colon == NULL || colon == hp)
		return -1;
	hlen = (size_t)(colon - hp);
	if (hp[0] == '[' && colon[-1] == ']') {
		h = hp + 1;
		hlen -= 2;
	}
	if (hlen >= hsize || str_copy(port, psize, colon + 1) < 0)
		return -1;
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	return 0;
}

static int imap_connect(struct move_imap *m, const char *hostport, const char *source_ip, unsigned timeout)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res = NULL, *ai;
	struct timeval tv = { .tv_sec = timeout > 0 ? timeout : 30 };
	char host[256], port[16];
	int one = 1;

	if (split_hostport(hostport, host, sizeof(host), port, sizeof(port)) < 0)
		return imap_fail(m, "not a HOST:PORT");
	if (getaddrinfo(host, port, &hints, &res) != 0)
		return imap_fail(m, "cannot resolve %s", host);
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);

		if (fd < 0)
			continue;
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		if (source_ip != NULL && source_ip[0] != '\0') {
			struct addrinfo sh = { .ai_family = ai->ai_family, .ai_flags = AI_NUMERICHOST }, *src = NULL;

			if (getaddrinfo(source_ip, NULL, &sh, &src) != 0 ||
			    bind(fd, src->ai_addr, src->ai_addrlen) < 0) {
				if (src != NULL)
					freeaddrinfo(src);
				close(fd);
				continue;
			}
			freeaddrinfo(src);
		}
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
			m->fd = fd;
			break;
		}
		close(fd);
	}
	freeaddrinfo(res);
	if (m->fd < 0)
		return imap_fail(m, "cannot connect: %s", strerror(errno));
	return 0;
}

static int imap_fill(struct move_imap *m)
{
	ssize_t n;

	if (m->len >= MOVE_IMAP_LINE_MAX)
		return imap_fail(m, "response line too long");
	do
		n = recv(m->fd, m->buf + m->len, MOVE_IMAP_LINE_MAX - m->len, 0);
	while (n < 0 && errno == EINTR);
	if (n == 0)
		return imap_fail(m, "connection closed");
	if (n < 0)
		return imap_fail(m, "%s", errno == EAGAIN ? "timed out" : strerror(errno));
	m->len += (size_t)n;
	return 0;
}

/* The next line (without CRLF) into a new string. */
static char *imap_line(struct move_imap *m)
{
	char *eol, *line;

	while ((eol = memmem(m->buf, m->len, "\r\n", 2)) == NULL) {
		if (imap_fill(m) < 0)
			return NULL;
	}
	line = strndup(m->buf, (size_t)(eol - m->buf));
	if (line == NULL) {
		imap_fail(m, "out of memory");
		return NULL;
	}
	m->len -= (size_t)(eol + 2 - m->buf);
	memmove(m->buf, eol + 2, m->len);
	return line;
}

/* n bytes into a new buffer (NUL-terminated). */
static char *imap_bytes(struct move_imap *m, size_t n)
{
	char *out = malloc(n + 1);
	size_t got = 0;

	if (out == NULL) {
		imap_fail(m, "out of memory");
		return NULL;
	}
	while (got < n) {
		if (m->len == 0 && imap_fill(m) < 0) {
			free(out);
			return NULL;
		}
		size_t take = m->len < n - got ? m->len : n - got;
		memcpy(out + got, m->buf, take);
		got += take;
		m->len -= take;
		memmove(m->buf, m->buf + take, m->len);
	}
	out[n] = '\0';
	return out;
}

static int imap_send(struct move_imap *m, const void *data, size_t len)
{
	const char *p = data;

	while (len > 0) {
		ssize_t n = send(m->fd, p, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return imap_fail(m, "cannot send: %s", strerror(errno));
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* The size of a literal announced at the end of line, or -1 for none. */
static long long literal_size(const char *line)
{
	size_t n = strlen(line);
	const char *open;

	if (n < 3 || line[n - 1] != '}' || (open = strrchr(line, '{')) == NULL)
		return -1;
	return strtoll(open + 1, NULL, 10);
}

/* One untagged response: its literal read, then cb. */
static int imap_untagged(struct move_imap *m, char *line, move_untagged_cb *cb, void *ctx)
{
	long long lit = literal_size(line);
	char *data = NULL, *rest = NULL;
	int r = 0;

	if (lit >= 0) {
		if ((unsigned long long)lit > MOVE_IMAP_LITERAL_MAX)
			return imap_fail(m, "literal too big");
		if ((data = imap_bytes(m, (size_t)lit)) == NULL || (rest = imap_line(m)) == NULL) {
			free(data);
			return -1;
		}
		if (literal_size(rest) >= 0)
			r = imap_fail(m, "more than one literal in a response");
	}
	if (r == 0 && cb != NULL && cb(ctx, line + 2, data, data != NULL ? (size_t)lit : 0, rest) < 0)
		r = -1;
	free(data);
	free(rest);
	return r;
}

/* Reads up to the tagged reply of tag; cont: stop at a "+" line (1). */
static int imap_wait(struct move_imap *m, const char *tag, bool cont, move_untagged_cb *cb, void *ctx,
		     char *ok_r, size_t ok_size)
{
	size_t tlen = strlen(tag);

	for (;;) {
		char *line = imap_line(m);
		int r;

		if (line == NULL)
			return -1;
		if (strncmp(line, "* ", 2) == 0) {
			if (strncasecmp(line + 2, "BYE", 3) == 0)
				r = imap_fail(m, "%s", line);
			else
				r = imap_untagged(m, line, cb, ctx);
			free(line);
			if (r < 0)
				return -1;
			continue;
		}
		if (line[0] == '+') {
			free(line);
			if (cont)
				return 1;
			return imap_fail(m, "unexpected continuation");
		}
		if (strncmp(line, tag, tlen) == 0 && line[tlen] == ' ') {
			const char *status = line + tlen + 1;
			r = strncasecmp(status, "OK", 2) == 0 ? 0 : imap_fail(m, "%s", status);
			if (r == 0 && ok_r != NULL)
				str_copy(ok_r, ok_size, status);
			free(line);
			return r;
		}
		r = imap_fail(m, "unexpected line: %.80s", line);
		free(line);
		return r;
	}
}

int move_imap_open(struct move_imap *m, const char *name, const char *hostport, const char *source_ip,
		   unsigned timeout)
{
	char *greeting;

	memset(m, 0, sizeof(*m));
	m->fd = -1;
	snprintf(m->where, sizeof(m->where), "node %s (%s)", name, hostport);
	if ((m->buf = malloc(MOVE_IMAP_LINE_MAX)) == NULL)
		return imap_fail(m, "out of memory");
	if (imap_connect(m, hostport, source_ip, timeout) < 0 || (greeting = imap_line(m)) == NULL)
		return -1;
	if (strncasecmp(greeting, "* OK", 4) != 0) {
		imap_fail(m, "greeting: %.200s", greeting);
		free(greeting);
		return -1;
	}
	free(greeting);
	return 0;
}

void move_imap_close(struct move_imap *m)
{
	if (m->fd >= 0) {
		char tag[16];

		snprintf(tag, sizeof(tag), "m%u", ++m->tag);
		dprintf(m->fd, "%s LOGOUT\r\n", tag);
		close(m->fd);
		m->fd = -1;
	}
	free(m->buf);
	m->buf = NULL;
}

int move_imap_run(struct move_imap *m, move_untagged_cb *cb, void *ctx, char *ok_r, size_t ok_size,
		  const char *fmt, ...)
{
	char tag[16], *cmd;
	va_list ap;
	int n, r;

	if (m->fd < 0)
		return imap_fail(m, "not connected");
	snprintf(tag, sizeof(tag), "m%u", ++m->tag);
	va_start(ap, fmt);
	n = vasprintf(&cmd, fmt, ap);
	va_end(ap);
	if (n < 0)
		return imap_fail(m, "out of memory");
	r = imap_send(m, tag, strlen(tag));
	if (r == 0)
		r = imap_send(m, " ", 1);
	if (r == 0)
		r = imap_send(m, cmd, (size_t)n);
	if (r == 0)
		r = imap_send(m, "\r\n", 2);
	free(cmd);
	return r < 0 ? -1 : imap_wait(m, tag, false, cb, ctx, ok_r, ok_size);
}

int move_imap_login(struct move_imap *m, const char *user, const char *proxy_user, const char *secret)
{
	char plain[1024], b64[1400];
	size_t ulen = strlen(user), plen = strlen(proxy_user), slen = strlen(secret);
	int r;

	if (ulen + plen + slen + 2 > sizeof(plain))
		return imap_fail(m, "login too long");
	memcpy(plain, user, ulen + 1);
	memcpy(plain + ulen + 1, proxy_user, plen + 1);
	memcpy(plain + ulen + plen + 2, secret, slen);
	base64_encode((const unsigned char *)plain, ulen + plen + slen + 2, b64);
	explicit_bzero(plain, sizeof(plain));
	if (move_imap_run(m, NULL, NULL, NULL, 0, "ID (\"x-yubin-move\" \"1\")") < 0) {
		explicit_bzero(b64, sizeof(b64));
		return -1;
	}
	r = move_imap_run(m, NULL, NULL, NULL, 0, "AUTHENTICATE PLAIN %s", b64);
	explicit_bzero(b64, sizeof(b64));
	if (r < 0)
		return -1;
	return move_imap_run(m, NULL, NULL, NULL, 0, "ENABLE CONDSTORE");
}

int move_imap_append(struct move_imap *m, const char *qmailbox, const char *flags, const char *date,
		     const char *data, size_t len, uint32_t *uid_r)
{
	char tag[16], head[MOVE_FLAGS_MAX + 600], ok[512];
	uint64_t v;
	const char *p;
	char *end;
	int r;

	snprintf(tag, sizeof(tag), "m%u", ++m->tag);
	if (snprintf(head, sizeof(head), "%s APPEND %s (%s) \"%s\" {%zu}\r\n", tag, qmailbox, flags, date, len) >=
	    (int)sizeof(head))
		return imap_fail(m, "APPEND too long");
	if (imap_send(m, head, strlen(head)) < 0)
		return -1;
	r = imap_wait(m, tag, true, NULL, NULL, NULL, 0);
	if (r != 1)
		return r == 0 ? imap_fail(m, "APPEND ended before its literal") : -1;
	if (imap_send(m, data, len) < 0 || imap_send(m, "\r\n", 2) < 0 ||
	    imap_wait(m, tag, false, NULL, NULL, ok, sizeof(ok)) < 0)
		return -1;
	if ((p = strstr(ok, "[APPENDUID ")) == NULL)
		return imap_fail(m, "APPEND without APPENDUID");
	p += 11;
	v = strtoull(p, &end, 10);	/* the UIDVALIDITY */
	if (*end != ' ' || v == 0)
		return imap_fail(m, "bad APPENDUID");
	v = strtoull(end + 1, &end, 10);
	if (*end != ']' || v == 0 || v > UINT32_MAX)
		return imap_fail(m, "bad APPENDUID");
	*uid_r = (uint32_t)v;
	return 0;
}

int move_imap_append_many(struct move_imap *m, const char *qmailbox, const struct move_imap_msg *v, size_t n,
			  uint32_t *first_r, uint32_t *last_r)
{
	char tag[16], head[MOVE_FLAGS_MAX + 200], ok[512];
	uint64_t a, b;
	const char *p;
	char *end;
	int r;

	if (n == 0)
		return imap_fail(m, "an APPEND of nothing");
	snprintf(tag, sizeof(tag), "m%u", ++m->tag);
	r = imap_send(m, tag, strlen(tag));
	if (r == 0)
		r = imap_send(m, " APPEND ", 8);
	if (r == 0)
		r = imap_send(m, qmailbox, strlen(qmailbox));
	/* LITERAL+: every message goes at once, no continuation awaited */
	for (size_t i = 0; r == 0 && i < n; i++) {
		if (snprintf(head, sizeof(head), " (%s) \"%s\" {%zu+}\r\n", v[i].flags, v[i].date, v[i].len) >=
		    (int)sizeof(head))
			return imap_fail(m, "APPEND too long");
		r = imap_send(m, head, strlen(head));
		if (r == 0)
			r = imap_send(m, v[i].data, v[i].len);
	}
	if (r == 0)
		r = imap_send(m, "\r\n", 2);
	if (r < 0 || imap_wait(m, tag, false, NULL, NULL, ok, sizeof(ok)) < 0)
		return -1;
	/* [APPENDUID uidvalidity first:last] (or first alone) */
	if ((p = strstr(ok, "[APPENDUID ")) == NULL)
		return imap_fail(m, "APPEND without APPENDUID");
	a = strtoull(p + 11, &end, 10);
	if (*end != ' ' || a == 0)
		return imap_fail(m, "bad APPENDUID");
	a = strtoull(end + 1, &end, 10);
	b = a;
	if (*end == ':')
		b = strtoull(end + 1, &end, 10);
	if (*end != ']' || a == 0 || b < a || b > UINT32_MAX)
		return imap_fail(m, "bad APPENDUID");
	*first_r = (uint32_t)a;
	*last_r = (uint32_t)b;
	return 0;
}
