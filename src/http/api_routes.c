/* Every route of the JSON API in one table (openapi.json describes each;
 * tests/integration/test_api_openapi.py checks that the two agree). A new
 * resource adds its handlers in a file of its own and its rows here. */
#include "http/api.h"
#include "http/api_admin.h"
#include "http/api_mail.h"
#include "http/api_server.h"
#include "http/api_mail_write.h"

#include <event2/http.h>

#define GET EVHTTP_REQ_GET
#define POST EVHTTP_REQ_POST
#define PUT EVHTTP_REQ_PUT
#define PATCH EVHTTP_REQ_PATCH
#define DELETE EVHTTP_REQ_DELETE

const struct api_route api_routes[] = {
	{ GET, "/api/v1/openapi.json", api_openapi, API_PUBLIC },
	/* sessions (api_session.c) */
	{ POST, "/api/v1/session", api_session_login, API_PUBLIC },
	{ GET, "/api/v1/session", api_session_get, 0 },
	{ DELETE, "/api/v1/session", api_session_logout, 0 },
	/* settings (api_settings.c) */
	{ GET, "/api/v1/settings/schema", api_settings_schema, 0 },
	{ GET, "/api/v1/domains/{domain}/settings", api_domain_settings_get, 0 },
	{ PUT, "/api/v1/domains/{domain}/settings/{key}", api_domain_setting_put, 0 },
	{ DELETE, "/api/v1/domains/{domain}/settings/{key}", api_domain_setting_delete, 0 },
	{ GET, "/api/v1/accounts/{address}/settings", api_account_settings_get, 0 },
	{ PUT, "/api/v1/accounts/{address}/settings/{key}", api_account_setting_put, 0 },
	{ DELETE, "/api/v1/accounts/{address}/settings/{key}", api_account_setting_delete, 0 },
	/* domains (api_domains.c) */
	{ GET, "/api/v1/domains", api_domains_list, 0 },
	{ POST, "/api/v1/domains", api_domain_add, 0 },
	{ DELETE, "/api/v1/domains/{domain}", api_domain_del, 0 },
	/* accounts (api_accounts.c) */
	{ GET, "/api/v1/domains/{domain}/accounts", api_accounts_list, 0 },
	{ GET, "/api/v1/domains/{domain}/accounts.csv", api_accounts_csv, 0 },
	{ POST, "/api/v1/domains/{domain}/accounts", api_account_add, 0 },
	{ POST, "/api/v1/domains/{domain}/accounts/bulk", api_accounts_bulk, 0 },
	{ GET, "/api/v1/accounts/{address}", api_account_get, 0 },
	{ PATCH, "/api/v1/accounts/{address}", api_account_patch, 0 },
	{ DELETE, "/api/v1/accounts/{address}", api_account_del, 0 },
	{ POST, "/api/v1/accounts/{address}/password", api_account_password, 0 },
	{ POST, "/api/v1/accounts/{address}/unsuspend", api_account_unsuspend, 0 },
	/* the server administration (api_admin.h: one file per resource) */
	{ GET, "/api/v1/security/events", api_security_events, 0 },
	{ GET, "/api/v1/security/blocks", api_security_blocks, 0 },
	{ POST, "/api/v1/security/unblock", api_security_unblock, 0 },
	{ GET, "/api/v1/security/suspended", api_security_suspended, 0 },
	{ GET, "/api/v1/audit", api_audit_list, 0 },
	{ GET, "/api/v1/admins", api_admins_list, 0 },
	{ POST, "/api/v1/admins", api_admin_add, 0 },
	{ DELETE, "/api/v1/admins/{name}", api_admin_del, 0 },
	{ POST, "/api/v1/admins/{name}/password", api_admin_password, 0 },
	{ GET, "/api/v1/tokens", api_tokens_list, 0 },
	{ POST, "/api/v1/tokens", api_token_create, 0 },
	{ DELETE, "/api/v1/tokens/{id}", api_token_revoke, 0 },
	{ GET, "/api/v1/queue", api_queue_list, 0 },
	{ POST, "/api/v1/queue/retry", api_queue_retry_all, 0 },
	{ GET, "/api/v1/queue/{id}", api_queue_show, 0 },
	{ POST, "/api/v1/queue/{id}/retry", api_queue_retry, 0 },
	{ DELETE, "/api/v1/queue/{id}", api_queue_delete, 0 },
	{ GET, "/api/v1/certs", api_certs_list, 0 },
	{ GET, "/api/v1/certs/{name}", api_cert_show, 0 },
	{ PUT, "/api/v1/certs/{name}", api_cert_import, 0 },
	{ POST, "/api/v1/certs/{name}/renew", api_cert_renew, 0 },
	{ GET, "/api/v1/domains/{domain}/dkim", api_dkim_list, 0 },
	{ POST, "/api/v1/domains/{domain}/dkim/rotate", api_dkim_rotate, 0 },
	{ POST, "/api/v1/domains/{domain}/dkim/activate", api_dkim_activate, 0 },
	{ GET, "/api/v1/domains/{domain}/dns", api_domain_dns, 0 },
	{ GET, "/api/v1/doctor", api_doctor, 0 },
	{ GET, "/api/v1/me/logins", api_me_logins, 0 },
	{ GET, "/api/v1/me/mobileconfig", api_me_mobileconfig, 0 },
	{ GET, "/api/v1/mail/search", api_mail_search, 0 },	/* api_mail_search.c */
	/* the server itself (api_server.c): yubin.conf, GeoIP, an account's index */
	{ GET, "/api/v1/server/settings", api_server_settings_get, 0 },
	{ PUT, "/api/v1/server/settings/{key}", api_server_setting_put, 0 },
	{ GET, "/api/v1/geoip/overrides", api_geoip_overrides_list, 0 },
	{ POST, "/api/v1/geoip/overrides", api_geoip_override_add, 0 },
	{ DELETE, "/api/v1/geoip/overrides", api_geoip_override_del, 0 },
	{ GET, "/api/v1/geoip/lookup", api_geoip_lookup, 0 },
	{ POST, "/api/v1/accounts/{address}/index/rebuild", api_account_index_rebuild, 0 },
	{ GET, "/api/v1/domains/{domain}/spam-lists", api_spam_lists_get, 0 },
	{ POST, "/api/v1/domains/{domain}/spam-lists", api_spam_lists_add, 0 },
	{ DELETE, "/api/v1/domains/{domain}/spam-lists", api_spam_lists_del, 0 },
	{ GET, "/api/v1/accounts/{address}/spam-lists", api_spam_lists_get, 0 },
	{ POST, "/api/v1/accounts/{address}/spam-lists", api_spam_lists_add, 0 },
	{ DELETE, "/api/v1/accounts/{address}/spam-lists", api_spam_lists_del, 0 },
	/* the panel's sorting rules and auto-reply (api_rules.c) */
	{ GET, "/api/v1/accounts/{address}/rules", api_rules_list, 0 },
	{ POST, "/api/v1/accounts/{address}/rules", api_rules_add, 0 },
	{ DELETE, "/api/v1/accounts/{address}/rules/{position}", api_rules_delete, 0 },
	{ POST, "/api/v1/accounts/{address}/rules/{position}/move", api_rules_move, 0 },
	{ POST, "/api/v1/accounts/{address}/rules/{position}/enable", api_rules_enable, 0 },
	{ POST, "/api/v1/accounts/{address}/rules/{position}/disable", api_rules_disable, 0 },
	{ GET, "/api/v1/accounts/{address}/autoreply", api_autoreply_get, 0 },
	{ PUT, "/api/v1/accounts/{address}/autoreply", api_autoreply_put, 0 },
	/* Sieve scripts (api_sieve.c) */
	{ GET, "/api/v1/accounts/{address}/sieve", api_sieve_list, 0 },
	{ POST, "/api/v1/accounts/{address}/sieve/deactivate", api_sieve_deactivate, 0 },
	{ GET, "/api/v1/accounts/{address}/sieve/{name}", api_sieve_get, 0 },
	{ PUT, "/api/v1/accounts/{address}/sieve/{name}", api_sieve_put, 0 },
	{ DELETE, "/api/v1/accounts/{address}/sieve/{name}", api_sieve_delete, 0 },
	{ POST, "/api/v1/accounts/{address}/sieve/{name}/activate", api_sieve_activate, 0 },
	{ POST, "/api/v1/sieve/check", api_sieve_check, 0 },
	/* the webmail's reading side (api_mail*.c) */
	{ GET, "/api/v1/mail/folders", api_mail_folders, 0 },
	{ POST, "/api/v1/mail/folders", api_mail_folder_create, 0 },
	{ PATCH, "/api/v1/mail/folders/{folder}", api_mail_folder_rename, API_PATH_SLASH },
	{ DELETE, "/api/v1/mail/folders/{folder}", api_mail_folder_delete, API_PATH_SLASH },
	{ GET, "/api/v1/mail/folders/{folder}/messages", api_mail_messages, API_PATH_SLASH },
	{ PATCH, "/api/v1/mail/folders/{folder}/messages", api_mail_flags, API_PATH_SLASH },
	{ POST, "/api/v1/mail/folders/{folder}/move", api_mail_move, API_PATH_SLASH },
	{ POST, "/api/v1/mail/folders/{folder}/delete", api_mail_delete, API_PATH_SLASH },
	{ POST, "/api/v1/mail/folders/{folder}/empty", api_mail_empty, API_PATH_SLASH },
	{ POST, "/api/v1/mail/folders/{folder}/spam", api_mail_spam, API_PATH_SLASH },
	{ POST, "/api/v1/mail/folders/{folder}/not-spam", api_mail_not_spam, API_PATH_SLASH },
	{ GET, "/api/v1/mail/messages/{folder}/{uid}", api_mail_message, API_PATH_SLASH },
	{ PATCH, "/api/v1/mail/messages/{folder}/{uid}", api_mail_message_patch, API_PATH_SLASH },
	{ DELETE, "/api/v1/mail/messages/{folder}/{uid}", api_mail_message_delete, API_PATH_SLASH },
	{ GET, "/api/v1/mail/messages/{folder}/{uid}/raw", api_mail_raw, API_PATH_SLASH },
	{ GET, "/api/v1/mail/messages/{folder}/{uid}/parts/{part}", api_mail_part, API_PATH_SLASH },
	{ GET, "/api/v1/mail/events", api_mail_events, 0 },
	/* webmail, writing (api_mail_write.h) */
	{ POST, "/api/v1/mail/uploads", api_mail_upload_add, API_RAW_BODY | API_UPLOAD },
	{ DELETE, "/api/v1/mail/uploads/{id}", api_mail_upload_del, 0 },
	{ GET, "/api/v1/mail/compose", api_mail_compose, 0 },
	{ POST, "/api/v1/mail/drafts", api_mail_draft_add, 0 },
	{ GET, "/api/v1/mail/drafts/{uid}", api_mail_draft_get, 0 },
	{ PUT, "/api/v1/mail/drafts/{uid}", api_mail_draft_put, 0 },
	{ DELETE, "/api/v1/mail/drafts/{uid}", api_mail_draft_del, 0 },
	{ POST, "/api/v1/mail/send", api_mail_send, 0 },
	{ GET, "/api/v1/mail/contacts", api_mail_contacts_list, 0 },
	{ POST, "/api/v1/mail/contacts", api_mail_contact_add, 0 },
	{ GET, "/api/v1/mail/contacts/complete", api_mail_contacts_complete, 0 },
	{ GET, "/api/v1/mail/contacts/{id}", api_mail_contact_get, 0 },
	{ PUT, "/api/v1/mail/contacts/{id}", api_mail_contact_put, 0 },
	{ DELETE, "/api/v1/mail/contacts/{id}", api_mail_contact_del, 0 },
	{ GET, "/api/v1/mail/contacts.vcf", api_mail_contacts_export, 0 },
	{ POST, "/api/v1/mail/contacts.vcf", api_mail_contacts_import, API_RAW_BODY },
};

const size_t api_nroutes = sizeof(api_routes) / sizeof(api_routes[0]);
