/* FETCH items: macros, simple items and BODY[section]<partial> forms. */
#include "proto/imap_fetch.h"
#include "lib/strbuf.h"

#include <string.h>
#include <strings.h>

static const struct {
	const char *name;
	enum imap_fetch_type type;
} fetch_simple[] = {
	{ "FLAGS", IMAP_FETCH_FLAGS }, { "INTERNALDATE", IMAP_FETCH_INTERNALDATE },
	{ "RFC822", IMAP_FETCH_RFC822 }, { "RFC822.HEADER", IMAP_FETCH_RFC822_HEADER },
	{ "RFC822.SIZE", IMAP_FETCH_RFC822_SIZE }, { "RFC822.TEXT", IMAP_FETCH_RFC822_TEXT },
	{ "ENVELOPE", IMAP_FETCH_ENVELOPE }, { "BODY", IMAP_FETCH_BODY },
	{ "BODYSTRUCTURE", IMAP_FETCH_BODYSTRUCTURE }, { "UID", IMAP_FETCH_UID },
	{ "MODSEQ", IMAP_FETCH_MODSEQ },
};

static bool has_prefix_ci(const char *s, size_t len, const char *prefix)
{
	size_t n = strlen(prefix);

	return len >= n && strncasecmp(s, prefix, n) == 0;
}

static bool is_field_char(unsigned char c)
{
	/* ftext of RFC 5322 minus what cannot stand in an atom */
	return c > 0x20 && c < 0x7f && c != ':' && c != '(' && c != ')' && c != '{' &&
	       c != '"' && c != '\\' && c != '[' && c != ']' && c != '%' && c != '*';
}

/* Parses "(name name ...)" of HEADER.FIELDS; names are atoms or quoted. */
static int section_fields_parse(const char *s, size_t len, struct imap_arena *a,
				struct imap_fetch_section *sec)
{
	const char **fields;
	size_t i = 1, n = 0, max = len / 2 + 1;

	if (len < 3 || s[0] != '(' || s[len - 1] != ')')
		return -1;
	fields = imap_arena_alloc(a, max * sizeof(*fields));
	if (fields == NULL)
		return -1;
	while (i < len - 1) {
		char buf[256];
		size_t blen = 0;

		if (n > 0) {
			if (s[i] != ' ')
				return -1;
			i++;
		}
		if (i < len - 1 && s[i] == '"') {
			for (i++; i < len - 1 && s[i] != '"'; i++) {
				if (s[i] == '\\')
					i++;
				if (i >= len - 1 || blen + 1 >= sizeof(buf) ||
				    !is_field_char((unsigned char)s[i]))
					return -1;
				buf[blen++] = s[i];
			}
			if (i >= len - 1)
				return -1;
			i++;
		} else {
			while (i < len - 1 && is_field_char((unsigned char)s[i])) {
				if (blen + 1 >= sizeof(buf))
					return -1;
				buf[blen++] = s[i++];
			}
		}
		if (blen == 0 || n >= max)
			return -1;
		fields[n] = imap_arena_strndup(a, buf, blen);
		if (fields[n++] == NULL)
			return -1;
	}
	if (n == 0)
		return -1;
	sec->fields = fields;
	sec->nfields = n;
	return 0;
}

/* Parses what is between "[" and "]". parts_only for BINARY. */
static int section_parse(const char *s, size_t len, bool parts_only, struct imap_arena *a,
			 struct imap_fetch_section *sec)
{
	uint32_t *parts;
	size_t i = 0, n = 0;

