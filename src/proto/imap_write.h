#ifndef YUBIN_PROTO_IMAP_WRITE_H
#define YUBIN_PROTO_IMAP_WRITE_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/strbuf.h"

/* Writing IMAP strings into responses. Pure. */

/* 8-bit bytes may go in a quoted string (UTF8=ACCEPT enabled, RFC 9051). */
#define IMAP_WRITE_UTF8 0x01u
/* Use literal8 ~{n} when the data holds NUL (BINARY, RFC 3516). */
#define IMAP_WRITE_LITERAL8 0x02u

/* Quoted strings longer than this are written as literals. */
#define IMAP_WRITE_QUOTED_MAX 1024

/* An astring: an atom when every byte is an ASTRING-CHAR other than "["
 * (which opens a FETCH section to our own parser) and it is not "NIL",
 * else as imap_write_string. */
void imap_write_astring(struct strbuf *out, const char *s, size_t len, unsigned flags);
/* A string: quoted when short and free of CR, LF, NUL (and 8-bit bytes
 * without IMAP_WRITE_UTF8), else a literal "{n}\r\n" + bytes. */
void imap_write_string(struct strbuf *out, const char *s, size_t len, unsigned flags);
/* An nstring: NIL for s == NULL, else a string. */
void imap_write_nstring(struct strbuf *out, const char *s, size_t len, unsigned flags);
/* Always a literal (or literal8 with IMAP_WRITE_LITERAL8 and a NUL). */
void imap_write_literal(struct strbuf *out, const char *s, size_t len, unsigned flags);
/* A mailbox name given in UTF-8: mUTF-7 encoded unless utf8 (UTF8=ACCEPT),
 * then written as an astring. Invalid UTF-8 is written as it is. */
void imap_write_mailbox(struct strbuf *out, const char *name, bool utf8);

#endif
