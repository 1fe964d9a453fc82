#include "directory/password.h"

#include <crypt.h>
#include <sodium.h>
#include <string.h>

int password_init(void)
{
	return sodium_init() < 0 ? -1 : 0;
}

int password_hash(const char *password, char *hash_r, size_t hash_size)
{
	if (hash_size < crypto_pwhash_STRBYTES)
		return -1;
	return crypto_pwhash_str(hash_r, password, strlen(password),
				 crypto_pwhash_OPSLIMIT_INTERACTIVE,
				 crypto_pwhash_MEMLIMIT_INTERACTIVE) == 0 ? 0 : -1;
}

bool password_hash_is_known(const char *hash)
{
	return strncmp(hash, "$argon2id$", 10) == 0 || strncmp(hash, "$6$", 3) == 0 ||
	       strncmp(hash, "$5$", 3) == 0 || strncmp(hash, "$y$", 3) == 0 ||
	       strncmp(hash, "$2b$", 4) == 0;
}

bool password_verify(const char *hash, const char *password)
{
	struct crypt_data data;
	const char *out;

	if (strncmp(hash, "$argon2id$", 10) == 0)
		return crypto_pwhash_str_verify(hash, password, strlen(password)) == 0;
	if (!password_hash_is_known(hash))
		return false;
	memset(&data, 0, sizeof(data));
	out = crypt_r(password, hash, &data);
	return out != NULL && out[0] == '$' && strlen(out) == strlen(hash) &&
	       sodium_memcmp(out, hash, strlen(hash)) == 0;
}
