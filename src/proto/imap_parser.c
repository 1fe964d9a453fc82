/* The incremental IMAP command parser: a byte-driven state machine that
 * builds one argument tree per command in an arena. Literal data is copied
 * (or handed out) in bulk; everything else goes one byte at a time, so the
 * result never depends on how the input is split. */
#include "proto/imap_parser.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum pstate {
	S_TAG, S_NAME, S_ARGS, S_ATOM, S_TILDE, S_QUOTED, S_LITSIZE, S_LIT_LF,
	S_LIT_DATA, S_LIT_STREAM, S_CR, S_SKIP, S_SKIP_LIT, S_DONE, S_FATAL,
};

/* step results beyond enum imap_parse_result */
#define R_OK 100	/* byte used, go on */
#define R_AGAIN 101	/* state changed, give the same byte to the new state */

#define LITERAL_MINUS_MAX 4096

struct imap_parser {
	struct imap_parser_limits lim;
	struct imap_arena *arena;
	enum pstate state;

	char *tok;
	size_t tok_len, tok_cap;

	struct imap_arg *pend;	/* finished arguments, all depths, in order */
	size_t npend, pend_cap;
	size_t *frames;		/* pend index where each open list starts */
	unsigned depth;
	unsigned nargs;
	bool need_sep;

	size_t line_bytes;
	size_t lit_mem;
	struct imap_literal_info lit;
	unsigned lit_digits;
	bool lit_cr;
	uint64_t lit_remaining;
	char *lit_buf;
	size_t lit_pos;
	bool lit_has_nul;

	bool in_bracket, in_bquote, bq_escape, q_escape;

	int skip_lit;		/* 0 none, 1 "{digits", 2 "+", 3 "}" */
	uint64_t skip_num;
	bool skip_plus, skip_digits;

	bool can_reject;	/* a sync literal was just announced */
	bool has_error;
	struct imap_parse_error err;

	const char *tag;
	const char *name;
	bool uid;
	struct imap_command cmd;
};

static bool is_atom_char(unsigned char c)
{
	if (c <= 0x20 || c >= 0x7f)
		return false;
	return c != '(' && c != ')' && c != '{' && c != '"';
}

static bool is_tag_char(unsigned char c)
{
	return is_atom_char(c) && c != '+' && c != '*' && c != '%' && c != '\\';
}

struct imap_parser *imap_parser_new(const struct imap_parser_limits *limits)
{
	struct imap_parser *p = calloc(1, sizeof(*p));

	if (p == NULL)
		return NULL;
	if (limits != NULL)
		p->lim = *limits;
	if (p->lim.max_line == 0)
		p->lim.max_line = 65536;
	if (p->lim.max_literal == 0)
		p->lim.max_literal = 64 * 1024 * 1024;
	if (p->lim.max_literal_mem == 0)
		p->lim.max_literal_mem = 1024 * 1024;
	if (p->lim.max_depth == 0)
		p->lim.max_depth = 100;
	if (p->lim.max_args == 0)
		p->lim.max_args = 10000;
	p->arena = imap_arena_new();
	p->frames = calloc(p->lim.max_depth, sizeof(*p->frames));
	if (p->arena == NULL || p->frames == NULL) {
		imap_parser_free(p);
		return NULL;
	}
	p->state = S_TAG;
	return p;
}

void imap_parser_free(struct imap_parser *p)
{
	if (p == NULL)
		return;
	imap_arena_free(p->arena);
	free(p->frames);
	free(p->pend);
	free(p->tok);
	free(p);
}

void imap_parser_reset(struct imap_parser *p)
{
	imap_arena_reset(p->arena);
	p->state = S_TAG;
	p->tok_len = 0;
	p->npend = 0;
	p->depth = 0;
	p->nargs = 0;
	p->need_sep = false;
	p->line_bytes = 0;
	p->lit_mem = 0;
	p->has_error = false;
	memset(&p->err, 0, sizeof(p->err));
	memset(&p->cmd, 0, sizeof(p->cmd));
	p->tag = NULL;
	p->name = NULL;
	p->uid = false;
}

void imap_parser_command_free(struct imap_parser *p)
{
	imap_parser_reset(p);
}

