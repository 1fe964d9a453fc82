/* Unit tests for src/spam/spam_model.c: the checked file layout, training
 * that separates spam from ham (Japanese spam in another charset too), a
 * personal model on top of the server's, and the explanation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "spam/spam_model.h"

static struct spam_token_limits limits = { 512 * 1024, 20000, 1, NULL, false };

static void test_file_layout(void **state)
{
	struct spam_model m, r;
	const void *data;
	size_t size;
	const char *error = NULL;
	char *copy;

	assert_int_equal(spam_model_new(&m, 9, 1, SPAM_MODEL_NORM), -1);	/* too small */
	assert_int_equal(spam_model_new(&m, 12, 1, SPAM_MODEL_NORM), 0);
	m.ww[7] = 1.5f;
	spam_model_count(&m, true, 3);
	spam_model_count(&m, false, 2);
	spam_model_count(&m, false, -5);	/* never below zero */
	spam_model_seal(&m, 1700000000, &data, &size);
	assert_int_equal(size, 64 + 2 * 4096 * sizeof(float));
	assert_int_equal(spam_model_open(&r, data, size, &error), 0);
	assert_int_equal(r.hdr->spam, 3);
	assert_int_equal(r.hdr->ham, 0);
	assert_int_equal(r.hdr->updated, 1700000000);
	assert_true(r.w[7] == 1.5f);
	assert_int_equal(spam_model_used(&r), 1);
	copy = malloc(size);
	memcpy(copy, data, size);
	copy[64 + 100] ^= 1;	/* one bit of a weight */
	assert_int_equal(spam_model_open(&r, copy, size, &error), -1);
	assert_string_equal(error, "the model file is damaged (checksum mismatch)");
	copy[64 + 100] ^= 1;
	assert_int_equal(spam_model_open(&r, copy, size - 4, &error), -1);
	assert_string_equal(error, "the model file has the wrong size for its header");
	assert_int_equal(spam_model_open(&r, copy, 10, &error), -1);
	copy[0] = 'X';
	assert_int_equal(spam_model_open(&r, copy, size, &error), -1);
	assert_string_equal(error, "not a Yubin spam model (bad magic)");
	copy[0] = 'Y';
	copy[8] = 2;	/* version */
	assert_int_equal(spam_model_open(&r, copy, size, &error), -1);
	free(copy);
	spam_model_free(&m);
	spam_model_free(NULL);
}

static const char *const spams[] = {
	"Subject: cheap meds online\r\n\r\nBuy cheap viagra pills online now, no prescription, discreet shipping!\r\n",
	"Subject: you won a prize\r\n\r\nCongratulations, you won a cash prize! Click here to claim your money now.\r\n",
	"Subject: =?UTF-8?B?5LuK44GZ44GQ54Sh5paZ44Gn6auY5Y+O5YWl?=\r\nContent-Type: text/plain; charset=UTF-8\r\n\r\n"
	"\xe7\x99\xbb\xe9\x8c\xb2\xe3\x81\xaf\xe7\x84\xa1\xe6\x96\x99\xe3\x80\x81\xe4\xbb\x8a\xe3\x81\x99\xe3\x81\x90"
	"\xe5\x89\xaf\xe6\xa5\xad\xe3\x81\xa7\xe7\xa8\xbc\xe3\x81\x92\xe3\x82\x8b\r\n",	/* 登録は無料、今すぐ副業で稼げる */
};
static const char *const hams[] = {
	"Subject: meeting tomorrow\r\n\r\nHi Ken, the project meeting moved to 3pm in room 4. Bring the draft report.\r\n",
	"Subject: patch review\r\n\r\nThe patch fixes the parser bug; please review the tests before we merge it.\r\n",
	"Subject: =?UTF-8?B?5p2l6YCx44Gu5omT44Gh5ZCI44KP44Gb?=\r\nContent-Type: text/plain; charset=UTF-8\r\n\r\n"
	"\xe4\xbc\x9a\xe8\xad\xb0\xe5\xae\xa4\xe3\x81\xaf\xe5\x8d\x81\xe5\x9b\x9b\xe6\x99\x82\xe3\x81\x8b\xe3\x82\x89"
	"\xe3\x81\xa7\xe3\x81\x99\r\n",	/* 会議室は十四時からです */
};

