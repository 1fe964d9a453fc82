/* libFuzzer target: the panel's rules.json reader (rules_parse) and the
 * Sieve it generates. Whatever the reader accepts must generate a script
 * the Sieve engine compiles, and write back JSON that reads the same. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ops/ops_rules.h"
#include "sieve/sieve.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct rules_set set, again;
	struct rules_autoreply ar = { true, "不在", "away\nback monday \"soon\" \\", "2026-01-01", "", 3, true };
	struct strbuf out = STRBUF_INIT, json = STRBUF_INIT;
	struct sieve_script *script = NULL;
	struct sieve_limits lim;
	struct sieve_error err;
	const char *error;

	if (size > RULES_JSON_MAX || rules_parse((const char *)data, size, &set, &error) < 0)
		return 0;
	rules_generate(&set, &ar, &out);
	sieve_limits_default(&lim);
	lim.max_script = 1024 * 1024;
	if (sieve_compile(out.data, out.len, &lim, &script, &err) < 0)
		abort();
	sieve_script_free(script);
	rules_write_json(&set, &json);
	if (rules_parse(json.data, json.len, &again, &error) < 0 || again.count != set.count)
		abort();
	strbuf_free(&out);
	strbuf_free(&json);
	return 0;
}
