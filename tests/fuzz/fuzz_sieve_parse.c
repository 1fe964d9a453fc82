/* libFuzzer target: the Sieve lexer, parser and checker (sieve_compile).
 * A script that compiles is also run once on a small fixed message, and
 * every result must hold at least one action. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sieve/sieve.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char MSG[] = "From: a@example.org\r\nTo: b+x@example.com\r\nSubject: hi\r\n"
			  "Date: Tue, 14 Nov 2023 21:13:20 +0900\r\n\r\nbody\r\n";

static const char *include_text(void *ctx, const char *name, bool global, size_t *len_r)
{
	static const char inc[] = "require \"include\"; keep; return;";

	*len_r = sizeof(inc) - 1;
	return inc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sieve_limits lim;
	struct sieve_script *s;
	struct sieve_error err;
	struct sieve_message m = { MSG, sizeof(MSG) - 1, "a@example.org", "b+x@example.com", NULL, NULL };
	struct sieve_env env = { 0 };
	struct sieve_result res;

	sieve_limits_default(&lim);
	lim.max_script = 64 * 1024;
	lim.max_steps = 10000;
	if (sieve_compile((const char *)data, size, &lim, &s, &err) < 0) {
		if (err.msg[0] == '\0')
			abort();
		return 0;
	}
	env.include_text = include_text;
	env.now = 1700000000;
	sieve_run(s, &m, &env, &lim, &res);
	if (res.count == 0 && !res.error) {
		/* discard, reject, redirect... always leave an action */
		abort();
	}
	sieve_result_free(&res);
	sieve_script_free(s);
	return 0;
}
