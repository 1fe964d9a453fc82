/* Unit tests for src/spam/spam_text.c against a model: the word and URL
 * scanners as they were written first, one code point at a time (kept
 * here verbatim under model_ names). The scanners since take ASCII and
 * URLs in faster steps; for any input they must add the same features in
 * the same order, with the same texts and counts. Inputs: fixed edge
 * cases, every prefix of some of them (words and URLs cut at the end of
 * the buffer) and random strings of words, punctuation, CJK, fullwidth
 * letters, invalid UTF-8 and URL pieces. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <cmocka.h>

#include "spam/spam_internal.h"

/* ---- the model (spam_text.c as first written) ---- */

enum model_class { MC_SEP, MC_WORD, MC_INNER, MC_CJK };

/* Decodes one UTF-8 sequence at p (at most len bytes); invalid bytes are
 * taken one at a time as U+FFFD. */
static uint32_t model_utf8_next(const unsigned char *p, size_t len, size_t *n_r)
{
	uint32_t cp;
	size_t n;

	if (p[0] < 0x80) {
		*n_r = 1;
		return p[0];
	}
	if (p[0] >= 0xc2 && p[0] <= 0xdf) {
		n = 2;
		cp = p[0] & 0x1f;
	} else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		n = 3;
		cp = p[0] & 0x0f;
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		n = 4;
		cp = p[0] & 0x07;
	} else {
		*n_r = 1;
		return 0xfffd;
	}
	if (n > len) {
		*n_r = 1;
		return 0xfffd;
	}
	for (size_t i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80) {
			*n_r = 1;
			return 0xfffd;
		}
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	*n_r = n;
	return cp;
}

/* ASCII classes, looked up first: most text is ASCII */
static const unsigned char model_ascii_class[128] = {
	['0'] = MC_WORD, ['1'] = MC_WORD, ['2'] = MC_WORD, ['3'] = MC_WORD, ['4'] = MC_WORD,
	['5'] = MC_WORD, ['6'] = MC_WORD, ['7'] = MC_WORD, ['8'] = MC_WORD, ['9'] = MC_WORD,
	['a'] = MC_WORD, ['b'] = MC_WORD, ['c'] = MC_WORD, ['d'] = MC_WORD, ['e'] = MC_WORD,
	['f'] = MC_WORD, ['g'] = MC_WORD, ['h'] = MC_WORD, ['i'] = MC_WORD, ['j'] = MC_WORD,
	['k'] = MC_WORD, ['l'] = MC_WORD, ['m'] = MC_WORD, ['n'] = MC_WORD, ['o'] = MC_WORD,
	['p'] = MC_WORD, ['q'] = MC_WORD, ['r'] = MC_WORD, ['s'] = MC_WORD, ['t'] = MC_WORD,
	['u'] = MC_WORD, ['v'] = MC_WORD, ['w'] = MC_WORD, ['x'] = MC_WORD, ['y'] = MC_WORD,
	['z'] = MC_WORD,
	['A'] = MC_WORD, ['B'] = MC_WORD, ['C'] = MC_WORD, ['D'] = MC_WORD, ['E'] = MC_WORD,
	['F'] = MC_WORD, ['G'] = MC_WORD, ['H'] = MC_WORD, ['I'] = MC_WORD, ['J'] = MC_WORD,
	['K'] = MC_WORD, ['L'] = MC_WORD, ['M'] = MC_WORD, ['N'] = MC_WORD, ['O'] = MC_WORD,
	['P'] = MC_WORD, ['Q'] = MC_WORD, ['R'] = MC_WORD, ['S'] = MC_WORD, ['T'] = MC_WORD,
	['U'] = MC_WORD, ['V'] = MC_WORD, ['W'] = MC_WORD, ['X'] = MC_WORD, ['Y'] = MC_WORD,
	['Z'] = MC_WORD,
	['-'] = MC_INNER, ['\''] = MC_INNER, ['.'] = MC_INNER, ['_'] = MC_INNER, ['$'] = MC_INNER,
	['%'] = MC_INNER, [','] = MC_INNER, ['!'] = MC_INNER,
};

