/* Comparators (RFC 4790: i;octet, i;ascii-casemap, i;ascii-numeric; RFC
 * 5051 i;unicode-casemap, simplified) and match types (:is, :contains,
 * :matches with match variables, :regex, relational :value). Case folding
 * keeps the byte length of the text, so match variables are cut out of
 * the original value with the folded text's offsets. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sieve/sieve_int.h"

/* Work units one :matches may spend before it gives up (no match): keeps
 * a hostile pattern on a long value linear in practice. */
#define MATCH_BUDGET (1u << 22)
#define NAIVE_MAX (64 * 1024)
#define REGEX_KEY_MAX 4096
#define REGEX_VALUE_MAX (64 * 1024)

static size_t utf8_len(const unsigned char *s, size_t len)
{
	size_t n = 1;

	if (s[0] >= 0xf0)
		n = 4;
	else if (s[0] >= 0xe0)
		n = 3;
	else if (s[0] >= 0xc0)
		n = 2;
	if (n > len)
		return 1;
	for (size_t i = 1; i < n; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 1;
	return n;
}

/* Lower case of the code points whose folding keeps the UTF-8 length:
 * Latin-1, Greek and Cyrillic capitals, fullwidth Latin. */
static uint32_t fold_cp(uint32_t c)
{
	if (c >= 'A' && c <= 'Z')
		return c + 32;
	if (c >= 0xc0 && c <= 0xde && c != 0xd7)
		return c + 32;
	if (c >= 0x391 && c <= 0x3a9 && c != 0x3a2)
		return c + 32;
	if (c >= 0x410 && c <= 0x42f)
		return c + 32;
	if (c >= 0x400 && c <= 0x40f)
		return c + 80;
	if (c >= 0xff21 && c <= 0xff3a)
		return c + 32;
	return c;
}

void sieve_unicode_fold(const char *in, size_t len, struct strbuf *out)
{
	const unsigned char *s = (const unsigned char *)in;

	for (size_t i = 0; i < len;) {
		size_t n = utf8_len(s + i, len - i);
		uint32_t c, f;

		if (n == 1) {
			c = s[i];
			strbuf_append_c(out, (char)(c >= 'A' && c <= 'Z' ? c + 32 : c));
			i++;
			continue;
		}
		if (n == 2)
			c = ((uint32_t)(s[i] & 0x1f) << 6) | (s[i + 1] & 0x3f);
		else if (n == 3)
			c = ((uint32_t)(s[i] & 0x0f) << 12) | ((uint32_t)(s[i + 1] & 0x3f) << 6) |
			    (s[i + 2] & 0x3f);
		else
			c = 0;
		f = n <= 3 ? fold_cp(c) : c;
		if (f == c) {
			strbuf_append(out, in + i, n);
		} else if (n == 2) {
			strbuf_append_c(out, (char)(0xc0 | (f >> 6)));
			strbuf_append_c(out, (char)(0x80 | (f & 0x3f)));
		} else {
			strbuf_append_c(out, (char)(0xe0 | (f >> 12)));
			strbuf_append_c(out, (char)(0x80 | ((f >> 6) & 0x3f)));
			strbuf_append_c(out, (char)(0x80 | (f & 0x3f)));
		}
		i += n;
	}
}

void sieve_fold(enum sieve_cmp cmp, const char *in, size_t len, struct strbuf *out)
{
	strbuf_truncate(out, 0);
	strbuf_reserve(out, len);
	if (cmp == CMP_UNICODE) {
		sieve_unicode_fold(in, len, out);
	} else if (cmp == CMP_ASCII) {
		for (size_t i = 0; i < len; i++) {
			char c = in[i];

			strbuf_append_c(out, c >= 'A' && c <= 'Z' ? (char)(c + 32) : c);
		}
	} else {
		strbuf_append(out, in, len);
	}
	if (out->data == NULL)
		strbuf_append(out, "", 0);
}

uint64_t sieve_numeric_value(const char *s, size_t len)
{
	uint64_t v = 0;
	size_t i = 0;

	if (len == 0 || s[0] < '0' || s[0] > '9')
		return UINT64_MAX;
	for (; i < len && s[i] >= '0' && s[i] <= '9'; i++) {
		if (v >= (UINT64_MAX - 10) / 10)
			return UINT64_MAX - 1;	/* huge but finite */
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	return v;
}

static void set_var(struct sieve_matchvars *mv, unsigned int i, const char *s, size_t len)
{
	if (i >= SIEVE_MATCH_VARS)
		return;
	strbuf_truncate(&mv->v[i], 0);
	strbuf_append(&mv->v[i], s, len);
	if (i + 1 > mv->count)
		mv->count = i + 1;
}

enum { W_STAR = -1, W_ONE = -2 };

/* :matches of folded value v against folded key k (wildcards * and ?,
 * backslash escapes). '?' is one octet, or with utf8 (i;unicode-casemap)
 * one UTF-8 character: i;octet and i;ascii-casemap work on octets (RFC
 * 4790 9.2, 9.3). On success the wildcards' spans are cut out of the
 * original value orig into mv. Classic two-pointer glob: each * is kept
 * as short as possible, backtracking only into the latest one, which
 * gives the leftmost-shortest spans RFC 5229 3.2 asks for. */
static bool glob_match(const char *v, size_t vlen, const char *k, size_t klen, bool utf8,
		       const char *orig, struct sieve_matchvars *mv, uint64_t *work)
{
	int *tok = malloc((klen + 1) * sizeof(int));
	size_t *cs = malloc((klen + 1) * sizeof(size_t)), *cl = malloc((klen + 1) * sizeof(size_t));
	size_t n = 0, pi = 0, vi = 0, star_pi = SIZE_MAX, star_vi = 0;
	uint64_t budget = *work < MATCH_BUDGET ? *work : MATCH_BUDGET, start_budget = budget;
	unsigned int *widx = malloc((klen + 1) * sizeof(unsigned int)), w = 0;
	bool ok = false;

	if (tok == NULL || cs == NULL || cl == NULL || widx == NULL)
		abort();
	for (size_t i = 0; i < klen; i++) {
		if (k[i] == '\\' && i + 1 < klen)
			tok[n] = (unsigned char)k[++i];
		else if (k[i] == '*')
			tok[n] = W_STAR;
		else if (k[i] == '?')
			tok[n] = W_ONE;
		else
			tok[n] = (unsigned char)k[i];
		widx[n] = tok[n] < 0 ? w++ : 0;
		n++;
	}
	while (vi < vlen) {
		if (budget == 0 || --budget == 0)
			goto out;
		if (pi < n && tok[pi] == W_ONE) {
			size_t cn = utf8 ? utf8_len((const unsigned char *)v + vi, vlen - vi) : 1;

			cs[widx[pi]] = vi;
			cl[widx[pi]] = cn;
			vi += cn;
			pi++;
		} else if (pi < n && tok[pi] == W_STAR) {
			star_pi = pi;
			star_vi = vi;
			cs[widx[pi]] = vi;
			cl[widx[pi]] = 0;
			pi++;
		} else if (pi < n && tok[pi] == (unsigned char)v[vi]) {
			vi++;
			pi++;
		} else if (star_pi != SIZE_MAX) {
			star_vi += utf8 ? utf8_len((const unsigned char *)v + star_vi, vlen - star_vi) : 1;
			if (star_vi > vlen)
				goto out;
			cl[widx[star_pi]] = star_vi - cs[widx[star_pi]];
			pi = star_pi + 1;
			vi = star_vi;
		} else {
			goto out;
		}
	}
	while (pi < n && tok[pi] == W_STAR) {
		cs[widx[pi]] = vlen;
		cl[widx[pi]] = 0;
		pi++;
	}
	ok = pi == n;
	if (ok && mv != NULL) {
		mv->count = 0;
		set_var(mv, 0, orig, vlen);
		for (unsigned int i = 0; i < w && i + 1 < SIEVE_MATCH_VARS; i++)
			set_var(mv, i + 1, orig + cs[i], cl[i]);
	}
out:
	*work -= start_budget - budget;
	free(tok);
	free(cs);
	free(cl);
	free(widx);
	return ok;
}

static unsigned char lower(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? (unsigned char)(c + 32) : c;
}

/* ASCII case-insensitive substring search; other bytes compare as they
 * are. */
static bool ascii_contains(const char *hay, size_t hlen, const char *needle, size_t nlen)
{
	unsigned char first;

	if (nlen == 0)
		return true;
	first = lower((unsigned char)needle[0]);
	for (size_t i = 0; i + nlen <= hlen; i++) {
		size_t j;

		if (lower((unsigned char)hay[i]) != first)
			continue;
		for (j = 1; j < nlen; j++)
			if (lower((unsigned char)hay[i + j]) != lower((unsigned char)needle[j]))
				break;
		if (j == nlen)
			return true;
	}
	return false;
}

bool sieve_match_str(enum sieve_match match, enum sieve_cmp cmp, const char *value, size_t vlen,
		     const char *key, size_t klen, struct sieve_matchvars *mv, uint64_t *work)
{
	struct strbuf fv = STRBUF_INIT, fk = STRBUF_INIT;
	uint64_t cost = (uint64_t)vlen + klen + 1;
	bool ok = false;

	if (*work < cost) {
		*work = 0;
		return false;
	}
	*work -= cost;

	if (cmp == CMP_NUMERIC) {
		if (match == MATCH_IS)
			return sieve_numeric_value(value, vlen) == sieve_numeric_value(key, klen);
		return false;
	}
	/* the common cases without copies */
	if (cmp == CMP_OCTET && match == MATCH_IS)
		return vlen == klen && memcmp(value, key, vlen) == 0;
	if (cmp == CMP_OCTET && match == MATCH_CONTAINS)
		return klen == 0 || memmem(value, vlen, key, klen) != NULL;
	if (cmp == CMP_ASCII && match == MATCH_IS)
		return vlen == klen && ascii_contains(value, vlen, key, klen);
	/* the plain search is quadratic at worst: only for short texts */
	if (cmp == CMP_ASCII && match == MATCH_CONTAINS && (uint64_t)vlen * klen <= NAIVE_MAX)
		return ascii_contains(value, vlen, key, klen);
	sieve_fold(cmp, value, vlen, &fv);
	sieve_fold(cmp, key, klen, &fk);
	switch (match) {
	case MATCH_IS:
		ok = fv.len == fk.len && memcmp(fv.data, fk.data, fv.len) == 0;
		break;
	case MATCH_CONTAINS:
		ok = fk.len == 0 || memmem(fv.data, fv.len, fk.data, fk.len) != NULL;
		break;
	case MATCH_MATCHES:
		ok = glob_match(fv.data, fv.len, fk.data, fk.len, cmp == CMP_UNICODE, value, mv, work);
		break;
	default:
		break;
	}
	strbuf_free(&fv);
	strbuf_free(&fk);
	return ok;
}

bool sieve_match_rel(enum sieve_rel rel, enum sieve_cmp cmp, const char *value, size_t vlen,
		     const char *key, size_t klen)
{
	int c;

	if (cmp == CMP_NUMERIC) {
		uint64_t a = sieve_numeric_value(value, vlen), b = sieve_numeric_value(key, klen);

		c = a < b ? -1 : a > b;
	} else {
		struct strbuf fv = STRBUF_INIT, fk = STRBUF_INIT;
		size_t m;

		sieve_fold(cmp, value, vlen, &fv);
		sieve_fold(cmp, key, klen, &fk);
		m = fv.len < fk.len ? fv.len : fk.len;
		c = memcmp(fv.data, fk.data, m);
		if (c == 0)
			c = fv.len < fk.len ? -1 : fv.len > fk.len;
		strbuf_free(&fv);
		strbuf_free(&fk);
	}
	switch (rel) {
	case REL_GT: return c > 0;
	case REL_GE: return c >= 0;
	case REL_LT: return c < 0;
	case REL_LE: return c <= 0;
	case REL_EQ: return c == 0;
	case REL_NE: return c != 0;
	}
	return false;
}

int sieve_regex_compile(regex_t *re, const char *key, size_t klen, enum sieve_cmp cmp,
			char *error, size_t errsize)
{
	int flags = REG_EXTENDED, rc;

	if (klen > REGEX_KEY_MAX || strlen(key) != klen) {
		snprintf(error, errsize, "regex too long");
		return -1;
	}
	for (size_t i = 0; i + 1 < klen; i++) {
		if (key[i] == '\\' && key[i + 1] >= '1' && key[i + 1] <= '9') {
			snprintf(error, errsize, "regex back-references are not supported");
			return -1;
		}
		if (key[i] == '\\')
			i++;
	}
	if (cmp == CMP_ASCII || cmp == CMP_UNICODE)
		flags |= REG_ICASE;
	if (cmp == CMP_NUMERIC) {
		snprintf(error, errsize, ":regex cannot be used with i;ascii-numeric");
		return -1;
	}
	rc = regcomp(re, key, flags);
	if (rc != 0) {
		char buf[80];

		regerror(rc, re, buf, sizeof(buf));
		snprintf(error, errsize, "invalid regex \"%.60s\": %s", key, buf);
		return -1;
	}
	return 0;
}

bool sieve_regex_exec(const regex_t *re, const char *value, size_t vlen, struct sieve_matchvars *mv)
{
	regmatch_t m[SIEVE_MATCH_VARS];
	char *copy;
	bool ok;

	if (vlen > REGEX_VALUE_MAX)
		vlen = REGEX_VALUE_MAX;
	copy = malloc(vlen + 1);
	if (copy == NULL)
		abort();
	memcpy(copy, value, vlen);
	copy[vlen] = '\0';
	ok = regexec(re, copy, SIEVE_MATCH_VARS, m, 0) == 0;
	if (ok && mv != NULL) {
		mv->count = 0;
		for (unsigned int i = 0; i < SIEVE_MATCH_VARS; i++) {
			if (m[i].rm_so < 0) {
				set_var(mv, i, "", 0);
				continue;
			}
			set_var(mv, i, copy + m[i].rm_so, (size_t)(m[i].rm_eo - m[i].rm_so));
		}
	}
	free(copy);
	return ok;
}
