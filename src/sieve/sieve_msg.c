/* What the tests read from the message: header values decoded the way IMAP
 * SEARCH decodes them (RFC 2047, raw ISO-2022-JP, charsets through
 * mail/charset.c), the addresses of address fields, and body texts (raw,
 * or decoded text parts, optionally by content type). */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mail/header.h"
#include "mail/imap_envelope.h"
#include "mail/rfc2047.h"
#include "sieve/sieve_run_int.h"

static size_t header_size(struct sieve_run *r)
{
	if (r->header_size == 0 && r->msg->size > 0)
		r->header_size = mail_header_block_size(r->msg->data, r->msg->size);
	return r->header_size;
}

/* Splits the header into fields once per run. */
static void parse_headers(struct sieve_run *r)
{
	struct mail_header_iter it;
	struct mail_header_field f;
	unsigned int cap = 0;

	r->hdrs_parsed = true;
	mail_header_iter_init(&it, r->msg->data, header_size(r));
	while (mail_header_iter_next(&it, &f)) {
		struct sieve_hdr *h;

		if (r->hdr_count == cap) {
			cap = cap ? cap * 2 : 32;
			r->hdrs = realloc(r->hdrs, cap * sizeof(*r->hdrs));
			if (r->hdrs == NULL)
				abort();
		}
		h = &r->hdrs[r->hdr_count++];
		memset(h, 0, sizeof(*h));
		h->name = f.name;
		h->name_len = f.name_len;
		h->value = f.value;
		h->value_len = f.value_len;
	}
}

void sieve_msg_free(struct sieve_run *r)
{
	for (unsigned int i = 0; i < r->hdr_count; i++) {
		strbuf_free(&r->hdrs[i].decoded);
		strbuf_free(&r->hdrs[i].unfolded);
	}
	free(r->hdrs);
	r->hdrs = NULL;
	r->hdr_count = 0;
	mime_message_free(r->mime);
	r->mime = NULL;
}

static bool hdr_is(const struct sieve_hdr *h, const char *name, size_t len)
{
	return h->name_len == len && strncasecmp(h->name, name, len) == 0;
}

unsigned int sieve_msg_header_count(struct sieve_run *r, const char *name)
{
	size_t len = strlen(name);
	unsigned int n = 0;

	if (!r->hdrs_parsed)
		parse_headers(r);
	for (unsigned int i = 0; i < r->hdr_count; i++)
		n += hdr_is(&r->hdrs[i], name, len);
	return n;
}

/* The position (0-based from the top) :index n [:last] selects among count
 * fields, -1 when out of range, -2 for all. */
static long pick(int32_t index, bool last, unsigned int count)
{
	if (index <= 0)
		return -2;
	if ((unsigned int)index > count)
		return -1;
	return last ? (long)count - index : index - 1;
}

static const struct strbuf *hdr_value(struct sieve_run *r, struct sieve_hdr *h, bool decode)
{
	struct strbuf *v = decode ? &h->decoded : &h->unfolded;
	bool *done = decode ? &h->has_decoded : &h->has_unfolded;

	if (!*done) {
		*done = true;
		if (decode)
			rfc2047_decode(h->value, h->value_len, v);
		else
			mail_header_unfold(h->value, h->value_len, v);
		if (v->len > r->lim->max_string)
			strbuf_truncate(v, r->lim->max_string);
		if (v->data == NULL)
			strbuf_append(v, "", 0);
	}
	return v;
}

bool sieve_msg_headers(struct sieve_run *r, const char *name, bool decode, int32_t index,
		       bool last, sieve_value_cb *cb, void *ctx)
{
	size_t len = strlen(name);
	long want = pick(index, last, index > 0 ? sieve_msg_header_count(r, name) : 0);
	long at = 0;

	if (want == -1)
		return false;
	if (!r->hdrs_parsed)
		parse_headers(r);
	for (unsigned int i = 0; i < r->hdr_count; i++) {
		const struct strbuf *v;

		if (!hdr_is(&r->hdrs[i], name, len))
			continue;
		if (want >= 0 && at++ != want)
			continue;
		v = hdr_value(r, &r->hdrs[i], decode);
		if (cb(r, v->data, v->len, ctx))
			return true;
	}
	return false;
}

bool sieve_addr_part(const char *addr, enum sieve_part part, struct strbuf *out)
{
	const char *at = strrchr(addr, '@');
	size_t llen = at != NULL ? (size_t)(at - addr) : strlen(addr);
	const char *plus = memchr(addr, '+', llen);

	switch (part) {
	case PART_ALL:
		strbuf_append_str(out, addr);
		return true;
	case PART_LOCAL:
		strbuf_append(out, addr, llen);
		return true;
	case PART_DOMAIN:
		strbuf_append_str(out, at != NULL ? at + 1 : "");
		return true;
	case PART_USER:
		strbuf_append(out, addr, plus != NULL ? (size_t)(plus - addr) : llen);
		return true;
	case PART_DETAIL:
		if (plus == NULL)
			return false;
		strbuf_append(out, plus + 1, llen - (size_t)(plus + 1 - addr));
		return true;
	}
	return false;
}

struct addr_walk {
	struct sieve_run *r;
	enum sieve_part part;
	sieve_value_cb *cb;
	void *ctx;
	bool hit;
	struct strbuf a, p;
};

static bool addr_one(const struct imap_address *a, void *ctx)
{
	struct addr_walk *w = ctx;

	if (a->group_start || a->group_end || a->mailbox == NULL)
		return true;
	strbuf_truncate(&w->a, 0);
	strbuf_truncate(&w->p, 0);
	strbuf_append_str(&w->a, a->mailbox);
	if (a->host != NULL) {
		strbuf_append_c(&w->a, '@');
		strbuf_append_str(&w->a, a->host);
	}
	if (!sieve_addr_part(strbuf_cstr(&w->a), w->part, &w->p))
		return true;
	w->hit = w->cb(w->r, strbuf_cstr(&w->p), w->p.len, w->ctx);
	return !w->hit;
}

