/* DKIM parsing and canonicalization (RFC 6376, RFC 8463): see dkim.h.
 * Pure: bytes in, bytes out, no I/O and no globals. */
#include "mail/dkim.h"
#include "lib/str.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

static bool is_wsp(char c)
{
	return c == ' ' || c == '\t';
}

/* FWS inside a tag-list: folding leaves CR and LF between blanks. */
static bool is_fws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static bool is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

int dkim_tags_parse(const char *s, size_t len, struct dkim_tag *tags, size_t max,
		    const char **error_r)
{
	size_t pos = 0, n = 0;

	for (;;) {
		struct dkim_tag t;
		size_t start;

		while (pos < len && is_fws(s[pos]))
			pos++;
		if (pos == len)
			return (int)n;
		if (!is_alpha(s[pos])) {
			*error_r = "malformed tag list";
			return -1;
		}
		start = pos;
		while (pos < len && (is_alpha(s[pos]) || is_digit(s[pos]) || s[pos] == '_'))
			pos++;
		t.name = s + start;
		t.name_len = pos - start;
		while (pos < len && is_fws(s[pos]))
			pos++;
		if (pos == len || s[pos] != '=') {
			*error_r = "malformed tag list (a tag without '=')";
			return -1;
		}
		pos++;
		while (pos < len && is_fws(s[pos]))
			pos++;
		start = pos;
		while (pos < len && s[pos] != ';') {
			unsigned char c = (unsigned char)s[pos];
			if (!is_fws((char)c) && (c < 0x21 || c > 0x7e)) {
				*error_r = "invalid character in a tag value";
				return -1;
			}
			pos++;
		}
		t.value = s + start;
		t.value_len = pos - start;
		while (t.value_len > 0 && is_fws(t.value[t.value_len - 1]))
			t.value_len--;
		for (size_t i = 0; i < n; i++) {
			if (tags[i].name_len == t.name_len && memcmp(tags[i].name, t.name, t.name_len) == 0) {
				*error_r = "a tag appears twice";
				return -1;
			}
		}
		if (n == max) {
			*error_r = "too many tags";
			return -1;
		}
		tags[n++] = t;
		if (pos < len)
			pos++;	/* the ';' */
	}
}

const struct dkim_tag *dkim_tag_find(const struct dkim_tag *tags, size_t n, const char *name)
{
	size_t len = strlen(name);

	for (size_t i = 0; i < n; i++) {
		if (tags[i].name_len == len && memcmp(tags[i].name, name, len) == 0)
			return &tags[i];
	}
	return NULL;
}

static bool tag_is(const struct dkim_tag *t, const char *value)
{
	return t->value_len == strlen(value) && strncasecmp(t->value, value, t->value_len) == 0;
}

/* base64 with FWS anywhere in it (RFC 6376 base64string), into out. */
static int b64_decode_fws(const char *in, size_t len, unsigned char *out, size_t max, size_t *len_r)
{
	long n = base64_decode_opts(in, len, out, max, BASE64_SKIP_FWS, NULL);

	if (n < 0)
		return -1;
	*len_r = (size_t)n;
	return 0;
}

