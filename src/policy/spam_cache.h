#ifndef YUBIN_POLICY_SPAM_CACHE_H
#define YUBIN_POLICY_SPAM_CACHE_H

#include <stdbool.h>

#include "spam/spam_model.h"

/* The spam models as the daemon's threads read them: the server's
 * (DATA/spam/global.model) and the accounts' (DATA/spam/account/A.model).
 * Each thread keeps its own mappings (thread-local, so the read path takes
 * no lock): a model is mapped and checked once, and mapped again only when
 * a stat of its file shows another inode, size or time (a trainer renames a
 * new file over it). The bytes of a mapping stay valid until the same
 * thread looks again. */

#define SPAM_CACHE_ACCOUNTS 8

/* The server's model (NULL when there is no usable file yet) and, when
 * account is not NULL and has one, its own model (else *own_r is NULL).
 * data_dir: DATA. Nothing here allocates: the mappings live in
 * thread-local slots. Returns 0. */
int spam_cache_get(const char *data_dir, const char *account, const struct spam_model **base_r,
		   const struct spam_model **own_r);
/* The path of an account's model under data_dir; -1 when address cannot
 * name a file (a '/' or a leading dot). */
int spam_cache_account_path(const char *data_dir, const char *address, char *buf, size_t size);
/* Drops this thread's mappings (a thread that ends unmaps them here; the
 * daemon's threads keep theirs until the process ends). */
void spam_cache_release(void);

#endif
