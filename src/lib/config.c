#include "lib/config.h"
#include "lib/str.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define F(field) offsetof(struct config, field), sizeof(((struct config *)0)->field)

const struct config_key config_keys[] = {
	{ "hostname", CONFIG_STRING, F(hostname), 0, 0, "localhost",
	  "host name in greetings, Received headers and the certificate" },
	{ "listen.address", CONFIG_STRING, F(listen_address), 0, 0, "0.0.0.0",
	  "comma-separated addresses the listeners bind to" },
	{ "smtp.port", CONFIG_UINT, F(port_smtp), 0, 65535, "25", "SMTP (MX), STARTTLS; 0 disables" },
	{ "submission.port", CONFIG_UINT, F(port_submission), 0, 65535, "587", "submission, STARTTLS + AUTH" },
	{ "smtps.port", CONFIG_UINT, F(port_smtps), 0, 65535, "465", "submission over implicit TLS" },
	{ "pop3.port", CONFIG_UINT, F(port_pop3), 0, 65535, "110", "POP3, STLS" },
	{ "pop3s.port", CONFIG_UINT, F(port_pop3s), 0, 65535, "995", "POP3 over implicit TLS" },
	{ "imap.port", CONFIG_UINT, F(port_imap), 0, 65535, "143", "IMAP, STARTTLS" },
	{ "imaps.port", CONFIG_UINT, F(port_imaps), 0, 65535, "993", "IMAP over implicit TLS" },
	{ "http.port", CONFIG_UINT, F(port_http), 0, 65535, "80", "webmail and panel" },
	{ "https.port", CONFIG_UINT, F(port_https), 0, 65535, "443", "webmail and panel over TLS" },
	{ "smtp.max_message_size", CONFIG_SIZE, F(smtp_max_message_size), 1024, 1ULL << 32, "100M",
	  "largest message accepted, bytes (K/M/G suffixes)" },
	{ "smtp.max_recipients", CONFIG_UINT, F(smtp_max_recipients), 1, 100000, "100",
	  "recipients per message" },
	{ "smtp.max_connections", CONFIG_UINT, F(smtp_max_connections), 1, 1000000, "2000",
	  "SMTP connections in all" },
	{ "smtp.max_connections_per_ip", CONFIG_UINT, F(smtp_max_connections_per_ip), 1, 100000, "30",
	  "SMTP connections from one client address" },
	{ "smtp.max_line_length", CONFIG_UINT, F(smtp_max_line_length), 512, 65536, "4096",
	  "longest command line, bytes" },
	{ "smtp.max_errors", CONFIG_UINT, F(smtp_max_errors), 1, 1000, "20",
	  "bad commands before the connection is closed" },
	{ "smtp.max_commands", CONFIG_UINT, F(smtp_max_commands), 10, 10000000, "10000",
	  "commands in one connection" },
	{ "smtp.timeout", CONFIG_UINT, F(smtp_timeout), 1, 86400, "300",
	  "seconds to wait for a command (RFC 5321 4.5.3.2: 5 minutes)" },
	{ "smtp.data_timeout", CONFIG_UINT, F(smtp_data_timeout), 1, 86400, "600",
	  "seconds to wait for more message data" },
	{ "smtp.command_total_timeout", CONFIG_UINT, F(smtp_command_total_timeout), 1, 86400, "300",
	  "seconds a command line may take from its first byte to its end (however slowly it trickles)" },
	{ "smtp.data_total_timeout", CONFIG_UINT, F(smtp_data_total_timeout), 1, 86400, "1800",
	  "seconds a message's DATA (to the final dot) or BDAT chunks (to LAST) may take in all" },
	{ "pop3.timeout", CONFIG_UINT, F(pop3_timeout), 1, 86400, "600",
	  "seconds of inactivity before a POP3 session ends (RFC 1939: 10 minutes)" },
	{ "pop3.command_total_timeout", CONFIG_UINT, F(pop3_command_total_timeout), 1, 86400, "300",
	  "seconds a POP3 command line may take from its first byte to its end" },
	{ "pop3.max_connections_per_ip", CONFIG_UINT, F(pop3_max_connections_per_ip), 1, 100000, "30",
	  "POP3 connections from one client address" },
	{ "imap.timeout", CONFIG_UINT, F(imap_timeout), 60, 86400, "1800",
	  "seconds of inactivity before an IMAP session ends (RFC 9051: at least 30 minutes)" },
	{ "imap.idle_timeout", CONFIG_UINT, F(imap_idle_timeout), 60, 86400, "7200",
	  "seconds an IMAP client may stay in one IDLE (clients renew IDLE every 29 minutes)" },
	{ "imap.command_total_timeout", CONFIG_UINT, F(imap_command_total_timeout), 1, 86400, "1800",
	  "seconds an IMAP command may take from its first byte to its end, literals included" },
	{ "imap.append_limit", CONFIG_SIZE, F(imap_append_limit), 1024, 1ULL << 32, "100M",
	  "largest message APPEND accepts, bytes (advertised as APPENDLIMIT; FETCH serves any size)" },
	{ "imap.max_connections_per_ip", CONFIG_UINT, F(imap_max_connections_per_ip), 1, 100000, "50",
	  "IMAP connections from one client address" },
	{ "imap.max_line_length", CONFIG_UINT, F(imap_max_line_length), 1024, 1048576, "65536",
	  "longest IMAP command line outside literals, bytes" },
	{ "server.loops", CONFIG_UINT, F(server_loops), 0, 256, "0",
	  "event loops (threads); 0 means one per core" },
	{ "server.workers", CONFIG_UINT, F(server_workers), 1, 256, "4",
	  "worker threads for blocking work (hashing, fsync, database writes)" },
	{ "server.shutdown_grace", CONFIG_UINT, F(shutdown_grace), 0, 3600, "30",
	  "seconds SIGTERM lets open transactions finish" },
	{ "server.user", CONFIG_STRING, F(server_user), 0, 0, "",
	  "user to run as after binding the ports when started as root (DATA must belong to it)" },
	{ "log.level", CONFIG_STRING, F(log_level), 0, 0, "info", "debug, info, warn or error" },
	{ "send_limit.hour", CONFIG_UINT, F(send_limit_hour), 0, 10000000, "1500",
	  "recipients an account may send to in any 60 minutes (domain/account setting send-limit-hour"
	  " overrides; 0 = unlimited)" },
	{ "send_limit.day", CONFIG_UINT, F(send_limit_day), 0, 10000000, "15000",
	  "recipients an account may send to in any 24 hours (send-limit-day overrides; 0 = unlimited)" },
	{ "abuse.burst_min", CONFIG_UINT, F(abuse_burst_min), 0, 10000000, "500",
	  "suspend sending after this many recipients in 60 minutes ... (0 = off)" },
	{ "abuse.burst_factor", CONFIG_UINT, F(abuse_burst_factor), 0, 1000, "10",
	  "... when that is also this many times the account's busiest hour of the previous 7 days" },
	{ "abuse.new_rcpt_max", CONFIG_UINT, F(abuse_new_rcpt_max), 0, 10000000, "200",
	  "suspend sending after this many distinct new recipients ... (0 = off)" },
	{ "abuse.new_rcpt_window", CONFIG_UINT, F(abuse_new_rcpt_window), 60, 86400, "3600",
	  "... within this many seconds" },
	{ "abuse.bounce_min", CONFIG_UINT, F(abuse_bounce_min), 0, 10000000, "50",
	  "suspend sending after this many bounces in 24 hours ... (0 = off)" },
	{ "abuse.bounce_percent", CONFIG_UINT, F(abuse_bounce_percent), 1, 100, "30",
	  "... when they are also this percentage of the recipients sent in 24 hours" },
	{ "abuse.login_countries", CONFIG_UINT, F(abuse_login_countries), 0, 250, "3",
	  "suspend sending after successful logins from this many countries ... (0 = off)" },
	{ "abuse.login_window", CONFIG_UINT, F(abuse_login_window), 60, 604800, "3600",
	  "... within this many seconds" },
	{ "dns.resolver", CONFIG_STRING, F(dns_resolver), 0, 0, "",
	  "DNS server for MX/A/AAAA lookups, ADDRESS[:PORT] (empty: the system resolver)" },
	{ "dns.message_budget", CONFIG_UINT, F(dns_message_budget), 100, 60000, "5000",
	  "milliseconds of DNS lookups one inbound message's SPF/DKIM/DMARC checks may wait for in all"
	  " (then missing answers count as temperror)" },
	{ "queue.retry_min", CONFIG_UINT, F(queue_retry_min), 1, 86400, "300",
	  "seconds before the first retry of a deferred message (doubles each time)" },
	{ "queue.retry_max", CONFIG_UINT, F(queue_retry_max), 1, 604800, "3600",
	  "longest wait between two delivery attempts, seconds" },
	{ "queue.lifetime", CONFIG_UINT, F(queue_lifetime), 1, 8640000, "432000",
	  "seconds a message may stay in the queue before it bounces" },
	{ "queue.delay_warning", CONFIG_UINT, F(queue_delay_warning), 0, 8640000, "14400",
	  "seconds before the sender gets a delay notice (0: never)" },
	{ "queue.max_parallel", CONFIG_UINT, F(queue_max_parallel), 1, 1000, "10",
	  "connections delivering at the same time (outbound threads)" },
	{ "queue.dest_concurrency", CONFIG_UINT, F(queue_dest_concurrency), 1, 1000, "5",
	  "connections to one destination (domain or relay host) at the same time" },
	{ "smtp.relayhost", CONFIG_STRING, F(smtp_relayhost), 0, 0, "",
	  "smart host for all outbound mail: HOST[:PORT] (MX lookup) or [HOST]:PORT (no MX lookup); empty: direct MX delivery" },
	{ "smtp.relayhost_user", CONFIG_STRING, F(smtp_relayhost_user), 0, 0, "",
	  "SMTP AUTH user name at the relay host (sent only over TLS)" },
	{ "smtp.relayhost_password", CONFIG_STRING, F(smtp_relayhost_password), 0, 0, "",
	  "SMTP AUTH password at the relay host" },
	{ "smtp.remote_port", CONFIG_UINT, F(smtp_remote_port), 1, 65535, "25",
	  "TCP port of remote MX hosts (change only for tests)" },
	{ "geoip.missing", CONFIG_STRING, F(geoip_missing), 0, 0, "allow",
	  "foreign-access restriction when the GeoIP database is missing or unreadable: allow or deny" },
	{ "foreign_auth.allow", CONFIG_STRING, F(foreign_auth_allow), 0, 0, "",
	  "server-wide CIDRs exempt from the foreign-access restriction (comma-separated)" },
	{ "foreign_auth.rdns_allow", CONFIG_STRING, F(foreign_auth_rdns), 0, 0,
	  "google.com,outlook.com,hotmail.com,ap-northeast-1.compute.amazonaws.com,"
	  "ap-northeast-3.compute.amazonaws.com",
	  "reverse-DNS suffixes (forward-confirmed) exempt from the foreign-access restriction" },
	{ "foreign_auth.rdns_timeout", CONFIG_UINT, F(foreign_auth_rdns_timeout), 100, 10000, "1500",
	  "milliseconds the reverse-DNS exemption check may take in all" },
	{ "bruteforce.window", CONFIG_UINT, F(bf_window), 10, 86400, "900",
	  "seconds over which failed logins are counted (per address and per account)" },
	{ "bruteforce.ip_delay_after", CONFIG_UINT, F(bf_ip_delay_after), 0, 100000, "5",
	  "failed logins from one address (IPv6: /64) before its failure replies are delayed" },
	{ "bruteforce.ip_block_after", CONFIG_UINT, F(bf_ip_block_after), 0, 100000, "15",
	  "failed logins from one address that block its logins for a while (0 = never)" },
	{ "bruteforce.block_time", CONFIG_UINT, F(bf_block_time), 1, 604800, "900",
	  "seconds of a first block; a repeated block within a day doubles" },
	{ "bruteforce.block_max", CONFIG_UINT, F(bf_block_max), 1, 2592000, "86400",
	  "longest block, seconds" },
	{ "bruteforce.account_delay_after", CONFIG_UINT, F(bf_account_delay_after), 0, 100000, "10",
	  "failed logins for one account before logins to it from new addresses are slowed (never blocked; 0 = off)" },
	{ "bruteforce.delay_max", CONFIG_UINT, F(bf_delay_max), 0, 60, "8",
	  "longest reply delay, seconds (delays start at 1 and double)" },
	{ NULL, 0, 0, 0, 0, 0, NULL, NULL },
};

