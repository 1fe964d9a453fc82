#ifndef YUBIN_HTTP_API_SERVER_H
#define YUBIN_HTTP_API_SERVER_H

#include "http/api.h"

/* The server's own administration in the JSON API (api_server.c): the
 * settings of yubin.conf, the GeoIP override table and lookups, and an
 * account's index rebuild; on the operations of ops/ops_server.h. */

api_handler api_server_settings_get, api_server_setting_put;
api_handler api_geoip_overrides_list, api_geoip_override_add, api_geoip_override_del, api_geoip_lookup;
api_handler api_account_index_rebuild;

#endif
