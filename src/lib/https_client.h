#ifndef YUBIN_LIB_HTTPS_CLIENT_H
#define YUBIN_LIB_HTTPS_CLIENT_H

#include <stdbool.h>
#include <stddef.h>

/* A small blocking HTTPS client (OpenSSL over a plain socket) for the ACME
 * client and, later, MTA-STS policy fetches: one request per connection
 * (Connection: close), the server's certificate verified against a CA
 * file (or the system's) and the URL's host name, one deadline for the
 * whole exchange, and bounded headers and body. It blocks the calling
 * thread: run it on a thread of its own or in yubinctl, never on a loop.
 * The reply parser and the URL reader are pure (no I/O). */

#define HTTPS_MAX_HEADERS 40

struct https_url {
	char host[256];		/* without brackets for IPv6 */
	unsigned port;
	char path[2048];	/* path and query, "/" at least */
};

/* Reads an https:// URL. 0, or -1 with *error_r. Pure. */
int https_url_parse(const char *url, struct https_url *u, const char **error_r);

struct https_header {
	char *name, *value;	/* inside the response's own buffer */
};

struct https_response {
	int status;
	struct https_header headers[HTTPS_MAX_HEADERS];
	size_t nheaders;
	char *body;		/* NUL-terminated (the terminator not counted) */
	size_t body_len;
	char *raw;		/* owns everything above */
	char *decoded;		/* the de-chunked body, when chunked */
};

struct https_limits {
	size_t max_header;	/* status line and headers */
	size_t max_body;
};

/* Parses the HTTP/1.1 response received so far (len bytes of buf; eof:
 * the peer has closed; head: the answer to a HEAD, without a body).
 * Returns 1 when it is complete (resp filled, with copies of its own), 0
 * when more is needed, -1 on a malformed or oversized response
 * (*error_r). Content-Length, chunked and read-to-close bodies. Pure. */
int https_response_parse(const char *buf, size_t len, bool eof, bool head,
			 const struct https_limits *lim, struct https_response *resp,
			 const char **error_r);
/* The value of the first header called name (any case), or NULL. */
const char *https_response_header(const struct https_response *resp, const char *name);
/* Frees what the response holds; resp may be reused. NULL is fine. */
void https_response_clear(struct https_response *resp);

struct https_client;

/* ca_file: PEM file of trusted CAs, or "" for the system's. NULL with a
 * message in err when the file cannot be loaded. */
struct https_client *https_client_new(const char *ca_file, char *err, size_t errsize);
void https_client_free(struct https_client *c);

struct https_request {
	const char *method;		/* "GET", "POST", "HEAD" */
	const char *url;
	const char *content_type;	/* for a body, else NULL */
	const char *body;
	size_t body_len;
	const char *accept;		/* NULL: no Accept header */
	unsigned timeout_ms;		/* the whole exchange */
	struct https_limits limits;
	const char *resolver;		/* NULL: getaddrinfo; else lib/dns.c's lookup
					 * through it ("" system, "ADDRESS[:PORT]") */
};

/* Sends req and reads the response into *resp (cleared first). 0, or -1
 * with the reason in err (connect, TLS, certificate, timeout, size). */
int https_request(struct https_client *c, const struct https_request *req,
		  struct https_response *resp, char *err, size_t errsize);

#endif