static double score_of(const struct spam_model *m, const struct spam_model *own, const char *msg,
		       struct spam_tokens *t)
{
	spam_tokenize(msg, strlen(msg), &limits, t);
	return spam_model_score(m, own, t);
}

static void train_all(struct spam_model *m, const struct spam_model *base, struct spam_tokens *t)
{
	for (int pass = 0; pass < 5; pass++) {
		for (size_t i = 0; i < 3; i++) {
			spam_tokenize(spams[i], strlen(spams[i]), &limits, t);
			spam_model_train(m, base, t, true, 1.0f);
			spam_tokenize(hams[i], strlen(hams[i]), &limits, t);
			spam_model_train(m, base, t, false, 1.0f);
		}
	}
}

static void test_train_and_score(void **state)
{
	struct spam_model m;
	struct spam_tokens t;
	struct spam_contrib top[5];
	size_t n;

	spam_tokens_init(&t, &limits, true);
	assert_int_equal(spam_model_new(&m, 16, 1, SPAM_MODEL_NORM), 0);
	assert_true(score_of(&m, NULL, spams[0], &t) == 0.0);	/* empty: undecided */
	train_all(&m, NULL, &t);
	assert_true(score_of(&m, NULL, "Subject: claim your prize\r\n\r\nClick here, cheap pills, "
				"you won money now!\r\n", &t) > 2.0);
	assert_true(score_of(&m, NULL, "Subject: review meeting\r\n\r\nPlease bring the report "
				"and the tests to the project meeting.\r\n", &t) < -2.0);
	/* the same Japanese spam in ISO-2022-JP scores as in UTF-8, but for
	 * the charset labels (features of their own) */
	double utf8 = score_of(&m, NULL, spams[2], &t);
	double jis = score_of(&m, NULL, "Subject: =?ISO-2022-JP?B?GyRCOiMkOSQwTDVOQSRHOWI8fUZ+GyhC?=\r\n"
			      "Content-Type: text/plain; charset=ISO-2022-JP\r\n\r\n"
			      "\x1b$BEPO?$OL5NA!\":#$9$0I{6H$G2T$2$k\x1b(B\r\n", &t);
	assert_true(utf8 > 2.0);
	assert_true(jis > 2.0);
	assert_true(jis > utf8 - 0.2 && jis < utf8 + 0.2);
	/* the explanation: largest effect first */
	score_of(&m, NULL, spams[0], &t);
	n = spam_model_explain(&m, NULL, &t, top, 5);
	assert_int_equal(n, 5);
	for (size_t i = 1; i < n; i++)
		assert_true(top[i - 1].weight * top[i - 1].weight >= top[i].weight * top[i].weight);
	assert_true(top[0].weight > 0);
	assert_true(strlen(spam_tokens_text(&t, top[0].index)) > 0);
	assert_int_equal(spam_model_explain(&m, NULL, &t, top, 0), 0);
	spam_model_free(&m);
	spam_tokens_free(&t);
}

/* A user's own model on top of the server's: their correction moves their
 * score only. */
static void test_personal_model(void **state)
{
	struct spam_model base, own, copy;
	struct spam_tokens t;
	static const char newsletter[] = "Subject: weekly deals\r\n\r\nOur weekly deals: cheap prices, "
					 "click here to buy now!\r\n";
	double before, after;

	spam_tokens_init(&t, &limits, false);
	assert_int_equal(spam_model_new(&base, 16, 1, SPAM_MODEL_NORM), 0);
	assert_int_equal(spam_model_new(&own, 12, 1, SPAM_MODEL_NORM), 0);
	train_all(&base, NULL, &t);
	before = score_of(&base, &own, newsletter, &t);
	assert_true(before > 0);
	for (int i = 0; i < 10 && score_of(&base, &own, newsletter, &t) > -2.0; i++)
		spam_model_train(&own, &base, &t, false, 1.0f);
	after = score_of(&base, &own, newsletter, &t);
	assert_true(after < -2.0);
	assert_true(score_of(&base, NULL, newsletter, &t) == before);	/* base untouched */
	assert_int_equal(spam_model_copy(&copy, &own), 0);
	assert_true(score_of(&base, &copy, newsletter, &t) == after);
	spam_model_free(&copy);
	spam_model_free(&own);
	spam_model_free(&base);
	spam_tokens_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_file_layout),
		cmocka_unit_test(test_train_and_score),
		cmocka_unit_test(test_personal_model),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
