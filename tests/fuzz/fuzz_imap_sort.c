/* libFuzzer target: RFC 5256 base subjects and threading on arbitrary
 * subjects, Message-IDs and References. The input is split at NUL bytes
 * into (subject, message-id, references) triples. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/imap_sort.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *copy = malloc(size + 1), *fields[48];
	struct imap_sort_msg msgs[16];
	char bases[16][128];
	struct strbuf out = STRBUF_INIT;
	size_t nf = 0, n = 0;

	if (copy == NULL)
		return 0;
	memcpy(copy, data, size);
	copy[size] = '\0';
	fields[nf++] = copy;
	for (size_t i = 0; i < size && nf < 48; i++) {
		if (copy[i] == '\0')
			fields[nf++] = copy + i + 1;
	}
	for (size_t i = 0; i + 2 < nf && n < 16; i += 3, n++) {
		memset(&msgs[n], 0, sizeof(msgs[n]));
		msgs[n].seq = (uint32_t)n + 1;
		msgs[n].uid = (uint32_t)n * 7 + 1;
		msgs[n].date = (int64_t)(strlen(fields[i]) % 5);
		imap_base_subject(fields[i], bases[n], sizeof(bases[n]), &msgs[n].subject_is_reply);
		msgs[n].base_subject = bases[n];
		msgs[n].from = msgs[n].to = msgs[n].cc = msgs[n].display_from = msgs[n].display_to = "";
		msgs[n].message_id = fields[i + 1];
		msgs[n].references = fields[i + 2];
	}
	imap_thread(msgs, n, IMAP_THREAD_REFERENCES, false, &out);
	imap_thread(msgs, n, IMAP_THREAD_ORDEREDSUBJECT, true, &out);
	strbuf_free(&out);
	free(copy);
	return 0;
}
