#ifndef YUBIN_LIB_TLS_H
#define YUBIN_LIB_TLS_H

#include <openssl/ssl.h>
#include <stdbool.h>

/* Server TLS: TLS 1.2+ only. Certificates live in DATA/tls/ as
 * NAME.crt + NAME.key; the SNI host name picks the matching one (exact, then
 * a `_wildcard.DOMAIN` pair for *.DOMAIN), else the server's own host name.
 *
 * The set of certificates (a table) can be replaced while handshakes run
 * (tls_server_reload): the SNI callback looks the name up in the current
 * table under a read lock, and each connection holds references to the
 * SSL_CTX it uses (OpenSSL counts them), so the old table is freed at once
 * without pulling a context from under a connection.
 *
 * tls-alpn-01 (RFC 8737): a client that offers only the ALPN protocol
 * "acme-tls/1" is answered with ACME_DIR/NAME.pem (certificate and key,
 * written by the ACME client while a validation runs) when it exists, and
 * the handshake selects acme-tls/1; otherwise nothing changes. */

struct tls_server;

/* A name asked for by SNI that no certificate covers (the default one is
 * served). Called on the handshake's thread, outside any lock. */
typedef void tls_sni_miss_fn(void *arg, SSL *ssl, const char *name);

/* Loads dir. A pair that does not load is skipped with a warning; NULL
 * (err set) when the directory cannot be read or no pair loads. */
struct tls_server *tls_server_new(const char *dir, const char *default_host,
				  char *err, size_t errsize);
void tls_server_free(struct tls_server *tls);
/* Reads the directory again and swaps the table in (default_host may
 * change). 0, or -1 with err set and the old table kept. */
int tls_server_reload(struct tls_server *tls, const char *default_host, char *err, size_t errsize);
/* A new SSL on the current default context. */
SSL *tls_server_ssl_new(struct tls_server *tls);
/* The directory of tls-alpn-01 certificates (NULL: none answered). */
void tls_server_set_alpn_dir(struct tls_server *tls, const char *dir);
void tls_server_set_sni_miss(struct tls_server *tls, tls_sni_miss_fn *fn, void *arg);

/* What a connection is, for the SNI-miss report: service ("imaps") and
 * client address, copied onto the SSL. */
void tls_ssl_set_peer(SSL *ssl, const char *service, const char *ip);
/* The service and address set above ("" when unset). */
void tls_ssl_peer(SSL *ssl, const char **service_r, const char **ip_r);

/* Whether the certificate x covers host name (exact or one-label
 * wildcard, RFC 6125). */
bool tls_cert_covers(X509 *x, const char *name);

/* Creates a self-signed certificate (EC P-256, 10 years) whose CN and
 * subjectAltName are host, writing PEM files with mode 0644/0600.
 * extra_san, when not NULL, adds subjectAltName entries ("IP:127.0.0.1"). */
int tls_selfsigned_create(const char *host, const char *extra_san, const char *crt_path,
			  const char *key_path, char *err, size_t errsize);

/* Describes the negotiated TLS of ssl for Received headers and logs:
 * "TLSv1.3 TLS_AES_256_GCM_SHA384". */
void tls_describe(SSL *ssl, char *buf, size_t bufsize);

#endif
