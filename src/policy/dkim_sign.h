#ifndef YUBIN_POLICY_DKIM_SIGN_H
#define YUBIN_POLICY_DKIM_SIGN_H

#include <stdbool.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "lib/strbuf.h"
#include "store/maildir.h"

/* DKIM signing (RFC 6376 with rsa-sha256, RFC 8463 ed25519-sha256):
 * relaxed/relaxed, the usual header fields (each one as often as it is
 * present, From once more so none can be added), t= the signing time. */

/* The keys of DATA/dkim (policy/dkim_keys.h), loaded on first use and
 * reloaded when a domain's selectors file changes (a rotation needs no
 * restart). Thread-safe: one signer serves every thread. */
struct dkim_signer;

struct dkim_signer *dkim_signer_new(const char *data_dir);
void dkim_signer_free(struct dkim_signer *s);

/* Signs msg (its prefix and body, CRLF or LF line ends) with every
 * active key of the domain of its From: address when that domain has
 * keys, else of env_from's domain: appends one DKIM-Signature field per
 * key to out, to be put in front of the message. Returns the number of
 * signatures (0: no keys for either domain), or -1 with *error_r. The
 * signing domain goes to domain_r (size 256) when not NULL. */
int dkim_signer_sign(struct dkim_signer *s, const char *env_from, const struct maildir_msg *msg,
		     struct strbuf *out, char *domain_r, const char **error_r);
/* As dkim_signer_sign, but a domain is only a candidate when may_sign
 * (when not NULL) says yes: mail an authenticated login submits is never
 * signed for a domain the login may not send as. */
typedef bool dkim_may_sign_fn(const char *domain, void *ctx);
int dkim_signer_sign_for(struct dkim_signer *s, const char *env_from, const struct maildir_msg *msg,
			 dkim_may_sign_fn *may_sign, void *ctx, struct strbuf *out, char *domain_r,
			 const char **error_r);

/* One signature with key (RSA or Ed25519) for d=domain s=selector at
 * time now: appends the DKIM-Signature field to out. 0 or -1. */
int dkim_sign_one(EVP_PKEY *key, const char *domain, const char *selector, int64_t now,
		  const struct maildir_msg *msg, struct strbuf *out, const char **error_r);

#endif
