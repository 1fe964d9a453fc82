/* The Sieve parser (RFC 5228 8.2): commands, arguments, tests, test lists
 * and blocks, straight into the compiled form (struct sieve_script: nodes
 * in pre-order, string lists, one string pool). Each command's arguments
 * are checked as soon as it is read (sieve_check.c), so an error names
 * its line. Bounded by struct sieve_limits. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sieve/sieve_int.h"

#define MAX_ARGS 32

void sieve_limits_default(struct sieve_limits *lim)
{
	lim->max_script = 1024 * 1024;
	lim->max_depth = 32;
	lim->max_commands = 20000;
	lim->max_string = 64 * 1024;
	lim->max_list = 1024;
	lim->max_actions = 64;
	lim->max_redirects = 100;
	lim->max_steps = 100000;
	lim->max_variables = 128;
	lim->max_includes = 4;
	lim->max_body = 1024 * 1024;
	lim->max_work = 64 * 1024 * 1024;
}

void sieve_parse_error(struct sieve_parser *p, unsigned int line, const char *fmt, ...)
{
	va_list ap;
	char msg[sizeof(p->err->msg)];

	if (p->error)
		return;
	p->error = true;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	p->err->line = line;
	snprintf(p->err->msg, sizeof(p->err->msg), "line %u: %s", line, msg);
}

static void *grow(void *arr, unsigned int *cap, unsigned int need, size_t elem)
{
	unsigned int ncap;
	void *n;

	if (need <= *cap)
		return arr;
	ncap = *cap ? *cap * 2 : 16;
	while (ncap < need)
		ncap *= 2;
	n = realloc(arr, (size_t)ncap * elem);
	if (n == NULL)
		abort();
	*cap = ncap;
	return n;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static void utf8_put(struct strbuf *out, uint32_t cp)
{
	if (cp < 0x80) {
		strbuf_append_c(out, (char)cp);
	} else if (cp < 0x800) {
		strbuf_append_c(out, (char)(0xc0 | (cp >> 6)));
		strbuf_append_c(out, (char)(0x80 | (cp & 0x3f)));
	} else if (cp < 0x10000) {
		strbuf_append_c(out, (char)(0xe0 | (cp >> 12)));
		strbuf_append_c(out, (char)(0x80 | ((cp >> 6) & 0x3f)));
		strbuf_append_c(out, (char)(0x80 | (cp & 0x3f)));
	} else {
		strbuf_append_c(out, (char)(0xf0 | (cp >> 18)));
		strbuf_append_c(out, (char)(0x80 | ((cp >> 12) & 0x3f)));
		strbuf_append_c(out, (char)(0x80 | ((cp >> 6) & 0x3f)));
		strbuf_append_c(out, (char)(0x80 | (cp & 0x3f)));
	}
}

/* One "${hex:...}" or "${unicode:...}" (RFC 5228 2.4.2.4) at s, whose
 * prefix has been recognised: appends the decoded bytes and returns the
 * length consumed, 0 when it is malformed (then it stays literal), or
 * SIZE_MAX for a code point outside Unicode or a surrogate, which the RFC
 * makes an error. */
static size_t encoded_one(const char *s, size_t len, bool unicode, struct strbuf *out)
{
	size_t i = unicode ? 10 : 6, start_len = out->len, items = 0;

	for (;;) {
		uint32_t v = 0;
		size_t digits = 0;

		while (i < len && (s[i] == ' ' || s[i] == '\t'))
			i++;
		if (i < len && s[i] == '}' && items > 0)
			return i + 1;
		while (i < len && hexval(s[i]) >= 0) {
			if (++digits > 8)
				goto bad;
			v = (v << 4) | (uint32_t)hexval(s[i]);
			i++;
		}
		if (digits == 0 || (!unicode && digits > 2))
			goto bad;
		if (i < len && s[i] != ' ' && s[i] != '\t' && s[i] != '}')
			goto bad;
		if (unicode) {
			if (v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff)) {
				strbuf_truncate(out, start_len);
				return SIZE_MAX;
			}
			utf8_put(out, v);
		} else {
			strbuf_append_c(out, (char)v);
		}
		items++;
	}
bad:
	strbuf_truncate(out, start_len);
	return 0;
}

/* Decodes the encoded characters of s into out; -1 on an invalid one. */
static int decode_encoded(const char *s, size_t len, struct strbuf *out)
{
	for (size_t i = 0; i < len;) {
		size_t used = 0;

		if (s[i] == '$' && i + 1 < len && s[i + 1] == '{') {
			if (len - i >= 6 && strncasecmp(s + i + 2, "hex:", 4) == 0)
				used = encoded_one(s + i, len - i, false, out);
			else if (len - i >= 10 && strncasecmp(s + i + 2, "unicode:", 8) == 0)
				used = encoded_one(s + i, len - i, true, out);
		}
		if (used == SIZE_MAX)
			return -1;
		if (used > 0) {
			i += used;
		} else {
			strbuf_append_c(out, s[i]);
			i++;
		}
	}
	return 0;
}

