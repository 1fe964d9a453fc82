#ifndef YUBIN_OPS_OPS_MAIL_WRITE_H
#define YUBIN_OPS_OPS_MAIL_WRITE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/strbuf.h"
#include "mail/compose.h"
#include "mail/vcard.h"
#include "ops/ops.h"

/* A mail user writing mail in the webmail, acting only as itself
 * (OPS_ACTOR_USER; anyone else is "forbidden"): uploads of attachments
 * (ops_mail_uploads.c), drafts in Drafts and sending through the
 * daemon's submission path (ops_mail_send.c), the address book
 * (ops_mail_contacts.c). Blocking: worker threads. */

/* ---- the daemon's submission path, reached through struct ops ---- */

/* One message to submit as login, as port 587 would take it. */
struct ops_submit {
	const char *login;	/* the account, its own sender */
	const char *ip;		/* the client's address */
	const char *from;	/* the envelope sender (the From: address) */
	const char *const *rcpts;
	size_t nrcpts;
	const char *msg;	/* the message in wire form */
	size_t len;
};

enum ops_submit_status {
	OPS_SUBMIT_OK,
	OPS_SUBMIT_SENDER,	/* from is not an address login may use */
	OPS_SUBMIT_LIMIT,	/* a sending limit */
	OPS_SUBMIT_SUSPENDED,	/* sending suspended (compromise detection) */
	OPS_SUBMIT_RCPT,	/* a recipient refused (rcpt: which, text: why) */
	OPS_SUBMIT_TOO_BIG,	/* over smtp.max_message_size */
	OPS_SUBMIT_VIRUS,	/* the virus check found one (text names it) */
	OPS_SUBMIT_TEMP,	/* a local fault: try again */
};

struct ops_submit_result {
	enum ops_submit_status status;
	char text[512];		/* the reason, as SMTP would say it */
	char rcpt[320];
	char queue_id[64];	/* the remote recipients' queue file, or "" */
};

/* ---- uploads (ops_mail_uploads.c) ---- */

#define OPS_UPLOAD_ID_LEN 24
#define OPS_UPLOAD_FILES_MAX 100
#define OPS_UPLOAD_LIFETIME (24 * 3600)

struct ops_upload {
	char id[OPS_UPLOAD_ID_LEN + 1];
	char filename[COMPOSE_FILENAME_MAX + 1];
	char content_type[128];
	uint64_t size;
	int64_t expires;
	void *data;		/* ops_upload_read: the bytes (free) */
};

/* Stores data as an upload of the actor's account: at most max_size
 * bytes, and the account's uploads together at most twice that
 * ("too_large"); expired uploads are removed first. */
int ops_upload_add(struct ops *o, const struct ops_actor *actor, const char *filename,
		   const char *content_type, const void *data, size_t len, uint64_t max_size,
		   int64_t now, struct ops_upload *u_r, struct ops_error *err);
int ops_upload_del(struct ops *o, const struct ops_actor *actor, const char *id, struct ops_error *err);
/* The upload id of the actor's account with its bytes in u_r->data. */
int ops_upload_read(struct ops *o, const struct ops_actor *actor, const char *id, int64_t now,
		    struct ops_upload *u_r, struct ops_error *err);

/* ---- drafts and sending (ops_mail_send.c, ops_mail_draft.c) ---- */

struct ops_mail_ref {
	char folder[512];
	uint32_t uid;
	char part[40];		/* an attachment: the IMAP section ("2", "1.3"); "" */
};

struct ops_mail_addr {
	char name[COMPOSE_NAME_MAX + 1];
	char address[COMPOSE_ADDRESS_MAX + 1];
};

enum ops_mail_att_kind { OPS_ATT_UPLOAD, OPS_ATT_PART };

struct ops_mail_att {
	enum ops_mail_att_kind kind;
	char upload[OPS_UPLOAD_ID_LEN + 1];
	struct ops_mail_ref ref;
};

