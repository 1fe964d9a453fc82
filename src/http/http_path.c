/* Request path and header checks for the static files (pure). */
#include "http/http_path.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Checks the segment just written at out[start..len). */
static int segment_ok(const char *seg, size_t n)
{
	return n > 0 && seg[0] != '.';
}

int http_path_to_file(const char *raw, char *out, size_t out_size)
{
	size_t len = 0, seg = 0;
	const char *p;

	if (raw == NULL || raw[0] != '/' || out_size < 12)
		return -1;
	for (p = raw + 1; *p != '\0'; p++) {
		int c = (unsigned char)*p;

		if (c == '%') {
			int hi = hexval(p[1]), lo = hi < 0 ? -1 : hexval(p[2]);
			if (lo < 0)
				return -1;
			c = hi * 16 + lo;
			if (c == '/')
				return -1;	/* an encoded slash is never a separator */
			p += 2;
		} else if (c == '/') {
			if (!segment_ok(out + seg, len - seg))
				return -1;
			if (len + 1 >= out_size)
				return -1;
			out[len++] = '/';
			seg = len;
			continue;
		}
		if (c < 0x20 || c == 0x7f || c == '\\')
			return -1;
		if (len + 1 >= out_size)
			return -1;
		out[len++] = (char)c;
	}
	if (len == seg) {	/* "/" or "/dir/" */
		if (len + sizeof("index.html") > out_size)
			return -1;
		memcpy(out + len, "index.html", sizeof("index.html"));
		return 0;
	}
	if (!segment_ok(out + seg, len - seg))
		return -1;
	out[len] = '\0';
	return 0;
}

static const struct {
	const char *ext, *type;
} types[] = {
	{ ".html", "text/html; charset=utf-8" },
	{ ".css", "text/css; charset=utf-8" },
	{ ".js", "text/javascript; charset=utf-8" },
	{ ".mjs", "text/javascript; charset=utf-8" },
	{ ".json", "application/json" },
	{ ".svg", "image/svg+xml" },
	{ ".png", "image/png" },
	{ ".jpg", "image/jpeg" },
	{ ".ico", "image/vnd.microsoft.icon" },
	{ ".woff2", "font/woff2" },
	{ ".txt", "text/plain; charset=utf-8" },
	{ ".webmanifest", "application/manifest+json" },
};

const char *http_content_type(const char *name)
{
	const char *dot = strrchr(name, '.');

	if (dot != NULL && strchr(dot, '/') == NULL) {
		for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
			if (strcasecmp(dot, types[i].ext) == 0)
				return types[i].type;
	}
	return "application/octet-stream";
}

/* Walks a comma-separated header list; calls match on each token (without
 * parameters) and returns the first non-zero result. */
int http_accepts_gzip(const char *v)
{
	while (v != NULL && *v != '\0') {
		size_t n;
		const char *end = strchr(v, ','), *params;

		while (*v == ' ' || *v == '\t')
			v++;
		if (end == NULL)
			end = v + strlen(v);
		params = memchr(v, ';', (size_t)(end - v));
		n = (size_t)((params != NULL ? params : end) - v);
		while (n > 0 && (v[n - 1] == ' ' || v[n - 1] == '\t'))
			n--;
		if ((n == 4 && strncasecmp(v, "gzip", 4) == 0) || (n == 1 && v[0] == '*')) {
			/* q=0 (0, 0.0, 0.000) refuses */
			const char *q = params;
			int refused = 0;
			while (q != NULL && q < end) {
				q++;
				while (*q == ' ')
					q++;
				if ((q[0] == 'q' || q[0] == 'Q') && q[1] == '=') {
					const char *d = q + 2;
					refused = *d == '0';
					for (d++; refused && d < end && *d != ';' && *d != ' '; d++)
						refused = *d == '.' || *d == '0';
				}
				q = memchr(q, ';', (size_t)(end - q));
			}
			return !refused;
		}
		v = *end == ',' ? end + 1 : end;
	}
	return 0;
}

int http_etag_matches(const char *v, const char *etag)
{
	size_t elen = strlen(etag);

	while (v != NULL && *v != '\0') {
		while (*v == ' ' || *v == '\t' || *v == ',')
			v++;
		if (*v == '*')
			return 1;
		if (strncmp(v, "W/", 2) == 0)
			v += 2;	/* weak comparison (RFC 9110 13.1.2) */
		if (strncmp(v, etag, elen) == 0 && (v[elen] == '\0' || v[elen] == ',' || v[elen] == ' '))
			return 1;
		v = strchr(v, ',');
	}
	return 0;
}