static bool addr_field(struct sieve_run *r, const char *v, size_t len, void *ctx)
{
	struct addr_walk *w = ctx;

	imap_address_list_each(v, len, addr_one, w);
	return w->hit;
}

bool sieve_msg_addresses(struct sieve_run *r, const char *name, enum sieve_part part,
			 int32_t index, bool last, sieve_value_cb *cb, void *ctx)
{
	struct addr_walk w = { r, part, cb, ctx, false, STRBUF_INIT, STRBUF_INIT };

	sieve_msg_headers(r, name, false, index, last, addr_field, &w);
	strbuf_free(&w.a);
	strbuf_free(&w.p);
	return w.hit;
}

static bool type_wanted(struct sieve_run *r, const struct mime_part *part, uint32_t types)
{
	const struct sieve_list *l;
	struct strbuf t = STRBUF_INIT;
	bool ok = false;

	if (types == 0)
		return true;
	l = &r->s->lists[types];
	for (uint32_t i = 0; i < l->count && !ok; i++) {
		const char *slash;

		strbuf_truncate(&t, 0);
		sieve_run_expand(r, l->first + i, &t);
		slash = strchr(strbuf_cstr(&t), '/');
		if (t.len == 0)
			ok = true;
		else if (slash == NULL)
			ok = strcasecmp(strbuf_cstr(&t), part->type) == 0;
		else
			ok = (size_t)(slash - t.data) == strlen(part->type) &&
			     strncasecmp(t.data, part->type, strlen(part->type)) == 0 &&
			     strcasecmp(slash + 1, part->subtype) == 0;
	}
	strbuf_free(&t);
	return ok;
}

/* The text of an HTML part for body :text (RFC 5173 5.2 asks for the
 * "textual content"): tags dropped, script and style contents skipped,
 * a few entities decoded (&amp; &lt; &gt; &quot; &#39; &nbsp; &#N;). */
static void html_to_text(const char *in, size_t len, struct strbuf *out)
{
	static const struct { const char *name; const char *text; } ents[] = {
		{ "amp;", "&" }, { "lt;", "<" }, { "gt;", ">" }, { "quot;", "\"" },
		{ "#39;", "'" }, { "nbsp;", "\xc2\xa0" },
	};

	for (size_t i = 0; i < len;) {
		if (in[i] == '<') {
			const char *end = memchr(in + i, '>', len - i);
			bool skip = len - i > 7 && (strncasecmp(in + i, "<script", 7) == 0 ||
						    strncasecmp(in + i, "<style", 6) == 0);

			if (end == NULL)
				break;
			i = (size_t)(end - in) + 1;
			if (skip) {
				/* to the next closing tag */
				while (i + 1 < len && !(in[i] == '<' && in[i + 1] == '/'))
					i++;
			}
			continue;
		}
		if (in[i] == '&') {
			size_t k;

			for (k = 0; k < sizeof(ents) / sizeof(ents[0]); k++) {
				size_t n = strlen(ents[k].name);

				if (len - i - 1 >= n && strncasecmp(in + i + 1, ents[k].name, n) == 0) {
					strbuf_append_str(out, ents[k].text);
					i += n + 1;
					break;
				}
			}
			if (k < sizeof(ents) / sizeof(ents[0]))
				continue;
		}
		strbuf_append_c(out, in[i]);
		i++;
	}
}

static bool body_parts(struct sieve_run *r, const struct mime_part *part, enum sieve_body how,
		       uint32_t types, sieve_value_cb *cb, void *ctx, struct strbuf *buf)
{
	for (; part != NULL; part = part->next) {
		if (part->children != NULL && (part->is_multipart || part->is_message)) {
			if (body_parts(r, part->children, how, types, cb, ctx, buf))
				return true;
			continue;
		}
		if (how == BODY_TEXT ? strcasecmp(part->type, "text") != 0 :
		    !type_wanted(r, part, types))
			continue;
		strbuf_truncate(buf, 0);
		if (mime_part_text_decode(r->mime, part, buf) < 0) {
			size_t n = part->body_size;

			strbuf_append(buf, r->mime->data + part->body_offset, n);
		} else if (how == BODY_TEXT && strcasecmp(part->subtype, "html") == 0) {
			struct strbuf html = *buf;

			strbuf_init(buf);
			html_to_text(html.data != NULL ? html.data : "", html.len, buf);
			strbuf_free(&html);
		}
		if (buf->len > r->lim->max_body)
			strbuf_truncate(buf, r->lim->max_body);
		if (cb(r, buf->data != NULL ? buf->data : "", buf->len, ctx))
			return true;
	}
	return false;
}

bool sieve_msg_body(struct sieve_run *r, enum sieve_body how, uint32_t types_list,
		    sieve_value_cb *cb, void *ctx)
{
	struct strbuf buf = STRBUF_INIT;
	bool hit;

	if (how == BODY_RAW) {
		size_t hs = header_size(r), n = r->msg->size - hs;

		if (n > r->lim->max_body)
			n = r->lim->max_body;
		return cb(r, r->msg->data + hs, n, ctx);
	}
	if (r->mime == NULL) {
		struct mime_limits ml = { 20, 500 };
		const char *error;

		if (mime_message_parse(r->msg->data, r->msg->size, &ml, &r->mime, &error) < 0)
			return false;
	}
	hit = body_parts(r, r->mime->root, how, types_list, cb, ctx, &buf);
	strbuf_free(&buf);
	return hit;
}
