/* Words, Japanese/Chinese bigrams and URL hosts of decoded UTF-8 text. */
#include "spam/spam_internal.h"

#include <libpsl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

enum spam_class { SC_SEP, SC_WORD, SC_INNER, SC_CJK };

/* Decodes one UTF-8 sequence at p (at most len bytes); invalid bytes are
 * taken one at a time as U+FFFD. */
static uint32_t spam_utf8_next(const unsigned char *p, size_t len, size_t *n_r)
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

/* ASCII classes, looked up first: most text is ASCII (bytes from 0x80
 * are SC_SEP here; they are decoded before their class is asked) */
static const unsigned char spam_ascii_class[256] = {
	['0'] = SC_WORD, ['1'] = SC_WORD, ['2'] = SC_WORD, ['3'] = SC_WORD, ['4'] = SC_WORD,
	['5'] = SC_WORD, ['6'] = SC_WORD, ['7'] = SC_WORD, ['8'] = SC_WORD, ['9'] = SC_WORD,
	['a'] = SC_WORD, ['b'] = SC_WORD, ['c'] = SC_WORD, ['d'] = SC_WORD, ['e'] = SC_WORD,
	['f'] = SC_WORD, ['g'] = SC_WORD, ['h'] = SC_WORD, ['i'] = SC_WORD, ['j'] = SC_WORD,
	['k'] = SC_WORD, ['l'] = SC_WORD, ['m'] = SC_WORD, ['n'] = SC_WORD, ['o'] = SC_WORD,
	['p'] = SC_WORD, ['q'] = SC_WORD, ['r'] = SC_WORD, ['s'] = SC_WORD, ['t'] = SC_WORD,
	['u'] = SC_WORD, ['v'] = SC_WORD, ['w'] = SC_WORD, ['x'] = SC_WORD, ['y'] = SC_WORD,
	['z'] = SC_WORD,
	['A'] = SC_WORD, ['B'] = SC_WORD, ['C'] = SC_WORD, ['D'] = SC_WORD, ['E'] = SC_WORD,
	['F'] = SC_WORD, ['G'] = SC_WORD, ['H'] = SC_WORD, ['I'] = SC_WORD, ['J'] = SC_WORD,
	['K'] = SC_WORD, ['L'] = SC_WORD, ['M'] = SC_WORD, ['N'] = SC_WORD, ['O'] = SC_WORD,
	['P'] = SC_WORD, ['Q'] = SC_WORD, ['R'] = SC_WORD, ['S'] = SC_WORD, ['T'] = SC_WORD,
	['U'] = SC_WORD, ['V'] = SC_WORD, ['W'] = SC_WORD, ['X'] = SC_WORD, ['Y'] = SC_WORD,
	['Z'] = SC_WORD,
	['-'] = SC_INNER, ['\''] = SC_INNER, ['.'] = SC_INNER, ['_'] = SC_INNER, ['$'] = SC_INNER,
	['%'] = SC_INNER, [','] = SC_INNER, ['!'] = SC_INNER,
};

