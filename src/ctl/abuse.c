/* yubinctl: sending limits, suspensions and BATV (issue 5).
 * `account unsuspend`, the "sending" lines of `account show` and doctor,
 * and the checks of the settings send-limit-hour, send-limit-day,
 * abuse-detect, admin-address and batv. */
#include "ctl/ctl.h"
#include "directory/directory.h"
#include "directory/validate.h"
#include "lib/config.h"
#include "lib/json.h"
#include "lib/str.h"
#include "policy/sendlimit.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

int ctl_validate_send_limit(const char *value, const char **error_r)
{
	uint64_t v;

	return sendlimit_parse(value, &v, error_r);
}

int ctl_validate_on_off(const char *value, const char **error_r)
{
	if (strcmp(value, "on") != 0 && strcmp(value, "off") != 0) {
		*error_r = "must be on or off";
		return -1;
	}
	return 0;
}

int ctl_validate_admin_address(const char *value, const char **error_r)
{
	char local[DIR_LOCAL_MAX + 1], domain[DIR_DOMAIN_MAX + 1];

	return validate_address(value, local, sizeof(local), domain, sizeof(domain), error_r);
}

/* `domain set D batv on|off`: on makes the domain's signing key too. */
int ctl_domain_apply_batv(struct ctl *c, const char *domain, const char *value)
{
	char hex[160];
	const char *error;
	struct dir_domain d;
	int r;

	if (ctl_validate_on_off(value, &error) < 0)
		return ctl_fail("cannot set batv to '%s': %s", value, error);
	if (ctl_directory(c) == NULL)
		return 1;
	r = directory_domain_get(c->dir, domain, &d);
	if (r <= 0)
		return r < 0 ? ctl_fail("cannot read the domain %s", domain) : ctl_fail("no such domain: %s", domain);
	if (strcmp(value, "on") == 0 && directory_batv_key(c->dir, d.name, 0, true, hex, sizeof(hex)) <= 0)
		return ctl_fail("cannot create the BATV key of %s", d.name);
	explicit_bzero(hex, sizeof(hex));
	if (directory_setting_set(c->dir, "domain", d.name, "batv", value, &error) < 0)
		return ctl_fail("cannot store the setting batv: %s", error);
	ctl_event(c, "setting-changed", d.name, "batv = %s", value);
	printf("domain %s: batv = %s\n", d.name, value);
	if (strcmp(value, "on") == 0)
		printf("bounces to unsigned addresses of %s are now refused; outgoing envelope senders"
		       " are signed (prvs=) once outbound delivery is enabled\n", d.name);
	return 0;
}

int ctl_abuse_lift(struct ctl *c, const char *address, const char *by)
{
	const char *error;
	int r = directory_hold_lift(c->dir, address, by, &error);

	if (r < 0) {
		ctl_warn("could not lift the sending suspension of %s: %s", address, error);
		return -1;
	}
	if (r > 0) {
		ctl_event(c, "send-unsuspended", address, "sending allowed again (%s)", by);
		printf("the sending suspension of %s is lifted\n", address);
	}
	return r;
}

int cmd_account_unsuspend(struct ctl *c)
{
	struct dir_account a;
	int r;

	if (ctl_account_get(c, c->argv[0], &a) != 0)
		return 1;
	r = ctl_abuse_lift(c, a.address, "yubinctl account unsuspend");
	if (r < 0)
		return 1;
	if (r == 0)
		printf("%s is not suspended: it may send\n", a.address);
	return 0;
}

struct ctl_sent {
	int64_t now;
	uint64_t hour, day;
};

static void ctl_sent_cb(int64_t minute, uint64_t count, void *ctx)
{
	struct ctl_sent *s = ctx;

	s->day += count;
	if (minute * 60 > s->now - 3600)
		s->hour += count;
}

