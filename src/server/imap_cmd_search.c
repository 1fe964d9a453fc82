/* SEARCH and UID SEARCH (RFC 3501 6.4.4 / RFC 9051 6.4.4) with ESEARCH
 * RETURN options (RFC 4731) and CONDSTORE MODSEQ. Text keys compare
 * case-insensitively against the decoded text (RFC 2047 words, charsets,
 * transfer encodings), so Japanese subjects are found by their words. */
#include "server/imap_session.h"
#include "server/imap_msgset.h"
#include "mail/header.h"
#include "proto/imap_date.h"
#include "proto/imap_search.h"
#include "proto/imap_sort.h"
#include "mail/imap_envelope.h"
#include "mail/rfc2047.h"
#include "mail/mail_text.h"
#include "lib/log.h"
#include "lib/str.h"
#include "store/fts.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* The text keys the full-text index answers (store/fts.c), for the
 * messages it holds completely; every other message is read. */
#define SEARCH_FTS_KEYS 16

struct search_fts {
	struct fts_index *f;
	struct fts_folder fs;
	const struct index_view *v;
	size_t nkeys;
	struct {
		const struct imap_search_key *k;
		uint32_t *uids;	/* ascending */
		size_t n;
	} keys[SEARCH_FTS_KEYS];
};

struct search_msg {
	struct imap_session *s;
	const struct index_msg *m;
	const struct search_fts *fts;	/* NULL: no index */
	size_t seq;
	char *data;		/* the file, read on first need */
	size_t len;
	bool whole;		/* data is the whole file, not just its start */
	bool read_failed;
	struct strbuf text;	/* decoded header+body text, for TEXT/BODY */
	bool text_done;
};

/* The whole message file. */
static bool search_load(struct search_msg *sm)
{
	if (sm->data != NULL && !sm->whole) {
		free(sm->data);
		sm->data = NULL;
	}
	if (sm->data == NULL && !sm->read_failed) {
		sm->data = imap_msg_load(sm->s, sm->m, false, &sm->len, &sm->whole);
		sm->read_failed = sm->data == NULL;
	}
	return sm->data != NULL;
}

/* At least the message's header (header keys need no more). */
static bool search_load_header(struct search_msg *sm)
{
	if (sm->data == NULL && !sm->read_failed) {
		sm->data = imap_msg_load(sm->s, sm->m, true, &sm->len, &sm->whole);
		sm->read_failed = sm->data == NULL;
	}
	return sm->data != NULL;
}

/* Case-insensitive substring search: ASCII letters fold, other bytes
 * (UTF-8) compare as they are. */
static bool text_contains(const char *hay, size_t hlen, const char *needle, size_t nlen)
{
	if (nlen == 0)
		return true;
	for (size_t i = 0; i + nlen <= hlen; i++) {
		size_t j = 0;
		while (j < nlen && tolower((unsigned char)hay[i + j]) == tolower((unsigned char)needle[j]))
			j++;
		if (j == nlen)
			return true;
	}
	return false;
}

/* Does any field called name contain the text (decoded)? An empty text
 * matches any message that has the field. */
static bool header_contains(struct search_msg *sm, const char *name, const char *str, size_t len)
{
	struct mail_header_iter it;
	struct mail_header_field f;
	struct strbuf dec = STRBUF_INIT;
	size_t hdr;
	bool found = false;

	if (!search_load_header(sm))
		return false;
	hdr = mail_header_block_size(sm->data, sm->len);
	mail_header_iter_init(&it, sm->data, hdr);
	while (!found && mail_header_iter_next(&it, &f)) {
		if (!mail_header_field_is(&f, name))
			continue;
		strbuf_truncate(&dec, 0);
		imap_header_decode(f.value, f.value_len, &dec);
		found = text_contains(dec.data != NULL ? dec.data : "", dec.len, str, len);
	}
	strbuf_free(&dec);
	return found;
}

struct addr_match {
	const char *str;
	size_t len;
	bool found;
};