static int parse_uint(const struct dkim_tag *t, uint64_t max, uint64_t *v_r)
{
	uint64_t v = 0;

	if (t->value_len == 0)
		return -1;
	for (size_t i = 0; i < t->value_len; i++) {
		unsigned d;
		if (!is_digit(t->value[i]))
			return -1;
		d = (unsigned)(t->value[i] - '0');
		if (v > (max - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	*v_r = v;
	return 0;
}

/* Iterates the items of a colon-separated list with FWS around items:
 * returns the next item (trimmed) or NULL at the end. */
static const char *list_next(const char **pos, const char *end, size_t *len_r)
{
	const char *p = *pos, *start, *stop;

	if (p > end || p == NULL)
		return NULL;
	start = p;
	while (p < end && *p != ':')
		p++;
	stop = p;
	*pos = p < end ? p + 1 : end + 1;
	while (start < stop && is_fws(*start))
		start++;
	while (stop > start && is_fws(stop[-1]))
		stop--;
	*len_r = (size_t)(stop - start);
	return start;
}

static bool list_has(const struct dkim_tag *t, const char *item)
{
	const char *pos = t->value, *end = t->value + t->value_len, *it;
	size_t len, want = strlen(item);

	while ((it = list_next(&pos, end, &len)) != NULL) {
		if (len == want && strncasecmp(it, item, len) == 0)
			return true;
	}
	return false;
}

static bool domain_is_valid(const char *d)
{
	size_t n = strlen(d);

	if (n == 0 || n > 253 || d[0] == '.' || d[n - 1] == '.')
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = d[i];
		if (!(is_alpha(c) || is_digit(c) || c == '-' || c == '.' || c == '_'))
			return false;
		if (c == '.' && d[i + 1] == '.')
			return false;
	}
	return true;
}

static int sig_parse_canon(const struct dkim_tag *t, struct dkim_sig *sig)
{
	const char *slash = memchr(t->value, '/', t->value_len);
	size_t hlen = slash != NULL ? (size_t)(slash - t->value) : t->value_len;
	struct dkim_tag part = { NULL, t->value, 0, hlen };

	sig->hcanon = sig->bcanon = DKIM_SIMPLE;
	if (tag_is(&part, "relaxed"))
		sig->hcanon = DKIM_RELAXED;
	else if (!tag_is(&part, "simple"))
		return -1;
	if (slash == NULL)
		return 0;
	part.value = slash + 1;
	part.value_len = t->value_len - hlen - 1;
	if (tag_is(&part, "relaxed"))
		sig->bcanon = DKIM_RELAXED;
	else if (!tag_is(&part, "simple"))
		return -1;
	return 0;
}

static int sig_parse_h(const struct dkim_tag *t, struct dkim_sig *sig, const char **error_r)
{
	const char *pos = t->value, *end = t->value + t->value_len, *it;
	size_t len;
	bool from = false;

	sig->n_hnames = 0;
	while ((it = list_next(&pos, end, &len)) != NULL) {
		if (len == 0 || len >= DKIM_HNAME_MAX) {
			*error_r = "malformed h= tag";
			return -1;
		}
		for (size_t i = 0; i < len; i++) {
			if ((unsigned char)it[i] < 0x21 || (unsigned char)it[i] > 0x7e) {
				*error_r = "malformed h= tag";
				return -1;
			}
		}
		if (sig->n_hnames == DKIM_HNAMES_MAX) {
			*error_r = "too many header fields in h=";
			return -1;
		}
		memcpy(sig->hnames[sig->n_hnames], it, len);
		sig->hnames[sig->n_hnames][len] = '\0';
		if (strcasecmp(sig->hnames[sig->n_hnames], "from") == 0)
			from = true;
		sig->n_hnames++;
	}
	if (!from) {
		*error_r = "From field not signed";
		return -1;
	}
	return 0;
}

/* i= is within d=: its domain is d= or a subdomain of it. */
static bool auid_in_domain(const char *auid, const char *domain)
{
	const char *at = strrchr(auid, '@');
	size_t al, dl = strlen(domain);

	if (at == NULL)
		return false;
	at++;
	al = strlen(at);
	if (al == dl)
		return strcasecmp(at, domain) == 0;
	return al > dl && at[al - dl - 1] == '.' && strcasecmp(at + al - dl, domain) == 0;
}

static void sig_header_b(const struct dkim_tag *t, struct dkim_sig *sig)
{
	size_t n = 0;

	for (size_t i = 0; i < t->value_len && n < 12; i++) {
		if (!is_fws(t->value[i]))
			sig->header_b[n++] = t->value[i];
	}
	sig->header_b[n] = '\0';
}

static int sig_parse_optional(const struct dkim_tag *tags, size_t n, struct dkim_sig *sig,
			      const char **error_r);

int dkim_sig_parse(const char *value, size_t len, struct dkim_sig *sig, const char **error_r)
{
	struct dkim_tag tags[DKIM_TAGS_MAX];
	const struct dkim_tag *t;
	int n;

	memset(sig, 0, sizeof(*sig));
	n = dkim_tags_parse(value, len, tags, DKIM_TAGS_MAX, error_r);
	if (n < 0)
		return -1;
	if ((t = dkim_tag_find(tags, (size_t)n, "b")) != NULL)
		sig_header_b(t, sig);
	if ((t = dkim_tag_find(tags, (size_t)n, "a")) != NULL)
		str_copyn(sig->algo_name, sizeof(sig->algo_name), t->value,
			  t->value_len < sizeof(sig->algo_name) ? t->value_len : sizeof(sig->algo_name) - 1);
	if ((t = dkim_tag_find(tags, (size_t)n, "d")) != NULL)
		str_copyn(sig->domain, sizeof(sig->domain), t->value,
			  t->value_len < sizeof(sig->domain) ? t->value_len : sizeof(sig->domain) - 1);
	if ((t = dkim_tag_find(tags, (size_t)n, "s")) != NULL)
		str_copyn(sig->selector, sizeof(sig->selector), t->value,
			  t->value_len < sizeof(sig->selector) ? t->value_len : sizeof(sig->selector) - 1);
	str_lower(sig->domain);

	if ((t = dkim_tag_find(tags, (size_t)n, "v")) == NULL || !tag_is(t, "1")) {
		*error_r = t == NULL ? "missing v= tag" : "unsupported DKIM version";
		return -1;
	}
	static const char *const required[] = { "a", "b", "bh", "d", "h", "s" };
	for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++) {
		if (dkim_tag_find(tags, (size_t)n, required[i]) == NULL) {
			static const char *const why[] = { "missing a= tag", "missing b= tag", "missing bh= tag",
							   "missing d= tag", "missing h= tag", "missing s= tag" };
			*error_r = why[i];
			return -1;
		}
	}
	t = dkim_tag_find(tags, (size_t)n, "a");
	if (tag_is(t, "rsa-sha256")) {
		sig->algo = DKIM_RSA_SHA256;
	} else if (tag_is(t, "ed25519-sha256")) {
		sig->algo = DKIM_ED25519_SHA256;
	} else {
		*error_r = tag_is(t, "rsa-sha1") ? "rsa-sha1 is not accepted (RFC 8301)" : "unknown algorithm";
		return -1;
	}
	t = dkim_tag_find(tags, (size_t)n, "b");
	if (b64_decode_fws(t->value, t->value_len, sig->b, sizeof(sig->b), &sig->b_len) < 0 ||
	    sig->b_len == 0) {
		*error_r = "malformed b= tag";
		return -1;
	}
	t = dkim_tag_find(tags, (size_t)n, "bh");
	if (b64_decode_fws(t->value, t->value_len, sig->bh, sizeof(sig->bh), &sig->bh_len) < 0 ||
	    sig->bh_len != 32) {
		*error_r = "malformed bh= tag";
		return -1;
	}
	return sig_parse_optional(tags, (size_t)n, sig, error_r);
}

/* The tags after the required ones: c, d, s, h checks, i, l, q, t, x. */
static int sig_parse_optional(const struct dkim_tag *tags, size_t n, struct dkim_sig *sig,
			      const char **error_r)
{
	const struct dkim_tag *t;
	uint64_t v;

	sig->hcanon = sig->bcanon = DKIM_SIMPLE;
	if ((t = dkim_tag_find(tags, (size_t)n, "c")) != NULL && sig_parse_canon(t, sig) < 0) {
		*error_r = "unknown canonicalization";
		return -1;
	}
	t = dkim_tag_find(tags, (size_t)n, "d");
	if (t->value_len >= sizeof(sig->domain) || !domain_is_valid(sig->domain)) {
		*error_r = "malformed d= tag";
		return -1;
	}
	t = dkim_tag_find(tags, (size_t)n, "s");
	if (t->value_len == 0 || t->value_len >= sizeof(sig->selector) || !domain_is_valid(sig->selector)) {
		*error_r = "malformed s= tag";
		return -1;
	}
	if (sig_parse_h(dkim_tag_find(tags, (size_t)n, "h"), sig, error_r) < 0)
		return -1;
	if ((t = dkim_tag_find(tags, (size_t)n, "i")) != NULL) {
		if (t->value_len >= sizeof(sig->auid) ||
		    str_copyn(sig->auid, sizeof(sig->auid), t->value, t->value_len) < 0 ||
		    !auid_in_domain(sig->auid, sig->domain)) {
			*error_r = "i= is not within d=";
			return -1;
		}
	} else {
		sig->auid[0] = '@';
		str_copy(sig->auid + 1, sizeof(sig->auid) - 1, sig->domain);
	}
	if ((t = dkim_tag_find(tags, (size_t)n, "l")) != NULL) {
		if (parse_uint(t, UINT64_MAX, &sig->l) < 0) {
			*error_r = "malformed l= tag";
			return -1;
		}
		sig->has_l = true;
	}
	if ((t = dkim_tag_find(tags, (size_t)n, "q")) != NULL && !list_has(t, "dns/txt")) {
		*error_r = "unsupported query method";
		return -1;
	}
	if ((t = dkim_tag_find(tags, (size_t)n, "t")) != NULL) {
		if (parse_uint(t, INT64_MAX, &v) < 0) {
			*error_r = "malformed t= tag";
			return -1;
		}
		sig->t = (int64_t)v;
		sig->has_t = true;
	}
	if ((t = dkim_tag_find(tags, (size_t)n, "x")) != NULL) {
		if (parse_uint(t, INT64_MAX, &v) < 0) {
			*error_r = "malformed x= tag";
			return -1;
		}
		sig->x = (int64_t)v;
		sig->has_x = true;
		if (sig->has_t && sig->x < sig->t) {
			*error_r = "x= is before t=";
			return -1;
		}
	}
	return 0;
}

int dkim_key_parse(const char *txt, size_t len, struct dkim_key *key, const char **error_r)
{
	struct dkim_tag tags[DKIM_TAGS_MAX];
	const struct dkim_tag *t;
	int n;

	memset(key, 0, sizeof(*key));
	n = dkim_tags_parse(txt, len, tags, DKIM_TAGS_MAX, error_r);
	if (n < 0)
		return -1;
	t = dkim_tag_find(tags, (size_t)n, "v");
	if (t != NULL && (t != &tags[0] || t->value_len != 5 || memcmp(t->value, "DKIM1", 5) != 0)) {
		*error_r = "not a DKIM1 key record";
		return -1;
	}
	key->type = DKIM_KEY_RSA;
	if ((t = dkim_tag_find(tags, (size_t)n, "k")) != NULL) {
		if (tag_is(t, "ed25519")) {
			key->type = DKIM_KEY_ED25519;
		} else if (!tag_is(t, "rsa")) {
			*error_r = "unknown key type";
			return -1;
		}
	}
	if ((t = dkim_tag_find(tags, (size_t)n, "p")) == NULL) {
		*error_r = "key record without p=";
		return -1;
	}
	if (b64_decode_fws(t->value, t->value_len, key->p, sizeof(key->p), &key->p_len) < 0) {
		*error_r = "malformed p= in the key record";
		return -1;
	}
	if (key->type == DKIM_KEY_ED25519 && key->p_len != 0 && key->p_len != 32) {
		*error_r = "an ed25519 key is not 32 bytes";
		return -1;
	}
	key->sha256_ok = (t = dkim_tag_find(tags, (size_t)n, "h")) == NULL || list_has(t, "sha256");
	key->email_ok = (t = dkim_tag_find(tags, (size_t)n, "s")) == NULL || list_has(t, "*") ||
			list_has(t, "email");
	if ((t = dkim_tag_find(tags, (size_t)n, "t")) != NULL) {
		key->testing = list_has(t, "y");
		key->strict = list_has(t, "s");
	}
	return 0;
}

/* Appends bytes with every bare LF made CRLF and a final CRLF ensured. */
static void append_crlf(struct strbuf *out, const char *p, size_t len)
{
	size_t start = 0;

	for (size_t i = 0; i < len; i++) {
		if (p[i] == '\n' && (i == 0 || p[i - 1] != '\r')) {
			strbuf_append(out, p + start, i - start);
			strbuf_append(out, "\r\n", 2);
			start = i + 1;
		}
	}
	strbuf_append(out, p + start, len - start);
	if (len == 0 || p[len - 1] != '\n')
		strbuf_append(out, "\r\n", 2);
}

void dkim_canon_header(enum dkim_canon c, const char *field, size_t len, struct strbuf *out)
{
	const char *colon;
	size_t name_len, i;
	bool wsp = false, any = false;

	if (c == DKIM_SIMPLE) {
		append_crlf(out, field, len);
		return;
	}
	colon = memchr(field, ':', len);
	name_len = colon != NULL ? (size_t)(colon - field) : len;
	/* the name lowercased, without white space before the colon */
	{
		size_t nl = name_len;
		while (nl > 0 && is_wsp(field[nl - 1]))
			nl--;
		for (i = 0; i < nl; i++) {
			char ch = field[i];
			strbuf_append_c(out, ch >= 'A' && ch <= 'Z' ? (char)(ch + 32) : ch);
		}
	}
	strbuf_append_c(out, ':');
	/* the value unfolded, runs of white space made one space, none at
	 * either end */
	for (i = name_len + (colon != NULL); i < len; i++) {
		char ch = field[i];
		if (ch == '\n' || (ch == '\r' && i + 1 < len && field[i + 1] == '\n'))
			continue;
		if (is_wsp(ch)) {
			wsp = true;
			continue;
		}
		if (wsp && any)
			strbuf_append_c(out, ' ');
		wsp = false;
		any = true;
		strbuf_append_c(out, ch);
	}
	strbuf_append(out, "\r\n", 2);
}

static void body_flush(struct dkim_body *b)
{
	if (b->buf_len > 0)
		b->out(b->ctx, b->buf, b->buf_len);
	b->buf_len = 0;
}

/* Appends canonical bytes: all of them count, at most limit in all go out. */
static void body_emit(struct dkim_body *b, const char *data, size_t len)
{
	uint64_t room = b->limit - b->emitted;

	b->count += len;
	if (len > room)
		len = (size_t)room;
	b->emitted += len;
	if (len >= sizeof(b->buf) / 2) {
		/* a long run goes out as it is, without a copy */
		body_flush(b);
		b->out(b->ctx, data, len);
		return;
	}
	if (b->buf_len + len > sizeof(b->buf))
		body_flush(b);
	memcpy(b->buf + b->buf_len, data, len);
	b->buf_len += len;
}

/* A run of content (a span canonicalization keeps as it is, which ends
 * in content): the empty lines and the white space held back come first. */
static void body_content(struct dkim_body *b, const char *p, size_t len)
{
	while (b->empty_lines > 0) {
		body_emit(b, "\r\n", 2);
		b->empty_lines--;
	}
	if (b->wsp)
		body_emit(b, " ", 1);
	b->wsp = false;
	body_emit(b, p, len);
	b->line = true;
}

static void body_eol(struct dkim_body *b)
{
	if (b->line)
		body_emit(b, "\r\n", 2);
	else
		b->empty_lines++;
	b->line = false;
	b->wsp = false;
}

void dkim_body_init(struct dkim_body *b, enum dkim_canon c, uint64_t limit, dkim_out_fn *out,
		    void *ctx)
{
	memset(b, 0, sizeof(*b));
	b->canon = c;
	b->limit = limit;
	b->out = out;
	b->ctx = ctx;
}

/* Bytes that end a run of content: CR and LF, and for relaxed SP and HTAB. */
static const unsigned char body_stop_simple[256] = { ['\r'] = 1, ['\n'] = 1 };
static const unsigned char body_stop_relaxed[256] = { ['\r'] = 1, ['\n'] = 1, [' '] = 1, ['\t'] = 1 };

/* Whether one of the 8 bytes at p is below 0x21: SP, HTAB, CR and LF
 * are (and other controls). */
static bool body_has_ctl_or_space(const char *p)
{
	uint64_t x;

	memcpy(&x, p, sizeof(x));
	return ((x - 0x2121212121212121u) & ~x & 0x8080808080808080u) != 0;
}

/* The end of the run of content starting at p (not a stop byte): the
 * longest span whose canonical form is the span itself. Past ordinary
 * bytes it goes on over a single SP and over a CRLF when an ordinary byte
 * follows them in the chunk: that space stays one space and that line
 * end, after content, stays CRLF. */
static const char *body_run_end_relaxed(const char *p, const char *end)
{
	const unsigned char *stop = body_stop_relaxed;

	for (;;) {
		/* eight bytes at a time while none is below '!' (long words,
		 * base64 lines), then byte by byte */
		while (end - p >= 8 && !body_has_ctl_or_space(p))
			p += 8;
		while (p < end && !stop[(unsigned char)*p])
			p++;
		if (end - p >= 2 && p[0] == ' ' && !stop[(unsigned char)p[1]])
			p += 2;
		else if (end - p >= 3 && p[0] == '\r' && p[1] == '\n' && !stop[(unsigned char)p[2]])
			p += 3;
		else
			return p;
	}
}

/* The same for simple, where only line ends change: the run goes from
 * line to line while each CRLF has content on both sides; it stops at a
 * bare LF, at a CRLF before an empty line, and before a CR that ends the
 * chunk (it may be half of a CRLF). Other CRs are content. Lines are
 * found with memchr. */
static const char *body_run_end_simple(const char *p, const char *end)
{
	for (;;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));

		/* p is content here (not CR nor LF), so nl > p */
		if (nl == NULL)
			return end[-1] == '\r' ? end - 1 : end;
		if (nl[-1] != '\r')
			return nl;
		if (nl + 1 == end || nl[1] == '\r' || nl[1] == '\n')
			return nl - 1;
		p = nl + 1;
	}
}

