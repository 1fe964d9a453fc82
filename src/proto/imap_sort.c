/* SORT and THREAD (RFC 5256): base subjects, sort keys, and the
 * ORDEREDSUBJECT and REFERENCES threading algorithms. */
#include "proto/imap_sort.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- base subject (RFC 5256 section 2.1) */

static bool is_wsp(char c)
{
	return c == ' ' || c == '\t';
}

/* Length of a subj-blob ("[" *BLOBCHAR "]" *WSP) at s, or 0. */
static size_t blob_len(const char *s)
{
	size_t i = 1;

	if (s[0] != '[')
		return 0;
	while (s[i] != '\0' && s[i] != '[' && s[i] != ']')
		i++;
	if (s[i] != ']')
		return 0;
	i++;
	while (is_wsp(s[i]))
		i++;
	return i;
}

/* Length of a subj-refwd ("re" / "fw" / "fwd", *WSP, [subj-blob], ":")
 * at s, after any number of leading blobs, or 0. */
static size_t refwd_len(const char *s)
{
	size_t i = 0, b;

	while ((b = blob_len(s + i)) > 0)
		i += b;
	if (strncasecmp(s + i, "re", 2) == 0)
		i += 2;
	else if (strncasecmp(s + i, "fwd", 3) == 0)
		i += 3;
	else if (strncasecmp(s + i, "fw", 2) == 0)
		i += 2;
	else
		return 0;
	while (is_wsp(s[i]))
		i++;
	i += blob_len(s + i);
	return s[i] == ':' ? i + 1 : 0;
}

size_t imap_base_subject(const char *subject, char *out, size_t size, bool *reply_r)
{
	size_t len = strlen(subject), o = 0, start, end;
	char *buf = malloc(len + 1);
	bool reply = false, changed;

	if (reply_r != NULL)
		*reply_r = false;
	if (size == 0)
		return 0;
	out[0] = '\0';
	if (buf == NULL)
		return 0;
	/* step 1: whitespace (and folding) to one space */
	for (size_t i = 0; i < len; i++) {
		char c = subject[i];
		if (c == '\t' || c == '\r' || c == '\n')
			c = ' ';
		if (c == ' ' && o > 0 && buf[o - 1] == ' ')
			continue;
		buf[o++] = c;
	}
	buf[o] = '\0';
	start = 0;
	end = o;
	for (;;) {
		/* step 2: trailing "(fwd)" and whitespace */
		for (;;) {
			if (end > start && buf[end - 1] == ' ') {
				end--;
			} else if (end - start >= 5 && strncasecmp(buf + end - 5, "(fwd)", 5) == 0) {
				end -= 5;
				reply = true;
			} else {
				break;
			}
		}
		buf[end] = '\0';
		/* steps 3 to 5: leaders and a leading blob, until nothing changes */
		do {
			size_t n;

			changed = false;
			while (is_wsp(buf[start])) {
				start++;
				changed = true;
			}
			while ((n = refwd_len(buf + start)) > 0) {
				start += n;
				reply = true;
				changed = true;
				while (is_wsp(buf[start]))
					start++;
			}
			n = blob_len(buf + start);
			if (n > 0 && start + n < end) {
				start += n;
				changed = true;
			}
		} while (changed);
		/* step 6: "[fwd: ... ]" */
		if (end - start >= 6 && strncasecmp(buf + start, "[fwd:", 5) == 0 && buf[end - 1] == ']') {
			start += 5;
			end--;
			buf[end] = '\0';
			reply = true;
			continue;
		}
		break;
	}
	o = 0;
	for (size_t i = start; i < end && o + 1 < size; i++)
		out[o++] = (char)tolower((unsigned char)buf[i]);
	out[o] = '\0';
	free(buf);
	if (reply_r != NULL)
		*reply_r = reply;
	return o;
}

/* ---- SORT */

