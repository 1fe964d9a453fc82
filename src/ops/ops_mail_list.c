/* The message list of the webmail (ops_mail.h): one page of a folder,
 * sorted, each message summarised from its header (decoded sender and
 * subject, date, attachment mark). Only the header of each message on the
 * page is read, unless the order itself needs the headers (sender,
 * subject): then every message's header is read once. */
#include "ops/ops_mail.h"
#include "lib/str.h"
#include "lib/strbuf.h"
#include "mail/header.h"
#include "mail/imap_envelope.h"
#include "mail/rfc2047.h"

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

void ops_mail_summarize(const char *header, size_t len, struct ops_mail_summary *s)
{
	struct strbuf b = STRBUF_INIT, name = STRBUF_INIT, local = STRBUF_INIT, host = STRBUF_INIT;
	struct mail_header_field f;

	len = mail_header_block_size(header, len);
	if (header_value(header, len, "Subject", &b))
		field_copy(s->subject, sizeof(s->subject), b.data != NULL ? b.data : "", b.len);
	if (mail_header_find(header, len, "From", &f) &&
	    imap_first_address(f.value, f.value_len, &name, &local, &host)) {
		strbuf_truncate(&b, 0);
		rfc2047_decode(name.data != NULL ? name.data : "", name.len, &b);
		field_copy(s->from_name, sizeof(s->from_name), b.data != NULL ? b.data : "", b.len);
		strbuf_truncate(&b, 0);
		strbuf_append(&b, local.data != NULL ? local.data : "", local.len);
		if (host.len > 0) {
			strbuf_append_c(&b, '@');
			strbuf_append(&b, host.data, host.len);
		}
		field_copy(s->from_addr, sizeof(s->from_addr), b.data != NULL ? b.data : "", b.len);
	}
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
	strbuf_free(&name);
	strbuf_free(&local);
	strbuf_free(&host);
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

/* A sort key per message: the view's row and, for sender and subject,
 * the decoded text (malloc'd). */
struct sort_key {
	const struct index_msg *m;
	char *text;
};

static int cmp_arrival(const struct sort_key *x, const struct sort_key *y)
{
	if (x->m->internaldate != y->m->internaldate)
		return x->m->internaldate < y->m->internaldate ? -1 : 1;
	return x->m->uid < y->m->uid ? -1 : x->m->uid > y->m->uid;
}

static int cmp_date(const void *a, const void *b)
{
	return cmp_arrival(a, b);
}

static int cmp_size(const void *a, const void *b)
{
	const struct sort_key *x = a, *y = b;

	if (x->m->size != y->m->size)
		return x->m->size < y->m->size ? -1 : 1;
	return cmp_arrival(x, y);
}

static int cmp_text(const void *a, const void *b)
{
	const struct sort_key *x = a, *y = b;
	int c = strcasecmp(x->text != NULL ? x->text : "", y->text != NULL ? y->text : "");

	return c != 0 ? c : cmp_arrival(x, y);
}

static void keys_text(const struct index_mailbox *mbox, struct sort_key *keys, size_t n, bool from)
{
	struct ops_mail_summary *s = malloc(sizeof(*s));

	for (size_t i = 0; s != NULL && i < n; i++) {
		memset(s, 0, sizeof(*s));
		s->msg = *keys[i].m;
		summary_load(mbox, s);
		keys[i].text = strdup(!from ? s->subject : s->from_name[0] != '\0' ? s->from_name : s->from_addr);
	}
	free(s);
}

int ops_mail_list(struct ops_mailbox *mb, const char *folder, enum ops_mail_sort sort, bool desc,
		  size_t offset, size_t limit, struct ops_mail_page *page_r, struct ops_error *err)
{
	struct index_view v;
	struct sort_key *keys;
	size_t n;

	memset(page_r, 0, sizeof(*page_r));
	if (ops_mail_folder(mb, folder, &page_r->mbox, err) < 0)
		return -1;
	if (mail_index_sync(mb->idx, &page_r->mbox, &v) < 0)
		return ops_fail(err, "internal", NULL, "the folder cannot be read", "フォルダーを読めません");
	page_r->total = v.count;
	keys = calloc(v.count > 0 ? v.count : 1, sizeof(*keys));
	if (limit > OPS_MAIL_PAGE_MAX)
		limit = OPS_MAIL_PAGE_MAX;
	n = offset < v.count ? v.count - offset : 0;
	if (n > limit)
		n = limit;
	page_r->items = calloc(n > 0 ? n : 1, sizeof(*page_r->items));
	if (keys == NULL || page_r->items == NULL) {
		free(keys);
		ops_mail_page_free(page_r);
		index_view_free(&v);
		return ops_fail(err, "internal", NULL, "out of memory", "メモリ不足です");
	}
	for (size_t i = 0; i < v.count; i++) {
		keys[i].m = &v.msgs[i];
		if ((v.msgs[i].flags & INDEX_FLAG_SEEN) == 0)
			page_r->unseen++;
	}
	if (sort == OPS_MAIL_SORT_FROM || sort == OPS_MAIL_SORT_SUBJECT)
		keys_text(&page_r->mbox, keys, v.count, sort == OPS_MAIL_SORT_FROM);
	qsort(keys, v.count, sizeof(*keys), sort == OPS_MAIL_SORT_SIZE ? cmp_size
					    : sort == OPS_MAIL_SORT_DATE ? cmp_date : cmp_text);
	for (size_t i = 0; i < n; i++) {
		size_t k = desc ? v.count - 1 - (offset + i) : offset + i;

		page_r->items[i].msg = *keys[k].m;
		summary_load(&page_r->mbox, &page_r->items[i]);
	}
	page_r->count = n;
	for (size_t i = 0; i < v.count; i++)
		free(keys[i].text);
	free(keys);
	index_view_free(&v);
	return 0;
}

void ops_mail_page_free(struct ops_mail_page *page)
{
	free(page->items);
	page->items = NULL;
	page->count = 0;
}
