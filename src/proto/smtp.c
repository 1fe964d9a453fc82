#include "proto/smtp.h"
#include "lib/str.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *const verb_names[SMTP_VERB_COUNT] = {
	[SMTP_VERB_UNKNOWN] = "", [SMTP_VERB_HELO] = "HELO", [SMTP_VERB_EHLO] = "EHLO",
	[SMTP_VERB_MAIL] = "MAIL", [SMTP_VERB_RCPT] = "RCPT", [SMTP_VERB_DATA] = "DATA",
	[SMTP_VERB_BDAT] = "BDAT", [SMTP_VERB_RSET] = "RSET", [SMTP_VERB_NOOP] = "NOOP",
	[SMTP_VERB_QUIT] = "QUIT", [SMTP_VERB_VRFY] = "VRFY", [SMTP_VERB_EXPN] = "EXPN",
	[SMTP_VERB_HELP] = "HELP", [SMTP_VERB_STARTTLS] = "STARTTLS", [SMTP_VERB_AUTH] = "AUTH",
	[SMTP_VERB_LHLO] = "LHLO", [SMTP_VERB_XCLIENT] = "XCLIENT",
};

const char *smtp_verb_name(enum smtp_verb verb)
{
	return verb < SMTP_VERB_COUNT ? verb_names[verb] : "";
}

int smtp_command_parse(const char *line, size_t len, struct smtp_command *cmd_r,
		       const char **error_r)
{
	size_t i = 0;

	memset(cmd_r, 0, sizeof(*cmd_r));
	for (size_t j = 0; j < len; j++) {
		if (line[j] == '\0' || line[j] == '\r' || line[j] == '\n') {
			*error_r = "control characters in command";
			return -1;
		}
	}
	while (i < len && line[i] != ' ')
		i++;
	cmd_r->verb_text = line;
	cmd_r->verb_len = i;
	for (size_t j = 0; j < i; j++) {
		if ((unsigned char)line[j] >= 0x80 || (unsigned char)line[j] < 0x20) {
			*error_r = "invalid characters in command";
			return -1;
		}
	}
	for (int v = 1; v < SMTP_VERB_COUNT; v++) {
		if (strlen(verb_names[v]) == i && strncasecmp(line, verb_names[v], i) == 0) {
			cmd_r->verb = (enum smtp_verb)v;
			break;
		}
	}
	if (i < len)
		i++;	/* the one space */
	cmd_r->args = line + i;
	cmd_r->args_len = len - i;
	/* Trailing spaces are common from hand-typed sessions; drop them. */
	while (cmd_r->args_len > 0 && cmd_r->args[cmd_r->args_len - 1] == ' ')
		cmd_r->args_len--;
	return 0;
}

/* Matches a case-insensitive keyword ("FROM:") at args and skips spaces
 * after it. Returns the offset after it, or -1. */
static long match_keyword(const char *args, size_t len, const char *kw)
{
	size_t kwlen = strlen(kw), i;

	if (len < kwlen || strncasecmp(args, kw, kwlen) != 0)
		return -1;
	i = kwlen;
	while (i < len && args[i] == ' ')
		i++;
	return (long)i;
}

/* Iterates "KEY[=VALUE]" parameters separated by spaces. */
static int next_param(const char *s, size_t len, size_t *pos, char *key, size_t keysize,
		      char *value, size_t valsize)
{
	size_t start, eq;

	while (*pos < len && s[*pos] == ' ')
		(*pos)++;
	if (*pos >= len)
		return 0;
	start = *pos;
	while (*pos < len && s[*pos] != ' ')
		(*pos)++;
	for (eq = start; eq < *pos && s[eq] != '='; eq++)
		;
	if (str_copyn(key, keysize, s + start, eq - start) < 0)
		return -1;
	if (eq < *pos) {
		if (str_copyn(value, valsize, s + eq + 1, *pos - eq - 1) < 0)
			return -1;
	} else {
		value[0] = '\0';
	}
	return key[0] == '\0' ? -1 : 1;
}

enum smtp_arg_error smtp_mail_parse(const char *args, size_t len, struct mail_path *path_r,
				    struct smtp_mail_params *params_r, const char **error_r)
{
	long off = match_keyword(args, len, "FROM:");
	size_t used, pos;
	char key[32], value[128];
	int r;

