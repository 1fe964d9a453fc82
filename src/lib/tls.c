#include "lib/tls.h"
#include "lib/log.h"
#include "lib/str.h"

#include <ctype.h>
#include <pthread.h>

#include <dirent.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

struct tls_cert {
	char name[256];		/* host name, or "*.domain" */
	SSL_CTX *ctx;
};

/* One loaded set of certificates; replaced whole by a reload. */
struct tls_table {
	struct tls_cert *certs;
	size_t ncerts;
	SSL_CTX *default_ctx;
};

struct tls_server {
	pthread_rwlock_t lock;		/* guards table */
	struct tls_table *table;
	char dir[1024];
	char alpn_dir[1024];
	tls_sni_miss_fn *miss;
	void *miss_arg;
};

/* What tls_ssl_set_peer puts on an SSL. */
struct tls_peer {
	char service[16], ip[64];
	bool acme;		/* answering a tls-alpn-01 validation */
};

static int peer_index = -1;
static pthread_once_t peer_once = PTHREAD_ONCE_INIT;

static void peer_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl, void *argp)
{
	free(ptr);
}

static void peer_index_init(void)
{
	peer_index = SSL_get_ex_new_index(0, NULL, NULL, NULL, peer_free);
}

static struct tls_peer *peer_get(SSL *ssl, bool create)
{
	struct tls_peer *p;

	pthread_once(&peer_once, peer_index_init);
	p = SSL_get_ex_data(ssl, peer_index);
	if (p == NULL && create) {
		p = calloc(1, sizeof(*p));
		if (p != NULL && SSL_set_ex_data(ssl, peer_index, p) != 1) {
			free(p);
			p = NULL;
		}
	}
	return p;
}

void tls_ssl_set_peer(SSL *ssl, const char *service, const char *ip)
{
	struct tls_peer *p = peer_get(ssl, true);

	if (p == NULL)
		return;
	snprintf(p->service, sizeof(p->service), "%s", service != NULL ? service : "");
	snprintf(p->ip, sizeof(p->ip), "%s", ip != NULL ? ip : "");
}

void tls_ssl_peer(SSL *ssl, const char **service_r, const char **ip_r)
{
	struct tls_peer *p = peer_get(ssl, false);

	*service_r = p != NULL ? p->service : "";
	*ip_r = p != NULL ? p->ip : "";
}

static void tls_error_string(char *err, size_t errsize, const char *what)
{
	unsigned long e = ERR_get_error();
	char buf[256];

	ERR_error_string_n(e, buf, sizeof(buf));
	snprintf(err, errsize, "%s: %s", what, e != 0 ? buf : "unknown error");
	ERR_clear_error();
}

/* The context for name in t (exact, then *.parent), or NULL. */
static SSL_CTX *table_find(const struct tls_table *t, const char *name)
{
	const char *dot = strchr(name, '.');

	for (size_t i = 0; i < t->ncerts; i++) {
		if (str_eq_ci(t->certs[i].name, name))
			return t->certs[i].ctx;
	}
	for (size_t i = 0; dot != NULL && i < t->ncerts; i++) {
		const char *c = t->certs[i].name;
		if (c[0] == '*' && str_eq_ci(c + 1, dot))
			return t->certs[i].ctx;
	}
	return NULL;
}

static int tls_sni_callback(SSL *ssl, int *alert, void *arg)
{
	struct tls_server *tls = arg;
	const char *name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
	struct tls_peer *p = peer_get(ssl, false);
	SSL_CTX *ctx;

	if (name == NULL || (p != NULL && p->acme))
		return SSL_TLSEXT_ERR_OK;
	pthread_rwlock_rdlock(&tls->lock);
	ctx = table_find(tls->table, name);
	if (ctx != NULL)
		SSL_set_SSL_CTX(ssl, ctx);	/* takes its own reference */
	pthread_rwlock_unlock(&tls->lock);
	if (ctx == NULL && tls->miss != NULL)
		tls->miss(tls->miss_arg, ssl, name);
	return SSL_TLSEXT_ERR_OK;	/* else keep the default certificate */
}

