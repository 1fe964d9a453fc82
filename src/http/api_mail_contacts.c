/* Webmail writing: contacts (see api_mail_write.h). */
#include "http/api_mail_write.h"

void api_mail_contacts_list(struct api_job *j)
{
	api_error(j, 501, "not_implemented", NULL, "not implemented yet", "まだ実装されていません");
}

void api_mail_contact_add(struct api_job *j)
{
	api_error(j, 501, "not_implemented", NULL, "not implemented yet", "まだ実装されていません");
}

void api_mail_contact_get(struct api_job *j)
{
	api_error(j, 501, "not_implemented", NULL, "not implemented yet", "まだ実装されていません");
}

void api_mail_contact_put(struct api_job *j)
{
	api_error(j, 501, "not_implemented", NULL, "not implemented yet", "まだ実装されていません");
}

void api_mail_contact_del(struct api_job *j)
{
	api_error(j, 501, "not_implemented", NULL, "not implemented yet", "まだ実装されていません");
}

void api_mail_contacts_complete(struct api_job *j)
{
	api_error(j, 501, "not_implemented", NULL, "not implemented yet", "まだ実装されていません");
}

void api_mail_contacts_export(struct api_job *j)
{
	api_error(j, 501, "not_implemented", NULL, "not implemented yet", "まだ実装されていません");
}

void api_mail_contacts_import(struct api_job *j)
{
	api_error(j, 501, "not_implemented", NULL, "not implemented yet", "まだ実装されていません");
}

