/* libFuzzer target: HTTP responses as the HTTPS client reads them
 * (https_response_parse on every prefix, then whole with eof, as GET and
 * as HEAD), and the input's first line as an https:// URL. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/https_client.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct https_limits lim = { 512, 2048 };
	const char *p = (const char *)data;
	struct https_response r;
	struct https_url u;
	char line[4096];
	const char *error;
	const char *nl = memchr(p, '\n', size);
	size_t n = nl != NULL ? (size_t)(nl - p) : size;

	if (size > 8192)
		return 0;
	if (n < sizeof(line) && memchr(p, '\0', n) == NULL) {
		memcpy(line, p, n);
		line[n] = '\0';
		if (https_url_parse(line, &u, &error) == 0 &&
		    (u.port == 0 || u.path[0] != '/' || strlen(u.host) == 0))
			abort();
	}
	for (size_t i = 0; i <= size; i += 1 + i / 8) {
		for (int head = 0; head < 2; head++) {
			for (int eof = 0; eof < 2; eof++) {
				int k = https_response_parse(p, i, eof, head, &lim, &r, &error);
				if (k == 1) {
					if (r.body == NULL || r.body_len > lim.max_body || r.body[r.body_len] != '\0' ||
					    r.status < 100 || r.status > 999 || r.nheaders > HTTPS_MAX_HEADERS)
						abort();
					https_response_clear(&r);
				} else if (k < 0 && error == NULL) {
					abort();
				}
			}
		}
	}
	return 0;
}
