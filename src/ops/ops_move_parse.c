/* The pure parts of an account move (ops/ops_move.h): reading the few
 * IMAP responses the mover needs, canonical flags, and the plan that makes
 * one folder of the target equal to the source's. No I/O. */
#include "ops/ops_move.h"
#include "lib/str.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MOVE_FLAG_TOKENS 128

static const char *const move_system_flags[] = { "\\Seen", "\\Answered", "\\Flagged", "\\Deleted", "\\Draft" };

static int flag_cmp(const void *a, const void *b)
{
	int r = strcasecmp(*(const char *const *)a, *(const char *const *)b);

	return r != 0 ? r : strcmp(*(const char *const *)a, *(const char *const *)b);
}

int move_flags_normalize(const char *in, char *out, size_t size)
{
	char copy[MOVE_FLAGS_MAX * 2], *tok[MOVE_FLAG_TOKENS], *save = NULL;
	size_t n = 0, o = 0;

	if (size == 0 || str_copy(copy, sizeof(copy), in) < 0)
		return -1;
	for (char *t = strtok_r(copy, " ()", &save); t != NULL; t = strtok_r(NULL, " ()", &save)) {
		bool dup = false;

		if (strcasecmp(t, "\\Recent") == 0)
			continue;
		for (size_t i = 0; i < sizeof(move_system_flags) / sizeof(move_system_flags[0]); i++) {
			if (strcasecmp(t, move_system_flags[i]) == 0)
				t = (char *)move_system_flags[i];
		}
		for (size_t i = 0; i < n && !dup; i++)
			dup = strcasecmp(tok[i], t) == 0;
		if (dup)
			continue;
		if (n == MOVE_FLAG_TOKENS)
			return -1;
		tok[n++] = t;
	}
	qsort(tok, n, sizeof(tok[0]), flag_cmp);
	out[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		int w = snprintf(out + o, size - o, "%s%s", i > 0 ? " " : "", tok[i]);
		if (w < 0 || (size_t)w >= size - o)
			return -1;
		o += (size_t)w;
	}
	return 0;
}

/* The item name at p, whole (after '(' or ' ', before ' '). */
static const char *fetch_item(const char *line, const char *name)
{
	size_t len = strlen(name);

	for (const char *p = line; (p = strstr(p, name)) != NULL; p += len) {
		if ((p == line || p[-1] == '(' || p[-1] == ' ') && p[len] == ' ')
			return p + len + 1;
	}
	return NULL;
}

int move_parse_fetch(const char *line, uint32_t *uid_r, char *flags, size_t fsize, char *date, size_t dsize)
{
	const char *p;

	if ((p = fetch_item(line, "UID")) != NULL) {
		char *end;
		unsigned long v = strtoul(p, &end, 10);

		if (end == p || v == 0 || v > UINT32_MAX)
			return -1;
		*uid_r = (uint32_t)v;
	}
	if ((p = fetch_item(line, "FLAGS")) != NULL) {
		const char *close;
		char inner[MOVE_FLAGS_MAX];

		if (*p != '(' || (close = strchr(p, ')')) == NULL || (size_t)(close - p - 1) >= sizeof(inner))
			return -1;
		memcpy(inner, p + 1, (size_t)(close - p - 1));
		inner[close - p - 1] = '\0';
		if (move_flags_normalize(inner, flags, fsize) < 0)
			return -1;
	}
	if ((p = fetch_item(line, "INTERNALDATE")) != NULL) {
		const char *close;

		if (*p != '"' || (close = strchr(p + 1, '"')) == NULL || (size_t)(close - p - 1) >= dsize)
			return -1;
		memcpy(date, p + 1, (size_t)(close - p - 1));
		date[close - p - 1] = '\0';
	}
	return 0;
}

int move_parse_fetch_size(const char *line, uint64_t *size_r)
{
	const char *p = fetch_item(line, "RFC822.SIZE");
	char *end;
	unsigned long long v;

	if (p == NULL)
		return 0;
	v = strtoull(p, &end, 10);
	if (end == p || (*end != ' ' && *end != ')' && *end != '\0'))
		return -1;
	*size_r = v;
	return 0;
}

/* A quoted string at *pp into out (unescaped); *pp moves past it. */
static int parse_quoted(const char **pp, char *out, size_t size)
{
	const char *p = *pp + 1;
	size_t o = 0;

	for (; *p != '"'; p++) {
		if (*p == '\0' || o + 1 >= size)
			return -1;
		if (*p == '\\' && (p[1] == '\\' || p[1] == '"'))
			p++;
		out[o++] = *p;
	}
	out[o] = '\0';
	*pp = p + 1;
	return 0;
}

int move_parse_list(const char *line, char *name, size_t size, bool *noselect_r)
{
	const char *p = line, *close;
	char delim[8];

	if (*p != '(' || (close = strchr(p, ')')) == NULL)
		return -1;
	*noselect_r = false;
	for (const char *a = p; a < close; a++) {
		if (*a == '\\' && (strncasecmp(a, "\\Noselect", 9) == 0 || strncasecmp(a, "\\NonExistent", 12) == 0))
			*noselect_r = true;
	}
	p = close + 1;
	if (*p++ != ' ')
		return -1;
	if (*p == '"') {
		if (parse_quoted(&p, delim, sizeof(delim)) < 0)
			return -1;
	} else if (strncasecmp(p, "NIL", 3) == 0) {
		p += 3;
	} else {
		return -1;
	}
	if (*p++ != ' ' || *p == '\0' || *p == '{')
		return -1;
	if (*p == '"') {
		if (parse_quoted(&p, name, size) < 0 || *p != '\0')
			return -1;
		return 0;
	}
	if (strchr(p, ' ') != NULL || str_copy(name, size, p) < 0)
		return -1;
	return 0;
}

int move_parse_code(const char *line, const char *code, uint64_t *value_r)
{
	char pat[64];
	const char *p;
	char *end;

	if (snprintf(pat, sizeof(pat), "[%s ", code) >= (int)sizeof(pat) || (p = strstr(line, pat)) == NULL)
		return -1;
	p += strlen(pat);
	if (*p < '0' || *p > '9')
		return -1;
	*value_r = strtoull(p, &end, 10);
	return *end == ']' ? 0 : -1;
}

int move_quote(const char *str, char *out, size_t size)
{
	size_t o = 0;

	if (size < 3)
		return -1;
	out[o++] = '"';
	for (const char *p = str; *p != '\0'; p++) {
		if (*p == '\r' || *p == '\n' || o + 4 > size)
			return -1;
		if (*p == '"' || *p == '\\')
			out[o++] = '\\';
		out[o++] = *p;
	}
	out[o++] = '"';
	out[o] = '\0';
	return 0;
}

void move_plan_make(const struct move_msg *src, size_t nsrc, const struct move_msg *dst, size_t ndst,
		    struct move_plan *plan)
{
	size_t i = 0, j = 0;

	plan->ncopy = plan->nupdate = plan->nexpunge = 0;
	while (i < nsrc || j < ndst) {
		if (j == ndst || (i < nsrc && src[i].uid < dst[j].uid)) {
			plan->copy[plan->ncopy++] = i++;
		} else if (i == nsrc || dst[j].uid < src[i].uid) {
			plan->expunge[plan->nexpunge++] = dst[j++].uid;
		} else {
			if (strcmp(src[i].flags, dst[j].flags) != 0)
				plan->update[plan->nupdate++] = i;
			i++;
			j++;
		}
	}
}
