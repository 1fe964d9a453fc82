/* A mail user's search of its own mailbox (ops_mail_search.h): each
 * folder is synced (mail index, then the search index, which indexes what
 * it lacks, up to FTS_SYNC_MAX messages per request in all), each word is
 * looked up in the search index, the UID sets are intersected and limited
 * to the current view and the date bounds, and the hits sorted newest
 * first; only the page's hits are looked up for their summary. */
#include "ops/ops_mail_search.h"
#include "directory/directory.h"
#include "lib/str.h"
#include "store/maildir.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#define SEARCH_FOLDERS_MAX 1000

struct word {
	enum fts_field field;
	const char *s;
	size_t len;
};

struct hit {
	uint32_t folder;	/* position in the folder list */
	uint32_t uid, flags;
	int64_t date;
	uint64_t size;
	char *keywords;		/* NULL for none */
};

struct folders {
	struct index_mailbox *list;
	size_t n;
	bool overflow;
};

static bool is_blank(const char *s, size_t len, size_t *n_r)
{
	if (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n') {
		*n_r = 1;
		return true;
	}
	if (len >= 3 && memcmp(s, "\xE3\x80\x80", 3) == 0) {	/* U+3000 IDEOGRAPHIC SPACE */
		*n_r = 3;
		return true;
	}
	return false;
}

int ops_mail_search_words(const char *s, const char **words, size_t *lens, size_t max)
{
	size_t len = s != NULL ? strlen(s) : 0, i = 0, n = 0, b;

	while (i < len) {
		size_t start;

		if (is_blank(s + i, len - i, &b)) {
			i += b;
			continue;
		}
		start = i;
		while (i < len && !is_blank(s + i, len - i, &b))
			i++;
		if (n == max)
			return -1;
		words[n] = s + start;
		lens[n] = i - start;
		n++;
	}
	return (int)n;
}

static void folder_collect(const struct index_mailbox *m, void *ctx)
{
	struct folders *fl = ctx;
	struct index_mailbox *nl;

	if (fl->n == SEARCH_FOLDERS_MAX) {
		fl->overflow = true;
		return;
	}
	if ((fl->n & (fl->n - 1)) == 0) {
		nl = realloc(fl->list, (fl->n == 0 ? 1 : fl->n * 2) * sizeof(*nl));
		if (nl == NULL) {
			fl->overflow = true;
			return;
		}
		fl->list = nl;
	}
	fl->list[fl->n++] = *m;
}

/* Intersects the ascending set a (n_a) with b in place; returns the new size. */
static size_t intersect(uint32_t *a, size_t na, const uint32_t *b, size_t nb)
{
	size_t i = 0, j = 0, o = 0;

	while (i < na && j < nb) {
		if (a[i] < b[j]) {
			i++;
		} else if (a[i] > b[j]) {
			j++;
		} else {
			a[o++] = a[i];
			i++;
			j++;
		}
	}
	return o;
}

struct search_run {
	struct mail_index *idx;
	struct fts_index *f;
	const struct ops_mail_search_query *q;
	const struct word *words;
	size_t nwords, budget;
	bool partial;
	struct hit *hits;
	size_t nhits, cap;
	int64_t *fids;		/* per folder: its key in the search index */
};

static int hits_add(struct search_run *r, uint32_t folder, const struct index_msg *m)
{
	struct hit *h;

	if (r->nhits == r->cap) {
		struct hit *nh;
		r->cap = r->cap == 0 ? 256 : r->cap * 2;
		nh = realloc(r->hits, r->cap * sizeof(*nh));
		if (nh == NULL)
			return -1;
		r->hits = nh;
	}
	h = &r->hits[r->nhits++];
	h->folder = folder;
	h->uid = m->uid;
	h->flags = m->flags;
	h->date = m->internaldate;
	h->size = m->size;
	h->keywords = m->keywords[0] != '\0' ? strdup(m->keywords) : NULL;
	return 0;
}

/* The UIDs of the folder matching every word (ascending); NULL with *n_r
 * 0 and no error when there are no words (every message matches). */
static int folder_matches(struct search_run *r, int64_t fid, uint32_t **uids_r, size_t *n_r)
{
	uint32_t *set = NULL;
	size_t n = 0;

	*uids_r = NULL;
	*n_r = 0;
	for (size_t i = 0; i < r->nwords; i++) {
		uint32_t *u;
		size_t nu;

		if (fts_folder_match(r->f, fid, r->words[i].field, r->words[i].s, r->words[i].len, &u, &nu) < 0) {
			free(set);
			return -1;
		}
		if (i == 0) {
			set = u;
			n = nu;
		} else {
			n = intersect(set, n, u, nu);
			free(u);
		}
		if (n == 0)
			break;
	}
	*uids_r = set;
	*n_r = n;
	return 0;
}