static bool addr_match_cb(const char *text, size_t len, void *ctx)
{
	struct addr_match *am = ctx;

	am->found = text_contains(text, len, am->str, am->len);
	return !am->found;
}

/* SEARCH FROM/TO/CC/BCC (RFC 3501 6.4.4): the text in any address of the
 * field as ENVELOPE shows it; a field with no address at all is searched
 * as text (mail_text_addresses, which the search index uses too). */
static bool address_contains(struct search_msg *sm, const char *name, const char *str, size_t len)
{
	struct addr_match am = { str, len, false };

	if (len == 0)
		return header_contains(sm, name, str, len);
	if (!search_load_header(sm))
		return false;
	mail_text_addresses(sm->data, mail_header_block_size(sm->data, sm->len), name, addr_match_cb, &am);
	return am.found;
}

static const char *search_text(struct search_msg *sm, bool body_only, size_t *len_r)
{
	if (!search_load(sm))
		return NULL;
	if (!sm->text_done) {
		imap_message_text(sm->data, sm->len, &sm->text);
		sm->text_done = true;
	}
	/* imap_message_text puts the decoded header first, then a NUL byte,
	 * then the decoded body text. */
	if (body_only) {
		const char *nul = sm->text.data != NULL ? memchr(sm->text.data, '\0', sm->text.len) : NULL;
		if (nul == NULL) {
			*len_r = 0;
			return "";
		}
		*len_r = sm->text.len - (size_t)(nul + 1 - sm->text.data);
		return nul + 1;
	}
	*len_r = sm->text.len;
	return sm->text.data != NULL ? sm->text.data : "";
}

/* The Date: header's calendar date, disregarding time and zone. */
static bool sent_date(struct search_msg *sm, struct imap_date *date_r)
{
	static const char *const months[] = { "jan", "feb", "mar", "apr", "may", "jun",
					      "jul", "aug", "sep", "oct", "nov", "dec" };
	struct mail_header_field f;
	struct strbuf v = STRBUF_INIT;
	char mon[4] = "";
	const char *p;
	int day, year;
	bool ok = false;

	if (!search_load_header(sm) || !mail_header_find(sm->data, mail_header_block_size(sm->data, sm->len),
						  "Date", &f))
		return false;
	mail_header_unfold(f.value, f.value_len, &v);
	p = strbuf_cstr(&v);
	if (strchr(p, ',') != NULL)
		p = strchr(p, ',') + 1;
	if (sscanf(p, "%d %3s %d", &day, mon, &year) == 3) {
		for (int i = 0; i < 12; i++) {
			if (strcasecmp(mon, months[i]) == 0) {
				date_r->year = year < 100 ? year + (year < 50 ? 2000 : 1900) : year;
				date_r->month = i + 1;
				date_r->day = day;
				ok = day >= 1 && day <= 31;
			}
		}
	}
	strbuf_free(&v);
	return ok;
}

static void internal_date(const struct index_msg *m, struct imap_date *date_r)
{
	time_t t = (time_t)m->internaldate;
	struct tm tm;

	gmtime_r(&t, &tm);
	date_r->year = tm.tm_year + 1900;
	date_r->month = tm.tm_mon + 1;
	date_r->day = tm.tm_mday;
}

/* The index's answer for a text key: 1 the message matches, 0 it does
 * not, -1 the index cannot tell (the message is read then). */
static int search_fts_answer(const struct search_msg *sm, const struct imap_search_key *k)
{
	const struct search_fts *fts = sm->fts;
	size_t pos;

	if (fts == NULL)
		return -1;
	pos = (size_t)(sm->m - fts->v->msgs);
	if (pos >= fts->v->count || !fts->fs.exact[pos])
		return -1;
	for (size_t i = 0; i < fts->nkeys; i++) {
		size_t lo = 0, hi = fts->keys[i].n;

		if (fts->keys[i].k != k)
			continue;
		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;
			if (fts->keys[i].uids[mid] < sm->m->uid)
				lo = mid + 1;
			else
				hi = mid;
		}
		return lo < fts->keys[i].n && fts->keys[i].uids[lo] == sm->m->uid;
	}
	return -1;
}

