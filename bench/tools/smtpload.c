/*
 * smtpload: the load generator of bench/smtp-relay.
 *
 * Submits N messages over S concurrent sessions (one thread per session,
 * blocking I/O) to an SMTP submission port: EHLO, STARTTLS (TLS 1.3, any
 * certificate accepted), EHLO, AUTH PLAIN, MAIL, RCPT, DATA (dot-stuffed,
 * CRLF), QUIT.  One message per connection, or with --reuse every message
 * of a session over one connection.  Every message carries a unique
 * "X-Bench-Id: TAG-SEQ" header (SEQ = 0..N-1, taken from a shared counter,
 * so a session that finishes early takes more) and the same body as the
 * Python client the bench used before (BODY_LINE repeated, --size bytes).
 *
 * Protocol with the caller: once set up, smtpload prints "ready" on stdout
 * and waits for a line on stdin; then it sends, and at the end prints one
 * line per session ("session K: ok=.. failed=.. connections=..", with the
 * first errors on stderr) and a summary line "smtpload: ok=.. failed=..
 * seconds=.. cpu_user=.. cpu_sys=..".  Exit status 0 only if every message
 * got its 250 after DATA; 1 if any failed; 2 on a usage or setup error.
 *
 * Built by bench/smtp-relay:  cc -O2 -pthread smtpload.c -lssl -lcrypto
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>

#define BODY_LINE "0123456789 abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZ 0123456789\r\n"
#define LINE_MAX_LEN 4096  /* longest reply line accepted */
#define MAX_ERRS 5         /* error texts kept per session */
#define ERR_LEN 240

struct opts {
	const char *host, *tag, *user, *pass, *from, *rcpt_domain, *helo;
	int port, n, sessions, size, rcpts, reuse, auth, timeout;
};

struct session {
	int no;
	int ok, failed, connections, nerr;
	char err[MAX_ERRS][ERR_LEN];
	pthread_t tid;
};

struct conn {
	int fd;
	SSL *ssl;
	char buf[16384];
	size_t off, len;
	char line[LINE_MAX_LEN + 1];
};

static struct opts o;
static SSL_CTX *ctx;
static char *body;        /* dot-stuffed body with the final ".\r\n" */
static size_t body_len;
static char auth_b64[1024];
static atomic_int next_seq;
static pthread_barrier_t start_barrier;

static void die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("smtpload: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(2);
}

static void sess_err(struct session *s, const char *fmt, ...)
{
	if (s->nerr >= MAX_ERRS)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(s->err[s->nerr++], ERR_LEN, fmt, ap);
	va_end(ap);
}

/* ------------------------------------------------------------------ I/O */

static int conn_read(struct conn *c, char *dst, size_t cap)
{
	if (c->ssl) {
		int r = SSL_read(c->ssl, dst, (int)cap);
		return r > 0 ? r : -1;
	}
	ssize_t r;
	do
		r = read(c->fd, dst, cap);
	while (r < 0 && errno == EINTR);
	return r > 0 ? (int)r : -1;
}

