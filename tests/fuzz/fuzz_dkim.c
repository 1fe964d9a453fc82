/* libFuzzer target: DKIM parsing and canonicalization (mail/dkim.c). The
 * input is a message: its header is split, every DKIM-Signature field is
 * parsed and turned into the header hash input, the whole input is also
 * parsed as a key record, and the body is canonicalized both ways, whole
 * and in two pieces, which must give the same bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mail/dkim.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void collect(void *ctx, const void *d, size_t len)
{
	strbuf_append(ctx, d, len);
}

static void canon_body(enum dkim_canon c, const char *body, size_t len, size_t cut, struct strbuf *out)
{
	struct dkim_body b;

	dkim_body_init(&b, c, UINT64_MAX, collect, out);
	dkim_body_feed(&b, body, cut);
	dkim_body_feed(&b, body + cut, len - cut);
	dkim_body_finish(&b);
	if (b.count != out->len)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *msg = (const char *)data, *error = NULL;
	struct dkim_hdr h[64];
	struct dkim_sig sig;
	struct dkim_key key;
	struct strbuf a = STRBUF_INIT, b = STRBUF_INIT;
	size_t off = 0;
	int n = dkim_headers_split(msg, size, h, 64, &off);

	if (off > size)
		abort();
	for (int i = 0; i < n; i++) {
		const char *colon;

		if (h[i].p < msg || h[i].p + h[i].len > msg + size)
			abort();
		if (!dkim_hdr_is(&h[i], "dkim-signature"))
			continue;
		colon = memchr(h[i].p, ':', h[i].len);
		if (dkim_sig_parse(colon + 1, h[i].len - (size_t)(colon + 1 - h[i].p), &sig, &error) == 0) {
			if (sig.n_hnames == 0 || sig.bh_len != 32 || sig.b_len == 0)
				abort();
			dkim_headers_select(h, (size_t)n, (const char (*)[DKIM_HNAME_MAX])sig.hnames, sig.n_hnames,
					    sig.hcanon, &a);
		} else if (error == NULL) {
			abort();
		}
		dkim_sig_hash_field(DKIM_RELAXED, h[i].p, h[i].len, &a);
		dkim_sig_hash_field(DKIM_SIMPLE, h[i].p, h[i].len, &a);
		strbuf_truncate(&a, 0);
	}
	if (dkim_key_parse(msg, size, &key, &error) == 0 && key.p_len > sizeof(key.p))
		abort();
	if (n >= 0) {
		for (int c = 0; c < 2; c++) {
			size_t len = size - off;
			canon_body(c ? DKIM_RELAXED : DKIM_SIMPLE, msg + off, len, 0, &a);
			canon_body(c ? DKIM_RELAXED : DKIM_SIMPLE, msg + off, len, len / 2, &b);
			if (a.len != b.len || (a.len > 0 && memcmp(a.data, b.data, a.len) != 0))
				abort();
			/* a canonical body ends with CRLF, never with an empty line */
			if (a.len > 0 && (a.len < 2 || memcmp(a.data + a.len - 2, "\r\n", 2) != 0))
				abort();
			if (a.len >= 4 && memcmp(a.data + a.len - 4, "\r\n\r\n", 4) == 0)
				abort();
			strbuf_truncate(&a, 0);
			strbuf_truncate(&b, 0);
		}
	}
	strbuf_free(&a);
	strbuf_free(&b);
	return 0;
}
