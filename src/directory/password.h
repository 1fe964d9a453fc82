#ifndef YUBIN_DIRECTORY_PASSWORD_H
#define YUBIN_DIRECTORY_PASSWORD_H

#include <stdbool.h>
#include <stddef.h>

/* Password hashes: argon2id through libsodium for new passwords; crypt(3)
 * hashes ($6$, $5$, $y$, ...) are accepted on import and verified. */

int password_init(void);
/* Writes an argon2id hash string into hash_r (at least 128 bytes). Slow by
 * design: call from a worker thread in the daemon. */
int password_hash(const char *password, char *hash_r, size_t hash_size);
/* True when password matches hash. Slow by design. */
bool password_verify(const char *hash, const char *password);
/* Is this string a hash format we can verify? */
bool password_hash_is_known(const char *hash);

#endif
