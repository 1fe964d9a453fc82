/* Unit tests for src/mail/dkim.c: tag lists, DKIM-Signature fields, key
 * records, canonicalization (the RFC 6376 §3.4.5 examples, byte at a
 * time, LF line ends), header selection and the hashed signature field. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "mail/dkim.h"

static void collect(void *ctx, const void *data, size_t len)
{
	strbuf_append(ctx, data, len);
}

/* The canonical body of text fed in chunks of step bytes. */
static char *body_canon(enum dkim_canon c, const char *text, size_t step, uint64_t limit,
			uint64_t *count_r)
{
	struct strbuf out = STRBUF_INIT;
	struct dkim_body b;
	size_t len = strlen(text);
	char *r;

	dkim_body_init(&b, c, limit, collect, &out);
	for (size_t i = 0; i < len; i += step)
		dkim_body_feed(&b, text + i, len - i < step ? len - i : step);
	dkim_body_finish(&b);
	if (count_r != NULL)
		*count_r = b.count;
	r = strdup(strbuf_cstr(&out));
	strbuf_free(&out);
	return r;
}

static void assert_body(enum dkim_canon c, const char *in, const char *want)
{
	size_t steps[] = { 1, 2, 3, 7, 4096 };

	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		char *got = body_canon(c, in, steps[i], UINT64_MAX, NULL);
		assert_string_equal(got, want);
		free(got);
	}
}

static void test_rfc_example_body(void **state)
{
	const char *body = " C \r\nD \t E\r\n\r\n\r\n";

	assert_body(DKIM_RELAXED, body, " C\r\nD E\r\n");
	assert_body(DKIM_SIMPLE, body, " C \r\nD \t E\r\n");
}

static void test_rfc_example_header(void **state)
{
	const char *msg = "A: X\r\nB : Y\t\r\n\tZ  \r\n\r\nbody";
	struct dkim_hdr h[4];
	size_t off;
	struct strbuf out = STRBUF_INIT;
	int n = dkim_headers_split(msg, strlen(msg), h, 4, &off);

	assert_int_equal(n, 2);
	assert_string_equal(msg + off, "body");
	assert_int_equal(h[1].name_len, 1);
	assert_true(dkim_hdr_is(&h[1], "b"));
	for (int i = 0; i < n; i++)
		dkim_canon_header(DKIM_RELAXED, h[i].p, h[i].len, &out);
	assert_string_equal(strbuf_cstr(&out), "a:X\r\nb:Y Z\r\n");
	strbuf_truncate(&out, 0);
	for (int i = 0; i < n; i++)
		dkim_canon_header(DKIM_SIMPLE, h[i].p, h[i].len, &out);
	assert_string_equal(strbuf_cstr(&out), "A: X\r\nB : Y\t\r\n\tZ  \r\n");
	strbuf_free(&out);
}

static void test_body_lf_and_edges(void **state)
{
	/* bare LF is a line end; the result is the same as with CRLF */
	assert_body(DKIM_RELAXED, " C \nD \t E\n\n\n", " C\r\nD E\r\n");
	assert_body(DKIM_SIMPLE, " C \nD \t E\n\n\n", " C \r\nD \t E\r\n");
	/* empty bodies: simple is one CRLF, relaxed nothing (errata 1384) */
	assert_body(DKIM_SIMPLE, "", "\r\n");
	assert_body(DKIM_RELAXED, "", "");
	assert_body(DKIM_SIMPLE, "\r\n\r\n", "\r\n");
	assert_body(DKIM_RELAXED, "  \r\n\t\r\n", "");
	/* no final line end: one is added */
	assert_body(DKIM_SIMPLE, "abc", "abc\r\n");
	assert_body(DKIM_RELAXED, "abc  \t", "abc\r\n");
	/* empty lines inside stay */
	assert_body(DKIM_RELAXED, "a\r\n\r\n \r\nb\r\n", "a\r\n\r\n\r\nb\r\n");
	assert_body(DKIM_SIMPLE, "a\r\n\r\n \r\nb\r\n", "a\r\n\r\n \r\nb\r\n");
	/* a CR not before LF is an ordinary byte, also at the very end */
	assert_body(DKIM_SIMPLE, "a\rb\r\n", "a\rb\r\n");
	assert_body(DKIM_RELAXED, "a\r", "a\r\r\n");
	assert_body(DKIM_SIMPLE, "\r\r\n", "\r\r\n");
	/* leading white space becomes one space */
	assert_body(DKIM_RELAXED, "\t\t x\r\n", " x\r\n");
}