const struct config_key *config_key_find(const char *name)
{
	for (const struct config_key *k = config_keys; k->name != NULL; k++) {
		if (strcmp(k->name, name) == 0)
			return k;
	}
	return NULL;
}

void config_defaults(struct config *cfg)
{
	const char *error;

	memset(cfg, 0, sizeof(*cfg));
	for (const struct config_key *k = config_keys; k->name != NULL; k++) {
		if (config_set(cfg, k->name, k->def, &error) < 0)
			abort();	/* the table itself is wrong */
	}
}

int config_set(struct config *cfg, const char *key, const char *value, const char **error_r)
{
	const struct config_key *k = config_key_find(key);
	char *field;
	uint64_t v;

	if (k == NULL) {
		*error_r = "unknown setting";
		return -1;
	}
	field = (char *)cfg + k->offset;
	switch (k->type) {
	case CONFIG_STRING:
		/* Check everything first: a refused value leaves the old one. */
		if (strchr(value, '\n') != NULL || strlen(value) >= k->size) {
			*error_r = "value too long";
			return -1;
		}
		if (strcmp(key, "dns.resolver") == 0 && config_resolver_check(value, error_r) < 0)
			return -1;
		if (strcmp(key, "log.level") == 0 && strcmp(value, "debug") != 0 &&
		    strcmp(value, "info") != 0 && strcmp(value, "warn") != 0 &&
		    strcmp(value, "error") != 0) {
			*error_r = "must be debug, info, warn or error";
			return -1;
		}
		if (strcmp(key, "geoip.missing") == 0 && strcmp(value, "allow") != 0 &&
		    strcmp(value, "deny") != 0) {
			*error_r = "must be allow or deny";
			return -1;
		}
		return str_copy(field, k->size, value);
	case CONFIG_UINT:
	case CONFIG_SIZE:
		if ((k->type == CONFIG_UINT ? str_parse_uint(value, UINT32_MAX, &v)
					    : str_parse_size(value, &v)) < 0) {
			*error_r = k->type == CONFIG_UINT ? "not a number" : "not a size (digits, optional K/M/G)";
			return -1;
		}
		if (v < k->min || v > k->max) {
			*error_r = "out of range";
			return -1;
		}
		if (k->size == sizeof(unsigned))
			*(unsigned *)field = (unsigned)v;
		else
			*(uint64_t *)field = v;
		return 0;
	}
	*error_r = "bad key type";
	return -1;
}

