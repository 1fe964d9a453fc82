#include "mail/imap_envelope.h"
#include "mail/header.h"
#include "mail/rfc5322.h"

#include <string.h>

/* A multipart with no parts is not valid IMAP: like Dovecot, write one
 * empty text/plain part in its place. */
#define EMPTY_BODY "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 0 0)"
#define EMPTY_BODYSTRUCTURE \
	"(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 0 0 NIL NIL NIL NIL)"
#define EMPTY_ENVELOPE "(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)"

void imap_string_append(struct strbuf *out, const char *s, size_t len)
{
	bool literal = false;
	size_t nuls = 0;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '\0')
			nuls++;
		else if (c == '\r' || c == '\n' || c >= 0x80)
			literal = true;
	}
	if (literal) {
		strbuf_printf(out, "{%zu}\r\n", len - nuls);
		for (size_t i = 0; i < len; i++) {
			if (s[i] != '\0')
				strbuf_append_c(out, s[i]);
		}
		return;
	}
	strbuf_reserve(out, len + 2);
	strbuf_append_c(out, '"');
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '\0')
			continue;
		if (s[i] == '"' || s[i] == '\\')
			strbuf_append_c(out, '\\');
		strbuf_append_c(out, s[i]);
	}
	strbuf_append_c(out, '"');
}

void imap_nstring_append(struct strbuf *out, const char *s)
{
	if (s == NULL)
		strbuf_append_str(out, "NIL");
	else
		imap_string_append(out, s, strlen(s));
}

/* ---- RFC 5322 address lists ---- */

struct addr_lexer {
	const char *p;
	size_t len, pos;
};

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Reads a comment at pos (which is '('), appending its text to out. */
static void lex_comment(struct addr_lexer *lx, struct strbuf *out)
{
	lx->pos += rfc5322_comment(lx->p + lx->pos, lx->len - lx->pos, out);
}

/* Reads a quoted string at pos (which is '"') into out, unquoted. */
static void lex_quoted(struct addr_lexer *lx, struct strbuf *out)
{
	lx->pos += rfc5322_quoted(lx->p + lx->pos, lx->len - lx->pos, out);
}

struct address {
	struct strbuf name, route, spec, comment;
	bool has_angle;
};

static void address_reset(struct address *a)
{
	strbuf_truncate(&a->name, 0);
	strbuf_truncate(&a->route, 0);
	strbuf_truncate(&a->spec, 0);
	strbuf_truncate(&a->comment, 0);
	a->has_angle = false;
}

static void address_free(struct address *a)
{
	strbuf_free(&a->name);
	strbuf_free(&a->route);
	strbuf_free(&a->spec);
	strbuf_free(&a->comment);
}

/* Reads "<[@route:]addr-spec>" at pos (which is '<'). */
static void lex_angle(struct addr_lexer *lx, struct address *a)
{
	lx->pos++;
	a->has_angle = true;
	strbuf_truncate(&a->spec, 0);	/* what came before was the phrase */
	while (lx->pos < lx->len && lx->p[lx->pos] != '>') {
		char c = lx->p[lx->pos];
		if (c == '"') {
			strbuf_append_c(&a->spec, '"');
			lex_quoted(lx, &a->spec);
			strbuf_append_c(&a->spec, '"');
			continue;
		}
		if (c == '(') {
			struct strbuf junk = STRBUF_INIT;
			lex_comment(lx, &junk);
			strbuf_free(&junk);
			continue;
		}
		lx->pos++;
		if (c == ':' && a->spec.len > 0 && a->spec.data[0] == '@') {
			/* the spec so far was an obsolete source route */
			strbuf_append(&a->route, a->spec.data, a->spec.len);
			strbuf_truncate(&a->spec, 0);
			continue;
		}
		if (!is_blank(c))
			strbuf_append_c(&a->spec, c);
	}
	if (lx->pos < lx->len)
		lx->pos++;
}

/* The ENVELOPE fields of one address from what was read: the display
 * name (or, without one, a comment), the route, the unquoted local part
 * (into local) and the domain (NULL when missing). */
