#ifndef YUBIN_MAIL_MIME_DECODE_H
#define YUBIN_MAIL_MIME_DECODE_H

#include <stddef.h>

#include "lib/strbuf.h"

/* Content-Transfer-Encoding decoders for bodies (whole buffer, pure). Both
 * are tolerant, as readers of real mail must be: they never fail, and
 * return the number of malformed places they met (0 for clean input). */

/* Quoted-printable (RFC 2045 6.7): "=XX" escapes, "=" soft line breaks,
 * blanks before a line end dropped. A malformed "=" is kept as it is. */
size_t mime_qp_decode(const char *in, size_t len, struct strbuf *out);

/* The Q encoding of RFC 2047 4.2: as quoted-printable, plus '_' = space. */
size_t mime_q_decode(const char *in, size_t len, struct strbuf *out);

/* Base64: characters outside the alphabet (line ends, blanks, garbage) are
 * skipped, decoding stops at the first '=' pad; a trailing partial group
 * yields the whole bytes it holds. */
size_t mime_base64_decode(const char *in, size_t len, struct strbuf *out);

#endif
