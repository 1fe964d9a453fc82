/* The table of IMAP commands handled by imap_cmd_*.c (CAPABILITY, LOGIN,
 * AUTHENTICATE, STARTTLS, LOGOUT and IDLE are handled on the loop). */
#include "server/imap_session.h"

#include <string.h>

#define AUTHED (IMAP_BIT(IMAP_S_AUTH) | IMAP_BIT(IMAP_S_SELECTED))
#define SELECTED IMAP_BIT(IMAP_S_SELECTED)

static const struct imap_cmd_def imap_cmds[] = {
	{ "NOOP", AUTHED, true, imap_cmd_noop },
	{ "CHECK", SELECTED, true, imap_cmd_check },
	{ "ENABLE", AUTHED, false, imap_cmd_enable },
	{ "ID", IMAP_BIT(IMAP_S_NOTAUTH) | AUTHED, false, imap_cmd_id },
	{ "NAMESPACE", AUTHED, false, imap_cmd_namespace },
	{ "SELECT", AUTHED, true, imap_cmd_select },
	{ "EXAMINE", AUTHED, true, imap_cmd_select },
	{ "CREATE", AUTHED, true, imap_cmd_create },
	{ "DELETE", AUTHED, true, imap_cmd_delete },
	{ "RENAME", AUTHED, true, imap_cmd_rename },
	{ "SUBSCRIBE", AUTHED, true, imap_cmd_subscribe },
	{ "UNSUBSCRIBE", AUTHED, true, imap_cmd_unsubscribe },
	{ "LIST", AUTHED, true, imap_cmd_list },
	{ "LSUB", AUTHED, true, imap_cmd_lsub },
	{ "STATUS", AUTHED, true, imap_cmd_status },
	{ "APPEND", AUTHED, true, imap_cmd_append },
	{ "CLOSE", SELECTED, true, imap_cmd_close },
	{ "UNSELECT", SELECTED, true, imap_cmd_unselect },
	{ "EXPUNGE", SELECTED, true, imap_cmd_expunge },
	{ "GETQUOTAROOT", AUTHED, true, imap_cmd_getquotaroot },
	{ "GETQUOTA", AUTHED, true, imap_cmd_getquota },
	{ "FETCH", SELECTED, true, imap_cmd_fetch },
	{ "STORE", SELECTED, true, imap_cmd_store },
	{ "COPY", SELECTED, true, imap_cmd_copy },
	{ "MOVE", SELECTED, true, imap_cmd_move },
	{ "SEARCH", SELECTED, true, imap_cmd_search },
	{ "SORT", SELECTED, true, imap_cmd_sort },
	{ "THREAD", SELECTED, true, imap_cmd_thread },
	{ "XMOVE", AUTHED, true, imap_cmd_xmove },	/* account moves only: imap_cmd_xmove.c */
};

const struct imap_cmd_def *imap_cmd_find(const char *name)
{
	for (size_t i = 0; i < sizeof(imap_cmds) / sizeof(imap_cmds[0]); i++) {
		if (strcmp(imap_cmds[i].name, name) == 0)
			return &imap_cmds[i];
	}
	return NULL;
}
