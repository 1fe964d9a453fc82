#include "mail/mime.h"
#include "mail/rfc5322.h"
#include "mail/charset.h"
#include "mail/header.h"
#include "mail/mime_decode.h"

#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* RFC 2046 says 70; like Dovecot we accept a little more. */
#define BOUNDARY_MAX_LEN 80
/* Parameters read from one field; more are ignored (and merging RFC 2231
 * sections stays cheap). */
#define PARAMS_MAX 64
#define LANGUAGES_MAX 16

/* ---- arena: every allocation of a message, freed at once ---- */

struct arena_block {
	struct arena_block *next;
	size_t used, size;
	max_align_t data[];
};

struct mime_arena {
	struct arena_block *head;
};

static void *arena_alloc(struct mime_arena *a, size_t size)
{
	struct arena_block *b = a->head;
	size_t align = sizeof(max_align_t);
	void *p;

	size = (size + align - 1) / align * align;
	if (b == NULL || b->size - b->used < size) {
		size_t bsize = size > 8192 ? size : 8192;
		b = malloc(sizeof(*b) + bsize);
		if (b == NULL)
			abort();
		b->next = a->head;
		b->used = 0;
		b->size = bsize;
		a->head = b;
	}
	p = (char *)b->data + b->used;
	b->used += size;
	memset(p, 0, size);
	return p;
}

