/* The address book of a mail user (ops_mail.h). */
#include "ops/ops_mail.h"

void ops_mail_note_sent(struct ops *o, const struct ops_actor *actor, const struct ops_mail_draft *d)
{
	(void)o;
	(void)actor;
	(void)d;
}