/* The body is taken in spans: a run of bytes that canonicalization
 * leaves as they are (body_run_end_*) goes out in one piece, a run of
 * white space (relaxed) is one pending space; only CR, LF, blanks and
 * the edges of runs are looked at one by one. A CR at the end of a chunk
 * waits for the next byte (b->cr), so a CRLF split across chunks is
 * still one line end. */
void dkim_body_feed(struct dkim_body *b, const void *data, size_t len)
{
	const char *p = data, *end = p + len;
	bool relaxed = b->canon == DKIM_RELAXED;
	const unsigned char *stop = relaxed ? body_stop_relaxed : body_stop_simple;

	while (p < end) {
		const char *q;

		if (b->cr) {
			b->cr = false;
			if (*p == '\n') {
				body_eol(b);
				p++;
				continue;
			}
			body_content(b, "\r", 1);	/* a CR alone is content */
		}
		if (!stop[(unsigned char)*p]) {
			q = relaxed ? body_run_end_relaxed(p, end) : body_run_end_simple(p, end);
			body_content(b, p, (size_t)(q - p));
			p = q;
			continue;
		}
		if (*p == '\r') {
			b->cr = true;
			p++;
		} else if (*p == '\n') {
			body_eol(b);
			p++;
		} else {
			b->wsp = true;
			while (p < end && (*p == ' ' || *p == '\t'))
				p++;
		}
	}
}