static void address_fields(struct address *a, struct strbuf *local, struct imap_address *out)
{
	const char *spec = strbuf_cstr(&a->spec), *at = NULL;
	bool quoted = false;
	size_t i;

	/* the last '@' outside quotes splits local part and domain */
	for (i = 0; i < a->spec.len; i++) {
		if (spec[i] == '"')
			quoted = !quoted;
		else if (spec[i] == '@' && !quoted)
			at = spec + i;
	}
	strbuf_truncate(local, 0);
	for (i = 0; i < (at != NULL ? (size_t)(at - spec) : a->spec.len); i++) {
		if (spec[i] == '\\' && i + 1 < a->spec.len)
			strbuf_append_c(local, spec[++i]);
		else if (spec[i] != '"')
			strbuf_append_c(local, spec[i]);
	}
	memset(out, 0, sizeof(*out));
	out->name = a->name.len > 0 ? strbuf_cstr(&a->name) : a->comment.len > 0 ? strbuf_cstr(&a->comment) : NULL;
	out->route = a->route.len > 0 ? strbuf_cstr(&a->route) : NULL;
	out->mailbox = local->len > 0 ? strbuf_cstr(local) : NULL;
	out->host = at != NULL && at[1] != '\0' ? at + 1 : NULL;
}

/* Reads the phrase or bare addr-spec of one address up to a delimiter. */
static char lex_phrase(struct addr_lexer *lx, struct address *a)
{
	bool space = false;

	while (lx->pos < lx->len) {
		char c = lx->p[lx->pos];
		if (c == ',' || c == ';' || c == ':' || c == '<')
			return c;
		if (is_blank(c)) {
			space = a->name.len > 0;
			lx->pos++;
			continue;
		}
		if (c == '(') {
			strbuf_truncate(&a->comment, 0);
			lex_comment(lx, &a->comment);
			space = a->name.len > 0;
			continue;
		}
		if (space)
			strbuf_append_c(&a->name, ' ');
		space = false;
		if (c == '"') {
			size_t before = a->name.len;
			strbuf_append_c(&a->spec, '"');
			lex_quoted(lx, &a->name);
			strbuf_append(&a->spec, strbuf_cstr(&a->name) + before, a->name.len - before);
			strbuf_append_c(&a->spec, '"');
			continue;
		}
		strbuf_append_c(&a->name, c);
		strbuf_append_c(&a->spec, c);
		lx->pos++;
	}
	return '\0';
}

void imap_address_list_each(const char *value, size_t len, imap_address_cb *cb, void *ctx)
{
	struct addr_lexer lx = { value, len, 0 };
	struct address a = { STRBUF_INIT, STRBUF_INIT, STRBUF_INIT, STRBUF_INIT, false };
	struct strbuf local = STRBUF_INIT;
	struct imap_address ia;
	bool in_group = false, go = true;

	while (go && lx.pos < lx.len) {
		char delim;

		address_reset(&a);
		delim = lex_phrase(&lx, &a);
		if (delim == ':' && !in_group) {
			lx.pos++;
			in_group = true;
			memset(&ia, 0, sizeof(ia));
			ia.mailbox = strbuf_cstr(&a.name);
			ia.group_start = true;
			go = cb(&ia, ctx);
			continue;
		}
		if (delim == '<') {
			lex_angle(&lx, &a);
			delim = '\0';
			while (lx.pos < lx.len && lx.p[lx.pos] != ',' && lx.p[lx.pos] != ';')
				lx.pos++;	/* junk after '>' */
			if (lx.pos < lx.len)
				delim = lx.p[lx.pos];
		} else {
			/* a bare addr-spec: the phrase was it, a comment names it */
			strbuf_truncate(&a.name, 0);
		}
		if (delim == ':')
			lx.pos++;	/* ':' inside a group: ignore */
		if (a.spec.len > 0 || a.has_angle) {
			address_fields(&a, &local, &ia);
			go = cb(&ia, ctx);
		}
		if (go && delim == ';' && in_group) {
			memset(&ia, 0, sizeof(ia));
			ia.group_end = true;
			go = cb(&ia, ctx);
			in_group = false;
		}
		if (delim == ',' || delim == ';')
			lx.pos++;
	}
	if (go && in_group) {
		memset(&ia, 0, sizeof(ia));
		ia.group_end = true;
		cb(&ia, ctx);
	}
	address_free(&a);
	strbuf_free(&local);
}

