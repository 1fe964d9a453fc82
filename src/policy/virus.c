/* The clamd client: connect, "zINSTREAM\0", the message in chunks each
 * after its 4-byte big-endian length, a zero length, then one reply of at
 * most CLAMD_REPLY_MAX bytes up to its NUL. Every step waits with poll()
 * against one deadline, so a clamd that accepts and never answers costs at
 * most timeout_ms. */
#include "policy/virus.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define VIRUS_CHUNK (64 * 1024)

static int64_t virus_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits for events on fd until the deadline: 1 ready, 0 timed out, -1 error. */
static int virus_wait(int fd, short events, int64_t deadline)
{
	for (;;) {
		struct pollfd p = { .fd = fd, .events = events };
		int64_t left = deadline - virus_now_ms();
		int r;

		if (left <= 0)
			return 0;
		r = poll(&p, 1, left > 60000 ? 60000 : (int)left);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r > 0)
			return 1;
	}
}

static int virus_fail(struct virus_result *r, const char *what, int err)
{
	r->verdict = VIRUS_UNAVAILABLE;
	r->timed_out = strncmp(what, "timed out", 9) == 0;
	if (err != 0)
		snprintf(r->why, sizeof(r->why), "%s: %s", what, strerror(err));
	else
		snprintf(r->why, sizeof(r->why), "%s", what);
	return -1;
}

/* A non-blocking socket connected to clamd: the fd, or -1. */
static int virus_connect(const struct clamd_address *a, int64_t deadline, struct virus_result *r)
{
	struct sockaddr_storage ss;
	socklen_t sslen;
	int fd, err = 0;
	socklen_t errlen = sizeof(err);

	memset(&ss, 0, sizeof(ss));
	if (a->transport == CLAMD_UNIX) {
		struct sockaddr_un *un = (struct sockaddr_un *)&ss;
		un->sun_family = AF_UNIX;
		memcpy(un->sun_path, a->path, strlen(a->path) + 1);
		sslen = sizeof(*un);
	} else if (inet_pton(AF_INET, a->ip, &((struct sockaddr_in *)&ss)->sin_addr) == 1) {
		((struct sockaddr_in *)&ss)->sin_family = AF_INET;
		((struct sockaddr_in *)&ss)->sin_port = htons(a->port);
		sslen = sizeof(struct sockaddr_in);
	} else if (inet_pton(AF_INET6, a->ip, &((struct sockaddr_in6 *)&ss)->sin6_addr) == 1) {
		((struct sockaddr_in6 *)&ss)->sin6_family = AF_INET6;
		((struct sockaddr_in6 *)&ss)->sin6_port = htons(a->port);
		sslen = sizeof(struct sockaddr_in6);
	} else {
		return virus_fail(r, "bad clamd address", 0);
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return virus_fail(r, "socket", errno);
	if (connect(fd, (struct sockaddr *)&ss, sslen) == 0)
		return fd;
	if (errno != EINPROGRESS && errno != EAGAIN) {
		virus_fail(r, "cannot connect to clamd", errno);
		close(fd);
		return -1;
	}
	if (virus_wait(fd, POLLOUT, deadline) <= 0) {
		virus_fail(r, "timed out connecting to clamd", 0);
		close(fd);
		return -1;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &errlen) < 0 || err != 0) {
		virus_fail(r, "cannot connect to clamd", err != 0 ? err : errno);
		close(fd);
		return -1;
	}
	return fd;
}

/* Sends all of buf before the deadline: 0, or -1 (errno kept for EPIPE). */
static int virus_send(int fd, const void *buf, size_t len, int64_t deadline, struct virus_result *r)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
		if (n > 0) {
			p += n;
			len -= (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			int w = virus_wait(fd, POLLOUT, deadline);
			if (w == 0)
				return virus_fail(r, "timed out sending the message to clamd", 0);
			if (w < 0)
				return virus_fail(r, "poll", errno);
			continue;
		}
		return virus_fail(r, "clamd closed the connection while the message was sent", n < 0 ? errno : 0);
	}
	return 0;
}

