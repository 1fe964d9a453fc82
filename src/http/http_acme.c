/* ACME http-01 (RFC 8555 §8.3) on port 80: the CA fetches
 * /.well-known/acme-challenge/TOKEN and must get the key authorization,
 * which the ACME client (ops/ops_acme.c, in the daemon or in yubinctl)
 * left in DATA/acme/http-01/TOKEN while the validation runs. */
#include "http/http_internal.h"
#include "policy/acme_msg.h"
#include "lib/fsutil.h"

#include <event2/buffer.h>
#include <event2/http.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void http_acme_challenge(struct evhttp_request *req, const char *dir, const char *token)
{
	enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
	struct evbuffer *body;
	char path[4400], *ka;
	size_t len = 0;

	if (cmd != EVHTTP_REQ_GET && cmd != EVHTTP_REQ_HEAD) {
		http_send_error(req, 405, "Method Not Allowed", false);
		return;
	}
	/* a token is base64url: no path, no query, nothing to escape */
	if (!acme_is_b64url(token, 255)) {
		http_send_error(req, 404, "Not Found", false);
		return;
	}
	snprintf(path, sizeof(path), "%s/%s", dir, token);
	ka = fs_read_file(path, 1024, &len);	/* a few dozen bytes, only while a validation runs */
	body = evbuffer_new();
	if (ka == NULL || body == NULL) {
		free(ka);
		if (body != NULL)
			evbuffer_free(body);
		http_send_error(req, 404, "Not Found", false);
		return;
	}
	evbuffer_add(body, ka, len);
	free(ka);
	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", "application/octet-stream");
	http_send_reply(req, 200, "OK", body);
	evbuffer_free(body);
}
