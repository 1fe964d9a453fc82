/* Unit tests for src/spam/spam_tag.c (the Subject tag, forged verdict
 * fields, the level thresholds) and src/spam/spam_list.c (allow and block
 * list patterns). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "spam/spam_list.h"
#include "spam/spam_model.h"
#include "spam/spam_tag.h"

/* msg with the edits of mode applied, in a static buffer. */
static const char *edited(const char *msg, enum spam_tag_mode mode, size_t *n_r)
{
	static char out[4096];
	struct spam_edit e[8];
	bool subject;
	size_t n = spam_tag_edits(msg, strlen(msg), mode, e, 8, &subject);

	assert_true(n <= 8);
	out[spam_tag_apply(msg, strlen(msg), e, n, out)] = '\0';
	if (n_r != NULL)
		*n_r = n;
	return out;
}

static void test_tag_added_once(void **state)
{
	(void)state;
	assert_string_equal(edited("From: a@b\r\nSubject: hello\r\n\r\nSubject: body\r\n", SPAM_TAG_ADD, NULL),
			    "From: a@b\r\nSubject: [SPAM] hello\r\n\r\nSubject: body\r\n");
	assert_string_equal(edited("Subject:  [SPAM] hello\r\n\r\n", SPAM_TAG_ADD, NULL),
			    "Subject:  [SPAM] hello\r\n\r\n");
	assert_string_equal(edited("Subject:x\r\n\r\n", SPAM_TAG_ADD, NULL), "Subject: [SPAM] x\r\n\r\n");
	/* folded, and only the first Subject */
	assert_string_equal(edited("subject:\r\n =?UTF-8?B?5qC85a6J?=\r\nSubject: two\r\n\r\n", SPAM_TAG_ADD, NULL),
			    "subject:\r\n [SPAM] =?UTF-8?B?5qC85a6J?=\r\nSubject: two\r\n\r\n");
}

static void test_subject_added_when_missing(void **state)
{
	(void)state;
	assert_string_equal(edited("From: a@b\r\nX-Spam-Flag: YES\r\n\r\nbody", SPAM_TAG_ADD, NULL),
			    "From: a@b\r\nSubject: [SPAM]\r\n\r\nbody");
	assert_string_equal(edited("From: a@b", SPAM_TAG_ADD, NULL), "From: a@b\r\nSubject: [SPAM]\r\n");
	/* the last field removed, and it had no line end (found by the fuzzer) */
	assert_string_equal(edited("From: a@b\nX-Spam-Score: 5", SPAM_TAG_ADD, NULL), "From: a@b\nSubject: [SPAM]\r\n");
	assert_string_equal(edited("From: a@b\r\n\r\n", SPAM_TAG_KEEP, NULL), "From: a@b\r\n\r\n");
}

static void test_tag_outside_encoded_word(void **state)
{
	(void)state;
	assert_string_equal(edited("Subject: =?ISO-2022-JP?B?GyRCJEskWxsoQg==?=\r\n\r\n", SPAM_TAG_ADD, NULL),
			    "Subject: [SPAM] =?ISO-2022-JP?B?GyRCJEskWxsoQg==?=\r\n\r\n");
}

static void test_verdict_fields_removed(void **state)
{
	size_t n;

	(void)state;
	assert_string_equal(edited("X-Spam-Status: No\r\nFrom: a@b\r\nx-spam-SCORE: -9\r\n X-Spam-Level: ***\r\n"
				   "X-Spam-Flag: NO\r\nX-Spam-Status: No,\r\n\tfolded\r\nX-Spammy: keep\r\n"
				   "Subject: s\r\n\r\nX-Spam-Status: in the body\r\n", SPAM_TAG_KEEP, &n),
			    "From: a@b\r\nX-Spammy: keep\r\nSubject: s\r\n\r\nX-Spam-Status: in the body\r\n");
	assert_int_equal(n, 4);
	assert_true(spam_tag_is_verdict_field("X-SPAM-LEVEL", 12));
	assert_false(spam_tag_is_verdict_field("X-Spam", 6));
}

static void test_tag_removed_for_learning(void **state)
{
	(void)state;
	assert_string_equal(edited("Subject: [SPAM] cheap\r\nX-Spam-Score: 5\r\n\r\nb", SPAM_TAG_REMOVE, NULL),
			    "Subject: cheap\r\n\r\nb");
	assert_string_equal(edited("Subject: plain\r\n\r\nb", SPAM_TAG_REMOVE, NULL), "Subject: plain\r\n\r\nb");
}

static void test_more_edits_than_room(void **state)
{
	char msg[2048] = "";
	struct spam_edit e[4];
	bool subject;

	(void)state;
	for (int i = 0; i < 20; i++)
		strcat(msg, "X-Spam-Status: forged\r\n");
	strcat(msg, "\r\nbody");
	assert_int_equal(spam_tag_edits(msg, strlen(msg), SPAM_TAG_KEEP, e, 4, &subject), 20);
	assert_false(subject);
}

