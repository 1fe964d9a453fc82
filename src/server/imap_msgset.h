#ifndef YUBIN_SERVER_IMAP_MSGSET_H
#define YUBIN_SERVER_IMAP_MSGSET_H

#include "server/imap_session.h"
#include "proto/imap_fetch.h"
#include "proto/imap_seqset.h"

/* Resolves a sequence set (or UID set) argument against the session's view
 * into view indices (malloc'd, ascending). */
int imap_msgset_resolve(struct imap_session *s, const struct imap_arg *arg, bool uid,
			size_t **idx_r, size_t *count_r, const char **error_r);
/* The view position of uid (*found) or where it would go. */
size_t imap_view_index_of_uid(const struct imap_session *s, uint32_t uid, bool *found);
/* The index entry of uid in a synced index view, or NULL. */
const struct index_msg *imap_index_find(const struct index_view *v, uint32_t uid);
/* Diffs the session view against a fresh index view (see imap_view_sync). */
void imap_view_update(struct imap_session *s, const struct index_view *v, bool allow_expunge);
/* The same from mail_index_sync_since's answer (a delta or a whole view);
 * ch->gone is used up. */
void imap_view_apply(struct imap_session *s, struct index_changes *ch, bool allow_expunge);
/* Keywords the client has been told of (FLAGS): _add notes those of a
 * space-separated list not told yet (true when any), _announce sends
 * FLAGS and PERMANENTFLAGS with them all. */
bool imap_keywords_add(struct imap_session *s, const char *keywords);
void imap_keywords_announce(struct imap_session *s);
/* A new view (SELECT) from a whole index view. */
void imap_view_fill(struct imap_session *s, const struct index_view *v);
/* Appends ascending uids as a compact set ("1:3,7"). */
void imap_uidset_append(struct strbuf *out, const uint32_t *uids, size_t n);
/* The tagged OK of EXPUNGE and UID EXPUNGE, with the folder's
 * HIGHESTMODSEQ after them once QRESYNC is on (RFC 7162). */
void imap_expunge_reply(struct imap_session *s, const struct imap_command *cmd);
/* QRESYNC (RFC 7162 3.2.5, 3.2.6): "* VANISHED (EARLIER) ..." with the UIDs
 * of the resolved, merged ranges (ascending) above floor and below the
 * view's UIDNEXT that the view does not hold: the messages expunged at
 * some time (the index keeps no expunge history, so this may name some
 * the client already knows to be gone, as the RFC allows). Nothing when
 * none; long sets go out in several responses. */
void imap_vanished_earlier(struct imap_session *s, const uint32_t (*ranges)[2], size_t n, uint32_t floor);

/* The prologue of the commands that take a message set: syncs the index,
 * reports changes (expunges only with allow_expunge), resolves set, and
 * gives in v the index rows of the messages it names (at least).
 * On failure it has replied and returns -1. */
int imap_msgs_prepare(struct imap_session *s, const struct imap_command *cmd, const struct imap_arg *set,
		      bool uid, bool allow_expunge, struct index_view *v, size_t **idx_r, size_t *count_r);
/* A message file's bytes (malloc'd), or NULL. */
char *imap_msg_read(const struct imap_session *s, const struct index_msg *m, size_t *len_r);
/* A message's bytes (only the start holding its header with header_only),
 * found under its current name if another session renamed it since the
 * command's sync; NULL when it is gone. */
char *imap_msg_load(struct imap_session *s, const struct index_msg *m, bool header_only, size_t *len_r,
		    bool *whole_r);
/* The start of a message file holding at least its whole header (*whole_r
 * says whether it is the whole file); for header-only work. */
char *imap_msg_read_head(const struct imap_session *s, const struct index_msg *m, size_t *len_r,
			 bool *whole_r);

/* imap_cmd_body.c: MIME-dependent parts of FETCH. */
/* Appends the fields of the header block hdr[0..size) that a
 * HEADER.FIELDS section lists (or, for HEADER.FIELDS.NOT, does not list),
 * then the empty line (RFC 3501 6.4.5). */
void imap_header_fields(const char *hdr, size_t size, const struct imap_fetch_section *sec,
			struct strbuf *out);
/* The bytes of a part section (1.2, 1.2.HEADER, 1.MIME, ...); with decode,
 * the part's body with its Content-Transfer-Encoding removed (BINARY).
 * Returns -1 when the part does not exist. */
int imap_fetch_part(const char *msg, size_t len, const struct imap_fetch_section *sec, bool decode,
		    struct strbuf *out);
/* Where a part section lies in the message (offset and length), for
 * sections that are one run of bytes (not HEADER.FIELDS); -1 when the
 * part does not exist or the section is not one run. */
int imap_fetch_part_range(const char *msg, size_t len, const struct imap_fetch_section *sec, size_t *off_r,
			  size_t *len_r);
/* Writes "ENVELOPE (...)", "BODY (...)" or "BODYSTRUCTURE (...)". */
void imap_fetch_structure(struct imap_session *s, enum imap_fetch_type type, const char *msg, size_t len);

/* Appends a header value unfolded and decoded to UTF-8 (RFC 2047 words,
 * charsets). */
void imap_header_decode(const char *value, size_t len, struct strbuf *out);
/* Appends the decoded text of a message for SEARCH TEXT/BODY: the decoded
 * header, a NUL byte, then the decoded text of its text parts
 * (mail_text_body: HTML reduced to text). */
void imap_message_text(const char *msg, size_t len, struct strbuf *out);

/* A mailbox argument in UTF-8 (decoded from modified UTF-7 unless UTF8=ACCEPT
 * is on; INBOX normalised); NULL when invalid. */
const char *imap_mailbox_name(struct imap_session *s, const char *raw);
/* Writes a mailbox name as the client expects it (modified UTF-7). */
void imap_out_mailbox(struct imap_session *s, const char *name);

/* imap_cmd_append.c: a parsed flag list's keywords, space-separated. */
struct imap_flags;
void imap_keywords_join(const struct imap_flags *flags, char *buf, size_t size);

#endif
