/* The pure half of the HTTPS client: an https:// URL and an HTTP/1.1
 * response (status line, headers, Content-Length / chunked / to-close
 * bodies), with the caller's limits. No I/O. */
#include "lib/https_client.h"
#include "lib/str.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int https_url_parse(const char *url, struct https_url *u, const char **error_r)
{
	const char *p, *host, *host_end, *path;
	uint64_t port = 443;

	memset(u, 0, sizeof(*u));
	if (!str_has_prefix_ci(url, "https://")) {
		*error_r = "not an https:// URL";
		return -1;
	}
	host = url + 8;
	path = host + strcspn(host, "/?#");
	if (*host == '[') {
		host++;
		host_end = memchr(host, ']', (size_t)(path - host));
		if (host_end == NULL) {
			*error_r = "unterminated IPv6 address";
			return -1;
		}
		p = host_end + 1;
	} else {
		p = host + strcspn(host, ":/?#");
		host_end = p;
	}
	if (host_end == host || (size_t)(host_end - host) >= sizeof(u->host) ||
	    memchr(host, '@', (size_t)(host_end - host)) != NULL) {
		*error_r = "bad host in URL";
		return -1;
	}
	for (const char *c = host; c < host_end; c++) {
		if (!isalnum((unsigned char)*c) && *c != '.' && *c != '-' && *c != ':') {
			*error_r = "bad host in URL";
			return -1;
		}
	}
	if (*p == ':') {
		char num[8];
		if (path - p - 1 < 1 || path - p - 1 > 5) {
			*error_r = "bad port in URL";
			return -1;
		}
		str_copyn(num, sizeof(num), p + 1, (size_t)(path - p - 1));
		if (str_parse_uint(num, 65535, &port) < 0 || port == 0) {
			*error_r = "bad port in URL";
			return -1;
		}
	} else if (p != path) {
		*error_r = "bad host in URL";
		return -1;
	}
	str_copyn(u->host, sizeof(u->host), host, (size_t)(host_end - host));
	u->port = (unsigned)port;
	if (*path == '#' || *path == '\0') {
		str_copy(u->path, sizeof(u->path), "/");
		return 0;
	}
	{
		size_t n = strcspn(path, "#");
		if (n + 2 > sizeof(u->path)) {
			*error_r = "URL too long";
			return -1;
		}
		for (size_t i = 0; i < n; i++) {
			if ((unsigned char)path[i] <= ' ' || path[i] == 0x7f) {
				*error_r = "bad character in URL";
				return -1;
			}
		}
		if (*path == '?')
			snprintf(u->path, sizeof(u->path), "/%.*s", (int)n, path);
		else
			str_copyn(u->path, sizeof(u->path), path, n);
	}
	return 0;
}

const char *https_response_header(const struct https_response *resp, const char *name)
{
	for (size_t i = 0; i < resp->nheaders; i++) {
		if (str_eq_ci(resp->headers[i].name, name))
			return resp->headers[i].value;
	}
	return NULL;
}

void https_response_clear(struct https_response *resp)
{
	if (resp == NULL)
		return;
	free(resp->raw);
	free(resp->decoded);
	memset(resp, 0, sizeof(*resp));
}

/* The status line "HTTP/1.x SSS ..." ending at eol. */
static int parse_status(const char *line, int *status_r)
{
	if (strncmp(line, "HTTP/1.", 7) != 0 || !isdigit((unsigned char)line[7]) || line[8] != ' ' ||
	    !isdigit((unsigned char)line[9]) || !isdigit((unsigned char)line[10]) ||
	    !isdigit((unsigned char)line[11]) || (line[12] != ' ' && line[12] != '\0'))
		return -1;
	*status_r = (line[9] - '0') * 100 + (line[10] - '0') * 10 + (line[11] - '0');
	return *status_r >= 100 ? 0 : -1;
}

/* Splits the header block (NUL-terminated, lines ending in CRLF or LF) in
 * place into resp's table. */
static int parse_headers(char *block, struct https_response *resp, const char **error_r)
{
	char *line = block, *next;

	next = strchr(line, '\n');
	if (next == NULL)
		return -1;
	*next++ = '\0';
	if (next - line >= 2 && next[-2] == '\r')
		next[-2] = '\0';
	if (parse_status(line, &resp->status) < 0) {
		*error_r = "bad status line";
		return -1;
	}
	for (line = next; *line != '\0'; line = next) {
		char *colon, *v, *end;

		next = strchr(line, '\n');
		if (next == NULL)
			next = line + strlen(line);
		else
			*next++ = '\0';
		end = line + strlen(line);
		if (end > line && end[-1] == '\r')
			*--end = '\0';
		if (*line == '\0')
			break;
		if (*line == ' ' || *line == '\t') {
			*error_r = "folded header line";
			return -1;
		}
		colon = strchr(line, ':');
		if (colon == NULL || colon == line) {
			*error_r = "bad header line";
			return -1;
		}
		for (char *c = line; c < colon; c++) {
			if ((unsigned char)*c <= ' ' || *c == 0x7f) {
				*error_r = "bad header name";
				return -1;
			}
		}
		*colon = '\0';
		for (v = colon + 1; *v == ' ' || *v == '\t'; v++)
			;
		while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
			*--end = '\0';
		if (resp->nheaders == HTTPS_MAX_HEADERS) {
			*error_r = "too many header fields";
			return -1;
		}
		resp->headers[resp->nheaders].name = line;
		resp->headers[resp->nheaders++].value = v;
	}
	return 0;
}

