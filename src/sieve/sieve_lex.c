/* The Sieve lexer (RFC 5228 2.2-2.4, 8.1): comments, identifiers, tags,
 * numbers with K/M/G, quoted and multi-line strings. Pure; the value of a
 * string goes into lx->str, bounded by max_string. */
#include <stdio.h>
#include <string.h>

#include "sieve/sieve_int.h"

void sieve_lex_init(struct sieve_lexer *lx, const char *src, size_t len, unsigned int max_string)
{
	memset(lx, 0, sizeof(*lx));
	lx->src = src;
	lx->len = len;
	lx->line = 1;
	lx->max_string = max_string;
	strbuf_init(&lx->str);
}

void sieve_lex_free(struct sieve_lexer *lx)
{
	strbuf_free(&lx->str);
}

static enum sieve_tok lex_fail(struct sieve_lexer *lx, const char *msg)
{
	snprintf(lx->error, sizeof(lx->error), "%s", msg);
	lx->tok = TOK_ERROR;
	return TOK_ERROR;
}

static bool is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Skips blanks and comments; -1 on an unterminated bracket comment. */
static int skip_space(struct sieve_lexer *lx)
{
	while (lx->pos < lx->len) {
		char c = lx->src[lx->pos];

		if (c == '\n') {
			lx->line++;
			lx->pos++;
		} else if (c == ' ' || c == '\t' || c == '\r') {
			lx->pos++;
		} else if (c == '#') {
			while (lx->pos < lx->len && lx->src[lx->pos] != '\n')
				lx->pos++;
		} else if (c == '/' && lx->pos + 1 < lx->len && lx->src[lx->pos + 1] == '*') {
			lx->tok_line = lx->line;
			lx->pos += 2;
			for (;;) {
				if (lx->pos + 1 >= lx->len)
					return -1;
				if (lx->src[lx->pos] == '*' && lx->src[lx->pos + 1] == '/')
					break;
				if (lx->src[lx->pos] == '\n')
					lx->line++;
				lx->pos++;
			}
			lx->pos += 2;
		} else {
			break;
		}
	}
	return 0;
}

static bool str_room(struct sieve_lexer *lx, size_t more)
{
	return lx->str.len + more <= lx->max_string;
}

static enum sieve_tok lex_quoted(struct sieve_lexer *lx)
{
	lx->pos++;
	strbuf_truncate(&lx->str, 0);
	for (;;) {
		char c;

		if (lx->pos >= lx->len)
			return lex_fail(lx, "unterminated string");
		c = lx->src[lx->pos++];
		if (c == '"')
			break;
		if (c == '\\') {
			if (lx->pos >= lx->len)
				return lex_fail(lx, "unterminated string");
			c = lx->src[lx->pos++];
		}
		if (c == '\n')
			lx->line++;
		if (c == '\0')
			return lex_fail(lx, "NUL byte in string");
		if (!str_room(lx, 1))
			return lex_fail(lx, "string too long");
		strbuf_append_c(&lx->str, c);
	}
	lx->tok = TOK_STRING;
	return TOK_STRING;
}

/* "text:" followed by blanks, an optional comment and a line end; then
 * lines up to a line holding a lone "."; a leading "." of other lines is
 * dropped (dot-stuffing). */