static char *arena_strndup(struct mime_arena *a, const char *s, size_t len)
{
	char *p = arena_alloc(a, len + 1);

	memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

static char *arena_strlower(struct mime_arena *a, const char *s, size_t len)
{
	char *p = arena_strndup(a, s, len);

	for (size_t i = 0; i < len; i++)
		p[i] = (char)tolower((unsigned char)p[i]);
	return p;
}

/* ---- RFC 2045 structured values: tokens, quoted strings, comments ---- */

struct lexer {
	const char *p;
	size_t len, pos;
};

static void lex_skip_cfws(struct lexer *lx)
{
	lx->pos = rfc5322_skip_cfws(lx->p, lx->len, lx->pos);
}

static bool is_tspecial(unsigned char c)
{
	return c <= ' ' || c >= 127 || strchr("()<>@,;:\\\"/[]?=", c) != NULL;
}

/* A token; returns its length (0 if none) and sets *start_r. */
static size_t lex_token(struct lexer *lx, const char **start_r)
{
	size_t start;

	lex_skip_cfws(lx);
	start = lx->pos;
	while (lx->pos < lx->len && !is_tspecial((unsigned char)lx->p[lx->pos]))
		lx->pos++;
	*start_r = lx->p + start;
	return lx->pos - start;
}

/* A parameter value: quoted string (unescaped into out) or a token, or for
 * sloppy senders anything up to ';'. */
static void lex_value(struct lexer *lx, struct strbuf *out)
{
	lex_skip_cfws(lx);
	if (lx->pos < lx->len && lx->p[lx->pos] == '"') {
		lx->pos += rfc5322_quoted(lx->p + lx->pos, lx->len - lx->pos, out);
		return;
	}
	/* up to ';' or a comment, so "name=a b.pdf" from sloppy senders
	 * keeps its blank */
	size_t start = lx->pos, end;
	while (lx->pos < lx->len && lx->p[lx->pos] != ';' && lx->p[lx->pos] != '(')
		lx->pos++;
	end = lx->pos;
	while (end > start && (lx->p[end - 1] == ' ' || lx->p[end - 1] == '\t' ||
			       lx->p[end - 1] == '\r' || lx->p[end - 1] == '\n'))
		end--;
	for (size_t i = start; i < end; i++) {
		if (lx->p[i] != '\r' && lx->p[i] != '\n')
			strbuf_append_c(out, lx->p[i]);
	}
}

/* One "attribute=value" as read, before RFC 2231 merging. */
struct raw_param {
	char *name;		/* lowercased base name */
	char *value;
	size_t value_len;
	int section;		/* -1 when not sectioned */
	bool extended;		/* ends in '*' */
	bool used;
};

static int percent_hex(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)(c | 0x20);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

static void percent_decode(const char *s, size_t len, struct strbuf *out)
{
	for (size_t i = 0; i < len; i++) {
		int h, l;
		if (s[i] == '%' && i + 2 < len && (h = percent_hex(s[i + 1])) >= 0 &&
		    (l = percent_hex(s[i + 2])) >= 0) {
			strbuf_append_c(out, (char)(h * 16 + l));
			i += 2;
		} else {
			strbuf_append_c(out, s[i]);
		}
	}
}

/* Splits RFC 2231 "charset'language'value": copies the charset (64 bytes
 * at most, else leaves it empty) and returns the value. */
static const char *split_charset(const char *v, char charset[64])
{
	const char *q1 = strchr(v, '\''), *q2 = q1 != NULL ? strchr(q1 + 1, '\'') : NULL;

	if (q2 == NULL)
		return v;
	if ((size_t)(q1 - v) < 64) {
		memcpy(charset, v, (size_t)(q1 - v));
		charset[q1 - v] = '\0';
	}
	return q2 + 1;
}

/* Merges RFC 2231 sections of raw[first]'s name into one UTF-8 value. */
static void param_merge(struct raw_param *raw, unsigned int n, unsigned int first,
			struct strbuf *value, bool *extended_r)
{
	struct strbuf bytes = STRBUF_INIT;
	char charset[64] = "";
	bool extended = false;

	if (raw[first].section < 0) {
		raw[first].used = true;
		if (raw[first].extended) {
			const char *v = split_charset(raw[first].value, charset);

			extended = true;
			percent_decode(v, strlen(v), &bytes);
		} else {
			strbuf_append(&bytes, raw[first].value, raw[first].value_len);
		}
	} else {
		for (int sec = 0; sec < (int)n; sec++) {
			unsigned int k;
			for (k = 0; k < n; k++) {
				if (!raw[k].used && raw[k].section == sec &&
				    strcmp(raw[k].name, raw[first].name) == 0)
					break;
			}
			if (k == n)
				break;
			raw[k].used = true;
			const char *v = raw[k].value;
			if (raw[k].extended) {
				extended = true;
				if (sec == 0)
					v = split_charset(v, charset);
				percent_decode(v, strlen(v), &bytes);
			} else {
				strbuf_append(&bytes, v, raw[k].value_len - (size_t)(v - raw[k].value));
			}
		}
		/* sections never reached (a gap) are dropped */
		for (unsigned int k = 0; k < n; k++) {
			if (strcmp(raw[k].name, raw[first].name) == 0 && raw[k].section >= 0)
				raw[k].used = true;
		}
	}
	if (extended)
		charset_to_utf8(charset, strbuf_cstr(&bytes), bytes.len, value);
	else
		strbuf_append(value, strbuf_cstr(&bytes), bytes.len);
	*extended_r = extended;
	strbuf_free(&bytes);
}

/* Reads "; name=value" pairs from lx into an arena array. */
static void params_parse(struct mime_arena *a, struct lexer *lx,
			 const struct mime_param **params_r, unsigned int *count_r)
{
	struct raw_param raw[PARAMS_MAX];
	struct mime_param *params;
	unsigned int n = 0, out = 0;

	while (lx->pos < lx->len && n < PARAMS_MAX) {
		const char *name;
		size_t name_len;
		struct strbuf value = STRBUF_INIT;

		lex_skip_cfws(lx);
		if (lx->pos >= lx->len)
			break;
		if (lx->p[lx->pos] != ';') {
			/* garbage: skip to the next ';' */
			while (lx->pos < lx->len && lx->p[lx->pos] != ';')
				lx->pos++;
			continue;
		}
		lx->pos++;
		name_len = lex_token(lx, &name);
		lex_skip_cfws(lx);
		if (name_len == 0 || lx->pos >= lx->len || lx->p[lx->pos] != '=')
			continue;
		lx->pos++;
		lex_value(lx, &value);
		memset(&raw[n], 0, sizeof(raw[n]));
		raw[n].section = -1;
		if (name[name_len - 1] == '*') {
			raw[n].extended = true;
			name_len--;
		}
		const char *star = memchr(name, '*', name_len);
		if (star != NULL) {
			size_t d = (size_t)(star - name) + 1;
			int sec = 0;
			bool ok = d < name_len;
			for (; d < name_len && ok; d++) {
				if (name[d] < '0' || name[d] > '9' || sec > 9999)
					ok = false;
				else
					sec = sec * 10 + (name[d] - '0');
			}
			if (ok) {
				raw[n].section = sec;
				name_len = (size_t)(star - name);
			}
		}
		raw[n].name = arena_strlower(a, name, name_len);
		raw[n].value = arena_strndup(a, strbuf_cstr(&value), value.len);
		raw[n].value_len = value.len;
		strbuf_free(&value);
		n++;
	}
	params = arena_alloc(a, sizeof(*params) * (n > 0 ? n : 1));
	for (unsigned int i = 0; i < n; i++) {
		struct strbuf value = STRBUF_INIT;
		bool extended;

		if (raw[i].used)
			continue;
		/* the first of duplicate names wins */
		bool dup = false;
		for (unsigned int k = 0; k < out && !dup; k++)
			dup = strcmp(params[k].name, raw[i].name) == 0;
		param_merge(raw, n, i, &value, &extended);
		if (dup) {
			strbuf_free(&value);
			continue;
		}
		params[out].name = raw[i].name;
		params[out].value = arena_strndup(a, strbuf_cstr(&value), value.len);
		params[out].extended = extended;
		out++;
		strbuf_free(&value);
	}
	*params_r = out > 0 ? params : NULL;
	*count_r = out;
}

static void parse_content_type(struct mime_arena *a, struct mime_part *part,
			       const struct mail_header_field *f)
{
	struct lexer lx = { f->value, f->value_len, 0 };
	const char *type, *subtype;
	size_t type_len, subtype_len;

	part->has_content_type = true;
	type_len = lex_token(&lx, &type);
	lex_skip_cfws(&lx);
	if (type_len == 0 || lx.pos >= lx.len || lx.p[lx.pos] != '/')
		return;	/* invalid: keep the default type, ignore the params */
	lx.pos++;
	subtype_len = lex_token(&lx, &subtype);
	if (subtype_len == 0)
		return;
	part->type = arena_strlower(a, type, type_len);
	part->subtype = arena_strlower(a, subtype, subtype_len);
	params_parse(a, &lx, &part->params, &part->param_count);
}

static void parse_disposition(struct mime_arena *a, struct mime_part *part,
			      const struct mail_header_field *f)
{
	struct lexer lx = { f->value, f->value_len, 0 };
	const char *tok;
	size_t len = lex_token(&lx, &tok);

	if (len == 0)
		return;
	part->disposition = arena_strlower(a, tok, len);
	params_parse(a, &lx, &part->disposition_params, &part->disposition_param_count);
}

static void parse_languages(struct mime_arena *a, struct mime_part *part,
			    const struct mail_header_field *f)
{
	struct lexer lx = { f->value, f->value_len, 0 };
	const char **langs = arena_alloc(a, sizeof(*langs) * LANGUAGES_MAX);
	unsigned int n = 0;

	while (lx.pos < lx.len && n < LANGUAGES_MAX) {
		const char *tok;
		size_t start, len;

		lex_skip_cfws(&lx);
		start = lx.pos;
		while (lx.pos < lx.len && lx.p[lx.pos] != ',' && lx.p[lx.pos] != '(' &&
		       (unsigned char)lx.p[lx.pos] > ' ')
			lx.pos++;
		tok = lx.p + start;
		len = lx.pos - start;
		if (len > 0)
			langs[n++] = arena_strndup(a, tok, len);
		lex_skip_cfws(&lx);
		if (lx.pos < lx.len && lx.p[lx.pos] != ',' && len == 0)
			lx.pos++;	/* garbage */
		else if (lx.pos < lx.len && lx.p[lx.pos] == ',')
			lx.pos++;
	}
	if (n > 0) {
		part->languages = langs;
		part->language_count = n;
	}
}

static const char *field_unfolded(struct mime_arena *a, const struct mail_header_field *f)
{
	struct strbuf buf = STRBUF_INIT;
	const char *s;

	mail_header_unfold(f->value, f->value_len, &buf);
	s = arena_strndup(a, strbuf_cstr(&buf), buf.len);
	strbuf_free(&buf);
	return s;
}

/* Reads the Content-* fields of the part's header (the first of each). */
static void part_parse_fields(struct mime_arena *a, const char *data, struct mime_part *part)
{
	struct mail_header_iter iter;
	struct mail_header_field f;
	bool seen_type = false, seen_cte = false, seen_disp = false, seen_lang = false;

	mail_header_iter_init(&iter, data + part->header_offset, part->header_size);
	while (mail_header_iter_next(&iter, &f)) {
		if (f.name_len < 8 || strncasecmp(f.name, "content-", 8) != 0)
			continue;
		if (!seen_type && mail_header_field_is(&f, "content-type")) {
			seen_type = true;
			parse_content_type(a, part, &f);
		} else if (!seen_cte && mail_header_field_is(&f, "content-transfer-encoding")) {
			struct lexer lx = { f.value, f.value_len, 0 };
			const char *tok;
			size_t len = lex_token(&lx, &tok);
			seen_cte = true;
			if (len > 0)
				part->encoding = arena_strndup(a, tok, len);
		} else if (part->id == NULL && mail_header_field_is(&f, "content-id")) {
			part->id = field_unfolded(a, &f);
		} else if (part->description == NULL &&
			   mail_header_field_is(&f, "content-description")) {
			part->description = field_unfolded(a, &f);
		} else if (part->md5 == NULL && mail_header_field_is(&f, "content-md5")) {
			part->md5 = field_unfolded(a, &f);
		} else if (part->location == NULL &&
			   mail_header_field_is(&f, "content-location")) {
			part->location = field_unfolded(a, &f);
		} else if (!seen_disp && mail_header_field_is(&f, "content-disposition")) {
			seen_disp = true;
			parse_disposition(a, part, &f);
		} else if (!seen_lang && mail_header_field_is(&f, "content-language")) {
			seen_lang = true;
			parse_languages(a, part, &f);
		}
	}
}

/* ---- structure ---- */

struct boundary {
	const char *text;
	size_t len;
};

struct parse_ctx {
	struct mime_message *msg;
	const struct mime_limits *limits;
	const char *d;
	size_t size;
	struct boundary *stack;
	unsigned int nbound;
	/* the delimiter line where the last scan stopped */
	unsigned int match_index;
	bool match_close;
	size_t match_next;	/* first byte after the delimiter line */
	size_t last_header_end;	/* end of the last header ended by an empty line */
};

static size_t next_line(const struct parse_ctx *ctx, size_t pos)
{
	const char *lf = memchr(ctx->d + pos, '\n', ctx->size - pos);

	return lf == NULL ? ctx->size : (size_t)(lf - ctx->d) + 1;
}

/* Is the line at pos a delimiter of a boundary on the stack? As Dovecot
 * (and RFC 2046 5.1.2): the longest matching boundary wins, and only the
 * beginning of the line has to match. */
static bool boundary_match(struct parse_ctx *ctx, size_t pos)
{
	const char *line = ctx->d + pos + 2;
	size_t avail = ctx->size - pos - 2, best_len = 0;
	int best = -1;

	if (ctx->size - pos < 2 || ctx->d[pos] != '-' || ctx->d[pos + 1] != '-')
		return false;
	for (unsigned int i = ctx->nbound; i-- > 0;) {
		const struct boundary *b = &ctx->stack[i];
		if (b->len <= avail && b->len > best_len && memcmp(line, b->text, b->len) == 0) {
			best = (int)i;
			best_len = b->len;
		}
	}
	if (best < 0)
		return false;
	ctx->match_index = (unsigned int)best;
	ctx->match_close = avail >= best_len + 2 && line[best_len] == '-' &&
			   line[best_len + 1] == '-';
	ctx->match_next = next_line(ctx, pos);
	return true;
}

/* From pos (a line start), the offset of the first delimiter line, or the
 * end of the message. */
static size_t boundary_scan(struct parse_ctx *ctx, size_t pos)
{
	if (ctx->nbound == 0)
		return ctx->size;
	while (pos < ctx->size) {
		if (ctx->d[pos] == '-' && boundary_match(ctx, pos))
			return pos;
		pos = next_line(ctx, pos);
	}
	return ctx->size;
}

/* End of the header starting at pos: after the empty line, or at a
 * delimiter line (*at_boundary_r), or the end of the message. */
static size_t header_scan(struct parse_ctx *ctx, size_t pos, bool *at_boundary_r)
{
	const char *d = ctx->d;

	*at_boundary_r = false;
	while (pos < ctx->size) {
		if (d[pos] == '\n')
			return pos + 1;
		if (d[pos] == '\r' && pos + 1 < ctx->size && d[pos + 1] == '\n')
			return pos + 2;
		if (d[pos] == '-' && ctx->nbound > 0 && boundary_match(ctx, pos)) {
			*at_boundary_r = true;
			return pos;
		}
		pos = next_line(ctx, pos);
	}
	return ctx->size;
}

static struct mime_part *part_new(struct parse_ctx *ctx, struct mime_part *parent)
{
	struct mime_part *p = arena_alloc(ctx->msg->arena, sizeof(*p));

	ctx->msg->part_count++;
	p->parent = parent;
	p->depth = parent != NULL ? parent->depth + 1 : 0;
	if (parent != NULL) {
		struct mime_part **tail = &parent->children;
		while (*tail != NULL)
			tail = &(*tail)->next;
		*tail = p;
	}
	return p;
}

static bool can_nest(struct parse_ctx *ctx, const struct mime_part *part)
{
	if (part->depth + 1 > ctx->limits->max_depth ||
	    ctx->msg->part_count >= ctx->limits->max_parts) {
		ctx->msg->limit_reached = true;
		return false;
	}
	return true;
}

static size_t parse_part(struct parse_ctx *ctx, struct mime_part *part, size_t pos,
			 bool digest_child);

/* The children of a multipart whose boundary is on top of the stack;
 * returns the delimiter line (of an outer boundary) or the end. */
static size_t parse_multipart_children(struct parse_ctx *ctx, struct mime_part *part)
{
	unsigned int mine = ctx->nbound - 1;
	bool digest = strcmp(part->subtype, "digest") == 0;
	size_t line = boundary_scan(ctx, part->body_offset);	/* skips the preamble */
	struct mime_part *last = NULL;

	while (line < ctx->size && ctx->match_index == mine) {
		if (ctx->match_close) {
			/* the epilogue runs to an outer delimiter or the end */
			ctx->nbound--;
			return boundary_scan(ctx, ctx->match_next);
		}
		if (!can_nest(ctx, part)) {
			ctx->nbound--;
			return boundary_scan(ctx, ctx->match_next);
		}
		struct mime_part *child = arena_alloc(ctx->msg->arena, sizeof(*child));
		ctx->msg->part_count++;
		child->parent = part;
		child->depth = part->depth + 1;
		if (last == NULL)
			part->children = child;
		else
			last->next = child;
		last = child;
		line = parse_part(ctx, child, ctx->match_next, digest);
	}
	ctx->nbound--;
	return line;
}

static bool encoding_is_identity(const char *enc)
{
	return strcasecmp(enc, "7bit") == 0 || strcasecmp(enc, "8bit") == 0 ||
	       strcasecmp(enc, "binary") == 0;
}

/* Body end for a part that stops at the delimiter line at line: the line
 * end before the delimiter belongs to it. */
static size_t body_end(const struct parse_ctx *ctx, size_t body_start, size_t line)
{
	if (line >= ctx->size || line <= body_start)
		return line < body_start ? body_start : line;
	if (line == ctx->last_header_end)
		return line;	/* that line end was the header's empty line */
	if (ctx->d[line - 1] == '\n') {
		line--;
		if (line > body_start && ctx->d[line - 1] == '\r')
			line--;
	}
	return line;
}

static size_t count_lines(const char *d, size_t len)
{
	size_t n = 0;
	const char *end = d + len, *p = d;

	while (p < end && (p = memchr(p, '\n', (size_t)(end - p))) != NULL) {
		n++;
		p++;
	}
	return n;
}

/* Parses the part starting at pos (its header) and everything in it.
 * Returns the offset of the delimiter line that ends it (ctx->match_* tell
 * which), or the end of the message. */
static size_t parse_part(struct parse_ctx *ctx, struct mime_part *part, size_t pos,
			 bool digest_child)
{
	struct mime_arena *a = ctx->msg->arena;
	bool at_boundary;
	size_t hdr_end, line, end;
	const char *boundary;

	part->header_offset = pos;
	hdr_end = header_scan(ctx, pos, &at_boundary);
	/* a header cut short by a delimiter leaves it its line end */
	part->header_size = (at_boundary ? body_end(ctx, pos, hdr_end) : hdr_end) - pos;
	part->body_offset = pos + part->header_size;
	part->type = digest_child ? "message" : "text";
	part->subtype = digest_child ? "rfc822" : "plain";
	part->encoding = "7bit";
	part_parse_fields(a, ctx->d, part);
	if (at_boundary)
		return hdr_end;
	ctx->last_header_end = hdr_end;

	boundary = strcmp(part->type, "multipart") == 0 ? mime_part_param(part, "boundary") : NULL;
	if (boundary != NULL && boundary[0] != '\0' && strlen(boundary) <= BOUNDARY_MAX_LEN &&
	    can_nest(ctx, part)) {
		part->is_multipart = true;
		ctx->stack[ctx->nbound].text = boundary;
		ctx->stack[ctx->nbound].len = strlen(boundary);
		ctx->nbound++;
		line = parse_multipart_children(ctx, part);
	} else if (strcmp(part->type, "message") == 0 && strcmp(part->subtype, "rfc822") == 0 &&
		   encoding_is_identity(part->encoding) && can_nest(ctx, part)) {
		part->is_message = true;
		line = parse_part(ctx, part_new(ctx, part), hdr_end, false);
	} else {
		line = boundary_scan(ctx, hdr_end);
	}
	end = body_end(ctx, hdr_end, line);
	/* an empty last part right at the delimiter keeps its line end */
	for (const struct mime_part *c = part->children; c != NULL; c = c->next) {
		if (c->next == NULL && c->body_offset + c->body_size > end)
			end = c->body_offset + c->body_size;
	}
	part->body_size = end - hdr_end;
	part->body_lines = count_lines(ctx->d + hdr_end, part->body_size);
	return line;
}

int mime_message_parse(const char *data, size_t size, const struct mime_limits *limits,
		       struct mime_message **msg_r, const char **error_r)
{
	struct parse_ctx ctx;
	struct mime_message *msg;
	struct mime_arena *arena;

	if (limits == NULL || limits->max_parts == 0 || limits->max_depth == 0 ||
	    limits->max_depth > 100000) {
		*error_r = "invalid MIME parser limits";
		return -1;
	}
	arena = calloc(1, sizeof(*arena));
	if (arena == NULL)
		abort();
	msg = arena_alloc(arena, sizeof(*msg));
	msg->arena = arena;
	msg->data = data;
	msg->size = size;
	memset(&ctx, 0, sizeof(ctx));
	ctx.msg = msg;
	ctx.limits = limits;
	ctx.d = size > 0 ? data : "";
	ctx.size = size;
	ctx.stack = arena_alloc(arena, sizeof(*ctx.stack) * (limits->max_depth + 1));
	msg->root = part_new(&ctx, NULL);
	parse_part(&ctx, msg->root, 0, false);
	*msg_r = msg;
	return 0;
}

void mime_message_free(struct mime_message *msg)
{
	struct mime_arena *a;
	struct arena_block *b, *next;

	if (msg == NULL)
		return;
	a = msg->arena;
	for (b = a->head; b != NULL; b = next) {
		next = b->next;
		free(b);
	}
	free(a);
}

const char *mime_part_param(const struct mime_part *part, const char *name)
{
	for (unsigned int i = 0; i < part->param_count; i++) {
		if (strcmp(part->params[i].name, name) == 0)
			return part->params[i].value;
	}
	return NULL;
}

const char *mime_part_charset(const struct mime_part *part)
{
	const char *cs = mime_part_param(part, "charset");

	return cs != NULL && cs[0] != '\0' ? cs : "us-ascii";
}

bool mime_part_is_type(const struct mime_part *part, const char *type, const char *subtype)
{
	return strcmp(part->type, type) == 0 &&
	       (subtype == NULL || strcmp(part->subtype, subtype) == 0);
}

int mime_part_text_decode(const struct mime_message *msg, const struct mime_part *part,
			  struct strbuf *out)
{
	struct strbuf raw = STRBUF_INIT;
	const char *body = msg->data + part->body_offset;

	if (part->is_multipart || part->is_message || strcmp(part->type, "text") != 0)
		return -1;
	if (strcasecmp(part->encoding, "base64") == 0) {
		mime_base64_decode(body, part->body_size, &raw);
	} else if (strcasecmp(part->encoding, "quoted-printable") == 0) {
		mime_qp_decode(body, part->body_size, &raw);
	} else {
		charset_to_utf8(mime_part_charset(part), body, part->body_size, out);
		return 0;
	}
	charset_to_utf8(mime_part_charset(part), strbuf_cstr(&raw), raw.len, out);
	strbuf_free(&raw);
	return 0;
}