static bool search_match(struct search_msg *sm, const struct imap_search_key *k)
{
	const struct index_msg *m = sm->m;
	struct imap_date d;
	size_t tlen;
	const char *t;
	int cmp;

	switch (k->type) {
	case IMAP_SEARCH_ALL: return true;
	case IMAP_SEARCH_AND:
		for (size_t i = 0; i < k->count; i++) {
			if (!search_match(sm, &k->children[i]))
				return false;
		}
		return true;
	case IMAP_SEARCH_OR:
		return search_match(sm, &k->children[0]) || search_match(sm, &k->children[1]);
	case IMAP_SEARCH_NOT: return !search_match(sm, &k->children[0]);
	case IMAP_SEARCH_SEQSET:
		return imap_seqset_contains(&k->seqset, (uint32_t)sm->seq, (uint32_t)sm->s->nview);
	case IMAP_SEARCH_UID:
		return imap_seqset_contains(&k->seqset, m->uid,
					    sm->s->nview > 0 ? sm->s->view[sm->s->nview - 1].uid : 0);
	case IMAP_SEARCH_ANSWERED: return m->flags & INDEX_FLAG_ANSWERED;
	case IMAP_SEARCH_DELETED: return m->flags & INDEX_FLAG_DELETED;
	case IMAP_SEARCH_DRAFT: return m->flags & INDEX_FLAG_DRAFT;
	case IMAP_SEARCH_FLAGGED: return m->flags & INDEX_FLAG_FLAGGED;
	case IMAP_SEARCH_SEEN: return m->flags & INDEX_FLAG_SEEN;
	case IMAP_SEARCH_UNANSWERED: return !(m->flags & INDEX_FLAG_ANSWERED);
	case IMAP_SEARCH_UNDELETED: return !(m->flags & INDEX_FLAG_DELETED);
	case IMAP_SEARCH_UNDRAFT: return !(m->flags & INDEX_FLAG_DRAFT);
	case IMAP_SEARCH_UNFLAGGED: return !(m->flags & INDEX_FLAG_FLAGGED);
	case IMAP_SEARCH_UNSEEN: return !(m->flags & INDEX_FLAG_SEEN);
	case IMAP_SEARCH_RECENT: return sm->s->view[sm->seq - 1].recent;
	case IMAP_SEARCH_NEW: return sm->s->view[sm->seq - 1].recent && !(m->flags & INDEX_FLAG_SEEN);
	case IMAP_SEARCH_OLD: return !sm->s->view[sm->seq - 1].recent;
	case IMAP_SEARCH_KEYWORD:
	case IMAP_SEARCH_UNKEYWORD: {
		bool has = false;
		size_t len = strlen(k->str);
		for (const char *p = m->keywords; *p != '\0' && !has;) {
			const char *sp = strchr(p, ' ');
			size_t l = sp != NULL ? (size_t)(sp - p) : strlen(p);
			has = l == len && strncasecmp(p, k->str, len) == 0;
			p += l + (sp != NULL);
		}
		return k->type == IMAP_SEARCH_KEYWORD ? has : !has;
	}
	case IMAP_SEARCH_BCC: return address_contains(sm, "Bcc", k->str, k->str_len);
	default: break;
	}
	if ((cmp = search_fts_answer(sm, k)) >= 0)
		return cmp == 1;
	switch (k->type) {
	case IMAP_SEARCH_CC: return address_contains(sm, "Cc", k->str, k->str_len);
	case IMAP_SEARCH_FROM: return address_contains(sm, "From", k->str, k->str_len);
	case IMAP_SEARCH_TO: return address_contains(sm, "To", k->str, k->str_len);
	case IMAP_SEARCH_SUBJECT: return header_contains(sm, "Subject", k->str, k->str_len);
	case IMAP_SEARCH_HEADER: return header_contains(sm, k->header, k->str, k->str_len);
	case IMAP_SEARCH_BODY:
	case IMAP_SEARCH_TEXT:
		t = search_text(sm, k->type == IMAP_SEARCH_BODY, &tlen);
		return t != NULL && text_contains(t, tlen, k->str, k->str_len);
	case IMAP_SEARCH_BEFORE:
	case IMAP_SEARCH_ON:
	case IMAP_SEARCH_SINCE:
		internal_date(m, &d);
		cmp = imap_date_cmp(&d, &k->date);
		return k->type == IMAP_SEARCH_BEFORE ? cmp < 0 : k->type == IMAP_SEARCH_ON ? cmp == 0 : cmp >= 0;
	case IMAP_SEARCH_SENTBEFORE:
	case IMAP_SEARCH_SENTON:
	case IMAP_SEARCH_SENTSINCE:
		if (!sent_date(sm, &d))
			return false;
		cmp = imap_date_cmp(&d, &k->date);
		return k->type == IMAP_SEARCH_SENTBEFORE ? cmp < 0
		       : k->type == IMAP_SEARCH_SENTON ? cmp == 0 : cmp >= 0;
	case IMAP_SEARCH_LARGER: return m->size > k->number;
	case IMAP_SEARCH_SMALLER: return m->size < k->number;
	case IMAP_SEARCH_MODSEQ: return m->modseq >= k->number;
	default: break;
	}
	return false;
}

