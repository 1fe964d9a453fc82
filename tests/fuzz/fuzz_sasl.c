/* libFuzzer target: SASL PLAIN and LOGIN decoding and the base64 codec
 * under them. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/str.h"
#include "proto/smtp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *in = (const char *)data;
	char authz[256], authc[256], pass[256], login[256], small[4];
	const char *error = NULL;
	unsigned char *dec;
	char *enc;
	long n;

	if (sasl_plain_decode(in, size, authz, sizeof(authz), authc, sizeof(authc), pass,
			      sizeof(pass), &error) == 0) {
		if (strlen(authz) >= sizeof(authz) || strlen(authc) >= sizeof(authc) ||
		    strlen(pass) >= sizeof(pass))
			abort();
	} else if (error == NULL) {
		abort();
	}
	error = NULL;
	if (sasl_plain_decode(in, size, small, sizeof(small), small, sizeof(small), small,
			      sizeof(small), &error) < 0 && error == NULL)
		abort();
	error = NULL;
	if (sasl_login_decode(in, size, login, sizeof(login), &error) == 0) {
		if (strlen(login) >= sizeof(login))
			abort();
	} else if (error == NULL) {
		abort();
	}

	/* base64: decoding writes at most len*3/4 bytes; decode(encode(x)) == x */
	dec = malloc(size * 3 / 4 + 3);
	enc = malloc(4 * ((size + 2) / 3) + 1);
	if (dec == NULL || enc == NULL)
		abort();
	n = base64_decode(in, size, dec);
	if (n > (long)(size * 3 / 4))
		abort();
	base64_encode(data, size, enc);
	if (strlen(enc) != 4 * ((size + 2) / 3))
		abort();
	free(dec);
	dec = malloc(size + 3);
	if (dec == NULL)
		abort();
	n = base64_decode(enc, strlen(enc), dec);
	if (n != (long)size || memcmp(dec, data, size) != 0)
		abort();
	free(dec);
	free(enc);
	return 0;
}
