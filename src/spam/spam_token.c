/* The spam tokenizer: the feature set, the header fields and the walk over
 * the MIME parts. Words, URLs and HTML are in spam_text.c and spam_html.c. */
#include "spam/spam_token.h"

#include "mail/header.h"
#include "mail/mime.h"
#include "mail/rfc2047.h"
#include "spam/spam_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

uint32_t spam_hash(const char *prefix, const char *text, size_t len)
{
	uint32_t h = SPAM_HASH_SEED;

	if (prefix != NULL) {
		h = spam_hash_step(h, prefix, strlen(prefix));
		h = (h ^ 0xffu) * 16777619u;
	}
	return spam_hash_mix(spam_hash_step(h, text, len));
}

/* The set has room for the most features from the start, but uses (and
 * clears) only this many slots at first, doubling them when a quarter
 * full (the probes stay short): a short message neither clears nor
 * touches the room of the largest one. */
#define SPAM_SET_FIRST 4096

void spam_tokens_init(struct spam_tokens *t, const struct spam_token_limits *limits,
		      bool keep_text)
{
	size_t cap = limits->max_tokens > 0 ? limits->max_tokens : 1, size = 16;

	memset(t, 0, sizeof(*t));
	while (size < cap * 2)
		size *= 2;
	t->cap = cap;
	t->set_max = size;
	t->hash = malloc(cap * sizeof(*t->hash));
	t->set = malloc(size * sizeof(*t->set));
	size = size < SPAM_SET_FIRST ? size : SPAM_SET_FIRST;
	t->set_mask = size - 1;
	t->keep_text = keep_text;
	if (keep_text)
		t->text_off = malloc(cap * sizeof(*t->text_off));
	if (t->hash == NULL || t->set == NULL || (keep_text && t->text_off == NULL))
		abort();
	memset(t->set, 0, size * sizeof(*t->set));
}

void spam_tokens_reset(struct spam_tokens *t)
{
	/* clearing only the used slots keeps a short message cheap */
	for (size_t i = 0; i < t->count; i++) {
		size_t slot = t->hash[i] & t->set_mask;

		while (t->set[slot] != 0) {
			t->set[slot] = 0;
			slot = (slot + 1) & t->set_mask;
		}
	}
	t->count = 0;
	t->truncated = false;
	strbuf_truncate(&t->text, 0);
}

void spam_tokens_free(struct spam_tokens *t)
{
	if (t == NULL)
		return;
	free(t->hash);
	free(t->set);
	free(t->text_off);
	strbuf_free(&t->text);
	memset(t, 0, sizeof(*t));
}

const char *spam_tokens_text(const struct spam_tokens *t, size_t i)
{
	if (!t->keep_text || i >= t->count)
		return "";
	return t->text.data + t->text_off[i];
}

/* The slot of key (hash + 1, never 0) in set: where it is, or the empty
 * slot where it goes. */
static size_t spam_set_slot(const uint32_t *set, size_t mask, uint32_t hash)
{
	uint32_t key = hash + 1 != 0 ? hash + 1 : 1;
	size_t slot = hash & mask;

	while (set[slot] != 0 && set[slot] != key)
		slot = (slot + 1) & mask;
	return slot;
}

/* Doubles the slots in use and puts the features back. */
static void spam_set_grow(struct spam_tokens *t)
{
	size_t size = (t->set_mask + 1) * 2;

	memset(t->set, 0, size * sizeof(*t->set));
	t->set_mask = size - 1;
	for (size_t i = 0; i < t->count; i++) {
		uint32_t h = t->hash[i];

		t->set[spam_set_slot(t->set, t->set_mask, h)] = h + 1 != 0 ? h + 1 : 1;
	}
}

