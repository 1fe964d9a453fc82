/* libFuzzer target: the delivery journal's records (journal_record_parse),
 * read one after the other as recovery reads a segment; every record read
 * must be one journal_record_head would write. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "store/journal_record.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t off = 0;

	while (off < size) {
		struct journal_record rec;
		const char *error = NULL;
		char folder[JOURNAL_FOLDER_MAX + 1], name[JOURNAL_NAME_MAX + 1], flags[JOURNAL_FLAGS_MAX + 1];
		uint8_t head[JOURNAL_HEAD_MAX];
		size_t used = 0, hlen;
		int r = journal_record_parse(data + off, size - off, &rec, &used, &error);

		if (r < 0 && error == NULL)
			abort();
		if (r <= 0)
			break;
		if (used == 0 || used > size - off || rec.content + rec.content_len > data + off + used)
			abort();
		memcpy(folder, rec.folder, rec.folder_len);
		folder[rec.folder_len] = '\0';
		memcpy(name, rec.name, rec.name_len);
		name[rec.name_len] = '\0';
		memcpy(flags, rec.flags, rec.flags_len);
		flags[rec.flags_len] = '\0';
		hlen = journal_record_head(head, folder, name, flags, rec.content_len);
		if (hlen == 0 || memcmp(head, data + off, hlen) != 0)
			abort();
		off += used;
	}
	return 0;
}
