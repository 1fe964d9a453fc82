#ifndef YUBIN_HTTP_HTTP_PATH_H
#define YUBIN_HTTP_HTTP_PATH_H

#include <stddef.h>

/* Pure checks on request paths; no I/O. */

/* Turns the raw (percent-encoded) path of a request into a relative file
 * name under the static root: "/" and "/dir/" get "index.html". Refused
 * (-1): anything not starting with '/', encoded '/', '\\' or NUL, bytes
 * below 0x20, bad %XX, a segment that is empty, "." or ".." or starts
 * with '.', and names longer than out_size - 1. */
int http_path_to_file(const char *raw, char *out, size_t out_size);

/* The Content-Type for a file name, by extension. */
const char *http_content_type(const char *name);

/* Whether an Accept-Encoding value accepts gzip (a q=0 refuses it). */
int http_accepts_gzip(const char *accept_encoding);

/* Whether an If-None-Match value names etag (or is "*"). */
int http_etag_matches(const char *if_none_match, const char *etag);

#endif