int imap_sort_criteria_parse(const char *const *atoms, size_t n, struct imap_sort_key *keys,
			     size_t *nkeys_r, const char **error_r)
{
	static const struct { const char *name; enum imap_sort_key_kind kind; } names[] = {
		{ "ARRIVAL", IMAP_SORT_ARRIVAL }, { "CC", IMAP_SORT_CC }, { "DATE", IMAP_SORT_DATE },
		{ "FROM", IMAP_SORT_FROM }, { "SIZE", IMAP_SORT_SIZE }, { "SUBJECT", IMAP_SORT_SUBJECT },
		{ "TO", IMAP_SORT_TO }, { "DISPLAYFROM", IMAP_SORT_DISPLAYFROM },
		{ "DISPLAYTO", IMAP_SORT_DISPLAYTO },
	};
	size_t k = 0;
	bool reverse = false;

	for (size_t i = 0; i < n; i++) {
		size_t j;

		if (strcasecmp(atoms[i], "REVERSE") == 0) {
			if (reverse) {
				*error_r = "REVERSE twice in a row";
				return -1;
			}
			reverse = true;
			continue;
		}
		for (j = 0; j < sizeof(names) / sizeof(names[0]); j++) {
			if (strcasecmp(atoms[i], names[j].name) == 0)
				break;
		}
		if (j == sizeof(names) / sizeof(names[0])) {
			*error_r = "Unknown sort criterion";
			return -1;
		}
		if (k == IMAP_SORT_KEYS_MAX) {
			*error_r = "Too many sort criteria";
			return -1;
		}
		keys[k].kind = names[j].kind;
		keys[k].reverse = reverse;
		k++;
		reverse = false;
	}
	if (reverse || k == 0) {
		*error_r = reverse ? "REVERSE must be followed by a criterion" : "Empty sort criteria";
		return -1;
	}
	*nkeys_r = k;
	return 0;
}

struct sort_ctx {
	const struct imap_sort_key *keys;
	size_t nkeys;
};

static int cmp_i64(int64_t a, int64_t b)
{
	return a < b ? -1 : a > b ? 1 : 0;
}

/* The string an address key compares. */
static const char *sort_address(const struct imap_sort_msg *m, enum imap_sort_key_kind kind)
{
	switch (kind) {
	case IMAP_SORT_FROM:
		return m->from;
	case IMAP_SORT_TO:
		return m->to;
	case IMAP_SORT_CC:
		return m->cc;
	case IMAP_SORT_DISPLAYFROM:
		return m->display_from;
	default:
		return m->display_to;
	}
}

/* i;ascii-casemap (RFC 4790 9.2), the collation SORT uses (RFC 5256):
 * ASCII letters fold to upper case before octets are compared, so "_" and
 * "[" come after the letters. */
static int casemap_cmp(const char *a, const char *b)
{
	const unsigned char *x = (const unsigned char *)a, *y = (const unsigned char *)b;

	for (;; x++, y++) {
		int cx = toupper(*x), cy = toupper(*y);
		if (cx != cy || cx == 0)
			return cx - cy;
	}
}

static int sort_cmp(const void *pa, const void *pb, void *arg)
{
	const struct imap_sort_msg *a = pa, *b = pb;
	const struct sort_ctx *ctx = arg;

	for (size_t i = 0; i < ctx->nkeys; i++) {
		int c = 0;

		switch (ctx->keys[i].kind) {
		case IMAP_SORT_ARRIVAL:
			c = cmp_i64(a->arrival, b->arrival);
			break;
		case IMAP_SORT_DATE:
			c = cmp_i64(a->date, b->date);
			break;
		case IMAP_SORT_SIZE:
			c = a->size < b->size ? -1 : a->size > b->size ? 1 : 0;
			break;
		case IMAP_SORT_SUBJECT:
			c = casemap_cmp(a->base_subject, b->base_subject);
			break;
		default:	/* the address keys */
			c = casemap_cmp(sort_address(a, ctx->keys[i].kind), sort_address(b, ctx->keys[i].kind));
			break;
		}
		if (c != 0)
			return ctx->keys[i].reverse ? -c : c;
	}
	return a->seq < b->seq ? -1 : a->seq > b->seq ? 1 : 0;
}