static void test_body_limit(void **state)
{
	uint64_t count;
	char *got = body_canon(DKIM_RELAXED, "hello  world\r\nmore\r\n", 1, 5, &count);

	assert_string_equal(got, "hello");
	assert_int_equal(count, strlen("hello world\r\nmore\r\n"));
	free(got);
	got = body_canon(DKIM_SIMPLE, "", 1, 0, &count);
	assert_string_equal(got, "");
	assert_int_equal(count, 2);
	free(got);
}

/* Chunk edges that fall inside the things the canonicalizer holds back:
 * a white space run, a CRLF, a run of empty lines. */
static void test_body_chunk_edges(void **state)
{
	const char *in = "a  \t b\r\n\r\n\r\nc \r\n \t \r\n\r\n";
	size_t len = strlen(in);

	for (size_t cut = 0; cut <= len; cut++) {
		for (size_t cut2 = cut; cut2 <= len; cut2++) {
			struct strbuf out = STRBUF_INIT;
			struct dkim_body b;

			dkim_body_init(&b, DKIM_RELAXED, UINT64_MAX, collect, &out);
			dkim_body_feed(&b, in, cut);
			dkim_body_feed(&b, in + cut, cut2 - cut);
			dkim_body_feed(&b, in + cut2, len - cut2);
			dkim_body_finish(&b);
			assert_string_equal(strbuf_cstr(&out), "a b\r\n\r\n\r\nc\r\n");
			strbuf_free(&out);
		}
	}
	/* a CR ending one chunk and an LF starting the next are one line end;
	 * a CR ending a chunk and the body is content */
	assert_body(DKIM_RELAXED, "x\r\ny\r", "x\r\ny\r\r\n");
	assert_body(DKIM_SIMPLE, "x \r\n\r\n  \r\n", "x \r\n\r\n  \r\n");
	/* white space before a bare CR is kept (the CR is content) */
	assert_body(DKIM_RELAXED, "a \r b\r\n", "a \r b\r\n");
	/* empty chunks change nothing */
	{
		struct strbuf out = STRBUF_INIT;
		struct dkim_body b;

		dkim_body_init(&b, DKIM_RELAXED, UINT64_MAX, collect, &out);
		dkim_body_feed(&b, "a \r", 3);
		dkim_body_feed(&b, "", 0);
		dkim_body_feed(&b, "\n", 1);
		dkim_body_finish(&b);
		assert_string_equal(strbuf_cstr(&out), "a\r\n");
		strbuf_free(&out);
	}
}

/* The canonicalization byte by byte, as RFC 6376 §3.4 reads: the model
 * the span-wise one is checked against. */
static void model_body(enum dkim_canon c, const char *in, size_t len, struct strbuf *out)
{
	struct strbuf line = STRBUF_INIT;
	size_t empty = 0, i = 0;
	bool any = false;

	while (i < len || line.len > 0 || i == 0) {
		size_t start = i, end;
		bool eol = false;

		while (i < len && in[i] != '\n' && !(in[i] == '\r' && i + 1 < len && in[i + 1] == '\n'))
			i++;
		end = i;
		if (i < len) {
			eol = true;
			i += in[i] == '\r' ? 2 : 1;
		}
		strbuf_truncate(&line, 0);
		if (c == DKIM_RELAXED) {
			bool wsp = false;
			for (size_t k = start; k < end; k++) {
				if (in[k] == ' ' || in[k] == '\t') {
					wsp = true;
					continue;
				}
				if (wsp)
					strbuf_append_c(&line, ' ');
				wsp = false;
				strbuf_append_c(&line, in[k]);
			}
		} else {
			strbuf_append(&line, in + start, end - start);
		}
		if (line.len == 0 && (eol || start < end)) {
			empty++;
		} else if (line.len > 0) {
			for (; empty > 0; empty--)
				strbuf_append(out, "\r\n", 2);
			strbuf_append(out, strbuf_cstr(&line), line.len);
			strbuf_append(out, "\r\n", 2);
			any = true;
		}
		if (!eol)
			break;
	}
	if (c == DKIM_SIMPLE && !any)
		strbuf_append(out, "\r\n", 2);
	strbuf_free(&line);
}

/* Random bodies of CR, LF, SP, HTAB and letters, fed in random chunks,
 * against the model. */
