/* Comparators (RFC 4790: i;octet, i;ascii-casemap, i;ascii-numeric; RFC
 * 5051 i;unicode-casemap as full case folding and NFKD, see sieve_int.h)
 * and match types (:is, :contains, :matches with match variables, :regex,
 * relational :value). Unicode folding may change the length of the text
 * (ß is ss), so :matches keeps a map from each folded octet to the start
 * of the original character it came from and cuts match variables out of
 * the original value through it. */
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

#include "sieve/sieve_casemap_table.h"

static void put_utf8(struct strbuf *out, uint32_t c)
{
	if (c < 0x80) {
		strbuf_append_c(out, (char)c);
	} else if (c < 0x800) {
		strbuf_append_c(out, (char)(0xc0 | (c >> 6)));
		strbuf_append_c(out, (char)(0x80 | (c & 0x3f)));
	} else if (c < 0x10000) {
		strbuf_append_c(out, (char)(0xe0 | (c >> 12)));
		strbuf_append_c(out, (char)(0x80 | ((c >> 6) & 0x3f)));
		strbuf_append_c(out, (char)(0x80 | (c & 0x3f)));
	} else {
		strbuf_append_c(out, (char)(0xf0 | (c >> 18)));
		strbuf_append_c(out, (char)(0x80 | ((c >> 12) & 0x3f)));
		strbuf_append_c(out, (char)(0x80 | ((c >> 6) & 0x3f)));
		strbuf_append_c(out, (char)(0x80 | (c & 0x3f)));
	}
}

/* The code point of a UTF-8 sequence of n octets (utf8_len's), or
 * UINT32_MAX for an overlong form or a surrogate (copied as they are). */