static enum fts_field search_fts_field(enum imap_search_type t)
{
	switch (t) {
	case IMAP_SEARCH_TEXT: return FTS_TEXT;
	case IMAP_SEARCH_BODY: return FTS_BODY;
	case IMAP_SEARCH_SUBJECT: return FTS_SUBJECT;
	case IMAP_SEARCH_FROM: return FTS_FROM;
	case IMAP_SEARCH_TO: return FTS_TO;
	case IMAP_SEARCH_CC: return FTS_CC;
	default: return FTS_ANY;
	}
}

/* Collects the keys the index can answer exactly (fts_needle_is_exact). */
static void search_fts_keys(struct search_fts *fts, const struct imap_search_key *k)
{
	if (k->children != NULL) {
		for (size_t i = 0; i < k->count; i++)
			search_fts_keys(fts, &k->children[i]);
		return;
	}
	if (search_fts_field(k->type) != FTS_ANY && fts->nkeys < SEARCH_FTS_KEYS &&
	    fts_needle_is_exact(k->str, k->str_len))
		fts->keys[fts->nkeys++].k = k;
}

static void search_fts_free(struct search_fts *fts)
{
	if (fts == NULL)
		return;
	for (size_t i = 0; i < fts->nkeys; i++)
		free(fts->keys[i].uids);
	fts_folder_free(&fts->fs);
	fts_close(fts->f);
	free(fts);
}

/* The index's answers to the search's text keys, after bringing the
 * folder's rows in line with the view; NULL when there are none to give
 * (no such key, the index switched off or failing: every message is
 * read, as without an index). */
static struct search_fts *search_fts_prepare(struct imap_session *s, const struct index_view *v,
					     const struct imap_search *q)
{
	struct search_fts *fts;
	char err[256];

	if (!s->search_index)
		return NULL;
	fts = calloc(1, sizeof(*fts));
	if (fts == NULL)
		return NULL;
	fts->v = v;
	search_fts_keys(fts, &q->root);
	if (fts->nkeys == 0) {
		free(fts);
		return NULL;
	}
	fts->f = fts_open(s->root, err, sizeof(err));
	if (fts->f == NULL) {
		log_warn(s->sid, "search index: %s", err);
		search_fts_free(fts);
		return NULL;
	}
	if (fts_folder_sync(fts->f, &s->mbox, v, FTS_SYNC_MAX, &fts->fs) < 0) {
		search_fts_free(fts);
		return NULL;
	}
	for (size_t i = 0; i < fts->nkeys; i++) {
		const struct imap_search_key *k = fts->keys[i].k;
		if (fts_folder_match(fts->f, fts->fs.fid, search_fts_field(k->type), k->str, k->str_len,
				     &fts->keys[i].uids, &fts->keys[i].n) < 0) {
			search_fts_free(fts);
			return NULL;
		}
	}
	return fts;
}

