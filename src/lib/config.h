#ifndef YUBIN_LIB_CONFIG_H
#define YUBIN_LIB_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Server settings from DATA/yubin.conf, as typed values. The table that
 * names each key, its type, range, default and help, and fills these
 * fields is in src/settings/settings_table.c. */

struct config {
	char hostname[256];
	char listen_address[256];	/* comma-separated addresses */
	unsigned port_smtp, port_submission, port_smtps;
	unsigned port_pop3, port_pop3s;
	unsigned port_imap, port_imaps;
	unsigned port_sieve;
	unsigned port_http, port_https;
	uint64_t http_max_header_size, http_max_body_size;
	unsigned http_timeout, http_request_timeout;
	unsigned http_max_connections, http_max_connections_per_ip;
	unsigned http_session_idle, http_session_lifetime;
	uint64_t smtp_max_message_size;
	unsigned smtp_max_recipients;
	unsigned smtp_max_connections;
	unsigned smtp_max_connections_per_ip;
	unsigned smtp_max_line_length;
	unsigned smtp_max_errors;
	unsigned smtp_max_commands;
	unsigned smtp_timeout;
	unsigned smtp_data_timeout;
	unsigned smtp_command_total_timeout;
	unsigned smtp_data_total_timeout;
	unsigned pop3_timeout;
	unsigned pop3_command_total_timeout;
	unsigned pop3_max_connections_per_ip;
	unsigned sieve_timeout;
	unsigned sieve_max_connections_per_ip;
	uint64_t sieve_max_script_size;
	unsigned sieve_max_scripts;
	unsigned imap_timeout;
	unsigned imap_idle_timeout;
	unsigned imap_command_total_timeout;
	uint64_t imap_append_limit;
	unsigned imap_max_connections_per_ip;
	unsigned imap_max_line_length;
	char imap_search_index[8];	/* "on": SEARCH uses store/fts.c */
	unsigned server_loops;
	unsigned server_workers;
	unsigned shutdown_grace;
	unsigned server_journal_ms;	/* delivery journal checkpoint interval; 0: off */
	char log_level[16];
	char server_user[64];
	char directory_url[1024];	/* "" = DATA/yubin.db; a path or postgresql:// URI */
	/* sending limits and compromised-account detection (issue 5) */
	unsigned send_limit_hour, send_limit_day;	/* 0: unlimited */
	unsigned abuse_burst_min, abuse_burst_factor;
	unsigned abuse_new_rcpt_max, abuse_new_rcpt_window;
	unsigned abuse_bounce_min, abuse_bounce_percent;
	unsigned abuse_login_countries, abuse_login_window;
	/* outbound queue and delivery */
	char dns_resolver[256];		/* "" = system resolver; "127.0.0.1:5353" */
	unsigned dns_message_budget;	/* ms of DNS per inbound message */
	unsigned queue_retry_min, queue_retry_max, queue_lifetime, queue_delay_warning;
	unsigned queue_max_parallel;
	unsigned queue_dest_concurrency;
	char smtp_relayhost[256];	/* host[:port] or [host]:port; "" = MX */
	char smtp_relayhost_user[256];
	char smtp_relayhost_password[256];
	unsigned smtp_remote_port;	/* port of remote MX hosts (25) */
	/* foreign-access restriction and brute-force defence (issue 5) */
	char geoip_missing[8];		/* "allow" or "deny" */
	char foreign_auth_allow[1024];	/* server-wide CIDR exemptions */
	char foreign_auth_rdns[1024];	/* exempt reverse-DNS suffixes */
	unsigned foreign_auth_rdns_timeout;	/* milliseconds */
	unsigned bf_window, bf_ip_delay_after, bf_ip_block_after, bf_block_time, bf_block_max;
	unsigned bf_account_delay_after, bf_delay_max;
	/* the virus check (clamd) */
	char virus_clamd[128];		/* a socket path or loopback ADDRESS:PORT; "" = off */
	unsigned virus_timeout;		/* seconds for one scan */
	char virus_unavailable[8];	/* "accept" or "defer" */
	uint64_t virus_max_size;	/* bytes; larger messages are not scanned; 0 = no limit */
	/* certificates through ACME (issue 15) */
	char acme[8];			/* acme.enabled: "on" or "off" */
	char acme_directory[512];	/* the CA's directory URL */
	char acme_contact[320];		/* mail address for the account, or "" */
	char acme_ca_file[512];		/* CAs trusted for the ACME server; "" = system */
	char acme_addresses[512];	/* this server's public addresses; "" = derived */
	char acme_challenge[16];	/* "http-01" or "tls-alpn-01" */
	/* outbound MTA-STS and TLS reports (issue 15 §3) */
	char mta_sts_outbound[8];	/* "on" or "off" */
	char mta_sts_ca_file[512];	/* CAs for policy hosts and MX certificates; "" = system */
	char tlsrpt[8];			/* tlsrpt.enabled: "on" or "off" */
	char tlsrpt_from[320];		/* the reports' sender; "" = postmaster@hostname */
	/* scale-out (issue 16 §2/§3) */
	char role[8];			/* "mail" or "proxy" */
	char node_name[64];		/* this machine's node name; "" = single node */
	unsigned port_lmtp;		/* LMTP from trusted proxies; 0 = off */
	char proxy_trusted[1024];	/* CIDRs of the proxies a node trusts */
	char proxy_user[64];		/* the proxies' SASL authentication identity */
	char proxy_secret[256];		/* ... and its password */
	unsigned proxy_connect_timeout;	/* seconds for a proxy to reach a node */
	/* directory upkeep and the login cache (issue 16) */
	unsigned events_retention_days, audit_retention_days;	/* 0: kept for ever */
	unsigned auth_cache_entries;	/* verified logins remembered (restart) */
	unsigned proxy_sieve_port;	/* the nodes' ManageSieve port */
	char proxy_node_tls[8];		/* "off" or "on": TLS to the nodes, verified */
	char proxy_node_ca_file[512];	/* CAs of the nodes' certificates; "" = system */
	char proxy_node_tls_name[256];	/* the name in the nodes' certificates; "" = their address */
};

/* The file format of yubin.conf, which every setting's key and type
 * (src/settings/) sits on: `key = value` lines, `#` comments. */
typedef int config_line_fn(void *ctx, const char *key, const char *value, const char **error_r);
/* Calls fn for each setting line of text, in order; stops at the first
 * error (its own or fn's). On error *line_r tells the line number. Pure. */
int config_parse_lines(const char *text, size_t len, config_line_fn *fn, void *ctx,
		       unsigned *line_r, const char **error_r);
/* Returns a newly allocated copy of text where key's line says value (the
 * line replaced in place, or appended), comments and order kept. */
char *config_text_set(const char *text, const char *key, const char *value);
/* 0 when s is a usable dns.resolver value: "" (the system resolver) or
 * ADDRESS[:PORT], [IPV6]:PORT. */
int config_resolver_check(const char *s, const char **error_r);

#endif
