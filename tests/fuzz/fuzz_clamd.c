/* libFuzzer target: clamd's replies to INSTREAM (clamd_reply_parse) and
 * clamd addresses (clamd_address_parse). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/clamd.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char name[CLAMD_NAME_MAX], text[300];
	struct clamd_address a;
	const char *error = NULL;
	int r = clamd_reply_parse((const char *)data, size, name, sizeof(name), &error);

	if (r < 0 && error == NULL)
		abort();
	if (r > CLAMD_ERROR || strlen(name) >= sizeof(name))
		abort();
	for (const char *p = name; *p != '\0'; p++) {
		if (*p < 0x20 || *p > 0x7e)
			abort();
	}
	if (r == CLAMD_FOUND && (name[0] == '\0' || strchr(name, ' ') != NULL))
		abort();
	if (size < sizeof(text)) {
		memcpy(text, data, size);
		text[size] = '\0';
		if (clamd_address_parse(text, &a, &error) == 0 && a.transport == CLAMD_TCP && a.port == 0)
			abort();
	}
	return 0;
}