	memset(params_r, 0, sizeof(*params_r));
	if (off < 0) {
		*error_r = "Syntax: MAIL FROM:<address>";
		return SMTP_ARG_SYNTAX;
	}
	if (mail_path_parse(args + off, len - (size_t)off, path_r, &used, error_r) < 0)
		return SMTP_ARG_ADDRESS;
	pos = (size_t)off + used;
	if (pos < len && args[pos] != ' ') {
		*error_r = "Syntax: MAIL FROM:<address> [parameters]";
		return SMTP_ARG_SYNTAX;
	}
	while ((r = next_param(args, len, &pos, key, sizeof(key), value, sizeof(value))) > 0) {
		if (strcasecmp(key, "SIZE") == 0) {
			if (params_r->has_size || str_parse_uint(value, UINT64_MAX, &params_r->size) < 0) {
				*error_r = "SIZE needs one number";
				return SMTP_ARG_PARAM;
			}
			params_r->has_size = true;
		} else if (strcasecmp(key, "BODY") == 0) {
			if (strcasecmp(value, "7BIT") == 0) {
				params_r->body = SMTP_BODY_7BIT;
			} else if (strcasecmp(value, "8BITMIME") == 0) {
				params_r->body = SMTP_BODY_8BITMIME;
			} else {
				*error_r = "BODY must be 7BIT or 8BITMIME";
				return SMTP_ARG_PARAM;
			}
		} else if (strcasecmp(key, "SMTPUTF8") == 0 && value[0] == '\0') {
			params_r->smtputf8 = true;
		} else if (strcasecmp(key, "AUTH") == 0) {
			/* RFC 4954 AUTH=: accepted and not trusted. */
		} else {
			*error_r = "Unsupported MAIL parameter";
			return SMTP_ARG_PARAM;
		}
	}
	if (r < 0) {
		*error_r = "Malformed MAIL parameter";
		return SMTP_ARG_PARAM;
	}
	return SMTP_ARG_OK;
}

enum smtp_arg_error smtp_rcpt_parse(const char *args, size_t len, struct mail_path *path_r,
				    const char **error_r)
{
	long off = match_keyword(args, len, "TO:");
	size_t used, pos;

	if (off < 0) {
		*error_r = "Syntax: RCPT TO:<address>";
		return SMTP_ARG_SYNTAX;
	}
	if (len - (size_t)off >= 12 && strncasecmp(args + off, "<postmaster>", 12) == 0) {
		/* RFC 5321 section 4.5.1: "<Postmaster>" without a domain is a
		 * valid recipient; the domain is left empty for the server */
		memset(path_r, 0, sizeof(*path_r));
		memcpy(path_r->local, "postmaster", 11);
		used = 12;
	} else if (mail_path_parse(args + off, len - (size_t)off, path_r, &used, error_r) < 0) {
		return SMTP_ARG_ADDRESS;
	}
	if (path_r->null_path) {
		*error_r = "The recipient may not be <>";
		return SMTP_ARG_ADDRESS;
	}
	pos = (size_t)off + used;
	while (pos < len && args[pos] == ' ')
		pos++;
	if (pos < len) {
		*error_r = "Unsupported RCPT parameter";
		return SMTP_ARG_PARAM;
	}
	return SMTP_ARG_OK;
}

enum { DATA_BOL, DATA_MID, DATA_CR, DATA_DOT, DATA_DOTCR };

void smtp_data_init(struct smtp_data_parser *p)
{
	memset(p, 0, sizeof(*p));
	p->state = DATA_BOL;
}