static int conn_write(struct conn *c, const char *p, size_t len)
{
	while (len > 0) {
		ssize_t w;
		if (c->ssl) {
			w = SSL_write(c->ssl, p, (int)len);
			if (w <= 0)
				return -1;
		} else {
			w = write(c->fd, p, len);
			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0)
				return -1;
		}
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

/* One reply line into c->line (CRLF stripped); -1 on EOF/error/overlong. */
static int read_line(struct conn *c)
{
	size_t n = 0;
	for (;;) {
		if (c->off == c->len) {
			int r = conn_read(c, c->buf, sizeof c->buf);
			if (r < 0)
				return -1;
			c->off = 0;
			c->len = (size_t)r;
		}
		char ch = c->buf[c->off++];
		if (ch == '\n') {
			if (n > 0 && c->line[n - 1] == '\r')
				n--;
			c->line[n] = '\0';
			return 0;
		}
		if (n >= LINE_MAX_LEN)
			return -1;
		c->line[n++] = ch;
	}
}

/* Reads a whole (multi-line) reply; returns its code, or -1.  *has_auth
 * (if given) is set when an EHLO reply line names AUTH ... PLAIN. */
static int read_reply(struct conn *c, int *has_auth)
{
	for (;;) {
		if (read_line(c) < 0)
			return -1;
		size_t len = strlen(c->line);
		if (len < 3 || c->line[0] < '1' || c->line[0] > '5')
			return -1;
		if (has_auth && len > 4 && strncasecmp(c->line + 4, "AUTH", 4) == 0 &&
		    strcasestr(c->line + 4, "PLAIN"))
			*has_auth = 1;
		if (len == 3 || c->line[3] == ' ')
			return atoi(c->line);
		if (c->line[3] != '-')
			return -1;
	}
}

/* Sends cmd (without CRLF) and expects a reply with code want. */
static int cmd(struct conn *c, struct session *s, const char *what, int want,
	       const char *fmt, ...)
{
	char out[1200];
	va_list ap;
	va_start(ap, fmt);
	int len = vsnprintf(out, sizeof out - 2, fmt, ap);
	va_end(ap);
	if (len < 0 || (size_t)len >= sizeof out - 2)
		return -1;
	memcpy(out + len, "\r\n", 2);
	if (conn_write(c, out, (size_t)len + 2) < 0) {
		sess_err(s, "%s: write failed (%s)", what, strerror(errno));
		return -1;
	}
	int code = read_reply(c, NULL);
	if (code != want) {
		if (code < 0)
			sess_err(s, "%s: no reply (connection closed or timeout)", what);
		else
			sess_err(s, "%s: %s", what, c->line);
		return -1;
	}
	return 0;
}

static void conn_close(struct conn *c)
{
	if (c->ssl) {
		SSL_shutdown(c->ssl);
		SSL_free(c->ssl);
		c->ssl = NULL;
	}
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	c->off = c->len = 0;
}

/* Connect, EHLO, STARTTLS, EHLO, AUTH PLAIN. */
static int conn_open(struct conn *c, struct session *s)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)o.port) };
	if (inet_pton(AF_INET, o.host, &sa.sin_addr) != 1)
		die("bad address %s", o.host);
	c->ssl = NULL;
	c->off = c->len = 0;
	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0) {
		sess_err(s, "socket: %s", strerror(errno));
		return -1;
	}
	struct timeval tv = { .tv_sec = o.timeout };
	setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	int one = 1;
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	if (connect(c->fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
		sess_err(s, "connect %s:%d: %s", o.host, o.port, strerror(errno));
		goto fail;
	}
	s->connections++;
	int code = read_reply(c, NULL);
	if (code != 220) {
		sess_err(s, "greeting: %s", code < 0 ? "none" : c->line);
		goto fail;
	}
	if (cmd(c, s, "EHLO", 250, "EHLO %s", o.helo) < 0 ||
	    cmd(c, s, "STARTTLS", 220, "STARTTLS") < 0)
		goto fail;
	if (c->off != c->len) {
		sess_err(s, "STARTTLS: data after the 220 (injection?)");
		goto fail;
	}
	c->ssl = SSL_new(ctx);
	if (!c->ssl || SSL_set_fd(c->ssl, c->fd) != 1 || SSL_connect(c->ssl) != 1) {
		unsigned long e = ERR_get_error();
		sess_err(s, "TLS handshake: %s", e ? ERR_error_string(e, NULL) : strerror(errno));
		ERR_clear_error();
		goto fail;
	}
	if (conn_write(c, "EHLO ", 5) < 0 || conn_write(c, o.helo, strlen(o.helo)) < 0 ||
	    conn_write(c, "\r\n", 2) < 0) {
		sess_err(s, "EHLO after STARTTLS: write failed");
		goto fail;
	}
	int has_auth = 0;
	code = read_reply(c, &has_auth);
	if (code != 250) {
		sess_err(s, "EHLO after STARTTLS: %s", code < 0 ? "no reply" : c->line);
		goto fail;
	}
	if (o.auth) {
		if (!has_auth) {
			sess_err(s, "EHLO after STARTTLS: no AUTH PLAIN offered");
			goto fail;
		}
		if (cmd(c, s, "AUTH PLAIN", 235, "AUTH PLAIN %s", auth_b64) < 0)
			goto fail;
	}
	return 0;
fail:
	conn_close(c);
	return -1;
}

/* ------------------------------------------------------------- message */

