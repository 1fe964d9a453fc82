/* libFuzzer target: the IMAP command parser and every helper over its
 * argument trees. The first input byte picks limits and the feeding chunk
 * size; the result must not depend on how the input is split, and the
 * helpers' results are checked against each other (mUTF-7 round trips,
 * strings written by imap_write_* parse back to the same bytes). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/strbuf.h"
#include "proto/imap_args.h"
#include "proto/imap_date.h"
#include "proto/imap_fetch.h"
#include "proto/imap_mailbox.h"
#include "proto/imap_parser.h"
#include "proto/imap_search.h"
#include "proto/imap_seqset.h"
#include "proto/imap_store.h"
#include "proto/imap_write.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void log_arg(struct strbuf *b, const struct imap_arg *a)
{
	strbuf_printf(b, "%d/%d/%d/%zu:", (int)a->type, a->literal8, a->streamed, a->len);
	if (a->type == IMAP_ARG_LIST) {
		strbuf_append_c(b, '(');
		for (size_t i = 0; i < a->count; i++)
			log_arg(b, &a->list[i]);
		strbuf_append_c(b, ')');
	} else if (a->str != NULL) {
		strbuf_append(b, a->str, a->len);
	} else if (!a->streamed) {
		abort();
	}
}

/* Writes s as an astring into a command and parses it back. */
static void check_write_roundtrip(const char *s, size_t len)
{
	struct strbuf cmd = STRBUF_INIT;
	struct imap_parser *p = imap_parser_new(NULL);
	size_t off = 0, used;
	int r;

	strbuf_append_str(&cmd, "t X ");
	imap_write_astring(&cmd, s, len, IMAP_WRITE_UTF8 | IMAP_WRITE_LITERAL8);
	strbuf_append_str(&cmd, "\r\n");
	do {
		r = imap_parser_feed(p, (const unsigned char *)cmd.data + off, cmd.len - off, &used);
		off += used;
	} while (r == IMAP_PARSE_CONTINUE);
	if (r != IMAP_PARSE_COMMAND)
		abort();
	const struct imap_command *c = imap_parser_get_command(p);
	if (c->count != 1 || c->args[0].len != len || memcmp(c->args[0].str, s, len) != 0)
		abort();
	imap_parser_free(p);
	strbuf_free(&cmd);
}

static void check_mailbox(const struct imap_arg *a)
{
	struct strbuf u = STRBUF_INIT, m = STRBUF_INIT, u2 = STRBUF_INIT;

	if (imap_mutf7_to_utf8(a->str, a->len, &u) == 0) {
		if (!imap_utf8_is_valid(strbuf_cstr(&u), u.len) ||
		    imap_utf8_to_mutf7(strbuf_cstr(&u), u.len, &m) < 0 ||
		    imap_mutf7_to_utf8(strbuf_cstr(&m), m.len, &u2) < 0 || u.len != u2.len ||
		    memcmp(strbuf_cstr(&u), strbuf_cstr(&u2), u.len) != 0)
			abort();
	}
	strbuf_truncate(&u, 0);
	if (imap_utf8_to_mutf7(a->str, a->len, &u) == 0) {
		strbuf_truncate(&m, 0);
		if (imap_mutf7_to_utf8(strbuf_cstr(&u), u.len, &m) < 0 || m.len != a->len ||
		    memcmp(strbuf_cstr(&m), a->str, a->len) != 0)
			abort();
	}
	strbuf_truncate(&u, 0);
	(void)imap_mailbox_decode(a->str, a->len, a->len & 1, '/', &u, &(const char *){ NULL });
	strbuf_free(&u);
	strbuf_free(&m);
	strbuf_free(&u2);
}

static void check_other_args(struct imap_arena *a, const struct imap_command *c)
{
	const char *err = NULL, *s;
	struct imap_list list;
	unsigned items;
	const char *const *caps;
	const struct imap_id_field *id;
	const struct imap_quota_limit *q;
	struct imap_select_params sp;
	size_t n;

	if (imap_list_parse(c->args, c->count, a, &list, &err) < 0 && err == NULL)
		abort();
	err = NULL;
	if (imap_status_parse(c->args, c->count, &s, &items, &err) < 0 && err == NULL)
		abort();
	err = NULL;
	if (imap_enable_parse(c->args, c->count, a, &caps, &n, &err) < 0 && err == NULL)
		abort();
	err = NULL;
	if (imap_id_parse(c->args, c->count, a, &id, &n, &err) == 0) {
		for (size_t i = 0; i < n; i++) {
			if (id[i].name == NULL)
				abort();
		}
	} else if (err == NULL) {
		abort();
	}
	err = NULL;
	if (imap_setquota_parse(c->args, c->count, a, &s, &q, &n, &err) < 0 && err == NULL)
		abort();
	err = NULL;
	if (imap_select_parse(c->args, c->count, a, &s, &sp, &err) < 0 && err == NULL)
		abort();
}

