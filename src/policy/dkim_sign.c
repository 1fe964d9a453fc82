/* DKIM signing: see dkim_sign.h. The message is read in pieces (its body
 * may be a file of any size); only the header section is held whole. */
#include "policy/dkim_sign.h"
#include "policy/dkim_keys.h"
#include "mail/dkim.h"
#include "lib/str.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/sha.h>

#define HEADER_MAX (1024 * 1024)	/* a header section bigger than this is not signed */
#define HEADER_FIELDS_MAX 1000
#define CACHE_MAX 1024

/* Field names signed when present (RFC 6376 §5.4.1 and common practice). */
static const char *const sign_fields[] = {
	"from", "sender", "reply-to", "subject", "date", "message-id", "to", "cc",
	"mime-version", "content-type", "content-transfer-encoding", "content-id",
	"content-description", "in-reply-to", "references", "list-id", "list-help",
	"list-unsubscribe", "list-unsubscribe-post", "list-subscribe", "list-post",
	"list-owner", "list-archive", "resent-date", "resent-from", "resent-to", "resent-cc",
	"resent-message-id",
};

/* Reads msg (prefix then body) from off into buf; returns the bytes read
 * (0 at the end) or -1. */
static ssize_t msg_read(const struct maildir_msg *m, uint64_t off, char *buf, size_t len)
{
	size_t got = 0;

	if (off < m->prefix_len) {
		size_t n = m->prefix_len - (size_t)off < len ? m->prefix_len - (size_t)off : len;
		memcpy(buf, m->prefix + off, n);
		got = n;
		off += n;
	}
	if (got < len && off >= m->prefix_len && off - m->prefix_len < m->body_len) {
		size_t boff = (size_t)(off - m->prefix_len), want = len - got;
		if (want > m->body_len - boff)
			want = m->body_len - boff;
		if (m->body != NULL) {
			memcpy(buf + got, m->body + boff, want);
			got += want;
		} else {
			while (want > 0) {
				ssize_t r = pread(m->body_fd, buf + got, want, (off_t)boff);
				if (r < 0 && errno == EINTR)
					continue;
				if (r <= 0)
					return -1;
				got += (size_t)r;
				boff += (size_t)r;
				want -= (size_t)r;
			}
		}
	}
	return (ssize_t)got;
}

static void hash_update(void *ctx, const void *data, size_t len)
{
	EVP_DigestUpdate(ctx, data, len);
}

/* The body hash (relaxed) from offset off to the end. */
static int body_hash(const struct maildir_msg *m, uint64_t off, unsigned char *bh)
{
	EVP_MD_CTX *sha = EVP_MD_CTX_new();
	struct dkim_body b;
	char *buf = malloc(65536);
	ssize_t n = -1;

	if (sha == NULL || buf == NULL || EVP_DigestInit_ex(sha, EVP_sha256(), NULL) != 1)
		goto out;
	dkim_body_init(&b, DKIM_RELAXED, UINT64_MAX, hash_update, sha);
	while ((n = msg_read(m, off, buf, 65536)) > 0) {
		dkim_body_feed(&b, buf, (size_t)n);
		off += (uint64_t)n;
	}
	if (n == 0) {
		dkim_body_finish(&b);
		if (EVP_DigestFinal_ex(sha, bh, NULL) != 1)
			n = -1;
	}
out:
	EVP_MD_CTX_free(sha);
	free(buf);
	return n == 0 ? 0 : -1;
}

/* The header section of m, in a new buffer; *len_r its length including
 * the empty line (or all of a message without body). NULL when it is
 * unreadable or too big. */
static char *msg_header(const struct maildir_msg *m, size_t *len_r)
{
	uint64_t total = m->prefix_len + m->body_len;
	size_t len = total < HEADER_MAX ? (size_t)total : HEADER_MAX;
	char *buf = malloc(len + 1);
	ssize_t n;

	if (buf == NULL)
		return NULL;
	n = msg_read(m, 0, buf, len);
	if (n < 0 || (size_t)n != len) {
		free(buf);
		return NULL;
	}
	buf[len] = '\0';
	*len_r = len;
	return buf;
}

static int sign_data(EVP_PKEY *key, const struct strbuf *data, unsigned char *sig, size_t *sig_len)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int ok;

	if (ctx == NULL)
		return -1;
	if (EVP_PKEY_get_base_id(key) == EVP_PKEY_ED25519) {
		/* RFC 8463: Ed25519 over the SHA-256 of the header hash input */
		unsigned char h[SHA256_DIGEST_LENGTH];
		SHA256((const unsigned char *)data->data, data->len, h);
		ok = EVP_DigestSignInit(ctx, NULL, NULL, NULL, key) == 1 &&
		     EVP_DigestSign(ctx, sig, sig_len, h, sizeof(h)) == 1;
	} else {
		ok = EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, key) == 1 &&
		     EVP_DigestSign(ctx, sig, sig_len, (const unsigned char *)data->data, data->len) == 1;
	}
	EVP_MD_CTX_free(ctx);
	return ok ? 0 : -1;
}

