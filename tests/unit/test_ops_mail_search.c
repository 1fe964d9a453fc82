/* The words of a webmail search (ops/ops_mail_search.c): split at ASCII
 * blanks and U+3000, bounded. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <string.h>

#include "ops/ops_mail_search.h"

static void test_words(void **state)
{
	const char *w[4];
	size_t len[4];

	(void)state;
	assert_int_equal(ops_mail_search_words("  東京\u3000移転 report\t", w, len, 4), 3);
	assert_int_equal(len[0], strlen("東京"));
	assert_memory_equal(w[0], "東京", len[0]);
	assert_memory_equal(w[1], "移転", len[1]);
	assert_memory_equal(w[2], "report", len[2]);
	assert_int_equal(ops_mail_search_words("", w, len, 4), 0);
	assert_int_equal(ops_mail_search_words(NULL, w, len, 4), 0);
	assert_int_equal(ops_mail_search_words("\u3000 \u3000", w, len, 4), 0);
	assert_int_equal(ops_mail_search_words("a b c d e", w, len, 4), -1);
	/* a lone first byte of U+3000 is part of a word */
	assert_int_equal(ops_mail_search_words("x\xE3\x80", w, len, 4), 1);
	assert_int_equal(len[0], 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_words),
	};

	return cmocka_run_group_tests_name("ops_mail_search", tests, NULL, NULL);
}
