/* vCard 3.0 and 4.0 reading and 4.0 writing (vcard.h). Pure. */
#include "mail/vcard.h"
#include "lib/str.h"
#include "mail/charset.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

bool vcard_address_ok(const char *a)
{
	const char *at = strrchr(a, '@');
	size_t n = strlen(a);

	if (at == NULL || at == a || at[1] == '\0' || n > VCARD_ADDRESS_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)a[i];
		if (c <= 0x20 || c >= 0x7f || strchr("<>()[],;:\"\\", c) != NULL)
			return false;
	}
	return strchr(a, '@') == at;
}

/* One card being read. */
struct card_state {
	struct vcard card;
	bool in, version_ok, has_fn, too_long, bad_utf8;
	char n_name[VCARD_NAME_MAX + 1];
	const char *error;
};

/* Unescapes a value (\n \N \, \; \\) into out (at most size - 1 bytes):
 * -1 when it does not fit. structured: stop at an unescaped ';' (N). */
static int unescape(const char *v, size_t len, char *out, size_t size, bool structured, size_t *used_r)
{
	size_t o = 0, i = 0;

	for (; i < len; i++) {
		char c = v[i];

		if (structured && c == ';')
			break;
		if (c == '\\' && i + 1 < len) {
			char e = v[++i];
			c = e == 'n' || e == 'N' ? '\n' : e;
		}
		if (o + 1 >= size)
			return -1;
		out[o++] = c;
	}
	out[o] = '\0';
	if (used_r != NULL)
		*used_r = i;
	return 0;
}

/* The value of parameter name (case-insensitive) in params ("TYPE=work;
 * PREF=1"), the first of a list, lowercased into out; false when absent. */
static bool param_first(const char *params, size_t len, const char *name, char *out, size_t size)
{
	size_t nl = strlen(name), i = 0;

	while (i < len) {
		size_t j = i;

		while (j < len && params[j] != ';')
			j++;
		/* TYPE=a,b or a 2.1-style bare "WORK" counts as TYPE */
		if (j - i > nl && strncasecmp(params + i, name, nl) == 0 && params[i + nl] == '=') {
			const char *v = params + i + nl + 1, *end = params + j;
			size_t n;

			for (;;) {
				const char *comma = memchr(v, ',', (size_t)(end - v));
				const char *stop = comma != NULL ? comma : end;

				if (*v == '"')
					v++;
				n = (size_t)(stop - v);
				if (n > 0 && v[n - 1] == '"')
					n--;
				if (n > 0 && !(n == 8 && strncasecmp(v, "internet", 8) == 0) &&
				    !(n == 4 && strncasecmp(v, "pref", 4) == 0) && n < size) {
					memcpy(out, v, n);
					out[n] = '\0';
					str_lower(out);
					return true;
				}
				if (comma == NULL)
					break;
				v = comma + 1;
			}
		}
		i = j + 1;
	}
	return false;
}

static void prop_email(struct card_state *st, const char *params, size_t plen, const char *v, size_t vlen)
{
	struct vcard_email *e;
	char addr[VCARD_ADDRESS_MAX + 2];
	size_t s = 0;

	while (vlen > 0 && (v[vlen - 1] == ' ' || v[vlen - 1] == '\t'))
		vlen--;
	while (s < vlen && (v[s] == ' ' || v[s] == '\t'))
		s++;
	if (vlen - s >= 7 && strncasecmp(v + s, "mailto:", 7) == 0)
		s += 7;
	if (unescape(v + s, vlen - s, addr, sizeof(addr), false, NULL) < 0 || !vcard_address_ok(addr)) {
		st->error = "an EMAIL is not a usable address";
		return;
	}
	for (size_t i = 0; i < st->card.nemails; i++) {
		if (strcasecmp(st->card.emails[i].address, addr) == 0)
			return;
	}
	if (st->card.nemails == VCARD_EMAILS_MAX) {
		st->error = "too many EMAIL lines";
		return;
	}
	e = &st->card.emails[st->card.nemails++];
	str_copy(e->address, sizeof(e->address), addr);
	if (!param_first(params, plen, "type", e->label, sizeof(e->label)))
		e->label[0] = '\0';
}

