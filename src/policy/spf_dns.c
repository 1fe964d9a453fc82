/* SPF's lookups through lib/dns.h (blocking c-ares on the calling
 * thread) or a batch of lib/dns_async.h (answers gathered on a loop):
 * kept apart from spf.c so the core builds without c-ares for the
 * fuzzer. */
#include "policy/spf.h"
#include "lib/dns_async.h"
#include "lib/str.h"

#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

static enum dns_result spf_real_txt(void *ctx, const char *name, char ***txt_r, size_t *n_r)
{
	struct spf_dns_real *r = ctx;
	const char *error;

	if (r->batch != NULL)
		return dns_batch_txt(r->batch, name, txt_r, n_r, &error);
	return dns_txt_lookup(r->resolver, name, txt_r, n_r, &error);
}

static void spf_real_free_txt(void *ctx, char **txt, size_t n)
{
	dns_txt_free(txt, n);
}

static enum dns_result spf_real_addr(void *ctx, const char *name, int family, struct spf_ip *out,
				     size_t max, size_t *n_r)
{
	struct spf_dns_real *r = ctx;
	struct dns_addr addrs[32];
	const char *error;
	size_t n = 0, k = 0;
	enum dns_result res = r->batch != NULL ?
		dns_batch_addr(r->batch, name, family, addrs, max < 32 ? max : 32, &n, &error) :
		dns_addr_lookup_family(r->resolver, name, family, addrs, max < 32 ? max : 32, &n, &error);

	*n_r = 0;
	if (res != DNS_OK)
		return res;
	for (size_t i = 0; i < n && k < max; i++) {
		memset(&out[k], 0, sizeof(out[k]));
		if (addrs[i].ss.ss_family == AF_INET) {
			out[k].family = AF_INET;
			memcpy(out[k].addr, &((struct sockaddr_in *)&addrs[i].ss)->sin_addr, 4);
			k++;
		} else if (addrs[i].ss.ss_family == AF_INET6) {
			out[k].family = AF_INET6;
			memcpy(out[k].addr, &((struct sockaddr_in6 *)&addrs[i].ss)->sin6_addr, 16);
			k++;
		}
	}
	*n_r = k;
	return k > 0 ? DNS_OK : DNS_NODATA;
}

static enum dns_result spf_real_mx(void *ctx, const char *name, char (*names)[DNS_NAME_MAX], size_t max,
				   size_t *n_r)
{
	struct spf_dns_real *r = ctx;
	struct dns_mx *mx = NULL;
	const char *error;
	size_t n = 0;
	enum dns_result res = r->batch != NULL ? dns_batch_mx(r->batch, name, &mx, &n, &error) :
						 dns_mx_lookup(r->resolver, name, &mx, &n, &error);

	*n_r = 0;
	if (res == DNS_OK) {
		for (size_t i = 0; i < n && i < max; i++)
			str_copy(names[i], DNS_NAME_MAX, mx[i].host);
		*n_r = n < max ? n : max;
	}
	free(mx);
	return res;
}

static enum dns_result spf_real_ptr(void *ctx, const struct spf_ip *ip, char (*names)[DNS_NAME_MAX],
				    size_t max, size_t *n_r)
{
	struct spf_dns_real *r = ctx;
	struct sockaddr_storage ss;
	const char *error;

	memset(&ss, 0, sizeof(ss));
	if (ip->family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
		sin->sin_family = AF_INET;
		memcpy(&sin->sin_addr, ip->addr, 4);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
		sin6->sin6_family = AF_INET6;
		memcpy(&sin6->sin6_addr, ip->addr, 16);
	}
	if (r->batch != NULL)
		return dns_batch_ptr(r->batch, (struct sockaddr *)&ss, names, max, n_r, &error);
	return dns_ptr_lookup(r->resolver, (struct sockaddr *)&ss, names, max, n_r, &error);
}

void spf_dns_real_init(struct spf_dns *dns, struct spf_dns_real *ctx, const char *resolver)
{
	ctx->resolver = resolver != NULL ? resolver : "";
	ctx->batch = NULL;
	dns->ctx = ctx;
	dns->txt = spf_real_txt;
	dns->free_txt = spf_real_free_txt;
	dns->addr = spf_real_addr;
	dns->mx = spf_real_mx;
	dns->ptr = spf_real_ptr;
}

void spf_dns_batch_init(struct spf_dns *dns, struct spf_dns_real *ctx, struct dns_batch *batch)
{
	spf_dns_real_init(dns, ctx, "");
	ctx->batch = batch;
}
