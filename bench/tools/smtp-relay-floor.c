/*
 * smtp-relay-floor: the least work a submission server can do for
 * bench/smtp-relay's load while keeping "250 means on disk" and relaying
 * every message, to measure the ceiling this machine and the load
 * generator put on any server's relay rate (the bench's `--floor`).
 *
 *   smtp-relay-floor PORT CERT KEY QUEUEDIR SINKADDR SINKPORT THREADS
 *
 * THREADS threads each accept on the one listening socket of
 * 127.0.0.1:PORT and serve a session with blocking I/O: 220, EHLO (offers
 * STARTTLS, after it AUTH PLAIN), STARTTLS (TLS 1.3 with CERT/KEY, no
 * session cache: a full handshake per connection, as the client asks),
 * AUTH PLAIN (235 without looking at it), MAIL, RCPT (one), DATA, RSET,
 * NOOP, QUIT.  A message (kept dot-stuffed, as it goes on) is written to
 * the thread's one queue file (truncated and rewritten: no inode made or
 * freed per message) and made durable by a shared syncfs(2) that covers
 * every thread waiting at the time (group commit); then the client gets
 * its 250 and the thread relays the message over its own connection to
 * the sink, kept open across messages and sessions (EHLO once; MAIL, RCPT
 * and DATA pipelined; the 250 after the dot awaited).
 *
 * Nothing else: no password checked, no headers added, no logging, no
 * retry, no limits beyond a fixed buffer per thread.  It is not a mail
 * server; it measures the least a relay does.  Loopback only.
 *
 * Built by bench/smtp-relay:  cc -O2 -pthread smtp-relay-floor.c -lssl -lcrypto
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#define BUF_MAX (256 * 1024)

struct conn {
	int fd;
	SSL *ssl;
	size_t len, pos;
	char buf[BUF_MAX];
};

static SSL_CTX *ctx;
static int lfd, rootfd;
static const char *queue_dir;
static struct sockaddr_in sink_sa;

/* the group commit: a thread asks for a sync that starts after its write */
static pthread_mutex_t sync_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t sync_cond = PTHREAD_COND_INITIALIZER;
static unsigned long sync_asked, sync_started, sync_done;

static void die(const char *what)
{
	perror(what);
	exit(1);
}

static void *sync_main(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&sync_lock);
	for (;;) {
		while (sync_asked == sync_done)
			pthread_cond_wait(&sync_cond, &sync_lock);
		unsigned long upto = sync_asked;

		sync_started = upto;
		pthread_mutex_unlock(&sync_lock);
		if (syncfs(rootfd) < 0)
			die("syncfs");
		pthread_mutex_lock(&sync_lock);
		sync_done = upto;
		pthread_cond_broadcast(&sync_cond);
	}
	return NULL;
}

static void group_sync(void)
{
	pthread_mutex_lock(&sync_lock);
	unsigned long mine = ++sync_asked;

	pthread_cond_broadcast(&sync_cond);
	while (sync_done < mine)
		pthread_cond_wait(&sync_cond, &sync_lock);
	pthread_mutex_unlock(&sync_lock);
}

