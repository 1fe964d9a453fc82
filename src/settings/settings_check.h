#ifndef YUBIN_SETTINGS_SETTINGS_CHECK_H
#define YUBIN_SETTINGS_SETTINGS_CHECK_H

#include "settings/settings.h"

/* Validators the table names for settings whose rule goes beyond their
 * type (setting_check_fn). */
setting_check_fn settings_check_resolver;
/* virus.clamd: "", an absolute socket path or a loopback ADDRESS:PORT. */
setting_check_fn settings_check_clamd;
setting_check_fn settings_check_cidr_list;
/* acme.directory: an https:// URL; acme.contact: "" or a mail address;
 * acme.ca_file: "" or an absolute path; acme.addresses: "" or IPs. */
setting_check_fn settings_check_acme_url;
setting_check_fn settings_check_acme_contact;
setting_check_fn settings_check_path;
/* directory.url: "", an absolute SQLite file or a postgresql:// URI. */
setting_check_fn settings_check_directory_url;
setting_check_fn settings_check_ip_list_or_empty;
/* events.retention_days, audit.retention_days: 0 or at least 7. */
setting_check_fn settings_check_retention_days;
setting_check_fn settings_check_hostname_or_empty;
setting_check_fn settings_check_forward;
setting_check_fn settings_check_autoreply_subject;
setting_check_fn settings_check_autoreply_body;
setting_check_fn settings_check_autoreply_date;
setting_check_fn settings_check_send_as;
setting_dir_check_fn settings_check_send_as_domains;

#endif
