#ifndef YUBIN_POLICY_ACME_MSG_H
#define YUBIN_POLICY_ACME_MSG_H

#include <openssl/evp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* The ACME client's pure parts (RFC 8555, RFC 8737): base64url, the
 * account key's JWK and thumbprint, JWS (ES256) request bodies, key
 * authorizations, CSRs, the tls-alpn-01 certificate, reading the server's
 * JSON objects, and when to renew or retry. No I/O: the HTTPS exchange
 * and the files are ops/ops_acme.c's. */

#define ACME_URL_MAX 1024
#define ACME_MAX_AUTHZ 8
#define ACME_MAX_CHALLENGES 8

/* base64url without padding (RFC 8555 §6.1) of len bytes; out needs
 * 4 * len / 3 + 2 bytes; returns the length written. */
size_t acme_b64url(const void *data, size_t len, char *out, size_t outsize);

/* The JWK of a P-256 public key with its members in the order RFC 7638
 * hashes them: {"crv":"P-256","kty":"EC","x":"...","y":"..."}. */
int acme_jwk(EVP_PKEY *key, char *out, size_t outsize);
/* base64url of the JWK's SHA-256 (RFC 7638), 43 characters. */
int acme_thumbprint(EVP_PKEY *key, char *out, size_t outsize);
/* "TOKEN.THUMBPRINT" (RFC 8555 §8.1); -1 when token is not base64url. */
int acme_key_authorization(const char *token, const char *thumbprint, char *out, size_t outsize);
/* Whether s is a non-empty base64url string of at most max characters
 * (tokens become file names). */
bool acme_is_b64url(const char *s, size_t max);

/* A flattened JWS (RFC 7515 §7.2.2) signed with ES256: protected header
 * {"alg":"ES256", jwk or kid, "nonce", "url"}; kid NULL means the JWK
 * (newAccount). payload NULL is POST-as-GET (empty payload). Returns a
 * malloc'd JSON text, NULL on failure. */
char *acme_jws(EVP_PKEY *key, const char *kid, const char *nonce, const char *url,
	       const char *payload);
/* An ECDSA signature in DER turned into JWS's fixed r||s (32 + 32 bytes). */
int acme_ecdsa_raw(const unsigned char *der, size_t der_len, unsigned char raw[64]);

/* The request bodies (JSON text, malloc'd; NULL on failure):
 * newAccount {"termsOfServiceAgreed":true[,"contact":["mailto:C"]]}
 * (contact "" or NULL: none), newOrder {"identifiers":[{"type":"dns",
 * "value":N}...]}, finalize {"csr":CSR}. */
char *acme_account_payload(const char *contact);
char *acme_order_payload(const char *const *names, size_t n);
char *acme_finalize_payload(const char *csr);

/* A CSR (DER, base64url into out) for names[0..n) (the first one also the
 * CN), signed with key. */
int acme_csr(EVP_PKEY *key, const char *const *names, size_t n, char *out, size_t outsize);

/* The tls-alpn-01 certificate (RFC 8737 §3): self-signed for name with the
 * critical acmeIdentifier extension holding SHA-256(key authorization).
 * PEM of certificate then key, malloc'd. */
char *acme_alpn_cert(const char *name, const char *key_authorization);

/* A new P-256 key. */
EVP_PKEY *acme_key_new(void);

struct acme_directory {
	char new_nonce[ACME_URL_MAX], new_account[ACME_URL_MAX], new_order[ACME_URL_MAX];
};

struct acme_order {
	char status[16];
	char finalize[ACME_URL_MAX], certificate[ACME_URL_MAX];
	char authz[ACME_MAX_AUTHZ][ACME_URL_MAX];
	size_t nauthz;
};

struct acme_challenge {
	char type[32], status[16], url[ACME_URL_MAX], token[256];
	char error[400];	/* the problem of a failed validation, "type: detail" */
};

struct acme_authz {
	char status[16], identifier[256];
	struct acme_challenge ch[ACME_MAX_CHALLENGES];
	size_t nch;
};

/* Read the server's objects (JSON text of len bytes). 0, or -1 with
 * *error_r. */
int acme_parse_directory(const char *text, size_t len, struct acme_directory *d, const char **error_r);
int acme_parse_order(const char *text, size_t len, struct acme_order *o, const char **error_r);
int acme_parse_authz(const char *text, size_t len, struct acme_authz *a, const char **error_r);
/* An RFC 7807 problem document: "type: detail" into out (what a failure
 * event says); 0, or -1 when text is not one. */
int acme_parse_problem(const char *text, size_t len, char *out, size_t outsize);
/* The challenge of type in a, or NULL. */
const struct acme_challenge *acme_authz_challenge(const struct acme_authz *a, const char *type);

/* When to renew a certificate valid from not_before to not_after: 30 days
 * before its end (a third of its life before, if it lives less than 90
 * days), made earlier by up to a day (a sixtieth of its life if shorter)
 * according to jitter (any number; the caller passes a random one), so
 * many names do not renew in the same minute. */
time_t acme_renew_time(time_t not_before, time_t not_after, uint32_t jitter);
/* Seconds to wait after the failures-th failure in a row: 10 minutes,
 * doubling, at most a day. */
unsigned acme_backoff(unsigned failures);
/* Orders one name may start per day. */
#define ACME_ORDERS_PER_DAY 5

#endif
