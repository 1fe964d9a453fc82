/* libFuzzer target: ManageSieve commands (msieve_parse, one command after
 * another as a session reads them), the string line of a SASL answer,
 * script names and the server's quoting of what was parsed. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/managesieve.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char scratch[MSIEVE_MAX_ARGS * MSIEVE_QUOTED_MAX];

static void check_arg(const struct msieve_arg *a, const char *in, size_t size)
{
	char out[64];
	size_t n;

	if (a->type == MSIEVE_ARG_NUMBER) {
		if (a->number > 4294967295u)
			abort();
		return;
	}
	if (a->data == NULL)
		abort();
	/* a string points into the input or the scratch, whole */
	if (!((a->data >= in && a->data + a->len <= in + size) ||
	      (a->data >= scratch && a->data + a->len < scratch + sizeof(scratch))))
		abort();
	(void)msieve_name_valid(a->data, a->len);
	n = msieve_string(out, sizeof(out), a->data, a->len);
	if (n < a->len + 2)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *in = (const char *)data;
	struct msieve_command cmd;
	struct msieve_arg arg;
	size_t pos = 0, used, need;
	const char *error;

	while (pos < size) {
		enum msieve_parse_result r = msieve_parse(in + pos, size - pos, 4096, scratch, &cmd, &used,
							  &need, &error);
		if (r == MSIEVE_PARSE_MORE) {
			if (need <= size - pos)
				abort();
			break;
		}
		if (r == MSIEVE_PARSE_TOO_BIG)
			break;
		if (used == 0 || used > size - pos)
			abort();
		if (r == MSIEVE_PARSE_ERROR && error == NULL)
			abort();
		if (r == MSIEVE_PARSE_OK) {
			if (cmd.nargs > MSIEVE_MAX_ARGS)
				abort();
			for (unsigned i = 0; i < cmd.nargs; i++)
				check_arg(&cmd.args[i], in + pos, size - pos);
		}
		pos += used;
	}
	if (msieve_parse_string_line(in, size, 4096, scratch, &arg, &used, &need, &error) ==
	    MSIEVE_PARSE_OK)
		check_arg(&arg, in, size);
	return 0;
}
