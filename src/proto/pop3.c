#include "proto/pop3.h"
#include "lib/str.h"

#include <string.h>
#include <strings.h>

static const char *const pop3_verbs[POP3_VERB_COUNT] = {
	[POP3_VERB_CAPA] = "CAPA", [POP3_VERB_USER] = "USER", [POP3_VERB_PASS] = "PASS",
	[POP3_VERB_AUTH] = "AUTH", [POP3_VERB_STLS] = "STLS", [POP3_VERB_STAT] = "STAT",
	[POP3_VERB_LIST] = "LIST", [POP3_VERB_UIDL] = "UIDL", [POP3_VERB_TOP] = "TOP",
	[POP3_VERB_RETR] = "RETR", [POP3_VERB_DELE] = "DELE", [POP3_VERB_RSET] = "RSET",
	[POP3_VERB_NOOP] = "NOOP", [POP3_VERB_QUIT] = "QUIT", [POP3_VERB_APOP] = "APOP",
	[POP3_VERB_XCLIENT] = "XCLIENT",
};

int pop3_command_parse(const char *line, size_t len, struct pop3_command *cmd_r,
		       const char **error_r)
{
	size_t i = 0, start;

	memset(cmd_r, 0, sizeof(*cmd_r));
	if (len > POP3_LINE_MAX - 2) {
		*error_r = "line too long";
		return -1;
	}
	for (size_t j = 0; j < len; j++) {
		unsigned char c = (unsigned char)line[j];
		if (c < 0x20 && c != '\t') {
			*error_r = "control characters in command";
			return -1;
		}
	}
	while (i < len && line[i] != ' ')
		i++;
	for (int v = 1; v < POP3_VERB_COUNT; v++) {
		if (strlen(pop3_verbs[v]) == i && strncasecmp(line, pop3_verbs[v], i) == 0) {
			cmd_r->verb = (enum pop3_verb)v;
			break;
		}
	}
	if (i < len)
		str_copyn(cmd_r->rest, sizeof(cmd_r->rest), line + i + 1, len - i - 1);
	while (i < len) {
		while (i < len && line[i] == ' ')
			i++;
		if (i >= len)
			break;
		if (cmd_r->nargs == POP3_MAX_ARGS) {
			if (cmd_r->verb == POP3_VERB_PASS)
				break;	/* its argument is rest, spaces and all */
			*error_r = "too many arguments";
			return -1;
		}
		start = i;
		while (i < len && line[i] != ' ')
			i++;
		str_copyn(cmd_r->args[cmd_r->nargs++], sizeof(cmd_r->args[0]), line + start, i - start);
	}
	return 0;
}

int pop3_parse_msgnum(const char *arg, unsigned long *num_r)
{
	uint64_t v;

	if (str_parse_uint(arg, 1000000000, &v) < 0 || v == 0)
		return -1;
	*num_r = (unsigned long)v;
	return 0;
}
