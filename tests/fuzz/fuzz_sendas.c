/* libFuzzer target: the sender-policy parsers (policy/sendas.c): the
 * address list of a From:/Sender: value, and a send-as list. Every
 * address given back has an '@' and fits its buffer; the matching never
 * allows an address to a login under strict without a grant unless it is
 * in the login's domain. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "policy/sendas.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char out[SENDAS_HEADER_ADDRS][SENDAS_ADDR_MAX], list[SENDAS_MAX][SENDAS_ADDR_MAX];
	char *text = malloc(size + 1);
	const char *error = NULL;
	size_t n = 0;

	if (text == NULL)
		abort();
	memcpy(text, data, size);
	text[size] = '\0';
	if (sendas_header_addresses((const char *)data, size, out, SENDAS_HEADER_ADDRS, &n, &error) == 0) {
		if (n == 0 || n > SENDAS_HEADER_ADDRS)
			abort();
		for (size_t i = 0; i < n; i++) {
			if (strchr(out[i], '@') == NULL || strlen(out[i]) >= SENDAS_ADDR_MAX)
				abort();
			/* no grants: strict allows only the login's own domain */
			if (sendas_address_is_allowed(SENDER_POLICY_STRICT, "taro@example.test", "", out[i]) &&
			    strcmp(strrchr(out[i], '@'), "@example.test") != 0)
				abort();
		}
	} else if (error == NULL) {
		abort();
	}
	if (sendas_list_parse(text, list, &n, &error) == 0) {
		if (n > SENDAS_MAX)
			abort();
		for (size_t i = 0; i < n; i++) {
			if (strchr(list[i], '@') == NULL)
				abort();
		}
	}
	(void)sendas_address_is_allowed(SENDER_POLICY_STRICT, "taro@example.test", text, "a@b.test");
	(void)sendas_domain_is_allowed("taro@example.test", text, "b.test");
	free(text);
	return 0;
}