/* The view positions (0-based) of the messages matching q, ascending;
 * malloc'd, *n_r of them. */
static uint32_t *search_collect(struct imap_session *s, const struct index_view *v,
				const struct imap_search *q, size_t *n_r, uint64_t *maxmodseq_r)
{
	uint32_t *hits = calloc(s->nview > 0 ? s->nview : 1, sizeof(*hits));
	struct search_fts *fts = search_fts_prepare(s, v, q);
	size_t n = 0;

	*maxmodseq_r = 0;
	for (size_t i = 0, vi = 0; hits != NULL && i < s->nview; i++) {
		struct search_msg sm = { s, NULL, fts, i + 1, NULL, 0, false, false, STRBUF_INIT, false };

		/* both ascend by UID: one walk instead of a lookup each */
		while (vi < v->count && v->msgs[vi].uid < s->view[i].uid)
			vi++;
		if (vi == v->count || v->msgs[vi].uid != s->view[i].uid)
			continue;
		sm.m = &v->msgs[vi];
		if (search_match(&sm, &q->root)) {
			hits[n++] = (uint32_t)i;
			if (sm.m->modseq > *maxmodseq_r)
				*maxmodseq_r = sm.m->modseq;
		}
		free(sm.data);
		strbuf_free(&sm.text);
	}
	search_fts_free(fts);
	*n_r = n;
	return hits;
}

void imap_cmd_search(struct imap_session *s, const struct imap_command *cmd)
{
	struct imap_search q;
	struct index_view v;
	const char *error;
	uint32_t *hits;
	size_t nhits = 0;
	uint64_t maxmodseq = 0;

	if (imap_search_parse(cmd->args, cmd->count, imap_parser_arena(s->parser), &q, &error) < 0) {
		imap_tagged(s, cmd, "BAD", "%s", error);
		return;
	}
	if (q.charset != NULL && strcasecmp(q.charset, "UTF-8") != 0 && strcasecmp(q.charset, "US-ASCII") != 0) {
		imap_tagged(s, cmd, "NO", "[BADCHARSET (UTF-8 US-ASCII)] Unsupported charset");
		return;
	}
	if (mail_index_sync(s->idx, &s->mbox, &v) < 0) {
		imap_tagged(s, cmd, "NO", "[SERVERBUG] Cannot read the mailbox");
		return;
	}
	if (q.uses_modseq)
		imap_condstore_enable(s, v.highestmodseq);
	imap_view_update(s, &v, cmd->uid);
	hits = search_collect(s, &v, &q, &nhits, &maxmodseq);
	/* With only MIN and/or MAX returned, MODSEQ is the highest of those
	 * messages (RFC 7162 3.1.5). */
	if (q.has_return && nhits > 0 && q.return_opts != 0 &&
	    !(q.return_opts & (IMAP_SEARCH_RETURN_ALL | IMAP_SEARCH_RETURN_COUNT))) {
		uint64_t lo = s->view[hits[0]].modseq, hi = s->view[hits[nhits - 1]].modseq;

		maxmodseq = 0;
		if ((q.return_opts & IMAP_SEARCH_RETURN_MIN) && lo > maxmodseq)
			maxmodseq = lo;
		if ((q.return_opts & IMAP_SEARCH_RETURN_MAX) && hi > maxmodseq)
			maxmodseq = hi;
	}
	for (size_t i = 0; hits != NULL && i < nhits; i++)
		hits[i] = cmd->uid ? s->view[hits[i]].uid : hits[i] + 1;
	if (q.has_return) {
		unsigned opts = q.return_opts != 0 ? q.return_opts : IMAP_SEARCH_RETURN_ALL;
		strbuf_printf(&s->out, "* ESEARCH (TAG \"%s\")%s", cmd->tag, cmd->uid ? " UID" : "");
		if ((opts & IMAP_SEARCH_RETURN_MIN) && nhits > 0)
			strbuf_printf(&s->out, " MIN %u", hits[0]);
		if ((opts & IMAP_SEARCH_RETURN_MAX) && nhits > 0)
			strbuf_printf(&s->out, " MAX %u", hits[nhits - 1]);
		if (opts & IMAP_SEARCH_RETURN_COUNT)
			strbuf_printf(&s->out, " COUNT %zu", nhits);
		if ((opts & IMAP_SEARCH_RETURN_ALL) && nhits > 0) {
			strbuf_append_str(&s->out, " ALL ");
			for (size_t i = 0; i < nhits;) {
				size_t j = i;
				while (j + 1 < nhits && hits[j + 1] == hits[j] + 1)
					j++;
				strbuf_printf(&s->out, "%s%u", i > 0 ? "," : "", hits[i]);
				if (j > i)
					strbuf_printf(&s->out, ":%u", hits[j]);
				i = j + 1;
			}
		}
		if (q.uses_modseq && nhits > 0)
			strbuf_printf(&s->out, " MODSEQ %llu", (unsigned long long)maxmodseq);
		strbuf_append_str(&s->out, "\r\n");
	} else {
		strbuf_append_str(&s->out, "* SEARCH");
		for (size_t i = 0; i < nhits; i++)
			strbuf_printf(&s->out, " %u", hits[i]);
		if (q.uses_modseq && nhits > 0)
			strbuf_printf(&s->out, " (MODSEQ %llu)", (unsigned long long)maxmodseq);
		strbuf_append_str(&s->out, "\r\n");
	}
	free(hits);
	index_view_free(&v);
	imap_tagged(s, cmd, "OK", "%sSEARCH completed", cmd->uid ? "UID " : "");
}

