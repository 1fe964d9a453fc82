/* The session's view of the selected mailbox kept in step with the index:
 * SELECT fills it, and every command's sync reports what other sessions
 * and deliveries changed (EXISTS, RECENT, FETCH FLAGS, EXPUNGE). A sync
 * asks the index only for what changed since the state the view last
 * saw (its version), so an unchanged mailbox costs the same at any size;
 * when the index cannot tell, the whole view is compared. */
#include "server/imap_session.h"
#include "server/imap_msgset.h"
#include "lib/log.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void imap_view_free(struct imap_session *s)
{
	strbuf_free(&s->keywords);
	free(s->view);
	s->view = NULL;
	s->nview = 0;
	s->view_version = 0;
}

void imap_uidset_append(struct strbuf *out, const uint32_t *uids, size_t n)
{
	for (size_t i = 0; i < n;) {
		size_t j = i;
		while (j + 1 < n && uids[j + 1] == uids[j] + 1)
			j++;
		strbuf_printf(out, "%s%u", i > 0 ? "," : "", uids[i]);
		if (j > i)
			strbuf_printf(out, ":%u", uids[j]);
		i = j + 1;
	}
}

/* Ranges per VANISHED response: a long history of expunges goes out in
 * lines of bounded length. */
#define IMAP_VANISHED_RANGES 1000

/* Adds the range lo..hi to the VANISHED (EARLIER) responses under way. */
static void vanished_range(struct imap_session *s, uint32_t lo, uint32_t hi, size_t *nranges)
{
	if (*nranges == IMAP_VANISHED_RANGES) {
		strbuf_append_str(&s->out, "\r\n");
		*nranges = 0;
	}
	strbuf_printf(&s->out, "%s%u", *nranges == 0 ? "* VANISHED (EARLIER) " : ",", lo);
	if (hi > lo)
		strbuf_printf(&s->out, ":%u", hi);
	(*nranges)++;
}

void imap_vanished_earlier(struct imap_session *s, const uint32_t (*ranges)[2], size_t n, uint32_t floor)
{
	size_t nranges = 0;
	bool any = false;

	for (size_t r = 0; r < n; r++) {
		uint32_t lo = ranges[r][0] > floor ? ranges[r][0] : floor + 1;
		uint32_t hi = ranges[r][1] < s->view_uidnext ? ranges[r][1] : s->view_uidnext - 1;
		bool found;
		size_t pos;

		if (s->view_uidnext == 0 || lo == 0 || lo > hi)
			continue;
		pos = imap_view_index_of_uid(s, lo, &found);
		while (lo <= hi) {
			uint32_t next = pos < s->nview ? s->view[pos].uid : 0;

			if (next == 0 || next > hi) {
				vanished_range(s, lo, hi, &nranges);
				any = true;
				break;
			}
			if (next > lo) {
				vanished_range(s, lo, next - 1, &nranges);
				any = true;
			}
			if (next == UINT32_MAX)
				break;
			lo = next + 1;
			pos++;
		}
	}
	if (any)
		strbuf_append_str(&s->out, "\r\n");
}

void imap_expunge_reply(struct imap_session *s, const struct imap_command *cmd)
{
	const char *what = cmd->uid ? "UID EXPUNGE" : "EXPUNGE";

	if (s->enabled_qresync)
		imap_tagged(s, cmd, "OK", "[HIGHESTMODSEQ %llu] %s completed",
			    (unsigned long long)s->mbox.highestmodseq, what);
	else
		imap_tagged(s, cmd, "OK", "%s completed", what);
}

/* Expunges the client hears of: "* n EXPUNGE" each, or, once it enabled
 * QRESYNC, one "* VANISHED uid-set" (RFC 7162 3.2.10) with the UIDs noted
 * here (ascending or not). */
struct imap_gone {
	uint32_t *uids;		/* NULL without QRESYNC, or without memory */
	size_t n;
};

static void gone_init(struct imap_session *s, struct imap_gone *g, size_t max)
{
	g->n = 0;
	g->uids = s->enabled_qresync ? malloc((max > 0 ? max : 1) * sizeof(*g->uids)) : NULL;
}

static void gone_note(struct imap_session *s, struct imap_gone *g, size_t seq, uint32_t uid)
{
	if (!s->enabled_qresync)
		imap_out(s, "* %zu EXPUNGE", seq);
	else if (g->uids != NULL)
		g->uids[g->n++] = uid;
	else
		imap_out(s, "* VANISHED %u", uid);	/* no memory for the set */
}

