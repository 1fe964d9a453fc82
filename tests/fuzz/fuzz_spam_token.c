/* libFuzzer target: the spam tokenizer (spam_tokenize) with small limits,
 * then scoring and explaining with a small model, and the rules with the
 * check results read back from Authentication-Results. Checks the limits hold:
 * never more features than max_tokens, no feature twice, every feature
 * text within bounds, and a finite score. */
#include <libpsl.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "spam/spam_model.h"
#include "spam/spam_rules.h"
#include "spam/spam_token.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct spam_model model;
	static bool ready;
	struct spam_token_limits limits = { 64 * 1024, 300, 1, psl_builtin(), (size & 2) != 0 };
	struct spam_tokens t;
	struct spam_contrib top[5];
	struct spam_rule_hit hits[SPAM_RULES_MAX];
	struct spam_auth auth;
	double score, rules;

	if (!ready) {
		if (spam_model_new(&model, 12, 1, SPAM_MODEL_NORM) < 0)
			abort();
		for (size_t i = 0; i <= model.mask; i++)
			model.ww[i] = (float)((int)(i % 7) - 3) * 0.25f;
		ready = true;
	}
	spam_tokens_init(&t, &limits, (size & 1) != 0);
	spam_tokenize((const char *)data, size, &limits, &t);
	if (t.count > limits.max_tokens)
		abort();
	for (size_t i = 0; i < t.count; i++) {
		if (strlen(spam_tokens_text(&t, i)) > 200)
			abort();
		for (size_t j = i + 1; j < t.count && j < i + 50; j++) {
			if (t.hash[i] == t.hash[j])
				abort();
		}
	}
	score = spam_model_score(&model, NULL, &t);
	if (!isfinite(score))
		abort();
	spam_model_explain(&model, NULL, &t, top, 5);
	/* again into the same set: reset must leave nothing behind */
	spam_tokenize((const char *)data, size, &limits, &t);
	if (spam_model_score(&model, NULL, &t) != score)
		abort();
	spam_tokens_free(&t);
	/* the rules, with the results read back from the message */
	bool has_auth = spam_auth_from_message((const char *)data, size, &auth);
	if (spam_rules_eval((const char *)data, size, has_auth ? &auth : NULL, hits, &rules) > SPAM_RULES_MAX ||
	    !isfinite(rules))
		abort();
	return 0;
}
