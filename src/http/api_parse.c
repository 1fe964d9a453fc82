/* How the JSON API reads a request's path, language, cookie, origin and
 * content type (see api_parse.h): pure. */
#include "http/api_parse.h"
#include "lib/str.h"

#include <event2/http.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Matches path against a route's pattern, decoding the {x} segments into
 * params. */
bool api_path_match(const char *pattern, const char *path, char params[][API_PARAM_MAX])
{
	return api_path_match_slash(pattern, path, params, false);
}

bool api_path_match_slash(const char *pattern, const char *path, char params[][API_PARAM_MAX], bool slash)
{
	size_t np = 0;

	while (*pattern != '\0' && *path != '\0') {
		size_t pl = strcspn(pattern, "/"), sl = strcspn(path, "/");

		if (pattern[0] == '{') {
			char seg[3 * API_PARAM_MAX], *dec;
			size_t dlen;

			if (sl == 0 || sl >= sizeof(seg) || np == API_PARAMS_MAX)
				return false;
			memcpy(seg, path, sl);
			seg[sl] = '\0';
			dec = evhttp_uridecode(seg, 0, &dlen);
			if (dec == NULL)
				return false;
			if (dlen >= API_PARAM_MAX || memchr(dec, '\0', dlen) != NULL ||
			    (!slash && strchr(dec, '/') != NULL)) {
				free(dec);
				return false;
			}
			memcpy(params[np++], dec, dlen + 1);
			free(dec);
		} else if (pl != sl || memcmp(pattern, path, pl) != 0) {
			return false;
		}
		pattern += pl;
		path += sl;
		if ((*pattern == '/') != (*path == '/'))
			return false;
		if (*pattern == '/')
			pattern++, path++;
	}
	return *pattern == '\0' && *path == '\0';
}

/* ?lang=ja|en wins, else the better of ja and en in Accept-Language (the
 * first on a tie), else English. */
bool api_lang_is_ja(const char *lang, const char *accept)
{
	double best = 0;
	bool ja = false;

	if (lang != NULL && (strcmp(lang, "ja") == 0 || strcmp(lang, "en") == 0))
		return strcmp(lang, "ja") == 0;
	while (accept != NULL && *accept != '\0') {
		size_t n = strcspn(accept, ",");
		char item[64];
		const char *qp;
		double q = 1;

		if (n < sizeof(item)) {
			memcpy(item, accept, n);
			item[n] = '\0';
			qp = strstr(item, ";q=");
			if (qp == NULL)
				qp = strstr(item, "; q=");
			if (qp != NULL)
				q = strtod(strchr(qp, '=') + 1, NULL);
			while (item[0] == ' ')
				memmove(item, item + 1, strlen(item));
			if (q > best && (strncasecmp(item, "ja", 2) == 0 || strncasecmp(item, "en", 2) == 0) &&
			    (item[2] == '\0' || item[2] == '-' || item[2] == ';' || item[2] == ' ')) {
				best = q;
				ja = strncasecmp(item, "ja", 2) == 0;
			}
		}
		accept += n;
		if (*accept == ',')
			accept++;
	}
	return ja;
}

void api_cookie_value(const char *header, const char *name, char *out, size_t size)
{
	size_t nlen = strlen(name);
	const char *p = header;

	out[0] = '\0';
	while (p != NULL && *p != '\0') {
		size_t n;

		while (*p == ' ' || *p == ';')
			p++;
		n = strcspn(p, ";");
		if (n > nlen && strncmp(p, name, nlen) == 0 && p[nlen] == '=') {
			if (n - nlen - 1 < size)
				str_copyn(out, size, p + nlen + 1, n - nlen - 1);
			return;
		}
		p += n;
	}
}

bool api_origin_is_host(const char *origin, const char *host)
{
	return origin != NULL && host != NULL && strncmp(origin, "https://", 8) == 0 &&
	       strcasecmp(origin + 8, host) == 0;
}

bool api_type_is_json(const char *type)
{
	return type != NULL && strncasecmp(type, "application/json", 16) == 0 &&
	       (type[16] == '\0' || type[16] == ';' || type[16] == ' ');
}

void api_query_compact(const char *query, char *out)
{
	char *o = out;

	for (const char *p = query; *p != '\0';) {
		size_t n = strcspn(p, "&");

		if (n > 0) {
			if (o != out)
				*o++ = '&';
			memcpy(o, p, n);
			o += n;
		}
		p += n;
		if (*p == '&')
			p++;
	}
	*o = '\0';
}