struct imap_arena *imap_parser_arena(struct imap_parser *p)
{
	return p->arena;
}

const struct imap_command *imap_parser_get_command(const struct imap_parser *p)
{
	return &p->cmd;
}

const struct imap_parse_error *imap_parser_get_error(const struct imap_parser *p)
{
	return &p->err;
}

const struct imap_literal_info *imap_parser_get_literal(const struct imap_parser *p)
{
	return &p->lit;
}

const char *imap_parser_get_tag(const struct imap_parser *p)
{
	return p->tag;
}

int imap_parser_get_partial(const struct imap_parser *p, struct imap_command *cmd_r)
{
	memset(cmd_r, 0, sizeof(*cmd_r));
	if (p->name == NULL)
		return -1;
	cmd_r->tag = p->tag;
	cmd_r->name = p->name;
	cmd_r->uid = p->uid;
	cmd_r->args = p->pend;
	cmd_r->count = p->depth > 0 ? p->frames[0] : p->npend;
	return 0;
}

void imap_parser_literal_reject(struct imap_parser *p)
{
	if (p->can_reject) {
		p->can_reject = false;
		p->state = S_DONE;
	}
}

/* Records the first error of the line and skips to its end. */
static int parser_fail(struct imap_parser *p, enum imap_parse_error_code code, const char *msg)
{
	if (!p->has_error) {
		p->has_error = true;
		p->err.code = code;
		p->err.message = msg;
		p->err.tag = p->tag;
		p->err.fatal = false;
	}
	p->state = S_SKIP;
	p->skip_lit = 0;
	return R_AGAIN;
}

/* An error reported now: the line ends here. */
static int parser_done_error(struct imap_parser *p, enum imap_parse_error_code code,
			     const char *msg)
{
	p->has_error = true;
	p->err.code = code;
	p->err.message = msg;
	p->err.tag = p->tag;
	p->err.fatal = false;
	p->state = S_DONE;
	return IMAP_PARSE_ERROR;
}

static int parser_fatal(struct imap_parser *p, enum imap_parse_error_code code, const char *msg)
{
	p->has_error = true;
	p->err.code = code;
	p->err.message = msg;
	p->err.tag = p->tag;
	p->err.fatal = true;
	p->state = S_FATAL;
	return IMAP_PARSE_ERROR;
}

static int tok_add(struct imap_parser *p, unsigned char c)
{
	if (p->tok_len + 1 >= p->tok_cap) {
		size_t ncap = p->tok_cap == 0 ? 256 : p->tok_cap * 2;
		char *n;

		if (ncap > p->lim.max_line + 2)
			ncap = p->lim.max_line + 2;
		if (ncap <= p->tok_len + 1)
			return -1;
		n = realloc(p->tok, ncap);
		if (n == NULL)
			return -1;
		p->tok = n;
		p->tok_cap = ncap;
	}
	p->tok[p->tok_len++] = (char)c;
	return 0;
}

/* Appends a finished argument at the current depth. */
static int parser_push(struct imap_parser *p, const struct imap_arg *arg)
{
	if (p->nargs >= p->lim.max_args)
		return parser_fail(p, IMAP_PARSE_ERROR_BAD, "Too many arguments");
	if (p->npend == p->pend_cap) {
		size_t ncap = p->pend_cap == 0 ? 16 : p->pend_cap * 2;
		struct imap_arg *n = realloc(p->pend, ncap * sizeof(*n));

		if (n == NULL)
			return parser_fatal(p, IMAP_PARSE_ERROR_BAD, "Out of memory");
		p->pend = n;
		p->pend_cap = ncap;
	}
	p->pend[p->npend++] = *arg;
	p->nargs++;
	p->need_sep = true;
	p->state = S_ARGS;
	return R_OK;
}

static int parser_push_token(struct imap_parser *p, enum imap_arg_type type)
{
	struct imap_arg arg = { .type = type };
	char *s = imap_arena_strndup(p->arena, p->tok ? p->tok : "", p->tok_len);

	if (s == NULL)
		return parser_fatal(p, IMAP_PARSE_ERROR_BAD, "Out of memory");
	if (type == IMAP_ARG_ATOM && p->tok_len == 3 && strcasecmp(s, "NIL") == 0)
		arg.type = IMAP_ARG_NIL;
	arg.str = s;
	arg.len = p->tok_len;
	return parser_push(p, &arg);
}