int smtp_data_parse(struct smtp_data_parser *p, const char *in, size_t len, char *out,
		    size_t *out_len_r, size_t *consumed_r)
{
	size_t o = 0, i;

	for (i = 0; i < len; i++) {
		char c;

		if (p->state == DATA_MID) {
			/* the rest of a line up to its CR or LF goes out as it is */
			const char *cr = memchr(in + i, '\r', len - i), *lf;
			size_t end = cr != NULL ? (size_t)(cr - in) : len;

			if ((lf = memchr(in + i, '\n', end - i)) != NULL)
				end = (size_t)(lf - in);
			memcpy(out + o, in + i, end - i);
			o += end - i;
			i = end;
			if (i == len)
				break;
		}
		c = in[i];
		switch (p->state) {
		case DATA_BOL:
			if (c == '.') {
				p->state = DATA_DOT;
				continue;
			}
			break;
		case DATA_DOT:
			if (c == '\r') {
				p->state = DATA_DOTCR;
				continue;
			}
			if (c == '\n') {
				/* A lone dot ended by a bare LF: not the end, and no
				 * stuffing either (a stuffed line would be ".."): the
				 * line is kept as the dot it shows. */
				memcpy(out + o, ".\r\n", 3);
				o += 3;
				p->bare_lf = true;
				p->state = DATA_MID;
				continue;
			}
			/* A stuffed dot: drop it and go on with the line. */
			break;
		case DATA_DOTCR:
			if (c == '\n') {
				*out_len_r = o;
				*consumed_r = i + 1;
				p->bytes += o;
				return 1;
			}
			/* ".\r" then something else: a lone dot ended by a bare
			 * CR, kept like the bare LF case above. */
			memcpy(out + o, ".\r\n", 3);
			o += 3;
			p->state = DATA_MID;
			break;
		case DATA_CR:
			if (c == '\n') {
				out[o++] = '\r';
				out[o++] = '\n';
				p->state = DATA_BOL;
				continue;
			}
			/* A bare CR: a line end in the stored message (which has
			 * only CRLF), but not an SMTP line end. */
			out[o++] = '\r';
			out[o++] = '\n';
			p->state = DATA_MID;
			break;
		default:
			break;
		}
		/* DATA_MID handling, also reached from the states above. */
		if (c == '\r') {
			p->state = DATA_CR;
		} else if (c == '\n') {
			out[o++] = '\r';
			out[o++] = '\n';
			p->bare_lf = true;
			/* Not an SMTP line end: a dot after it neither ends the
			 * message nor is unstuffed (<LF>.<CRLF> smuggling). */
			p->state = DATA_MID;
		} else {
			out[o++] = c;
			p->state = DATA_MID;
		}
	}
	*out_len_r = o;
	*consumed_r = len;
	p->bytes += o;
	return 0;
}

int sasl_plain_decode(const char *b64, size_t len, char *authz_r, size_t authz_size,
		      char *authc_r, size_t authc_size, char *pass_r, size_t pass_size,
		      const char **error_r)
{
	unsigned char buf[1024];
	const unsigned char *nul1, *nul2, *end;
	long n;

	if (len == 0 || len > 1360 || (n = base64_decode(b64, len, buf)) < 0) {
		*error_r = "invalid base64";
		return -1;
	}
	end = buf + n;
	nul1 = memchr(buf, '\0', (size_t)n);
	nul2 = nul1 != NULL ? memchr(nul1 + 1, '\0', (size_t)(end - nul1 - 1)) : NULL;
	if (nul2 == NULL || memchr(nul2 + 1, '\0', (size_t)(end - nul2 - 1)) != NULL) {
		explicit_bzero(buf, sizeof(buf));
		*error_r = "PLAIN needs authzid NUL authcid NUL password";
		return -1;
	}
	if (str_copyn(authz_r, authz_size, (const char *)buf, (size_t)(nul1 - buf)) < 0 ||
	    str_copyn(authc_r, authc_size, (const char *)nul1 + 1, (size_t)(nul2 - nul1 - 1)) < 0 ||
	    str_copyn(pass_r, pass_size, (const char *)nul2 + 1, (size_t)(end - nul2 - 1)) < 0) {
		explicit_bzero(buf, sizeof(buf));
		*error_r = "credentials too long";
		return -1;
	}
	explicit_bzero(buf, sizeof(buf));
	return 0;
}

int sasl_login_decode(const char *b64, size_t len, char *out, size_t size, const char **error_r)
{
	unsigned char buf[512];
	long n;

	if (len > 680 || (n = base64_decode(b64, len, buf)) < 0) {
		*error_r = "invalid base64";
		return -1;
	}
	if (memchr(buf, '\0', (size_t)n) != NULL || str_copyn(out, size, (const char *)buf, (size_t)n) < 0) {
		explicit_bzero(buf, sizeof(buf));
		*error_r = "invalid credentials";
		return -1;
	}
	explicit_bzero(buf, sizeof(buf));
	return 0;
}