/* Adds the lexer's current string to the pool; returns its index, or
 * UINT32_MAX on an invalid encoded character. */
static uint32_t add_string(struct sieve_parser *p)
{
	struct sieve_script *s = p->s;
	struct sieve_str *st;
	const char *v = p->lx.str.data != NULL ? p->lx.str.data : "";
	size_t vlen = p->lx.str.len;

	s->strs = grow(s->strs, &s->str_cap, s->str_count + 1, sizeof(*s->strs));
	st = &s->strs[s->str_count];
	st->off = (uint32_t)s->pool.len;
	if (s->ext & SIEVE_EXT_ENCODED_CHAR) {
		if (decode_encoded(v, vlen, &s->pool) < 0) {
			sieve_parse_error(p, p->lx.tok_line, "invalid ${unicode:...} character");
			return UINT32_MAX;
		}
	} else {
		strbuf_append(&s->pool, v, vlen);
	}
	st->len = (uint32_t)(s->pool.len - st->off);
	strbuf_append_c(&s->pool, '\0');
	st->has_var = (s->ext & SIEVE_EXT_VARIABLES) &&
		      memmem(s->pool.data + st->off, st->len, "${", 2) != NULL;
	st->regex = -1;
	return s->str_count++;
}

/* A string or a bracketed string list, at the current token. Returns the
 * list index (>0) or 0 on error. */
static uint32_t parse_string_list(struct sieve_parser *p)
{
	struct sieve_script *s = p->s;
	uint32_t li;
	bool bracket = p->lx.tok == TOK_LBRACKET;

	s->lists = grow(s->lists, &s->list_cap, s->list_count + 1, sizeof(*s->lists));
	li = s->list_count++;
	s->lists[li].first = s->str_count;
	s->lists[li].count = 0;
	if (bracket)
		sieve_lex_next(&p->lx);
	for (;;) {
		if (p->lx.tok != TOK_STRING) {
			sieve_parse_error(p, p->lx.tok_line, p->lx.tok == TOK_ERROR ? "%s" :
					  "expected a string%s", p->lx.tok == TOK_ERROR ? p->lx.error : "");
			return 0;
		}
		if (s->pool.len + p->lx.str.len > p->lim->max_script * 2 + 4096) {
			sieve_parse_error(p, p->lx.tok_line, "script too large");
			return 0;
		}
		if (add_string(p) == UINT32_MAX)
			return 0;
		s->lists[li].count++;
		if (s->lists[li].count > p->lim->max_list) {
			sieve_parse_error(p, p->lx.tok_line, "too many strings in a list");
			return 0;
		}
		sieve_lex_next(&p->lx);
		if (!bracket)
			return li;
		if (p->lx.tok == TOK_RBRACKET) {
			sieve_lex_next(&p->lx);
			return li;
		}
		if (p->lx.tok != TOK_COMMA) {
			sieve_parse_error(p, p->lx.tok_line, "expected ',' or ']' in a string list");
			return 0;
		}
		sieve_lex_next(&p->lx);
	}
}

/* Reads the arguments of a command or test (tags, numbers, lists). */
static int parse_args(struct sieve_parser *p, struct sieve_parg *args, unsigned int *n_r)
{
	unsigned int n = 0;

	for (;;) {
		struct sieve_parg *a = &args[n];
		enum sieve_tok t = p->lx.tok;

		if (t == TOK_ERROR) {
			sieve_parse_error(p, p->lx.tok_line, "%s", p->lx.error);
			return -1;
		}
		if (t != TOK_TAG && t != TOK_NUMBER && t != TOK_STRING && t != TOK_LBRACKET)
			break;
		if (n == MAX_ARGS) {
			sieve_parse_error(p, p->lx.tok_line, "too many arguments");
			return -1;
		}
		memset(a, 0, sizeof(*a));
		a->line = p->lx.tok_line;
		if (t == TOK_TAG) {
			int tag = sieve_tag_lookup(p->lx.word, p->lx.word_len);

			if (tag == 0) {
				sieve_parse_error(p, a->line, "unknown tag :%.*s", (int)p->lx.word_len,
						  p->lx.word);
				return -1;
			}
			a->type = 'T';
			a->tag = (uint8_t)tag;
			sieve_lex_next(&p->lx);
		} else if (t == TOK_NUMBER) {
			a->type = 'N';
			a->num = p->lx.num;
			sieve_lex_next(&p->lx);
		} else {
			a->type = 'L';
			a->list = parse_string_list(p);
			if (a->list == 0)
				return -1;
		}
		n++;
	}
	*n_r = n;
	return 0;
}

