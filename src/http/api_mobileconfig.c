/* GET /api/v1/me/mobileconfig: an Apple configuration profile that sets
 * up a mail user's own account (com.apple.mail.managed: IMAP 993 and
 * SMTP 465, both implicit TLS, the full address as the user name, the
 * server's host name, the one its certificate covers). No password is in
 * it: the device asks once. The payload UUIDs are derived from the
 * address and the host name, so they differ per account and stay the
 * same when the profile is downloaded again (a reinstall replaces it). */
#include "http/api_admin.h"

#include <event2/buffer.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

/* s with the five XML special characters as references. */
static void plist_text(struct evbuffer *b, const char *s)
{
	for (; *s != '\0'; s++) {
		switch (*s) {
		case '&': evbuffer_add_printf(b, "&amp;"); break;
		case '<': evbuffer_add_printf(b, "&lt;"); break;
		case '>': evbuffer_add_printf(b, "&gt;"); break;
		case '"': evbuffer_add_printf(b, "&quot;"); break;
		case '\'': evbuffer_add_printf(b, "&apos;"); break;
		default: evbuffer_add(b, s, 1);
		}
	}
}

static void plist_string(struct evbuffer *b, const char *key, const char *value)
{
	evbuffer_add_printf(b, "<key>%s</key><string>", key);
	plist_text(b, value);
	evbuffer_add_printf(b, "</string>\n");
}

/* An RFC 9562 version 8 UUID from a hash of the address, the host name
 * and which payload it names. */
static void profile_uuid(const char *address, const char *hostname, const char *which, char out[37])
{
	unsigned char h[16];
	crypto_generichash_state st;

	crypto_generichash_init(&st, NULL, 0, sizeof(h));
	crypto_generichash_update(&st, (const unsigned char *)"yubin-mobileconfig\n", 19);
	crypto_generichash_update(&st, (const unsigned char *)address, strlen(address) + 1);
	crypto_generichash_update(&st, (const unsigned char *)hostname, strlen(hostname) + 1);
	crypto_generichash_update(&st, (const unsigned char *)which, strlen(which));
	crypto_generichash_final(&st, h, sizeof(h));
	h[6] = (unsigned char)((h[6] & 0x0f) | 0x80);
	h[8] = (unsigned char)((h[8] & 0x3f) | 0x80);
	snprintf(out, 37, "%02X%02X%02X%02X-%02X%02X-%02X%02X-%02X%02X-%02X%02X%02X%02X%02X%02X", h[0], h[1], h[2],
		 h[3], h[4], h[5], h[6], h[7], h[8], h[9], h[10], h[11], h[12], h[13], h[14], h[15]);
}

static void mail_payload(struct evbuffer *b, const char *address, const char *hostname)
{
	char uuid[37];

	profile_uuid(address, hostname, "mail", uuid);
	evbuffer_add_printf(b, "<dict>\n");
	plist_string(b, "PayloadType", "com.apple.mail.managed");
	evbuffer_add_printf(b, "<key>PayloadVersion</key><integer>1</integer>\n");
	plist_string(b, "PayloadUUID", uuid);
	evbuffer_add_printf(b, "<key>PayloadIdentifier</key><string>yubin.mail.%s</string>\n", uuid);
	plist_string(b, "PayloadDisplayName", address);
	plist_string(b, "EmailAccountDescription", address);
	plist_string(b, "EmailAccountType", "EmailTypeIMAP");
	plist_string(b, "EmailAddress", address);
	plist_string(b, "IncomingMailServerAuthentication", "EmailAuthPassword");
	plist_string(b, "IncomingMailServerHostName", hostname);
	evbuffer_add_printf(b, "<key>IncomingMailServerPortNumber</key><integer>993</integer>\n"
			       "<key>IncomingMailServerUseSSL</key><true/>\n");
	plist_string(b, "IncomingMailServerUsername", address);
	plist_string(b, "OutgoingMailServerAuthentication", "EmailAuthPassword");
	plist_string(b, "OutgoingMailServerHostName", hostname);
	evbuffer_add_printf(b, "<key>OutgoingMailServerPortNumber</key><integer>465</integer>\n"
			       "<key>OutgoingMailServerUseSSL</key><true/>\n");
	plist_string(b, "OutgoingMailServerUsername", address);
	evbuffer_add_printf(b, "<key>OutgoingPasswordSameAsIncomingPassword</key><true/>\n</dict>\n");
}

void api_me_mobileconfig(struct api_job *j)
{
	const char *address = j->actor.name, *hostname = j->env.hostname;
	char uuid[37];
	struct evbuffer *b;

	if (ops_actor_role(&j->actor) != OPS_ACTOR_USER || strchr(address, '@') == NULL) {
		api_error(j, 403, "forbidden", NULL, "only a mail user has a profile of its own",
			  "プロファイルはメールユーザー本人のみ取得できます");
		return;
	}
	b = j->raw = evbuffer_new();
	if (b == NULL) {
		api_error(j, 500, "internal", NULL, "out of memory", "メモリ不足です");
		return;
	}
	profile_uuid(address, hostname, "profile", uuid);
	evbuffer_add_printf(b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
			       "<!DOCTYPE plist PUBLIC \"-//Apple//DTD PLIST 1.0//EN\" "
			       "\"http://www.apple.com/DTDs/PropertyList-1.0.dtd\">\n"
			       "<plist version=\"1.0\">\n<dict>\n<key>PayloadContent</key>\n<array>\n");
	mail_payload(b, address, hostname);
	evbuffer_add_printf(b, "</array>\n");
	plist_string(b, "PayloadType", "Configuration");
	evbuffer_add_printf(b, "<key>PayloadVersion</key><integer>1</integer>\n");
	plist_string(b, "PayloadUUID", uuid);
	evbuffer_add_printf(b, "<key>PayloadIdentifier</key><string>yubin.profile.%s</string>\n", uuid);
	evbuffer_add_printf(b, "<key>PayloadDisplayName</key><string>Mail: ");
	plist_text(b, address);
	evbuffer_add_printf(b, "</string>\n<key>PayloadRemovalDisallowed</key><false/>\n</dict>\n</plist>\n");
	j->status = 200;
	j->content_type = "application/x-apple-aspen-config";
	snprintf(j->disposition, sizeof(j->disposition), "attachment; filename=\"%s.mobileconfig\"", hostname);
}
