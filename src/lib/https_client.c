/* The I/O half of the HTTPS client: connect with a deadline, TLS with the
 * server's certificate and host name verified, one request, the response
 * read until it is complete or the peer closes (https_reply.c parses). */
#include "lib/https_client.h"
#include "lib/dns.h"
#include "lib/str.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

struct https_client {
	SSL_CTX *ctx;
};

struct https_client *https_client_new(const char *ca_file, char *err, size_t errsize)
{
	struct https_client *c = calloc(1, sizeof(*c));

	if (c == NULL || (c->ctx = SSL_CTX_new(TLS_client_method())) == NULL) {
		snprintf(err, errsize, "cannot make a TLS context");
		free(c);
		return NULL;
	}
	SSL_CTX_set_min_proto_version(c->ctx, TLS1_2_VERSION);
	SSL_CTX_set_verify(c->ctx, SSL_VERIFY_PEER, NULL);
	if (ca_file != NULL && ca_file[0] != '\0'
	    ? SSL_CTX_load_verify_locations(c->ctx, ca_file, NULL) != 1
	    : SSL_CTX_set_default_verify_paths(c->ctx) != 1) {
		snprintf(err, errsize, "%s: cannot load the CA certificates",
			 ca_file != NULL && ca_file[0] != '\0' ? ca_file : "system store");
		ERR_clear_error();
		https_client_free(c);
		return NULL;
	}
	return c;
}

void https_client_free(struct https_client *c)
{
	if (c == NULL)
		return;
	SSL_CTX_free(c->ctx);
	free(c);
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits until fd is ready for events or the deadline passes (-1). */
static int wait_fd(int fd, short events, long long deadline)
{
	struct pollfd p = { .fd = fd, .events = events };
	long long left = deadline - now_ms();
	int r;

	if (left <= 0)
		return -1;
	do {
		r = poll(&p, 1, (int)(left > 60000 ? 60000 : left));
	} while (r < 0 && errno == EINTR);
	return r > 0 ? 0 : -1;
}

static int connect_one(const struct addrinfo *ai, long long deadline)
{
	int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, ai->ai_protocol);
	int soerr = 0;
	socklen_t sl = sizeof(soerr);

	if (fd < 0)
		return -1;
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
		return fd;
	if (errno != EINPROGRESS || wait_fd(fd, POLLOUT, deadline) < 0 ||
	    getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0 || soerr != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* The host's A/AAAA records through resolver (dns.resolver), tried in
 * order. */
static int connect_resolved(const struct https_url *u, const char *resolver, long long deadline, char *err,
			    size_t errsize)
{
	struct dns_addr addrs[8];
	const char *error = "";
	size_t n = 0;
	int fd = -1;

	if (dns_addr_lookup(resolver, u->host, u->port, addrs, 8, &n, &error) != DNS_OK || n == 0) {
		snprintf(err, errsize, "%s: no address (%s)", u->host, error[0] != '\0' ? error : "no records");
		return -1;
	}
	for (size_t i = 0; i < n && fd < 0; i++) {
		struct addrinfo ai = { .ai_family = addrs[i].ss.ss_family, .ai_socktype = SOCK_STREAM,
				       .ai_addr = (struct sockaddr *)&addrs[i].ss, .ai_addrlen = addrs[i].len };

		fd = connect_one(&ai, deadline);
	}
	if (fd < 0)
		snprintf(err, errsize, "%s port %u: cannot connect%s", u->host, u->port,
			 now_ms() >= deadline ? " (timeout)" : "");
	return fd;
}

static int connect_host(const struct https_url *u, long long deadline, char *err, size_t errsize)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV };
	struct addrinfo *res, *ai;
	char port[8];
	int fd = -1, r;

	snprintf(port, sizeof(port), "%u", u->port);
	r = getaddrinfo(u->host, port, &hints, &res);
	if (r != 0) {
		snprintf(err, errsize, "%s: %s", u->host, gai_strerror(r));
		return -1;
	}
	for (ai = res; ai != NULL && fd < 0; ai = ai->ai_next)
		fd = connect_one(ai, deadline);
	freeaddrinfo(res);
	if (fd < 0)
		snprintf(err, errsize, "%s port %u: cannot connect%s", u->host, u->port,
			 now_ms() >= deadline ? " (timeout)" : "");
	return fd;
}

/* Runs one SSL operation to completion on the non-blocking socket. */
static int ssl_run(SSL *ssl, int fd, int r, long long deadline)
{
	int e = SSL_get_error(ssl, r);

	if (e == SSL_ERROR_WANT_READ)
		return wait_fd(fd, POLLIN, deadline) < 0 ? -2 : 0;
	if (e == SSL_ERROR_WANT_WRITE)
		return wait_fd(fd, POLLOUT, deadline) < 0 ? -2 : 0;
	return -1;
}

static int tls_start(SSL *ssl, int fd, const struct https_url *u, long long deadline, char *err,
		     size_t errsize)
{
	unsigned char ip[16];
	bool literal = inet_pton(AF_INET, u->host, ip) == 1 || inet_pton(AF_INET6, u->host, ip) == 1;
	int r;

	SSL_set_fd(ssl, fd);
	if (literal) {
		X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), u->host);
	} else {
		SSL_set_tlsext_host_name(ssl, u->host);
		SSL_set1_host(ssl, u->host);
	}
	while ((r = SSL_connect(ssl)) != 1) {
		int w = ssl_run(ssl, fd, r, deadline);
		if (w == 0)
			continue;
		if (SSL_get_verify_result(ssl) != X509_V_OK)
			snprintf(err, errsize, "%s: certificate not trusted: %s", u->host,
				 X509_verify_cert_error_string(SSL_get_verify_result(ssl)));
		else
			snprintf(err, errsize, "%s: TLS handshake %s", u->host, w == -2 ? "timed out" : "failed");
		ERR_clear_error();
		return -1;
	}
	return 0;
}