static void nstring_or(struct strbuf *out, const char *s, const char *missing)
{
	if (s != NULL)
		imap_string_append(out, s, strlen(s));
	else
		strbuf_append_str(out, missing);
}

static bool address_write_cb(const struct imap_address *a, void *ctx)
{
	struct strbuf *out = ctx;

	if (a->group_end) {
		strbuf_append_str(out, "(NIL NIL NIL NIL)");
		return true;
	}
	if (a->group_start) {
		strbuf_append_str(out, "(NIL NIL ");
		imap_string_append(out, a->mailbox, strlen(a->mailbox));
		strbuf_append_str(out, " NIL)");
		return true;
	}
	strbuf_append_c(out, '(');
	nstring_or(out, a->name, "NIL");
	strbuf_append_c(out, ' ');
	nstring_or(out, a->route, "NIL");
	strbuf_append_c(out, ' ');
	nstring_or(out, a->mailbox, "\"MISSING_MAILBOX\"");
	strbuf_append_c(out, ' ');
	nstring_or(out, a->host, "\"MISSING_DOMAIN\"");
	strbuf_append_c(out, ')');
	return true;
}

void imap_address_list_write(const char *value, size_t len, struct strbuf *out)
{
	size_t start = out->len;

	strbuf_append_c(out, '(');
	imap_address_list_each(value, len, address_write_cb, out);
	if (out->len == start + 1) {
		strbuf_truncate(out, start);
		strbuf_append_str(out, "NIL");
		return;
	}
	strbuf_append_c(out, ')');
}

struct first_address {
	struct strbuf *name, *mailbox, *host;
	bool found;
};

static bool first_address_cb(const struct imap_address *a, void *ctx)
{
	struct first_address *fa = ctx;

	if (a->group_end)
		return true;
	if (a->name != NULL)
		strbuf_append_str(fa->name, a->name);
	if (a->mailbox != NULL)
		strbuf_append_str(fa->mailbox, a->mailbox);
	if (a->host != NULL)
		strbuf_append_str(fa->host, a->host);
	fa->found = true;
	return false;
}

bool imap_first_address(const char *value, size_t len, struct strbuf *name, struct strbuf *mailbox,
			struct strbuf *host)
{
	struct first_address fa = { name, mailbox, host, false };

	imap_address_list_each(value, len, first_address_cb, &fa);
	return fa.found;
}

/* ---- ENVELOPE ---- */

enum env_field {
	ENV_DATE, ENV_SUBJECT, ENV_FROM, ENV_SENDER, ENV_REPLY_TO, ENV_TO, ENV_CC,
	ENV_BCC, ENV_IN_REPLY_TO, ENV_MESSAGE_ID, ENV_COUNT
};

static const char *const env_names[ENV_COUNT] = {
	"date", "subject", "from", "sender", "reply-to", "to", "cc", "bcc",
	"in-reply-to", "message-id"
};

static void env_string(struct strbuf *out, const struct mail_header_field *f)
{
	struct strbuf v = STRBUF_INIT;

	if (f == NULL) {
		strbuf_append_str(out, "NIL");
		return;
	}
	mail_header_unfold(f->value, f->value_len, &v);
	imap_string_append(out, strbuf_cstr(&v), v.len);
	strbuf_free(&v);
}

/* Whether the address list in f holds at least one address. */
static bool env_has_address(const struct mail_header_field *f)
{
	struct strbuf tmp = STRBUF_INIT;
	bool has;

	if (f == NULL)
		return false;
	imap_address_list_write(f->value, f->value_len, &tmp);
	has = strcmp(strbuf_cstr(&tmp), "NIL") != 0;
	strbuf_free(&tmp);
	return has;
}