static uint32_t push_node(struct sieve_parser *p, int id, unsigned int line)
{
	struct sieve_script *s = p->s;
	struct sieve_node *nd;

	s->nodes = grow(s->nodes, &s->node_cap, s->node_count + 1, sizeof(*s->nodes));
	nd = &s->nodes[s->node_count];
	memset(nd, 0, sizeof(*nd));
	nd->id = (uint8_t)id;
	nd->line = line;
	nd->index = 0;
	return s->node_count++;
}

static int parse_test(struct sieve_parser *p);

/* The tests after a command's or test's arguments: one test, or a
 * parenthesised list. Returns how many, or -1. */
static int parse_tests(struct sieve_parser *p)
{
	int n = 0;

	if (p->lx.tok == TOK_IDENT)
		return parse_test(p) < 0 ? -1 : 1;
	if (p->lx.tok != TOK_LPAREN)
		return 0;
	sieve_lex_next(&p->lx);
	for (;;) {
		if (parse_test(p) < 0)
			return -1;
		n++;
		if (p->lx.tok == TOK_RPAREN) {
			sieve_lex_next(&p->lx);
			return n;
		}
		if (p->lx.tok != TOK_COMMA) {
			sieve_parse_error(p, p->lx.tok_line, "expected ',' or ')' in a test list");
			return -1;
		}
		sieve_lex_next(&p->lx);
	}
}

static int count_and_deepen(struct sieve_parser *p, unsigned int line)
{
	if (++p->commands > p->lim->max_commands) {
		sieve_parse_error(p, line, "too many commands");
		return -1;
	}
	if (++p->depth > p->lim->max_depth) {
		sieve_parse_error(p, line, "nesting too deep");
		return -1;
	}
	return 0;
}

static int lookup_checked(struct sieve_parser *p, const char *name, bool is_test, unsigned int line)
{
	uint32_t ext = 0;
	int id = sieve_lookup(name, is_test, &ext);

	if (id == 0) {
		sieve_parse_error(p, line, "unknown %s '%s'", is_test ? "test" : "command", name);
		return -1;
	}
	if (ext != 0 && (p->s->ext & ext) == 0) {
		sieve_parse_error(p, line, "%s '%s' needs a require", is_test ? "test" : "command",
				  name);
		return -1;
	}
	return id;
}

static int parse_test(struct sieve_parser *p)
{
	struct sieve_parg args[MAX_ARGS];
	unsigned int nargs, line = p->lx.tok_line;
	char name[72];
	int id, ntests;
	uint32_t ni;

	if (p->lx.tok != TOK_IDENT) {
		sieve_parse_error(p, line, p->lx.tok == TOK_ERROR ? "%s" : "expected a test%s",
				  p->lx.tok == TOK_ERROR ? p->lx.error : "");
		return -1;
	}
	snprintf(name, sizeof(name), "%.*s", (int)p->lx.word_len, p->lx.word);
	if ((id = lookup_checked(p, name, true, line)) < 0 || count_and_deepen(p, line) < 0)
		return -1;
	ni = push_node(p, id, line);
	sieve_lex_next(&p->lx);
	if (parse_args(p, args, &nargs) < 0 || (ntests = parse_tests(p)) < 0)
		return -1;
	if (sieve_check_node(p, &p->s->nodes[ni], name, args, nargs, (unsigned int)ntests, false) < 0)
		return -1;
	p->s->nodes[ni].end = p->s->node_count;
	p->depth--;
	return 0;
}

static int parse_require(struct sieve_parser *p, unsigned int line)
{
	struct sieve_list *l;
	uint32_t li;

	if (p->saw_other) {
		sieve_parse_error(p, line, "require must come before other commands");
		return -1;
	}
	sieve_lex_next(&p->lx);
	if (p->lx.tok != TOK_STRING && p->lx.tok != TOK_LBRACKET) {
		sieve_parse_error(p, line, "require needs a string list");
		return -1;
	}
	if ((li = parse_string_list(p)) == 0)
		return -1;
	l = &p->s->lists[li];
	for (uint32_t i = 0; i < l->count; i++) {
		const char *e = sieve_str_ptr(p->s, l->first + i);
		uint32_t bit = sieve_ext_lookup(e);

		if (bit == 0) {
			sieve_parse_error(p, line, "unsupported extension \"%s\"", e);
			return -1;
		}
		p->s->ext |= bit;
	}
	if (p->lx.tok != TOK_SEMI) {
		sieve_parse_error(p, p->lx.tok_line, "expected ';' after require");
		return -1;
	}
	sieve_lex_next(&p->lx);
	return 0;
}