/* ALPN "acme-tls/1" only, on the tls-alpn-01 context. */
static int alpn_select_acme(SSL *ssl, const unsigned char **out, unsigned char *outlen,
			    const unsigned char *in, unsigned int inlen, void *arg)
{
	static const unsigned char proto[] = "acme-tls/1";

	for (unsigned i = 0; i < inlen; i += 1u + in[i]) {
		if (in[i] == sizeof(proto) - 1 && i + 1u + in[i] <= inlen &&
		    memcmp(in + i + 1, proto, sizeof(proto) - 1) == 0) {
			*out = in + i + 1;
			*outlen = in[i];
			return SSL_TLSEXT_ERR_OK;
		}
	}
	return SSL_TLSEXT_ERR_ALERT_FATAL;
}

/* Whether the ClientHello's ALPN list is exactly "acme-tls/1" (RFC 8737
 * §3: the validation offers only that), and its SNI name into name. */
static bool hello_is_acme(SSL *ssl, char *name, size_t namesize)
{
	const unsigned char *p;
	size_t len, n;

	if (SSL_client_hello_get0_ext(ssl, TLSEXT_TYPE_application_layer_protocol_negotiation, &p, &len) != 1 ||
	    len != 2 + 1 + 10 || p[0] != 0 || p[1] != 11 || p[2] != 10 || memcmp(p + 3, "acme-tls/1", 10) != 0)
		return false;
	/* server_name: list length, type 0, name length, name */
	if (SSL_client_hello_get0_ext(ssl, TLSEXT_TYPE_server_name, &p, &len) != 1 || len < 5 || p[2] != 0)
		return false;
	n = (size_t)p[3] << 8 | p[4];
	if (n == 0 || n >= namesize || n > len - 5)
		return false;
	memcpy(name, p + 5, n);
	name[n] = '\0';
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)name[i];
		if (!(isalnum(c) || c == '-' || c == '.'))
			return false;
	}
	return name[0] != '.';
}

static SSL_CTX *alpn_ctx_load(const char *path)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());

	if (ctx == NULL)
		return NULL;
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	if (SSL_CTX_use_certificate_file(ctx, path, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_use_PrivateKey_file(ctx, path, SSL_FILETYPE_PEM) != 1) {
		SSL_CTX_free(ctx);
		ERR_clear_error();
		return NULL;
	}
	SSL_CTX_set_alpn_select_cb(ctx, alpn_select_acme, NULL);
	return ctx;
}

static int tls_hello_callback(SSL *ssl, int *alert, void *arg)
{
	struct tls_server *tls = arg;
	char name[256], path[1400];
	struct tls_peer *p;
	SSL_CTX *ctx;

	if (tls->alpn_dir[0] == '\0' || !hello_is_acme(ssl, name, sizeof(name)))
		return SSL_CLIENT_HELLO_SUCCESS;
	str_lower(name);
	snprintf(path, sizeof(path), "%s/%s.pem", tls->alpn_dir, name);
	ctx = alpn_ctx_load(path);	/* only while a validation runs: rare */
	if (ctx == NULL)
		return SSL_CLIENT_HELLO_SUCCESS;
	p = peer_get(ssl, true);
	if (p != NULL) {
		p->acme = true;
		SSL_set_SSL_CTX(ssl, ctx);
	}
	SSL_CTX_free(ctx);	/* the SSL holds its reference */
	return SSL_CLIENT_HELLO_SUCCESS;
}

#define TLS12_CIPHERS \
	"ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:" \
	"ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:" \
	"ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305"

