/* Webmail writing: drafts (see api_mail_write.h). */
#include "http/api_mail_write.h"

void api_mail_draft_add(struct api_job *j)
{
	api_error(j, 501, "not_implemented", NULL, "not implemented yet", "まだ実装されていません");
}

void api_mail_draft_get(struct api_job *j)
{
	api_error(j, 501, "not_implemented", NULL, "not implemented yet", "まだ実装されていません");
}

void api_mail_draft_put(struct api_job *j)
{
	api_error(j, 501, "not_implemented", NULL, "not implemented yet", "まだ実装されていません");
}

void api_mail_draft_del(struct api_job *j)
{
	api_error(j, 501, "not_implemented", NULL, "not implemented yet", "まだ実装されていません");
}