	memset(sec, 0, sizeof(*sec));
	parts = imap_arena_alloc(a, (len / 2 + 1) * sizeof(*parts));
	if (parts == NULL)
		return -1;
	while (i < len && s[i] >= '0' && s[i] <= '9') {
		size_t start = i;
		uint64_t v;

		while (i < len && s[i] >= '0' && s[i] <= '9')
			i++;
		if (imap_parse_uint64(s + start, i - start, UINT32_MAX, &v) < 0 || v == 0)
			return -1;
		parts[n++] = (uint32_t)v;
		if (i == len)
			break;
		if (s[i] != '.' || i + 1 == len)
			return -1;
		i++;
	}
	sec->parts = parts;
	sec->nparts = n;
	if (i == len)
		return 0;
	if (parts_only)
		return -1;
	s += i;
	len -= i;
	if (len == 4 && strncasecmp(s, "TEXT", 4) == 0) {
		sec->text = IMAP_SECTION_TEXT;
	} else if (len == 4 && strncasecmp(s, "MIME", 4) == 0 && n > 0) {
		sec->text = IMAP_SECTION_MIME;
	} else if (len == 6 && strncasecmp(s, "HEADER", 6) == 0) {
		sec->text = IMAP_SECTION_HEADER;
	} else if (has_prefix_ci(s, len, "HEADER.FIELDS.NOT ")) {
		sec->text = IMAP_SECTION_HEADER_FIELDS_NOT;
		return section_fields_parse(s + 18, len - 18, a, sec);
	} else if (has_prefix_ci(s, len, "HEADER.FIELDS ")) {
		sec->text = IMAP_SECTION_HEADER_FIELDS;
		return section_fields_parse(s + 14, len - 14, a, sec);
	} else {
		return -1;
	}
	return 0;
}

static const char *const section_text_names[] = {
	[IMAP_SECTION_NONE] = "", [IMAP_SECTION_HEADER] = "HEADER",
	[IMAP_SECTION_HEADER_FIELDS] = "HEADER.FIELDS",
	[IMAP_SECTION_HEADER_FIELDS_NOT] = "HEADER.FIELDS.NOT",
	[IMAP_SECTION_TEXT] = "TEXT", [IMAP_SECTION_MIME] = "MIME",
};

static const char *item_response_name(const struct imap_fetch_item *item, const char *prefix,
				      struct imap_arena *a)
{
	const struct imap_fetch_section *sec = &item->section;
	struct strbuf b = STRBUF_INIT;
	const char *name;

	strbuf_append_str(&b, prefix);
	strbuf_append_c(&b, '[');
	for (size_t i = 0; i < sec->nparts; i++)
		strbuf_printf(&b, "%s%u", i > 0 ? "." : "", sec->parts[i]);
	if (sec->text != IMAP_SECTION_NONE) {
		if (sec->nparts > 0)
			strbuf_append_c(&b, '.');
		strbuf_append_str(&b, section_text_names[sec->text]);
	}
	if (sec->nfields > 0) {
		strbuf_append_str(&b, " (");
		for (size_t i = 0; i < sec->nfields; i++) {
			if (i > 0)
				strbuf_append_c(&b, ' ');
			strbuf_append_str(&b, sec->fields[i]);
		}
		strbuf_append_c(&b, ')');
	}
	strbuf_append_c(&b, ']');
	if (item->partial)
		strbuf_printf(&b, "<%u>", item->offset);
	name = imap_arena_strndup(a, b.data, b.len);
	strbuf_free(&b);
	return name;
}

/* Parses "<offset.length>" filling the whole of s. */
static int partial_parse(const char *s, size_t len, struct imap_fetch_item *item)
{
	const char *dot;
	uint64_t off, cnt;

	if (len < 5 || s[0] != '<' || s[len - 1] != '>')
		return -1;
	dot = memchr(s, '.', len);
	if (dot == NULL ||
	    imap_parse_uint64(s + 1, (size_t)(dot - s) - 1, UINT32_MAX, &off) < 0 ||
	    imap_parse_uint64(dot + 1, (size_t)(s + len - dot) - 2, UINT32_MAX, &cnt) < 0 ||
	    cnt == 0)
		return -1;
	item->partial = true;
	item->offset = (uint32_t)off;
	item->length = (uint32_t)cnt;
	return 0;
}