static void env_addresses(struct strbuf *out, const struct mail_header_field *f)
{
	if (f == NULL)
		strbuf_append_str(out, "NIL");
	else
		imap_address_list_write(f->value, f->value_len, out);
}

void imap_envelope_write(const char *header, size_t header_size, struct strbuf *out)
{
	struct mail_header_field fields[ENV_COUNT], f;
	bool seen[ENV_COUNT] = { false };
	struct mail_header_iter iter;
	const struct mail_header_field *from;

	mail_header_iter_init(&iter, header, header_size);
	while (mail_header_iter_next(&iter, &f)) {
		for (int i = 0; i < ENV_COUNT; i++) {
			if (!seen[i] && mail_header_field_is(&f, env_names[i])) {
				seen[i] = true;
				fields[i] = f;
				break;
			}
		}
	}
#define FIELD(i) (seen[i] ? &fields[i] : NULL)
	from = FIELD(ENV_FROM);
	strbuf_append_c(out, '(');
	env_string(out, FIELD(ENV_DATE));
	strbuf_append_c(out, ' ');
	env_string(out, FIELD(ENV_SUBJECT));
	strbuf_append_c(out, ' ');
	env_addresses(out, from);
	strbuf_append_c(out, ' ');
	env_addresses(out, env_has_address(FIELD(ENV_SENDER)) ? FIELD(ENV_SENDER) : from);
	strbuf_append_c(out, ' ');
	env_addresses(out, env_has_address(FIELD(ENV_REPLY_TO)) ? FIELD(ENV_REPLY_TO) : from);
	for (int i = ENV_TO; i <= ENV_BCC; i++) {
		strbuf_append_c(out, ' ');
		env_addresses(out, FIELD(i));
	}
	strbuf_append_c(out, ' ');
	env_string(out, FIELD(ENV_IN_REPLY_TO));
	strbuf_append_c(out, ' ');
	env_string(out, FIELD(ENV_MESSAGE_ID));
	strbuf_append_c(out, ')');
#undef FIELD
}

/* ---- BODY / BODYSTRUCTURE ---- */

/* Parameters as ("name" "value" ...); RFC 2231 ones are written back in
 * their encoded form (name*, utf-8''%XX) so the list stays 7-bit. */