static uint32_t utf8_decode(const unsigned char *s, size_t n)
{
	static const uint32_t min[5] = { 0, 0, 0x80, 0x800, 0x10000 };
	uint32_t c;

	if (n == 2)
		c = ((uint32_t)(s[0] & 0x1f) << 6) | (s[1] & 0x3f);
	else if (n == 3)
		c = ((uint32_t)(s[0] & 0x0f) << 12) | ((uint32_t)(s[1] & 0x3f) << 6) | (s[2] & 0x3f);
	else
		c = ((uint32_t)(s[0] & 0x07) << 18) | ((uint32_t)(s[1] & 0x3f) << 12) |
		    ((uint32_t)(s[2] & 0x3f) << 6) | (s[3] & 0x3f);
	if (c < min[n] || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return UINT32_MAX;
	return c;
}

static const struct casemap_entry *casemap_find(uint32_t c)
{
	size_t lo = 0, hi = CASEMAP_ENTRIES;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (casemap_table[mid].cp == c)
			return &casemap_table[mid];
		if (casemap_table[mid].cp < c)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* Appends the caseless form of code point c (see sieve_int.h). */
static void fold_cp(struct strbuf *out, uint32_t c)
{
	const struct casemap_entry *e;

	if (c >= 0xac00 && c <= 0xd7a3) {	/* Hangul syllable: L V (T) */
		uint32_t si = c - 0xac00;

		put_utf8(out, 0x1100 + si / 588);
		put_utf8(out, 0x1161 + (si % 588) / 28);
		if (si % 28 != 0)
			put_utf8(out, 0x11a7 + si % 28);
		return;
	}
	if ((e = casemap_find(c)) == NULL) {
		put_utf8(out, c);
		return;
	}
	for (unsigned int i = 0; i < e->len; i++)
		put_utf8(out, casemap_pool[e->off + i]);
}

static unsigned int ccc_of(uint32_t c)
{
	size_t lo = 0, hi = CASEMAP_CCC_ENTRIES;

	if (c < 0x300)
		return 0;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (casemap_ccc_table[mid].cp == c)
			return casemap_ccc_table[mid].ccc;
		if (casemap_ccc_table[mid].cp < c)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 0;
}

/* The folded UTF-8 character at p (which fold_cp wrote, so well formed):
 * its length, *c_r its code point. */
static size_t folded_char(const unsigned char *p, size_t left, uint32_t *c_r)
{
	size_t n = utf8_len(p, left);

	*c_r = n == 1 ? p[0] : utf8_decode(p, n);
	return n;
}

/* Canonical order (Unicode 3.11): every run of combining marks sorted by
 * combining class, stably, octets and map entries moved together. Runs
 * longer than 32 marks are left alone (no text needs them). */
static void canonical_order(struct strbuf *out, size_t *map)
{
	unsigned char *s = (unsigned char *)out->data;
	size_t len = out->len;

	for (size_t i = 0; i < len;) {
		size_t start[33], clen[33], k = 0, j = i, run_end;
		unsigned int cls[33];
		uint32_t c;

		while (j < len && k < 33) {
			size_t n = folded_char(s + j, len - j, &c);
			unsigned int cc = c == UINT32_MAX ? 0 : ccc_of(c);

			if (cc == 0)
				break;
			start[k] = j;
			clen[k] = n;
			cls[k++] = cc;
			j += n;
		}
		run_end = j;
		if (k >= 2 && k <= 32) {
			unsigned char tmp[33 * 4];
			size_t mtmp[33 * 4], order[33], w = 0;

			for (size_t a = 0; a < k; a++)
				order[a] = a;
			for (size_t a = 1; a < k; a++)	/* insertion sort: stable */
				for (size_t b = a; b > 0 && cls[order[b - 1]] > cls[order[b]]; b--) {
					size_t t = order[b];
					order[b] = order[b - 1];
					order[b - 1] = t;
				}
			for (size_t a = 0; a < k; a++) {
				memcpy(tmp + w, s + start[order[a]], clen[order[a]]);
				if (map != NULL)
					memcpy(mtmp + w, map + start[order[a]], clen[order[a]] * sizeof(size_t));
				w += clen[order[a]];
			}
			memcpy(s + i, tmp, w);
			if (map != NULL)
				memcpy(map + i, mtmp, w * sizeof(size_t));
		}
		if (run_end == i)
			i += folded_char(s + i, len - i, &c);
		else
			i = run_end;
	}
}

void sieve_unicode_fold(const char *in, size_t len, struct strbuf *out, size_t **map_r)
{
	size_t begin = out->len;
	bool marks = false;
	const unsigned char *s = (const unsigned char *)in;
	size_t *map = NULL, cap = 0;

	for (size_t i = 0; i < len;) {
		size_t n = utf8_len(s + i, len - i), before = out->len;
		uint32_t c;

		if (n == 1) {
			strbuf_append_c(out, (char)(s[i] >= 'A' && s[i] <= 'Z' ? s[i] + 32 : s[i]));
		} else if ((c = utf8_decode(s + i, n)) == UINT32_MAX) {
			strbuf_append(out, in + i, n);
		} else {
			fold_cp(out, c);
			marks = true;
		}
		if (map_r != NULL) {
			if (out->len + 1 > cap) {
				cap = (out->len + 1) * 2;
				if ((map = realloc(map, cap * sizeof(*map))) == NULL)
					abort();
			}
			for (size_t k = before; k < out->len; k++)
				map[k] = i;	/* every octet of the folded form: its character's start */
		}
		i += n;
	}
	if (map_r != NULL) {
		if (map == NULL && (map = malloc(sizeof(*map))) == NULL)
			abort();
		map[out->len] = len;
		*map_r = map;
	}
	if (marks && out->len > begin) {
		struct strbuf part = { .data = out->data + begin, .len = out->len - begin };

		canonical_order(&part, map != NULL ? map + begin : NULL);
		/* then the ypogegrammeni's fold, iota (the table keeps U+0345
		 * so that it sorts with its class first); the same length */
		for (size_t i = begin; i + 1 < out->len; i++) {
			if ((unsigned char)out->data[i] == 0xcd && (unsigned char)out->data[i + 1] == 0x85) {
				out->data[i] = (char)0xce;
				out->data[i + 1] = (char)0xb9;
			}
		}
	}
}

void sieve_fold(enum sieve_cmp cmp, const char *in, size_t len, struct strbuf *out)
{
	strbuf_truncate(out, 0);
	strbuf_reserve(out, len);
	if (cmp == CMP_UNICODE) {
		sieve_unicode_fold(in, len, out, NULL);
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
		       const char *orig, size_t olen, const size_t *map, struct sieve_matchvars *mv,
		       uint64_t *work)
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
		set_var(mv, 0, orig, olen);
		for (unsigned int i = 0; i < w && i + 1 < SIEVE_MATCH_VARS; i++) {
			/* a span of the folded text back to the original's characters */
			size_t a = map != NULL ? map[cs[i]] : cs[i], b = map != NULL ? map[cs[i] + cl[i]] : cs[i] + cl[i];

			set_var(mv, i + 1, orig + a, b > a ? b - a : 0);
		}
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
	size_t *map = NULL;
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
	if (cmp == CMP_UNICODE && match == MATCH_MATCHES && mv != NULL) {
		strbuf_reserve(&fv, vlen);
		sieve_unicode_fold(value, vlen, &fv, &map);
		if (fv.data == NULL)
			strbuf_append(&fv, "", 0);
	} else {
		sieve_fold(cmp, value, vlen, &fv);
	}
	sieve_fold(cmp, key, klen, &fk);
	switch (match) {
	case MATCH_IS:
		ok = fv.len == fk.len && memcmp(fv.data, fk.data, fv.len) == 0;
		break;
	case MATCH_CONTAINS:
		ok = fk.len == 0 || memmem(fv.data, fv.len, fk.data, fk.len) != NULL;
		break;
	case MATCH_MATCHES:
		ok = glob_match(fv.data, fv.len, fk.data, fk.len, cmp == CMP_UNICODE, value, vlen, map, mv, work);
		break;
	default:
		break;
	}
	free(map);
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
