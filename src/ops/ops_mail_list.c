/* The message list of the webmail (ops_mail.h): one page of a folder,
 * sorted, each message summarised from its header (decoded sender and
 * subject, date, attachment mark). Only the header of each message on the
 * page is read, unless the order itself needs the headers (sender,
 * subject): then the sort-key cache (store/sortcache.c) gives the page,
 * reading the headers of only the messages it has not seen; it keeps the
 * size order too. */
#include "ops/ops_mail.h"
#include "lib/str.h"
#include "lib/strbuf.h"
#include "mail/header.h"
#include "mail/imap_envelope.h"
#include "mail/rfc2047.h"
#include "store/sortcache.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define HEADER_READ_MAX (64 * 1024)

/* Copies a decoded value into a fixed field, cut at a UTF-8 boundary. */
static void field_copy(char *dst, size_t size, const char *src, size_t len)
{
	if (len >= size) {
		len = size - 1;
		while (len > 0 && ((unsigned char)src[len] & 0xc0) == 0x80)
			len--;
	}
	memcpy(dst, src, len);
	dst[len] = '\0';
}

static bool header_value(const char *header, size_t len, const char *name, struct strbuf *out)
{
	struct mail_header_field f;

	if (!mail_header_find(header, len, name, &f))
		return false;
	rfc2047_decode(f.value, f.value_len, out);
	return true;
}

/* The first address of header field field_name: its decoded display name
 * into name (256 bytes) and local@domain into addr (320 bytes). */
static void first_address(const char *header, size_t len, const char *field_name, char *name_r, char *addr_r)
{
	struct strbuf b = STRBUF_INIT, name = STRBUF_INIT, local = STRBUF_INIT, host = STRBUF_INIT;
	struct mail_header_field f;

	if (mail_header_find(header, len, field_name, &f) &&
	    imap_first_address(f.value, f.value_len, &name, &local, &host)) {
		rfc2047_decode(name.data != NULL ? name.data : "", name.len, &b);
		field_copy(name_r, 256, b.data != NULL ? b.data : "", b.len);
		strbuf_truncate(&b, 0);
		strbuf_append(&b, local.data != NULL ? local.data : "", local.len);
		if (host.len > 0) {
			strbuf_append_c(&b, '@');
			strbuf_append(&b, host.data, host.len);
		}
		field_copy(addr_r, 320, b.data != NULL ? b.data : "", b.len);
	}
	strbuf_free(&b);
	strbuf_free(&name);
	strbuf_free(&local);
	strbuf_free(&host);
}

void ops_mail_summarize(const char *header, size_t len, struct ops_mail_summary *s)
{
	struct strbuf b = STRBUF_INIT;
	struct mail_header_field f;

	len = mail_header_block_size(header, len);
	if (header_value(header, len, "Subject", &b))
		field_copy(s->subject, sizeof(s->subject), b.data != NULL ? b.data : "", b.len);
	first_address(header, len, "From", s->from_name, s->from_addr);
	first_address(header, len, "To", s->to_name, s->to_addr);
	if (mail_header_find(header, len, "Date", &f)) {
		int64_t t;
		if (mail_date_parse(f.value, f.value_len, &t) == 0)
			s->date = t;
	}
	if (mail_header_find(header, len, "Content-Type", &f)) {
		strbuf_truncate(&b, 0);
		mail_header_unfold(f.value, f.value_len, &b);
		const char *v = b.data != NULL ? b.data : "";
		s->attachment = strncasecmp(v, "multipart/mixed", 15) == 0 ||
				strncasecmp(v, "application/", 12) == 0 || strncasecmp(v, "image/", 6) == 0;
	}
	strbuf_free(&b);
}

/* Reads the start of a message's file and summarises it. */
static void summary_load(const struct index_mailbox *mbox, struct ops_mail_summary *s)
{
	char path[PATH_MAX], *buf;
	ssize_t got = 0, r;
	int fd;

	s->date = s->msg.internaldate;
	if (mail_index_msg_path(mbox, &s->msg, path, sizeof(path)) < 0)
		return;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return;
	buf = malloc(HEADER_READ_MAX);
	while (buf != NULL && got < HEADER_READ_MAX &&
	       (r = read(fd, buf + got, (size_t)(HEADER_READ_MAX - got))) != 0) {
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			break;
		got += r;
		if (memmem(buf, (size_t)got, "\n\r\n", 3) != NULL || memmem(buf, (size_t)got, "\n\n", 2) != NULL)
			break;
	}
	close(fd);
	if (buf != NULL)
		ops_mail_summarize(buf, (size_t)got, s);
	free(buf);
}

/* The arrival order's key per message, from the index's brief rows
 * (the other orders come from the sort-key cache). */
struct sort_key {
	uint32_t uid;
	int64_t date;
};

static int cmp_arrival(const struct sort_key *x, const struct sort_key *y)
{
	if (x->date != y->date)
		return x->date < y->date ? -1 : 1;
	return x->uid < y->uid ? -1 : x->uid > y->uid;
}

static int cmp_date(const void *a, const void *b)
{
	return cmp_arrival(a, b);
}

