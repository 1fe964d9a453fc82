/* libFuzzer target: SMTP command lines (smtp_command_parse) and the
 * arguments of MAIL and RCPT (smtp_mail_parse, smtp_rcpt_parse). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/smtp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_args(const char *args, size_t len)
{
	struct mail_path path;
	struct smtp_mail_params params;
	const char *error = NULL;
	enum smtp_arg_error r;

	r = smtp_mail_parse(args, len, &path, &params, &error);
	if (r != SMTP_ARG_OK && error == NULL)
		abort();
	if (r == SMTP_ARG_OK && strlen(path.local) > MAIL_LOCAL_MAX)
		abort();
	if (r == SMTP_ARG_OK)
		(void)mail_path_relay_trick(&path);
	error = NULL;
	r = smtp_rcpt_parse(args, len, &path, &error);
	if (r != SMTP_ARG_OK && error == NULL)
		abort();
	/* an empty domain only for "<Postmaster>" (RFC 5321 4.5.1) */
	if (r == SMTP_ARG_OK && (path.null_path ||
				 (path.domain[0] == '\0' && strcmp(path.local, "postmaster") != 0)))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *line = (const char *)data;
	struct smtp_command cmd;
	const char *error = NULL;

	if (smtp_command_parse(line, size, &cmd, &error) == 0) {
		if (cmd.verb_text != line || cmd.verb_len > size ||
		    cmd.args < line || cmd.args + cmd.args_len > line + size)
			abort();
		if (memchr(line, '\0', size) != NULL || memchr(line, '\r', size) != NULL ||
		    memchr(line, '\n', size) != NULL)
			abort();
		if (cmd.verb != SMTP_VERB_UNKNOWN &&
		    strlen(smtp_verb_name(cmd.verb)) != cmd.verb_len)
			abort();
		/* a copy of exactly args_len bytes, so reads past it are caught */
		char *args = malloc(cmd.args_len + 1);
		if (args == NULL)
			return 0;
		memcpy(args, cmd.args, cmd.args_len);
		check_args(args, cmd.args_len);
		free(args);
	} else if (error == NULL) {
		abort();
	}
	/* the arguments parsers on raw bytes too */
	check_args(line, size);
	return 0;
}