/* ---- SORT and THREAD (RFC 5256, RFC 5957 DISPLAYFROM/DISPLAYTO) ---- */

/* Strings of one message for sorting and threading, owned here. */
struct sort_strings {
	char base[512];
	struct strbuf from, to, cc, dfrom, dto, msgid, refs;
};

static void header_value(const char *hdr, size_t size, const char *name, struct strbuf *out)
{
	struct mail_header_field f;

	if (mail_header_find(hdr, size, name, &f))
		mail_header_unfold(f.value, f.value_len, out);
}

/* addr-mailbox of the first address, and the RFC 5957 display form: the
 * decoded display name, else the address itself. */
static void sort_address(const char *hdr, size_t size, const char *name, struct strbuf *mailbox,
			 struct strbuf *display)
{
	struct strbuf v = STRBUF_INIT, dn = STRBUF_INIT, host = STRBUF_INIT;

	header_value(hdr, size, name, &v);
	if (v.len > 0 && imap_first_address(v.data, v.len, &dn, mailbox, &host) && display != NULL) {
		if (dn.len > 0)
			rfc2047_decode(dn.data, dn.len, display);
		else if (host.len == 0)
			strbuf_append_str(display, strbuf_cstr(mailbox));	/* a group's name */
		else
			strbuf_printf(display, "%s@%s", strbuf_cstr(mailbox), strbuf_cstr(&host));
	}
	strbuf_free(&v);
	strbuf_free(&dn);
	strbuf_free(&host);
}

static void sort_msg_fill(struct imap_session *s, const struct index_msg *m, uint32_t seq,
			  struct imap_sort_msg *out, struct sort_strings *st)
{
	size_t len = 0, hsize;
	bool whole;
	char *data = imap_msg_load(s, m, true, &len, &whole);
	const char *hdr = data != NULL ? data : "";
	struct strbuf subj = STRBUF_INIT, dec = STRBUF_INIT, date = STRBUF_INIT;