/* The index of the "]" closing the "[" at s[open], quoted strings skipped. */
static size_t section_end(const char *s, size_t len, size_t open)
{
	bool quoted = false;

	for (size_t i = open + 1; i < len; i++) {
		if (quoted) {
			if (s[i] == '\\')
				i++;
			else if (s[i] == '"')
				quoted = false;
		} else if (s[i] == '"') {
			quoted = true;
		} else if (s[i] == ']') {
			return i;
		}
	}
	return len;
}

static int item_section_parse(const char *s, size_t len, struct imap_arena *a,
			      struct imap_fetch_item *item)
{
	const char *open = memchr(s, '[', len);
	size_t o = (size_t)(open - s), close;
	const char *prefix;

	if (has_prefix_ci(s, o, "BODY.PEEK") && o == 9) {
		item->type = IMAP_FETCH_BODY_SECTION;
		item->peek = true;
	} else if (has_prefix_ci(s, o, "BODY") && o == 4) {
		item->type = IMAP_FETCH_BODY_SECTION;
	} else if (has_prefix_ci(s, o, "BINARY.PEEK") && o == 11) {
		item->type = IMAP_FETCH_BINARY;
		item->peek = true;
	} else if (has_prefix_ci(s, o, "BINARY.SIZE") && o == 11) {
		item->type = IMAP_FETCH_BINARY_SIZE;
	} else if (has_prefix_ci(s, o, "BINARY") && o == 6) {
		item->type = IMAP_FETCH_BINARY;
	} else {
		return -1;
	}
	close = section_end(s, len, o);
	if (close == len ||
	    section_parse(s + o + 1, close - o - 1, item->type != IMAP_FETCH_BODY_SECTION, a,
			  &item->section) < 0)
		return -1;
	if (close + 1 < len) {
		if (item->type == IMAP_FETCH_BINARY_SIZE ||
		    partial_parse(s + close + 1, len - close - 1, item) < 0)
			return -1;
	}
	prefix = item->type == IMAP_FETCH_BODY_SECTION ? "BODY" :
		 item->type == IMAP_FETCH_BINARY ? "BINARY" : "BINARY.SIZE";
	item->response_name = item_response_name(item, prefix, a);
	return item->response_name == NULL ? -1 : 0;
}

int imap_fetch_item_parse(const char *s, size_t len, struct imap_arena *a,
			  struct imap_fetch_item *item_r, const char **error_r)
{
	memset(item_r, 0, sizeof(*item_r));
	if (memchr(s, '[', len) != NULL) {
		if (item_section_parse(s, len, a, item_r) < 0) {
			*error_r = "Invalid FETCH section";
			return -1;
		}
		return 0;
	}
	for (size_t i = 0; i < sizeof(fetch_simple) / sizeof(fetch_simple[0]); i++) {
		if (strlen(fetch_simple[i].name) == len &&
		    strncasecmp(s, fetch_simple[i].name, len) == 0) {
			item_r->type = fetch_simple[i].type;
			item_r->response_name = fetch_simple[i].name;
			return 0;
		}
	}
	*error_r = "Unknown FETCH attribute";
	return -1;
}

static const enum imap_fetch_type macro_all[] = {
	IMAP_FETCH_FLAGS, IMAP_FETCH_INTERNALDATE, IMAP_FETCH_RFC822_SIZE, IMAP_FETCH_ENVELOPE,
	IMAP_FETCH_BODY,
};

static int fetch_macro(const char *s, size_t *n_r)
{
	if (strcasecmp(s, "FAST") == 0)
		*n_r = 3;
	else if (strcasecmp(s, "ALL") == 0)
		*n_r = 4;
	else if (strcasecmp(s, "FULL") == 0)
		*n_r = 5;
	else
		return -1;
	return 0;
}

static const char *fetch_type_name(enum imap_fetch_type type)
{
	for (size_t i = 0; i < sizeof(fetch_simple) / sizeof(fetch_simple[0]); i++) {
		if (fetch_simple[i].type == type)
			return fetch_simple[i].name;
	}
	return "";
}

