/* Unit tests for the SMTP DATA stream parser (smtp_data_parse): dot
 * unstuffing, the end marker (only <CRLF>.<CRLF>), bare LF normalised to
 * CRLF, hostile bytes, and the same output for every way the input can be
 * split into chunks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "proto/smtp.h"

struct result {
	int done;		/* 1 when the end marker was consumed */
	size_t consumed;	/* input bytes used in all */
	char *out;		/* message bytes produced (malloc'd) */
	size_t out_len;
	bool bare_lf;
	uint64_t bytes;
};

static void result_free(struct result *r)
{
	free(r->out);
	r->out = NULL;
}

/* Feeds in to a fresh parser in chunks ending at the given split points
 * (ascending, each in 1..len-1), stopping when the parser says done. */
static struct result feed_splits(const char *in, size_t len, const size_t *splits, size_t nsplits)
{
	struct smtp_data_parser p;
	struct result r = { 0 };
	size_t pos = 0;

	smtp_data_init(&p);
	r.out = malloc(2 * len + 1);
	assert_non_null(r.out);
	for (size_t k = 0; k <= nsplits && !r.done; k++) {
		size_t end = k < nsplits ? splits[k] : len;
		size_t chunk = end - pos, olen = 12345, used = 12345;
		char *buf = malloc(2 * chunk + 3);

		assert_non_null(buf);
		r.done = smtp_data_parse(&p, in + pos, chunk, buf, &olen, &used);
		assert_true(r.done == 0 || r.done == 1);
		assert_true(used <= chunk);
		assert_true(olen <= 2 * chunk + 2);
		if (!r.done)
			assert_int_equal(used, chunk);
		memcpy(r.out + r.out_len, buf, olen);
		r.out_len += olen;
		free(buf);
		r.consumed = pos + used;
		pos = end;
	}
	r.bare_lf = p.bare_lf;
	r.bytes = p.bytes;
	return r;
}

static struct result feed_whole(const char *in, size_t len)
{
	return feed_splits(in, len, NULL, 0);
}

static void assert_same(const struct result *a, const struct result *b)
{
	assert_int_equal(a->done, b->done);
	assert_int_equal(a->consumed, b->consumed);
	assert_int_equal(a->out_len, b->out_len);
	assert_memory_equal(a->out, b->out, a->out_len);
	assert_int_equal(a->bare_lf, b->bare_lf);
	assert_true(a->bytes == b->bytes);
}

/* Checks that one split point anywhere, two split points anywhere, and one
 * byte at a time all give the output of the whole input. */
static void check_all_splits(const char *in, size_t len, const struct result *whole)
{
	size_t splits[2], *bytewise;
	struct result r;

	for (size_t i = 1; i < len; i++) {
		splits[0] = i;
		r = feed_splits(in, len, splits, 1);
		assert_same(&r, whole);
		result_free(&r);
		if (len > 600)
			continue;	/* pairs are quadratic */
		for (size_t j = i + 1; j < len; j++) {
			splits[1] = j;
			r = feed_splits(in, len, splits, 2);
			assert_same(&r, whole);
			result_free(&r);
		}
	}
	if (len > 1) {
		bytewise = malloc((len - 1) * sizeof(*bytewise));
		assert_non_null(bytewise);
		for (size_t i = 0; i < len - 1; i++)
			bytewise[i] = i + 1;
		r = feed_splits(in, len, bytewise, len - 1);
		assert_same(&r, whole);
		result_free(&r);
		free(bytewise);
	}
}

/* Parses in (whole and split every way) and asserts the exact result. */
static void check_data(const char *in, size_t len, int done, size_t consumed,
		       const char *out, size_t out_len, bool bare_lf)
{
	struct result r = feed_whole(in, len);

	assert_int_equal(r.done, done);
	assert_int_equal(r.consumed, consumed);
	if (r.out_len != out_len || memcmp(r.out, out, out_len) != 0) {
		fprintf(stderr, "output length %zu, expected %zu\n", r.out_len, out_len);
		fail_msg("output differs");
	}
	assert_int_equal(r.bare_lf, bare_lf);
	assert_true(r.bytes == out_len);
	check_all_splits(in, len, &r);
	result_free(&r);
}

#define S(lit) lit, sizeof(lit) - 1
#define CHECK_DONE(in, out, bare) check_data(S(in), 1, sizeof(in) - 1, S(out), bare)