static int search_folder(struct search_run *r, struct index_mailbox *mbox, uint32_t pos)
{
	struct index_view v;
	struct fts_folder fs;
	uint32_t *uids = NULL;
	size_t n = 0, k = 0;
	int rc = 0;

	if (mail_index_sync(r->idx, mbox, &v) < 0)
		return -1;
	if (fts_folder_sync(r->f, mbox, &v, r->budget, &fs) < 0) {
		index_view_free(&v);
		return -1;
	}
	r->budget -= fs.indexed < r->budget ? fs.indexed : r->budget;
	r->fids[pos] = fs.fid;
	r->partial |= fs.missing > 0;
	if (r->nwords > 0 && folder_matches(r, fs.fid, &uids, &n) < 0)
		rc = -1;
	for (size_t i = 0; rc == 0 && i < v.count; i++) {
		const struct index_msg *m = &v.msgs[i];

		if (r->nwords > 0) {
			while (k < n && uids[k] < m->uid)
				k++;
			if (k == n || uids[k] != m->uid)
				continue;
		}
		if ((r->q->since != 0 && m->internaldate < r->q->since) ||
		    (r->q->before != 0 && m->internaldate >= r->q->before))
			continue;
		rc = hits_add(r, pos, m);
	}
	free(uids);
	fts_folder_free(&fs);
	index_view_free(&v);
	return rc;
}

static int hit_cmp(const void *a, const void *b)
{
	const struct hit *x = a, *y = b;

	if (x->date != y->date)
		return x->date > y->date ? -1 : 1;
	if (x->folder != y->folder)
		return x->folder < y->folder ? -1 : 1;
	return x->uid > y->uid ? -1 : x->uid < y->uid ? 1 : 0;
}

/* The query's words, each with its field. */
static int query_words(const struct ops_mail_search_query *q, struct word *w, size_t *n_r, struct ops_error *err)
{
	const struct {
		const char *text, *name;
		enum fts_field field;
	} params[] = { { q->q, "q", FTS_ANY }, { q->from, "from", FTS_FROM }, { q->to, "to", FTS_TOCC },
		       { q->subject, "subject", FTS_SUBJECT }, { q->body, "body", FTS_BODY } };
	const char *ws[OPS_SEARCH_WORDS_MAX];
	size_t lens[OPS_SEARCH_WORDS_MAX], n = 0;

	for (size_t i = 0; i < sizeof(params) / sizeof(params[0]); i++) {
		int k;

		if (params[i].text == NULL)
			continue;
		if (strlen(params[i].text) > OPS_SEARCH_TEXT_MAX)
			return ops_fail(err, "invalid_field", params[i].name, "%s: at most %d bytes",
					"%s: %d バイトまでです", params[i].name, OPS_SEARCH_TEXT_MAX);
		k = ops_mail_search_words(params[i].text, ws, lens, OPS_SEARCH_WORDS_MAX - n);
		if (k < 0)
			return ops_fail(err, "invalid_field", params[i].name, "at most %d words in all",
					"単語は全部で %d 個までです", OPS_SEARCH_WORDS_MAX);
		for (int j = 0; j < k; j++)
			w[n++] = (struct word){ params[i].field, ws[j], lens[j] };
	}
	*n_r = n;
	return 0;
}

/* The actor's own Maildir root. */
static int search_root(struct ops *o, const struct ops_actor *actor, char *root, size_t size,
		       struct ops_error *err)
{
	struct dir_account a;
	char data[PATH_MAX];

	if (ops_actor_role(actor) != OPS_ACTOR_USER)
		return ops_fail(err, "forbidden", NULL, "only a mail user searches its own mailbox",
				"メールボックスを検索できるのはそのメールユーザーだけです");
	if (ops_account_get(o, actor, actor->name, &a, err) < 0)
		return -1;
	if (realpath(o->data, data) == NULL)
		return ops_fail(err, "internal", NULL, "%s: %s", "%s: %s", o->data, strerror(errno));
	if (maildir_path(root, size, data, a.domain, a.local) < 0)
		return ops_fail(err, "internal", NULL, "the mailbox path is too long",
				"メールボックスのパスが長すぎます");
	return 0;
}