void dkim_body_finish(struct dkim_body *b)
{
	if (b->cr) {
		b->cr = false;
		body_content(b, "\r", 1);
	}
	if (b->line)
		body_emit(b, "\r\n", 2);
	b->line = false;
	if (b->canon == DKIM_SIMPLE && b->count == 0)
		body_emit(b, "\r\n", 2);
	body_flush(b);
}

/* Length of the line starting at pos, with its line end. */
static size_t line_len(const char *msg, size_t len, size_t pos)
{
	const char *nl = memchr(msg + pos, '\n', len - pos);

	return nl != NULL ? (size_t)(nl - (msg + pos)) + 1 : len - pos;
}

int dkim_headers_split(const char *msg, size_t len, struct dkim_hdr *h, size_t max,
		       size_t *body_off_r)
{
	size_t pos = 0, n = 0;

	while (pos < len) {
		size_t start = pos, ll;
		const char *colon;

		if (msg[pos] == '\n') {
			*body_off_r = pos + 1;
			return (int)n;
		}
		if (msg[pos] == '\r' && pos + 1 < len && msg[pos + 1] == '\n') {
			*body_off_r = pos + 2;
			return (int)n;
		}
		ll = line_len(msg, len, pos);
		pos += ll;
		while (pos < len && is_wsp(msg[pos]))
			pos += line_len(msg, len, pos);
		if (n == max)
			return -1;
		h[n].p = msg + start;
		h[n].len = pos - start;
		colon = memchr(msg + start, ':', ll);
		h[n].name_len = 0;
		if (colon != NULL) {
			size_t nl = (size_t)(colon - (msg + start));
			while (nl > 0 && is_wsp(msg[start + nl - 1]))
				nl--;
			h[n].name_len = nl;
		}
		n++;
	}
	*body_off_r = len;
	return (int)n;
}