static int uid_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static void gone_flush(struct imap_session *s, struct imap_gone *g)
{
	if (g->n > 0) {
		qsort(g->uids, g->n, sizeof(*g->uids), uid_cmp);
		strbuf_append_str(&s->out, "* VANISHED ");
		imap_uidset_append(&s->out, g->uids, g->n);
		strbuf_append_str(&s->out, "\r\n");
	}
	free(g->uids);
	g->uids = NULL;
	g->n = 0;
}

/* Announced keywords are kept as " kw1 kw2 ... " for a cheap lookup;
 * past this size new ones are no longer announced. */
#define IMAP_KEYWORDS_ANNOUNCED_MAX 16384

static bool imap_keyword_known(const struct imap_session *s, const char *kw, size_t len)
{
	const char *p = s->keywords.data;
	size_t n = s->keywords.len;

	for (size_t i = 0; p != NULL && i + len + 1 < n; i++) {
		if (p[i] == ' ' && p[i + len + 1] == ' ' && strncasecmp(p + i + 1, kw, len) == 0)
			return true;
	}
	return false;
}

/* Adds the keywords of a space-separated list that the client has not
 * been told of; true when there were any. */
bool imap_keywords_add(struct imap_session *s, const char *keywords)
{
	bool added = false;

	while (keywords != NULL && *keywords != '\0') {
		size_t len = strcspn(keywords, " ");

		if (len > 0 && !imap_keyword_known(s, keywords, len) &&
		    s->keywords.len + len + 2 <= IMAP_KEYWORDS_ANNOUNCED_MAX) {
			if (s->keywords.len == 0)
				strbuf_append_c(&s->keywords, ' ');
			strbuf_append(&s->keywords, keywords, len);
			strbuf_append_c(&s->keywords, ' ');
			added = true;
		}
		keywords += len;
		keywords += strspn(keywords, " ");
	}
	return added;
}

/* FLAGS and PERMANENTFLAGS with the keywords in use (RFC 3501 7.2.6). */
void imap_keywords_announce(struct imap_session *s)
{
	size_t len = s->keywords.len;
	const char *kw = len > 2 ? s->keywords.data + 1 : "";
	int kwlen = len > 2 ? (int)(len - 2) : 0;
	const char *sep = kwlen > 0 ? " " : "";

	imap_out(s, "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft%s%.*s)", sep, kwlen, kw);
	if (s->readonly)
		imap_out(s, "* OK [PERMANENTFLAGS ()] Read-only mailbox");
	else
		imap_out(s, "* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft%s%.*s \\*)]"
			 " Flags permitted", sep, kwlen, kw);
}

void imap_condstore_enable(struct imap_session *s, uint64_t highestmodseq)
{
	if (s->enabled_condstore)
		return;
	s->enabled_condstore = true;
	if (s->state == IMAP_S_SELECTED)
		imap_out(s, "* OK [HIGHESTMODSEQ %llu] Highest", (unsigned long long)highestmodseq);
}

void imap_keywords_check(struct imap_session *s, const char *keywords)
{
	if (imap_keywords_add(s, keywords))
		imap_keywords_announce(s);
}

/* The lowest UID that is \Recent for this session among v's messages: a
 * read-write session claims the unclaimed ones, a read-only one only
 * shows them (RFC 3501 6.3.2). */
static uint32_t imap_recent_floor(struct imap_session *s, const struct index_view *v)
{
	uint32_t floor = v->uidnext;

	if (!s->readonly)
		return mail_index_recent_claim(&s->mbox, v->uidnext);
	for (size_t i = 0; i < v->count; i++) {
		if (v->msgs[i].recent && v->msgs[i].uid < floor)
			floor = v->msgs[i].uid;
	}
	return floor;
}

void imap_view_fill(struct imap_session *s, const struct index_view *v)
{
	uint32_t floor = imap_recent_floor(s, v);

	imap_view_free(s);
	s->view = calloc(v->count > 0 ? v->count : 1, sizeof(*s->view));
	for (size_t i = 0; s->view != NULL && i < v->count; i++) {
		s->view[i].uid = v->msgs[i].uid;
		s->view[i].flags = v->msgs[i].flags;
		s->view[i].modseq = v->msgs[i].modseq;
		s->view[i].recent = v->msgs[i].uid >= floor;
	}
	s->nview = s->view != NULL ? v->count : 0;
	s->view_uidnext = v->uidnext;
	s->view_version = s->view != NULL ? v->version : 0;
}

