/* DKIM keys on disk: see dkim_keys.h for the layout. */
#include "policy/dkim_keys.h"
#include "lib/fsutil.h"
#include "lib/str.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#define INDEX_MAX (64 * 1024)
#define PEM_MAX (64 * 1024)

const char *dkim_keytype_name(enum dkim_keytype t)
{
	return t == DKIM_KEY_ED25519 ? "ed25519" : "rsa";
}

const char *dkim_state_name(enum dkim_key_state s)
{
	return s == DKIM_STATE_NEXT ? "next" : s == DKIM_STATE_ACTIVE ? "active" : "retired";
}

bool dkim_domain_is_safe(const char *domain)
{
	size_t n = strlen(domain);

	if (n == 0 || n > 253 || domain[0] == '.' || domain[0] == '-' || domain[n - 1] == '.')
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = domain[i];
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_'))
			return false;
		if (c == '.' && domain[i + 1] == '.')
			return false;
	}
	return true;
}

static bool selector_is_safe(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n >= DKIM_SELECTOR_MAX || s[0] == '.')
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
		      c == '_' || (c == '.' && s[i + 1] != '.')))
			return false;
	}
	return true;
}

int dkim_keys_dir(char *buf, size_t size, const char *data_dir, const char *domain)
{
	int n = snprintf(buf, size, "%s/dkim/%s", data_dir, domain);

	return n < 0 || (size_t)n >= size || !dkim_domain_is_safe(domain) ? -1 : 0;
}

int dkim_keys_index_path(char *buf, size_t size, const char *data_dir, const char *domain)
{
	int n = snprintf(buf, size, "%s/dkim/%s/selectors", data_dir, domain);

	return n < 0 || (size_t)n >= size || !dkim_domain_is_safe(domain) ? -1 : 0;
}

int dkim_keys_pem_path(char *buf, size_t size, const char *data_dir, const char *domain,
		       const struct dkim_keyinfo *k)
{
	int n = snprintf(buf, size, "%s/dkim/%s/%s.%s.pem", data_dir, domain, k->selector,
			 dkim_keytype_name(k->type));

	return n < 0 || (size_t)n >= size || !dkim_domain_is_safe(domain) || !selector_is_safe(k->selector)
		       ? -1 : 0;
}

static int parse_line(char *line, struct dkim_keyinfo *k)
{
	char *save = NULL, *sel = strtok_r(line, " \t", &save), *type = strtok_r(NULL, " \t", &save);
	char *state = strtok_r(NULL, " \t", &save), *since = strtok_r(NULL, " \t", &save);
	uint64_t v;

	if (sel == NULL || type == NULL || state == NULL || since == NULL || !selector_is_safe(sel) ||
	    str_parse_uint(since, INT64_MAX, &v) < 0)
		return -1;
	memset(k, 0, sizeof(*k));
	str_copy(k->selector, sizeof(k->selector), sel);
	if (strcmp(type, "rsa") == 0)
		k->type = DKIM_KEY_RSA;
	else if (strcmp(type, "ed25519") == 0)
		k->type = DKIM_KEY_ED25519;
	else
		return -1;
	if (strcmp(state, "next") == 0)
		k->state = DKIM_STATE_NEXT;
	else if (strcmp(state, "active") == 0)
		k->state = DKIM_STATE_ACTIVE;
	else if (strcmp(state, "retired") == 0)
		k->state = DKIM_STATE_RETIRED;
	else
		return -1;
	k->since = (int64_t)v;
	return 0;
}

