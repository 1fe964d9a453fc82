#ifndef YUBIN_HTTP_API_PARSE_H
#define YUBIN_HTTP_API_PARSE_H

#include <stdbool.h>
#include <stddef.h>

#include "directory/directory.h"

/* The JSON API's readings of a request: pure, no I/O (api_parse.c). */

#define API_PARAMS_MAX 3
#define API_PARAM_MAX (DIR_ADDRESS_MAX + 1)

/* Does path match a route's pattern ("/api/v1/domains/{domain}")? Each
 * {x} matches one non-empty segment, percent-decoded into params (in
 * order); a segment that decodes to NUL or '/', or longer than
 * API_PARAM_MAX - 1, matches nothing. */
bool api_path_match(const char *pattern, const char *path, char params[][API_PARAM_MAX]);
/* The same; slash: a segment may decode to '/' (a mail folder's name). */
bool api_path_match_slash(const char *pattern, const char *path, char params[][API_PARAM_MAX], bool slash);
/* Answer in Japanese? lang (?lang=) "ja" or "en" wins; else the ja or en
 * item of Accept-Language with the higher q (the first on a tie); else
 * English. Either may be NULL. */
bool api_lang_is_ja(const char *lang, const char *accept);
/* The value of the cookie name in a Cookie header into out; "" when
 * absent or too long for out. */
void api_cookie_value(const char *header, const char *name, char *out, size_t size);
/* Is an Origin header this server's own: "https://" and exactly the Host
 * header (any case)? */
bool api_origin_is_host(const char *origin, const char *host);
/* The query string without its empty pairs ("&lang=en&" -> "lang=en"),
 * which libevent's parser refuses, into out (size at least strlen(query)
 * + 1: the result is never longer). */
void api_query_compact(const char *query, char *out);
/* Is a Content-Type application/json (parameters allowed)? */
bool api_type_is_json(const char *type);

#endif