static SSL_CTX *tls_ctx_load(const char *crt, const char *key, char *err, size_t errsize)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());

	if (ctx == NULL) {
		tls_error_string(err, errsize, "SSL_CTX_new");
		return NULL;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	/* TLS 1.2: AEAD suites with forward secrecy only (no CBC), as in
	 * Mozilla's "intermediate" profile; TLS 1.3 keeps OpenSSL's defaults. */
	if (SSL_CTX_set_cipher_list(ctx, TLS12_CIPHERS) != 1) {
		tls_error_string(err, errsize, "SSL_CTX_set_cipher_list");
		SSL_CTX_free(ctx);
		return NULL;
	}
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE |
				 SSL_OP_NO_COMPRESSION);
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
	if (SSL_CTX_use_certificate_chain_file(ctx, crt) != 1) {
		tls_error_string(err, errsize, crt);
		SSL_CTX_free(ctx);
		return NULL;
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_check_private_key(ctx) != 1) {
		tls_error_string(err, errsize, key);
		SSL_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

static void table_free(struct tls_table *t)
{
	if (t == NULL)
		return;
	for (size_t i = 0; i < t->ncerts; i++)
		SSL_CTX_free(t->certs[i].ctx);
	free(t->certs);
	free(t);
}

static int table_add(struct tls_table *t, const char *dir, const char *name)
{
	char crt[1400], key[1400], err[512];
	struct tls_cert *grown;
	SSL_CTX *ctx;

	snprintf(crt, sizeof(crt), "%s/%s.crt", dir, name);
	snprintf(key, sizeof(key), "%s/%s.key", dir, name);
	ctx = tls_ctx_load(crt, key, err, sizeof(err));
	if (ctx == NULL) {
		log_warn(NULL, "tls: %s skipped: %s", name, err);
		return 0;
	}
	grown = realloc(t->certs, (t->ncerts + 1) * sizeof(*grown));
	if (grown == NULL) {
		SSL_CTX_free(ctx);
		return -1;
	}
	t->certs = grown;
	if (strncmp(name, "_wildcard.", 10) == 0)
		snprintf(t->certs[t->ncerts].name, sizeof(t->certs[0].name), "*.%s", name + 10);
	else
		str_copy(t->certs[t->ncerts].name, sizeof(t->certs[0].name), name);
	t->certs[t->ncerts++].ctx = ctx;
	return 0;
}

static struct tls_table *table_load(struct tls_server *tls, const char *default_host, char *err,
				    size_t errsize)
{
	struct tls_table *t = calloc(1, sizeof(*t));
	DIR *d = opendir(tls->dir);
	struct dirent *de;

	if (t == NULL || d == NULL) {
		snprintf(err, errsize, "%s: cannot open the certificate directory", tls->dir);
		free(t);
		if (d != NULL)
			closedir(d);
		return NULL;
	}
	while ((de = readdir(d)) != NULL) {
		size_t len = strlen(de->d_name);
		char name[256];

		if (len < 5 || strcmp(de->d_name + len - 4, ".crt") != 0 || len - 4 >= sizeof(name) ||
		    de->d_name[0] == '.')
			continue;
		str_copyn(name, sizeof(name), de->d_name, len - 4);
		if (table_add(t, tls->dir, name) < 0)
			break;
	}
	closedir(d);
	for (size_t i = 0; i < t->ncerts; i++) {
		if (str_eq_ci(t->certs[i].name, default_host))
			t->default_ctx = t->certs[i].ctx;
	}
	if (t->default_ctx == NULL && t->ncerts > 0)
		t->default_ctx = t->certs[0].ctx;
	if (t->default_ctx == NULL) {
		snprintf(err, errsize, "%s: no usable certificate (expected %s.crt and %s.key)",
			 tls->dir, default_host, default_host);
		table_free(t);
		return NULL;
	}
	for (size_t i = 0; i < t->ncerts; i++) {
		SSL_CTX_set_tlsext_servername_callback(t->certs[i].ctx, tls_sni_callback);
		SSL_CTX_set_tlsext_servername_arg(t->certs[i].ctx, tls);
		SSL_CTX_set_client_hello_cb(t->certs[i].ctx, tls_hello_callback, tls);
	}
	return t;
}

struct tls_server *tls_server_new(const char *dir, const char *default_host,
				  char *err, size_t errsize)
{
	struct tls_server *tls = calloc(1, sizeof(*tls));

	if (tls == NULL) {
		snprintf(err, errsize, "out of memory");
		return NULL;
	}
	pthread_rwlock_init(&tls->lock, NULL);
	str_copy(tls->dir, sizeof(tls->dir), dir);
	tls->table = table_load(tls, default_host, err, errsize);
	if (tls->table == NULL) {
		tls_server_free(tls);
		return NULL;
	}
	return tls;
}

int tls_server_reload(struct tls_server *tls, const char *default_host, char *err, size_t errsize)
{
	struct tls_table *t = table_load(tls, default_host, err, errsize), *old;

	if (t == NULL)
		return -1;
	pthread_rwlock_wrlock(&tls->lock);
	old = tls->table;
	tls->table = t;
	pthread_rwlock_unlock(&tls->lock);
	table_free(old);	/* connections keep the contexts they hold */
	return 0;
}

void tls_server_set_alpn_dir(struct tls_server *tls, const char *dir)
{
	str_copy(tls->alpn_dir, sizeof(tls->alpn_dir), dir != NULL ? dir : "");
}

void tls_server_set_sni_miss(struct tls_server *tls, tls_sni_miss_fn *fn, void *arg)
{
	tls->miss = fn;
	tls->miss_arg = arg;
}

void tls_server_free(struct tls_server *tls)
{
	if (tls == NULL)
		return;
	table_free(tls->table);
	pthread_rwlock_destroy(&tls->lock);
	free(tls);
}

SSL *tls_server_ssl_new(struct tls_server *tls)
{
	SSL *ssl;

	pthread_rwlock_rdlock(&tls->lock);
	ssl = SSL_new(tls->table->default_ctx);
	pthread_rwlock_unlock(&tls->lock);
	return ssl;
}

bool tls_cert_covers(X509 *x, const char *name)
{
	return X509_check_host(x, name, strlen(name), X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS, NULL) == 1;
}

int tls_selfsigned_create(const char *host, const char *extra_san, const char *crt_path,
			  const char *key_path, char *err, size_t errsize)
{
	EVP_PKEY *pkey = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	X509_NAME *name;
	X509V3_CTX v3;
	X509_EXTENSION *ext;
	char san[600];
	FILE *f = NULL;
	int ret = -1;
	mode_t old;

	if (pkey == NULL || x == NULL) {
		tls_error_string(err, errsize, "key generation");
		goto out;
	}
	X509_set_version(x, 2);
	{
		unsigned char serial[16];
		BIGNUM *bn;
		str_random_id((char *)serial, sizeof(serial));
		bn = BN_bin2bn(serial, sizeof(serial) - 1, NULL);
		BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x));
		BN_free(bn);
	}
	X509_gmtime_adj(X509_getm_notBefore(x), -3600);
	X509_gmtime_adj(X509_getm_notAfter(x), 10L * 365 * 24 * 3600);
	X509_set_pubkey(x, pkey);
	name = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)host, -1, -1, 0);
	X509_set_issuer_name(x, name);
	X509V3_set_ctx(&v3, x, x, NULL, NULL, 0);
	snprintf(san, sizeof(san), "DNS:%s%s%s", host, extra_san != NULL ? "," : "",
		 extra_san != NULL ? extra_san : "");
	ext = X509V3_EXT_conf_nid(NULL, &v3, NID_subject_alt_name, san);
	if (ext == NULL) {
		tls_error_string(err, errsize, "subjectAltName");
		goto out;
	}
	X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	ext = X509V3_EXT_conf_nid(NULL, &v3, NID_basic_constraints, "critical,CA:TRUE");
	X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	if (X509_sign(x, pkey, EVP_sha256()) == 0) {
		tls_error_string(err, errsize, "signing");
		goto out;
	}
	old = umask(077);
	f = fopen(key_path, "w");
	umask(old);
	if (f == NULL || PEM_write_PrivateKey(f, pkey, NULL, NULL, 0, NULL, NULL) != 1) {
		snprintf(err, errsize, "%s: cannot write the key", key_path);
		goto out;
	}
	fclose(f);
	f = fopen(crt_path, "w");
	if (f == NULL || PEM_write_X509(f, x) != 1) {
		snprintf(err, errsize, "%s: cannot write the certificate", crt_path);
		goto out;
	}
	ret = 0;
out:
	if (f != NULL)
		fclose(f);
	X509_free(x);
	EVP_PKEY_free(pkey);
	return ret;
}

void tls_describe(SSL *ssl, char *buf, size_t bufsize)
{
	const SSL_CIPHER *c = SSL_get_current_cipher(ssl);

	snprintf(buf, bufsize, "%s %s", SSL_get_version(ssl),
		 c != NULL ? SSL_CIPHER_get_name(c) : "unknown");
}
