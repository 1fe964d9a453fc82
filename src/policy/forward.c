/* Parsing and checking the forwarding list of an account. */
#include "policy/forward.h"
#include "mail/address.h"
#include "lib/str.h"

#include <string.h>

int forward_list_parse(const char *value, const char *self, char (*out)[FORWARD_ADDR_MAX],
		       size_t *n_r, const char **error_r)
{
	const char *p = value;
	size_t n = 0;

	*n_r = 0;
	for (;;) {
		char buf[MAIL_PATH_MAX + 3];
		struct mail_path path;
		size_t len, used;

		while (*p == ',' || *p == ' ' || *p == '\t')
			p++;
		if (*p == '\0')
			break;
		len = strcspn(p, ", \t");
		if (len > MAIL_PATH_MAX) {
			*error_r = "a forwarding address is too long";
			return -1;
		}
		if (n == FORWARD_MAX) {
			*error_r = "at most 100 forwarding addresses";
			return -1;
		}
		buf[0] = '<';
		memcpy(buf + 1, p, len);
		buf[len + 1] = '>';
		if (mail_path_parse(buf, len + 2, &path, &used, error_r) < 0)
			return -1;
		if (used != len + 2 || path.null_path || path.domain[0] == '\0') {
			*error_r = "a forwarding address must be a full name@domain address";
			return -1;
		}
		if (mail_path_relay_trick(&path) != NULL) {
			*error_r = "a forwarding address must be a plain name@domain address";
			return -1;
		}
		mail_path_format(&path, out[n], FORWARD_ADDR_MAX);
		if (self != NULL && str_eq_ci(out[n], self)) {
			*error_r = "an account cannot forward to itself";
			return -1;
		}
		for (size_t i = 0; i < n; i++) {
			if (str_eq_ci(out[i], out[n])) {
				*error_r = "a forwarding address is listed twice";
				return -1;
			}
		}
		n++;
		p += len;
	}
	*n_r = n;
	return 0;
}