bool spam_tokens_add_hash(struct spam_tokens *t, uint32_t hash, const char *text, size_t len)
{
	uint32_t key = hash + 1 != 0 ? hash + 1 : 1;
	size_t slot = spam_set_slot(t->set, t->set_mask, hash);

	if (t->set[slot] == key)
		return true;
	if (t->count >= t->cap) {
		t->truncated = true;
		return false;
	}
	if ((t->count + 1) * 4 > t->set_mask + 1 && t->set_mask + 1 < t->set_max) {
		spam_set_grow(t);
		slot = spam_set_slot(t->set, t->set_mask, hash);
	}
	t->set[slot] = key;
	if (t->keep_text) {
		t->text_off[t->count] = (uint32_t)t->text.len;
		strbuf_append(&t->text, text, len);
		strbuf_append_c(&t->text, '\0');
	}
	t->hash[t->count++] = hash;
	return true;
}

bool spam_tokens_add(struct spam_tokens *t, const char *prefix, const char *text, size_t len)
{
	char buf[96];
	size_t plen = prefix != NULL ? strlen(prefix) : 0;

	/* a long label (a charset name, a host) counts by its beginning */
	if (len > SPAM_TEXT_MAX)
		len = SPAM_TEXT_MAX;

	if (t->keep_text && plen + len + 1 < sizeof(buf)) {
		memcpy(buf, prefix != NULL ? prefix : "", plen);
		memcpy(buf + plen, text, len);
		return spam_tokens_add_hash(t, spam_hash(prefix, text, len), buf, plen + len);
	}
	return spam_tokens_add_hash(t, spam_hash(prefix, text, len), text, len);
}

void spam_feature(struct spam_tok_ctx *c, const char *name)
{
	spam_tokens_add(c->t, "_f:", name, strlen(name));
}

/* A bucket name for a count: "0", "1", "2", "3-4", "5-8", "9-16", "17+". */
static void spam_feature_count(struct spam_tok_ctx *c, const char *name, size_t n)
{
	static const char *const names[] = { "0", "1", "2", "3-4", "5-8", "9-16", "17-32", "33+" };
	char buf[64];
	unsigned b = n <= 2 ? (unsigned)n : n <= 4 ? 3 : n <= 8 ? 4 : n <= 16 ? 5 : n <= 32 ? 6 : 7;

	snprintf(buf, sizeof(buf), "%s:%s", name, names[b]);
	spam_feature(c, buf);
}

/* The domain of the first address in a decoded header value, lowercased,
 * into buf; "" when there is none. */
static void spam_addr_domain(const char *v, size_t len, char *buf, size_t size)
{
	const char *at = memchr(v, '@', len);
	size_t n = 0;

	buf[0] = '\0';
	if (at == NULL)
		return;
	for (const char *p = at + 1; p < v + len && n + 1 < size; p++) {
		if (*p == '>' || *p == ' ' || *p == ',' || *p == ')' || *p == '"' || *p == ';')
			break;
		buf[n++] = (char)((*p >= 'A' && *p <= 'Z') ? *p + 32 : *p);
	}
	buf[n] = '\0';
}

/* The field name lowercased, cut to fit, with ':' after it. */
static void spam_field_prefix(const struct mail_header_field *f, char *buf, size_t size)
{
	size_t n = f->name_len < size - 2 ? f->name_len : size - 2;

	for (size_t i = 0; i < n; i++) {
		char ch = f->name[i];
		buf[i] = (char)((ch >= 'A' && ch <= 'Z') ? ch + 32 : ch);
	}
	buf[n] = ':';
	buf[n + 1] = '\0';
}

static size_t spam_count_addresses(const char *v, size_t len)
{
	size_t n = 0;

	for (size_t i = 0; i < len; i++)
		n += v[i] == '@';
	return n;
}

/* Fields whose words mean the same at any site: not the path a message
 * took to one server, nor its recipients' addresses, nor dates and IDs. */
static bool spam_field_is_portable(const struct mail_header_field *f)
{
	static const char *const names[] = {
		"Subject", "From", "Reply-To", "Sender", "Content-Type", "Content-Transfer-Encoding",
		"MIME-Version", "X-Mailer", "User-Agent", "X-Priority", "X-MSMail-Priority",
		"Importance", "Organization", "Precedence", "List-Unsubscribe",
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (mail_header_field_is(f, names[i]))
			return true;
	}
	return false;
}

