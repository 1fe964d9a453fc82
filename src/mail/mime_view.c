#include "mail/mime_view.h"
#include "mail/mime_decode.h"
#include "mail/rfc2047.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct walk {
	mime_view_cb *cb;
	void *ctx;
	bool have_text, have_html;
};

static const char *disposition_param(const struct mime_part *p, const char *name)
{
	for (unsigned int i = 0; i < p->disposition_param_count; i++) {
		if (strcmp(p->disposition_params[i].name, name) == 0)
			return p->disposition_params[i].value;
	}
	return NULL;
}

static bool is_attachment(const struct mime_part *p)
{
	return p->disposition != NULL && strcmp(p->disposition, "attachment") == 0;
}

static bool has_name(const struct mime_part *p)
{
	return disposition_param(p, "filename") != NULL || mime_part_param(p, "name") != NULL;
}

static bool in_related(const struct mime_part *p)
{
	return p->parent != NULL && mime_part_is_type(p->parent, "multipart", "related");
}

static enum mime_view_kind leaf_kind(struct walk *w, const struct mime_part *p)
{
	if (!is_attachment(p) && !p->is_message) {
		if (!w->have_text && mime_part_is_type(p, "text", "plain") && !has_name(p)) {
			w->have_text = true;
			return MIME_VIEW_TEXT;
		}
		if (!w->have_html && mime_part_is_type(p, "text", "html") && !has_name(p)) {
			w->have_html = true;
			return MIME_VIEW_HTML;
		}
		if (p->id != NULL && in_related(p))
			return MIME_VIEW_INLINE;
	}
	return MIME_VIEW_ATTACHMENT;
}

static void walk_part(struct walk *w, const struct mime_part *p, const char *id)
{
	char child_id[MIME_PART_ID_MAX];
	unsigned int n = 1;

	if (!p->is_multipart) {
		w->cb(p, id, leaf_kind(w, p), w->ctx);
		return;
	}
	for (const struct mime_part *c = p->children; c != NULL; c = c->next, n++) {
		int len = id[0] != '\0' ? snprintf(child_id, sizeof(child_id), "%s.%u", id, n)
					: snprintf(child_id, sizeof(child_id), "%u", n);
		if (len < 0 || (size_t)len >= sizeof(child_id))
			return;	/* deeper than any id we hand out */
		walk_part(w, c, child_id);
	}
}

void mime_view_walk(const struct mime_message *msg, mime_view_cb *cb, void *ctx)
{
	struct walk w = { cb, ctx, false, false };

	if (msg->root == NULL)
		return;
	walk_part(&w, msg->root, msg->root->is_multipart ? "" : "1");
}

const struct mime_part *mime_view_part_find(const struct mime_message *msg, const char *id)
{
	const struct mime_part *p = msg->root;
	const char *s = id;

	if (p == NULL || id == NULL || *id == '\0')
		return NULL;
	if (!p->is_multipart)
		return strcmp(id, "1") == 0 ? p : NULL;
	while (*s != '\0') {
		char *end;
		unsigned long n;

		if (*s < '1' || *s > '9')
			return NULL;
		n = strtoul(s, &end, 10);
		if (!p->is_multipart || (*end != '.' && *end != '\0') || n > 100000)
			return NULL;
		p = p->children;
		for (unsigned long i = 1; p != NULL && i < n; i++)
			p = p->next;
		if (p == NULL)
			return NULL;
		s = *end == '.' ? end + 1 : end;
		if (*end == '.' && *s == '\0')
			return NULL;
	}
	return p;
}

