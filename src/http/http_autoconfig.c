/* Thunderbird autoconfiguration: GET /mail/config-v1.1.xml (asked of
 * autoconfig.DOMAIN) and /.well-known/autoconfig/mail/config-v1.1.xml, on
 * https.port and on http.port (Thunderbird also asks over plain HTTP).
 * The domain is the one of ?emailaddress=, else the Host's (without
 * "autoconfig."); it must be hosted here, else 404. The document is the
 * same for every address of the domain (no account is looked up, so it
 * tells nothing about which exist): IMAP 993 and POP3 995 with TLS, SMTP
 * 465 with TLS and 587 with STARTTLS, the full address as the user name,
 * and the server's host name, the one its certificate covers. It runs as
 * a public API job, on a worker (the directory lookup may block). */
/* Microsoft Autodiscover: POST /autodiscover/autodiscover.xml (also
 * /Autodiscover/Autodiscover.xml) with Outlook's request, whose
 * <EMailAddress> is all that is read: the body (at most
 * AUTODISCOVER_BODY_MAX bytes) is not parsed as XML, the text between
 * the first <EMailAddress> and the next </EMailAddress> is taken, blanks
 * around it trimmed, and must be one address (printable ASCII without
 * markup or quotes, one '@', a local part of at most 64 bytes, at most
 * DIR_ADDRESS_MAX bytes in all); else 400. The answer is Outlook's "settings"
 * response: IMAP 993, POP3 995 and SMTP 465, SSL on, LoginName the full
 * address, Server the host name; a domain not hosted here gets 404. */
#include "http/http_autoconfig.h"
#include "directory/directory.h"
#include "lib/str.h"

#include <ctype.h>
#include <event2/buffer.h>
#include <event2/http.h>
#include <string.h>
#include <strings.h>

#define AUTODISCOVER_BODY_MAX 8192

static const struct api_route autodiscover_route = {
	EVHTTP_REQ_POST, "/autodiscover/autodiscover.xml", http_autodiscover_job, API_PUBLIC | API_RAW_BODY
};

static const struct api_route autoconfig_route = {
	EVHTTP_REQ_GET | EVHTTP_REQ_HEAD, "/mail/config-v1.1.xml", http_autoconfig_job, API_PUBLIC
};

bool http_autoconfig_path(const char *target)
{
	static const char *const paths[] = { "/mail/config-v1.1.xml", "/.well-known/autoconfig/mail/config-v1.1.xml" };

	for (size_t i = 0; i < 2; i++) {
		size_t n = strlen(paths[i]);
		if (strncmp(target, paths[i], n) == 0 && (target[n] == '\0' || target[n] == '?'))
			return true;
	}
	return false;
}

void http_autoconfig_serve(struct evhttp_request *req, const struct api_config *api)
{
	api_handle_route(req, api, &autoconfig_route);
}

void http_autodiscover_serve(struct evhttp_request *req, const struct api_config *api)
{
	api_handle_route(req, api, &autodiscover_route);
}

/* The domain asked about, lower case, or "" when the request names none
 * that could be one. */
static void autoconfig_domain(struct api_job *j, char *out, size_t size)
{
	const char *address = api_query(j, "emailaddress"), *name, *host;
	size_t n;

	out[0] = '\0';
	if (address != NULL) {
		name = strrchr(address, '@');
		if (name == NULL || name == address)
			return;
		name++;
		n = strlen(name);
	} else {
		host = evhttp_find_header(evhttp_request_get_input_headers(j->req), "Host");
		if (host == NULL)
			return;
		name = strncasecmp(host, "autoconfig.", 11) == 0 ? host + 11 : host;
		n = strcspn(name, ":");
	}
	if (n == 0 || n >= size)
		return;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)name[i];
		if (!isalnum(c) && c != '.' && c != '-')
			return;
		out[i] = (char)tolower(c);
	}
	out[n] = '\0';
}

/* s with XML's special characters as references, cut short rather than
 * overflow. */
static void xml_escape(const char *s, char *out, size_t size)
{
	size_t n = 0;

	for (; *s != '\0'; s++) {
		const char *rep = *s == '&' ? "&amp;" : *s == '<' ? "&lt;" : *s == '>' ? "&gt;"
				: *s == '"' ? "&quot;" : *s == '\'' ? "&apos;" : NULL;
		size_t len = rep != NULL ? strlen(rep) : 1;

		if (n + len >= size)
			break;
		memcpy(out + n, rep != NULL ? rep : s, len);
		n += len;
	}
	out[n] = '\0';
}

static void xml_server(struct evbuffer *b, const char *kind, const char *type, const char *host, unsigned port,
		       const char *socket_type)
{
	evbuffer_add_printf(b,
			    "    <%s type=\"%s\">\n"
			    "      <hostname>%s</hostname>\n"
			    "      <port>%u</port>\n"
			    "      <socketType>%s</socketType>\n"
			    "      <authentication>password-cleartext</authentication>\n"
			    "      <username>%%EMAILADDRESS%%</username>\n"
			    "    </%s>\n",
			    kind, type, host, port, socket_type, kind);
}