int config_get(const struct config *cfg, const char *key, char *buf, size_t bufsize)
{
	const struct config_key *k = config_key_find(key);
	const char *field;

	if (k == NULL)
		return -1;
	field = (const char *)cfg + k->offset;
	if (k->type == CONFIG_STRING)
		return str_copy(buf, bufsize, field);
	if (k->size == sizeof(unsigned))
		snprintf(buf, bufsize, "%u", *(const unsigned *)field);
	else
		snprintf(buf, bufsize, "%" PRIu64, *(const uint64_t *)field);
	return 0;
}

/* Splits one line into key and value; returns 0 for a blank or comment
 * line, 1 for a setting, -1 for garbage. Modifies line. */
static int config_line_split(char *line, char **key_r, char **value_r)
{
	char *eq, *key;

	key = str_trim(line);
	if (*key == '\0' || *key == '#')
		return 0;
	eq = strchr(key, '=');
	if (eq == NULL)
		return -1;
	*eq = '\0';
	*key_r = str_trim(key);
	*value_r = str_trim(eq + 1);
	return **key_r == '\0' ? -1 : 1;
}

int config_parse(struct config *cfg, const char *text, size_t len,
		 unsigned *line_r, const char **error_r)
{
	char line[1024];
	size_t pos = 0;
	unsigned lineno = 0;

	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t linelen = (nl != NULL ? (size_t)(nl - text) : len) - pos;
		char *key, *value;
		int r;

		lineno++;
		*line_r = lineno;
		if (linelen >= sizeof(line)) {
			*error_r = "line too long";
			return -1;
		}
		memcpy(line, text + pos, linelen);
		line[linelen] = '\0';
		pos += linelen + 1;
		if (memchr(line, '\0', linelen) != NULL) {
			*error_r = "NUL byte";
			return -1;
		}
		r = config_line_split(line, &key, &value);
		if (r < 0) {
			*error_r = "expected `key = value`";
			return -1;
		}
		if (r > 0 && config_set(cfg, key, value, error_r) < 0)
			return -1;
	}
	return 0;
}

