/* libFuzzer target: RFC 5321 paths (mail_path_parse, mail_path_relay_trick,
 * mail_path_format). Checks that a parsed path obeys the limits and that
 * formatting it and parsing again gives the same path. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mail/address.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mail_path p, q;
	const char *error = NULL, *trick;
	size_t used = 0, used2;
	char fmt[1024], wrapped[1100], tiny[8];

	if (mail_path_parse((const char *)data, size, &p, &used, &error) < 0) {
		if (error == NULL)
			abort();
		return 0;
	}
	if (used == 0 || used > size || data[used - 1] != '>')
		abort();
	if (strlen(p.local) > MAIL_LOCAL_MAX || strlen(p.domain) > MAIL_DOMAIN_MAX)
		abort();
	trick = mail_path_relay_trick(&p);
	if (p.null_path) {
		if (trick != NULL || p.local[0] != '\0' || p.domain[0] != '\0')
			abort();
		return 0;
	}
	if (p.domain[0] == '\0')
		abort();
	/* anything that is not a plain dot-atom at a plain domain is a trick */
	if (trick == NULL && (p.source_route || p.local_quoted || p.domain_literal ||
			      strpbrk(p.local, "%!@") != NULL))
		abort();
	mail_path_format(&p, tiny, sizeof(tiny));
	if (strlen(tiny) >= sizeof(tiny))
		abort();
	mail_path_format(&p, fmt, sizeof(fmt));
	if (strlen(fmt) > MAIL_PATH_MAX)
		return 0;	/* quoting made it longer than a path may be */
	snprintf(wrapped, sizeof(wrapped), "<%s>", fmt);
	error = NULL;
	if (mail_path_parse(wrapped, strlen(wrapped), &q, &used2, &error) < 0) {
		fprintf(stderr, "reparse of <%s> failed: %s\n", fmt, error);
		abort();
	}
	if (used2 != strlen(wrapped) || strcmp(p.local, q.local) != 0 ||
	    strcmp(p.domain, q.domain) != 0 || p.local_quoted != q.local_quoted ||
	    p.domain_literal != q.domain_literal || q.source_route)
		abort();
	return 0;
}