static void test_body_against_model(void **state)
{
	static const char alphabet[] = "\r\n \tab";
	unsigned seed = 12345;
	char in[64];

	for (int round = 0; round < 20000; round++) {
		size_t len;

		seed = seed * 1103515245u + 12345u;
		len = (seed >> 16) % sizeof(in);
		for (size_t k = 0; k < len; k++) {
			seed = seed * 1103515245u + 12345u;
			in[k] = alphabet[(seed >> 16) % (sizeof(alphabet) - 1)];
		}
		for (int c = 0; c < 2; c++) {
			enum dkim_canon canon = c == 0 ? DKIM_RELAXED : DKIM_SIMPLE;
			struct strbuf want = STRBUF_INIT, got = STRBUF_INIT;
			struct dkim_body b;
			size_t pos = 0;

			model_body(canon, in, len, &want);
			dkim_body_init(&b, canon, UINT64_MAX, collect, &got);
			while (pos < len) {
				size_t n;
				seed = seed * 1103515245u + 12345u;
				n = 1 + (seed >> 16) % 9;
				if (n > len - pos)
					n = len - pos;
				dkim_body_feed(&b, in + pos, n);
				pos += n;
			}
			dkim_body_finish(&b);
			assert_int_equal(got.len, want.len);
			assert_memory_equal(strbuf_cstr(&got), strbuf_cstr(&want), want.len);
			assert_int_equal(b.count, want.len);
			strbuf_free(&want);
			strbuf_free(&got);
		}
	}
}

/* The body fed in two chunks cut at cut, with at most limit canonical
 * bytes, against the model. */
static void assert_model_cut(enum dkim_canon canon, const char *in, size_t len, size_t cut,
			     uint64_t limit)
{
	struct strbuf want = STRBUF_INIT, got = STRBUF_INIT;
	struct dkim_body b;

	model_body(canon, in, len, &want);
	dkim_body_init(&b, canon, limit, collect, &got);
	dkim_body_feed(&b, in, cut);
	dkim_body_feed(&b, in + cut, len - cut);
	dkim_body_finish(&b);
	assert_int_equal(b.count, want.len);
	if (want.len > limit)
		want.len = (size_t)limit;
	assert_int_equal(got.len, want.len);
	assert_memory_equal(strbuf_cstr(&got), strbuf_cstr(&want), want.len);
	strbuf_free(&want);
	strbuf_free(&got);
}

/* A random body of pieces (words, blanks, line ends of every kind, empty
 * lines, lines longer than the canonicalizer's buffer) up to max bytes. */
static size_t random_body(unsigned *seed, char *in, size_t max)
{
	static const char *const pieces[] = {
		"word", "x", " ", "  ", "\t", " \t ", "\r\n", "\r\n", "\n", "\r", "\r\n\r\n",
		" \r\n", "\t\r\n", "\r\n \r\n", "a b c d", "L",
		"QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlqa2xtbm9wcXJzdHV2d3h5ejAxMjM0NTY3\r\n",
	};
	size_t len = 0;

	*seed = *seed * 1103515245u + 12345u;
	max = 1 + (*seed >> 8) % max;
	while (len < max) {
		const char *piece;
		size_t n;

		*seed = *seed * 1103515245u + 12345u;
		piece = pieces[(*seed >> 16) % (sizeof(pieces) / sizeof(pieces[0]))];
		if (strcmp(piece, "L") == 0) {
			/* a long line: words and single spaces, 1000 to 2500 bytes */
			n = 1000 + (*seed >> 4) % 1500;
			for (size_t k = 0; k < n && len < max; k++)
				in[len++] = k % 7 == 6 ? ' ' : (char)('a' + k % 26);
			continue;
		}
		n = strlen(piece);
		if (n > max - len)
			n = max - len;
		memcpy(in + len, piece, n);
		len += n;
	}
	return len;
}

/* Long random bodies, cut in two at every offset and under random l=
 * limits, against the model. */
static void test_body_long_against_model(void **state)
{
	static char in[6000];
	unsigned seed = 777;

	for (int round = 0; round < 60; round++) {
		size_t len = random_body(&seed, in, round < 10 ? 300 : sizeof(in));
		size_t step = round < 10 ? 1 : 1 + len / 300;

		for (int c = 0; c < 2; c++) {
			enum dkim_canon canon = c == 0 ? DKIM_RELAXED : DKIM_SIMPLE;

			for (size_t cut = 0; cut <= len; cut += step)
				assert_model_cut(canon, in, len, cut, UINT64_MAX);
			for (int k = 0; k < 20; k++) {
				seed = seed * 1103515245u + 12345u;
				assert_model_cut(canon, in, len, (seed >> 8) % (len + 1), (seed >> 4) % (len + 3));
			}
		}
	}
}