static int parser_list_close(struct imap_parser *p)
{
	size_t start = p->frames[--p->depth];
	size_t count = p->npend - start;
	struct imap_arg arg = { .type = IMAP_ARG_LIST, .count = count };
	struct imap_arg *items = NULL;

	if (count > 0) {
		items = imap_arena_alloc(p->arena, count * sizeof(*items));
		if (items == NULL)
			return parser_fatal(p, IMAP_PARSE_ERROR_BAD, "Out of memory");
		memcpy(items, p->pend + start, count * sizeof(*items));
	}
	arg.list = items;
	p->npend = start;
	return parser_push(p, &arg);
}

static int parser_end_of_line(struct imap_parser *p)
{
	struct imap_arg *args = NULL;

	if (p->depth > 0)
		return parser_done_error(p, IMAP_PARSE_ERROR_BAD, "Missing ')'");
	if (p->npend > 0) {
		args = imap_arena_alloc(p->arena, p->npend * sizeof(*args));
		if (args == NULL)
			return parser_fatal(p, IMAP_PARSE_ERROR_BAD, "Out of memory");
		memcpy(args, p->pend, p->npend * sizeof(*args));
	}
	p->cmd.tag = p->tag;
	p->cmd.name = p->name;
	p->cmd.uid = p->uid;
	p->cmd.args = args;
	p->cmd.count = p->npend;
	p->state = S_DONE;
	return IMAP_PARSE_COMMAND;
}

static int step_tag(struct imap_parser *p, unsigned char c)
{
	if (c == ' ' || c == '\r' || c == '\n') {
		if (p->tok_len == 0)
			return parser_fail(p, IMAP_PARSE_ERROR_BAD,
					   c == ' ' ? "Missing tag" : "Empty command line");
		p->tag = imap_arena_strndup(p->arena, p->tok, p->tok_len);
		if (p->tag == NULL)
			return parser_fatal(p, IMAP_PARSE_ERROR_BAD, "Out of memory");
		p->tok_len = 0;
		if (c != ' ')
			return parser_fail(p, IMAP_PARSE_ERROR_BAD, "Missing command");
		p->state = S_NAME;
		return R_OK;
	}
	if (!is_tag_char(c))
		return parser_fail(p, IMAP_PARSE_ERROR_BAD, "Invalid tag");
	if (tok_add(p, c) < 0)
		return parser_fatal(p, IMAP_PARSE_ERROR_BAD, "Out of memory");
	return R_OK;
}

static int step_name(struct imap_parser *p, unsigned char c)
{
	if (c == ' ' || c == '\r' || c == '\n') {
		char *name;

		if (p->tok_len == 0)
			return parser_fail(p, IMAP_PARSE_ERROR_BAD, "Missing command");
		name = imap_arena_strndup(p->arena, p->tok, p->tok_len);
		if (name == NULL)
			return parser_fatal(p, IMAP_PARSE_ERROR_BAD, "Out of memory");
		for (char *s = name; *s != '\0'; s++) {
			if (*s >= 'a' && *s <= 'z')
				*s = (char)(*s - 'a' + 'A');
		}
		p->tok_len = 0;
		if (!p->uid && c == ' ' && strcmp(name, "UID") == 0) {
			p->uid = true;
			return R_OK;
		}
		p->name = name;
		p->state = S_ARGS;
		p->need_sep = false;
		return c == ' ' ? R_OK : R_AGAIN;
	}
	if (!is_tag_char(c) && c != '+')
		return parser_fail(p, IMAP_PARSE_ERROR_BAD, "Invalid command name");
	if (tok_add(p, c) < 0)
		return parser_fatal(p, IMAP_PARSE_ERROR_BAD, "Out of memory");
	return R_OK;
}