void mime_view_filename(const struct mime_part *part, struct strbuf *out)
{
	const char *v = disposition_param(part, "filename");
	bool extended = false;
	size_t start = out->len;

	for (unsigned int i = 0; v != NULL && i < part->disposition_param_count; i++) {
		if (strcmp(part->disposition_params[i].name, "filename") == 0)
			extended = part->disposition_params[i].extended;
	}
	if (v == NULL) {
		for (unsigned int i = 0; i < part->param_count; i++) {
			if (strcmp(part->params[i].name, "name") == 0) {
				v = part->params[i].value;
				extended = part->params[i].extended;
				break;
			}
		}
	}
	if (v == NULL)
		return;
	if (extended)
		strbuf_append_str(out, v);
	else
		rfc2047_decode(v, strlen(v), out);
	for (size_t i = start; i < out->len; i++) {
		unsigned char c = (unsigned char)out->data[i];
		if (c < 0x20 || c == 0x7f || c == '/' || c == '\\')
			out->data[i] = '_';
	}
}

void mime_view_body_decode(const struct mime_message *msg, const struct mime_part *part,
			   struct strbuf *out)
{
	const char *body = msg->data + part->body_offset;
	size_t len = part->body_size;

	if (strcasecmp(part->encoding, "base64") == 0)
		(void)mime_base64_decode(body, len, out);
	else if (strcasecmp(part->encoding, "quoted-printable") == 0)
		(void)mime_qp_decode(body, len, out);
	else
		strbuf_append(out, body, len);
}

void mime_view_content_id(const struct mime_part *part, struct strbuf *out)
{
	const char *s = part->id;
	size_t len;

	if (s == NULL)
		return;
	while (*s == ' ' || *s == '\t')
		s++;
	if (*s == '<')
		s++;
	len = strcspn(s, ">");
	while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t'))
		len--;
	strbuf_append(out, s, len);
}

static bool attr_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       strchr("!#$&+-.^_`|~", c) != NULL;
}

/* The length of name's prefix that fits budget bytes once each byte
 * costs cost(c), cut before a UTF-8 continuation byte. */
static size_t fit(const char *name, size_t budget, bool encoded)
{
	size_t used = 0, i = 0, last_ok = 0;

	for (; name[i] != '\0'; i++) {
		unsigned char c = (unsigned char)name[i];
		size_t cost = encoded ? (attr_char(c) ? 1 : 3) : 1;

		if ((c & 0xc0) != 0x80)
			last_ok = i;
		if (used + cost > budget)
			return (c & 0xc0) == 0x80 ? last_ok : i;
		used += cost;
	}
	return i;
}

void mime_view_disposition(bool attachment, const char *name, const char *fallback, char *out,
			   size_t size)
{
	const char *type = attachment ? "attachment" : "inline";
	bool ascii = true;
	size_t n, len, half;

	if (name == NULL || name[0] == '\0')
		name = fallback != NULL && fallback[0] != '\0' ? fallback : "file";
	for (const char *s = name; *s != '\0'; s++) {
		if ((unsigned char)*s >= 0x7f || (unsigned char)*s < 0x20 || *s == '"' || *s == '\\')
			ascii = false;
	}
	len = (size_t)snprintf(out, size, "%s; filename=\"", type);
	/* room: the quoted name and, when needed, the encoded one */
	half = size > len + 40 ? (size - len - 40) / (ascii ? 1 : 2) : 0;
	n = fit(name, half, false);
	for (size_t i = 0; i < n && len + 2 < size; i++) {
		unsigned char c = (unsigned char)name[i];
		if ((c & 0xc0) == 0x80)
			continue;	/* one '_' per character */
		out[len++] = c >= 0x7f || c < 0x20 || c == '"' || c == '\\' ? '_' : (char)c;
	}
	out[len++] = '"';
	out[len] = '\0';
	if (ascii)
		return;
	len += (size_t)snprintf(out + len, size - len, "; filename*=UTF-8''");
	n = fit(name, size - len - 1, true);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)name[i];
		if (attr_char(c)) {
			out[len++] = (char)c;
		} else {
			snprintf(out + len, size - len, "%%%02X", c);
			len += 3;
		}
	}
	out[len] = '\0';
}
