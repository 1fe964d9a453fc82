/* libFuzzer target: SPF records and macros (policy/spf.c). The input is a
 * record checked for syntax, expanded as a macro string, and evaluated by
 * check_host() with a DNS where every name has the input as its TXT
 * record, one A and one AAAA record, one MX and one PTR name: includes and
 * redirects recurse into the same record, so the lookup limits must stop
 * them. Checks bounds of every output. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/spf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *record;
static unsigned queries;

static enum dns_result f_txt(void *ctx, const char *name, char ***txt_r, size_t *n_r)
{
	queries++;
	if (strlen(name) > 253)
		abort();
	*txt_r = calloc(1, sizeof(char *));
	if (*txt_r == NULL)
		return DNS_TEMPFAIL;
	(*txt_r)[0] = strdup(record);
	*n_r = 1;
	return DNS_OK;
}

static void f_free(void *ctx, char **txt, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(txt[i]);
	free(txt);
}

static enum dns_result f_addr(void *ctx, const char *name, int family, struct spf_ip *out, size_t max,
			      size_t *n_r)
{
	queries++;
	if (name[0] == 'n')
		return DNS_NXDOMAIN;
	if (name[0] == 't')
		return DNS_TEMPFAIL;
	spf_ip_parse(family == AF_INET ? "192.0.2.1" : "2001:db8::1", &out[0]);
	*n_r = max > 0 ? 1 : 0;
	return DNS_OK;
}

static enum dns_result f_mx(void *ctx, const char *name, char (*names)[DNS_NAME_MAX], size_t max,
			    size_t *n_r)
{
	queries++;
	snprintf(names[0], DNS_NAME_MAX, "mx.%s", name);
	*n_r = 1;
	return DNS_OK;
}

static enum dns_result f_ptr(void *ctx, const struct spf_ip *ip, char (*names)[DNS_NAME_MAX], size_t max,
			     size_t *n_r)
{
	queries++;
	snprintf(names[0], DNS_NAME_MAX, "host.example.com");
	*n_r = 1;
	return DNS_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct spf_dns dns = {
		.txt = f_txt, .free_txt = f_free, .addr = f_addr, .mx = f_mx, .ptr = f_ptr,
	};
	struct spf_request req = { .helo = "helo.example.org", .mail_from = "a.b-c@example.com",
				   .receiver = "mx.test" };
	struct spf_outcome out;
	struct spf_macro_ctx mc = { .sender = "a.b-c@example.com", .domain = "example.com",
				    .helo = "helo.example.org", .receiver = "mx.test", .exp = true };
	char *rec, buf[300];
	const char *error = NULL;

	if (size > 4096)
		return 0;
	rec = malloc(size + 8);
	if (rec == NULL)
		return 0;
	memcpy(rec, data, size);
	rec[size] = '\0';
	record = rec;

	(void)spf_record_check(rec, &error);
	spf_ip_parse(size > 0 && (data[0] & 1) ? "2001:db8::1" : "192.0.2.1", &req.ip);
	mc.ip = &req.ip;
	error = NULL;
	if (spf_macro_expand(rec, size, &mc, (size & 1) != 0, buf, sizeof(buf), &error) == 0) {
		if (strlen(buf) >= sizeof(buf))
			abort();
		if ((size & 1) != 0 && strlen(buf) > 253)
			abort();
	} else if (error == NULL) {
		abort();
	}
	queries = 0;
	spf_check(&dns, &req, &out);
	/* one TXT query for the domain, then per DNS-querying term at most
	 * one query plus 10 MX/PTR names' addresses */
	if (out.lookups > SPF_LOOKUP_LIMIT + 1 || queries > 1 + (SPF_LOOKUP_LIMIT + 1) * 12)
		abort();
	if (strlen(out.reason) >= sizeof(out.reason) || strlen(out.mechanism) >= sizeof(out.mechanism))
		abort();
	free(rec);
	return 0;
}
