/* Sequence sets: parse into normalised ranges, test membership, resolve. */
#include "proto/imap_seqset.h"

#include <stdlib.h>
#include <string.h>

static int seq_number(const char *s, size_t len, uint64_t *v_r)
{
	if (len == 1 && s[0] == '*') {
		*v_r = IMAP_SEQ_STAR;
		return 0;
	}
	if (imap_parse_uint64(s, len, UINT32_MAX, v_r) < 0 || *v_r == 0)
		return -1;
	return 0;
}

static int range_cmp(const void *a, const void *b)
{
	const struct imap_seq_range *x = a, *y = b;

	if (x->lo != y->lo)
		return x->lo < y->lo ? -1 : 1;
	if (x->hi != y->hi)
		return x->hi < y->hi ? -1 : 1;
	return 0;
}

/* Sorts ranges[0..n) and merges overlapping or adjacent ones (only valid
 * for ranges without "*"); returns the new count. */
static size_t ranges_merge(struct imap_seq_range *r, size_t n)
{
	size_t out = 0;

	if (n == 0)
		return 0;
	qsort(r, n, sizeof(*r), range_cmp);
	for (size_t i = 1; i < n; i++) {
		if (r[i].lo <= r[out].hi + 1) {
			if (r[i].hi > r[out].hi)
				r[out].hi = r[i].hi;
		} else {
			r[++out] = r[i];
		}
	}
	return out + 1;
}

/* Sorts the "*" ranges and drops duplicates. */
static size_t ranges_dedupe(struct imap_seq_range *r, size_t n)
{
	size_t out = 0;

	if (n == 0)
		return 0;
	qsort(r, n, sizeof(*r), range_cmp);
	for (size_t i = 1; i < n; i++) {
		if (r[i].lo != r[out].lo)
			r[++out] = r[i];
	}
	return out + 1;
}

static int seqset_parse_items(const char *s, size_t len, struct imap_seq_range *fin,
			      size_t *nfin_r, struct imap_seq_range *star, size_t *nstar_r)
{
	size_t i = 0, nfin = 0, nstar = 0;

	while (i <= len) {
		size_t end = i, colon = (size_t)-1;
		uint64_t a, b;

		while (end < len && s[end] != ',') {
			if (s[end] == ':') {
				if (colon != (size_t)-1)
					return -1;
				colon = end;
			}
			end++;
		}
		if (colon == (size_t)-1) {
			if (seq_number(s + i, end - i, &a) < 0)
				return -1;
			b = a;
		} else if (seq_number(s + i, colon - i, &a) < 0 ||
			   seq_number(s + colon + 1, end - colon - 1, &b) < 0) {
			return -1;
		}
		if (a > b) {
			uint64_t t = a;

			a = b;
			b = t;
		}
		if (b == IMAP_SEQ_STAR)
			star[nstar++] = (struct imap_seq_range){ a, b };
		else
			fin[nfin++] = (struct imap_seq_range){ a, b };
		i = end + 1;
	}
	*nfin_r = nfin;
	*nstar_r = nstar;
	return 0;
}

int imap_seqset_parse(const char *s, size_t len, bool allow_searchres, struct imap_arena *a,
		      struct imap_seqset *set_r, const char **error_r)
{
	struct imap_seq_range *r;
	size_t items = 1, nfin, nstar;

	memset(set_r, 0, sizeof(*set_r));
	if (len == 1 && s[0] == '$') {
		if (!allow_searchres) {
			*error_r = "$ not allowed here";
			return -1;
		}
		set_r->searchres = true;
		return 0;
	}
	for (size_t i = 0; i < len; i++)
		items += s[i] == ',';
	r = imap_arena_alloc(a, 2 * items * sizeof(*r));
	if (r == NULL) {
		*error_r = "Out of memory";
		return -1;
	}
	if (len == 0 || seqset_parse_items(s, len, r, &nfin, r + items, &nstar) < 0) {
		*error_r = "Invalid sequence set";
		return -1;
	}
	nfin = ranges_merge(r, nfin);
	nstar = ranges_dedupe(r + items, nstar);
	memmove(r + nfin, r + items, nstar * sizeof(*r));
	set_r->ranges = r;
	set_r->count_finite = nfin;
	set_r->count = nfin + nstar;
	return 0;
}

int imap_seqset_parse_arg(const struct imap_arg *arg, bool allow_searchres,
			  struct imap_arena *a, struct imap_seqset *set_r, const char **error_r)
{
	const char *s = imap_arg_atom(arg);

	if (s == NULL) {
		memset(set_r, 0, sizeof(*set_r));
		*error_r = "Invalid sequence set";
		return -1;
	}
	return imap_seqset_parse(s, arg->len, allow_searchres, a, set_r, error_r);
}

/* A "*" range with the value of "*" known; returns false if it is empty. */
static bool star_range(const struct imap_seq_range *r, uint32_t star, uint32_t *lo_r,
		       uint32_t *hi_r)
{
	uint64_t lo = r->lo == IMAP_SEQ_STAR ? star : r->lo;

	if (star == 0)
		return false;
	*lo_r = (uint32_t)(lo < star ? lo : star);
	*hi_r = (uint32_t)(lo < star ? star : lo);
	return true;
}

bool imap_seqset_contains(const struct imap_seqset *set, uint32_t value, uint32_t star)
{
	size_t lo = 0, hi = set->count_finite;
	uint32_t a, b;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (value < set->ranges[mid].lo)
			hi = mid;
		else if (value > set->ranges[mid].hi)
			lo = mid + 1;
		else
			return true;
	}
	for (size_t i = set->count_finite; i < set->count; i++) {
		if (star_range(&set->ranges[i], star, &a, &b) && value >= a && value <= b)
			return true;
	}
	return false;
}

int imap_seqset_resolve(const struct imap_seqset *set, uint32_t star, struct imap_arena *a,
			uint32_t (**ranges_r)[2], size_t *count_r)
{
	struct imap_seq_range *tmp;
	uint32_t (*out)[2];
	size_t n = 0;
	uint32_t lo, hi;

	*ranges_r = NULL;
	*count_r = 0;
	if (set->count == 0)
		return 0;
	tmp = imap_arena_alloc(a, set->count * sizeof(*tmp));
	out = imap_arena_alloc(a, set->count * sizeof(*out));
	if (tmp == NULL || out == NULL)
		return -1;
	for (size_t i = 0; i < set->count; i++) {
		if (i < set->count_finite)
			tmp[n++] = set->ranges[i];
		else if (star_range(&set->ranges[i], star, &lo, &hi))
			tmp[n++] = (struct imap_seq_range){ lo, hi };
	}
	n = ranges_merge(tmp, n);
	for (size_t i = 0; i < n; i++) {
		out[i][0] = (uint32_t)tmp[i].lo;
		out[i][1] = (uint32_t)tmp[i].hi;
	}
	*ranges_r = out;
	*count_r = n;
	return 0;
}