/* Fixed shapes: lines ending in blanks, CRLF and bare LF, only blank
 * lines, one very long line, the end of a chunk inside a CRLF. */
static void test_body_shapes(void **state)
{
	static char big[5000];

	assert_body(DKIM_RELAXED, "a b \r\nc\t\r\nd \t\r\ne", "a b\r\nc\r\nd\r\ne\r\n");
	assert_body(DKIM_SIMPLE, "a b \r\nc\t\r\nd \t\r\ne", "a b \r\nc\t\r\nd \t\r\ne\r\n");
	assert_body(DKIM_RELAXED, "a b\nc d\r\ne f\n", "a b\r\nc d\r\ne f\r\n");
	assert_body(DKIM_SIMPLE, "a b\nc d\r\ne f\n", "a b\r\nc d\r\ne f\r\n");
	assert_body(DKIM_RELAXED, "\r\n\r\n\n \r\n\t\n", "");
	assert_body(DKIM_SIMPLE, "\r\n\r\n\n\r\n", "\r\n");
	assert_body(DKIM_SIMPLE, "\r\n \r\n\r\n", "\r\n \r\n");
	assert_body(DKIM_RELAXED, "x\r\n\r\ny\r\n\r\n", "x\r\n\r\ny\r\n");
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = i % 9 == 8 ? ' ' : 'q';
	for (size_t cut = 0; cut <= sizeof(big); cut += 7) {
		assert_model_cut(DKIM_RELAXED, big, sizeof(big), cut, UINT64_MAX);
		assert_model_cut(DKIM_SIMPLE, big, sizeof(big), cut, UINT64_MAX);
	}
}

static void test_tags(void **state)
{
	struct dkim_tag t[DKIM_TAGS_MAX];
	const char *error = NULL;
	const char *s = " v = 1 ;a=rsa-sha256;\r\n\tb= ab cd\r\n ef ; z=";
	int n = dkim_tags_parse(s, strlen(s), t, DKIM_TAGS_MAX, &error);

	assert_int_equal(n, 4);
	assert_int_equal(t[0].name_len, 1);
	assert_memory_equal(t[0].value, "1", 1);
	assert_int_equal(t[2].value_len, strlen("ab cd\r\n ef"));
	assert_int_equal(t[3].value_len, 0);
	assert_non_null(dkim_tag_find(t, (size_t)n, "b"));
	assert_null(dkim_tag_find(t, (size_t)n, "bh"));
	assert_int_equal(dkim_tags_parse("", 0, t, 4, &error), 0);
	assert_int_equal(dkim_tags_parse("a=1;", 4, t, 4, &error), 1);
	/* errors */
	assert_int_equal(dkim_tags_parse("a=1;a=2", 7, t, 4, &error), -1);
	assert_int_equal(dkim_tags_parse("a=1;;b=2", 8, t, 4, &error), -1);
	assert_int_equal(dkim_tags_parse("1a=1", 4, t, 4, &error), -1);
	assert_int_equal(dkim_tags_parse("a", 1, t, 4, &error), -1);
	assert_int_equal(dkim_tags_parse("a=\x01", 3, t, 4, &error), -1);
	assert_int_equal(dkim_tags_parse("a=1;b=2;c=3", 11, t, 2, &error), -1);
}

#define BH "bh=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=;"

