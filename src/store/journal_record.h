#ifndef YUBIN_STORE_JOURNAL_RECORD_H
#define YUBIN_STORE_JOURNAL_RECORD_H

#include <stddef.h>
#include <stdint.h>

/* One record of the delivery journal (store/journal.h): a message copy as
 * it was delivered, enough to write it again after a crash.
 *
 *   head     magic "YBJ1" (4) | folder length (2) | name length (2) |
 *            flags length (1) | 3 zero bytes | content length (8),
 *            all little-endian; then the folder path, the base name and the
 *            Maildir flags (no terminating NULs)
 *   content  the message file's bytes
 *   tail     CRC-32 (zlib's) of head and content (4) | magic "1JBY" (4)
 *
 * Pure: bytes in, fields out; the limits are the ones below. */

#define JOURNAL_HEAD_FIXED 20
#define JOURNAL_TAIL_LEN 8
#define JOURNAL_FOLDER_MAX 4096
#define JOURNAL_NAME_MAX 255
#define JOURNAL_FLAGS_MAX 26
#define JOURNAL_HEAD_MAX (JOURNAL_HEAD_FIXED + JOURNAL_FOLDER_MAX + JOURNAL_NAME_MAX + JOURNAL_FLAGS_MAX)

struct journal_record {
	const char *folder;	/* absolute path of the Maildir folder */
	size_t folder_len;
	const char *name;	/* the base name: no '/', no ':' */
	size_t name_len;
	const char *flags;	/* "" for new/, else cur/NAME:2,FLAGS (A-Z, ascending) */
	size_t flags_len;
	const uint8_t *content;
	uint64_t content_len;
};

/* Writes a record's head into buf (JOURNAL_HEAD_MAX bytes suffice): its
 * length, or 0 when a field is too long or not valid. The caller follows it
 * with content_len bytes and journal_record_tail. */
size_t journal_record_head(uint8_t *buf, const char *folder, const char *name, const char *flags,
			   uint64_t content_len);
/* The tail for a record whose head and content have the CRC crc. */
void journal_record_tail(uint8_t out[JOURNAL_TAIL_LEN], uint32_t crc);

/* Reads the record at the start of buf[0..len): 1 with *rec and *used_r
 * set, 0 when buf ends before the record does (a torn end), -1 when the
 * bytes are not a valid record (*error_r says why). */
int journal_record_parse(const uint8_t *buf, size_t len, struct journal_record *rec, size_t *used_r,
			 const char **error_r);

#endif