static void test_simple_message(void **state)
{
	CHECK_DONE("Subject: hi\r\n\r\nHello\r\n.\r\n", "Subject: hi\r\n\r\nHello\r\n", false);
}

static void test_empty_message(void **state)
{
	/* the CRLF of the DATA command counts: "." at once ends the message */
	CHECK_DONE(".\r\n", "", false);
	CHECK_DONE("\r\n.\r\n", "\r\n", false);
}

static void test_dot_unstuffing(void **state)
{
	CHECK_DONE("first\r\n..\r\n..leading\r\n...\r\n. space\r\nlast\r\n.\r\n",
		   "first\r\n.\r\n.leading\r\n..\r\n space\r\nlast\r\n", false);
	/* a dot that is not at a line start stays */
	CHECK_DONE("a.b\r\nx..\r\n.\r\n", "a.b\r\nx..\r\n", false);
	/* stuffing on the very first line */
	CHECK_DONE("..x\r\n.\r\n", ".x\r\n", false);
}

static void test_input_after_end_is_left(void **state)
{
	static const char in[] = "body\r\n.\r\nMAIL FROM:<a@b.test>\r\n";

	check_data(S(in), 1, 9, S("body\r\n"), false);
}

static void test_not_ended(void **state)
{
	/* a pending dot, CR or ".\r" is held back until the next byte */
	check_data(S("line\r\n"), 0, 6, S("line\r\n"), false);
	check_data(S("line\r\n."), 0, 7, S("line\r\n"), false);
	check_data(S("line\r\n.\r"), 0, 8, S("line\r\n"), false);
	check_data(S("line\r"), 0, 5, S("line"), false);
	check_data(S(""), 0, 0, S(""), false);
	/* only a final dot line ends: a dot at the end of a line does not */
	check_data(S("a\r\nb.\r\n"), 0, 7, S("a\r\nb.\r\n"), false);
}

static void test_bare_lf_normalised(void **state)
{
	CHECK_DONE("a\nb\r\n.\r\n", "a\r\nb\r\n", true);
	CHECK_DONE("\n\n\r\n.\r\n", "\r\n\r\n\r\n", true);
	CHECK_DONE("a\r\nb\r\n.\r\n", "a\r\nb\r\n", false);
}

/* SMTP smuggling: none of these end the message; the real end comes later. */
static void test_smuggling_lf_dot_lf(void **state)
{
	CHECK_DONE("one\n.\nMAIL FROM:<e@v.test>\r\n.\r\n",
		   "one\r\n.\r\nMAIL FROM:<e@v.test>\r\n", true);
}

static void test_smuggling_lf_dot_crlf(void **state)
{
	CHECK_DONE("one\n.\r\nMAIL FROM:<e@v.test>\r\n.\r\n",
		   "one\r\n.\r\nMAIL FROM:<e@v.test>\r\n", true);
	/* a bare LF as the very first byte, then a dot line */
	CHECK_DONE("\n.\r\nx\r\n.\r\n", "\r\n.\r\nx\r\n", true);
	/* after a bare LF the line is not a new SMTP line: no unstuffing */
	CHECK_DONE("a\n..b\r\n.\r\n", "a\r\n..b\r\n", true);
}

static void test_smuggling_crlf_dot_lf(void **state)
{
	/* "." then a bare LF: no end, no stuffing; stored as a "." line, the
	 * same as "\n.\r\n" (test_smuggling_lf_dot_crlf) */
	CHECK_DONE("one\r\n.\nMAIL FROM:<e@v.test>\r\n.\r\n",
		   "one\r\n.\r\nMAIL FROM:<e@v.test>\r\n", true);
}

static void test_smuggling_cr_dot_cr(void **state)
{
	/* bare CRs become CRLF in the stored message but never end an SMTP
	 * line: a dot after one is neither an end nor stuffing */
	CHECK_DONE("one\r.\rtwo\r\n.\r\n", "one\r\n.\r\ntwo\r\n", false);
	CHECK_DONE("one\r.\r\ntwo\r\n.\r\n", "one\r\n.\r\ntwo\r\n", false);
	CHECK_DONE("one\r\n.\rtwo\r\n.\r\n", "one\r\n.\r\ntwo\r\n", false);
	CHECK_DONE("one\r\n.\r\r\n.\r\n", "one\r\n.\r\n\r\n", false);
}

/* Fed one byte per call, the lone-dot cases give the same bytes as whole:
 * the dot and CR held back between calls come out in the next one. */