/* Decodes a chunked body from p (n bytes): 1 done, 0 more needed, -1 bad. */
static int parse_chunked(const char *p, size_t n, size_t max_body, char **out_r, size_t *len_r,
			 const char **error_r)
{
	char *out = malloc(max_body + 1);
	size_t pos = 0, len = 0;

	if (out == NULL) {
		*error_r = "out of memory";
		return -1;
	}
	for (;;) {
		uint64_t size = 0;
		size_t digits = 0;
		const char *eol = memchr(p + pos, '\n', n - pos);

		if (eol == NULL)
			goto more;
		while (pos < n && isxdigit((unsigned char)p[pos]) && digits < 16) {
			int c = tolower((unsigned char)p[pos++]);
			size = size * 16 + (uint64_t)(isdigit(c) ? c - '0' : c - 'a' + 10);
			digits++;
		}
		if (digits == 0 || (p[pos] != '\r' && p[pos] != '\n' && p[pos] != ';')) {
			*error_r = "bad chunk size";
			goto bad;
		}
		pos = (size_t)(eol - p) + 1;	/* chunk extensions ignored */
		if (size > max_body - len) {
			*error_r = "response body too large";
			goto bad;
		}
		if (size == 0)
			break;
		if (n - pos < size + 1)
			goto more;
		memcpy(out + len, p + pos, size);
		len += size;
		pos += size;
		if (p[pos] == '\r')
			pos++;
		if (pos >= n)
			goto more;
		if (p[pos] != '\n') {
			*error_r = "bad chunk end";
			goto bad;
		}
		pos++;
	}
	/* trailer fields up to the empty line */
	for (;;) {
		const char *eol = memchr(p + pos, '\n', n - pos);
		size_t l;

		if (eol == NULL)
			goto more;
		l = (size_t)(eol - (p + pos));
		pos = (size_t)(eol - p) + 1;
		if (l == 0 || (l == 1 && eol[-1] == '\r'))
			break;
	}
	out[len] = '\0';
	*out_r = out;
	*len_r = len;
	return 1;
more:
	free(out);
	return 0;
bad:
	free(out);
	return -1;
}

static int body_length(const struct https_response *resp, bool *chunked_r, int64_t *len_r,
		       const char **error_r)
{
	const char *te = https_response_header(resp, "Transfer-Encoding");
	const char *cl = https_response_header(resp, "Content-Length");
	uint64_t v;

	*chunked_r = false;
	*len_r = -1;
	if (te != NULL) {
		size_t n = strlen(te);
		if (n < 7 || !str_eq_ci(te + n - 7, "chunked")) {
			*error_r = "unsupported transfer coding";
			return -1;
		}
		*chunked_r = true;
		return 0;
	}
	if (cl != NULL) {
		if (str_parse_uint(cl, INT64_MAX, &v) < 0) {
			*error_r = "bad Content-Length";
			return -1;
		}
		*len_r = (int64_t)v;
	}
	return 0;
}

int https_response_parse(const char *buf, size_t len, bool eof, bool head,
			 const struct https_limits *lim, struct https_response *resp,
			 const char **error_r)
{
	const char *end = NULL;
	size_t hlen, blen;
	bool chunked;
	int64_t clen;
	int r;

	memset(resp, 0, sizeof(*resp));
	for (size_t i = 0; i + 1 < len && i < lim->max_header + 4; i++) {
		if (buf[i] == '\n' && (buf[i + 1] == '\n' || (buf[i + 1] == '\r' && i + 2 < len &&
							       buf[i + 2] == '\n'))) {
			end = buf + i + (buf[i + 1] == '\n' ? 2 : 3);
			break;
		}
	}
	if (end == NULL) {
		if (len > lim->max_header) {
			*error_r = "response header too large";
			return -1;
		}
		if (eof)
			*error_r = "connection closed before the response header ended";
		return eof ? -1 : 0;
	}
	hlen = (size_t)(end - buf);
	if (memchr(buf, '\0', hlen) != NULL) {
		*error_r = "NUL in the response header";
		return -1;
	}
	resp->raw = malloc(len + 1);
	if (resp->raw == NULL) {
		*error_r = "out of memory";
		return -1;
	}
	memcpy(resp->raw, buf, len);
	resp->raw[len] = '\0';
	resp->raw[hlen - 1] = '\0';
	if (parse_headers(resp->raw, resp, error_r) < 0 || body_length(resp, &chunked, &clen, error_r) < 0)
		goto bad;
	blen = len - hlen;
	if (head || resp->status == 204 || resp->status == 304 || resp->status < 200) {
		resp->body = resp->raw + hlen;
		resp->body[0] = '\0';
		return 1;
	}
	if (chunked) {
		r = parse_chunked(buf + hlen, blen, lim->max_body, &resp->decoded, &resp->body_len, error_r);
		if (r == 0 && eof) {
			*error_r = "connection closed inside a chunked body";
			r = -1;
		}
		if (r <= 0)
			goto incomplete;
		resp->body = resp->decoded;
		return 1;
	}
	if (clen >= 0 && (uint64_t)clen > lim->max_body) {
		*error_r = "response body too large";
		goto bad;
	}
	if (blen > lim->max_body) {
		*error_r = "response body too large";
		goto bad;
	}
	if (clen >= 0) {
		if (blen < (size_t)clen) {
			if (eof)
				*error_r = "connection closed before the body ended";
			r = eof ? -1 : 0;
			goto incomplete;
		}
		blen = (size_t)clen;
	} else if (!eof) {
		r = 0;
		goto incomplete;
	}
	resp->body = resp->raw + hlen;
	resp->body[blen] = '\0';
	resp->body_len = blen;
	return 1;
incomplete:
	https_response_clear(resp);
	return r;
bad:
	https_response_clear(resp);
	return -1;
}
