/* Shared by the IMAP unit tests: run a parser over input split into
 * chunks and log what it reports as one string. */
#ifndef YUBIN_TESTS_IMAP_TEST_UTIL_H
#define YUBIN_TESTS_IMAP_TEST_UTIL_H

#include <stdio.h>
#include <string.h>

#include "lib/strbuf.h"
#include "proto/imap_parser.h"

static void dump_bytes(struct strbuf *b, const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '\0')
			strbuf_append_str(b, "\\0");
		else if (s[i] == '\r')
			strbuf_append_str(b, "\\r");
		else if (s[i] == '\n')
			strbuf_append_str(b, "\\n");
		else
			strbuf_append_c(b, s[i]);
	}
}

static void dump_arg(struct strbuf *b, const struct imap_arg *a)
{
	switch (a->type) {
	case IMAP_ARG_ATOM:
		strbuf_append(b, a->str, a->len);
		break;
	case IMAP_ARG_NIL:
		strbuf_append_str(b, "<NIL>");
		break;
	case IMAP_ARG_STRING:
		strbuf_append_c(b, '"');
		dump_bytes(b, a->str, a->len);
		strbuf_append_c(b, '"');
		break;
	case IMAP_ARG_LITERAL:
		strbuf_printf(b, "%s{%zu%s}", a->literal8 ? "~" : "", a->len,
			      a->streamed ? " streamed" : "");
		if (!a->streamed)
			dump_bytes(b, a->str, a->len);
		break;
	case IMAP_ARG_LIST:
		strbuf_append_c(b, '(');
		for (size_t i = 0; i < a->count; i++) {
			if (i > 0)
				strbuf_append_c(b, ' ');
			dump_arg(b, &a->list[i]);
		}
		strbuf_append_c(b, ')');
		break;
	default:
		strbuf_append_str(b, "<?>");
	}
}

static void dump_command(struct strbuf *b, const struct imap_command *c)
{
	strbuf_printf(b, "%s %s%s", c->tag, c->uid ? "UID " : "", c->name);
	for (size_t i = 0; i < c->count; i++) {
		strbuf_append_c(b, ' ');
		dump_arg(b, &c->args[i]);
	}
}

#define RUN_REJECT_CONT 0x1	/* refuse every synchronising literal */

/* Feeds in[0..len) in chunks of chunk bytes; appends one line per event to
 * log: "CMD ...", "ERR code fatal tag: msg", "CONT n", "LSTART n sync",
 * "DATA n:bytes" (consecutive chunks merged). */
static void imap_test_run(const struct imap_parser_limits *lim, const char *in, size_t len,
			  size_t chunk, unsigned flags, struct strbuf *log)
{
	struct imap_parser *p = imap_parser_new(lim);
	struct strbuf data = STRBUF_INIT;
	bool in_data = false;
	size_t off = 0, recv = chunk < len ? chunk : len;

	for (;;) {
		size_t used = 0;
		int r = imap_parser_feed(p, (const unsigned char *)in + off, recv - off, &used);

		if (r != IMAP_PARSE_LITERAL_DATA && r != IMAP_PARSE_MORE && in_data) {
			strbuf_printf(log, "DATA %zu:", data.len);
			dump_bytes(log, data.data ? data.data : "", data.len);
			strbuf_append_c(log, '\n');
			strbuf_truncate(&data, 0);
			in_data = false;
		}
		if (used > recv - off)
			strbuf_append_str(log, "OVERCONSUMED\n");
		if (r == IMAP_PARSE_LITERAL_DATA) {
			strbuf_append(&data, in + off, used);
			in_data = true;
		}
		off += used;
		if (r == IMAP_PARSE_COMMAND) {
			strbuf_append_str(log, "CMD ");
			dump_command(log, imap_parser_get_command(p));
			strbuf_append_c(log, '\n');
		} else if (r == IMAP_PARSE_ERROR) {
			const struct imap_parse_error *e = imap_parser_get_error(p);

			strbuf_printf(log, "ERR %s%s %s: %s\n",
				      e->code == IMAP_PARSE_ERROR_TOOBIG ? "TOOBIG" : "BAD",
				      e->fatal ? " FATAL" : "", e->tag ? e->tag : "*", e->message);
			if (e->fatal)
				break;
		} else if (r == IMAP_PARSE_CONTINUE || r == IMAP_PARSE_LITERAL_START) {
			const struct imap_literal_info *l = imap_parser_get_literal(p);

			strbuf_printf(log, "%s %llu%s\n", r == IMAP_PARSE_CONTINUE ? "CONT" : "LSTART",
				      (unsigned long long)l->size, l->sync ? " sync" : "");
			if ((flags & RUN_REJECT_CONT) && l->sync) {
				imap_parser_literal_reject(p);
				strbuf_append_str(log, "REJECT\n");
			}
		} else if (r == IMAP_PARSE_MORE) {
			if (used != recv - (off - used))
				strbuf_append_str(log, "MORE-NOT-ALL\n");
			if (recv == len)
				break;
			recv = recv + chunk < len ? recv + chunk : len;
		} else if (r != IMAP_PARSE_LITERAL_DATA) {
			strbuf_printf(log, "BADRESULT %d\n", r);
			break;
		}
	}
	if (in_data) {
		strbuf_printf(log, "DATA %zu:", data.len);
		dump_bytes(log, data.data, data.len);
		strbuf_append_c(log, '\n');
	}
	strbuf_free(&data);
	imap_parser_free(p);
}

#endif

#ifdef IMAP_TEST_PARSE_LINE
/* Parses one whole command (literals allowed), byte at a time and at once,
 * checking both agree; returns the command of the at-once parse, which
 * lives until the next call on p. */
static const struct imap_command *imap_test_parse(struct imap_parser *p, const char *line)
{
	struct strbuf a = STRBUF_INIT, b = STRBUF_INIT;
	size_t len = strlen(line), off = 0, used;
	int r;

	imap_test_run(NULL, line, len, 1, 0, &a);
	imap_parser_reset(p);
	do {
		r = imap_parser_feed(p, (const unsigned char *)line + off, len - off, &used);
		off += used;
	} while (r == IMAP_PARSE_CONTINUE);
	if (r != IMAP_PARSE_COMMAND)
		fail_msg("\"%s\" did not parse: %d %s", line, r,
			 r == IMAP_PARSE_ERROR ? imap_parser_get_error(p)->message : "");
	strbuf_append_str(&b, "CMD ");
	dump_command(&b, imap_parser_get_command(p));
	strbuf_append_c(&b, '\n');
	if (strstr(strbuf_cstr(&a), strbuf_cstr(&b)) == NULL)
		fail_msg("split parse differs: %s vs %s", strbuf_cstr(&a), strbuf_cstr(&b));
	strbuf_free(&a);
	strbuf_free(&b);
	return imap_parser_get_command(p);
}
#endif
