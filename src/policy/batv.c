/* BATV prvs= signing and verification: see batv.h. */
#include "policy/batv.h"
#include "lib/str.h"

#include <openssl/crypto.h>
#include <stdbool.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static unsigned batv_day(int64_t now)
{
	return (unsigned)((now < 0 ? 0 : now / 86400) % 1000);
}

/* The 6 hex digits of HMAC-SHA1(key, "KDDD" + address). */
static int batv_hash(unsigned keynum, unsigned day, const char *address, const unsigned char *key,
		     size_t keylen, char hex[7])
{
	char data[4 + 320 + 1];
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned maclen = 0;
	int n = snprintf(data, sizeof(data), "%u%03u%s", keynum, day, address);

	if (n < 0 || (size_t)n >= sizeof(data) ||
	    HMAC(EVP_sha1(), key, (int)keylen, (const unsigned char *)data, (size_t)n, mac, &maclen) == NULL ||
	    maclen < 3)
		return -1;
	snprintf(hex, 7, "%02x%02x%02x", mac[0], mac[1], mac[2]);
	return 0;
}

int batv_sign(const char *address, unsigned keynum, const unsigned char *key, size_t keylen,
	      int64_t now, char *out, size_t size)
{
	char lower[320], hex[7];
	unsigned day = (batv_day(now) + BATV_VALID_DAYS) % 1000;
	int n;

	if (keynum > 9 || str_copy(lower, sizeof(lower), address) < 0 ||
	    strncasecmp(address, "prvs=", 5) == 0 || strchr(address, '@') == NULL)
		return -1;
	str_lower(lower);
	if (batv_hash(keynum, day, lower, key, keylen, hex) < 0)
		return -1;
	n = snprintf(out, size, "prvs=%u%03u%s=%s", keynum, day, hex, lower);
	return n < 0 || (size_t)n >= size ? -1 : 0;
}

enum batv_result batv_parse(const char *local, unsigned *keynum_r, char *plain, size_t size)
{
	const char *tag = local + 5;

	if (strncasecmp(local, "prvs=", 5) != 0)
		return BATV_NONE;
	for (int i = 0; i < 10; i++) {
		bool ok = i < 4 ? (tag[i] >= '0' && tag[i] <= '9')
				: ((tag[i] >= '0' && tag[i] <= '9') || (tag[i] >= 'a' && tag[i] <= 'f') ||
				   (tag[i] >= 'A' && tag[i] <= 'F'));
		if (!ok)
			return BATV_MALFORMED;
	}
	if (tag[10] != '=' || tag[11] == '\0' || str_copy(plain, size, tag + 11) < 0)
		return BATV_MALFORMED;
	str_lower(plain);
	*keynum_r = (unsigned)(tag[0] - '0');
	return BATV_VALID;
}

enum batv_result batv_verify(const char *local, const char *domain, const unsigned char *key,
			     size_t keylen, int64_t now, char *plain, size_t size)
{
	char address[320], want[7], got[7];
	unsigned keynum, day, today = batv_day(now), ahead;
	enum batv_result r = batv_parse(local, &keynum, plain, size);
	int n;

	if (r != BATV_VALID)
		return r;
	day = (unsigned)((local[6] - '0') * 100 + (local[7] - '0') * 10 + (local[8] - '0'));
	memcpy(got, local + 9, 6);
	got[6] = '\0';
	str_lower(got);
	n = snprintf(address, sizeof(address), "%s@%s", plain, domain);
	if (n < 0 || (size_t)n >= sizeof(address))
		return BATV_MALFORMED;
	str_lower(address);
	if (keylen == 0 || batv_hash(keynum, day, address, key, keylen, want) < 0 ||
	    CRYPTO_memcmp(want, got, 6) != 0)
		return BATV_BAD;
	/* Days from today to the expiry day, modulo 1000: 0..7 is still valid;
	 * a day in the past wraps to 990-something. */
	ahead = (day + 1000 - today) % 1000;
	return ahead <= BATV_VALID_DAYS ? BATV_VALID : BATV_EXPIRED;
}

const char *batv_result_text(enum batv_result r)
{
	switch (r) {
	case BATV_NONE: return "not signed";
	case BATV_VALID: return "valid";
	case BATV_EXPIRED: return "expired";
	case BATV_BAD: return "invalid signature";
	case BATV_MALFORMED: return "malformed tag";
	}
	return "unknown";
}