	memset(st, 0, sizeof(*st));
	hsize = data != NULL ? mail_header_block_size(data, len) : 0;
	header_value(hdr, hsize, "Subject", &subj);
	rfc2047_decode(strbuf_cstr(&subj), subj.len, &dec);
	memset(out, 0, sizeof(*out));
	imap_base_subject(strbuf_cstr(&dec), st->base, sizeof(st->base), &out->subject_is_reply);
	header_value(hdr, hsize, "Date", &date);
	if (date.len == 0 || mail_date_parse(date.data, date.len, &out->date) < 0)
		out->date = m->internaldate;
	sort_address(hdr, hsize, "From", &st->from, &st->dfrom);
	sort_address(hdr, hsize, "To", &st->to, &st->dto);
	sort_address(hdr, hsize, "Cc", &st->cc, NULL);
	header_value(hdr, hsize, "Message-ID", &st->msgid);
	header_value(hdr, hsize, "References", &st->refs);
	if (st->refs.len == 0) {
		/* In-Reply-To stands in; only its first message id counts */
		struct strbuf irt = STRBUF_INIT;
		const char *lt, *gt;
		header_value(hdr, hsize, "In-Reply-To", &irt);
		lt = strchr(strbuf_cstr(&irt), '<');
		gt = lt != NULL ? strchr(lt, '>') : NULL;
		if (gt != NULL)
			strbuf_append(&st->refs, lt, (size_t)(gt - lt) + 1);
		strbuf_free(&irt);
	}
	out->seq = seq;
	out->uid = m->uid;
	out->arrival = m->internaldate;
	out->size = m->size;
	out->base_subject = st->base;
	out->from = strbuf_cstr(&st->from);
	out->to = strbuf_cstr(&st->to);
	out->cc = strbuf_cstr(&st->cc);
	out->display_from = strbuf_cstr(&st->dfrom);
	out->display_to = strbuf_cstr(&st->dto);
	out->message_id = strbuf_cstr(&st->msgid);
	out->references = strbuf_cstr(&st->refs);
	strbuf_free(&subj);
	strbuf_free(&dec);
	strbuf_free(&date);
	free(data);
}

static void sort_strings_free(struct sort_strings *st, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		strbuf_free(&st[i].from);
		strbuf_free(&st[i].to);
		strbuf_free(&st[i].cc);
		strbuf_free(&st[i].dfrom);
		strbuf_free(&st[i].dto);
		strbuf_free(&st[i].msgid);
		strbuf_free(&st[i].refs);
	}
	free(st);
}

/* SORT (criteria) charset keys / THREAD algorithm charset keys: the
 * search, then the sort items of the hits. n_r 0 and NULL on error (the
 * tagged reply is given). */
static struct imap_sort_msg *sort_prepare(struct imap_session *s, const struct imap_command *cmd,
					  size_t skip, struct sort_strings **st_r, size_t *n_r)
{
	struct imap_search q;
	struct index_view v;
	struct imap_sort_msg *msgs;
	const struct imap_arg *cs = &cmd->args[skip - 1];
	const char *error;
	uint32_t *hits;
	uint64_t maxmodseq;
	size_t nhits = 0;

	*n_r = 0;
	*st_r = NULL;
	if ((cs->type != IMAP_ARG_ATOM && cs->type != IMAP_ARG_STRING) || cs->str == NULL) {
		imap_tagged(s, cmd, "BAD", "Missing charset");
		return NULL;
	}
	if (strcasecmp(cs->str, "UTF-8") != 0 && strcasecmp(cs->str, "US-ASCII") != 0) {
		imap_tagged(s, cmd, "NO", "[BADCHARSET (UTF-8 US-ASCII)] Unsupported charset");
		return NULL;
	}
	if (cmd->count <= skip) {
		imap_tagged(s, cmd, "BAD", "Missing search criteria");
		return NULL;
	}
	if (imap_search_parse(cmd->args + skip, cmd->count - skip, imap_parser_arena(s->parser), &q,
			      &error) < 0 || q.has_return || q.charset != NULL) {
		imap_tagged(s, cmd, "BAD", "%s", q.has_return || q.charset != NULL ?
			    "RETURN and CHARSET are not search keys here" : error);
		return NULL;
	}
	if (mail_index_sync(s->idx, &s->mbox, &v) < 0) {
		imap_tagged(s, cmd, "NO", "[SERVERBUG] Cannot read the mailbox");
		return NULL;
	}
	imap_view_update(s, &v, cmd->uid);
	hits = search_collect(s, &v, &q, &nhits, &maxmodseq);
	msgs = calloc(nhits > 0 ? nhits : 1, sizeof(*msgs));
	*st_r = calloc(nhits > 0 ? nhits : 1, sizeof(**st_r));
	if (hits == NULL || msgs == NULL || *st_r == NULL) {
		free(hits);
		free(msgs);
		free(*st_r);
		*st_r = NULL;
		index_view_free(&v);
		imap_tagged(s, cmd, "NO", "[SERVERBUG] Out of memory");
		return NULL;
	}
	for (size_t i = 0; i < nhits; i++) {
		const struct index_msg *m = imap_index_find(&v, s->view[hits[i]].uid);
		if (m != NULL)
			sort_msg_fill(s, m, hits[i] + 1, &msgs[(*n_r)++], &(*st_r)[i]);
	}
	free(hits);
	index_view_free(&v);
	return msgs;
}

