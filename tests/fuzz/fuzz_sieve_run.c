/* libFuzzer target: the Sieve interpreter on random messages. The input
 * is "script NUL message"; without a NUL (or when the script does not
 * compile) a fixed script that uses every test runs on the whole input. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sieve/sieve.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char SCRIPT[] =
	"require [\"fileinto\",\"envelope\",\"body\",\"variables\",\"imap4flags\",\"relational\","
	"\"subaddress\",\"date\",\"index\",\"regex\",\"comparator-i;ascii-numeric\","
	"\"comparator-i;unicode-casemap\",\"copy\",\"vacation\",\"duplicate\"];\n"
	"if header :matches \"subject\" \"*?a*\" { set \"s\" \"${1}-${2}\"; addflag \"$s${s}\"; }\n"
	"if address :detail :contains [\"to\",\"cc\",\"from\"] \"x\" { fileinto :copy \"D\"; }\n"
	"if header :comparator \"i;unicode-casemap\" :contains \"subject\" \"ＡＢ\" { keep; }\n"
	"if header :count \"gt\" :comparator \"i;ascii-numeric\" \"received\" \"3\" { discard; }\n"
	"if date :originalzone :value \"ge\" \"date\" \"hour\" \"12\" { fileinto \"PM\"; }\n"
	"if header :index 1 :last :regex \"received\" \"from ([a-z]+)\" { fileinto \"r-${1}\"; }\n"
	"if body :text :contains \"prize\" { fileinto \"Junk\"; }\n"
	"if body :content \"text/html\" :matches \"*<a*\" { addflag \"$html\"; }\n"
	"if envelope :user :is \"to\" \"b\" { vacation :days 1 \"away\"; }\n"
	"if duplicate :header \"message-id\" { discard; }\n";

static bool dup_seen(void *ctx, const char *handle, const char *id, uint64_t seconds)
{
	return strlen(id) % 3 == 0;
}

static void run_one(const struct sieve_script *s, const char *msg, size_t len,
		    const struct sieve_limits *lim)
{
	struct sieve_message m = { msg, len, "a@example.org", "b+x@example.com", NULL, NULL };
	struct sieve_env env = { 0 };
	struct sieve_result res;

	env.now = 1700000000;
	env.duplicate_seen = dup_seen;
	sieve_run(s, &m, &env, lim, &res);
	if (res.count == 0)
		abort();
	sieve_result_free(&res);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sieve_limits lim;
	struct sieve_script *s = NULL;
	struct sieve_error err;
	const char *nul = memchr(data, '\0', size);

	sieve_limits_default(&lim);
	lim.max_steps = 10000;
	lim.max_body = 64 * 1024;
	if (nul != NULL &&
	    sieve_compile((const char *)data, (size_t)(nul - (const char *)data), &lim, &s, &err) == 0) {
		run_one(s, nul + 1, size - (size_t)(nul + 1 - (const char *)data), &lim);
		sieve_script_free(s);
		return 0;
	}
	if (sieve_compile(SCRIPT, sizeof(SCRIPT) - 1, &lim, &s, &err) < 0)
		abort();
	run_one(s, (const char *)data, size, &lim);
	sieve_script_free(s);
	return 0;
}