int dkim_keys_list(const char *data_dir, const char *domain, struct dkim_keyinfo *k, size_t max,
		   size_t *n_r, const char **error_r)
{
	char path[PATH_MAX], *text, *save = NULL;
	size_t n = 0;

	*n_r = 0;
	if (dkim_keys_index_path(path, sizeof(path), data_dir, domain) < 0) {
		*error_r = "unusable domain name";
		return -1;
	}
	text = fs_read_file(path, INDEX_MAX, NULL);
	if (text == NULL) {
		if (errno == ENOENT)
			return 0;
		*error_r = "cannot read the DKIM selectors file";
		return -1;
	}
	for (char *line = strtok_r(text, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
		char *l = str_trim(line);
		if (l[0] == '\0' || l[0] == '#')
			continue;
		if (n == max || parse_line(l, &k[n]) < 0) {
			free(text);
			*error_r = n == max ? "too many DKIM keys" : "damaged DKIM selectors file";
			return -1;
		}
		n++;
	}
	free(text);
	*n_r = n;
	return 0;
}

int dkim_keys_save(const char *data_dir, const char *domain, const struct dkim_keyinfo *k, size_t n,
		   const char **error_r)
{
	char path[PATH_MAX], dir[PATH_MAX];
	struct strbuf b = STRBUF_INIT;
	int r;

	if (dkim_keys_index_path(path, sizeof(path), data_dir, domain) < 0 ||
	    dkim_keys_dir(dir, sizeof(dir), data_dir, domain) < 0) {
		*error_r = "unusable domain name";
		return -1;
	}
	if (fs_mkdir_p(dir, 0700) < 0) {
		*error_r = "cannot create the DKIM key directory";
		return -1;
	}
	strbuf_printf(&b, "# DKIM keys of %s (yubinctl dkim show %s): SELECTOR TYPE STATE SINCE\n",
		      domain, domain);
	for (size_t i = 0; i < n; i++)
		strbuf_printf(&b, "%s %s %s %" PRId64 "\n", k[i].selector, dkim_keytype_name(k[i].type),
			      dkim_state_name(k[i].state), k[i].since);
	r = fs_write_file_atomic(path, b.data, b.len, 0600);
	strbuf_free(&b);
	if (r < 0)
		*error_r = "cannot write the DKIM selectors file";
	return r;
}

void dkim_keys_selector_new(char *buf, size_t size, const struct dkim_keyinfo *k, size_t n,
			    enum dkim_keytype t, int64_t now)
{
	time_t tt = (time_t)now;
	struct tm tm;
	char day[16];

	gmtime_r(&tt, &tm);
	strftime(day, sizeof(day), "%Y%m%d", &tm);
	for (char letter = 'a'; letter <= 'z'; letter++) {
		bool taken = false;

		if (letter == 'a')
			snprintf(buf, size, "y%s%c", day, t == DKIM_KEY_ED25519 ? 'e' : 'r');
		else
			snprintf(buf, size, "y%s%c%c", day, letter, t == DKIM_KEY_ED25519 ? 'e' : 'r');
		for (size_t i = 0; i < n && !taken; i++)
			taken = strcmp(k[i].selector, buf) == 0;
		if (!taken)
			return;
	}
	/* 26 rotations in one day: fall back on the time of day */
	snprintf(buf, size, "y%s%02d%02d%02d%c", day, tm.tm_hour, tm.tm_min, tm.tm_sec,
		 t == DKIM_KEY_ED25519 ? 'e' : 'r');
}

int dkim_keys_generate(const char *data_dir, const char *domain, const struct dkim_keyinfo *k,
		       const char **error_r)
{
	char path[PATH_MAX], dir[PATH_MAX];
	EVP_PKEY *key = NULL;
	BIO *bio = NULL;
	char *pem;
	long len;
	int r = -1;

	if (dkim_keys_pem_path(path, sizeof(path), data_dir, domain, k) < 0 ||
	    dkim_keys_dir(dir, sizeof(dir), data_dir, domain) < 0) {
		*error_r = "unusable domain name or selector";
		return -1;
	}
	if (fs_mkdir_p(dir, 0700) < 0) {
		*error_r = "cannot create the DKIM key directory";
		return -1;
	}
	key = k->type == DKIM_KEY_ED25519 ? EVP_PKEY_Q_keygen(NULL, NULL, "ED25519")
					  : EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	if (key == NULL) {
		*error_r = "key generation failed";
		return -1;
	}
	bio = BIO_new(BIO_s_mem());
	if (bio == NULL || PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0, NULL, NULL) != 1) {
		*error_r = "cannot encode the key";
		goto out;
	}
	len = BIO_get_mem_data(bio, &pem);
	if (len <= 0 || fs_write_file_atomic(path, pem, (size_t)len, 0600) < 0) {
		*error_r = "cannot write the key file";
		goto out;
	}
	r = 0;
out:
	BIO_free_all(bio);
	EVP_PKEY_free(key);
	return r;
}

EVP_PKEY *dkim_keys_load(const char *data_dir, const char *domain, const struct dkim_keyinfo *k,
			 const char **error_r)
{
	char path[PATH_MAX], *pem;
	size_t len;
	BIO *bio;
	EVP_PKEY *key;

	if (dkim_keys_pem_path(path, sizeof(path), data_dir, domain, k) < 0) {
		*error_r = "unusable domain name or selector";
		return NULL;
	}
	pem = fs_read_file(path, PEM_MAX, &len);
	if (pem == NULL) {
		*error_r = "cannot read the key file";
		return NULL;
	}
	bio = BIO_new_mem_buf(pem, (int)len);
	key = bio != NULL ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL) : NULL;
	BIO_free(bio);
	explicit_bzero(pem, len);
	free(pem);
	if (key == NULL) {
		*error_r = "the key file holds no usable key";
		return NULL;
	}
	if ((k->type == DKIM_KEY_RSA) != (EVP_PKEY_get_base_id(key) == EVP_PKEY_RSA) ||
	    (k->type == DKIM_KEY_ED25519) != (EVP_PKEY_get_base_id(key) == EVP_PKEY_ED25519)) {
		EVP_PKEY_free(key);
		*error_r = "the key file holds a key of another type";
		return NULL;
	}
	return key;
}

int dkim_keys_record(EVP_PKEY *key, struct strbuf *out)
{
	unsigned char *der = NULL, raw[32];
	size_t rawlen = sizeof(raw);
	char *b64;
	int len;

	if (EVP_PKEY_get_base_id(key) == EVP_PKEY_ED25519) {
		char text[64];
		if (EVP_PKEY_get_raw_public_key(key, raw, &rawlen) != 1 || rawlen != 32)
			return -1;
		base64_encode(raw, rawlen, text);
		strbuf_printf(out, "v=DKIM1; k=ed25519; p=%s", text);
		return 0;
	}
	len = i2d_PUBKEY(key, &der);
	if (len <= 0)
		return -1;
	b64 = malloc(4 * (((size_t)len + 2) / 3) + 1);
	if (b64 == NULL) {
		OPENSSL_free(der);
		return -1;
	}
	base64_encode(der, (size_t)len, b64);
	strbuf_printf(out, "v=DKIM1; k=rsa; p=%s", b64);
	free(b64);
	OPENSSL_free(der);
	return 0;
}
