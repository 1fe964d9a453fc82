/* libFuzzer target: POP3 command lines (pop3_command_parse) and message
 * numbers (pop3_parse_msgnum). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/pop3.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pop3_command cmd;
	const char *error = NULL;
	unsigned long num;

	if (pop3_command_parse((const char *)data, size, &cmd, &error) < 0) {
		if (error == NULL)
			abort();
		return 0;
	}
	if (size > POP3_LINE_MAX - 2 || cmd.nargs > POP3_MAX_ARGS || cmd.verb >= POP3_VERB_COUNT)
		abort();
	if (strlen(cmd.rest) > size)
		abort();
	for (unsigned i = 0; i < cmd.nargs; i++) {
		if (cmd.args[i][0] == '\0' || strchr(cmd.args[i], ' ') != NULL)
			abort();
		if (pop3_parse_msgnum(cmd.args[i], &num) == 0 && (num == 0 || num > 1000000000UL))
			abort();
	}
	if (pop3_parse_msgnum(cmd.rest, &num) == 0 && num == 0)
		abort();
	return 0;
}