struct spam_head_info {
	size_t received, rcpts;
	bool date, msgid, from, subject;
	char from_domain[128], reply_domain[128];
};

/* Header fields of the message (or of a part: prefix "part-"). */
static void spam_headers(struct spam_tok_ctx *c, const char *data, size_t size, bool top,
			 struct spam_head_info *hi)
{
	struct mail_header_iter it;
	struct mail_header_field f;
	struct strbuf v = STRBUF_INIT;
	char prefix[40];

	mail_header_iter_init(&it, data, size);
	while (mail_header_iter_next(&it, &f)) {
		spam_field_prefix(&f, prefix + (top ? 0 : 5), sizeof(prefix) - 5);
		if (!top)
			memcpy(prefix, "part-", 5);
		strbuf_truncate(&v, 0);
		rfc2047_decode(f.value, f.value_len, &v);
		if (memmem(f.value, f.value_len, "=?", 2) != NULL)
			spam_tokens_add(c->t, "_f:encoded:", prefix, strlen(prefix));
		if (top) {
			if (mail_header_field_is(&f, "Received"))
				hi->received++;
			else if (mail_header_field_is(&f, "Date"))
				hi->date = true;
			else if (mail_header_field_is(&f, "Message-ID"))
				hi->msgid = true;
			else if (mail_header_field_is(&f, "To") || mail_header_field_is(&f, "Cc"))
				hi->rcpts += spam_count_addresses(v.data, v.len);
			else if (mail_header_field_is(&f, "From")) {
				hi->from = true;
				spam_addr_domain(v.data, v.len, hi->from_domain, sizeof(hi->from_domain));
			} else if (mail_header_field_is(&f, "Reply-To"))
				spam_addr_domain(v.data, v.len, hi->reply_domain, sizeof(hi->reply_domain));
			if (mail_header_field_is(&f, "Subject")) {
				hi->subject = true;
				/* the subject also counts as text */
				spam_text_words(c, NULL, strbuf_cstr(&v), v.len, true);
			}
		}
		if (top && c->limits->portable && !spam_field_is_portable(&f))
			continue;
		spam_tokens_add(c->t, "_h:", prefix, strlen(prefix));
		spam_text_words(c, prefix, strbuf_cstr(&v), v.len, false);
	}
	strbuf_free(&v);
}

static void spam_head_features(struct spam_tok_ctx *c, const struct spam_head_info *hi)
{
	spam_feature_count(c, "received", hi->received);
	spam_feature_count(c, "rcpts", hi->rcpts);
	if (!hi->date)
		spam_feature(c, "no-date");
	if (!hi->msgid)
		spam_feature(c, "no-message-id");
	if (!hi->subject)
		spam_feature(c, "no-subject");
	if (hi->reply_domain[0] != '\0' && strcmp(hi->reply_domain, hi->from_domain) != 0)
		spam_feature(c, "reply-to-other-domain");
}

struct spam_body_info {
	size_t text_parts, html_parts, images, attachments, text_bytes;
	struct spam_html_info html;
};

/* The attachment's type and the extension of its file name. */
static void spam_attachment(struct spam_tok_ctx *c, const struct mime_part *p,
			    struct spam_body_info *bi)
{
	const char *name = NULL, *dot;
	char buf[80];

	snprintf(buf, sizeof(buf), "%s/%s", p->type, p->subtype);
	spam_tokens_add(c->t, "att-type:", buf, strlen(buf));
	if (strcmp(p->type, "image") == 0)
		bi->images++;
	else
		bi->attachments++;
	for (unsigned i = 0; i < p->disposition_param_count && name == NULL; i++) {
		if (strcmp(p->disposition_params[i].name, "filename") == 0)
			name = p->disposition_params[i].value;
	}
	if (name == NULL)
		name = mime_part_param(p, "name");
	if (name == NULL)
		return;
	dot = strrchr(name, '.');
	if (dot != NULL && strlen(dot + 1) <= 8)
		spam_tokens_add(c->t, "att-ext:", dot + 1, strlen(dot + 1));
	spam_text_words(c, "att-name:", name, strlen(name), false);
}

