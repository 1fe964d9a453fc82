/* i;unicode-casemap (RFC 5051 as sieve_int.h describes it): full case
 * folding and NFKD, the offset map :matches cuts variables through. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "sieve/sieve_int.h"

/* i;unicode-casemap: full case folding and NFKD (sieve_unicode_fold). */
static bool ucase_is(const char *a, const char *b)
{
	uint64_t work = 1u << 20;

	return sieve_match_str(MATCH_IS, CMP_UNICODE, a, strlen(a), b, strlen(b), NULL, &work);
}

static void test_unicode_casemap(void **state)
{
	struct sieve_matchvars mv;
	uint64_t work = 1u << 20;
	struct strbuf f = STRBUF_INIT;
	size_t *map = NULL;

	(void)state;
	assert_true(ucase_is("Straße", "STRASSE"));	/* ß folds to ss */
	assert_true(ucase_is("straße", "strasse"));
	assert_true(ucase_is("ẞ", "ss"));		/* capital sharp s */
	assert_false(ucase_is("Straße", "Strase"));
	assert_true(ucase_is("ＹＵＢＩＮ", "yubin"));	/* fullwidth Latin */
	assert_true(ucase_is("ｙｕｂｉｎ", "YUBIN"));
	assert_true(ucase_is("ｶﾀｶﾅ", "カタカナ"));	/* halfwidth katakana */
	assert_true(ucase_is("ｶﾞ", "ガ"));		/* halfwidth voiced mark: カ + U+3099 both ways */
	assert_true(ucase_is("Ｔｏｋｙｏ　２０２６", "tokyo 2026"));	/* ideographic space, fullwidth digits */
	assert_true(ucase_is("会議", "会議"));
	assert_false(ucase_is("会議", "会社"));
	assert_true(ucase_is("Café", "CAFE\xcc\x81"));	/* precomposed é = e + U+0301 */
	/* marks in canonical order: ệ = e + U+0323 + U+0302 = ê + U+0323 */
	assert_true(ucase_is("\xe1\xbb\x87", "\xc3\xaa\xcc\xa3"));
	assert_true(ucase_is("E\xcc\x81\xcc\xa3", "e\xcc\xa3\xcc\x81"));
	assert_false(ucase_is("e\xcc\x81", "e\xcc\xa3"));
	/* the ypogegrammeni sorts after the acute (class 240) before it folds to iota */
	assert_true(ucase_is("ᾳ", "ΑΙ"));
	assert_true(ucase_is("ᾳ\xcc\x81", "άι"));
	assert_true(ucase_is("ǅ", "Ǆ"));		/* the titlecase digraph */
	assert_true(ucase_is("ΣΊΣΥΦΟΣ", "σίσυφος"));
	assert_true(ucase_is("ﬁle", "FILE"));		/* ligature */
	assert_true(ucase_is("한", "\xe1\x84\x92\xe1\x85\xa1\xe1\x86\xab"));	/* Hangul syllable = jamo */
	assert_true(ucase_is("\xf0\x9d\x90\x80", "a"));	/* U+1D400 mathematical bold A */
	assert_true(ucase_is("\xff\xfe", "\xff\xfe"));	/* not UTF-8: octets as they are */
	assert_false(ucase_is("\xc0\x81", "a"));	/* an overlong form is not a letter */
	/* :matches spans cut from the original through the map */
	memset(&mv, 0, sizeof(mv));
	assert_true(sieve_match_str(MATCH_MATCHES, CMP_UNICODE, "Große Straße", strlen("Große Straße"),
				    "*SS? ST*", strlen("*SS? ST*"), &mv, &work));
	assert_int_equal(mv.count, 4);
	assert_string_equal(strbuf_cstr(&mv.v[0]), "Große Straße");
	assert_string_equal(strbuf_cstr(&mv.v[1]), "Gro");
	assert_string_equal(strbuf_cstr(&mv.v[2]), "e");
	assert_string_equal(strbuf_cstr(&mv.v[3]), "raße");
	for (unsigned int i = 0; i < SIEVE_MATCH_VARS; i++)
		strbuf_free(&mv.v[i]);
	sieve_unicode_fold("aß", 3, &f, &map);
	assert_string_equal(strbuf_cstr(&f), "ass");
	assert_int_equal(map[0], 0);
	assert_int_equal(map[1], 1);
	assert_int_equal(map[2], 1);
	assert_int_equal(map[3], 3);
	free(map);
	strbuf_free(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unicode_casemap),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
