/* libFuzzer target: the TLS report builder (policy/tlsrpt.c). The input
 * is a day's journal; each domain in it is reported and the JSON must come
 * out whole (the writer's result non-NULL). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "policy/tlsrpt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *journal;
static size_t journal_len;

static void one(const char *domain, void *ctx)
{
	static const struct tlsrpt_meta m = { "mail.example.jp", "tls@example.jp", "id", "s", "e" };
	struct json j;

	json_init(&j);
	if (tlsrpt_report_json(journal, journal_len, domain, &m, &j) != 1 || json_result(&j, NULL) == NULL)
		abort();
	json_free(&j);
	(*(unsigned *)ctx)++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned n = 0;

	journal = (const char *)data;
	journal_len = size;
	tlsrpt_journal_domains(journal, journal_len, 8, one, &n);
	if (n > 8)
		abort();
	return 0;
}
