/* Static files of https.port: ETag and If-None-Match, precompressed .gz,
 * and output paced by the client (a chunk is read from the file only
 * when the previous one has gone out). */
#include "http/http_internal.h"
#include "http/http_path.h"
#include "lib/log.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define STATIC_CHUNK (64 * 1024)

struct transfer {
	struct evhttp_request *req;
	int fd;
	uint64_t left;
};

static void transfer_free(struct transfer *t)
{
	close(t->fd);
	free(t);
}

/* The connection went away mid-file. When the client closed or timed
 * out, evhttp has detached the unfinished request (no connection) and
 * leaves it to us; when the server frees the connection itself (the
 * shutdown), the request is still attached and evhttp frees it. */
static void transfer_closed(struct evhttp_connection *evcon, void *arg)
{
	struct transfer *t = arg;

	if (evhttp_request_get_connection(t->req) == NULL)
		evhttp_request_free(t->req);
	transfer_free(t);
}

static void transfer_next(struct evhttp_connection *evcon, void *arg)
{
	struct transfer *t = arg;
	struct evbuffer *buf;
	ssize_t n;
	char chunk[STATIC_CHUNK];

	if (t->left == 0) {
		evhttp_connection_set_closecb(evcon, NULL, NULL);
		evhttp_send_reply_end(t->req);
		transfer_free(t);
		return;
	}
	n = read(t->fd, chunk, t->left < sizeof(chunk) ? (size_t)t->left : sizeof(chunk));
	buf = evbuffer_new();
	if (n <= 0 || buf == NULL) {
		/* the length is promised: all that is left is to close */
		log_warn(NULL, "http: static file read failed: %s", n < 0 ? strerror(errno) : "short");
		if (buf != NULL)
			evbuffer_free(buf);
		evhttp_connection_set_closecb(evcon, NULL, NULL);
		transfer_free(t);
		evhttp_connection_free(evcon);
		return;
	}
	t->left -= (uint64_t)n;
	evbuffer_add(buf, chunk, (size_t)n);
	evhttp_send_reply_chunk_with_cb(t->req, buf, transfer_next, t);
	evbuffer_free(buf);
}

/* Opens root/name as a regular file. */
static int open_file(const char *root, const char *name, const char *suffix, struct stat *st)
{
	char path[8192];
	int fd;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s%s", root, name, suffix) >= sizeof(path))
		return -1;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0)
		return -1;
	if (fstat(fd, st) < 0 || !S_ISREG(st->st_mode)) {
		close(fd);
		return -1;
	}
	return fd;
}

static void start_transfer(struct evhttp_request *req, int fd, uint64_t size)
{
	struct transfer *t = calloc(1, sizeof(*t));
	struct evhttp_connection *evcon = evhttp_request_get_connection(req);

	if (t == NULL) {
		close(fd);
		http_send_error(req, 503, "Service Unavailable", true);
		return;
	}
	t->req = req;
	t->fd = fd;
	t->left = size;
	evhttp_send_reply_start(req, 200, "OK");
	evhttp_connection_set_closecb(evcon, transfer_closed, t);
	transfer_next(evcon, t);
}

/* The webmail (/mail/) shows mail's HTML in a sandboxed srcdoc iframe,
 * which inherits this policy besides its own stricter one: inline styles
 * and images are allowed here for the iframe only (the page itself never
 * takes markup from mail); remote images load only once the reader asks
 * (the iframe's own policy allows data: until then). No script but the
 * page's own file, no forms anywhere, no framing. */
static const char webmail_csp[] =
	"default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
	"img-src 'self' data: blob: https: http:; font-src 'self' data:; connect-src 'self'; "
	"frame-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; "
	"frame-ancestors 'none'";

void http_static_serve(struct evhttp_request *req, const char *root)
{
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	struct evkeyvalq *in = evhttp_request_get_input_headers(req);
	struct evkeyvalq *out = evhttp_request_get_output_headers(req);
	char name[1024], etag[80], len[32];
	struct stat st;
	bool gz = false;
	int fd = -1;

	if (strcmp(evhttp_uri_get_path(uri), "/mail") == 0) {
		http_security_headers(req, true);
		evhttp_add_header(out, "Location", "/mail/");
		http_send_reply(req, 301, "Moved Permanently", NULL);
		return;
	}
	if (http_path_to_file(evhttp_uri_get_path(uri), name, sizeof(name)) < 0) {
		http_send_error(req, 400, "Bad Request", true);
		return;
	}
	if (http_accepts_gzip(evhttp_find_header(in, "Accept-Encoding"))) {
		fd = open_file(root, name, ".gz", &st);
		gz = fd >= 0;
	}
	if (fd < 0)
		fd = open_file(root, name, "", &st);
	if (fd < 0) {
		http_send_error(req, 404, "Not Found", true);
		return;
	}
	snprintf(etag, sizeof(etag), "\"%" PRIx64 "-%" PRIx64 "-%" PRIx64 "%s\"", (uint64_t)st.st_size,
		 (uint64_t)st.st_mtim.tv_sec, (uint64_t)st.st_mtim.tv_nsec, gz ? "-gz" : "");
	if (strncmp(name, "mail/", 5) == 0)
		http_security_headers_csp(req, true, webmail_csp);
	else
		http_security_headers(req, true);
	evhttp_add_header(out, "ETag", etag);
	evhttp_add_header(out, "Vary", "Accept-Encoding");
	evhttp_add_header(out, "Cache-Control", "no-cache");
	evhttp_add_header(out, "Content-Type", http_content_type(name));
	if (gz)
		evhttp_add_header(out, "Content-Encoding", "gzip");
	if (http_etag_matches(evhttp_find_header(in, "If-None-Match"), etag)) {
		close(fd);
		evhttp_send_reply(req, 304, "Not Modified", NULL);
		return;
	}
	snprintf(len, sizeof(len), "%" PRIu64, (uint64_t)st.st_size);
	evhttp_add_header(out, "Content-Length", len);
	if (evhttp_request_get_command(req) == EVHTTP_REQ_HEAD || st.st_size == 0) {
		close(fd);
		evhttp_send_reply(req, 200, "OK", NULL);
		return;
	}
	start_transfer(req, fd, (uint64_t)st.st_size);
}
