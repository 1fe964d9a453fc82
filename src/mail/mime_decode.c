#include "mail/mime_decode.h"
#include "lib/str.h"

#include <stdbool.h>

static int hex_value(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Bytes that qp_decode looks at one by one: '=', the blanks (QP drops
 * them at a line end) and '_' (a space in Q); the rest is copied as it is. */
static bool qp_is_special(unsigned char c)
{
	return c == '=' || c == ' ' || c == '\t' || c == '_';
}

static bool qp_is_plain_in_line(unsigned char c)
{
	return !qp_is_special(c) && c != '\r' && c != '\n';
}

/* Shared by QP and Q: q_mode turns '_' into a space and has no lines. */
static size_t qp_decode(const char *in, size_t len, struct strbuf *out, bool q_mode)
{
	size_t i = 0, bad = 0, blanks_start = 0;
	bool in_blanks = false;

	strbuf_reserve(out, len);
	while (i < len) {
		unsigned char c = (unsigned char)in[i];

		if (!q_mode && (c == ' ' || c == '\t')) {
			/* kept only if something other than a line end follows */
			if (!in_blanks) {
				in_blanks = true;
				blanks_start = i;
			}
			i++;
			continue;
		}
		if (in_blanks) {
			in_blanks = false;
			if (c != '\r' && c != '\n')
				strbuf_append(out, in + blanks_start, i - blanks_start);
		}
		if (c == '=') {
			int h, l;

			if (i + 2 < len && (h = hex_value((unsigned char)in[i + 1])) >= 0 &&
			    (l = hex_value((unsigned char)in[i + 2])) >= 0) {
				strbuf_append_c(out, (char)(h * 16 + l));
				i += 3;
				continue;
			}
			if (!q_mode) {
				/* soft line break: '=' then blanks then a line end */
				size_t j = i + 1;
				while (j < len && (in[j] == ' ' || in[j] == '\t'))
					j++;
				if (j < len && in[j] == '\r' && j + 1 < len && in[j + 1] == '\n') {
					i = j + 2;
					continue;
				}
				if (j < len && in[j] == '\n') {
					i = j + 1;
					continue;
				}
				if (j == len) {
					i = j;
					continue;
				}
			}
			bad++;
			strbuf_append_c(out, '=');
			i++;
			continue;
		}
		if (q_mode && c == '_') {
			strbuf_append_c(out, ' ');
			i++;
			continue;
		}
		/* this byte and the plain ones after it go out in one piece,
		 * with single blanks between them (kept: no line end follows) */
		size_t run = i + 1;
		while (run < len) {
			if (!qp_is_special((unsigned char)in[run]))
				run++;
			else if ((in[run] == ' ' || in[run] == '\t') && run + 1 < len &&
				 qp_is_plain_in_line((unsigned char)in[run + 1]))
				run += 2;
			else
				break;
		}
		strbuf_append(out, in + i, run - i);
		i = run;
	}
	if (in_blanks && q_mode)
		strbuf_append(out, in + blanks_start, len - blanks_start);
	return bad;
}

size_t mime_qp_decode(const char *in, size_t len, struct strbuf *out)
{
	return qp_decode(in, len, out, false);
}

size_t mime_q_decode(const char *in, size_t len, struct strbuf *out)
{
	return qp_decode(in, len, out, true);
}

size_t mime_base64_decode(const char *in, size_t len, struct strbuf *out)
{
	size_t room = len / 4 * 3 + 3, bad = 0;
	long n;

	strbuf_reserve(out, room);
	n = base64_decode_opts(in, len, (unsigned char *)out->data + out->len, room, BASE64_LENIENT, &bad);
	if (n > 0)
		out->len += (size_t)n;
	out->data[out->len] = '\0';
	return bad;
}