/* Reads the reply up to its NUL (or EOF) into buf: its length, or -1. */
static ssize_t virus_read_reply(int fd, char *buf, size_t size, int64_t deadline, struct virus_result *r)
{
	size_t len = 0;

	for (;;) {
		ssize_t n;
		int w;

		if (len > 0 && memchr(buf, '\0', len) != NULL)
			return (ssize_t)len;
		if (len == size) {
			virus_fail(r, "the reply from clamd is too long", 0);
			return -1;
		}
		n = recv(fd, buf + len, size - len, 0);
		if (n > 0) {
			len += (size_t)n;
			continue;
		}
		if (n == 0) {
			if (len == 0)
				virus_fail(r, "clamd closed the connection without a reply", 0);
			return len > 0 ? (ssize_t)len : -1;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK) {
			virus_fail(r, "cannot read the reply from clamd", errno);
			return -1;
		}
		w = virus_wait(fd, POLLIN, deadline);
		if (w <= 0) {
			virus_fail(r, w == 0 ? "timed out waiting for the reply from clamd" : "poll", w == 0 ? 0 : errno);
			return -1;
		}
	}
}

/* Streams the message: 0, or -1. A clamd that refuses more (its
 * StreamMaxLength) says so in a reply and closes; the caller reads it. */
static int virus_stream(int fd, const char *msg, size_t len, int64_t deadline, struct virus_result *r)
{
	static const char cmd[] = "zINSTREAM";
	unsigned char hdr[4];

	if (virus_send(fd, cmd, sizeof(cmd), deadline, r) < 0)	/* with its NUL */
		return -1;
	for (size_t off = 0; off < len;) {
		size_t n = len - off < VIRUS_CHUNK ? len - off : VIRUS_CHUNK;
		clamd_chunk_header((uint32_t)n, hdr);
		if (virus_send(fd, hdr, 4, deadline, r) < 0 || virus_send(fd, msg + off, n, deadline, r) < 0)
			return -1;
		off += n;
	}
	clamd_chunk_header(0, hdr);
	return virus_send(fd, hdr, 4, deadline, r);
}

enum virus_verdict virus_scan(const struct clamd_address *a, unsigned timeout_ms, const char *msg, size_t len,
			      struct virus_result *r)
{
	int64_t deadline = virus_now_ms() + timeout_ms;
	char reply[CLAMD_REPLY_MAX + 1];
	const char *error;
	ssize_t rlen;
	bool sent;
	int fd, v;

	memset(r, 0, sizeof(*r));
	fd = virus_connect(a, deadline, r);
	if (fd < 0)
		return r->verdict;
	sent = virus_stream(fd, msg, len, deadline, r) == 0;
	/* Even when sending failed, clamd may have said why (size limit). */
	if (!sent)
		shutdown(fd, SHUT_WR);
	rlen = virus_read_reply(fd, reply, CLAMD_REPLY_MAX, deadline, r);
	close(fd);
	if (rlen < 0)
		return r->verdict;
	v = clamd_reply_parse(reply, (size_t)rlen, r->name, sizeof(r->name), &error);
	if (v == CLAMD_CLEAN && sent) {
		r->verdict = VIRUS_CLEAN;
	} else if (v == CLAMD_FOUND) {
		r->verdict = VIRUS_FOUND;	/* found in what was sent, even if not all was */
	} else if (v == CLAMD_ERROR) {
		virus_fail(r, "clamd: ", 0);
		snprintf(r->why, sizeof(r->why), "clamd: %s", r->name);
		/* "INSTREAM size limit exceeded. ERROR": clamd is fine, the
		 * message is longer than its StreamMaxLength */
		if (strstr(r->name, "size limit") != NULL)
			r->verdict = VIRUS_TOO_LARGE;
		r->name[0] = '\0';
	} else {
		virus_fail(r, v < 0 ? error : "clamd replied before the whole message was sent", 0);
	}
	return r->verdict;
}