/* The draft's member naming a message to forward (also a setting's key). */
#define OPS_MAIL_FORWARD "forward"	/* not a setting key */

enum ops_forward_mode { OPS_FORWARD_NONE, OPS_FORWARD_INLINE, OPS_FORWARD_ATTACHMENT };

/* A draft as the API gives it (every string UTF-8, checked by the
 * composer). */
struct ops_mail_draft {
	char from[COMPOSE_ADDRESS_MAX + 1];	/* "" for the login's own */
	char from_name[COMPOSE_NAME_MAX + 1];
	struct ops_mail_addr *to, *cc, *bcc;
	size_t nto, ncc, nbcc;
	const char *subject, *text, *html;	/* NULL for none */
	struct ops_mail_att *atts;
	size_t natts;
	enum compose_charset charset;
	bool flowed;
	bool has_reply;
	struct ops_mail_ref reply;	/* in_reply_to */
	enum ops_forward_mode forward;
	struct ops_mail_ref fwd;
	uint32_t draft_uid;		/* send: the draft to remove, 0: none */
};

/* What composing needs from the daemon. */
struct ops_mail_env {
	const char *host;	/* the server's host name, for Message-IDs */
	uint64_t max_size;	/* smtp.max_message_size */
};

struct ops_mail_saved {
	char folder[64];
	uint32_t uid, uidvalidity;
	uint64_t size;
	char message_id[300];
};

/* Composes the draft and stores it in Drafts (\Draft \Seen); replaces
 * the draft old_uid when it is not 0 (the old one removed once the new one
 * is stored). The uploads it used are removed once it is stored: the draft
 * holds them now (its parts, named by its UID). env: host name and size
 * limit. */
int ops_mail_draft_save(struct ops *o, const struct ops_actor *actor, const struct ops_mail_draft *d,
			uint32_t old_uid, const struct ops_mail_env *env, struct ops_mail_saved *r,
			struct ops_error *err);
int ops_mail_draft_del(struct ops *o, const struct ops_actor *actor, uint32_t uid, struct ops_error *err);

struct ops_mail_sent {
	char message_id[300];
	char queue_id[64];
	bool has_sent;
	struct ops_mail_saved sent;	/* the copy in Sent */
	bool draft_removed;
};

/* Composes and submits the draft through o->mail_submit (the daemon's
 * submission path), then a copy in Sent, \Answered on the original of a
 * reply, the draft and the uploads it used removed. */
int ops_mail_send(struct ops *o, const struct ops_actor *actor, const struct ops_mail_draft *d,
		  const struct ops_mail_env *env, struct ops_mail_sent *r, struct ops_error *err);

/* ---- reading back (ops_mail_view.c, ops_mail_reply.c) ---- */

struct ops_mail_part_info {
	char part[40];		/* IMAP section */
	char filename[COMPOSE_FILENAME_MAX + 1];
	char content_type[128];
	uint64_t size;		/* decoded, about */
};

/* A stored message as the composer sees it, or a prefilled reply. */
struct ops_mail_view {
	struct ops_mail_addr *from, *reply_to, *to, *cc, *bcc;
	size_t nfrom, nreply_to, nto, ncc, nbcc;
	struct strbuf subject, date, text, html;	/* UTF-8, LF line ends */
	bool has_text, has_html, iso2022jp;
	struct ops_mail_part_info *parts;	/* the attachments */
	size_t nparts;
	bool has_reply;
	struct ops_mail_ref reply;
	enum ops_forward_mode forward;
	struct ops_mail_ref fwd;
};

/* The message ref of the actor's mailbox read back into v
 * (ops_mail_view_free). */
int ops_mail_view(struct ops *o, const struct ops_actor *actor, const struct ops_mail_ref *ref,
		  const struct ops_mail_env *env, struct ops_mail_view *v, struct ops_error *err);
