#ifndef YUBIN_MAIL_RFC2047_H
#define YUBIN_MAIL_RFC2047_H

#include <stddef.h>

#include "lib/strbuf.h"

/* Decodes a raw header value into UTF-8 (for SEARCH SUBJECT/FROM/..., and
 * for display): folding is removed, RFC 2047 encoded words (B and Q) are
 * decoded and converted from their charset, blanks around the value trimmed, the blanks between two adjacent
 * encoded words are dropped, malformed words are left as they are. Raw
 * ISO-2022-JP (escape sequences) outside encoded words is decoded too;
 * other raw 8-bit text is taken as UTF-8 with invalid bytes replaced.
 * Given a whole header block, the line ends between fields become "\n". */
void rfc2047_decode(const char *value, size_t len, struct strbuf *out);

#endif