/* N: family;given;additional;prefix;suffix, as "given family". */
static void prop_n(struct card_state *st, const char *v, size_t vlen)
{
	char family[VCARD_NAME_MAX + 1], given[VCARD_NAME_MAX + 1];
	size_t used = 0;

	if (unescape(v, vlen, family, sizeof(family), true, &used) < 0 ||
	    unescape(v + (used < vlen ? used + 1 : used), used < vlen ? vlen - used - 1 : 0, given, sizeof(given),
		     true, NULL) < 0) {
		st->too_long = true;
		return;
	}
	snprintf(st->n_name, sizeof(st->n_name), "%s%s%s", given, given[0] != '\0' && family[0] != '\0' ? " " : "",
		 family);
}

/* One unfolded content line of a card. */
static void card_line(struct card_state *st, const char *line, size_t len)
{
	const char *colon = memchr(line, ':', len), *name = line, *params = "";
	size_t nlen, plen = 0, vlen;
	const char *v, *dot, *semi;

	if (colon == NULL)
		return;	/* not a content line: ignored */
	v = colon + 1;
	vlen = len - (size_t)(v - line);
	nlen = (size_t)(colon - line);
	semi = memchr(line, ';', nlen);
	if (semi != NULL) {
		params = semi + 1;
		plen = (size_t)(colon - params);
		nlen = (size_t)(semi - line);
	}
	dot = memchr(name, '.', nlen);	/* a group: "item1.EMAIL" */
	if (dot != NULL) {
		nlen -= (size_t)(dot + 1 - name);
		name = dot + 1;
	}
	if (!charset_utf8_is_valid(v, vlen))
		st->bad_utf8 = true;
	else if (nlen == 7 && strncasecmp(name, "VERSION", 7) == 0)
		st->version_ok = (vlen == 3 && (memcmp(v, "3.0", 3) == 0 || memcmp(v, "4.0", 3) == 0));
	else if (nlen == 2 && strncasecmp(name, "FN", 2) == 0) {
		st->too_long |= unescape(v, vlen, st->card.name, sizeof(st->card.name), false, NULL) < 0;
		st->has_fn = true;
	} else if (nlen == 1 && strncasecmp(name, "N", 1) == 0)
		prop_n(st, v, vlen);
	else if (nlen == 5 && strncasecmp(name, "EMAIL", 5) == 0)
		prop_email(st, params, plen, v, vlen);
	else if (nlen == 4 && strncasecmp(name, "NOTE", 4) == 0)
		st->too_long |= unescape(v, vlen, st->card.note, sizeof(st->card.note), false, NULL) < 0;
}

/* The card just ended: its fault, or NULL when it is good. */
static const char *card_fault(struct card_state *st)
{
	if (!st->version_ok)
		return "VERSION must be 3.0 or 4.0";
	if (st->bad_utf8)
		return "not UTF-8";
	if (st->too_long)
		return "a value is too long";
	if (st->error != NULL)
		return st->error;
	if (st->card.nemails == 0)
		return "no e-mail address";
	if (!st->has_fn || st->card.name[0] == '\0')
		str_copy(st->card.name, sizeof(st->card.name), st->n_name);
	return NULL;
}

/* The next unfolded line from data at *pos into buf (truncated past its
 * size, *long_r set): false at the end. */
static bool next_line(const char *data, size_t len, size_t *pos, struct strbuf *buf, size_t max, bool *long_r)
{
	size_t i = *pos;

	strbuf_truncate(buf, 0);
	*long_r = false;
	if (i >= len)
		return false;
	for (;;) {
		const char *nl = memchr(data + i, '\n', len - i);
		size_t end = nl != NULL ? (size_t)(nl - data) : len;
		size_t body = end > i && data[end - 1] == '\r' ? end - 1 : end;

		if (buf->len + (body - i) > max)
			*long_r = true;
		else
			strbuf_append(buf, data + i, body - i);
		i = nl != NULL ? end + 1 : len;
		if (i < len && (data[i] == ' ' || data[i] == '\t'))
			i++;	/* a folded line goes on */
		else
			break;
	}
	*pos = i;
	return true;
}