bool dkim_hdr_is(const struct dkim_hdr *h, const char *name)
{
	size_t len = strlen(name);

	return h->name_len == len && len > 0 && strncasecmp(h->p, name, len) == 0;
}

void dkim_headers_select(const struct dkim_hdr *h, size_t nh, const char (*names)[DKIM_HNAME_MAX],
			 size_t n, enum dkim_canon c, struct strbuf *out)
{
	bool *used = calloc(nh + 1, sizeof(*used));

	if (used == NULL)
		abort();	/* as strbuf does: a bounded allocation */
	for (size_t k = 0; k < n; k++) {
		for (size_t i = nh; i-- > 0;) {
			if (!used[i] && dkim_hdr_is(&h[i], names[k])) {
				used[i] = true;
				dkim_canon_header(c, h[i].p, h[i].len, out);
				break;
			}
		}
	}
	free(used);
}

int dkim_sig_hash_field(enum dkim_canon c, const char *field, size_t len, struct strbuf *out)
{
	const char *colon = memchr(field, ':', len);
	size_t pos, vstart = 0, vend = 0;
	bool found = false;
	struct strbuf tmp, canon;

	if (colon == NULL)
		return -1;
	pos = (size_t)(colon - field) + 1;
	while (pos < len && !found) {
		size_t nstart, nend;

		while (pos < len && is_fws(field[pos]))
			pos++;
		nstart = pos;
		while (pos < len && (is_alpha(field[pos]) || is_digit(field[pos]) || field[pos] == '_'))
			pos++;
		nend = pos;
		while (pos < len && is_fws(field[pos]))
			pos++;
		if (pos < len && field[pos] == '=') {
			pos++;
			vstart = pos;
			while (pos < len && field[pos] != ';')
				pos++;
			vend = pos;
			found = nend - nstart == 1 && field[nstart] == 'b';
		} else {
			while (pos < len && field[pos] != ';')
				pos++;
		}
		if (pos < len)
			pos++;
	}
	if (!found)
		return -1;
	strbuf_init(&tmp);
	strbuf_init(&canon);
	strbuf_append(&tmp, field, vstart);
	strbuf_append(&tmp, field + vend, len - vend);
	dkim_canon_header(c, tmp.data, tmp.len, &canon);
	/* without the final CRLF the canonicalization added */
	strbuf_append(out, canon.data, canon.len - 2);
	strbuf_free(&tmp);
	strbuf_free(&canon);
	return 0;
}

