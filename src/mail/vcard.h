#ifndef YUBIN_MAIL_VCARD_H
#define YUBIN_MAIL_VCARD_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/strbuf.h"

/* vCard for the webmail's address book: a reader of vCard 3.0 (RFC 2426)
 * and 4.0 (RFC 6350) that keeps what an address book of mail needs (the
 * name from FN, else N; every EMAIL with its first TYPE as a label; NOTE),
 * and a vCard 4.0 writer. Pure: bytes in, cards out through a callback,
 * limits passed in. Folded lines (CRLF or LF then a blank), escaped
 * characters (\n \, \; \\), groups ("item1.EMAIL") and parameters in any
 * case are understood. A card that is wrong (no VERSION 3.0 or 4.0, not
 * UTF-8, no usable e-mail address, a value over its limit, no END) is
 * reported by its number and skipped; the others are given. */

#define VCARD_NAME_MAX 200
#define VCARD_EMAILS_MAX 20
#define VCARD_ADDRESS_MAX 254
#define VCARD_LABEL_MAX 40
#define VCARD_NOTE_MAX 2000

struct vcard_email {
	char address[VCARD_ADDRESS_MAX + 1];
	char label[VCARD_LABEL_MAX + 1];	/* "work", "home", ... or "" */
};

struct vcard {
	char name[VCARD_NAME_MAX + 1];
	struct vcard_email emails[VCARD_EMAILS_MAX];
	size_t nemails;
	char note[VCARD_NOTE_MAX + 1];
};

struct vcard_limits {
	unsigned max_cards;	/* more cards than this: the rest are refused as one error */
	size_t max_line;	/* an unfolded content line, bytes */
};

/* A good card (number counts from 1 over every BEGIN:VCARD): return 0 to
 * go on, -1 to stop. */
typedef int vcard_card_cb(const struct vcard *card, unsigned number, void *ctx);
/* A card skipped, with the reason (English). */
typedef void vcard_bad_cb(unsigned number, const char *reason, void *ctx);

/* Reads every card of data. Returns the number of cards met, or -1 when
 * the input is not vCard at all (*error_r says why) or a callback stopped. */
int vcard_parse(const char *data, size_t len, const struct vcard_limits *lim, vcard_card_cb *good,
		vcard_bad_cb *bad, void *ctx, const char **error_r);

/* Appends card as vCard 4.0, lines folded at 75 bytes between characters. */
void vcard_write(struct strbuf *out, const struct vcard *card);

/* True for an address an address book keeps: local@domain, printable
 * ASCII without blanks or <>()[],;:"\, at most VCARD_ADDRESS_MAX. */
bool vcard_address_ok(const char *address);

#endif