static void test_lone_dot_byte_at_a_time(void **state)
{
	static const char *const cases[][2] = {
		{ "one\r\n.\ntwo\r\n.\r\n", "one\r\n.\r\ntwo\r\n" },
		{ "one\n.\r\ntwo\r\n.\r\n", "one\r\n.\r\ntwo\r\n" },
		{ "one\r\n.\rtwo\r\n.\r\n", "one\r\n.\r\ntwo\r\n" },
		{ "one\r.\r\ntwo\r\n.\r\n", "one\r\n.\r\ntwo\r\n" },
		{ ".\n.\r.\r\n.\r\n", ".\r\n.\r\n.\r\n" },
		{ "..\r\n.\r\n", ".\r\n" },
	};

	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		const char *in = cases[k][0], *want = cases[k][1];
		size_t len = strlen(in), o = 0, olen, used;
		struct smtp_data_parser p;
		char out[128], buf[4];
		int done = 0;

		smtp_data_init(&p);
		for (size_t i = 0; i < len && !done; i++) {
			done = smtp_data_parse(&p, in + i, 1, buf, &olen, &used);
			assert_true(olen <= 4);
			assert_int_equal(used, 1);
			memcpy(out + o, buf, olen);
			o += olen;
			if (done)
				assert_int_equal(i + 1, len);
		}
		assert_int_equal(done, 1);
		assert_int_equal(o, strlen(want));
		assert_memory_equal(out, want, o);
		for (size_t i = 0; i < o; i++) {
			if (out[i] == '\r')
				assert_true(i + 1 < o && out[i + 1] == '\n');
			if (out[i] == '\n')
				assert_true(i > 0 && out[i - 1] == '\r');
		}
	}
}

static void test_cr_before_crlf(void **state)
{
	/* "\r\r\n" is a bare CR (stored as CRLF) then a real line end */
	CHECK_DONE("a\r\r\n.\r\n", "a\r\n\r\n", false);
	CHECK_DONE("\r\r\r\n.\r\n", "\r\n\r\n\r\n", false);
}

static void test_hostile_bytes(void **state)
{
	static const char in[] = "a\0b\xff\x80\x7f\r\n\0.\r\n\xe3\x81\x82\r\n.\r\n";
	static const char out[] = "a\0b\xff\x80\x7f\r\n\0.\r\n\xe3\x81\x82\r\n";

	check_data(S(in), 1, sizeof(in) - 1, S(out), false);
}

static void test_long_line(void **state)
{
	size_t n = 100000;
	char *in = malloc(n + 5);
	struct result r;
	size_t one[1];

	assert_non_null(in);
	memset(in, 'x', n);
	memcpy(in + n, "\r\n.\r\n", 5);
	r = feed_whole(in, n + 5);
	assert_int_equal(r.done, 1);
	assert_int_equal(r.consumed, n + 5);
	assert_int_equal(r.out_len, n + 2);
	assert_memory_equal(r.out, in, n + 2);
	/* a few split points, including inside the end marker */
	for (size_t i = n - 1; i < n + 5; i++) {
		struct result s;
		one[0] = i;
		s = feed_splits(in, n + 5, one, 1);
		assert_same(&s, &r);
		result_free(&s);
	}
	result_free(&r);
	free(in);
}

static void test_all_lf_doubles(void **state)
{
	/* the worst case for output room: every input byte gives two */
	size_t n = 4096;
	char *in = malloc(n + 5);
	struct result r;

	assert_non_null(in);
	memset(in, '\n', n);
	memcpy(in + n, "\r\n.\r\n", 5);
	r = feed_whole(in, n + 5);
	assert_int_equal(r.done, 1);
	assert_int_equal(r.out_len, 2 * n + 2);
	for (size_t i = 0; i < n; i++)
		assert_memory_equal(r.out + 2 * i, "\r\n", 2);
	assert_true(r.bare_lf);
	result_free(&r);
	free(in);
}