void imap_cmd_sort(struct imap_session *s, const struct imap_command *cmd)
{
	struct imap_sort_key keys[IMAP_SORT_KEYS_MAX];
	const char *atoms[IMAP_SORT_KEYS_MAX * 2];
	struct imap_sort_msg *msgs;
	struct sort_strings *st;
	const char *error;
	size_t nkeys, n, nat = 0;

	if (cmd->count < 3 || cmd->args[0].type != IMAP_ARG_LIST) {
		imap_tagged(s, cmd, "BAD", "Syntax: SORT (criteria) charset search-keys");
		return;
	}
	for (size_t i = 0; i < cmd->args[0].count; i++) {
		const struct imap_arg *a = &cmd->args[0].list[i];
		if (a->type != IMAP_ARG_ATOM || nat == sizeof(atoms) / sizeof(atoms[0])) {
			imap_tagged(s, cmd, "BAD", "Bad sort criteria");
			return;
		}
		atoms[nat++] = a->str;
	}
	if (imap_sort_criteria_parse(atoms, nat, keys, &nkeys, &error) < 0) {
		imap_tagged(s, cmd, "BAD", "%s", error);
		return;
	}
	msgs = sort_prepare(s, cmd, 2, &st, &n);
	if (msgs == NULL)
		return;
	imap_sort(msgs, n, keys, nkeys);
	strbuf_append_str(&s->out, "* SORT");
	for (size_t i = 0; i < n; i++)
		strbuf_printf(&s->out, " %u", cmd->uid ? msgs[i].uid : msgs[i].seq);
	strbuf_append_str(&s->out, "\r\n");
	free(msgs);
	sort_strings_free(st, n);
	imap_tagged(s, cmd, "OK", "%sSORT completed", cmd->uid ? "UID " : "");
}

void imap_cmd_thread(struct imap_session *s, const struct imap_command *cmd)
{
	enum imap_thread_algo algo;
	struct imap_sort_msg *msgs;
	struct sort_strings *st;
	size_t n;

	if (cmd->count < 3 || cmd->args[0].type != IMAP_ARG_ATOM) {
		imap_tagged(s, cmd, "BAD", "Syntax: THREAD algorithm charset search-keys");
		return;
	}
	if (strcasecmp(cmd->args[0].str, "REFERENCES") == 0) {
		algo = IMAP_THREAD_REFERENCES;
	} else if (strcasecmp(cmd->args[0].str, "ORDEREDSUBJECT") == 0) {
		algo = IMAP_THREAD_ORDEREDSUBJECT;
	} else {
		imap_tagged(s, cmd, "BAD", "Unknown threading algorithm");
		return;
	}
	msgs = sort_prepare(s, cmd, 2, &st, &n);
	if (msgs == NULL)
		return;
	strbuf_append_str(&s->out, "* THREAD ");
	imap_thread(msgs, n, algo, cmd->uid, &s->out);
	strbuf_append_str(&s->out, "\r\n");
	free(msgs);
	sort_strings_free(st, n);
	imap_tagged(s, cmd, "OK", "%sTHREAD completed", cmd->uid ? "UID " : "");
}