void imap_sort(struct imap_sort_msg *msgs, size_t n, const struct imap_sort_key *keys, size_t nkeys)
{
	struct sort_ctx ctx = { keys, nkeys };

	if (n > 1)
		qsort_r(msgs, n, sizeof(*msgs), sort_cmp, &ctx);
}

/* ---- THREAD */

/* A node of the thread tree: a message, or a dummy standing for a
 * Message-ID that was referenced but is not in the mailbox. */
struct node {
	const struct imap_sort_msg *msg;	/* NULL: dummy */
	char *id;
	size_t parent, child, next;		/* indexes; NONE when absent */
};

#define NONE ((size_t)-1)

struct forest {
	struct node *nodes;
	size_t n, cap;
	size_t *table;	/* open addressing: node index by id */
	size_t tcap, tcount;
};

static uint64_t id_hash(const char *s, size_t len)
{
	uint64_t h = 1469598103934665603ull;

	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
	return h;
}

static size_t node_new(struct forest *f, const struct imap_sort_msg *msg, const char *id, size_t len)
{
	struct node *nd;

	if (f->n == f->cap) {
		size_t cap = f->cap ? f->cap * 2 : 64;
		struct node *g = realloc(f->nodes, cap * sizeof(*g));
		if (g == NULL)
			abort();
		f->nodes = g;
		f->cap = cap;
	}
	nd = &f->nodes[f->n];
	nd->msg = msg;
	nd->parent = nd->child = nd->next = NONE;
	nd->id = NULL;
	if (id != NULL) {
		nd->id = malloc(len + 1);
		if (nd->id == NULL)
			abort();
		memcpy(nd->id, id, len);
		nd->id[len] = '\0';
	}
	return f->n++;
}

static void table_insert(struct forest *f, size_t node)
{
	const char *id = f->nodes[node].id;
	size_t slot = id_hash(id, strlen(id)) & (f->tcap - 1);

	while (f->table[slot] != NONE)
		slot = (slot + 1) & (f->tcap - 1);
	f->table[slot] = node;
}

/* Keeps the table at most half full (References lists bring any number
 * of ids), so a probe always ends. */
static void table_grow(struct forest *f)
{
	size_t *old = f->table, oldcap = f->tcap;

	f->tcap *= 2;
	f->table = malloc(f->tcap * sizeof(*f->table));
	if (f->table == NULL)
		abort();
	for (size_t i = 0; i < f->tcap; i++)
		f->table[i] = NONE;
	for (size_t i = 0; i < oldcap; i++) {
		if (old[i] != NONE)
			table_insert(f, old[i]);
	}
	free(old);
}

/* The node of Message-ID id (created as a dummy when new). */
static size_t node_for_id(struct forest *f, const char *id, size_t len, bool *created_r)
{
	size_t slot;

	if (2 * (f->tcount + 1) > f->tcap)
		table_grow(f);
	slot = id_hash(id, len) & (f->tcap - 1);

	*created_r = false;
	while (f->table[slot] != NONE) {
		const struct node *nd = &f->nodes[f->table[slot]];
		if (strlen(nd->id) == len && memcmp(nd->id, id, len) == 0)
			return f->table[slot];
		slot = (slot + 1) & (f->tcap - 1);
	}
	f->table[slot] = node_new(f, NULL, id, len);
	f->tcount++;
	*created_r = true;
	return f->table[slot];
}

/* Whether a is b or an ancestor of b. */
static bool is_ancestor(const struct forest *f, size_t a, size_t b)
{
	for (size_t i = b; i != NONE; i = f->nodes[i].parent) {
		if (i == a)
			return true;
	}
	return false;
}