static int step_args(struct imap_parser *p, unsigned char c)
{
	switch (c) {
	case ' ':
		p->need_sep = false;
		return R_OK;
	case '\r':
		p->state = S_CR;
		return R_OK;
	case '\n':
		return parser_end_of_line(p);
	case ')':
		if (p->depth == 0)
			return parser_fail(p, IMAP_PARSE_ERROR_BAD, "Unexpected ')'");
		return parser_list_close(p);
	default:
		break;
	}
	if (!is_atom_char(c) && c != '(' && c != '"' && c != '{')
		return parser_fail(p, IMAP_PARSE_ERROR_BAD,
				   c == 0 ? "NUL in command" : "Invalid character in command");
	if (p->need_sep)
		return parser_fail(p, IMAP_PARSE_ERROR_BAD, "Missing space between arguments");
	p->tok_len = 0;
	switch (c) {
	case '(':
		if (p->depth >= p->lim.max_depth)
			return parser_fail(p, IMAP_PARSE_ERROR_BAD, "Too deeply nested lists");
		p->frames[p->depth++] = p->npend;
		return R_OK;
	case '"':
		p->q_escape = false;
		p->state = S_QUOTED;
		return R_OK;
	case '{':
		memset(&p->lit, 0, sizeof(p->lit));
		p->lit_digits = 0;
		p->state = S_LITSIZE;
		return R_OK;
	case '~':
		p->state = S_TILDE;
		return R_OK;
	default:
		break;
	}
	p->in_bracket = false;
	p->in_bquote = false;
	p->state = S_ATOM;
	return R_AGAIN;
}

static int step_tilde(struct imap_parser *p, unsigned char c)
{
	if (c == '{') {
		memset(&p->lit, 0, sizeof(p->lit));
		p->lit.literal8 = true;
		p->lit_digits = 0;
		p->state = S_LITSIZE;
		return R_OK;
	}
	if (tok_add(p, '~') < 0)
		return parser_fatal(p, IMAP_PARSE_ERROR_BAD, "Out of memory");
	p->in_bracket = false;
	p->in_bquote = false;
	p->state = S_ATOM;
	return R_AGAIN;
}

/* Whether the atom so far is a FETCH item whose "[section]" may hold
 * spaces and parentheses. Elsewhere "[" is an ordinary ASTRING-CHAR. */
static bool atom_takes_section(const struct imap_parser *p)
{
	static const char *const names[] = {
		"BODY", "BODY.PEEK", "BINARY", "BINARY.PEEK", "BINARY.SIZE",
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (p->tok_len == strlen(names[i]) && strncasecmp(p->tok, names[i], p->tok_len) == 0)
			return true;
	}
	return false;
}

/* Atoms take "[...]" whole, spaces, parentheses and quoted strings included,
 * so "BODY[HEADER.FIELDS (FROM TO)]<0.100>" is one argument. */
static int step_atom(struct imap_parser *p, unsigned char c)
{
	if (p->in_bracket) {
		if (c < 0x20 || c >= 0x7f)
			return parser_fail(p, IMAP_PARSE_ERROR_BAD,
					   c == '\r' || c == '\n' ? "Missing ']'" :
					   "Invalid character in command");
		if (p->in_bquote) {
			if (p->bq_escape)
				p->bq_escape = false;
			else if (c == '\\')
				p->bq_escape = true;
			else if (c == '"')
				p->in_bquote = false;
		} else if (c == '"') {
			p->in_bquote = true;
			p->bq_escape = false;
		} else if (c == ']') {
			p->in_bracket = false;
		}
	} else if (c == '[' && atom_takes_section(p)) {
		p->in_bracket = true;
	} else if (!is_atom_char(c)) {
		int r = parser_push_token(p, IMAP_ARG_ATOM);

		return r == R_OK ? R_AGAIN : r;
	}
	if (tok_add(p, c) < 0)
		return parser_fatal(p, IMAP_PARSE_ERROR_BAD, "Out of memory");
	return R_OK;
}

static int step_quoted(struct imap_parser *p, unsigned char c)
{
	if (c == '\r' || c == '\n')
		return parser_fail(p, IMAP_PARSE_ERROR_BAD, "Missing '\"'");
	if (c == 0)
		return parser_fail(p, IMAP_PARSE_ERROR_BAD, "NUL in quoted string");
	if (p->q_escape) {
		if (c != '"' && c != '\\')
			return parser_fail(p, IMAP_PARSE_ERROR_BAD, "Invalid escape in quoted string");
		p->q_escape = false;
	} else if (c == '\\') {
		p->q_escape = true;
		return R_OK;
	} else if (c == '"') {
		return parser_push_token(p, IMAP_ARG_STRING);
	}
	if (tok_add(p, c) < 0)
		return parser_fatal(p, IMAP_PARSE_ERROR_BAD, "Out of memory");
	return R_OK;
}