static void test_sig_parse(void **state)
{
	struct dkim_sig sig;
	const char *error = NULL;
	const char *s = "v=1; a=rsa-sha256; c=relaxed/simple; d=Example.COM; s=sel-1;\r\n"
			"\tt=100; x=200; l=42; q=dns/txt; i=joe@sub.example.com;\r\n"
			"\th=From : To:Subject:from; " BH "\r\n\tb=AAEC\r\n\t AwQF";

	assert_int_equal(dkim_sig_parse(s, strlen(s), &sig, &error), 0);
	assert_int_equal(sig.algo, DKIM_RSA_SHA256);
	assert_int_equal(sig.hcanon, DKIM_RELAXED);
	assert_int_equal(sig.bcanon, DKIM_SIMPLE);
	assert_string_equal(sig.domain, "example.com");
	assert_string_equal(sig.selector, "sel-1");
	assert_string_equal(sig.auid, "joe@sub.example.com");
	assert_int_equal(sig.n_hnames, 4);
	assert_string_equal(sig.hnames[0], "From");
	assert_string_equal(sig.hnames[3], "from");
	assert_int_equal(sig.b_len, 6);
	assert_int_equal(sig.b[5], 5);
	assert_int_equal(sig.bh_len, 32);
	assert_string_equal(sig.header_b, "AAECAwQF");
	assert_true(sig.has_l && sig.l == 42);
	assert_true(sig.has_t && sig.t == 100 && sig.has_x && sig.x == 200);
	assert_string_equal(sig.algo_name, "rsa-sha256");

	/* defaults: simple/simple, i= is @d */
	s = "v=1; a=ed25519-sha256; d=example.com; s=s; h=from; " BH " b=AAAA";
	assert_int_equal(dkim_sig_parse(s, strlen(s), &sig, &error), 0);
	assert_int_equal(sig.algo, DKIM_ED25519_SHA256);
	assert_int_equal(sig.hcanon, DKIM_SIMPLE);
	assert_int_equal(sig.bcanon, DKIM_SIMPLE);
	assert_string_equal(sig.auid, "@example.com");
	assert_false(sig.has_l);
}

static void expect_sig_error(const char *s, const char *why)
{
	struct dkim_sig sig;
	const char *error = NULL;

	assert_int_equal(dkim_sig_parse(s, strlen(s), &sig, &error), -1);
	assert_non_null(error);
	if (strcmp(error, why) != 0)
		fail_msg("'%s': got '%s', want '%s'", s, error, why);
}

static void test_sig_errors(void **state)
{
	expect_sig_error("a=rsa-sha256; d=example.com; s=s; h=from; " BH " b=AAAA", "missing v= tag");
	expect_sig_error("v=2; a=rsa-sha256; d=example.com; s=s; h=from; " BH " b=AAAA",
			 "unsupported DKIM version");
	expect_sig_error("v=1; a=rsa-sha1; d=example.com; s=s; h=from; " BH " b=AAAA",
			 "rsa-sha1 is not accepted (RFC 8301)");
	expect_sig_error("v=1; a=hmac; d=example.com; s=s; h=from; " BH " b=AAAA", "unknown algorithm");
	expect_sig_error("v=1; a=rsa-sha256; d=example.com; s=s; h=to:subject; " BH " b=AAAA",
			 "From field not signed");
	expect_sig_error("v=1; a=rsa-sha256; d=example.com; s=s; h=from; " BH " b=AAAA; i=a@example.org",
			 "i= is not within d=");
	expect_sig_error("v=1; a=rsa-sha256; d=example.com; s=s; h=from; " BH " b=AAAA; i=a@badexample.com",
			 "i= is not within d=");
	expect_sig_error("v=1; a=rsa-sha256; d=example.com; s=s; h=from; " BH " b=AAAA; t=10; x=9",
			 "x= is before t=");
	expect_sig_error("v=1; a=rsa-sha256; d=example.com; s=s; h=from; bh=AAAA; b=AAAA", "malformed bh= tag");
	expect_sig_error("v=1; a=rsa-sha256; d=example.com; s=s; h=from; " BH " b=A*AA", "malformed b= tag");
	expect_sig_error("v=1; a=rsa-sha256; d=example.com; s=s; h=from; " BH " b=AAAA; c=fancy",
			 "unknown canonicalization");
	expect_sig_error("v=1; a=rsa-sha256; d=example.com; s=s; h=from; " BH " b=AAAA; q=http",
			 "unsupported query method");
	expect_sig_error("v=1; a=rsa-sha256; d=ex..com; s=s; h=from; " BH " b=AAAA", "malformed d= tag");
	expect_sig_error("v=1; a=rsa-sha256; d=example.com; s=s; h=from; " BH " b=AAAA; "
			 "l=99999999999999999999999", "malformed l= tag");
	expect_sig_error("v=1; a=rsa-sha256; d=example.com; h=from; " BH " b=AAAA", "missing s= tag");
}