static int parse_block(struct sieve_parser *p, bool top);

static int parse_command(struct sieve_parser *p, int prev_id)
{
	struct sieve_parg args[MAX_ARGS];
	unsigned int nargs, line = p->lx.tok_line;
	char name[72];
	int id, ntests;
	uint32_t ni;
	bool block;

	if (p->lx.tok != TOK_IDENT) {
		sieve_parse_error(p, line, p->lx.tok == TOK_ERROR ? "%s" : "expected a command%s",
				  p->lx.tok == TOK_ERROR ? p->lx.error : "");
		return -1;
	}
	snprintf(name, sizeof(name), "%.*s", (int)p->lx.word_len, p->lx.word);
	if (strcasecmp(name, "require") == 0)
		return parse_require(p, line) < 0 ? -1 : 0;
	p->saw_other = true;
	if ((id = lookup_checked(p, name, false, line)) < 0 || count_and_deepen(p, line) < 0)
		return -1;
	if ((id == SID_ELSIF || id == SID_ELSE) && prev_id != SID_IF && prev_id != SID_ELSIF) {
		sieve_parse_error(p, line, "%s without a preceding if", name);
		return -1;
	}
	ni = push_node(p, id, line);
	sieve_lex_next(&p->lx);
	if (parse_args(p, args, &nargs) < 0 || (ntests = parse_tests(p)) < 0)
		return -1;
	block = p->lx.tok == TOK_LBRACE;
	if (sieve_check_node(p, &p->s->nodes[ni], name, args, nargs, (unsigned int)ntests, block) < 0)
		return -1;
	if (block) {
		sieve_lex_next(&p->lx);
		if (parse_block(p, false) < 0)
			return -1;
		if (p->lx.tok != TOK_RBRACE) {
			sieve_parse_error(p, p->lx.tok_line, "expected '}'");
			return -1;
		}
	} else if (p->lx.tok != TOK_SEMI) {
		sieve_parse_error(p, p->lx.tok_line, p->lx.tok == TOK_ERROR ? "%s" : "expected ';'%s",
				  p->lx.tok == TOK_ERROR ? p->lx.error : "");
		return -1;
	}
	sieve_lex_next(&p->lx);
	p->s->nodes[ni].end = p->s->node_count;
	p->depth--;
	return id;
}

static int parse_block(struct sieve_parser *p, bool top)
{
	int prev = 0;

	for (;;) {
		if (p->lx.tok == TOK_EOF) {
			if (!top) {
				sieve_parse_error(p, p->lx.tok_line, "missing '}' at end of script");
				return -1;
			}
			return 0;
		}
		if (p->lx.tok == TOK_RBRACE && !top)
			return 0;
		if ((prev = parse_command(p, prev)) < 0)
			return -1;
	}
}

void sieve_script_free(struct sieve_script *s)
{
	if (s == NULL)
		return;
	for (unsigned int i = 0; i < s->regex_count; i++)
		regfree(&s->regex[i]);
	free(s->regex);
	free(s->nodes);
	free(s->lists);
	free(s->strs);
	strbuf_free(&s->pool);
	free(s);
}

int sieve_compile(const char *src, size_t len, const struct sieve_limits *lim,
		  struct sieve_script **script_r, struct sieve_error *err)
{
	struct sieve_parser p;
	struct sieve_script *s;

	*script_r = NULL;
	memset(err, 0, sizeof(*err));
	if (len > lim->max_script) {
		snprintf(err->msg, sizeof(err->msg), "script too large (%zu bytes, limit %zu)", len,
			 lim->max_script);
		return -1;
	}
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		abort();
	strbuf_init(&s->pool);
	/* list 0 stands for "absent" */
	s->lists = grow(s->lists, &s->list_cap, 1, sizeof(*s->lists));
	s->list_count = 1;
	s->lists[0].first = s->lists[0].count = 0;
	memset(&p, 0, sizeof(p));
	p.s = s;
	p.lim = lim;
	p.err = err;
	sieve_lex_init(&p.lx, src, len, lim->max_string);
	sieve_lex_next(&p.lx);
	if (parse_block(&p, true) < 0 || p.error) {
		if (!p.error)
			sieve_parse_error(&p, p.lx.tok_line, "syntax error");
		sieve_lex_free(&p.lx);
		sieve_script_free(s);
		return -1;
	}
	sieve_lex_free(&p.lx);
	*script_r = s;
	return 0;
}

uint32_t sieve_script_extensions(const struct sieve_script *script)
{
	return script->ext;
}

unsigned int sieve_script_size(const struct sieve_script *script)
{
	return script->node_count;
}