int vcard_parse(const char *data, size_t len, const struct vcard_limits *lim, vcard_card_cb *good,
		vcard_bad_cb *bad, void *ctx, const char **error_r)
{
	struct strbuf line = STRBUF_INIT;
	struct card_state st;
	size_t pos = 0;
	unsigned number = 0;
	bool lng, any = false;
	int r = 0;

	memset(&st, 0, sizeof(st));
	if (len >= 3 && memcmp(data, "\xef\xbb\xbf", 3) == 0)
		pos = 3;	/* a byte order mark */
	while (r == 0 && next_line(data, len, &pos, &line, lim->max_line, &lng)) {
		const char *l = strbuf_cstr(&line);

		if (strncasecmp(l, "BEGIN:VCARD", 11) == 0 && l[11 + strspn(l + 11, " \t")] == '\0') {
			if (st.in)
				bad(number, "no END:VCARD", ctx);
			memset(&st, 0, sizeof(st));
			st.in = true;
			any = true;
			if (++number > lim->max_cards) {
				bad(number, "too many cards", ctx);
				break;
			}
		} else if (st.in && strncasecmp(l, "END:VCARD", 9) == 0 && l[9 + strspn(l + 9, " \t")] == '\0') {
			const char *fault = card_fault(&st);

			st.in = false;
			if (fault != NULL)
				bad(number, fault, ctx);
			else
				r = good(&st.card, number, ctx);
		} else if (st.in && lng) {
			st.too_long = true;
		} else if (st.in) {
			card_line(&st, l, line.len);
		}
	}
	if (st.in && r == 0 && number <= lim->max_cards)
		bad(number, "no END:VCARD", ctx);
	strbuf_free(&line);
	if (!any) {
		*error_r = "no BEGIN:VCARD: this is not a vCard file";
		return -1;
	}
	if (r < 0) {
		*error_r = "stopped";
		return -1;
	}
	return (int)(number > lim->max_cards ? lim->max_cards : number);
}

/* ---- writing ---- */

/* Appends one content line "name:value" with the value escaped and the
 * line folded at 75 bytes between characters. */
static void write_prop(struct strbuf *out, const char *name, const char *value)
{
	struct strbuf l = STRBUF_INIT;
	size_t col = 0;

	strbuf_append_str(&l, name);
	strbuf_append_c(&l, ':');
	for (const char *p = value; *p != '\0'; p++) {
		if (*p == '\\' || *p == ',' || *p == ';') {
			strbuf_append_c(&l, '\\');
			strbuf_append_c(&l, *p);
		} else if (*p == '\n') {
			strbuf_append_str(&l, "\\n");
		} else if (*p != '\r') {
			strbuf_append_c(&l, *p);
		}
	}
	for (size_t i = 0; i < l.len;) {
		size_t n = str_utf8_char_len(l.data + i, l.len - i);

		if (n == 0)
			n = 1;
		if (col + n > 75) {
			strbuf_append_str(out, "\r\n ");
			col = 1;
		}
		strbuf_append(out, l.data + i, n);
		col += n;
		i += n;
	}
	strbuf_append_str(out, "\r\n");
	strbuf_free(&l);
}

void vcard_write(struct strbuf *out, const struct vcard *card)
{
	strbuf_append_str(out, "BEGIN:VCARD\r\nVERSION:4.0\r\n");
	write_prop(out, "FN", card->name);
	for (size_t i = 0; i < card->nemails; i++) {
		char name[80];
		bool plain = card->emails[i].label[0] != '\0';

		for (const char *p = card->emails[i].label; plain && *p != '\0'; p++)
			plain = (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-';
		snprintf(name, sizeof(name), "EMAIL%s%s", plain ? ";TYPE=" : "", plain ? card->emails[i].label : "");
		write_prop(out, name, card->emails[i].address);
	}
	if (card->note[0] != '\0')
		write_prop(out, "NOTE", card->note);
	strbuf_append_str(out, "END:VCARD\r\n");
}