static void params_write(struct strbuf *out, const struct mime_param *params,
			 unsigned int count, bool default_charset)
{
	bool seen_charset = false;

	if (count == 0 && !default_charset) {
		strbuf_append_str(out, "NIL");
		return;
	}
	strbuf_append_c(out, '(');
	for (unsigned int i = 0; i < count; i++) {
		const struct mime_param *p = &params[i];

		if (i > 0)
			strbuf_append_c(out, ' ');
		if (strcmp(p->name, "charset") == 0)
			seen_charset = true;
		if (p->extended) {
			struct strbuf name = STRBUF_INIT, v = STRBUF_INIT;

			strbuf_printf(&name, "%s*", p->name);
			strbuf_append_str(&v, "utf-8''");
			for (const unsigned char *c = (const unsigned char *)p->value; *c != '\0'; c++) {
				if ((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
				    (*c >= '0' && *c <= '9') || strchr("-._~", *c) != NULL)
					strbuf_append_c(&v, (char)*c);
				else
					strbuf_printf(&v, "%%%02X", *c);
			}
			imap_string_append(out, name.data, name.len);
			strbuf_append_c(out, ' ');
			imap_string_append(out, v.data, v.len);
			strbuf_free(&name);
			strbuf_free(&v);
		} else {
			imap_nstring_append(out, p->name);
			strbuf_append_c(out, ' ');
			imap_nstring_append(out, p->value);
		}
	}
	if (default_charset && !seen_charset) {
		if (count > 0)
			strbuf_append_c(out, ' ');
		strbuf_append_str(out, "\"charset\" \"us-ascii\"");
	}
	strbuf_append_c(out, ')');
}

/* disposition, language, location: the extension data common to all. */
static void ext_common_write(struct strbuf *out, const struct mime_part *part)
{
	strbuf_append_c(out, ' ');
	if (part->disposition == NULL) {
		strbuf_append_str(out, "NIL");
	} else {
		strbuf_append_c(out, '(');
		imap_nstring_append(out, part->disposition);
		strbuf_append_c(out, ' ');
		params_write(out, part->disposition_params, part->disposition_param_count, false);
		strbuf_append_c(out, ')');
	}
	strbuf_append_c(out, ' ');
	if (part->language_count == 0) {
		strbuf_append_str(out, "NIL");
	} else {
		strbuf_append_c(out, '(');
		for (unsigned int i = 0; i < part->language_count; i++) {
			if (i > 0)
				strbuf_append_c(out, ' ');
			imap_nstring_append(out, part->languages[i]);
		}
		strbuf_append_c(out, ')');
	}
	strbuf_append_c(out, ' ');
	imap_nstring_append(out, part->location);
}

static void part_write(const struct mime_message *msg, const struct mime_part *part,
		       bool extended, struct strbuf *out);

static void multipart_write(const struct mime_message *msg, const struct mime_part *part,
			    bool extended, struct strbuf *out)
{
	strbuf_append_c(out, '(');
	if (part->children == NULL)
		strbuf_append_str(out, extended ? EMPTY_BODYSTRUCTURE : EMPTY_BODY);
	for (const struct mime_part *c = part->children; c != NULL; c = c->next)
		part_write(msg, c, extended, out);
	strbuf_append_c(out, ' ');
	imap_nstring_append(out, part->subtype);
	if (extended) {
		strbuf_append_c(out, ' ');
		params_write(out, part->params, part->param_count, false);
		ext_common_write(out, part);
	}
	strbuf_append_c(out, ')');
}

static void part_write(const struct mime_message *msg, const struct mime_part *part,
		       bool extended, struct strbuf *out)
{
	bool text = strcmp(part->type, "text") == 0;
	bool message = strcmp(part->type, "message") == 0 && strcmp(part->subtype, "rfc822") == 0;

	if (strcmp(part->type, "multipart") == 0) {
		multipart_write(msg, part, extended, out);
		return;
	}
	strbuf_append_c(out, '(');
	imap_nstring_append(out, part->type);
	strbuf_append_c(out, ' ');
	imap_nstring_append(out, part->subtype);
	strbuf_append_c(out, ' ');
	params_write(out, part->params, part->param_count, text);
	strbuf_append_c(out, ' ');
	imap_nstring_append(out, part->id);
	strbuf_append_c(out, ' ');
	imap_nstring_append(out, part->description);
	strbuf_append_c(out, ' ');
	imap_nstring_append(out, part->encoding);
	strbuf_printf(out, " %zu", part->body_size);
	if (message) {
		const struct mime_part *c = part->children;

		strbuf_append_c(out, ' ');
		if (c != NULL) {
			imap_envelope_write(msg->data + c->header_offset, c->header_size, out);
			strbuf_append_c(out, ' ');
			part_write(msg, c, extended, out);
		} else {
			strbuf_append_str(out, EMPTY_ENVELOPE " ");
			strbuf_append_str(out, extended ? EMPTY_BODYSTRUCTURE : EMPTY_BODY);
		}
		strbuf_printf(out, " %zu", part->body_lines);
	} else if (text) {
		strbuf_printf(out, " %zu", part->body_lines);
	}
	if (extended) {
		strbuf_append_c(out, ' ');
		imap_nstring_append(out, part->md5);
		ext_common_write(out, part);
	}
	strbuf_append_c(out, ')');
}

void imap_bodystructure_write(const struct mime_message *msg, const struct mime_part *part,
			      bool extended, struct strbuf *out)
{
	part_write(msg, part, extended, out);
}
