#ifndef YUBIN_OPS_OPS_MAIL_WRITE_INT_H
#define YUBIN_OPS_OPS_MAIL_WRITE_INT_H

#include <limits.h>

#include "ops/ops_mail_write.h"
#include "store/index.h"

/* Inside the mail user's operations (ops_mail_*.c): one message being
 * composed, with everything it holds, freed by ops_mail_work_free. */
struct ops_mail_work {
	struct dir_account account;
	char root[PATH_MAX];
	struct mail_index *idx;
	char ixerr[256];
	struct compose_part *parts;
	void **bufs;
	char (*names)[COMPOSE_FILENAME_MAX + 1];
	char (*types)[128];
	size_t nparts;
	struct compose_addr *to, *cc, *bcc;
	struct strbuf refs, irt;
	char from[COMPOSE_ADDRESS_MAX + 1];
	char message_id[300];
	char seed[25];
	struct strbuf msg;		/* the composed message */
	struct strbuf extra;		/* a draft's X-Yubin- fields */
};

/* Checks the account, opens its index, loads the attachments and the
 * original's headers, composes into w->msg (draft: Bcc kept, no
 * recipient needed). 0, or -1 with err. */
int ops_mail_build(struct ops *o, const struct ops_actor *actor, const struct ops_mail_draft *d,
		   const struct ops_mail_env *env, bool draft, struct ops_mail_work *w, struct ops_error *err);
void ops_mail_work_free(struct ops_mail_work *w);
/* A stored message read whole (at most max bytes). */
int ops_mail_load(struct ops_mail_work *w, const struct ops_mail_ref *ref, size_t max, char **data_r,
		  size_t *len_r, struct index_mailbox *m_r, struct index_msg *row_r, const char *field,
		  struct ops_error *err);

/* The X-Yubin-Reply / X-Yubin-Forward field of a stored draft
 * ("[MODE ]UID FOLDER", the folder %-encoded) written and read back. */
void ops_mail_ref_header(struct strbuf *out, const char *name, const char *mode, const struct ops_mail_ref *ref);
void ops_mail_ref_parse(const char *value, size_t len, struct ops_mail_ref *ref, bool *has_reply,
			enum ops_forward_mode *mode);

#endif