char *config_text_set(const char *text, const char *key, const char *value)
{
	size_t len = strlen(text), cap = len + strlen(key) + strlen(value) + 8;
	char *out = malloc(cap), line[1024];
	size_t pos = 0, o = 0;
	int replaced = 0;

	if (out == NULL)
		return NULL;
	while (pos < len) {
		const char *nl = strchr(text + pos, '\n');
		size_t linelen = (nl != NULL ? (size_t)(nl - text) : len) - pos;
		char *k, *v;

		if (linelen < sizeof(line)) {
			memcpy(line, text + pos, linelen);
			line[linelen] = '\0';
			if (config_line_split(line, &k, &v) > 0 && strcmp(k, key) == 0) {
				/* Later lines for the key would override this one
				 * when parsed: drop them. */
				if (!replaced)
					o += (size_t)sprintf(out + o, "%s = %s\n", key, value);
				replaced = 1;
				pos += linelen + 1;
				continue;
			}
		}
		memcpy(out + o, text + pos, linelen);
		o += linelen;
		out[o++] = '\n';
		pos += linelen + 1;
	}
	if (!replaced)
		o += (size_t)sprintf(out + o, "%s = %s\n", key, value);
	out[o] = '\0';
	return out;
}

int config_load(struct config *cfg, const char *path, char *err, size_t errsize)
{
	FILE *f = fopen(path, "r");
	char *text;
	long size;
	unsigned line = 0;
	const char *error;
	int r;

	config_defaults(cfg);
	if (f == NULL) {
		snprintf(err, errsize, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fseek(f, 0, SEEK_END) < 0 || (size = ftell(f)) < 0 || size > 1 << 20 ||
	    fseek(f, 0, SEEK_SET) < 0) {
		snprintf(err, errsize, "%s: unreadable or too large", path);
		fclose(f);
		return -1;
	}
	text = malloc((size_t)size + 1);
	if (text == NULL || fread(text, 1, (size_t)size, f) != (size_t)size) {
		snprintf(err, errsize, "%s: read failed", path);
		free(text);
		fclose(f);
		return -1;
	}
	fclose(f);
	r = config_parse(cfg, text, (size_t)size, &line, &error);
	free(text);
	if (r < 0)
		snprintf(err, errsize, "%s line %u: %s", path, line, error);
	return r;
}

/* dns.resolver: "" or an IP address with an optional port. */
int config_resolver_check(const char *s, const char **error_r)
{
	char host[256];
	const char *colon;
	struct in_addr in4;
	struct in6_addr in6;

	if (s[0] == '\0')
		return 0;
	if (s[0] == '[') {
		const char *end = strchr(s, ']');
		if (end == NULL || str_copyn(host, sizeof(host), s + 1, (size_t)(end - s - 1)) < 0 ||
		    inet_pton(AF_INET6, host, &in6) != 1)
			goto bad;
		colon = end[1] == ':' ? end + 1 : NULL;
		if (end[1] != '\0' && colon == NULL)
			goto bad;
	} else {
		colon = strchr(s, ':');
		if (colon != NULL && strchr(colon + 1, ':') != NULL) {
			/* a bare IPv6 address */
			if (inet_pton(AF_INET6, s, &in6) == 1)
				return 0;
			goto bad;
		}
		if (str_copyn(host, sizeof(host), s, colon != NULL ? (size_t)(colon - s) : strlen(s)) < 0 ||
		    inet_pton(AF_INET, host, &in4) != 1)
			goto bad;
	}
	if (colon != NULL) {
		uint64_t port;
		if (str_parse_uint(colon + 1, 65535, &port) < 0 || port == 0)
			goto bad;
	}
	return 0;
bad:
	*error_r = "dns.resolver must be an IP address with an optional port, e.g. 127.0.0.1:5353 or [::1]:53";
	return -1;
}
