#ifndef YUBIN_HTTP_API_MAIL_H
#define YUBIN_HTTP_API_MAIL_H

#include "http/api.h"
#include "ops/ops_mail.h"

/* The webmail's reading side of the JSON API (/api/v1/mail/...), on the
 * operations of ops/ops_mail.h: a mail user's own folders and messages.
 * One file per resource, their rows in api_routes.c. */

/* Opens the caller's own mailbox; false when answered (403 for anyone
 * but a mail user). */
bool api_mail_open(struct api_job *j, struct ops_mailbox *mb);
/* The body's "uids": an array of 1 to OPS_MAIL_UIDS_MAX UIDs into a
 * malloc'd array; false when answered 400. */
bool api_mail_uids(struct api_job *j, uint32_t **uids_r, size_t *n_r);
/* The path's {uid} at index i; false when answered 400. */
bool api_mail_uid_param(struct api_job *j, int i, uint32_t *uid_r);
/* The quota as {"used","limit"} under key. */
void api_mail_json_quota(struct json *o, struct ops_mailbox *mb);

/* api_mail.c: folders */
api_handler api_mail_folders, api_mail_folder_create, api_mail_folder_rename, api_mail_folder_delete;
/* api_mail_list.c: the list and the changes to many messages */
api_handler api_mail_messages, api_mail_flags, api_mail_move, api_mail_delete, api_mail_empty,
	api_mail_spam, api_mail_not_spam, api_mail_message_patch, api_mail_message_delete;
/* api_mail_read.c: one message, its source and its parts */
api_handler api_mail_message, api_mail_raw, api_mail_part;
/* api_mail_events.c: server-sent events of changes to the mailbox */
api_handler api_mail_events;
/* At shutdown (any loop): every event stream ends at its next tick. */
void api_mail_events_stop(void);

#endif