static enum model_class model_class_of(uint32_t cp)
{
	if (cp < 0x80) {
		if ((cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z') || (cp >= '0' && cp <= '9'))
			return MC_WORD;
		if (cp == '-' || cp == '\'' || cp == '.' || cp == '_' || cp == '$' || cp == '%' ||
		    cp == ',' || cp == '!')
			return MC_INNER;
		return MC_SEP;
	}
	if ((cp >= 0x3040 && cp <= 0x30ff) || (cp >= 0x3400 && cp <= 0x4dbf) ||
	    (cp >= 0x4e00 && cp <= 0x9fff) || (cp >= 0xf900 && cp <= 0xfaff) ||
	    (cp >= 0xac00 && cp <= 0xd7af) || (cp >= 0xff66 && cp <= 0xff9f) ||
	    (cp >= 0x20000 && cp <= 0x2ffff))
		return MC_CJK;
	/* Latin-1 letters and beyond up to the general punctuation block,
	 * and other alphabets: letters; the rest separates */
	if ((cp >= 0xc0 && cp <= 0x24f && cp != 0xd7 && cp != 0xf7) ||
	    (cp >= 0x370 && cp <= 0x1fff))
		return MC_WORD;
	return MC_SEP;
}

static size_t model_utf8_put(char *out, uint32_t cp)
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xc0 | (cp >> 6));
		out[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (char)(0xe0 | (cp >> 12));
		out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		out[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	out[0] = (char)(0xf0 | (cp >> 18));
	out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	out[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	out[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

static uint32_t model_pair_hash(uint32_t a, uint32_t b, unsigned dist)
{
	uint32_t h = a * 0x9e3779b1u ^ (b + dist * 0x27d4eb2fu);

	h ^= h >> 15;
	h *= 0x2c1b3c6du;
	h ^= h >> 12;
	return h;
}

static void model_word(struct spam_tok_ctx *c, const char *prefix, const char *w, size_t n,
		      bool pairs)
{
	uint32_t h;
	unsigned window = c->limits->osb_window < SPAM_OSB_MAX ? c->limits->osb_window : SPAM_OSB_MAX;

	if (!pairs) {
		spam_tokens_add(c->t, prefix, w, n);
		return;
	}
	h = spam_hash(NULL, w, n);
	spam_tokens_add_hash(c->t, h, w, n);
	for (unsigned k = 0; k < c->recent_count && k < window; k++) {
		char buf[2 * SPAM_WORD_MAX + 8];
		size_t bl = 0;

		if (c->t->keep_text) {
			bl = (size_t)snprintf(buf, sizeof(buf), "%s %.*s%s", c->recent_text[k], (int)n, w,
					      k == 0 ? "" : (k == 1 ? " (+1)" : " (+2..)"));
			if (bl >= sizeof(buf))
				bl = sizeof(buf) - 1;
		}
		spam_tokens_add_hash(c->t, model_pair_hash(c->recent[k], h, k), buf, bl);
	}
	memmove(c->recent + 1, c->recent, (SPAM_OSB_MAX - 1) * sizeof(c->recent[0]));
	c->recent[0] = h;
	if (c->t->keep_text) {
		memmove(c->recent_text[1], c->recent_text[0], (SPAM_OSB_MAX - 1) * sizeof(c->recent_text[0]));
		memcpy(c->recent_text[0], w, n);
		c->recent_text[0][n] = '\0';
	}
	if (c->recent_count < SPAM_OSB_MAX)
		c->recent_count++;
	c->words++;
}

/* Trims inner punctuation off the end and adds the word when it is long
 * enough; caps tells whether it had capitals and no small letters. */
static void model_word_end(struct spam_tok_ctx *c, const char *prefix, char *w, size_t n,
			  bool long_word, bool caps, bool pairs)
{
	while (n > 0 && model_class_of((unsigned char)w[n - 1]) == MC_INNER)
		n--;
	if (long_word) {
		spam_tokens_add(c->t, prefix != NULL ? prefix : "", "_longword", 9);
		return;
	}
	if (n < 2)
		return;
	if (caps && n >= 3 && pairs)
		c->caps_words++;
	model_word(c, prefix, w, n, pairs);
}

static void model_text_words(struct spam_tok_ctx *c, const char *prefix, const char *text, size_t len,
		     bool pairs)
{
	const unsigned char *p = (const unsigned char *)text;
	char w[SPAM_WORD_MAX + 4], bigram[8];
	size_t n = 0, i = 0, step;
	bool long_word = false, upper = false, lower = false;
	uint32_t prev_cjk = 0;

	c->recent_count = 0;
	while (i < len) {
		uint32_t cp;
		enum model_class cls;

		if (p[i] < 0x80) {
			cp = p[i++];
			cls = (enum model_class)model_ascii_class[cp];
		} else {
			cp = model_utf8_next(p + i, len - i, &step);
			i += step;
			if (cp >= 0xff01 && cp <= 0xff5e)	/* fullwidth ASCII */
				cp -= 0xfee0;
			cls = model_class_of(cp);
		}
		if (cls == MC_CJK) {
			if (n > 0)
				model_word_end(c, prefix, w, n, long_word, upper && !lower, pairs);
			n = 0;
			long_word = upper = lower = false;
			if (prev_cjk != 0) {
				size_t bl = model_utf8_put(bigram, prev_cjk);

				bl += model_utf8_put(bigram + bl, cp);
				spam_tokens_add(c->t, prefix, bigram, bl);
			} else if (i >= len || model_class_of(model_utf8_next(p + i, len - i, &step)) != MC_CJK) {
				/* a lone character stands for itself */
				spam_tokens_add(c->t, prefix, bigram, model_utf8_put(bigram, cp));
			}
			prev_cjk = cp;
			continue;
		}
		prev_cjk = 0;
		if (cls == MC_WORD || (cls == MC_INNER && n > 0)) {
			if (cp >= 'A' && cp <= 'Z') {
				cp += 32;
				upper = true;
			} else if (cp >= 'a' && cp <= 'z') {
				lower = true;
			}
			if (n + 4 <= SPAM_WORD_MAX)
				n += model_utf8_put(w + n, cp);
			else
				long_word = true;
			continue;
		}
		if (n > 0)
			model_word_end(c, prefix, w, n, long_word, upper && !lower, pairs);
		n = 0;
		long_word = upper = lower = false;
	}
	if (n > 0)
		model_word_end(c, prefix, w, n, long_word, upper && !lower, pairs);
}

static bool model_host_char(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
	       ch == '.' || ch == '-' || ch == '_' || ch == '@' || ch == '%';
}

static size_t model_text_urls(struct spam_tok_ctx *c, const char *text, size_t len)
{
	size_t found = 0;

	for (size_t i = 0; i + 4 < len && found < 500; i++) {
		size_t start;

		if (text[i] == ':' && text[i + 1] == '/' && text[i + 2] == '/')
			start = i + 3;
		else if ((text[i] == 'w' || text[i] == 'W') && strncasecmp(text + i, "www.", 4) == 0 &&
			 (i == 0 || !model_host_char(text[i - 1])))
			start = i;
		else
			continue;
		size_t end = start;
		while (end < len && end - start < 300 && (model_host_char(text[end]) || text[end] == ':'))
			end++;
		spam_url_host(c, text + start, end - start);
		found++;
		i = end > i ? end - 1 : i;
	}
	return found;
}

/* ---- the tests ---- */

static const char *const fragments[] = {
	"Hello", "WORLD", "don't", "--", "...", "a", "x1", ",", "!", " ", " ", " ", "\t", "\n", "\r\n",
	"$5", "100%", "snake_case", "e.g.", "日本語", "テスト", "の", "한국", "ｶﾀｶﾅ", "Ｆｕｌｌ", "é",
	"Ünïcödé", "×", "÷", "\x80", "\xc3", "\xe3\x81", "\xf0\x9f\x98\x80", "\xed\xa0\x80", "\xc0\xaf",
	"\xff", "\xf4\x90\x80\x80", "\xf0\xa0\x80\x80", "", "http://", "https://", "www.", "WWW.",
	"Www.", "ww", "example.com", "://", ":", "/path?q=1", "user@host.example", "1.2.3.4",
	"%41", "_", "Supercalifragilisticexpialidocious-and-more-words-joined",
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmn", "w", "W",
};

struct run {
	struct spam_token_limits lim;
	struct spam_tokens t;
	struct spam_tok_ctx c;
};

static void run_init(struct run *r, unsigned window)
{
	memset(r, 0, sizeof(*r));
	r->lim = (struct spam_token_limits){ 512 * 1024, 20000, window, NULL, false };
	spam_tokens_init(&r->t, &r->lim, true);
	r->c.limits = &r->lim;
	r->c.t = &r->t;
}

static void assert_same(struct run *a, struct run *b)
{
	assert_int_equal(a->t.count, b->t.count);
	assert_memory_equal(a->t.hash, b->t.hash, a->t.count * sizeof(a->t.hash[0]));
	for (size_t i = 0; i < a->t.count; i++)
		assert_string_equal(spam_tokens_text(&a->t, i), spam_tokens_text(&b->t, i));
	assert_int_equal(a->c.words, b->c.words);
	assert_int_equal(a->c.caps_words, b->c.caps_words);
	assert_int_equal(a->c.recent_count, b->c.recent_count);
	assert_memory_equal(a->c.recent, b->c.recent, sizeof(a->c.recent));
	spam_tokens_free(&a->t);
	spam_tokens_free(&b->t);
}

/* The scanners and the model over text[0..len), in every setting. */
static void check(const char *text, size_t len)
{
	static const char *const prefixes[] = { NULL, "subject:" };

	for (unsigned window = 0; window <= SPAM_OSB_MAX + 1; window += 2) {
		for (int k = 0; k < 4; k++) {
			struct run a, b;

			run_init(&a, window);
			run_init(&b, window);
			model_text_words(&a.c, prefixes[k / 2], text, len, k % 2 == 1);
			spam_text_words(&b.c, prefixes[k / 2], text, len, k % 2 == 1);
			assert_same(&a, &b);
		}
	}
	{
		struct run a, b;

		run_init(&a, 1);
		run_init(&b, 1);
		assert_int_equal(model_text_urls(&a.c, text, len), spam_text_urls(&b.c, text, len));
		assert_same(&a, &b);
	}
}

static void check_prefixes(const char *text)
{
	for (size_t len = 0; len <= strlen(text); len++)
		check(text, len);
}

static void test_edges(void **state)
{
	static const char *const cases[] = {
		"", "a", "ab", "AB", "ABC def", "don't stop", "'quoted' -dash- trailing... ",
		"x.y.z. A,B!C $1,000.00 50% snake_case_word", "UPPER CASE WORDS ONLY HERE",
		"abcdefghijklmnopqrstuvwxyzabcdefghijklm abcdefghijklmnopqrstuvwxyzabcdefghijklmn",
		"abcdefghijklmnopqrstuvwxyzabcdefghijkl... abcdefghijklmnopqrstuvwxyzabcdefghijklmnopq",
		"日本語のテキストです。漢字とかなカナ", "の", "a日b本c", "한국어 텍스트", "ｶﾀｶﾅ ﾃｽﾄ",
		"Ｆｕｌｌｗｉｄｔｈ ＡＢＣ ｘｙｚ", "Ünïcödé wörds ÀÉÎ café×naïve÷x",
		"bad \x80\x81 bytes \xc3 here \xe3\x81 end\xe3", "\xc0\xaf\xed\xa0\x80\xf4\x90\x80\x80\xff\xfe",
		"emoji \xf0\x9f\x98\x80 \xf0\xa0\x80\x80\xf0\xa0\x80\x81 rare cjk",
		"nul\0byte inside",
		"see http://Example.COM/path and https://www.shop.example.co.jp:8080/x?y=1",
		"go to WWW.Example.org, or www.x.y. or awww.no.match or ://nohost",
		"mail user@host.example.net http://user:pw@10.0.0.1/ http://1.2.3.4.5",
		"http://", "www.", "www.a", "www.ab.cd", "x://ab.cd", "http://a.b", "://",
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t len = strlen(cases[i]);

		if (strncmp(cases[i], "nul", 3) == 0)
			len = 16;
		check(cases[i], len);
	}
	check_prefixes("Visit www.example.com or http://shop.example.net/x today, ALL CAPS!!");
	check_prefixes("日本語 Mixed テキスト and ｆｕｌｌ \xe3\x81\x82\xe3");
}

static void test_random(void **state)
{
	static char text[8192];
	unsigned seed = 4242;

	for (int round = 0; round < 400; round++) {
		size_t len = 0, pieces;

		seed = seed * 1103515245u + 12345u;
		pieces = (seed >> 16) % 300;
		for (size_t k = 0; k < pieces; k++) {
			const char *f;
			size_t n;

			seed = seed * 1103515245u + 12345u;
			f = fragments[(seed >> 16) % (sizeof(fragments) / sizeof(fragments[0]))];
			n = strlen(f);
			if (len + n > sizeof(text))
				break;
			memcpy(text + len, f, n);
			len += n;
		}
		check(text, len);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_edges),
		cmocka_unit_test(test_random),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