void dkim_fold_tag(struct strbuf *out, size_t *col, const char *name, const char *value,
		   enum dkim_fold fold, bool last)
{
	size_t nl = strlen(name), vl = strlen(value), need = nl + 1 + vl + (last ? 0 : 1);

	if (*col + 1 + (fold == DKIM_FOLD_NONE ? need : nl + 2) > 78) {
		strbuf_append_str(out, "\r\n\t");
		*col = 8;
	} else {
		strbuf_append_c(out, ' ');
		(*col)++;
	}
	strbuf_append(out, name, nl);
	strbuf_append_c(out, '=');
	*col += nl + 1;
	for (size_t i = 0; i < vl; i++) {
		bool brk = fold == DKIM_FOLD_ANY && *col >= 76;

		if (fold == DKIM_FOLD_COLON && i > 0 && value[i - 1] == ':') {
			const char *next = strchr(value + i, ':');
			size_t item = next != NULL ? (size_t)(next - (value + i)) + 1 : vl - i;
			brk = *col + item > 77;
		}
		if (brk) {
			strbuf_append_str(out, "\r\n\t");
			*col = 8;
		}
		strbuf_append_c(out, value[i]);
		(*col)++;
	}
	if (!last) {
		strbuf_append_c(out, ';');
		(*col)++;
	}
}
