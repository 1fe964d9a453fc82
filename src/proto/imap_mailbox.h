#ifndef YUBIN_PROTO_IMAP_MAILBOX_H
#define YUBIN_PROTO_IMAP_MAILBOX_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/strbuf.h"

/* Mailbox names: modified UTF-7 (RFC 3501 5.1.3) <-> UTF-8, and INBOX,
 * which is case-insensitive. Pure. */

/* Appends the UTF-8 form of the mUTF-7 name to out. Rejects 8-bit bytes,
 * bad base64, "&" shifts that encode printable ASCII or end badly, lone
 * surrogates and non-zero padding bits. Returns 0, or -1 (out may then hold
 * part of the name). */
int imap_mutf7_to_utf8(const char *in, size_t len, struct strbuf *out);
/* Appends the mUTF-7 form of a UTF-8 name. Returns -1 on invalid UTF-8
 * (overlong forms, surrogates, beyond U+10FFFF). */
int imap_utf8_to_mutf7(const char *in, size_t len, struct strbuf *out);
/* Whether len bytes are valid UTF-8 (no overlongs or surrogates). */
bool imap_utf8_is_valid(const char *in, size_t len);
/* Whether name is INBOX in any case. */
bool imap_mailbox_is_inbox(const char *name);
/* Rewrites name in place so "inbox" and "Inbox<sep>child" become "INBOX"
 * and "INBOX<sep>child". */
void imap_mailbox_name_normalize(char *name, char sep);
/* Appends the name a command's mailbox argument stands for, in UTF-8:
 * decoded from mUTF-7, or checked as UTF-8 with utf8 (after ENABLE
 * UTF8=ACCEPT, RFC 6855), INBOX normalised. Rejects empty names, control
 * characters and NUL. Returns 0, or -1 with a reason. */
int imap_mailbox_decode(const char *raw, size_t len, bool utf8, char sep, struct strbuf *out,
			const char **error_r);

#endif