static void unlink_child(struct forest *f, size_t c)
{
	size_t p = f->nodes[c].parent, *link;

	if (p == NONE)
		return;
	for (link = &f->nodes[p].child; *link != NONE; link = &f->nodes[*link].next) {
		if (*link == c) {
			*link = f->nodes[c].next;
			break;
		}
	}
	f->nodes[c].parent = NONE;
	f->nodes[c].next = NONE;
}

static void add_child(struct forest *f, size_t p, size_t c)
{
	size_t *link = &f->nodes[p].child;

	unlink_child(f, c);
	f->nodes[c].next = NONE;	/* a root's link in the root list */
	while (*link != NONE)
		link = &f->nodes[*link].next;
	*link = c;
	f->nodes[c].parent = p;
}

/* The next "<...>" at *s, advancing *s; false when none is left. */
static bool next_msgid(const char **s, const char **id_r, size_t *len_r)
{
	const char *p = strchr(*s, '<'), *q;

	if (p == NULL)
		return false;
	q = strchr(p + 1, '>');
	if (q == NULL)
		return false;
	*id_r = p;
	*len_r = (size_t)(q - p) + 1;
	*s = q + 1;
	return true;
}

static const struct imap_sort_msg *first_msg(const struct forest *f, size_t i)
{
	if (f->nodes[i].msg != NULL)
		return f->nodes[i].msg;
	for (size_t c = f->nodes[i].child; c != NONE; c = f->nodes[c].next) {
		const struct imap_sort_msg *m = first_msg(f, c);
		if (m != NULL)
			return m;
	}
	return NULL;
}

/* Sent date ordering of siblings, ties by sequence number. */
static int node_cmp(const struct forest *f, size_t a, size_t b)
{
	const struct imap_sort_msg *ma = first_msg(f, a), *mb = first_msg(f, b);
	int c;

	if (ma == NULL || mb == NULL)
		return ma == NULL ? (mb == NULL ? 0 : 1) : -1;
	c = cmp_i64(ma->date, mb->date);
	if (c == 0)
		c = ma->seq < mb->seq ? -1 : ma->seq > mb->seq ? 1 : 0;
	return c;
}

/* Sorts a sibling list (insertion sort on the linked list). */
static size_t sort_siblings(struct forest *f, size_t head)
{
	size_t sorted = NONE;

	while (head != NONE) {
		size_t cur = head, *link = &sorted;

		head = f->nodes[head].next;
		while (*link != NONE && node_cmp(f, *link, cur) <= 0)
			link = &f->nodes[*link].next;
		f->nodes[cur].next = *link;
		*link = cur;
	}
	return sorted;
}

static void sort_tree(struct forest *f, size_t *head)
{
	/* children first: a dummy's date is that of its first child */
	for (size_t c = *head; c != NONE; c = f->nodes[c].next)
		sort_tree(f, &f->nodes[c].child);
	*head = sort_siblings(f, *head);
}

static void write_thread(const struct forest *f, size_t i, bool use_uid, struct strbuf *out);

/* A node and its descendants as thread-members / thread-nested. */
static void write_members(const struct forest *f, size_t i, bool use_uid, struct strbuf *out,
			  bool first)
{
	size_t c = f->nodes[i].child;

	if (f->nodes[i].msg != NULL) {
		const struct imap_sort_msg *m = f->nodes[i].msg;
		if (!first)
			strbuf_append_c(out, ' ');
		strbuf_printf(out, "%u", use_uid ? m->uid : m->seq);
		first = false;
	}
	if (c == NONE)
		return;
	if (f->nodes[c].next == NONE) {
		write_members(f, c, use_uid, out, first);
		return;
	}
	if (!first)
		strbuf_append_c(out, ' ');
	for (; c != NONE; c = f->nodes[c].next)
		write_thread(f, c, use_uid, out);
}

static void write_thread(const struct forest *f, size_t i, bool use_uid, struct strbuf *out)
{
	strbuf_append_c(out, '(');
	write_members(f, i, use_uid, out, true);
	strbuf_append_c(out, ')');
}

