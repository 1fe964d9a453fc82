/* libFuzzer target: the DATA stream (smtp_data_parse). The output for the
 * whole input, for one byte at a time, and for chunks cut where the input
 * says must be the same; the output never has a LF without CR before it,
 * and the message ends only right after <CRLF>.<CRLF> in the input. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/smtp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct run {
	int done;
	size_t consumed, out_len;
	bool bare_lf;
	uint64_t bytes;
};

/* Feeds in chunks of the given lengths (cycled; 0 means the rest). */
static struct run feed(const char *in, size_t len, const uint8_t *steps, size_t nsteps, char *out)
{
	struct smtp_data_parser p;
	struct run r = { 0, 0, 0, false, 0 };
	size_t pos = 0, k = 0;
	char *buf = malloc(2 * len + 2);

	if (buf == NULL)
		abort();
	smtp_data_init(&p);
	while (pos < len && !r.done) {
		size_t chunk = nsteps > 0 ? steps[k++ % nsteps] : 0, olen, used;
		if (chunk == 0 || chunk > len - pos)
			chunk = len - pos;
		r.done = smtp_data_parse(&p, in + pos, chunk, buf, &olen, &used);
		if (used > chunk || olen > 2 * chunk + 2 || (!r.done && used != chunk))
			abort();
		memcpy(out + r.out_len, buf, olen);
		r.out_len += olen;
		r.consumed = pos + used;
		pos += chunk;
	}
	free(buf);
	r.bare_lf = p.bare_lf;
	r.bytes = p.bytes;
	return r;
}

static void same(const struct run *a, const char *ao, const struct run *b, const char *bo)
{
	if (a->done != b->done || a->consumed != b->consumed || a->out_len != b->out_len ||
	    memcmp(ao, bo, a->out_len) != 0 || a->bare_lf != b->bare_lf || a->bytes != b->bytes)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *in = (const char *)data;
	static const uint8_t one[] = { 1 };
	uint8_t steps[4];
	size_t nsteps = 0;
	char *o1 = malloc(2 * size + 1), *o2 = malloc(2 * size + 1), *o3 = malloc(2 * size + 1);
	struct run whole, bytewise, chunked;

	if (o1 == NULL || o2 == NULL || o3 == NULL)
		abort();
	whole = feed(in, size, NULL, 0, o1);
	bytewise = feed(in, size, one, 1, o2);
	/* chunk lengths from the first bytes, so the fuzzer can steer them */
	for (size_t i = 0; i < size && i < 4; i++)
		steps[nsteps++] = (uint8_t)(data[i] % 17 + 1);
	chunked = feed(in, size, steps, nsteps, o3);
	same(&whole, o1, &bytewise, o2);
	same(&whole, o1, &chunked, o3);
	if (whole.bytes != whole.out_len)
		abort();
	if (whole.done) {
		size_t c = whole.consumed;
		/* the end marker is the 3 bytes before, preceded by CRLF or at 0 */
		if (c < 3 || memcmp(in + c - 3, ".\r\n", 3) != 0)
			abort();
		if (c > 3 && (c < 5 || memcmp(in + c - 5, "\r\n", 2) != 0))
			abort();
	} else if (whole.consumed != size) {
		abort();
	}
	for (size_t i = 0; i < whole.out_len; i++) {
		if (o1[i] == '\n' && (i == 0 || o1[i - 1] != '\r'))
			abort();
	}
	free(o1);
	free(o2);
	free(o3);
	return 0;
}