static int cmp_uid(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

struct keys_ctx {
	struct ops_mailbox *mb;
	struct index_mailbox *mbox;
};

/* sortcache_load_fn: the sender and subject keys of messages uids, each
 * header read once. */
static int keys_load(void *arg, const uint32_t *uids, size_t n, char *(*keys_r)[SORTCACHE_TEXTS])
{
	struct keys_ctx *c = arg;
	struct ops_mail_summary *s = malloc(sizeof(*s));
	struct index_view v;
	size_t k = 0;

	if (s == NULL || mail_index_rows(c->mb->idx, c->mbox, uids, n, &v) < 0) {
		free(s);
		return -1;
	}
	/* uids and the view are both by ascending UID; a message gone since
	 * keeps empty keys (the cache drops it at its next look) */
	for (size_t i = 0; i < v.count; i++) {
		while (k < n && uids[k] < v.msgs[i].uid)
			k++;
		if (k == n)
			break;
		if (uids[k] != v.msgs[i].uid)
			continue;
		memset(s, 0, sizeof(*s));
		s->msg = v.msgs[i];
		summary_load(c->mbox, s);
		keys_r[k][SORTCACHE_SUBJECT] = sortcache_key_make(s->subject);
		keys_r[k][SORTCACHE_FROM] = sortcache_key_make(s->from_name[0] != '\0' ? s->from_name : s->from_addr);
		if (keys_r[k][SORTCACHE_SUBJECT] == NULL || keys_r[k][SORTCACHE_FROM] == NULL) {
			index_view_free(&v);
			free(s);
			return -1;
		}
	}
	index_view_free(&v);
	free(s);
	return 0;
}

/* The page's rows (uids in page order) summarised into page_r->items. */
static int page_fill(struct ops_mailbox *mb, struct ops_mail_page *page_r, const uint32_t *uids, size_t n)
{
	uint32_t *asc = malloc((n > 0 ? n : 1) * sizeof(*asc));
	struct index_view v;

	if (asc == NULL)
		return -1;
	memcpy(asc, uids, n * sizeof(*asc));
	qsort(asc, n, sizeof(*asc), cmp_uid);
	if (mail_index_rows(mb->idx, &page_r->mbox, asc, n, &v) < 0) {
		free(asc);
		return -1;
	}
	free(asc);
	for (size_t i = 0; i < n; i++) {
		for (size_t lo = 0, hi = v.count; lo < hi;) {
			size_t mid = lo + (hi - lo) / 2;

			if (v.msgs[mid].uid == uids[i]) {
				struct ops_mail_summary *s = &page_r->items[page_r->count++];

				s->msg = v.msgs[mid];
				summary_load(&page_r->mbox, s);
				break;
			}
			if (v.msgs[mid].uid < uids[i])
				lo = mid + 1;
			else
				hi = mid;
		}
	}
	index_view_free(&v);
	return 0;
}

int ops_mail_list(struct ops_mailbox *mb, const char *folder, enum ops_mail_sort sort, bool desc,
		  size_t offset, size_t limit, struct ops_mail_page *page_r, struct ops_error *err)
{
	struct index_brief *rows = NULL;
	struct sort_key *keys;
	uint32_t *uids = NULL;
	size_t nrows = 0, n;
	int r = 0;

	memset(page_r, 0, sizeof(*page_r));
	if (ops_mail_folder(mb, folder, &page_r->mbox, err) < 0)
		return -1;
	if (mail_index_brief(mb->idx, &page_r->mbox, &rows, &nrows) < 0)
		return ops_fail(err, "internal", NULL, "the folder cannot be read", "フォルダーを読めません");
	page_r->total = nrows;
	keys = calloc(nrows > 0 ? nrows : 1, sizeof(*keys));
	if (limit > OPS_MAIL_PAGE_MAX)
		limit = OPS_MAIL_PAGE_MAX;
	n = offset < nrows ? nrows - offset : 0;
	if (n > limit)
		n = limit;
	page_r->items = calloc(n > 0 ? n : 1, sizeof(*page_r->items));
	uids = calloc(n > 0 ? n : 1, sizeof(*uids));
	if (keys == NULL || page_r->items == NULL || uids == NULL) {
		r = -1;
		goto out;
	}
	for (size_t i = 0; i < nrows; i++) {
		keys[i] = (struct sort_key){ rows[i].uid, rows[i].internaldate };
		if ((rows[i].flags & INDEX_FLAG_SEEN) == 0)
			page_r->unseen++;
	}
	if (sort != OPS_MAIL_SORT_DATE) {
		struct keys_ctx c = { mb, &page_r->mbox };
		size_t got;

		if (sortcache_page(page_r->mbox.path, page_r->mbox.uidvalidity,
				   sort == OPS_MAIL_SORT_FROM ? SORTCACHE_FROM
				   : sort == OPS_MAIL_SORT_SUBJECT ? SORTCACHE_SUBJECT : SORTCACHE_SIZE,
				   rows, nrows, keys_load, &c, desc, offset, n, uids, &got) < 0) {
			r = -1;
			goto out;
		}
		n = got;
	} else {
		qsort(keys, nrows, sizeof(*keys), cmp_date);
		for (size_t i = 0; i < n; i++)
			uids[i] = keys[desc ? nrows - 1 - (offset + i) : offset + i].uid;
	}
	r = page_fill(mb, page_r, uids, n);
out:
	free(keys);
	free(uids);
	free(rows);
	if (r < 0) {
		ops_mail_page_free(page_r);
		return ops_fail(err, "internal", NULL, "the folder cannot be read", "フォルダーを読めません");
	}
	return 0;
}

void ops_mail_page_free(struct ops_mail_page *page)
{
	free(page->items);
	page->items = NULL;
	page->count = 0;
}