static int fetch_modifiers_parse(const struct imap_arg *mods, bool uid, struct imap_fetch *f,
				 const char **error_r)
{
	if (mods->type != IMAP_ARG_LIST || mods->count == 0) {
		*error_r = "Invalid FETCH modifiers";
		return -1;
	}
	for (size_t i = 0; i < mods->count; i++) {
		const struct imap_arg *m = &mods->list[i];

		if (imap_arg_is_atom(m, "CHANGEDSINCE") && i + 1 < mods->count &&
		    !f->has_changedsince &&
		    imap_arg_modseq(&mods->list[i + 1], true, &f->changedsince) == 0) {
			f->has_changedsince = true;
			i++;
		} else if (imap_arg_is_atom(m, "VANISHED") && !f->vanished) {
			f->vanished = true;
		} else {
			*error_r = "Invalid FETCH modifier";
			return -1;
		}
	}
	if (f->vanished && (!uid || !f->has_changedsince)) {
		*error_r = "VANISHED needs UID FETCH and CHANGEDSINCE";
		return -1;
	}
	return 0;
}

static bool fetch_has(const struct imap_fetch_item *items, size_t n, enum imap_fetch_type t)
{
	for (size_t i = 0; i < n; i++) {
		if (items[i].type == t)
			return true;
	}
	return false;
}

static void fetch_finish(struct imap_fetch_item *items, size_t n, bool uid, struct imap_fetch *f)
{
	if (uid && !fetch_has(items, n, IMAP_FETCH_UID)) {
		items[n].type = IMAP_FETCH_UID;
		items[n++].response_name = "UID";
	}
	if (f->has_changedsince && !fetch_has(items, n, IMAP_FETCH_MODSEQ)) {
		items[n].type = IMAP_FETCH_MODSEQ;
		items[n++].response_name = "MODSEQ";
	}
	for (size_t i = 0; i < n; i++) {
		enum imap_fetch_type t = items[i].type;

		if (t == IMAP_FETCH_RFC822 || t == IMAP_FETCH_RFC822_TEXT ||
		    ((t == IMAP_FETCH_BODY_SECTION || t == IMAP_FETCH_BINARY) && !items[i].peek))
			f->sets_seen = true;
	}
	f->items = items;
	f->count = n;
}

int imap_fetch_parse(const struct imap_arg *args, size_t count, bool uid, struct imap_arena *a,
		     struct imap_fetch *fetch_r, const char **error_r)
{
	struct imap_fetch_item *items;
	const struct imap_arg *list;
	size_t n = 0, nlist, macro_n;
	const char *atom;

	memset(fetch_r, 0, sizeof(*fetch_r));
	if (count == 0 || count > 2) {
		*error_r = count == 0 ? "Missing FETCH attributes" : "Too many FETCH arguments";
		return -1;
	}
	if (count == 2 && fetch_modifiers_parse(&args[1], uid, fetch_r, error_r) < 0)
		return -1;
	list = args[0].type == IMAP_ARG_LIST ? args[0].list : &args[0];
	nlist = args[0].type == IMAP_ARG_LIST ? args[0].count : 1;
	if (nlist == 0) {
		*error_r = "Empty FETCH attribute list";
		return -1;
	}
	items = imap_arena_alloc(a, (nlist + 5 + 2) * sizeof(*items));
	if (items == NULL) {
		*error_r = "Out of memory";
		return -1;
	}
	atom = imap_arg_atom(&args[0]);
	if (atom != NULL && fetch_macro(atom, &macro_n) == 0) {
		for (; n < macro_n; n++) {
			items[n].type = macro_all[n];
			items[n].response_name = fetch_type_name(macro_all[n]);
		}
	} else {
		for (; n < nlist; n++) {
			atom = imap_arg_atom(&list[n]);
			if (atom == NULL || list[n].type == IMAP_ARG_NIL) {
				*error_r = "Invalid FETCH attribute";
				return -1;
			}
			if (imap_fetch_item_parse(atom, list[n].len, a, &items[n], error_r) < 0)
				return -1;
		}
	}
	fetch_finish(items, n, uid, fetch_r);
	return 0;
}