static void check_helpers(struct imap_parser *p, const struct imap_command *c)
{
	struct imap_arena *a = imap_parser_arena(p);
	const char *err = NULL;
	struct imap_seqset set;
	struct imap_fetch fetch;
	struct imap_search search;
	struct imap_store store;
	struct imap_append append;
	struct imap_datetime dt;
	struct imap_date d;
	char out[IMAP_DATETIME_SIZE];

	if (c->count == 0)
		return;
	if (imap_seqset_parse_arg(&c->args[0], true, a, &set, &err) == 0) {
		uint32_t (*r)[2];
		size_t n;

		if (imap_seqset_resolve(&set, 7, a, &r, &n) < 0)
			abort();
		for (uint32_t v = 0; v < 20; v++) {
			bool in = false;

			for (size_t i = 0; i < n; i++)
				in |= v >= r[i][0] && v <= r[i][1];
			if (in != imap_seqset_contains(&set, v, 7))
				abort();
		}
	} else if (err == NULL) {
		abort();
	}
	err = NULL;
	if (imap_fetch_parse(c->args + 1, c->count - 1, c->uid, a, &fetch, &err) < 0 && err == NULL)
		abort();
	err = NULL;
	if (imap_search_parse(c->args, c->count, a, &search, &err) < 0 && err == NULL)
		abort();
	err = NULL;
	if (imap_store_parse(c->args + 1, c->count - 1, a, &store, &err) < 0 && err == NULL)
		abort();
	err = NULL;
	if (imap_append_parse(c->args, c->count, true, a, &append, &err) < 0 && err == NULL)
		abort();
	check_other_args(a, c);
	for (size_t i = 0; i < c->count; i++) {
		const struct imap_arg *arg = &c->args[i];

		if (arg->str == NULL)
			continue;
		if (imap_datetime_parse(arg->str, arg->len, &dt) == 0) {
			if (imap_datetime_format(dt.utc, dt.zone_minutes, out) < 0)
				abort();
			struct imap_datetime dt2;
			if (imap_datetime_parse(out, strlen(out), &dt2) < 0 || dt2.utc != dt.utc)
				abort();
		}
		if (imap_date_parse(arg->str, arg->len, &d) == 0) {
			char ds[IMAP_DATE_SIZE];

			imap_date_format(&d, ds);
			struct imap_date d2;
			if (imap_date_parse(ds, strlen(ds), &d2) < 0 || imap_date_cmp(&d, &d2) != 0)
				abort();
		}
		check_mailbox(arg);
		check_write_roundtrip(arg->str, arg->len);
	}
}

/* Feeds data in chunks of chunk bytes; logs the events. */
static void run(const struct imap_parser_limits *lim, const uint8_t *data, size_t size,
		size_t chunk, bool helpers, struct strbuf *log)
{
	struct imap_parser *p = imap_parser_new(lim);
	size_t off = 0, recv = chunk < size ? chunk : size;

	for (int guard = 0; guard < 1000000; guard++) {
		size_t used = 0;
		int r = imap_parser_feed(p, data + off, recv - off, &used);

		if (used > recv - off)
			abort();
		off += used;
		if (r == IMAP_PARSE_MORE) {
			if (off != recv)
				abort();
			if (recv == size)
				break;
			recv = recv + chunk < size ? recv + chunk : size;
			continue;
		}
		if (r == IMAP_PARSE_LITERAL_DATA) {
			strbuf_append(log, data + off - used, used);
			continue;
		}
		strbuf_printf(log, "\n%d:", r);
		if (r == IMAP_PARSE_COMMAND) {
			const struct imap_command *c = imap_parser_get_command(p);

			strbuf_printf(log, "%s %d %s", c->tag, c->uid, c->name);
			for (size_t i = 0; i < c->count; i++)
				log_arg(log, &c->args[i]);
			if (helpers)
				check_helpers(p, c);
		} else if (r == IMAP_PARSE_ERROR) {
			const struct imap_parse_error *e = imap_parser_get_error(p);

			if (e->message == NULL)
				abort();
			strbuf_printf(log, "%s %d %d", e->message, e->fatal, (int)e->code);
			if (e->fatal)
				break;
		} else if (r == IMAP_PARSE_CONTINUE || r == IMAP_PARSE_LITERAL_START) {
			const struct imap_literal_info *l = imap_parser_get_literal(p);

			strbuf_printf(log, "%llu %d", (unsigned long long)l->size, l->sync);
			if (l->sync && (l->size % 7) == 3) {
				imap_parser_literal_reject(p);
				strbuf_append_str(log, "R");
			}
		} else {
			abort();
		}
	}
	imap_parser_free(p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct imap_parser_limits lim = { 0 };
	struct strbuf a = STRBUF_INIT, b = STRBUF_INIT;
	size_t chunk;

	if (size < 1 || size > 65536)
		return 0;
	lim.max_line = (data[0] & 1) ? 256 : 0;
	lim.max_literal = (data[0] & 2) ? 100 : 0;
	lim.max_literal_mem = (data[0] & 4) ? 64 : 0;
	lim.stream_min = (data[0] & 8) ? 16 : 0;
	lim.literal_minus = (data[0] & 16) != 0;
	lim.max_depth = (data[0] & 32) ? 5 : 0;
	lim.max_args = (data[0] & 64) ? 20 : 0;
	chunk = (data[0] >> 7) ? 1 : 5;
	run(&lim, data + 1, size - 1, size, true, &a);
	run(&lim, data + 1, size - 1, chunk, false, &b);
	if (a.len != b.len || (a.len > 0 && memcmp(a.data, b.data, a.len) != 0))
		abort();
	strbuf_free(&a);
	strbuf_free(&b);
	return 0;
}
