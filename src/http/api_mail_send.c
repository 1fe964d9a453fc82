/* Webmail writing: send (see api_mail_write.h). */
#include "http/api_mail_write.h"

void api_mail_send(struct api_job *j)
{
	api_error(j, 501, "not_implemented", NULL, "not implemented yet", "まだ実装されていません");
}

void api_mail_compose(struct api_job *j)
{
	api_error(j, 501, "not_implemented", NULL, "not implemented yet", "まだ実装されていません");
}

