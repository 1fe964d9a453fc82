#ifndef YUBIN_SPAM_SPAM_LIST_H
#define YUBIN_SPAM_SPAM_LIST_H

#include <stdbool.h>
#include <stddef.h>

/* The patterns of the spam filter's allow and block lists (pure):
 *   user@example.com   that address
 *   *@example.com      any address at example.com
 *   *.example.com      any address at a subdomain of example.com (not
 *                      example.com itself: add *@example.com for that)
 *   *                  every sender
 * Matching ignores case. */

#define SPAM_LIST_PATTERN_MAX 256

/* Checks a pattern and writes its stored form (lower case, blanks
 * trimmed) to norm: 0, or -1 with *error_r, a sentence. */
int spam_list_pattern_check(const char *pattern, char *norm, size_t size, const char **error_r);
/* Whether address (local@domain) matches the stored pattern. */
bool spam_list_match(const char *pattern, const char *address);

#endif