/* Step 4 of REFERENCES: dummies without children go; a dummy's children
 * take its place, except at the root when it has several. Returns the new
 * sibling list. */
static size_t prune(struct forest *f, size_t head, bool root)
{
	size_t out = NONE, *tail = &out;

	while (head != NONE) {
		size_t cur = head;

		head = f->nodes[cur].next;
		f->nodes[cur].next = NONE;
		f->nodes[cur].child = prune(f, f->nodes[cur].child, false);
		for (size_t c = f->nodes[cur].child; c != NONE; c = f->nodes[c].next)
			f->nodes[c].parent = cur;
		if (f->nodes[cur].msg == NULL) {
			size_t kids = f->nodes[cur].child;
			if (kids == NONE)
				continue;
			if (!root || f->nodes[kids].next == NONE) {
				/* promote the children into this level */
				for (size_t c = kids; c != NONE; c = f->nodes[c].next)
					f->nodes[c].parent = f->nodes[cur].parent;
				*tail = kids;
				while (*tail != NONE)
					tail = &f->nodes[*tail].next;
				continue;
			}
		}
		*tail = cur;
		tail = &f->nodes[cur].next;
	}
	return out;
}

static size_t root_list(struct forest *f)
{
	size_t head = NONE, *tail = &head;

	for (size_t i = 0; i < f->n; i++) {
		if (f->nodes[i].parent == NONE) {
			f->nodes[i].next = NONE;
			*tail = i;
			tail = &f->nodes[i].next;
		}
	}
	return head;
}

/* Step 5 of REFERENCES: roots with the same base subject are gathered. */
static size_t group_by_subject(struct forest *f, size_t head)
{
	size_t nroots = 0, *roots, out = NONE, last = NONE;

	for (size_t r = head; r != NONE; r = f->nodes[r].next)
		nroots++;
	roots = calloc(nroots > 0 ? nroots : 1, sizeof(*roots));
	if (roots == NULL)
		abort();
	nroots = 0;
	for (size_t r = head; r != NONE; r = f->nodes[r].next)
		roots[nroots++] = r;
	for (size_t i = 0; i < nroots; i++) {
		size_t a = roots[i];
		const struct imap_sort_msg *ma;

		if (a == NONE)
			continue;
		ma = first_msg(f, a);
		for (size_t j = i + 1; j < nroots && ma != NULL && ma->base_subject[0] != '\0'; j++) {
			size_t b = roots[j];
			const struct imap_sort_msg *mb;
			bool a_dummy, b_dummy;

			if (b == NONE)
				continue;
			mb = first_msg(f, b);
			if (mb == NULL || strcmp(ma->base_subject, mb->base_subject) != 0)
				continue;
			roots[j] = NONE;
			a_dummy = f->nodes[a].msg == NULL;
			b_dummy = f->nodes[b].msg == NULL;
			if (a_dummy && b_dummy) {
				while (f->nodes[b].child != NONE)
					add_child(f, a, f->nodes[b].child);
			} else if (a_dummy) {
				add_child(f, a, b);
			} else if (b_dummy) {
				add_child(f, b, a);
				a = b;
			} else if (!ma->subject_is_reply && mb->subject_is_reply) {
				add_child(f, a, b);
			} else if (ma->subject_is_reply && !mb->subject_is_reply) {
				add_child(f, b, a);
				a = b;
			} else {
				size_t d = node_new(f, NULL, NULL, 0);
				add_child(f, d, a);
				add_child(f, d, b);
				a = d;
			}
			ma = first_msg(f, a);
		}
		f->nodes[a].parent = NONE;
		f->nodes[a].next = NONE;
		/* by index: node_new() above may have moved the nodes */
		if (last == NONE)
			out = a;
		else
			f->nodes[last].next = a;
		last = a;
	}
	free(roots);
	return out;
}

static void forest_free(struct forest *f)
{
	for (size_t i = 0; i < f->n; i++)
		free(f->nodes[i].id);
	free(f->nodes);
	free(f->table);
}