static int step_litsize(struct imap_parser *p, unsigned char c)
{
	if (c >= '0' && c <= '9' && !p->lit.sync) {
		uint64_t d = (uint64_t)(c - '0');

		/* lit.sync holds "saw +" while the size is read */
		if (p->lit.size > (UINT64_MAX - d) / 10)
			p->lit.size = UINT64_MAX;
		else
			p->lit.size = p->lit.size * 10 + d;
		p->lit_digits++;
		return R_OK;
	}
	if (c == '+' && p->lit_digits > 0 && !p->lit.sync) {
		p->lit.sync = true;
		return R_OK;
	}
	if (c == '}' && p->lit_digits > 0) {
		p->lit.sync = !p->lit.sync;
		p->lit_cr = false;
		p->state = S_LIT_LF;
		return R_OK;
	}
	return parser_fail(p, IMAP_PARSE_ERROR_BAD, "Invalid literal size");
}

static bool parser_streams(const struct imap_parser *p, uint64_t size)
{
	return p->lim.stream_min > 0 && size >= p->lim.stream_min;
}

/* Starts the data of a literal whose "{n}CRLF" was just read. */
static int parser_literal_begin(struct imap_parser *p)
{
	uint64_t size = p->lit.size;
	struct imap_arg arg = { .type = IMAP_ARG_LITERAL, .literal8 = p->lit.literal8 };

	if (p->lit.sync) {
		if (size > p->lim.max_literal)
			return parser_done_error(p, IMAP_PARSE_ERROR_TOOBIG, "Literal too big");
		if (p->nargs >= p->lim.max_args)
			return parser_done_error(p, IMAP_PARSE_ERROR_BAD, "Too many arguments");
	} else {
		if (p->lim.literal_minus && size > LITERAL_MINUS_MAX)
			return parser_fatal(p, IMAP_PARSE_ERROR_TOOBIG,
					    "Non-synchronizing literal over 4096 bytes");
		if (size > p->lim.max_literal)
			return parser_fatal(p, IMAP_PARSE_ERROR_TOOBIG, "Literal too big");
	}
	p->lit_remaining = size;
	p->can_reject = p->lit.sync;
	if (parser_streams(p, size)) {
		p->state = S_LIT_STREAM;
		return IMAP_PARSE_LITERAL_START;
	}
	if (size > p->lim.max_literal_mem - p->lit_mem) {
		if (p->lit.sync)
			return parser_done_error(p, IMAP_PARSE_ERROR_TOOBIG, "Literal too big");
		parser_fail(p, IMAP_PARSE_ERROR_TOOBIG, "Literal too big");
		p->state = S_SKIP_LIT;
		return R_OK;
	}
	p->lit_mem += (size_t)size;
	p->lit_buf = imap_arena_alloc(p->arena, (size_t)size + 1);
	if (p->lit_buf == NULL)
		return parser_fatal(p, IMAP_PARSE_ERROR_BAD, "Out of memory");
	p->lit_pos = 0;
	p->lit_has_nul = false;
	if (size == 0) {
		int r;

		arg.str = p->lit_buf;
		r = parser_push(p, &arg);
		if (r != R_OK && r != R_AGAIN)
			return r;
		if (p->lit.sync && p->state != S_SKIP)
			return IMAP_PARSE_CONTINUE;
		return R_OK;
	}
	p->state = S_LIT_DATA;
	return p->lit.sync ? IMAP_PARSE_CONTINUE : R_OK;
}

static int step_lit_lf(struct imap_parser *p, unsigned char c)
{
	if (c == '\r' && !p->lit_cr) {
		p->lit_cr = true;
		return R_OK;
	}
	if (c == '\n')
		return parser_literal_begin(p);
	return parser_fail(p, IMAP_PARSE_ERROR_BAD, "Missing CRLF after literal size");
}