static void make_body(void)
{
	size_t ll = strlen(BODY_LINE), sz = (size_t)o.size;
	char *raw = malloc(sz + ll + 1);
	if (!raw)
		die("out of memory");
	size_t n = 0;
	while (n < sz) {
		memcpy(raw + n, BODY_LINE, ll);
		n += ll;
	}
	/* as the Python client: the first size-2 bytes, then CRLF */
	if (sz >= 2) {
		raw[sz - 2] = '\r';
		raw[sz - 1] = '\n';
	}
	n = sz;
	/* dot-stuffing: a '.' at the start of a line gets another '.' */
	body = malloc(2 * n + 8);
	if (!body)
		die("out of memory");
	size_t j = 0;
	int bol = 1;
	for (size_t i = 0; i < n; i++) {
		if (bol && raw[i] == '.')
			body[j++] = '.';
		body[j++] = raw[i];
		bol = raw[i] == '\n';
	}
	if (!bol) {
		body[j++] = '\r';
		body[j++] = '\n';
	}
	memcpy(body + j, ".\r\n", 3);
	body_len = j + 3;
	free(raw);
}

static int send_message(struct conn *c, struct session *s, int seq, char *msg,
			size_t cap)
{
	char rcpt[256];
	snprintf(rcpt, sizeof rcpt, "user%d@%s", seq % o.rcpts + 1, o.rcpt_domain);
	if (cmd(c, s, "MAIL", 250, "MAIL FROM:<%s>", o.from) < 0 ||
	    cmd(c, s, "RCPT", 250, "RCPT TO:<%s>", rcpt) < 0 ||
	    cmd(c, s, "DATA", 354, "DATA") < 0)
		return -1;
	char date[64];
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S +0000", &tm);
	int hl = snprintf(msg, cap,
			  "From: Bench Sender <%s>\r\n"
			  "To: <%s>\r\n"
			  "Subject: relay benchmark %d\r\n"
			  "Date: %s\r\n"
			  "Message-ID: <%s.%d@bench.example.test>\r\n"
			  "X-Bench-Id: %s-%d\r\n"
			  "MIME-Version: 1.0\r\n"
			  "Content-Type: text/plain; charset=us-ascii\r\n"
			  "\r\n",
			  o.from, rcpt, seq, date, o.tag, seq, o.tag, seq);
	if (hl < 0 || (size_t)hl + body_len > cap)
		die("header too long");
	memcpy(msg + hl, body, body_len);
	if (conn_write(c, msg, (size_t)hl + body_len) < 0) {
		sess_err(s, "message %d: write of the data failed (%s)", seq, strerror(errno));
		return -1;
	}
	int code = read_reply(c, NULL);
	if (code != 250) {
		sess_err(s, "message %d: end of data: %s", seq,
			 code < 0 ? "no reply (connection closed or timeout)" : c->line);
		return -1;
	}
	return 0;
}

/* QUIT and close: a failed QUIT loses no accepted message, so it is no
 * error of the session. */
static void quit(struct conn *c, struct session *s)
{
	int nerr = s->nerr;

	cmd(c, s, "QUIT", 221, "QUIT");
	s->nerr = nerr;
	conn_close(c);
}

static void *session_main(void *arg)
{
	struct session *s = arg;
	struct conn c = { .fd = -1 };
	size_t cap = body_len + 2048;
	char *msg = malloc(cap);
	if (!msg)
		die("out of memory");
	pthread_barrier_wait(&start_barrier);
	for (;;) {
		int seq = atomic_fetch_add(&next_seq, 1);
		if (seq >= o.n)
			break;
		if (c.fd < 0 && conn_open(&c, s) < 0) {
			s->failed++;
			continue;
		}
		if (send_message(&c, s, seq, msg, cap) < 0) {
			s->failed++;
			conn_close(&c);
			continue;
		}
		s->ok++;
		if (!o.reuse)
			quit(&c, s);
	}
	if (c.fd >= 0)
		quit(&c, s);
	free(msg);
	return NULL;
}

/* ---------------------------------------------------------------- main */

static void usage(void)
{
	fputs("usage: smtpload -p PORT [-H 127.0.0.1] [-n 2000] [-s 20] [--reuse]\n"
	      "       [--size 10240] [--tag TAG] [--user U --pass P | --no-auth]\n"
	      "       [--from ADDR] [--rcpt-domain D] [--rcpts 10] [--helo NAME]\n"
	      "       [--timeout 120] [--no-wait]\n", stderr);
	exit(2);
}