static void test_parser_continues_across_calls(void **state)
{
	struct smtp_data_parser p;
	char out[64];
	size_t olen, used;

	smtp_data_init(&p);
	assert_int_equal(smtp_data_parse(&p, S("ab\r\n"), out, &olen, &used), 0);
	assert_int_equal(olen, 4);
	assert_int_equal(used, 4);
	assert_int_equal(smtp_data_parse(&p, S(".."), out, &olen, &used), 0);
	assert_int_equal(olen, 1);
	assert_memory_equal(out, ".", 1);
	assert_int_equal(smtp_data_parse(&p, S("\r\n.\r\nrest"), out, &olen, &used), 1);
	assert_int_equal(olen, 2);
	assert_int_equal(used, 5);
	assert_true(p.bytes == 7);
	/* init starts over */
	smtp_data_init(&p);
	assert_true(p.bytes == 0);
	assert_int_equal(smtp_data_parse(&p, S(".\r\n"), out, &olen, &used), 1);
	assert_int_equal(olen, 0);
}

/* An independent model of the rules: a line starts at 0 or after a real
 * CRLF; the message ends at the first line that is exactly ".\r\n"; a
 * leading dot on any other line is dropped unless a bare LF or CR follows
 * it; a LF without CR before it and a CR without LF after it become CRLF.
 * in must contain an end marker. */
static size_t reference(const char *in, size_t len, char *out, size_t *consumed_r, bool *bare_r)
{
	size_t o = 0;

	*bare_r = false;
	for (size_t i = 0; i < len; i++) {
		bool bol = i == 0 || (i >= 2 && in[i - 2] == '\r' && in[i - 1] == '\n');
		if (bol && in[i] == '.') {
			if (i + 2 < len && in[i + 1] == '\r' && in[i + 2] == '\n') {
				*consumed_r = i + 3;
				return o;
			}
			if (!(i + 1 < len && (in[i + 1] == '\n' || in[i + 1] == '\r')))
				continue;
		}
		if (in[i] == '\n' && !(i > 0 && in[i - 1] == '\r')) {
			out[o++] = '\r';
			*bare_r = true;
		}
		out[o++] = in[i];
		if (in[i] == '\r' && !(i + 1 < len && in[i + 1] == '\n'))
			out[o++] = '\n';
	}
	fail_msg("reference: no end marker");
	return 0;
}

static void test_random_against_model(void **state)
{
	static const char alphabet[] = { '.', '\r', '\n', 'a' };
	char in[32], out[64];
	unsigned seed = 12345;

	for (int round = 0; round < 4000; round++) {
		size_t n, len, consumed = 0;
		bool bare;
		struct result r;

		seed = seed * 1103515245u + 12345u;
		n = (seed >> 16) % 20;
		for (size_t i = 0; i < n; i++) {
			seed = seed * 1103515245u + 12345u;
			in[i] = alphabet[(seed >> 16) & 3];
		}
		memcpy(in + n, "\r\n.\r\n", 5);
		len = n + 5;
		size_t olen = reference(in, len, out, &consumed, &bare);
		r = feed_whole(in, len);
		assert_int_equal(r.done, 1);
		assert_int_equal(r.consumed, consumed);
		assert_int_equal(r.out_len, olen);
		assert_memory_equal(r.out, out, olen);
		assert_int_equal(r.bare_lf, bare);
		/* only CRLF ever leaves the parser */
		for (size_t i = 0; i < r.out_len; i++) {
			if (r.out[i] == '\n')
				assert_true(i > 0 && r.out[i - 1] == '\r');
			if (r.out[i] == '\r')
				assert_true(i + 1 < r.out_len && r.out[i + 1] == '\n');
		}
		check_all_splits(in, len, &r);
		result_free(&r);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_simple_message),
		cmocka_unit_test(test_empty_message),
		cmocka_unit_test(test_dot_unstuffing),
		cmocka_unit_test(test_input_after_end_is_left),
		cmocka_unit_test(test_not_ended),
		cmocka_unit_test(test_bare_lf_normalised),
		cmocka_unit_test(test_smuggling_lf_dot_lf),
		cmocka_unit_test(test_smuggling_lf_dot_crlf),
		cmocka_unit_test(test_smuggling_crlf_dot_lf),
		cmocka_unit_test(test_smuggling_cr_dot_cr),
		cmocka_unit_test(test_lone_dot_byte_at_a_time),
		cmocka_unit_test(test_cr_before_crlf),
		cmocka_unit_test(test_hostile_bytes),
		cmocka_unit_test(test_long_line),
		cmocka_unit_test(test_all_lf_doubles),
		cmocka_unit_test(test_parser_continues_across_calls),
		cmocka_unit_test(test_random_against_model),
	};

	return cmocka_run_group_tests_name("smtp_data", tests, NULL, NULL);
}