/* Signs with body hash bh already computed over the message. */
static int sign_header(EVP_PKEY *key, const char *domain, const char *selector, int64_t now,
		       const struct dkim_hdr *h, size_t nh, const unsigned char *bh,
		       struct strbuf *out, const char **error_r)
{
	char names[sizeof(sign_fields) / sizeof(sign_fields[0]) * 4 + 1][DKIM_HNAME_MAX];
	size_t nnames = 0, col, hlen = 0;
	struct strbuf field = STRBUF_INIT, data = STRBUF_INIT, hlist = STRBUF_INIT;
	unsigned char sig[DKIM_SIG_MAX];
	size_t sig_len = sizeof(sig);
	char bh64[64], tnow[24], *b64;
	bool ed = EVP_PKEY_get_base_id(key) == EVP_PKEY_ED25519;
	int r = -1;

	/* every present field of the list, as often as present; From once
	 * more (over-signing) */
	for (size_t f = 0; f < sizeof(sign_fields) / sizeof(sign_fields[0]); f++) {
		size_t count = 0;
		for (size_t i = 0; i < nh; i++)
			count += dkim_hdr_is(&h[i], sign_fields[f]);
		if (f == 0)
			count++;
		for (size_t c = 0; c < count && nnames < sizeof(names) / sizeof(names[0]); c++) {
			str_copy(names[nnames++], DKIM_HNAME_MAX, sign_fields[f]);
			strbuf_printf(&hlist, "%s%s", hlen++ > 0 ? ":" : "", sign_fields[f]);
		}
	}
	base64_encode(bh, 32, bh64);
	snprintf(tnow, sizeof(tnow), "%" PRId64, now);
	strbuf_append_str(&field, "DKIM-Signature:");
	col = field.len;
	dkim_fold_tag(&field, &col, "v", "1", DKIM_FOLD_NONE, false);
	dkim_fold_tag(&field, &col, "a", ed ? "ed25519-sha256" : "rsa-sha256", DKIM_FOLD_NONE, false);
	dkim_fold_tag(&field, &col, "c", "relaxed/relaxed", DKIM_FOLD_NONE, false);
	dkim_fold_tag(&field, &col, "d", domain, DKIM_FOLD_NONE, false);
	dkim_fold_tag(&field, &col, "s", selector, DKIM_FOLD_NONE, false);
	dkim_fold_tag(&field, &col, "t", tnow, DKIM_FOLD_NONE, false);
	dkim_fold_tag(&field, &col, "h", strbuf_cstr(&hlist), DKIM_FOLD_COLON, false);
	dkim_fold_tag(&field, &col, "bh", bh64, DKIM_FOLD_ANY, false);
	dkim_fold_tag(&field, &col, "b", "", DKIM_FOLD_NONE, true);

	dkim_headers_select(h, nh, (const char (*)[DKIM_HNAME_MAX])names, nnames, DKIM_RELAXED, &data);
	if (dkim_sig_hash_field(DKIM_RELAXED, field.data, field.len, &data) < 0 ||
	    sign_data(key, &data, sig, &sig_len) < 0) {
		*error_r = "signing failed";
		goto out;
	}
	b64 = malloc(4 * ((sig_len + 2) / 3) + 1);
	if (b64 == NULL) {
		*error_r = "out of memory";
		goto out;
	}
	base64_encode(sig, sig_len, b64);
	/* b= was the last tag, empty: its value goes at the end, folded */
	for (size_t i = 0; b64[i] != '\0'; i++) {
		if (col >= 76) {
			strbuf_append_str(&field, "\r\n\t");
			col = 8;
		}
		strbuf_append_c(&field, b64[i]);
		col++;
	}
	free(b64);
	strbuf_append_str(&field, "\r\n");
	strbuf_append(out, field.data, field.len);
	r = 0;
out:
	strbuf_free(&field);
	strbuf_free(&data);
	strbuf_free(&hlist);
	return r;
}