static void test_key_parse(void **state)
{
	struct dkim_key k;
	const char *error = NULL;
	const char *ed = "v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=";

	assert_int_equal(dkim_key_parse(ed, strlen(ed), &k, &error), 0);
	assert_int_equal(k.type, DKIM_KEY_ED25519);
	assert_int_equal(k.p_len, 32);
	assert_true(k.sha256_ok && k.email_ok && !k.testing && !k.strict);
	assert_int_equal(dkim_key_parse("p=", 2, &k, &error), 0);
	assert_int_equal(k.type, DKIM_KEY_RSA);
	assert_int_equal(k.p_len, 0);	/* revoked */
	assert_int_equal(dkim_key_parse("k=rsa; h=sha1; s=tlsrpt; t=y:s; p=AAAA", 38, &k, &error), 0);
	assert_false(k.sha256_ok);
	assert_false(k.email_ok);
	assert_true(k.testing && k.strict);
	assert_int_equal(dkim_key_parse("h=sha1:sha256; s=email; p=AAAA", 30, &k, &error), 0);
	assert_true(k.sha256_ok && k.email_ok);
	/* errors */
	assert_int_equal(dkim_key_parse("v=spf1 -all", 11, &k, &error), -1);
	assert_int_equal(dkim_key_parse("p=AAAA; v=DKIM1", 15, &k, &error), -1);
	assert_int_equal(dkim_key_parse("v=DKIM1; k=dsa; p=AAAA", 22, &k, &error), -1);
	assert_int_equal(dkim_key_parse("v=DKIM1; k=rsa", 14, &k, &error), -1);
	assert_int_equal(dkim_key_parse("v=DKIM1; k=ed25519; p=AAAA", 26, &k, &error), -1);
	assert_int_equal(dkim_key_parse("v=DKIM1; p=!!!!", 15, &k, &error), -1);
}

static void test_headers_split(void **state)
{
	struct dkim_hdr h[8];
	size_t off;
	const char *lf = "From: a\nSubject: x\n y\nNoColon\n\nbody\n";

	assert_int_equal(dkim_headers_split(lf, strlen(lf), h, 8, &off), 3);
	assert_int_equal(h[1].len, strlen("Subject: x\n y\n"));
	assert_int_equal(h[2].name_len, 0);
	assert_string_equal(lf + off, "body\n");
	/* no body */
	assert_int_equal(dkim_headers_split("A: 1\r\nB: 2", 10, h, 8, &off), 2);
	assert_int_equal(off, 10);
	/* too many fields */
	assert_int_equal(dkim_headers_split("A:1\nB:2\nC:3\n\n", 13, h, 2, &off), -1);
	/* nothing */
	assert_int_equal(dkim_headers_split("", 0, h, 8, &off), 0);
	assert_int_equal(off, 0);
	assert_int_equal(dkim_headers_split("\r\nbody", 6, h, 8, &off), 0);
	assert_int_equal(off, 2);
}

static void test_headers_select(void **state)
{
	const char *msg = "Received: x\r\nFrom: first@a\r\nTo: t\r\nfrom: second@a\r\nSubject: s\r\n\r\n";
	const char names[5][DKIM_HNAME_MAX] = { "From", "subject", "FROM", "from", "Cc" };
	struct dkim_hdr h[8];
	size_t off;
	int n = dkim_headers_split(msg, strlen(msg), h, 8, &off);
	struct strbuf out = STRBUF_INIT;

	assert_int_equal(n, 5);
	/* bottom up: the last From first, then the one above; the third From
	 * and the Cc are absent and add nothing */
	dkim_headers_select(h, (size_t)n, names, 5, DKIM_RELAXED, &out);
	assert_string_equal(strbuf_cstr(&out), "from:second@a\r\nsubject:s\r\nfrom:first@a\r\n");
	strbuf_free(&out);
}

