#ifndef YUBIN_POLICY_DKIM_KEYS_H
#define YUBIN_POLICY_DKIM_KEYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "lib/strbuf.h"
#include "mail/dkim.h"

/* DKIM keys on disk, shared by yubind (signing) and yubinctl (generation,
 * rotation, DNS records):
 *
 *   DATA/dkim/DOMAIN/selectors            which keys exist and their state
 *   DATA/dkim/DOMAIN/SELECTOR.rsa.pem     RSA-2048 private key (PKCS#8 PEM)
 *   DATA/dkim/DOMAIN/SELECTOR.ed25519.pem Ed25519 private key
 *
 * All files mode 0600, written with temporary file, fsync, rename, fsync
 * of the directory. The selectors file has one line per key,
 * "SELECTOR TYPE STATE SINCE" (STATE next|active|retired, SINCE a Unix
 * time), so the daemon sees a rotation as a changed file and reloads it
 * without a restart. Selectors are "y" YYYYMMDD, a letter b..z when that
 * day was used before, then "r" (rsa) or "e" (ed25519): y20260301r. */

#define DKIM_SELECTOR_MAX 64
#define DKIM_KEYS_MAX 16

enum dkim_key_state { DKIM_STATE_NEXT, DKIM_STATE_ACTIVE, DKIM_STATE_RETIRED };

struct dkim_keyinfo {
	char selector[DKIM_SELECTOR_MAX];
	enum dkim_keytype type;
	enum dkim_key_state state;
	int64_t since;
};

const char *dkim_keytype_name(enum dkim_keytype t);
const char *dkim_state_name(enum dkim_key_state s);
/* true for a domain name safe to use as a directory name (lowercase
 * letters, digits, '-', '.', '_'; no empty labels). */
bool dkim_domain_is_safe(const char *domain);

/* DATA/dkim/DOMAIN and DATA/dkim/DOMAIN/selectors into buf; -1 if too long. */
int dkim_keys_dir(char *buf, size_t size, const char *data_dir, const char *domain);
int dkim_keys_index_path(char *buf, size_t size, const char *data_dir, const char *domain);
int dkim_keys_pem_path(char *buf, size_t size, const char *data_dir, const char *domain,
		       const struct dkim_keyinfo *k);

/* Reads the selectors file: 0 with *n_r keys (0 when the domain has no
 * DKIM directory), -1 with *error_r. */
int dkim_keys_list(const char *data_dir, const char *domain, struct dkim_keyinfo *k, size_t max,
		   size_t *n_r, const char **error_r);
/* Writes the selectors file durably. */
int dkim_keys_save(const char *data_dir, const char *domain, const struct dkim_keyinfo *k, size_t n,
		   const char **error_r);
/* A selector for a new key of type t that is in none of k[0..n). */
void dkim_keys_selector_new(char *buf, size_t size, const struct dkim_keyinfo *k, size_t n,
			    enum dkim_keytype t, int64_t now);
/* Generates a key (RSA-2048 or Ed25519) and writes its PEM file. The
 * caller then records it with dkim_keys_save. */
int dkim_keys_generate(const char *data_dir, const char *domain, const struct dkim_keyinfo *k,
		       const char **error_r);
/* Loads the private key of k; NULL with *error_r. */
EVP_PKEY *dkim_keys_load(const char *data_dir, const char *domain, const struct dkim_keyinfo *k,
			 const char **error_r);
/* Appends the TXT record of a key: "v=DKIM1; k=rsa; p=...". */
int dkim_keys_record(EVP_PKEY *key, struct strbuf *out);

#endif