static void test_levels_ordered(void **state)
{
	(void)state;
	for (unsigned l = SPAM_LEVEL_MIN; l < SPAM_LEVEL_MAX; l++)
		assert_true(spam_level_threshold(l) > spam_level_threshold(l + 1));
	assert_true(spam_level_threshold(SPAM_LEVEL_DEFAULT) == 2.0);
	assert_true(spam_level_threshold(0) == spam_level_threshold(1));
	assert_true(spam_level_threshold(99) == spam_level_threshold(6));
}

static void test_list_patterns(void **state)
{
	char norm[SPAM_LIST_PATTERN_MAX];
	const char *error;

	(void)state;
	assert_int_equal(spam_list_pattern_check("  User@Example.COM ", norm, sizeof(norm), &error), 0);
	assert_string_equal(norm, "user@example.com");
	assert_int_equal(spam_list_pattern_check("*@example.com", norm, sizeof(norm), &error), 0);
	assert_int_equal(spam_list_pattern_check("*.example.com", norm, sizeof(norm), &error), 0);
	assert_int_equal(spam_list_pattern_check("*", norm, sizeof(norm), &error), 0);
	static const char *const bad[] = { "", "example.com", "*@", "*.", "*@-", "a@b@c", "*x@example.com",
					   "a b@example.com", "@example.com", "*@exa mple.com", "*@a..b", NULL };
	for (size_t i = 0; bad[i] != NULL; i++)
		assert_int_equal(spam_list_pattern_check(bad[i], norm, sizeof(norm), &error), -1);
	char longp[400];
	memset(longp, 'a', sizeof(longp) - 1);
	longp[sizeof(longp) - 1] = '\0';
	assert_int_equal(spam_list_pattern_check(longp, norm, sizeof(norm), &error), -1);
}

static void test_list_match(void **state)
{
	(void)state;
	assert_true(spam_list_match("*", "anyone@anywhere.test"));
	assert_true(spam_list_match("*", ""));
	assert_true(spam_list_match("*@example.com", "A@Example.Com"));
	assert_false(spam_list_match("*@example.com", "a@sub.example.com"));
	assert_true(spam_list_match("*.example.com", "a@sub.example.com"));
	assert_true(spam_list_match("*.example.com", "a@x.sub.example.com"));
	assert_false(spam_list_match("*.example.com", "a@example.com"));
	assert_false(spam_list_match("*.example.com", "a@badexample.com"));
	assert_true(spam_list_match("user@example.com", "USER@example.com"));
	assert_false(spam_list_match("user@example.com", "user2@example.com"));
	assert_false(spam_list_match("*@example.com", "no-at-sign"));
}

static void test_untrain_goes_back(void **state)
{
	struct spam_token_limits lim = { .max_bytes = 4096, .max_tokens = 100, .osb_window = 1 };
	struct spam_model base, own;
	struct spam_tokens t;
	const char msg[] = "Subject: win cash now\r\n\r\ncheap cash prize winner\r\n";
	double s0, s1, s2;

	(void)state;
	assert_int_equal(spam_model_new(&base, 12, 1, SPAM_MODEL_NORM), 0);
	assert_int_equal(spam_model_new(&own, 10, 1, SPAM_MODEL_NORM), 0);
	spam_tokens_init(&t, &lim, false);
	spam_tokenize(msg, sizeof(msg) - 1, &lim, &t);
	s0 = spam_model_score(&base, &own, &t);
	for (int i = 0; i < 4; i++)
		spam_model_train(&own, &base, &t, true, 1.0f);
	s1 = spam_model_score(&base, &own, &t);
	assert_true(s1 > s0 + 1.0);
	assert_int_equal(spam_model_untrain(&own, &base, &t, true, 0.1), 0);
	s2 = spam_model_score(&base, &own, &t);
	assert_true(s2 - s0 <= 0.1 + 1e-6);
	assert_true(s2 - s0 >= -0.1 - 1e-6);
	spam_tokens_free(&t);
	spam_model_free(&own);
	spam_model_free(&base);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tag_added_once),
		cmocka_unit_test(test_subject_added_when_missing),
		cmocka_unit_test(test_tag_outside_encoded_word),
		cmocka_unit_test(test_verdict_fields_removed),
		cmocka_unit_test(test_tag_removed_for_learning),
		cmocka_unit_test(test_more_edits_than_room),
		cmocka_unit_test(test_levels_ordered),
		cmocka_unit_test(test_list_patterns),
		cmocka_unit_test(test_list_match),
		cmocka_unit_test(test_untrain_goes_back),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