static void test_sig_hash_field(void **state)
{
	const char *f = "DKIM-Signature: v=1; a=rsa-sha256; bh=abc=;\r\n\tb=dGVzdA\r\n\t ==; d=x\r\n";
	const char *last = "DKIM-Signature: v=1; bh=abc=; b=dGVz\r\n\tdA==\r\n";
	struct strbuf out = STRBUF_INIT;

	assert_int_equal(dkim_sig_hash_field(DKIM_RELAXED, f, strlen(f), &out), 0);
	assert_string_equal(strbuf_cstr(&out), "dkim-signature:v=1; a=rsa-sha256; bh=abc=; b=; d=x");
	strbuf_truncate(&out, 0);
	assert_int_equal(dkim_sig_hash_field(DKIM_SIMPLE, f, strlen(f), &out), 0);
	assert_string_equal(strbuf_cstr(&out), "DKIM-Signature: v=1; a=rsa-sha256; bh=abc=;\r\n\tb=; d=x");
	strbuf_truncate(&out, 0);
	assert_int_equal(dkim_sig_hash_field(DKIM_SIMPLE, last, strlen(last), &out), 0);
	assert_string_equal(strbuf_cstr(&out), "DKIM-Signature: v=1; bh=abc=; b=");
	strbuf_truncate(&out, 0);
	assert_int_equal(dkim_sig_hash_field(DKIM_RELAXED, "X: bh=1", 7, &out), -1);
	assert_int_equal(dkim_sig_hash_field(DKIM_RELAXED, "no colon", 8, &out), -1);
	strbuf_free(&out);
}

static void test_fold(void **state)
{
	struct strbuf out = STRBUF_INIT;
	size_t col = strlen("DKIM-Signature:");
	char b[400];

	memset(b, 'A', sizeof(b) - 1);
	b[sizeof(b) - 1] = '\0';
	strbuf_append_str(&out, "DKIM-Signature:");
	dkim_fold_tag(&out, &col, "v", "1", DKIM_FOLD_NONE, false);
	dkim_fold_tag(&out, &col, "h", "from:from:to:cc:subject:date:message-id:reply-to:in-reply-to:"
		      "references:mime-version:content-type", DKIM_FOLD_COLON, false);
	dkim_fold_tag(&out, &col, "b", b, DKIM_FOLD_ANY, true);
	/* no line longer than 78 */
	for (const char *p = strbuf_cstr(&out), *nl; *p != '\0'; p = nl + 2) {
		nl = strstr(p, "\r\n");
		if (nl == NULL)
			nl = p + strlen(p) - 2;
		assert_true(nl - p <= 78);
	}
	/* and it parses back */
	{
		struct dkim_tag t[8];
		const char *error;
		const char *v = strbuf_cstr(&out) + strlen("DKIM-Signature:");
		int n = dkim_tags_parse(v, strlen(v), t, 8, &error);
		assert_int_equal(n, 3);
	}
	strbuf_free(&out);
}

/* Hostile bytes: no crash, no overread (the sanitizer build checks). */
static void test_hostile(void **state)
{
	unsigned char buf[512];
	struct dkim_sig sig;
	struct dkim_key key;
	struct dkim_hdr h[16];
	struct strbuf out = STRBUF_INIT;
	const char *error;
	size_t off;
	uint32_t x = 12345;

	for (int round = 0; round < 2000; round++) {
		size_t len = (size_t)(round % 200);
		for (size_t i = 0; i < len; i++) {
			x = x * 1103515245u + 12345u;
			/* mostly tag-list characters */
			static const char alpha[] = "v=1;a b\r\n\t:=;hdsbx@.-AZ09+/";
			buf[i] = (x >> 16) % 5 == 0 ? (unsigned char)(x >> 8) : (unsigned char)alpha[(x >> 8) % (sizeof(alpha) - 1)];
		}
		dkim_sig_parse((const char *)buf, len, &sig, &error);
		dkim_key_parse((const char *)buf, len, &key, &error);
		if (dkim_headers_split((const char *)buf, len, h, 16, &off) > 0)
			dkim_canon_header(DKIM_RELAXED, h[0].p, h[0].len, &out);
		dkim_sig_hash_field(round & 1 ? DKIM_SIMPLE : DKIM_RELAXED, (const char *)buf, len, &out);
		strbuf_truncate(&out, 0);
	}
	strbuf_free(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc_example_body),
		cmocka_unit_test(test_rfc_example_header),
		cmocka_unit_test(test_body_lf_and_edges),
		cmocka_unit_test(test_body_limit),
		cmocka_unit_test(test_body_chunk_edges),
		cmocka_unit_test(test_body_against_model),
		cmocka_unit_test(test_body_long_against_model),
		cmocka_unit_test(test_body_shapes),
		cmocka_unit_test(test_tags),
		cmocka_unit_test(test_sig_parse),
		cmocka_unit_test(test_sig_errors),
		cmocka_unit_test(test_key_parse),
		cmocka_unit_test(test_headers_split),
		cmocka_unit_test(test_headers_select),
		cmocka_unit_test(test_sig_hash_field),
		cmocka_unit_test(test_fold),
		cmocka_unit_test(test_hostile),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