/* The limit in force: account setting, domain setting, then yubin.conf. */
static uint64_t ctl_limit(struct ctl *c, const struct dir_account *a, const char *key, uint64_t def)
{
	char value[64];
	const char *error;
	uint64_t v;

	if ((directory_setting_get(c->dir, "account", a->address, key, value, sizeof(value)) > 0 ||
	     directory_setting_get(c->dir, "domain", a->domain, key, value, sizeof(value)) > 0) &&
	    sendlimit_parse(value, &v, &error) == 0)
		return v;
	return def;
}

static void ctl_config_limits(struct ctl *c, uint64_t *hour_r, uint64_t *day_r)
{
	struct config cfg;
	char path[PATH_MAX], err[256];

	*hour_r = SENDLIMIT_DEFAULT_HOUR;
	*day_r = SENDLIMIT_DEFAULT_DAY;
	if (ctl_path(c, path, sizeof(path), "yubin.conf") == 0 && config_load(&cfg, path, err, sizeof(err)) == 0) {
		*hour_r = cfg.send_limit_hour;
		*day_r = cfg.send_limit_day;
	}
}

static void ctl_limit_text(uint64_t v, char *buf, size_t size)
{
	if (v == 0)
		snprintf(buf, size, "unlimited");
	else
		snprintf(buf, size, "%llu", (unsigned long long)v);
}

void ctl_abuse_show(struct ctl *c, const struct dir_account *a, struct json *j)
{
	struct ctl_sent sent = { time(NULL), 0, 0 };
	struct dir_hold hold;
	uint64_t hour, day;
	char since[40], lh[32], ld[32];
	int r = directory_hold_get(c->dir, a->address, &hold);
	bool suspended = r > 0 && hold.lifted == 0;

	ctl_config_limits(c, &hour, &day);
	hour = ctl_limit(c, a, "send-limit-hour", hour);
	day = ctl_limit(c, a, "send-limit-day", day);
	directory_send_counts_load(c->dir, a->address, sent.now / 60 - 1440, ctl_sent_cb, &sent);
	if (j != NULL) {
		json_kv_bool(j, "sending_suspended", suspended);
		if (suspended) {
			ctl_time_iso(hold.since, since, sizeof(since));
			json_kv_string(j, "suspended_since", since);
			json_kv_string(j, "suspended_reason", hold.reason);
			json_kv_string(j, "suspended_detail", hold.detail);
		}
		json_kv_uint(j, "send_limit_hour", hour);
		json_kv_uint(j, "send_limit_day", day);
		json_kv_uint(j, "sent_last_hour", sent.hour);
		json_kv_uint(j, "sent_last_day", sent.day);
		return;
	}
	ctl_limit_text(hour, lh, sizeof(lh));
	ctl_limit_text(day, ld, sizeof(ld));
	if (suspended) {
		ctl_time_text(hold.since, since, sizeof(since));
		printf("sending   SUSPENDED since %s (%s: %s); lift with yubinctl account unsuspend %s"
		       " or a password change\n", since, hold.reason, hold.detail, a->address);
	} else {
		printf("sending   allowed\n");
	}
	printf("sent      %llu recipients in the last hour (limit %s), %llu in the last 24 hours"
	       " (limit %s)\n", (unsigned long long)sent.hour, lh, (unsigned long long)sent.day, ld);
}

int ctl_abuse_suspended(struct ctl *c, const char *address, char *text, size_t size)
{
	struct dir_hold hold;
	char since[40];

	if (directory_hold_get(c->dir, address, &hold) <= 0 || hold.lifted != 0)
		return 0;
	ctl_time_text(hold.since, since, sizeof(since));
	snprintf(text, size, "sending is suspended since %s because of suspicious activity (%s: %s);"
		 " submission gets 550 5.7.1 while reading mail works; lift it with a password change"
		 " (yubinctl account passwd %s) or yubinctl account unsuspend %s", since, hold.reason,
		 hold.detail, address, address);
	return 1;
}
