#ifndef YUBIN_MAIL_IMAP_ENVELOPE_H
#define YUBIN_MAIL_IMAP_ENVELOPE_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/strbuf.h"
#include "mail/mime.h"

/* IMAP FETCH ENVELOPE, BODY and BODYSTRUCTURE (RFC 3501 7.4.2, RFC 9051)
 * written from a parsed message. Pure. Header values are sent raw (not
 * RFC 2047 decoded), as the RFC wants; sizes are the physical ones. */

/* Appends s as an IMAP string: quoted when it holds only 7-bit printable
 * bytes (with '"' and '\' escaped), else a literal {n}\r\n...; NUL bytes
 * are dropped (IMAP4rev1 strings cannot carry them). */
void imap_string_append(struct strbuf *out, const char *s, size_t len);
/* As imap_string_append for a C string, or NIL for NULL. */
void imap_nstring_append(struct strbuf *out, const char *s);

/* Appends the ENVELOPE of the message whose header is the given block:
 * (date subject from sender reply-to to cc bcc in-reply-to message-id).
 * Sender and Reply-To default to From; address groups use the RFC 3501
 * group syntax. */
void imap_envelope_write(const char *header, size_t header_size, struct strbuf *out);

/* Appends one RFC 5322 address-list value as an IMAP address list, or NIL
 * when it holds no address. */
void imap_address_list_write(const char *value, size_t len, struct strbuf *out);

/* One address of a list as ENVELOPE shows it (RFC 3501 7.4.2): strings
 * are NUL-terminated, NULL for NIL (a missing local part or domain is
 * NULL here, "MISSING_..." in ENVELOPE). A group is a group_start entry
 * with the group's name in mailbox, its members, then a group_end. */
struct imap_address {
	const char *name, *route, *mailbox, *host;
	bool group_start, group_end;
};
/* Returns false to stop. */
typedef bool imap_address_cb(const struct imap_address *a, void *ctx);
/* Calls cb for each address of an RFC 5322 address-list value, in the
 * order ENVELOPE lists them. Pure. */
void imap_address_list_each(const char *value, size_t len, imap_address_cb *cb, void *ctx);

/* The first address of an RFC 5322 address-list value as ENVELOPE shows
 * it (for a group, the group's name as the mailbox, RFC 5256 sort keys):
 * its display name (raw, not RFC 2047 decoded; "" when none), local part
 * (unquoted) and domain appended to the buffers. false when the value
 * holds no address. For SORT FROM/TO/CC and DISPLAYFROM/DISPLAYTO. */
bool imap_first_address(const char *value, size_t len, struct strbuf *name, struct strbuf *mailbox,
			struct strbuf *host);

/* Appends BODYSTRUCTURE (extended true) or BODY (false) of part, usually
 * msg->root. */
void imap_bodystructure_write(const struct mime_message *msg, const struct mime_part *part,
			      bool extended, struct strbuf *out);

#endif