/* Skips the rest of a bad line. A "{n+}" just before its end announces
 * literal data that must be skipped too; "{n}" gets no continuation, so the
 * client sends nothing more. */
static int step_skip(struct imap_parser *p, unsigned char c)
{
	if (c == '\n') {
		if (p->skip_lit == 3 && p->skip_plus) {
			if (p->skip_num > p->lim.max_literal ||
			    (p->lim.literal_minus && p->skip_num > LITERAL_MINUS_MAX))
				return parser_fatal(p, IMAP_PARSE_ERROR_TOOBIG, "Literal too big");
			p->lit_remaining = p->skip_num;
			p->skip_lit = 0;
			p->state = S_SKIP_LIT;
			return R_OK;
		}
		p->state = S_DONE;
		return IMAP_PARSE_ERROR;
	}
	if (c == '\r')
		return R_OK;
	if (c == '{') {
		p->skip_lit = 1;
		p->skip_num = 0;
		p->skip_plus = false;
		p->skip_digits = false;
	} else if (c >= '0' && c <= '9' && p->skip_lit == 1) {
		uint64_t d = (uint64_t)(c - '0');

		p->skip_num = p->skip_num > (UINT64_MAX - d) / 10 ? UINT64_MAX :
			p->skip_num * 10 + d;
		p->skip_digits = true;
	} else if (c == '+' && p->skip_lit == 1 && p->skip_digits) {
		p->skip_plus = true;
		p->skip_lit = 2;
	} else if (c == '}' && ((p->skip_lit == 1 && p->skip_digits) || p->skip_lit == 2)) {
		p->skip_lit = 3;
	} else {
		p->skip_lit = 0;
	}
	return R_OK;
}

static int parser_step(struct imap_parser *p, unsigned char c)
{
	switch (p->state) {
	case S_TAG:
		return step_tag(p, c);
	case S_NAME:
		return step_name(p, c);
	case S_ARGS:
		return step_args(p, c);
	case S_ATOM:
		return step_atom(p, c);
	case S_TILDE:
		return step_tilde(p, c);
	case S_QUOTED:
		return step_quoted(p, c);
	case S_LITSIZE:
		return step_litsize(p, c);
	case S_LIT_LF:
		return step_lit_lf(p, c);
	case S_CR:
		if (c == '\n')
			return parser_end_of_line(p);
		return parser_fail(p, IMAP_PARSE_ERROR_BAD, "CR without LF");
	case S_SKIP:
		return step_skip(p, c);
	default:
		return parser_fatal(p, IMAP_PARSE_ERROR_BAD, "Internal parser error");
	}
}

/* Copies buffered literal data; completes the literal at its end. */
static int parser_literal_data(struct imap_parser *p, const unsigned char *data, size_t len,
			       size_t *used_r)
{
	size_t n = len < p->lit_remaining ? len : (size_t)p->lit_remaining;
	struct imap_arg arg = { .type = IMAP_ARG_LITERAL, .literal8 = p->lit.literal8 };

	if (!p->lit.literal8 && memchr(data, 0, n) != NULL)
		p->lit_has_nul = true;
	memcpy(p->lit_buf + p->lit_pos, data, n);
	p->lit_pos += n;
	p->lit_remaining -= n;
	*used_r = n;
	if (p->lit_remaining > 0)
		return R_OK;
	if (p->lit_has_nul) {
		parser_fail(p, IMAP_PARSE_ERROR_BAD, "NUL in literal (use literal8)");
		return R_OK;
	}
	p->lit_buf[p->lit_pos] = '\0';
	arg.str = p->lit_buf;
	arg.len = p->lit_pos;
	return parser_push(p, &arg);
}

static int parser_stream_data(struct imap_parser *p, size_t len, size_t *consumed_r)
{
	size_t n = len < p->lit_remaining ? len : (size_t)p->lit_remaining;

	*consumed_r = n;
	if (n == 0)
		return IMAP_PARSE_MORE;
	p->lit_remaining -= n;
	if (p->lit_remaining == 0) {
		struct imap_arg arg = {
			.type = IMAP_ARG_LITERAL, .literal8 = p->lit.literal8,
			.streamed = true, .len = (size_t)p->lit.size,
		};

		(void)parser_push(p, &arg);	/* a failure leaves the line to skip */
	}
	return IMAP_PARSE_LITERAL_DATA;
}

