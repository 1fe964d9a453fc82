#ifndef YUBIN_POLICY_BATV_H
#define YUBIN_POLICY_BATV_H

#include <stddef.h>
#include <stdint.h>

/* BATV, "prvs" form (draft-levine-smtp-batv): an outbound envelope sender
 * user@domain becomes prvs=KDDDSSSSSS=user@domain, where K is the key
 * number (0-9), DDD the day the tag expires (days since 1970, modulo 1000)
 * and SSSSSS the first 3 bytes, in hex, of HMAC-SHA1(key, "KDDD" +
 * "user@domain"). Bounces (null reverse-path) are then accepted only for
 * tagged addresses whose tag verifies and has not expired. Pure: the
 * caller passes the key and the time. */

#define BATV_VALID_DAYS 7
#define BATV_KEY_MAX 64
#define BATV_TAGGED_MAX (5 + 10 + 1)	/* "prvs=" KDDDSSSSSS "=" */

/* Signs address (local@domain, lower case) with key number keynum (0-9),
 * expiring BATV_VALID_DAYS after now. Writes the tagged address to out;
 * -1 when it does not fit or the address is already tagged. */
int batv_sign(const char *address, unsigned keynum, const unsigned char *key, size_t keylen,
	      int64_t now, char *out, size_t size);

enum batv_result {
	BATV_NONE,		/* not a prvs= address */
	BATV_VALID,
	BATV_EXPIRED,
	BATV_BAD,		/* forged, damaged or unknown key */
	BATV_MALFORMED,		/* prvs= but not KDDDSSSSSS */
};

/* Splits a local part "prvs=KDDDSSSSSS=user": *keynum_r, and the original
 * local part to plain (lower-cased). BATV_NONE or BATV_MALFORMED, else
 * BATV_VALID meaning "parsed". */
enum batv_result batv_parse(const char *local, unsigned *keynum_r, char *plain, size_t size);

/* Verifies a tagged local part against key for domain at time now; the
 * plain local part goes to plain. */
enum batv_result batv_verify(const char *local, const char *domain, const unsigned char *key,
			     size_t keylen, int64_t now, char *plain, size_t size);

const char *batv_result_text(enum batv_result r);

#endif
