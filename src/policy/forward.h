#ifndef YUBIN_POLICY_FORWARD_H
#define YUBIN_POLICY_FORWARD_H

#include <stdbool.h>
#include <stddef.h>

/* Mail forwarding of an account (account settings `forward` and
 * `forward-keep`): the list of addresses each message is forwarded to.
 * Pure. */

#define FORWARD_MAX 100		/* addresses per account */
#define FORWARD_ADDR_MAX 320

/* Parses a `forward` value: addresses separated by commas and/or spaces,
 * at most FORWARD_MAX, each a plain local@domain (no relay tricks, no
 * address literal), none equal to self (the account itself). The
 * addresses go to out[] with the domain lowercased; *n_r their count
 * (0 for an empty value, which means no forwarding). 0, or -1 with a
 * reason in *error_r. */
int forward_list_parse(const char *value, const char *self, char (*out)[FORWARD_ADDR_MAX],
		       size_t *n_r, const char **error_r);

#endif