/* Reports a flag change of the message at view position i by another
 * session (its MODSEQ moved). */
static void imap_view_changed(struct imap_session *s, size_t i, const struct index_msg *m)
{
	if (m->modseq == s->view[i].modseq)
		return;
	imap_keywords_check(s, m->keywords);
	s->view[i].modseq = m->modseq;
	s->view[i].flags = m->flags;
	strbuf_printf(&s->out, "* %zu FETCH (FLAGS ", i + 1);
	imap_out_flags(s, m->flags, m->keywords, s->view[i].recent);
	if (s->enabled_condstore)
		strbuf_printf(&s->out, " MODSEQ (%llu)", (unsigned long long)m->modseq);
	imap_out(s, " UID %u)", m->uid);
}

/* Appends v's messages above the view's last UID (new ones). */
static void imap_view_grow(struct imap_session *s, const struct index_view *v)
{
	uint32_t last = s->nview > 0 ? s->view[s->nview - 1].uid : 0, floor;
	size_t first = 0;
	struct imap_view_msg *grown;

	while (first < v->count && v->msgs[first].uid <= last)
		first++;
	if (first == v->count)
		return;
	grown = realloc(s->view, (s->nview + v->count - first) * sizeof(*s->view));
	if (grown == NULL)
		return;
	s->view = grown;
	floor = imap_recent_floor(s, v);
	for (size_t i = first; i < v->count; i++) {
		s->view[s->nview].uid = v->msgs[i].uid;
		s->view[s->nview].flags = v->msgs[i].flags;
		s->view[s->nview].modseq = v->msgs[i].modseq;
		s->view[s->nview].recent = v->msgs[i].uid >= floor;
		s->nview++;
	}
}

/* EXISTS (and RECENT before IMAP4rev2) when the number of messages moved. */
static void imap_view_exists(struct imap_session *s, size_t old_count, size_t kept)
{
	if (s->nview == old_count && s->nview == kept)
		return;
	imap_out(s, "* %zu EXISTS", s->nview);
	if (!s->rev2) {
		size_t r = 0;
		for (size_t i = 0; i < s->nview; i++)
			r += s->view[i].recent;
		imap_out(s, "* %zu RECENT", r);
	}
}

void imap_view_update(struct imap_session *s, const struct index_view *v, bool allow_expunge)
{
	size_t old_count = s->nview, kept;
	bool pending = false;
	struct imap_gone g;

	/* Expunges first, highest sequence number first so that each one
	 * names a message as the client still counts them. */
	if (allow_expunge) {
		gone_init(s, &g, s->nview);
		for (size_t i = s->nview; i-- > 0;) {
			if (imap_index_find(v, s->view[i].uid) == NULL) {
				gone_note(s, &g, i + 1, s->view[i].uid);
				memmove(&s->view[i], &s->view[i + 1], (s->nview - i - 1) * sizeof(*s->view));
				s->nview--;
			}
		}
		gone_flush(s, &g);
	}
	for (size_t i = 0; i < s->nview; i++) {
		const struct index_msg *m = imap_index_find(v, s->view[i].uid);
		if (m == NULL)
			pending |= !allow_expunge;
		else
			imap_view_changed(s, i, m);
	}
	kept = s->nview;
	imap_view_grow(s, v);
	imap_view_exists(s, old_count, kept);
	s->view_uidnext = v->uidnext;
	/* an expunge the client may not be told of yet leaves the view
	 * behind the index: the next sync compares it whole again */
	s->view_version = pending ? 0 : v->version;
}

/* Applies what changed since the view's version: expunges (highest
 * sequence number first, so each names a message as the client still
 * counts them), flag changes, new messages. */
