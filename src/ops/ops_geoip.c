/* The GeoIP override table (CIDR -> country) and what the foreign-access
 * restriction sees for an address: for yubinctl geoip and the JSON API.
 * Server actors only. */
#include "ops/ops_server.h"
#include "lib/str.h"
#include "policy/foreign.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

static int ops_geoip_may(const struct ops_actor *actor, struct ops_error *err)
{
	if (!ops_may_server(actor))
		return ops_fail(err, "forbidden", NULL, "only server administrators may use the GeoIP"
				" settings", "GeoIP の設定はサーバー管理者だけが扱えます");
	return 0;
}

/* cidr in canonical form into cidr_r. */
static int ops_geoip_cidr(const char *cidr, char *cidr_r, struct ops_error *err)
{
	struct net_cidr nc;
	const char *error;

	if (strlen(cidr) >= OPS_CIDR_MAX || net_cidr_parse(cidr, &nc, &error) < 0)
		return ops_fail(err, "invalid_cidr", "cidr", "'%.80s' is not a CIDR: %s",
				"'%.80s' は CIDR ではありません: %s", cidr,
				strlen(cidr) >= OPS_CIDR_MAX ? "too long" : error);
	net_cidr_format(&nc, cidr_r, OPS_CIDR_MAX);
	return 0;
}

int ops_geoip_override_list(struct ops *o, const struct ops_actor *actor, dir_override_cb *cb, void *ctx,
			    struct ops_error *err)
{
	if (ops_geoip_may(actor, err) < 0)
		return -1;
	if (directory_geoip_override_list(o->dir, cb, ctx) < 0)
		return ops_fail(err, "internal", NULL, "cannot read the override table",
				"上書き表を読めません");
	return 0;
}

int ops_geoip_override_add(struct ops *o, const struct ops_actor *actor, const char *cidr, const char *cc,
			   char *cidr_r, char cc_r[3], struct ops_error *err)
{
	const char *error;

	if (ops_geoip_may(actor, err) < 0 || ops_geoip_cidr(cidr, cidr_r, err) < 0)
		return -1;
	if (strlen(cc) != 2 || !isalpha((unsigned char)cc[0]) || !isalpha((unsigned char)cc[1]))
		return ops_fail(err, "invalid_country", "country", "'%.80s' is not a country: two letters"
				" (ISO 3166-1), e.g. US", "'%.80s' は国ではありません: 2 文字 (ISO 3166-1)、例 JP",
				cc);
	cc_r[0] = (char)toupper((unsigned char)cc[0]);
	cc_r[1] = (char)toupper((unsigned char)cc[1]);
	cc_r[2] = '\0';
	if (directory_geoip_override_add(o->dir, cidr_r, cc_r, &error) < 0)
		return ops_fail(err, "internal", NULL, "cannot store the override: %s",
				"上書きを保存できません: %s", error);
	ops_event(o, actor, "geoip-override", "", "%s = %s", cidr_r, cc_r);
	ops_audit(o, actor, "geoip.override.add", cidr_r, "%s = %s", cidr_r, cc_r);
	return 0;
}

int ops_geoip_override_del(struct ops *o, const struct ops_actor *actor, const char *cidr, char *cidr_r,
			   struct ops_error *err)
{
	const char *error;
	int r;

	if (ops_geoip_may(actor, err) < 0 || ops_geoip_cidr(cidr, cidr_r, err) < 0)
		return -1;
	r = directory_geoip_override_del(o->dir, cidr_r, &error);
	if (r < 0)
		return ops_fail(err, "internal", NULL, "cannot delete the override: %s",
				"上書きを削除できません: %s", error);
	if (r == 0)
		return ops_fail(err, "not_found", "cidr", "there is no override for %s (yubinctl geoip"
				" override list)", "%s の上書きはありません", cidr_r);
	ops_event(o, actor, "geoip-override", "", "%s deleted", cidr_r);
	ops_audit(o, actor, "geoip.override.del", cidr_r, "%s deleted", cidr_r);
	return 0;
}

const char *ops_geoip_source_name(enum ops_geoip_source s)
{
	static const char *const names[] = {
		[OPS_GEOIP_OVERRIDE] = "override", [OPS_GEOIP_PRIVATE] = "private",
		[OPS_GEOIP_DATABASE] = "database", [OPS_GEOIP_UNKNOWN] = "unknown",
		[OPS_GEOIP_NO_DATABASE] = "no_database",
	};

	return (size_t)s < sizeof(names) / sizeof(names[0]) ? names[s] : "unknown";
}

struct ops_override_find {
	struct net_addr addr;
	unsigned prefix;
	char cidr[OPS_CIDR_MAX], cc[3];
};

/* The longest prefix that holds the address, as the login check does. */
static void ops_override_find_cb(const char *cidr, const char *country, int64_t created, void *ctx)
{
	struct ops_override_find *f = ctx;
	struct net_cidr nc;
	const char *error;

	(void)created;
	if (net_cidr_parse(cidr, &nc, &error) == 0 && net_cidr_contains(&nc, &f->addr) &&
	    (f->cc[0] == '\0' || nc.prefix > f->prefix)) {
		f->prefix = nc.prefix;
		str_copy(f->cidr, sizeof(f->cidr), cidr);
		str_copy(f->cc, sizeof(f->cc), country);
	}
}

int ops_geoip_lookup(struct ops *o, const struct ops_actor *actor, const char *ip,
		     struct ops_geoip_answer *r, struct ops_error *err)
{
	struct ops_override_find f;
	char path[4200];
	struct geoip *g;

	memset(r, 0, sizeof(*r));
	memset(&f, 0, sizeof(f));
	if (ops_geoip_may(actor, err) < 0)
		return -1;
	if (strlen(ip) >= 64 || net_addr_parse(ip, &f.addr) < 0)
		return ops_fail(err, "invalid_ip", "ip", "'%.80s' is not an IP address",
				"'%.80s' は IP アドレスではありません", ip);
	if (directory_geoip_override_list(o->dir, ops_override_find_cb, &f) < 0)
		return ops_fail(err, "internal", NULL, "cannot read the override table",
				"上書き表を読めません");
	snprintf(path, sizeof(path), "%s/geoip/country.mmdb", o->data);
	g = geoip_new(path);
	r->db = geoip_lookup(g, ip, r->db_country);
	if (r->db != GEOIP_FOUND)
		r->db_country[0] = '\0';
	if (r->db == GEOIP_NO_DATABASE)
		geoip_error(g, r->db_error, sizeof(r->db_error));
	geoip_free(g);
	if (f.cc[0] != '\0') {
		r->source = OPS_GEOIP_OVERRIDE;
		str_copy(r->country, sizeof(r->country), f.cc);
		str_copy(r->override_cidr, sizeof(r->override_cidr), f.cidr);
	} else if (net_addr_is_private(&f.addr)) {
		r->source = OPS_GEOIP_PRIVATE;
	} else if (r->db == GEOIP_FOUND) {
		r->source = OPS_GEOIP_DATABASE;
		str_copy(r->country, sizeof(r->country), r->db_country);
	} else {
		r->source = r->db == GEOIP_NO_DATABASE ? OPS_GEOIP_NO_DATABASE : OPS_GEOIP_UNKNOWN;
	}
	return 0;
}
