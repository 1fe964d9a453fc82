/* ManageSieve commands (RFC 5804 section 4): parsing and string quoting. */
#include "proto/managesieve.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

static const struct {
	const char *name;
	enum msieve_verb verb;
} msieve_verbs[] = {
	{ "AUTHENTICATE", MSIEVE_AUTHENTICATE }, { "STARTTLS", MSIEVE_STARTTLS },
	{ "LOGOUT", MSIEVE_LOGOUT }, { "CAPABILITY", MSIEVE_CAPABILITY },
	{ "HAVESPACE", MSIEVE_HAVESPACE }, { "PUTSCRIPT", MSIEVE_PUTSCRIPT },
	{ "LISTSCRIPTS", MSIEVE_LISTSCRIPTS }, { "SETACTIVE", MSIEVE_SETACTIVE },
	{ "GETSCRIPT", MSIEVE_GETSCRIPT }, { "DELETESCRIPT", MSIEVE_DELETESCRIPT },
	{ "RENAMESCRIPT", MSIEVE_RENAMESCRIPT }, { "CHECKSCRIPT", MSIEVE_CHECKSCRIPT },
	{ "NOOP", MSIEVE_NOOP }, { "UNAUTHENTICATE", MSIEVE_UNAUTHENTICATE },
};

/* Where parsing stands: in[0..len), at pos; line counts the octets outside
 * literals. */
struct msieve_cursor {
	const char *in;
	size_t len, pos, line, literal_max;
	char *scratch;
	size_t scratch_used;
	size_t need;
	const char *error;
};

enum { STEP_OK = 1, STEP_MORE = 0, STEP_ERROR = -1, STEP_TOO_BIG = -2 };

static int cursor_error(struct msieve_cursor *c, const char *why)
{
	c->error = why;
	return STEP_ERROR;
}

static int cursor_more(struct msieve_cursor *c, size_t need)
{
	c->need = need > c->len ? need : c->len + 1;
	return STEP_MORE;
}

/* A quoted string: escapes \" and \\ only, no CR, LF or NUL. */
static int parse_quoted(struct msieve_cursor *c, struct msieve_arg *arg)
{
	char *out = c->scratch + c->scratch_used;
	size_t n = 0;

	for (size_t p = c->pos + 1;; p++) {
		char ch;

		if (p >= c->len)
			return cursor_more(c, p + 1);
		ch = c->in[p];
		if (ch == '"') {
			arg->type = MSIEVE_ARG_STRING;
			arg->data = out;
			arg->len = n;
			out[n] = '\0';
			c->scratch_used += n + 1;
			c->line += p + 1 - c->pos;
			c->pos = p + 1;
			return STEP_OK;
		}
		if (ch == '\r' || ch == '\n' || ch == '\0')
			return cursor_error(c, "a quoted string may not hold CR, LF or NUL: send a literal {N+}");
		if (ch == '\\') {
			if (++p >= c->len)
				return cursor_more(c, p + 1);
			ch = c->in[p];
			if (ch != '"' && ch != '\\')
				return cursor_error(c, "only \\\" and \\\\ may be escaped in a quoted string");
		}
		if (n + 1 >= MSIEVE_QUOTED_MAX)
			return cursor_error(c, "quoted string too long: send a literal {N+}");
		out[n++] = ch;
	}
}

/* A literal: "{" number ["+"] "}" CRLF, then the octets. The synchronizing
 * form is taken like the other: the server never asks for the rest. */
static int parse_literal(struct msieve_cursor *c, struct msieve_arg *arg)
{
	size_t p = c->pos + 1, digits = 0;
	uint64_t n = 0;

	for (; p < c->len && c->in[p] >= '0' && c->in[p] <= '9'; p++, digits++) {
		n = n * 10 + (uint64_t)(c->in[p] - '0');
		if (n > 4294967295u || digits > 10)
			return STEP_TOO_BIG;
	}
	if (p < c->len && c->in[p] == '+')
		p++;
	if (p >= c->len)
		return cursor_more(c, p + 3);
	if (digits == 0 || c->in[p] != '}')
		return cursor_error(c, "bad literal: {N+} then CRLF");
	if (p + 2 >= c->len)
		return cursor_more(c, p + 3);
	if (c->in[p + 1] != '\r' || c->in[p + 2] != '\n')
		return cursor_error(c, "bad literal: {N+} then CRLF");
	if (n > c->literal_max)
		return STEP_TOO_BIG;
	p += 3;
	c->line += p - c->pos;
	if (c->len - p < n)
		return cursor_more(c, p + (size_t)n + 2);
	arg->type = MSIEVE_ARG_STRING;
	arg->data = c->in + p;
	arg->len = (size_t)n;
	c->pos = p + (size_t)n;
	return STEP_OK;
}