/* Steps 1 to 5 of REFERENCES; returns the root list. */
static size_t thread_references(struct forest *f, const struct imap_sort_msg *msgs, size_t n)
{
	f->tcap = 16;
	while (f->tcap < 4 * (n + 1))
		f->tcap *= 2;
	f->table = malloc(f->tcap * sizeof(*f->table));
	if (f->table == NULL)
		abort();
	for (size_t i = 0; i < f->tcap; i++)
		f->table[i] = NONE;
	for (size_t i = 0; i < n; i++) {
		const struct imap_sort_msg *m = &msgs[i];
		const char *s = m->message_id, *id, *refs = m->references;
		size_t len, me, prev = NONE;
		bool created;

		/* step 1A: this message's node (a unique one when the
		 * Message-ID is missing or already taken by another message) */
		if (next_msgid(&s, &id, &len)) {
			me = node_for_id(f, id, len, &created);
			if (f->nodes[me].msg != NULL)
				me = node_new(f, m, NULL, 0);
			else
				f->nodes[me].msg = m;
		} else {
			me = node_new(f, m, NULL, 0);
		}
		/* step 1B: link the references in order, never into a loop */
		while (next_msgid(&refs, &id, &len)) {
			size_t r = node_for_id(f, id, len, &created);

			if (prev != NONE && f->nodes[r].parent == NONE && !is_ancestor(f, r, prev) &&
			    r != prev)
				add_child(f, prev, r);
			prev = r;
		}
		/* step 1C: the last reference is the parent. A parent the
		 * message had (from another message's References) is dropped
		 * first, also when the new link would make a loop: then the
		 * message becomes a root rather than stay under a message that
		 * is its own descendant. */
		if (prev != NONE && prev != me && !is_ancestor(f, me, prev))
			add_child(f, prev, me);
		else
			unlink_child(f, me);
	}
	{
		/* the roots in date order (a dummy dated by its first child)
		 * before they are gathered by subject */
		size_t head = prune(f, root_list(f), true);
		sort_tree(f, &head);
		return group_by_subject(f, head);
	}
}

/* ORDEREDSUBJECT: messages sorted by base subject and date; the first of
 * each subject is the parent of the others. copy holds the sorted
 * messages the nodes point at. Returns the root list. */
static size_t thread_orderedsubject(struct forest *f, struct imap_sort_msg *copy, size_t n)
{
	static const struct imap_sort_key keys[2] = {
		{ IMAP_SORT_SUBJECT, false }, { IMAP_SORT_DATE, false },
	};
	size_t head = NONE, *tail = &head, parent = NONE;

	imap_sort(copy, n, keys, 2);
	for (size_t i = 0; i < n; i++) {
		size_t nd = node_new(f, &copy[i], NULL, 0);

		if (parent != NONE && strcmp(f->nodes[parent].msg->base_subject, copy[i].base_subject) == 0) {
			add_child(f, parent, nd);
		} else {
			parent = nd;
			*tail = nd;
			tail = &f->nodes[nd].next;
		}
	}
	return head;
}

void imap_thread(const struct imap_sort_msg *msgs, size_t n, enum imap_thread_algo algo, bool use_uid,
		 struct strbuf *out)
{
	struct imap_sort_msg *copy = NULL;
	struct forest f;
	size_t head;

	memset(&f, 0, sizeof(f));
	if (algo == IMAP_THREAD_REFERENCES) {
		head = thread_references(&f, msgs, n);
	} else {
		copy = malloc((n > 0 ? n : 1) * sizeof(*copy));
		if (copy == NULL)
			abort();
		memcpy(copy, msgs, n * sizeof(*copy));
		head = thread_orderedsubject(&f, copy, n);
	}
	sort_tree(&f, &head);
	for (size_t r = head; r != NONE; r = f.nodes[r].next)
		write_thread(&f, r, use_uid, out);
	forest_free(&f);
	free(copy);
}