static void imap_view_delta(struct imap_session *s, struct index_changes *ch, bool allow_expunge)
{
	const struct index_view *v = &ch->view;
	size_t old_count = s->nview, kept, out = 0;
	bool pending = false, expunged = false;
	struct imap_gone g;

	/* every position is looked up before any is marked (the marks
	 * would break the binary search) */
	for (size_t k = 0; k < ch->ngone; k++) {
		bool found;
		size_t i = imap_view_index_of_uid(s, ch->gone[k], &found);

		ch->gone[k] = found ? (uint32_t)i + 1 : 0;	/* a sequence number now */
	}
	gone_init(s, &g, ch->ngone);
	for (size_t k = ch->ngone; k-- > 0;) {
		if (ch->gone[k] == 0)
			continue;
		if (!allow_expunge) {
			pending = true;
			continue;
		}
		gone_note(s, &g, ch->gone[k], s->view[ch->gone[k] - 1].uid);
		s->view[ch->gone[k] - 1].uid = 0;	/* UIDs start at 1 */
		expunged = true;
	}
	gone_flush(s, &g);
	for (size_t i = 0; expunged && i < s->nview; i++) {
		if (s->view[i].uid != 0)
			s->view[out++] = s->view[i];
	}
	if (expunged)
		s->nview = out;
	for (size_t k = 0; k < v->count; k++) {
		bool found;
		size_t i = imap_view_index_of_uid(s, v->msgs[k].uid, &found);

		if (found)
			imap_view_changed(s, i, &v->msgs[k]);
	}
	kept = s->nview;
	imap_view_grow(s, v);
	imap_view_exists(s, old_count, kept);
	s->view_uidnext = v->uidnext;
	s->view_version = pending ? 0 : v->version;
}

void imap_view_apply(struct imap_session *s, struct index_changes *ch, bool allow_expunge)
{
	if (ch->full)
		imap_view_update(s, &ch->view, allow_expunge);
	else
		imap_view_delta(s, ch, allow_expunge);
}

/* Asks the index for what changed since the view's version. */
static int imap_view_changes(struct imap_session *s, struct index_changes *ch)
{
	uint32_t last = s->nview > 0 ? s->view[s->nview - 1].uid : 0;

	if (mail_index_sync_since(s->idx, &s->mbox, s->view_version, last, ch) < 0) {
		log_error(NULL, "imap: cannot sync %s of %s", s->mbox.name, s->user);
		return -1;
	}
	return 0;
}

int imap_view_sync(struct imap_session *s, bool allow_expunge)
{
	struct index_changes ch;

	if (s->state != IMAP_S_SELECTED)
		return 0;
	if (imap_view_changes(s, &ch) < 0)
		return -1;
	imap_view_apply(s, &ch, allow_expunge);
	index_changes_free(&ch);
	return 0;
}

const struct index_msg *imap_index_find(const struct index_view *v, uint32_t uid)
{
	size_t lo = 0, hi = v->count;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (v->msgs[mid].uid == uid)
			return &v->msgs[mid];
		if (v->msgs[mid].uid < uid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* The rows of the view's messages at positions idx (ascending). */
static int imap_view_rows(struct imap_session *s, const size_t *idx, size_t n, struct index_view *v)
{
	uint32_t *uids = malloc((n > 0 ? n : 1) * sizeof(*uids));
	int r;

	if (uids == NULL)
		return -1;
	for (size_t i = 0; i < n; i++)
		uids[i] = s->view[idx[i]].uid;
	r = mail_index_rows(s->idx, &s->mbox, uids, n, v);
	free(uids);
	return r;
}

int imap_msgs_prepare(struct imap_session *s, const struct imap_command *cmd, const struct imap_arg *set,
		      bool uid, bool allow_expunge, struct index_view *v, size_t **idx_r, size_t *count_r)
{
	struct index_changes ch;
	const char *error;

	memset(v, 0, sizeof(*v));
	if (imap_view_changes(s, &ch) < 0) {
		imap_tagged(s, cmd, "NO", "[SERVERBUG] Cannot read the mailbox");
		return -1;
	}
	imap_view_apply(s, &ch, allow_expunge);
	if (imap_msgset_resolve(s, set, uid, idx_r, count_r, &error) < 0) {
		index_changes_free(&ch);
		imap_tagged(s, cmd, "BAD", "%s", error);
		return -1;
	}
	if (ch.full) {
		/* every row is at hand already */
		*v = ch.view;
		memset(&ch.view, 0, sizeof(ch.view));
	} else if (imap_view_rows(s, *idx_r, *count_r, v) < 0) {
		index_changes_free(&ch);
		free(*idx_r);
		*idx_r = NULL;
		imap_tagged(s, cmd, "NO", "[SERVERBUG] Cannot read the mailbox");
		return -1;
	}
	index_changes_free(&ch);
	return 0;
}