static int conn_write(struct conn *c, const char *p, size_t len)
{
	while (len > 0) {
		ssize_t n = c->ssl != NULL ? SSL_write(c->ssl, p, (int)len)
					   : send(c->fd, p, len, MSG_NOSIGNAL);
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int say(struct conn *c, const char *text)
{
	return conn_write(c, text, strlen(text));
}

static int conn_fill(struct conn *c)
{
	if (c->pos > 0) {
		memmove(c->buf, c->buf + c->pos, c->len - c->pos);
		c->len -= c->pos;
		c->pos = 0;
	}
	if (c->len == BUF_MAX)
		return -1;
	ssize_t n = c->ssl != NULL ? SSL_read(c->ssl, c->buf + c->len, (int)(BUF_MAX - c->len))
				   : recv(c->fd, c->buf + c->len, BUF_MAX - c->len, 0);
	if (n <= 0)
		return -1;
	c->len += (size_t)n;
	return 0;
}

/* The next line (CRLF or LF ended, the end included); NULL at EOF. */
static char *conn_line(struct conn *c, size_t *len_r)
{
	for (;;) {
		char *nl = memchr(c->buf + c->pos, '\n', c->len - c->pos);

		if (nl != NULL) {
			char *line = c->buf + c->pos;

			*len_r = (size_t)(nl - line) + 1;
			c->pos += *len_r;
			return line;
		}
		if (conn_fill(c) < 0)
			return NULL;
	}
}

/* The message up to the line ".": its bytes, still dot-stuffed, with the
 * CRLF before the dot; the dot line consumed. */
static char *conn_data(struct conn *c, size_t *len_r)
{
	size_t scan = c->pos;

	for (;;) {
		if (c->len - c->pos >= 3 && memcmp(c->buf + c->pos, ".\r\n", 3) == 0) {
			*len_r = 0;
			c->pos += 3;
			return c->buf + c->pos - 3;
		}
		char *end = memmem(c->buf + scan, c->len - scan, "\r\n.\r\n", 5);

		if (end != NULL) {
			char *msg = c->buf + c->pos;

			*len_r = (size_t)(end - msg) + 2;
			c->pos += *len_r + 3;
			return msg;
		}
		scan = c->len - c->pos > 4 ? c->len - 4 : c->pos;
		size_t before = c->pos;
		if (conn_fill(c) < 0)
			return NULL;
		scan -= before - c->pos;	/* conn_fill moved the data to the start */
	}
}

/* Reads one reply (all its lines); its code, or -1. */
static int reply(struct conn *c)
{
	for (;;) {
		size_t len;
		char *line = conn_line(c, &len);

		if (line == NULL || len < 4)
			return -1;
		if (line[3] != '-')
			return atoi(line);
	}
}

static int sink_open(struct conn *s)
{
	s->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	s->ssl = NULL;
	s->len = s->pos = 0;
	int one = 1;

	setsockopt(s->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (s->fd < 0 || connect(s->fd, (struct sockaddr *)&sink_sa, sizeof(sink_sa)) < 0 ||
	    reply(s) != 220 || say(s, "EHLO floor.example.test\r\n") < 0 || reply(s) != 250) {
		if (s->fd >= 0)
			close(s->fd);
		s->fd = -1;
		return -1;
	}
	return 0;
}

static int relay(struct conn *s, const char *from, const char *rcpt, const char *msg, size_t len)
{
	char cmds[2048];

	if (s->fd < 0 && sink_open(s) < 0)
		return -1;
	snprintf(cmds, sizeof(cmds), "MAIL FROM:<%s>\r\nRCPT TO:<%s>\r\nDATA\r\n", from, rcpt);
	if (say(s, cmds) < 0 || reply(s) != 250 || reply(s) != 250 || reply(s) != 354 ||
	    conn_write(s, msg, len) < 0 || say(s, ".\r\n") < 0 || reply(s) != 250) {
		close(s->fd);
		s->fd = -1;
		return -1;
	}
	return 0;
}

/* Copies the address between < and > of a MAIL or RCPT line. */
static void addr_copy(char *dst, size_t cap, const char *line, size_t len)
{
	const char *lt = memchr(line, '<', len), *gt = lt != NULL ? memchr(lt, '>', len - (size_t)(lt - line)) : NULL;
	size_t n = lt != NULL && gt != NULL ? (size_t)(gt - lt - 1) : 0;

	if (n >= cap)
		n = cap - 1;
	memcpy(dst, lt != NULL ? lt + 1 : "", n);
	dst[n] = '\0';
}

static void session(struct conn *c, struct conn *sink, int qfd)
{
	char from[512] = "", rcpt[512] = "";

	if (say(c, "220 floor ESMTP\r\n") < 0)
		return;
	for (;;) {
		size_t len;
		char *line = conn_line(c, &len);

		if (line == NULL || len < 4)
			return;
		if (strncasecmp(line, "EHLO", 4) == 0) {
			if (say(c, c->ssl == NULL ? "250-floor\r\n250-PIPELINING\r\n250 STARTTLS\r\n"
						  : "250-floor\r\n250-PIPELINING\r\n250 AUTH PLAIN\r\n") < 0)
				return;
		} else if (strncasecmp(line, "STARTTLS", 8) == 0 && c->ssl == NULL) {
			if (say(c, "220 go ahead\r\n") < 0 || (c->ssl = SSL_new(ctx)) == NULL ||
			    SSL_set_fd(c->ssl, c->fd) != 1 || SSL_accept(c->ssl) != 1)
				return;
			c->len = c->pos = 0;
		} else if (strncasecmp(line, "AUTH PLAIN", 10) == 0) {
			if (len <= 13 && (say(c, "334 \r\n") < 0 || conn_line(c, &len) == NULL))
				return;
			if (say(c, "235 2.7.0 ok\r\n") < 0)
				return;
		} else if (strncasecmp(line, "MAIL", 4) == 0) {
			addr_copy(from, sizeof(from), line, len);
			if (say(c, "250 ok\r\n") < 0)
				return;
		} else if (strncasecmp(line, "RCPT", 4) == 0) {
			addr_copy(rcpt, sizeof(rcpt), line, len);
			if (say(c, "250 ok\r\n") < 0)
				return;
		} else if (strncasecmp(line, "DATA", 4) == 0) {
			char *msg;

			if (say(c, "354 go ahead\r\n") < 0 || (msg = conn_data(c, &len)) == NULL)
				return;
			if (pwrite(qfd, msg, len, 0) != (ssize_t)len || ftruncate(qfd, (off_t)len) < 0)
				die("queue file");
			group_sync();
			if (say(c, "250 2.0.0 queued\r\n") < 0)
				return;
			if (relay(sink, from, rcpt, msg, len) < 0)
				fprintf(stderr, "smtp-relay-floor: relay failed\n");
		} else if (strncasecmp(line, "QUIT", 4) == 0) {
			say(c, "221 bye\r\n");
			return;
		} else if (say(c, "250 ok\r\n") < 0) {
			return;
		}
	}
}

static void *worker_main(void *arg)
{
	struct conn *c = malloc(sizeof(*c)), *sink = malloc(sizeof(*sink));
	char path[4096];

	if (c == NULL || sink == NULL)
		die("malloc");
	sink->fd = -1;
	snprintf(path, sizeof(path), "%s/q%ld", queue_dir, (long)(intptr_t)arg);
	int qfd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);

	if (qfd < 0)
		die(path);
	for (;;) {
		int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC), one = 1;

		if (fd < 0)
			continue;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		c->fd = fd;
		c->ssl = NULL;
		c->len = c->pos = 0;
		session(c, sink, qfd);
		if (c->ssl != NULL)
			SSL_free(c->ssl);
		close(fd);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc != 8) {
		fprintf(stderr, "usage: smtp-relay-floor PORT CERT KEY QUEUEDIR SINKADDR SINKPORT THREADS\n");
		return 2;
	}
	int port = atoi(argv[1]), threads = atoi(argv[7]), one = 1;
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((unsigned short)port) };

	queue_dir = argv[4];
	sink_sa.sin_family = AF_INET;
	sink_sa.sin_port = htons((unsigned short)atoi(argv[6]));
	if (inet_pton(AF_INET, argv[5], &sink_sa.sin_addr) != 1 || threads < 1 || threads > 256)
		return 2;
	ctx = SSL_CTX_new(TLS_server_method());
	if (ctx == NULL || SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) != 1 ||
	    SSL_CTX_use_certificate_chain_file(ctx, argv[2]) != 1 ||
	    SSL_CTX_use_PrivateKey_file(ctx, argv[3], SSL_FILETYPE_PEM) != 1) {
		ERR_print_errors_fp(stderr);
		return 1;
	}
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_num_tickets(ctx, 0);
	if ((rootfd = open(queue_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		die(queue_dir);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
	    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(lfd, 1024) < 0)
		die("listen");
	pthread_t t;
	if (pthread_create(&t, NULL, sync_main, NULL) != 0)
		die("pthread_create");
	for (long i = 0; i < threads; i++) {
		if (pthread_create(&t, NULL, worker_main, (void *)(intptr_t)i) != 0)
			die("pthread_create");
	}
	pthread_join(t, NULL);
	return 0;
}
