/* Fixed rules on top of the classifier: inbound check results and header
 * anomalies. The weights are log-odds: 2 alone reaches the default
 * threshold, so no single rule here does. */
#include "spam/spam_rules.h"

#include "lib/strbuf.h"
#include "mail/header.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

/* The result token after "method=" in an unfolded Authentication-Results
 * value, into out; false when the method is not there. With first_pass,
 * a later "pass" wins over an earlier other result. */
static bool spam_auth_method(const char *v, size_t len, const char *method, bool first_pass,
			     char *out, size_t size)
{
	size_t mlen = strlen(method);
	bool found = false;

	for (size_t i = 0; i + mlen + 1 < len; i++) {
		size_t j, n = 0;
		char buf[16];

		if ((i > 0 && v[i - 1] != ';' && v[i - 1] != ' ' && v[i - 1] != '\t') ||
		    strncasecmp(v + i, method, mlen) != 0 || v[i + mlen] != '=')
			continue;
		for (j = i + mlen + 1; j < len && n + 1 < sizeof(buf); j++) {
			char ch = v[j];

			if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z')))
				break;
			buf[n++] = (char)(ch | 0x20);
		}
		buf[n] = '\0';
		if (n == 0)
			continue;
		if (!found || (first_pass && strcmp(buf, "pass") == 0 && strcmp(out, "pass") != 0)) {
			snprintf(out, size, "%s", buf);
			found = true;
		}
		if (!first_pass)
			break;
	}
	return found;
}

bool spam_auth_from_message(const char *msg, size_t size, struct spam_auth *auth_r)
{
	struct mail_header_field f;
	struct strbuf v = STRBUF_INIT;
	size_t hsize = mail_header_block_size(msg, size);

	memset(auth_r, 0, sizeof(*auth_r));
	if (!mail_header_find(msg, hsize, "Authentication-Results", &f))
		return false;
	mail_header_unfold(f.value, f.value_len, &v);
	spam_auth_method(strbuf_cstr(&v), v.len, "spf", false, auth_r->spf, sizeof(auth_r->spf));
	spam_auth_method(strbuf_cstr(&v), v.len, "dkim", true, auth_r->dkim, sizeof(auth_r->dkim));
	spam_auth_method(strbuf_cstr(&v), v.len, "dmarc", false, auth_r->dmarc, sizeof(auth_r->dmarc));
	strbuf_free(&v);
	return true;
}

static bool spam_header_has_raw_8bit(const char *msg, size_t hsize)
{
	for (size_t i = 0; i < hsize; i++) {
		if ((unsigned char)msg[i] >= 0x80)
			return true;
	}
	return false;
}

size_t spam_rules_eval(const char *msg, size_t size, const struct spam_auth *auth,
		       struct spam_rule_hit *hits, double *total_r)
{
	static const struct {
		const char *name;
		double score;
	} rules[] = {
		{ "SPF_FAIL", 1.0 }, { "SPF_SOFTFAIL", 0.5 }, { "DKIM_FAIL", 0.5 },
		{ "DMARC_FAIL", 1.5 }, { "NO_FROM", 1.0 }, { "HEADER_8BIT_UNENCODED", 0.3 },
	};
	struct mail_header_field f;
	size_t hsize = mail_header_block_size(msg, size), n = 0;
	bool fired[sizeof(rules) / sizeof(rules[0])] = { false };

	if (auth != NULL) {
		fired[0] = strcmp(auth->spf, "fail") == 0;
		fired[1] = strcmp(auth->spf, "softfail") == 0;
		fired[2] = strcmp(auth->dkim, "fail") == 0;
		fired[3] = strcmp(auth->dmarc, "fail") == 0;
	}
	fired[4] = !mail_header_find(msg, hsize, "From", &f);
	fired[5] = spam_header_has_raw_8bit(msg, hsize);
	*total_r = 0;
	for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]) && n < SPAM_RULES_MAX; i++) {
		if (!fired[i])
			continue;
		hits[n].name = rules[i].name;
		hits[n].score = rules[i].score;
		*total_r += rules[i].score;
		n++;
	}
	return n;
}