/* Splits the header of m; the fields point into *hdr_r (free it). */
static int msg_split(const struct maildir_msg *m, char **hdr_r, struct dkim_hdr **h_r, size_t *nh_r,
		     uint64_t *body_off_r, const char **error_r)
{
	size_t len, off;
	char *hdr = msg_header(m, &len);
	struct dkim_hdr *h;
	int n;

	if (hdr == NULL) {
		*error_r = "cannot read the message";
		return -1;
	}
	h = calloc(HEADER_FIELDS_MAX, sizeof(*h));
	if (h == NULL) {
		free(hdr);
		*error_r = "out of memory";
		return -1;
	}
	n = dkim_headers_split(hdr, len, h, HEADER_FIELDS_MAX, &off);
	if (n < 0 || (off == len && (uint64_t)len < m->prefix_len + m->body_len)) {
		free(hdr);
		free(h);
		*error_r = "the header is too big to sign";
		return -1;
	}
	*hdr_r = hdr;
	*h_r = h;
	*nh_r = (size_t)n;
	*body_off_r = off;
	return 0;
}

int dkim_sign_one(EVP_PKEY *key, const char *domain, const char *selector, int64_t now,
		  const struct maildir_msg *msg, struct strbuf *out, const char **error_r)
{
	char *hdr;
	struct dkim_hdr *h;
	size_t nh;
	uint64_t off;
	unsigned char bh[32];
	int r;

	if (msg_split(msg, &hdr, &h, &nh, &off, error_r) < 0)
		return -1;
	if (body_hash(msg, off, bh) < 0) {
		*error_r = "cannot read the message";
		r = -1;
	} else {
		r = sign_header(key, domain, selector, now, h, nh, bh, out, error_r);
	}
	free(hdr);
	free(h);
	return r;
}

/* ---- the signer: cached keys per domain ---- */

struct signer_domain {
	char name[256];
	struct stat st;			/* of the selectors file; st_ino 0: none */
	size_t nkeys;
	EVP_PKEY *keys[DKIM_KEYS_MAX];
	char selectors[DKIM_KEYS_MAX][DKIM_SELECTOR_MAX];
};

struct dkim_signer {
	pthread_mutex_t lock;
	char data_dir[PATH_MAX];
	struct signer_domain *domains;
	size_t n, cap;
};

struct dkim_signer *dkim_signer_new(const char *data_dir)
{
	struct dkim_signer *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return NULL;
	pthread_mutex_init(&s->lock, NULL);
	str_copy(s->data_dir, sizeof(s->data_dir), data_dir);
	return s;
}

static void domain_clear(struct signer_domain *d)
{
	for (size_t i = 0; i < d->nkeys; i++)
		EVP_PKEY_free(d->keys[i]);
	d->nkeys = 0;
}