static void run_free(struct search_run *r, struct folders *fl)
{
	for (size_t i = 0; i < r->nhits; i++)
		free(r->hits[i].keywords);
	free(r->hits);
	free(r->fids);
	free(fl->list);
	fts_close(r->f);
	if (r->idx != NULL)
		mail_index_release(r->idx);
}

/* Calls cb with the page's hits. */
static void search_page(struct search_run *r, const struct folders *fl, ops_mail_hit_cb *cb, void *ctx)
{
	const struct ops_mail_search_query *q = r->q;
	struct fts_summary sum;

	for (size_t i = q->offset; i < r->nhits && i - q->offset < q->limit; i++) {
		const struct hit *h = &r->hits[i];
		const struct index_mailbox *mb = &fl->list[h->folder];
		struct ops_mail_hit out = { mb->name, h->uid, h->date, h->size, h->flags,
					    h->keywords != NULL ? h->keywords : "", &sum };
		int64_t fid = r->fids[h->folder];

		if (fid == 0 || fts_summary_get(r->f, fid, h->uid, &sum) != 1)
			memset(&sum, 0, sizeof(sum));
		cb(&out, ctx);
	}
}

int ops_mail_search(struct ops *o, const struct ops_actor *actor, const struct ops_mail_search_query *q,
		    ops_mail_hit_cb *cb, void *ctx, size_t *total_r, bool *partial_r, struct ops_error *err)
{
	struct word words[OPS_SEARCH_WORDS_MAX];
	struct search_run r = { 0 };
	struct folders fl = { 0 };
	char root[4096], e[256];
	int rc = 0;

	memset(err, 0, sizeof(*err));
	*total_r = 0;
	*partial_r = false;
	r.q = q;
	r.words = words;
	r.budget = FTS_SYNC_MAX;
	if (search_root(o, actor, root, sizeof(root), err) < 0 || query_words(q, words, &r.nwords, err) < 0)
		return -1;
	if (q->limit == 0 || q->limit > OPS_SEARCH_LIMIT_MAX || q->offset > OPS_SEARCH_OFFSET_MAX)
		return ops_fail(err, "invalid_field", q->limit == 0 || q->limit > OPS_SEARCH_LIMIT_MAX ? "limit" : "offset",
				"limit 1 to %d, offset at most %d", "limit は 1〜%d、offset は %d までです",
				OPS_SEARCH_LIMIT_MAX, OPS_SEARCH_OFFSET_MAX);
	r.idx = mail_index_acquire(root, e, sizeof(e));
	r.f = r.idx != NULL ? fts_open(root, e, sizeof(e)) : NULL;
	if (r.f == NULL) {
		run_free(&r, &fl);
		return ops_fail(err, "internal", NULL, "cannot open the mailbox: %s", "メールボックスを開けません: %s", e);
	}
	if (q->folder != NULL) {
		struct index_mailbox mb;
		int got = mail_index_mailbox_get(r.idx, q->folder, &mb);
		if (got == 1)
			folder_collect(&mb, &fl);
		else
			rc = ops_fail(err, got == 0 ? "not_found" : "internal", "folder", "no such folder: %s",
				      "フォルダ %s はありません", q->folder);
	} else if (mail_index_mailbox_list(r.idx, folder_collect, &fl) < 0) {
		rc = ops_fail(err, "internal", NULL, "cannot list the folders", "フォルダの一覧を読めません");
	}
	if (rc == 0 && q->folder == NULL && !fl.overflow) {
		/* rows of folders deleted or renamed since go */
		const char **names = calloc(fl.n > 0 ? fl.n : 1, sizeof(*names));
		for (size_t i = 0; names != NULL && i < fl.n; i++)
			names[i] = fl.list[i].name;
		if (names != NULL)
			fts_folders_prune(r.f, names, fl.n);
		free(names);
	}
	r.fids = calloc(fl.n > 0 ? fl.n : 1, sizeof(*r.fids));
	if (rc == 0 && r.fids == NULL)
		rc = ops_fail(err, "internal", NULL, "out of memory", "メモリ不足です");
	for (size_t i = 0; rc == 0 && i < fl.n; i++) {
		if (search_folder(&r, &fl.list[i], (uint32_t)i) < 0)
			rc = ops_fail(err, "internal", NULL, "cannot search the folder %s",
				      "フォルダ %s を検索できません", fl.list[i].name);
	}
	if (rc == 0) {
		if (r.nhits > 1)
			qsort(r.hits, r.nhits, sizeof(*r.hits), hit_cmp);
		*total_r = r.nhits;
		*partial_r = r.partial || fl.overflow;
		search_page(&r, &fl, cb, ctx);
	}
	run_free(&r, &fl);
	return rc;
}
