/* The MTA-STS policy (RFC 8461 §3.3): GET /.well-known/mta-sts.txt on
 * https.port, asked of mta-sts.DOMAIN. The Host header names the domain
 * (without "mta-sts." and any port); it must be hosted here, else 404,
 * and a Host without that label is 404 too, so the policy is never
 * served under another name. The text (ops_mtasts_policy) is text/plain,
 * never a redirect (§3.3 forbids following them). A public API job on a
 * worker, as the autoconfig documents are (the lookup may block). */
#include "http/http_mtasts.h"
#include "ops/ops_server.h"

#include <ctype.h>
#include <event2/buffer.h>
#include <event2/http.h>
#include <string.h>
#include <strings.h>

#define MTASTS_LABEL "mta-sts."

static const struct api_route mtasts_route = {
	EVHTTP_REQ_GET | EVHTTP_REQ_HEAD, "/.well-known/mta-sts.txt", http_mtasts_job, API_PUBLIC
};

void http_mtasts_serve(struct evhttp_request *req, const struct api_config *api)
{
	api_handle_route(req, api, &mtasts_route);
}

bool http_mtasts_domain(const char *host, char *out, size_t size)
{
	size_t label = sizeof(MTASTS_LABEL) - 1, n;

	out[0] = '\0';
	if (host == NULL || strncasecmp(host, MTASTS_LABEL, label) != 0)
		return false;
	host += label;
	n = strcspn(host, ":");
	if (n == 0 || n >= size)
		return false;
	if (host[n] == ':') {
		size_t digits = strspn(host + n + 1, "0123456789");

		if (digits == 0 || digits > 5 || host[n + 1 + digits] != '\0')
			return false;
	}
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)host[i];

		if (!isalnum(c) && c != '.' && c != '-')
			return false;
		out[i] = (char)tolower(c);
	}
	if (out[n - 1] == '.')
		n--;		/* a fully qualified Host: "mta-sts.example.jp." */
	out[n] = '\0';
	return n > 0;
}

void http_mtasts_job(struct api_job *j)
{
	char domain[DIR_DOMAIN_MAX + 1];
	struct ops_mtasts p;
	int r;

	if (!http_mtasts_domain(evhttp_find_header(evhttp_request_get_input_headers(j->req), "Host"), domain,
				sizeof(domain))) {
		api_error(j, 404, "not_found", NULL, "ask for the policy at mta-sts.DOMAIN",
			  "ポリシーは mta-sts.ドメイン に問い合わせてください");
		return;
	}
	r = ops_mtasts_policy(&j->ops, domain, j->env.hostname, &p);
	if (r < 0) {
		api_error(j, 500, "internal", NULL, "cannot read the domain", "ドメインを読めません");
		return;
	}
	if (r == 0) {
		api_error(j, 404, "not_found", NULL, "no such domain here", "このサーバーのドメインではありません");
		return;
	}
	if ((j->raw = evbuffer_new()) == NULL) {
		api_error(j, 500, "internal", NULL, "out of memory", "メモリ不足です");
		return;
	}
	evbuffer_add(j->raw, p.text, strlen(p.text));
	j->status = 200;
	j->content_type = "text/plain";
}