static void spam_text_part(struct spam_tok_ctx *c, const struct mime_message *msg,
			   const struct mime_part *p, struct spam_body_info *bi,
			   struct strbuf *text, struct strbuf *html)
{
	bool is_html = strcmp(p->subtype, "html") == 0;

	strbuf_truncate(text, 0);
	if (mime_part_text_decode(msg, p, text) < 0)
		return;
	spam_tokens_add(c->t, "charset:", mime_part_charset(p), strlen(mime_part_charset(p)));
	if (is_html) {
		bi->html_parts++;
		strbuf_truncate(html, 0);
		spam_html_to_text(c, text->data != NULL ? text->data : "", text->len, html, &bi->html);
		spam_text_urls(c, strbuf_cstr(html), html->len);
		spam_text_words(c, NULL, strbuf_cstr(html), html->len, true);
		bi->text_bytes += html->len;
	} else {
		bi->text_parts++;
		spam_text_urls(c, strbuf_cstr(text), text->len);
		spam_text_words(c, NULL, strbuf_cstr(text), text->len, true);
		bi->text_bytes += text->len;
	}
}

static void spam_body_features(struct spam_tok_ctx *c, const struct spam_body_info *bi)
{
	if (bi->html_parts > 0 && bi->text_parts == 0)
		spam_feature(c, "html-only");
	if (bi->html_parts > 0 && bi->text_parts > 0)
		spam_feature(c, "text-and-html");
	if (bi->images > 0 && bi->text_bytes < 200)
		spam_feature(c, "image-only");
	if (bi->html.hidden)
		spam_feature(c, "html-hidden-text");
	if (bi->html.bad_tags)
		spam_feature(c, "html-bad-markup");
	spam_feature_count(c, "images", bi->images + bi->html.images);
	spam_feature_count(c, "links", bi->html.links);
	spam_feature_count(c, "html-comments", bi->html.comments);
	spam_feature_count(c, "attachments", bi->attachments);
	if (c->words >= 20 && c->caps_words * 4 > c->words)
		spam_feature(c, "many-capitals");
}

void spam_tokenize(const char *msg, size_t size, const struct spam_token_limits *limits,
		   struct spam_tokens *t)
{
	static const struct mime_limits mlim = { 20, 200 };
	struct spam_tok_ctx c;
	struct spam_head_info hi;
	struct spam_body_info bi;
	struct mime_message *m = NULL;
	struct strbuf text = STRBUF_INIT, html = STRBUF_INIT;
	const char *error;

	spam_tokens_reset(t);
	memset(&c, 0, sizeof(c));
	memset(&hi, 0, sizeof(hi));
	memset(&bi, 0, sizeof(bi));
	c.limits = limits;
	c.t = t;
	if (size > limits->max_bytes) {
		size = limits->max_bytes;
		t->truncated = true;
		spam_feature(&c, "big");
	}
	spam_headers(&c, msg, mail_header_block_size(msg, size), true, &hi);
	spam_head_features(&c, &hi);
	if (mime_message_parse(msg, size, &mlim, &m, &error) < 0)
		return;
	for (const struct mime_part *p = m->root; p != NULL;) {
		if (p->depth > 0 && p->header_size > 0)
			spam_headers(&c, msg + p->header_offset, p->header_size, false, &hi);
		if (!p->is_multipart && !p->is_message) {
			if (strcmp(p->type, "text") == 0 &&
			    (p->disposition == NULL || strcmp(p->disposition, "attachment") != 0))
				spam_text_part(&c, m, p, &bi, &text, &html);
			else
				spam_attachment(&c, p, &bi);
		}
		/* depth first: children, then the next sibling, else up */
		if (p->children != NULL) {
			p = p->children;
			continue;
		}
		while (p != NULL && p->next == NULL)
			p = p->parent;
		if (p != NULL)
			p = p->next;
	}
	if (m->limit_reached)
		spam_feature(&c, "mime-limit");
	spam_body_features(&c, &bi);
	mime_message_free(m);
	strbuf_free(&text);
	strbuf_free(&html);
}
