#ifndef YUBIN_MAIL_RFC5322_H
#define YUBIN_MAIL_RFC5322_H

#include <stddef.h>

#include "lib/strbuf.h"

/* The lexical pieces of RFC 5322 structured header values (3.2.2 CFWS,
 * 3.2.4 quoted strings) that every parser of them shares: addresses,
 * dates, MIME parameters, Authentication-Results, DMARC's From scan.
 * Pure; bounded by len; a construct cut short by the end of the value
 * ends there. */

/* The comment at s (s[0] == '('): nested comments and quoted-pairs, up to
 * and including its closing ')'. Returns its length. With text, appends
 * the comment's content without the outer parentheses, quoted-pairs
 * unescaped and CR/LF dropped. */
size_t rfc5322_comment(const char *s, size_t len, struct strbuf *text);
/* The quoted string at s (s[0] == '"') up to and including the closing
 * quote. Returns its length. With text, appends the content unescaped,
 * CR/LF dropped. */
size_t rfc5322_quoted(const char *s, size_t len, struct strbuf *text);
/* Index of the first byte at or after i that is not CFWS (SP, HTAB, CR,
 * LF, comments). */
size_t rfc5322_skip_cfws(const char *s, size_t len, size_t i);
/* The last '@' of an addr-spec that is outside quoted strings (the one
 * that splits local part and domain), or NULL. */
const char *rfc5322_addr_at(const char *spec, size_t len);

#endif