static int parse_number(struct msieve_cursor *c, struct msieve_arg *arg)
{
	size_t p = c->pos;
	uint64_t n = 0;

	for (; p < c->len && c->in[p] >= '0' && c->in[p] <= '9'; p++) {
		n = n * 10 + (uint64_t)(c->in[p] - '0');
		if (n > 4294967295u)
			return cursor_error(c, "number too large");
	}
	if (p >= c->len)
		return cursor_more(c, p + 1);
	arg->type = MSIEVE_ARG_NUMBER;
	arg->number = n;
	arg->data = NULL;
	arg->len = 0;
	c->line += p - c->pos;
	c->pos = p;
	return STEP_OK;
}

static int parse_arg(struct msieve_cursor *c, struct msieve_arg *arg)
{
	char ch = c->in[c->pos];

	if (ch == '"')
		return parse_quoted(c, arg);
	if (ch == '{')
		return parse_literal(c, arg);
	if (ch >= '0' && ch <= '9')
		return parse_number(c, arg);
	return cursor_error(c, "expected a string (\"...\" or {N+}) or a number");
}

/* Spaces, then CRLF (1: the end), another argument (0), or more input. */
static int parse_gap(struct msieve_cursor *c, bool *end_r)
{
	size_t p = c->pos;

	while (p < c->len && c->in[p] == ' ')
		p++;
	c->line += p - c->pos;
	c->pos = p;
	if (p >= c->len)
		return cursor_more(c, p + 1);
	if (c->in[p] == '\r') {
		if (p + 1 >= c->len)
			return cursor_more(c, p + 2);
		if (c->in[p + 1] != '\n')
			return cursor_error(c, "CR without LF");
		c->pos = p + 2;
		*end_r = true;
		return STEP_OK;
	}
	if (c->in[p] == '\n') {	/* a bare LF ends a line too, as clients send it */
		c->pos = p + 1;
		*end_r = true;
		return STEP_OK;
	}
	*end_r = false;
	return STEP_OK;
}

/* The arguments up to the line end, at most max. */
static int parse_args(struct msieve_cursor *c, struct msieve_arg *args, unsigned max, unsigned *n_r)
{
	*n_r = 0;
	for (;;) {
		bool end = false;
		int r = parse_gap(c, &end);

		if (r != STEP_OK)
			return r;
		if (end)
			return STEP_OK;
		if (*n_r == max)
			return cursor_error(c, "too many arguments");
		r = parse_arg(c, &args[*n_r]);
		if (r != STEP_OK)
			return r;
		(*n_r)++;
		if (c->line > MSIEVE_LINE_MAX)
			return STEP_TOO_BIG;
		if (c->pos < c->len && c->in[c->pos] != ' ' && c->in[c->pos] != '\r' && c->in[c->pos] != '\n')
			return cursor_error(c, "expected a space between arguments");
	}
}

/* After an error: the octets up to and including the line's end, or more
 * input. */
static enum msieve_parse_result parse_skip(struct msieve_cursor *c, size_t *used_r, size_t *need_r,
					   const char **error_r)
{
	const char *lf = c->pos < c->len ? memchr(c->in + c->pos, '\n', c->len - c->pos) : NULL;

	*error_r = c->error;
	if (lf == NULL) {
		if (c->len > MSIEVE_LINE_MAX + c->pos)
			return MSIEVE_PARSE_TOO_BIG;
		*need_r = c->len + 1;
		return MSIEVE_PARSE_MORE;
	}
	*used_r = (size_t)(lf - c->in) + 1;
	return MSIEVE_PARSE_ERROR;
}

static enum msieve_parse_result parse_finish(struct msieve_cursor *c, int r, size_t *used_r, size_t *need_r,
					     const char **error_r)
{
	if (r == STEP_OK) {
		*used_r = c->pos;
		return MSIEVE_PARSE_OK;
	}
	if (r == STEP_TOO_BIG) {
		*error_r = "command or literal too large";
		return MSIEVE_PARSE_TOO_BIG;
	}
	if (r == STEP_MORE) {
		if (c->line > MSIEVE_LINE_MAX) {
			*error_r = "line too long";
			return MSIEVE_PARSE_TOO_BIG;
		}
		*need_r = c->need;
		return MSIEVE_PARSE_MORE;
	}
	return parse_skip(c, used_r, need_r, error_r);
}