void ops_mail_view_free(struct ops_mail_view *v);

enum ops_compose_mode { OPS_COMPOSE_REPLY, OPS_COMPOSE_REPLY_ALL, OPS_COMPOSE_FORWARD_INLINE,
			OPS_COMPOSE_FORWARD_ATTACHMENT };

/* A reply or forward of ref prefilled into t (to, cc, subject, text; for
 * an inline forward the original's attachments as parts of ref; reply or
 * fwd set): the user's own address left out of a reply to all, "Re:" or
 * "Fwd:" once, the text quoted under an attribution line (Japanese when
 * ja). */
int ops_mail_template(struct ops *o, const struct ops_actor *actor, enum ops_compose_mode mode,
		      const struct ops_mail_ref *ref, const struct ops_mail_env *env, bool ja,
		      struct ops_mail_view *t, struct ops_error *err);

/* ---- the address book (ops_mail_contacts.c) ---- */

/* Kept per account in ROOT/contacts.db (SQLite, beside index.db: it goes
 * with the mailbox), at most OPS_CONTACTS_MAX contacts; a contact is a
 * struct vcard (mail/vcard.h): a name, up to 20 addresses with labels, a
 * note. */
#define OPS_CONTACTS_MAX 10000
#define OPS_RECENT_MAX 500	/* addresses sent to, kept for autocomplete */
#define OPS_COMPLETE_MAX 20

struct ops_contact {
	int64_t id;
	struct vcard card;
	int64_t updated;
};
typedef void ops_contact_cb(const struct ops_contact *c, void *ctx);
typedef void ops_complete_cb(const char *name, const char *address, bool recent, void *ctx);

/* Contacts whose name or an address contains q (NULL or "": all), by
 * name: rows offset.. offset + limit - 1 to cb, the count into *total_r. */
int ops_contact_list(struct ops *o, const struct ops_actor *actor, const char *q, unsigned offset,
		     unsigned limit, ops_contact_cb *cb, void *ctx, unsigned *total_r, struct ops_error *err);
int ops_contact_get(struct ops *o, const struct ops_actor *actor, int64_t id, struct ops_contact *c_r,
		    struct ops_error *err);
/* Adds (id 0) or replaces a contact; its id into *id_r. */
int ops_contact_put(struct ops *o, const struct ops_actor *actor, int64_t id, const struct vcard *card,
		    int64_t *id_r, struct ops_error *err);
int ops_contact_del(struct ops *o, const struct ops_actor *actor, int64_t id, struct ops_error *err);
/* Autocomplete: contacts whose name, a word of it, or an address starts
 * with q, then recent recipients; at most OPS_COMPLETE_MAX. */
int ops_contact_complete(struct ops *o, const struct ops_actor *actor, const char *q, ops_complete_cb *cb,
			 void *ctx, struct ops_error *err);
/* Every contact as vCard 4.0. */
int ops_contact_export(struct ops *o, const struct ops_actor *actor, struct strbuf *out, struct ops_error *err);
/* Imports vCards: each good card is added (one transaction) unless one
 * of its addresses is in the book already; bad cards and skipped ones go
 * to bad with their number. *imported_r: the cards added. */
int ops_contact_import(struct ops *o, const struct ops_actor *actor, const char *text, size_t len,
		       unsigned *imported_r, vcard_bad_cb *bad, void *ctx, struct ops_error *err);
/* Notes the recipients of a message sent, for autocomplete; failures are
 * ignored. */
void ops_mail_note_sent(struct ops *o, const struct ops_actor *actor, const struct ops_mail_draft *d);

/* ---- shared by the mail operations (ops_mail_send.c) ---- */

/* The actor's own account (a mail user only) and its Maildir++ root. */
int ops_mail_account(struct ops *o, const struct ops_actor *actor, struct dir_account *a_r,
		     char *root, size_t size, struct ops_error *err);

#endif
