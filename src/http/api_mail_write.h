#ifndef YUBIN_HTTP_API_MAIL_WRITE_H
#define YUBIN_HTTP_API_MAIL_WRITE_H

#include "http/api.h"
#include "ops/ops_mail_write.h"

/* The webmail's writing side of the JSON API, for a logged-in mail user
 * acting as itself (ops/ops_mail_write.h): attachments uploaded ahead
 * (api_mail_uploads.c), drafts in Drafts (api_mail_drafts.c), sending
 * through the daemon's submission path (api_mail_send.c), the address
 * book and its vCards (api_mail_contacts.c). */

/* The MailDraft body into d (answered 400 and false when it is not one);
 * api_mail_draft_free frees what it holds, parsed or not. */
bool api_mail_draft_parse(struct api_job *j, struct ops_mail_draft *d);
void api_mail_draft_free(struct ops_mail_draft *d);
/* A MailDraftSaved object. */
void api_json_saved(struct json *o, const struct ops_mail_saved *s);

/* A MailDraft object from a view of a stored message (its attachments as
 * parts of folder/uid); with_from: the From address and name too. */
void api_json_view_draft(struct json *o, const struct ops_mail_view *v, const char *folder, uint32_t uid,
			 bool with_from);

/* api_mail_uploads.c */
api_handler api_mail_upload_add, api_mail_upload_del;
/* api_mail_drafts.c */
api_handler api_mail_draft_add, api_mail_draft_get, api_mail_draft_put, api_mail_draft_del;
/* api_mail_send.c */
api_handler api_mail_send, api_mail_compose;
/* api_mail_contacts.c */
api_handler api_mail_contacts_list, api_mail_contact_add, api_mail_contact_get, api_mail_contact_put,
	api_mail_contact_del, api_mail_contacts_complete, api_mail_contacts_export,
	api_mail_contacts_import;

#endif