static enum sieve_tok lex_multiline(struct sieve_lexer *lx)
{
	lx->pos += 5;
	while (lx->pos < lx->len && (lx->src[lx->pos] == ' ' || lx->src[lx->pos] == '\t'))
		lx->pos++;
	if (lx->pos < lx->len && lx->src[lx->pos] == '#')
		while (lx->pos < lx->len && lx->src[lx->pos] != '\n')
			lx->pos++;
	if (lx->pos < lx->len && lx->src[lx->pos] == '\r')
		lx->pos++;
	if (lx->pos >= lx->len || lx->src[lx->pos] != '\n')
		return lex_fail(lx, "text: must be followed by a line end");
	lx->pos++;
	lx->line++;
	strbuf_truncate(&lx->str, 0);
	for (;;) {
		size_t start = lx->pos, end;
		const char *nl;

		if (start >= lx->len)
			return lex_fail(lx, "unterminated multi-line string");
		nl = memchr(lx->src + start, '\n', lx->len - start);
		if (nl == NULL)
			return lex_fail(lx, "unterminated multi-line string");
		end = (size_t)(nl - lx->src);
		lx->pos = end + 1;
		lx->line++;
		if ((end - start == 1 && lx->src[start] == '.') ||
		    (end - start == 2 && lx->src[start] == '.' && lx->src[start + 1] == '\r'))
			break;
		if (lx->src[start] == '.')
			start++;
		if (memchr(lx->src + start, '\0', end + 1 - start) != NULL)
			return lex_fail(lx, "NUL byte in string");
		if (!str_room(lx, end + 1 - start))
			return lex_fail(lx, "string too long");
		strbuf_append(&lx->str, lx->src + start, end + 1 - start);
	}
	lx->tok = TOK_STRING;
	return TOK_STRING;
}

static enum sieve_tok lex_number(struct sieve_lexer *lx)
{
	uint64_t v = 0, mul = 1;

	while (lx->pos < lx->len && is_digit(lx->src[lx->pos])) {
		unsigned int d = (unsigned int)(lx->src[lx->pos++] - '0');

		if (v > (UINT64_MAX - d) / 10)
			return lex_fail(lx, "number too large");
		v = v * 10 + d;
	}
	if (lx->pos < lx->len) {
		switch (lx->src[lx->pos]) {
		case 'K': case 'k': mul = 1024; break;
		case 'M': case 'm': mul = 1024 * 1024; break;
		case 'G': case 'g': mul = 1024 * 1024 * 1024; break;
		default: break;
		}
		if (mul != 1)
			lx->pos++;
	}
	if (v > UINT64_MAX / mul)
		return lex_fail(lx, "number too large");
	if (lx->pos < lx->len && (is_alpha(lx->src[lx->pos]) || is_digit(lx->src[lx->pos])))
		return lex_fail(lx, "bad number");
	lx->num = v * mul;
	lx->tok = TOK_NUMBER;
	return TOK_NUMBER;
}

enum sieve_tok sieve_lex_next(struct sieve_lexer *lx)
{
	char c;

	lx->tok_line = lx->line;
	if (skip_space(lx) < 0)
		return lex_fail(lx, "unterminated comment");
	lx->tok_line = lx->line;
	if (lx->pos >= lx->len) {
		lx->tok = TOK_EOF;
		return TOK_EOF;
	}
	c = lx->src[lx->pos];
	switch (c) {
	case '[': lx->pos++; return lx->tok = TOK_LBRACKET;
	case ']': lx->pos++; return lx->tok = TOK_RBRACKET;
	case ',': lx->pos++; return lx->tok = TOK_COMMA;
	case '(': lx->pos++; return lx->tok = TOK_LPAREN;
	case ')': lx->pos++; return lx->tok = TOK_RPAREN;
	case '{': lx->pos++; return lx->tok = TOK_LBRACE;
	case '}': lx->pos++; return lx->tok = TOK_RBRACE;
	case ';': lx->pos++; return lx->tok = TOK_SEMI;
	case '"': return lex_quoted(lx);
	default: break;
	}
	if (is_digit(c))
		return lex_number(lx);
	if (c == ':' || is_alpha(c)) {
		size_t start = lx->pos + (c == ':');
		size_t i = start;

		while (i < lx->len && (is_alpha(lx->src[i]) || is_digit(lx->src[i])))
			i++;
		if (i == start || is_digit(lx->src[start]))
			return lex_fail(lx, "bad tag");
		if (c != ':' && i - start == 4 && i < lx->len && lx->src[i] == ':' &&
		    strncasecmp(lx->src + start, "text", 4) == 0)
			return lex_multiline(lx);
		lx->word = lx->src + start;
		lx->word_len = i - start;
		lx->pos = i;
		if (lx->word_len > 64)
			return lex_fail(lx, "identifier too long");
		lx->tok = c == ':' ? TOK_TAG : TOK_IDENT;
		return lx->tok;
	}
	return lex_fail(lx, "unexpected character");
}
