/* libFuzzer target: MTA-STS policies and the _mta-sts / _smtp._tls TXT
 * records (policy/mta_sts.c). The input is parsed as a policy body and,
 * NUL-terminated, as both TXT records; every output is checked against
 * its bounds and the parsed mx patterns are matched against the input. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "policy/mta_sts.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char rua[TLSRPT_RUA_MAX][TLSRPT_URI_MAX + 1], id[MTA_STS_ID_MAX + 1];
	struct mta_sts_policy p;
	const char *err = NULL;
	char *txt;
	size_t n;

	if (mta_sts_policy_parse((const char *)data, size, &p, &err) == 1) {
		if (p.n_mx > MTA_STS_MX_MAX || p.max_age > MTA_STS_MAX_AGE_MAX || p.mode > MTA_STS_ENFORCE)
			abort();
		for (size_t i = 0; i < p.n_mx; i++)
			if (strlen(p.mx[i]) > MTA_STS_NAME_MAX)
				abort();
	} else if (err == NULL) {
		abort();
	}
	if ((txt = malloc(size + 1)) == NULL)
		return 0;
	memcpy(txt, data, size);
	txt[size] = '\0';
	if (mta_sts_txt_parse(txt, id, &err) == 1 && (id[0] == '\0' || strlen(id) > MTA_STS_ID_MAX))
		abort();
	if (tlsrpt_txt_parse(txt, rua, &n, &err) == 1) {
		if (n == 0 || n > TLSRPT_RUA_MAX)
			abort();
		for (size_t i = 0; i < n; i++)
			if (strlen(rua[i]) > TLSRPT_URI_MAX)
				abort();
	}
	(void)mta_sts_mx_match(txt, "mx1.example.net");
	(void)mta_sts_mx_match("*.example.net", txt);
	free(txt);
	return 0;
}
