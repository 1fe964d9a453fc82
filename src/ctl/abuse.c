/* yubinctl: sending limits, suspensions and BATV (issue 5).
 * `account unsuspend`, the "sending" lines of `account show` and doctor,
 * and switching BATV on (which makes the domain's key). */
#include "ctl/ctl.h"
#include "directory/directory.h"
#include "directory/validate.h"
#include "lib/config.h"
#include "lib/json.h"
#include "lib/str.h"
#include "policy/sendlimit.h"
#include "settings/settings.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

int cmd_account_unsuspend(struct ctl *c)
{
	struct ops_actor actor;
	struct ops_error err;
	struct dir_account a;
	struct ops *o;
	bool lifted;

	if (ctl_account_get(c, c->argv[0], &a) != 0 || (o = ctl_ops(c, &actor)) == NULL)
		return 1;
	if (ops_account_unsuspend(o, &actor, a.address, &lifted, &err) < 0)
		return ctl_ops_fail(&err);
	if (lifted)
		printf("the sending suspension of %s is lifted\n", a.address);
	else
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

/* The limits in force, as the daemon computes them: account setting,
 * domain setting, then yubin.conf (its defaults when it is unreadable). */
static void ctl_limits(struct ctl *c, const struct dir_account *a, uint64_t *hour_r, uint64_t *day_r)
{
	struct config cfg;
	char path[PATH_MAX], err[256];

	if (ctl_path(c, path, sizeof(path), "yubin.conf") < 0 ||
	    settings_conf_load(&cfg, path, err, sizeof(err)) < 0)
		settings_conf_defaults(&cfg);
	settings_send_limits(c->dir, &cfg, a->address, hour_r, day_r);
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

	ctl_limits(c, a, &hour, &day);
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
