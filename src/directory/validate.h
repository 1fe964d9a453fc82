#ifndef YUBIN_DIRECTORY_VALIDATE_H
#define YUBIN_DIRECTORY_VALIDATE_H

#include <stdbool.h>
#include <stddef.h>

/* Validation as the hosting panel does it. Each returns 0, or -1 with a
 * sentence for the user in *error_r. Pure. */

/* a-z 0-9 - _ . up to 64, no leading, trailing or doubled dot. */
int validate_local_part(const char *local, const char **error_r);
/* LDH labels, at least two, total up to 253; lower case expected. */
int validate_domain(const char *domain, const char **error_r);
/* Splits and validates a full address; local_r/domain_r receive the parts
 * lowercased. */
int validate_address(const char *address, char *local_r, size_t local_size,
		     char *domain_r, size_t domain_size, const char **error_r);
/* 8-128 printable ASCII characters, not easily guessed. */
int validate_password(const char *password, const char *address, const char **error_r);
int validate_quota(unsigned long mb, const char **error_r);

#endif