void dkim_signer_free(struct dkim_signer *s)
{
	if (s == NULL)
		return;
	for (size_t i = 0; i < s->n; i++)
		domain_clear(&s->domains[i]);
	free(s->domains);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

static bool stat_same(const struct stat *a, const struct stat *b)
{
	return a->st_ino == b->st_ino && a->st_dev == b->st_dev && a->st_size == b->st_size &&
	       a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

/* (Re)loads the active keys of d from disk. Caller holds the lock. */
static void domain_load(struct dkim_signer *s, struct signer_domain *d, const struct stat *st)
{
	struct dkim_keyinfo k[DKIM_KEYS_MAX];
	size_t n = 0;
	const char *error = "";

	domain_clear(d);
	d->st = *st;
	if (st->st_ino == 0 || dkim_keys_list(s->data_dir, d->name, k, DKIM_KEYS_MAX, &n, &error) < 0)
		return;
	for (size_t i = 0; i < n; i++) {
		EVP_PKEY *key;
		if (k[i].state != DKIM_STATE_ACTIVE)
			continue;
		key = dkim_keys_load(s->data_dir, d->name, &k[i], &error);
		if (key == NULL)
			continue;
		d->keys[d->nkeys] = key;
		str_copy(d->selectors[d->nkeys], DKIM_SELECTOR_MAX, k[i].selector);
		d->nkeys++;
	}
}

/* The active keys of domain, referenced (EVP_PKEY_up_ref) into keys. */
static size_t signer_keys(struct dkim_signer *s, const char *domain, EVP_PKEY **keys,
			  char (*selectors)[DKIM_SELECTOR_MAX])
{
	char path[PATH_MAX];
	struct stat st;
	struct signer_domain *d = NULL;
	size_t n;

	if (dkim_keys_index_path(path, sizeof(path), s->data_dir, domain) < 0)
		return 0;
	if (stat(path, &st) < 0)
		memset(&st, 0, sizeof(st));
	pthread_mutex_lock(&s->lock);
	for (size_t i = 0; i < s->n && d == NULL; i++) {
		if (strcmp(s->domains[i].name, domain) == 0)
			d = &s->domains[i];
	}
	if (d == NULL) {
		if (s->n == CACHE_MAX) {
			/* a bounded cache: start again */
			for (size_t i = 0; i < s->n; i++)
				domain_clear(&s->domains[i]);
			s->n = 0;
		}
		if (s->n == s->cap) {
			size_t cap = s->cap == 0 ? 16 : s->cap * 2;
			struct signer_domain *nd = realloc(s->domains, cap * sizeof(*nd));
			if (nd == NULL) {
				pthread_mutex_unlock(&s->lock);
				return 0;
			}
			s->domains = nd;
			s->cap = cap;
		}
		d = &s->domains[s->n++];
		memset(d, 0, sizeof(*d));
		str_copy(d->name, sizeof(d->name), domain);
		d->st.st_ino = (ino_t)-1;	/* never equal: load below */
	}
	if (!stat_same(&d->st, &st))
		domain_load(s, d, &st);
	n = d->nkeys;
	for (size_t i = 0; i < n; i++) {
		EVP_PKEY_up_ref(d->keys[i]);
		keys[i] = d->keys[i];
		str_copy(selectors[i], DKIM_SELECTOR_MAX, d->selectors[i]);
	}
	pthread_mutex_unlock(&s->lock);
	return n;
}

/* The domain of the first address of a From: field value, lowercased. */
static int from_domain(const char *value, size_t len, char *buf, size_t size)
{
	const char *lt = memchr(value, '<', len), *start = value, *end = value + len, *at = NULL;
	size_t dl;

	if (lt != NULL) {
		const char *gt = memchr(lt, '>', (size_t)(end - lt));
		start = lt + 1;
		end = gt != NULL ? gt : end;
	} else {
		/* a bare addr-spec, maybe followed by a comment or a second address */
		for (const char *p = start; p < end; p++) {
			if (*p == ',' || *p == '(') {
				end = p;
				break;
			}
		}
	}
	for (const char *p = start; p < end; p++) {
		if (*p == '@')
			at = p;
	}
	if (at == NULL)
		return -1;
	at++;
	while (end > at && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r' || end[-1] == '\n'))
		end--;
	dl = (size_t)(end - at);
	if (dl == 0 || dl >= size)
		return -1;
	memcpy(buf, at, dl);
	buf[dl] = '\0';
	str_lower(buf);
	return dkim_domain_is_safe(buf) ? 0 : -1;
}

int dkim_signer_sign(struct dkim_signer *s, const char *env_from, const struct maildir_msg *msg,
		     struct strbuf *out, char *domain_r, const char **error_r)
{
	return dkim_signer_sign_for(s, env_from, msg, NULL, NULL, out, domain_r, error_r);
}

int dkim_signer_sign_for(struct dkim_signer *s, const char *env_from, const struct maildir_msg *msg,
			 dkim_may_sign_fn *may_sign, void *ctx, struct strbuf *out, char *domain_r,
			 const char **error_r)
{
	char *hdr, domain[256] = "";
	struct dkim_hdr *h;
	size_t nh, nkeys = 0;
	uint64_t off;
	EVP_PKEY *keys[DKIM_KEYS_MAX];
	char selectors[DKIM_KEYS_MAX][DKIM_SELECTOR_MAX];
	unsigned char bh[32];
	int r = 0;

	if (msg_split(msg, &hdr, &h, &nh, &off, error_r) < 0)
		return -1;
	for (size_t i = 0; i < nh; i++) {
		if (dkim_hdr_is(&h[i], "from")) {
			size_t vo = h[i].name_len;
			while (vo < h[i].len && h[i].p[vo] != ':')
				vo++;
			if (vo < h[i].len && from_domain(h[i].p + vo + 1, h[i].len - vo - 1, domain, sizeof(domain)) == 0 &&
			    (may_sign == NULL || may_sign(domain, ctx)))
				nkeys = signer_keys(s, domain, keys, selectors);
			break;
		}
	}
	if (nkeys == 0 && env_from != NULL && strchr(env_from, '@') != NULL) {
		str_copy(domain, sizeof(domain), strrchr(env_from, '@') + 1);
		str_lower(domain);
		if (dkim_domain_is_safe(domain) && (may_sign == NULL || may_sign(domain, ctx)))
			nkeys = signer_keys(s, domain, keys, selectors);
	}
	if (nkeys > 0 && body_hash(msg, off, bh) < 0) {
		*error_r = "cannot read the message";
		r = -1;
	}
	for (size_t i = 0; i < nkeys; i++) {
		if (r >= 0) {
			if (sign_header(keys[i], domain, selectors[i], (int64_t)time(NULL), h, nh, bh, out, error_r) < 0)
				r = -1;
			else
				r++;
		}
		EVP_PKEY_free(keys[i]);
	}
	if (domain_r != NULL)
		str_copy(domain_r, 256, nkeys > 0 ? domain : "");
	free(hdr);
	free(h);
	return r;
}