void http_autoconfig_job(struct api_job *j)
{
	char domain[DIR_DOMAIN_MAX + 1];
	char host[6 * sizeof(j->env.hostname)];
	struct evbuffer *b;

	autoconfig_domain(j, domain, sizeof(domain));
	if (domain[0] == '\0') {
		api_error(j, 400, "invalid_field", "emailaddress", "give the address: ?emailaddress=",
			  "アドレスを ?emailaddress= で指定してください");
		return;
	}
	if (directory_domain_exists(j->ops.dir, domain) != 1) {
		api_error(j, 404, "not_found", NULL, "no such domain here", "このサーバーのドメインではありません");
		return;
	}
	xml_escape(j->env.hostname, host, sizeof(host));
	b = j->raw = evbuffer_new();
	if (b == NULL) {
		api_error(j, 500, "internal", NULL, "out of memory", "メモリ不足です");
		return;
	}
	/* domain: letters, digits, dots and hyphens only */
	evbuffer_add_printf(b,
			    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
			    "<clientConfig version=\"1.1\">\n"
			    "  <emailProvider id=\"%s\">\n"
			    "    <domain>%s</domain>\n"
			    "    <displayName>%s</displayName>\n"
			    "    <displayShortName>%s</displayShortName>\n",
			    domain, domain, domain, domain);
	xml_server(b, "incomingServer", "imap", host, 993, "SSL");
	xml_server(b, "incomingServer", "pop3", host, 995, "SSL");
	xml_server(b, "outgoingServer", "smtp", host, 465, "SSL");
	xml_server(b, "outgoingServer", "smtp", host, 587, "STARTTLS");
	evbuffer_add_printf(b, "  </emailProvider>\n</clientConfig>\n");
	j->status = 200;
	j->content_type = "application/xml; charset=utf-8";
}

/* The address in an Autodiscover request body (see the top): true and
 * the address in out, or false. Pure: no I/O, the limits are size and
 * the body's length. */
bool http_autodiscover_address(const char *body, size_t len, char *out, size_t size)
{
	static const char open[] = "<EMailAddress>", close[] = "</EMailAddress>";
	const char *start = memmem(body, len, open, sizeof(open) - 1), *end, *at;
	size_t n;

	if (start == NULL)
		return false;
	start += sizeof(open) - 1;
	end = memmem(start, len - (size_t)(start - body), close, sizeof(close) - 1);
	if (end == NULL)
		return false;
	while (start < end && isspace((unsigned char)*start))
		start++;
	while (end > start && isspace((unsigned char)end[-1]))
		end--;
	n = (size_t)(end - start);
	if (n == 0 || n >= size || n > DIR_ADDRESS_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)start[i];
		if (c <= ' ' || c >= 0x7f || c == '<' || c == '>' || c == '&' || c == '"' || c == '\'')
			return false;
	}
	at = memchr(start, '@', n);
	/* a local part of at most 64 octets (RFC 5321 §4.5.3.1.1) */
	if (at == NULL || at == start || at == end - 1 || at - start > 64 ||
	    memchr(at + 1, '@', (size_t)(end - at - 1)) != NULL)
		return false;
	memcpy(out, start, n);
	out[n] = '\0';
	return true;
}

static void autodiscover_protocol(struct evbuffer *b, const char *type, const char *host, unsigned port,
				  const char *login)
{
	evbuffer_add_printf(b,
			    "      <Protocol>\n"
			    "        <Type>%s</Type>\n"
			    "        <Server>%s</Server>\n"
			    "        <Port>%u</Port>\n"
			    "        <DomainRequired>off</DomainRequired>\n"
			    "        <LoginName>%s</LoginName>\n"
			    "        <SPA>off</SPA>\n"
			    "        <SSL>on</SSL>\n"
			    "        <AuthRequired>on</AuthRequired>\n"
			    "      </Protocol>\n",
			    type, host, port, login);
}

void http_autodiscover_job(struct api_job *j)
{
	char address[DIR_ADDRESS_MAX + 1], domain[DIR_DOMAIN_MAX + 1];
	char host[6 * sizeof(j->env.hostname)];
	struct evbuffer *b;
	const char *at;

	if (j->body_raw == NULL || j->body_raw_len > AUTODISCOVER_BODY_MAX ||
	    !http_autodiscover_address(j->body_raw, j->body_raw_len, address, sizeof(address))) {
		api_error(j, 400, "bad_request", NULL, "an Autodiscover request with one <EMailAddress>",
			  "<EMailAddress> を一つ含む Autodiscover リクエストを送ってください");
		return;
	}
	at = strrchr(address, '@');
	if (strlen(at + 1) >= sizeof(domain)) {
		api_error(j, 404, "not_found", NULL, "no such domain here", "このサーバーのドメインではありません");
		return;
	}
	for (size_t i = 0; at[i + 1] != '\0'; i++)
		domain[i] = (char)tolower((unsigned char)at[i + 1]);
	domain[strlen(at + 1)] = '\0';
	if (directory_domain_exists(j->ops.dir, domain) != 1) {
		api_error(j, 404, "not_found", NULL, "no such domain here", "このサーバーのドメインではありません");
		return;
	}
	xml_escape(j->env.hostname, host, sizeof(host));
	b = j->raw = evbuffer_new();
	if (b == NULL) {
		api_error(j, 500, "internal", NULL, "out of memory", "メモリ不足です");
		return;
	}
	/* the address holds no character XML would need escaped (checked) */
	evbuffer_add_printf(b, "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
			       "<Autodiscover xmlns=\"http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006\">\n"
			       "  <Response xmlns=\"http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a\">\n"
			       "    <Account>\n"
			       "      <AccountType>email</AccountType>\n"
			       "      <Action>settings</Action>\n");
	autodiscover_protocol(b, "IMAP", host, 993, address);
	autodiscover_protocol(b, "POP3", host, 995, address);
	autodiscover_protocol(b, "SMTP", host, 465, address);
	evbuffer_add_printf(b, "    </Account>\n  </Response>\n</Autodiscover>\n");
	j->status = 200;
	j->content_type = "application/xml; charset=utf-8";
}