static double tv_sec(struct timeval tv)
{
	return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

int main(int argc, char **argv)
{
	o = (struct opts){ .host = "127.0.0.1", .tag = "t", .user = "sender@example.test",
			   .pass = "", .from = "sender@example.test",
			   .rcpt_domain = "remote.test", .helo = "client.example.test",
			   .n = 2000, .sessions = 20, .size = 10240, .rcpts = 10, .auth = 1,
			   .timeout = 120 };
	int wait_go = 1;
	static const struct option lo[] = {
		{ "reuse", no_argument, NULL, 'r' }, { "size", required_argument, NULL, 'z' },
		{ "tag", required_argument, NULL, 't' }, { "user", required_argument, NULL, 'u' },
		{ "pass", required_argument, NULL, 'P' }, { "no-auth", no_argument, NULL, 'A' },
		{ "from", required_argument, NULL, 'f' },
		{ "rcpt-domain", required_argument, NULL, 'd' },
		{ "rcpts", required_argument, NULL, 'R' }, { "helo", required_argument, NULL, 'e' },
		{ "timeout", required_argument, NULL, 'T' }, { "no-wait", no_argument, NULL, 'W' },
		{ NULL, 0, NULL, 0 }
	};
	int ch;
	while ((ch = getopt_long(argc, argv, "p:H:n:s:", lo, NULL)) != -1) {
		switch (ch) {
		case 'p': o.port = atoi(optarg); break;
		case 'H': o.host = optarg; break;
		case 'n': o.n = atoi(optarg); break;
		case 's': o.sessions = atoi(optarg); break;
		case 'r': o.reuse = 1; break;
		case 'z': o.size = atoi(optarg); break;
		case 't': o.tag = optarg; break;
		case 'u': o.user = optarg; break;
		case 'P': o.pass = optarg; break;
		case 'A': o.auth = 0; break;
		case 'f': o.from = optarg; break;
		case 'd': o.rcpt_domain = optarg; break;
		case 'R': o.rcpts = atoi(optarg); break;
		case 'e': o.helo = optarg; break;
		case 'T': o.timeout = atoi(optarg); break;
		case 'W': wait_go = 0; break;
		default: usage();
		}
	}
	if (optind != argc || o.port <= 0 || o.port > 65535 || o.n < 1 || o.sessions < 1 ||
	    o.sessions > 1000 || o.size < 2 || o.size > 64 * 1024 * 1024 || o.rcpts < 1 ||
	    o.timeout < 1 || strlen(o.tag) > 100 || strlen(o.from) > 200 ||
	    strlen(o.rcpt_domain) > 200 || strlen(o.helo) > 200)
		usage();

	/* AUTH PLAIN: base64("\0user\0pass") */
	unsigned char plain[600];
	size_t ul = strlen(o.user), pl = strlen(o.pass);
	if (ul + pl + 2 > sizeof plain)
		die("user/password too long");
	plain[0] = 0;
	memcpy(plain + 1, o.user, ul);
	plain[1 + ul] = 0;
	memcpy(plain + 2 + ul, o.pass, pl);
	EVP_EncodeBlock((unsigned char *)auth_b64, plain, (int)(ul + pl + 2));

	ctx = SSL_CTX_new(TLS_client_method());
	if (!ctx || SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) != 1)
		die("SSL_CTX_new failed");
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);  /* self-signed bench certs */
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF); /* a handshake each */
	make_body();

	if (o.sessions > o.n)
		o.sessions = o.n;
	struct session *ss = calloc((size_t)o.sessions, sizeof *ss);
	if (!ss)
		die("out of memory");
	pthread_barrier_init(&start_barrier, NULL, (unsigned)o.sessions + 1);
	for (int i = 0; i < o.sessions; i++) {
		ss[i].no = i;
		if (pthread_create(&ss[i].tid, NULL, session_main, &ss[i]) != 0)
			die("pthread_create failed");
	}
	if (wait_go) {
		printf("ready\n");
		fflush(stdout);
		char go[64];
		if (!fgets(go, sizeof go, stdin))
			die("no go line on stdin");
	}
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	pthread_barrier_wait(&start_barrier);
	int ok = 0, failed = 0;
	for (int i = 0; i < o.sessions; i++) {
		pthread_join(ss[i].tid, NULL);
		ok += ss[i].ok;
		failed += ss[i].failed;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	for (int i = 0; i < o.sessions; i++) {
		struct session *s = &ss[i];
		printf("session %d: ok=%d failed=%d connections=%d\n", s->no, s->ok, s->failed,
		       s->connections);
		for (int e = 0; e < s->nerr; e++)
			fprintf(stderr, "smtpload: session %d: %s\n", s->no, s->err[e]);
	}
	printf("smtpload: ok=%d failed=%d seconds=%.4f cpu_user=%.3f cpu_sys=%.3f\n", ok,
	       failed, (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9,
	       tv_sec(ru.ru_utime), tv_sec(ru.ru_stime));
	fflush(stdout);
	return failed ? 1 : 0;
}