static int send_all(SSL *ssl, int fd, const char *p, size_t n, long long deadline)
{
	while (n > 0) {
		int r = SSL_write(ssl, p, n > 65536 ? 65536 : (int)n);
		if (r > 0) {
			p += r;
			n -= (size_t)r;
		} else if (ssl_run(ssl, fd, r, deadline) < 0) {
			return -1;
		}
	}
	return 0;
}

static char *request_text(const struct https_request *req, const struct https_url *u, size_t *len_r)
{
	size_t cap = strlen(u->path) + strlen(u->host) + 512 + req->body_len;
	char *out = malloc(cap);
	char host[300];
	int n;

	if (out == NULL)
		return NULL;
	if (strchr(u->host, ':') != NULL)
		snprintf(host, sizeof(host), "[%s]", u->host);
	else
		snprintf(host, sizeof(host), "%s", u->host);
	n = snprintf(out, cap, "%s %s HTTP/1.1\r\nHost: %s", req->method, u->path, host);
	if (u->port != 443)
		n += snprintf(out + n, cap - (size_t)n, ":%u", u->port);
	n += snprintf(out + n, cap - (size_t)n, "\r\nUser-Agent: yubin\r\nConnection: close\r\n");
	if (req->accept != NULL)
		n += snprintf(out + n, cap - (size_t)n, "Accept: %.100s\r\n", req->accept);
	if (req->content_type != NULL || req->body_len > 0)
		n += snprintf(out + n, cap - (size_t)n, "Content-Type: %.100s\r\nContent-Length: %zu\r\n",
			      req->content_type != NULL ? req->content_type : "application/octet-stream",
			      req->body_len);
	n += snprintf(out + n, cap - (size_t)n, "\r\n");
	if (req->body_len > 0)
		memcpy(out + n, req->body, req->body_len);
	*len_r = (size_t)n + req->body_len;
	return out;
}

/* Reads until the parser has a whole response, the peer closes, or the
 * buffer (header + body limits + chunk framing) is full. */
static int read_response(SSL *ssl, int fd, const struct https_request *req, long long deadline,
			 struct https_response *resp, char *err, size_t errsize)
{
	size_t cap = req->limits.max_header + req->limits.max_body + req->limits.max_body / 8 + 4096;
	size_t len = 0;
	char *buf = malloc(cap);
	bool head = strcmp(req->method, "HEAD") == 0;
	const char *error = "incomplete response";
	int r = 0;

	if (buf == NULL) {
		snprintf(err, errsize, "out of memory");
		return -1;
	}
	for (;;) {
		bool eof = false;
		int n = len < cap ? SSL_read(ssl, buf + len, (int)(cap - len > 65536 ? 65536 : cap - len)) : 0;

		if (n > 0) {
			len += (size_t)n;
		} else if (len < cap) {
			int w = ssl_run(ssl, fd, n, deadline);
			if (w == 0)
				continue;
			if (w == -2) {
				snprintf(err, errsize, "timed out waiting for the response");
				r = -1;
				break;
			}
			eof = true;	/* closed (cleanly or not): parse what came */
		} else {
			eof = true;
		}
		r = https_response_parse(buf, len, eof, head, &req->limits, resp, &error);
		if (r != 0 || eof) {
			if (r <= 0)
				snprintf(err, errsize, "%s", error);
			r = r == 1 ? 0 : -1;
			break;
		}
	}
	free(buf);
	ERR_clear_error();
	return r;
}

int https_request(struct https_client *c, const struct https_request *req,
		  struct https_response *resp, char *err, size_t errsize)
{
	long long deadline = now_ms() + (req->timeout_ms > 0 ? req->timeout_ms : 30000);
	struct https_url u;
	const char *error;
	char *text = NULL;
	size_t text_len;
	SSL *ssl = NULL;
	int fd, ret = -1;

	memset(resp, 0, sizeof(*resp));
	if (https_url_parse(req->url, &u, &error) < 0) {
		snprintf(err, errsize, "%s: %s", req->url, error);
		return -1;
	}
	fd = req->resolver != NULL ? connect_resolved(&u, req->resolver, deadline, err, errsize)
				   : connect_host(&u, deadline, err, errsize);
	if (fd < 0)
		return -1;
	ssl = SSL_new(c->ctx);
	if (ssl == NULL || tls_start(ssl, fd, &u, deadline, err, errsize) < 0)
		goto out;
	text = request_text(req, &u, &text_len);
	if (text == NULL || send_all(ssl, fd, text, text_len, deadline) < 0) {
		snprintf(err, errsize, "%s: cannot send the request", u.host);
		goto out;
	}
	ret = read_response(ssl, fd, req, deadline, resp, err, errsize);
	if (ret == 0)
		SSL_shutdown(ssl);
out:
	free(text);
	SSL_free(ssl);
	close(fd);
	ERR_clear_error();
	return ret;
}