int imap_parser_feed(struct imap_parser *p, const unsigned char *data, size_t len,
		     size_t *consumed_r)
{
	size_t i = 0, n;
	int r;

	*consumed_r = 0;
	p->can_reject = false;
	if (p->state == S_FATAL)
		return IMAP_PARSE_ERROR;
	if (p->state == S_DONE)
		imap_parser_reset(p);
	if (p->state == S_LIT_STREAM)
		return parser_stream_data(p, len, consumed_r);
	r = R_OK;
	while (i < len) {
		r = R_OK;
		if (p->state == S_LIT_DATA) {
			r = parser_literal_data(p, data + i, len - i, &n);
			i += n;
			if (r != R_OK && r != R_AGAIN)
				break;
			continue;
		}
		if (p->state == S_SKIP_LIT) {
			n = len - i < p->lit_remaining ? len - i : (size_t)p->lit_remaining;
			p->lit_remaining -= n;
			i += n;
			if (p->lit_remaining == 0) {
				p->state = S_SKIP;
				p->skip_lit = 0;
			}
			continue;
		}
		if (++p->line_bytes > p->lim.max_line) {
			r = parser_fatal(p, IMAP_PARSE_ERROR_BAD, "Command line too long");
			i++;
			break;
		}
		do {
			r = parser_step(p, data[i]);
		} while (r == R_AGAIN);
		i++;
		if (r != R_OK)
			break;
	}
	*consumed_r = i;
	return r == R_OK || r == R_AGAIN ? IMAP_PARSE_MORE : r;
}

/* Argument accessors */

const char *imap_arg_astring(const struct imap_arg *arg)
{
	if (arg == NULL || arg->type == IMAP_ARG_LIST || arg->str == NULL)
		return NULL;
	return arg->str;
}

const char *imap_arg_atom(const struct imap_arg *arg)
{
	if (arg == NULL || (arg->type != IMAP_ARG_ATOM && arg->type != IMAP_ARG_NIL))
		return NULL;
	return arg->str;
}

const char *imap_arg_string(const struct imap_arg *arg)
{
	if (arg == NULL || (arg->type != IMAP_ARG_STRING && arg->type != IMAP_ARG_LITERAL))
		return NULL;
	return arg->str;
}

bool imap_arg_is_atom(const struct imap_arg *arg, const char *upper)
{
	const char *s = imap_arg_atom(arg);

	return s != NULL && strcasecmp(s, upper) == 0;
}

bool imap_arg_is_nil(const struct imap_arg *arg)
{
	return arg != NULL && arg->type == IMAP_ARG_NIL;
}

int imap_parse_uint64(const char *s, size_t len, uint64_t max, uint64_t *value_r)
{
	uint64_t v = 0;

	if (len == 0)
		return -1;
	for (size_t i = 0; i < len; i++) {
		uint64_t d;

		if (s[i] < '0' || s[i] > '9')
			return -1;
		d = (uint64_t)(s[i] - '0');
		if (v > (max - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	*value_r = v;
	return 0;
}

int imap_arg_number(const struct imap_arg *arg, uint32_t *num_r)
{
	const char *s = imap_arg_atom(arg);
	uint64_t v;

	if (s == NULL || imap_parse_uint64(s, arg->len, UINT32_MAX, &v) < 0)
		return -1;
	*num_r = (uint32_t)v;
	return 0;
}

int imap_arg_nz_number(const struct imap_arg *arg, uint32_t *num_r)
{
	if (imap_arg_number(arg, num_r) < 0 || *num_r == 0)
		return -1;
	return 0;
}

int imap_arg_modseq(const struct imap_arg *arg, bool zero_ok, uint64_t *value_r)
{
	const char *s = imap_arg_atom(arg);

	if (s == NULL || imap_parse_uint64(s, arg->len, INT64_MAX, value_r) < 0)
		return -1;
	if (*value_r == 0 && !zero_ok)
		return -1;
	return 0;
}