static enum spam_class spam_class_of(uint32_t cp)
{
	if (cp < 0x80) {
		if ((cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z') || (cp >= '0' && cp <= '9'))
			return SC_WORD;
		if (cp == '-' || cp == '\'' || cp == '.' || cp == '_' || cp == '$' || cp == '%' ||
		    cp == ',' || cp == '!')
			return SC_INNER;
		return SC_SEP;
	}
	if ((cp >= 0x3040 && cp <= 0x30ff) || (cp >= 0x3400 && cp <= 0x4dbf) ||
	    (cp >= 0x4e00 && cp <= 0x9fff) || (cp >= 0xf900 && cp <= 0xfaff) ||
	    (cp >= 0xac00 && cp <= 0xd7af) || (cp >= 0xff66 && cp <= 0xff9f) ||
	    (cp >= 0x20000 && cp <= 0x2ffff))
		return SC_CJK;
	/* Latin-1 letters and beyond up to the general punctuation block,
	 * and other alphabets: letters; the rest separates */
	if ((cp >= 0xc0 && cp <= 0x24f && cp != 0xd7 && cp != 0xf7) ||
	    (cp >= 0x370 && cp <= 0x1fff))
		return SC_WORD;
	return SC_SEP;
}

static size_t spam_utf8_put(char *out, uint32_t cp)
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

static uint32_t spam_pair_hash(uint32_t a, uint32_t b, unsigned dist)
{
	uint32_t h = a * 0x9e3779b1u ^ (b + dist * 0x27d4eb2fu);

	h ^= h >> 15;
	h *= 0x2c1b3c6du;
	h ^= h >> 12;
	return h;
}

/* The word being read: its bytes (lowercased) and their hash so far, and
 * the same up to its last byte that is not inner punctuation (the word
 * as it ends: trailing "...", "-" or "!" are not part of it). */
struct spam_word_buf {
	char w[SPAM_WORD_MAX + 4];
	size_t n, keep;
	uint32_t h, h_keep;
	bool long_word, upper, lower;
};

static void spam_word_reset(struct spam_word_buf *wb)
{
	wb->n = wb->keep = 0;
	wb->h = wb->h_keep = SPAM_HASH_SEED;
	wb->long_word = wb->upper = wb->lower = false;
}

/* Appends one character (a code point of class cls, a capital made
 * small) to the word. */
static void spam_word_put(struct spam_word_buf *wb, uint32_t cp, enum spam_class cls)
{
	size_t n0 = wb->n;

	if (cp >= 'A' && cp <= 'Z') {
		cp += 32;
		wb->upper = true;
	} else if (cp >= 'a' && cp <= 'z') {
		wb->lower = true;
	}
	if (wb->n + 4 > SPAM_WORD_MAX) {
		wb->long_word = true;
		return;
	}
	if (cp < 0x80) {
		wb->w[wb->n++] = (char)cp;
		wb->h = (wb->h ^ cp) * 16777619u;	/* spam_hash_step of one byte */
	} else {
		wb->n += spam_utf8_put(wb->w + wb->n, cp);
		wb->h = spam_hash_step(wb->h, wb->w + n0, wb->n - n0);
	}
	if (cls != SC_INNER) {
		wb->keep = wb->n;
		wb->h_keep = wb->h;
	}
}

/* spam_word_put for a run of ASCII letters and digits from p[i], the
 * bulk of most text: returns where the run ends. */
static size_t spam_word_put_ascii(struct spam_word_buf *wb, const unsigned char *p, size_t i,
				  size_t len)
{
	/* in locals: the stores into w could otherwise alias them */
	size_t n0 = wb->n, n = n0;
	uint32_t h = wb->h;
	bool upper = false, lower = false;

	for (; i < len && spam_ascii_class[p[i]] == SC_WORD; i++) {
		unsigned char ch = p[i];

		if (ch >= 'A' && ch <= 'Z') {
			ch += 32;
			upper = true;
		} else if (ch >= 'a' && ch <= 'z') {
			lower = true;
		}
		if (n + 4 > SPAM_WORD_MAX) {
			wb->long_word = true;
			continue;
		}
		wb->w[n++] = (char)ch;
		h = (h ^ ch) * 16777619u;
	}
	/* stored only when set: reading the two flags back as one (what
	 * "|=" compiles to) stalls on the stores that wrote them */
	if (upper)
		wb->upper = true;
	if (lower)
		wb->lower = true;
	if (n > n0) {
		wb->n = wb->keep = n;
		wb->h = wb->h_keep = h;
	}
	return i;
}

/* Adds a word of text (hash h: spam_hash(NULL, w, n)) and, with pairs,
 * its pairs with the words before it. */
static void spam_word(struct spam_tok_ctx *c, const char *prefix, const char *w, size_t n,
		      uint32_t h, bool pairs)
{
	unsigned window = c->limits->osb_window < SPAM_OSB_MAX ? c->limits->osb_window : SPAM_OSB_MAX;

	if (!pairs) {
		spam_tokens_add(c->t, prefix, w, n);
		return;
	}
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
		spam_tokens_add_hash(c->t, spam_pair_hash(c->recent[k], h, k), buf, bl);
	}
	for (unsigned k = SPAM_OSB_MAX - 1; k > 0; k--)
		c->recent[k] = c->recent[k - 1];
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

/* Ends the word being read (if any): adds it without the inner
 * punctuation at its end when it is long enough, and counts it among the
 * words in capitals when it had capitals and no small letters. */
static void spam_word_end(struct spam_tok_ctx *c, const char *prefix, struct spam_word_buf *wb,
			  bool pairs)
{
	if (wb->n == 0)
		return;
	if (wb->long_word) {
		spam_tokens_add(c->t, prefix != NULL ? prefix : "", "_longword", 9);
	} else if (wb->keep >= 2) {
		if (wb->upper && !wb->lower && wb->keep >= 3 && pairs)
			c->caps_words++;
		spam_word(c, prefix, wb->w, wb->keep, spam_hash_mix(wb->h_keep), pairs);
	}
	spam_word_reset(wb);
}

/* spam_hash(NULL, bigram, bl) of the bigram of code points a and b,
 * remembered in c->bigrams. */
static uint32_t spam_bigram_hash(struct spam_tok_ctx *c, uint32_t a, uint32_t b, const char *bigram,
				 size_t bl)
{
	struct spam_bigram_memo *m = &c->bigrams[((a * 0x9e3779b1u) ^ b) & (SPAM_BIGRAM_MEMO - 1)];

	if (m->a != a || m->b != b) {
		m->a = a;
		m->b = b;
		m->hash = spam_hash(NULL, bigram, bl);
	}
	return m->hash;
}

/* A Japanese or Chinese character: the bigram with the one before it, or
 * the character alone when it has no neighbour of its kind. */
static void spam_cjk(struct spam_tok_ctx *c, const char *prefix, uint32_t prev, uint32_t cp,
		     const unsigned char *next, size_t left)
{
	char bigram[8];
	size_t step;

	if (prev != 0) {
		size_t bl = spam_utf8_put(bigram, prev);

		bl += spam_utf8_put(bigram + bl, cp);
		if (prefix == NULL)
			spam_tokens_add_hash(c->t, spam_bigram_hash(c, prev, cp, bigram, bl), bigram, bl);
		else
			spam_tokens_add(c->t, prefix, bigram, bl);
	} else if (left == 0 || spam_class_of(spam_utf8_next(next, left, &step)) != SC_CJK) {
		spam_tokens_add(c->t, prefix, bigram, spam_utf8_put(bigram, cp));
	}
}

void spam_text_words(struct spam_tok_ctx *c, const char *prefix, const char *text, size_t len,
		     bool pairs)
{
	const unsigned char *p = (const unsigned char *)text;
	struct spam_word_buf wb;
	size_t i = 0, step;
	uint32_t prev_cjk = 0;

	c->recent_count = 0;
	spam_word_reset(&wb);
	while (i < len) {
		uint32_t cp;
		enum spam_class cls;

		if (spam_ascii_class[p[i]] == SC_WORD) {
			i = spam_word_put_ascii(&wb, p, i, len);
			prev_cjk = 0;
			continue;
		}
		if (p[i] < 0x80) {
			/* ASCII, the common case: no decoding */
			cp = p[i++];
			cls = (enum spam_class)spam_ascii_class[cp];
		} else {
			cp = spam_utf8_next(p + i, len - i, &step);
			i += step;
			if (cp >= 0xff01 && cp <= 0xff5e)	/* fullwidth ASCII */
				cp -= 0xfee0;
			cls = spam_class_of(cp);
		}
		if (cls == SC_CJK) {
			spam_word_end(c, prefix, &wb, pairs);
			spam_cjk(c, prefix, prev_cjk, cp, p + i, len - i);
			prev_cjk = cp;
			continue;
		}
		prev_cjk = 0;
		if (cls == SC_WORD || (cls == SC_INNER && wb.n > 0))
			spam_word_put(&wb, cp, cls);
		else
			spam_word_end(c, prefix, &wb, pairs);
	}
	spam_word_end(c, prefix, &wb, pairs);
}

static bool spam_host_char(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
	       ch == '.' || ch == '-' || ch == '_' || ch == '@' || ch == '%';
}

void spam_url_host(struct spam_tok_ctx *c, const char *host, size_t len)
{
	char buf[256];
	const char *at, *dom;
	size_t n = 0;
	bool ip = true;

	at = memrchr(host, '@', len);
	if (at != NULL) {
		len -= (size_t)(at + 1 - host);
		host = at + 1;
	}
	for (size_t i = 0; i < len && n + 1 < sizeof(buf); i++) {
		char ch = host[i];

		if (ch == ':' || ch == '/' || !spam_host_char(ch))
			break;
		buf[n++] = (char)((ch >= 'A' && ch <= 'Z') ? ch + 32 : ch);
		if (!(ch >= '0' && ch <= '9') && ch != '.')
			ip = false;
	}
	while (n > 0 && buf[n - 1] == '.')
		n--;
	buf[n] = '\0';
	if (n < 3 || memchr(buf, '.', n) == NULL)
		return;
	if (ip) {
		spam_feature(c, "url-ip");
		return;
	}
	spam_tokens_add(c->t, "url:", buf, n);
	dom = c->limits->psl != NULL ? psl_registrable_domain(c->limits->psl, buf) : NULL;
	if (dom == NULL) {
		/* the last two labels */
		dom = buf + n;
		for (int dots = 0; dom > buf; dom--) {
			if (dom[-1] == '.' && ++dots == 2)
				break;
		}
	}
	spam_tokens_add(c->t, "urld:", dom, strlen(dom));
}

/* The next place at or after i where a URL may start: a ':' or a
 * "www." in any case. The colon and the dot are found with memchr; *colon
 * and *dot keep the last ones found (SIZE_MAX: none yet) for the next
 * call. Returns len when there is none. */
static size_t spam_url_next(const char *text, size_t len, size_t i, size_t *colon, size_t *dot)
{
	const char *q;

	if (*colon == SIZE_MAX || *colon < i) {
		q = memchr(text + i, ':', len - i);
		*colon = q != NULL ? (size_t)(q - text) : len;
	}
	for (;;) {
		if (*dot == SIZE_MAX || *dot < i + 3) {
			q = i + 3 < len ? memchr(text + i + 3, '.', len - i - 3) : NULL;
			*dot = q != NULL ? (size_t)(q - text) : len;
		}
		if (*dot >= len || *dot - 3 >= *colon)
			return *colon;
		if (strncasecmp(text + *dot - 3, "www", 3) == 0)
			return *dot - 3;
		i = *dot - 2;
	}
}

size_t spam_text_urls(struct spam_tok_ctx *c, const char *text, size_t len)
{
	size_t found = 0, colon = SIZE_MAX, dot = SIZE_MAX;

	for (size_t i = 0; i + 4 < len && found < 500; i++) {
		size_t start;

		i = spam_url_next(text, len, i, &colon, &dot);
		if (i + 4 >= len)
			break;
		if (text[i] == ':' && text[i + 1] == '/' && text[i + 2] == '/')
			start = i + 3;
		else if ((text[i] == 'w' || text[i] == 'W') && strncasecmp(text + i, "www.", 4) == 0 &&
			 (i == 0 || !spam_host_char(text[i - 1])))
			start = i;
		else
			continue;
		size_t end = start;
		while (end < len && end - start < 300 && (spam_host_char(text[end]) || text[end] == ':'))
			end++;
		spam_url_host(c, text + start, end - start);
		found++;
		i = end > i ? end - 1 : i;
	}
	return found;
}
