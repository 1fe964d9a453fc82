#ifndef YUBIN_MAIL_CHARSET_H
#define YUBIN_MAIL_CHARSET_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/strbuf.h"

/* Charset conversion to UTF-8 through iconv (pure: no globals, no files
 * besides what iconv itself loads). Japanese labels are mapped to the
 * Microsoft supersets mail really uses: Shift_JIS to CP932, EUC-JP to
 * EUC-JP-MS, and ISO-2022-JP is decoded by hand into CP932 so that NEC and
 * IBM extension characters (①, ㈱) read correctly. */

/* Appends len bytes of in, encoded in charset, to out as UTF-8. Invalid or
 * truncated sequences become U+FFFD. Returns 0, or -1 when the charset is
 * unknown: the bytes are then appended as UTF-8 with invalid sequences
 * replaced (most unlabelled 8-bit mail today is UTF-8). A NULL or empty
 * charset means us-ascii. */
int charset_to_utf8(const char *charset, const void *in, size_t len, struct strbuf *out);

/* Appends in to out, replacing each invalid UTF-8 sequence with U+FFFD. */
void charset_utf8_append_valid(struct strbuf *out, const void *in, size_t len);

/* True when in is well-formed UTF-8 (no overlongs, surrogates or code
 * points past U+10FFFF). */
bool charset_utf8_is_valid(const void *in, size_t len);

/* True when the label names UTF-8 or US-ASCII (no conversion needed). */
bool charset_is_utf8_compatible(const char *charset);

/* True when charset_to_utf8 can convert from this charset. */
bool charset_is_known(const char *charset);

#endif
