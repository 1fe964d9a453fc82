#ifndef YUBIN_MAIL_HEADER_H
#define YUBIN_MAIL_HEADER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/strbuf.h"

/* RFC 5322 header blocks held in memory (pure). Lines end in CRLF or a bare
 * LF. The block ends at the first empty line or at the end of the buffer. */

struct mail_header_field {
	const char *name;	/* not NUL-terminated */
	size_t name_len;	/* without the blanks before ':' */
	const char *value;	/* raw: after "name:", folding kept, final line end not */
	size_t value_len;
	size_t offset;		/* of the field's first byte in the block */
	size_t size;		/* whole field, final line end included */
};

struct mail_header_iter {
	const char *data;
	size_t size;
	size_t pos;
};

void mail_header_iter_init(struct mail_header_iter *iter, const char *data, size_t size);
/* Gives the next field. Lines that are not fields (no colon, a name with
 * bytes outside RFC 5322 ftext, a stray continuation line) are skipped.
 * Returns false at the end of the header. */
bool mail_header_iter_next(struct mail_header_iter *iter, struct mail_header_field *field_r);
/* Finds the first field called name (case-insensitive). */
bool mail_header_find(const char *data, size_t size, const char *name,
		      struct mail_header_field *field_r);
/* Size of the header block at data, through the empty line that ends it
 * (or all of size when there is none). */
size_t mail_header_block_size(const char *data, size_t size);
/* Appends value with folding removed (CR and LF dropped, the blanks that
 * follow them kept) and leading/trailing blanks trimmed. */
void mail_header_unfold(const char *value, size_t len, struct strbuf *out);
bool mail_header_field_is(const struct mail_header_field *field, const char *name);
/* Parses an RFC 5322 date-time (also the obsolete forms: no day name, two-
 * or three-digit years, no seconds, zone names such as GMT or EST) into
 * seconds since the epoch, UTC. 0, or -1 when it is not a date. */
int mail_date_parse(const char *s, size_t len, int64_t *t_r);

#endif