enum msieve_parse_result msieve_parse(const char *in, size_t len, size_t literal_max, char *scratch,
				      struct msieve_command *cmd, size_t *used_r, size_t *need_r,
				      const char **error_r)
{
	struct msieve_cursor c = { .in = in, .len = len, .literal_max = literal_max, .scratch = scratch };
	size_t p = 0;
	int r;

	memset(cmd, 0, sizeof(*cmd));
	*used_r = 0;
	*need_r = 0;
	*error_r = NULL;
	while (p < len && ((in[p] >= 'A' && in[p] <= 'Z') || (in[p] >= 'a' && in[p] <= 'z')))
		p++;
	if (p >= len)
		return parse_finish(&c, p > MSIEVE_LINE_MAX ? STEP_TOO_BIG : cursor_more(&c, p + 1), used_r,
				    need_r, error_r);
	if (p == 0 || p >= sizeof(cmd->verb_text) ||
	    (in[p] != ' ' && in[p] != '\r' && in[p] != '\n')) {
		c.error = p == 0 ? "expected a command" : "unknown command";
		return parse_skip(&c, used_r, need_r, error_r);
	}
	memcpy(cmd->verb_text, in, p);
	cmd->verb_text[p] = '\0';
	for (size_t i = 0; i < sizeof(msieve_verbs) / sizeof(msieve_verbs[0]); i++) {
		if (strcasecmp(cmd->verb_text, msieve_verbs[i].name) == 0)
			cmd->verb = msieve_verbs[i].verb;
	}
	c.pos = c.line = p;
	r = parse_args(&c, cmd->args, MSIEVE_MAX_ARGS, &cmd->nargs);
	return parse_finish(&c, r, used_r, need_r, error_r);
}

enum msieve_parse_result msieve_parse_string_line(const char *in, size_t len, size_t literal_max,
						  char *scratch, struct msieve_arg *arg, size_t *used_r,
						  size_t *need_r, const char **error_r)
{
	struct msieve_cursor c = { .in = in, .len = len, .literal_max = literal_max, .scratch = scratch };
	unsigned n;
	int r;

	*used_r = 0;
	*need_r = 0;
	*error_r = NULL;
	r = parse_args(&c, arg, 1, &n);
	if (r == STEP_OK && (n != 1 || arg->type != MSIEVE_ARG_STRING)) {
		*error_r = "expected one string";
		*used_r = c.pos;
		return MSIEVE_PARSE_ERROR;
	}
	return parse_finish(&c, r, used_r, need_r, error_r);
}

/* The length of the UTF-8 character at s (at most n octets), 0 when it is
 * not well formed. */
static size_t utf8_char(const unsigned char *s, size_t n)
{
	size_t need;
	unsigned cp;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		need = 2, cp = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		need = 3, cp = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		need = 4, cp = s[0] & 0x07;
	else
		return 0;
	if (n < need)
		return 0;
	for (size_t i = 1; i < need; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((need == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) || (need == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	if (cp >= 0x80 && cp <= 0x9f)	/* C1 controls */
		return 0;
	if (cp == 0x2028 || cp == 0x2029)	/* line and paragraph separators */
		return 0;
	return need;
}

bool msieve_name_valid(const char *name, size_t len)
{
	const unsigned char *s = (const unsigned char *)name;

	if (len == 0 || len > 128)
		return false;
	for (size_t i = 0; i < len;) {
		size_t n;

		if (s[i] < 0x20 || s[i] == 0x7f || s[i] == '/')
			return false;
		n = utf8_char(s + i, len - i);
		if (n == 0)
			return false;
		i += n;
	}
	return true;
}

size_t msieve_string(char *out, size_t size, const char *s, size_t len)
{
	bool literal = len > MSIEVE_QUOTED_MAX / 2 || memchr(s, '\r', len) != NULL ||
		       memchr(s, '\n', len) != NULL || memchr(s, '\0', len) != NULL;
	size_t n = 0;

	if (literal) {
		char head[32];
		int h = snprintf(head, sizeof(head), "{%zu}\r\n", len);

		if ((size_t)h + len < size) {
			memcpy(out, head, (size_t)h);
			memcpy(out + h, s, len);
			out[h + len] = '\0';
		}
		return (size_t)h + len;
	}
	for (size_t i = 0; i < len; i++)
		n += (s[i] == '"' || s[i] == '\\') ? 2 : 1;
	n += 2;
	if (n < size) {
		size_t o = 0;

		out[o++] = '"';
		for (size_t i = 0; i < len; i++) {
			if (s[i] == '"' || s[i] == '\\')
				out[o++] = '\\';
			out[o++] = s[i];
		}
		out[o++] = '"';
		out[o] = '\0';
	}
	return n;
}
