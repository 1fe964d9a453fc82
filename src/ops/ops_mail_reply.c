/* A reply or a forward prefilled from the stored original
 * (ops_mail_template, ops_mail_write.h; GET /api/v1/mail/compose). */
#include "ops/ops_mail_write_int.h"
#include "lib/str.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Is address the user's own (its address, or with a +tag)? */
static bool is_own(const char *login, const char *address)
{
	const char *at = strchr(login, '@'), *aat = strrchr(address, '@'), *plus;
	size_t local = at != NULL ? (size_t)(at - login) : 0;

	if (strcasecmp(login, address) == 0)
		return true;
	if (at == NULL || aat == NULL || strcasecmp(at, aat) != 0)
		return false;
	plus = memchr(address, '+', (size_t)(aat - address));
	return plus != NULL && (size_t)(plus - address) == local && strncasecmp(address, login, local) == 0;
}

static bool listed(const struct ops_mail_addr *l, size_t n, const char *address)
{
	for (size_t i = 0; i < n; i++) {
		if (strcasecmp(l[i].address, address) == 0)
			return true;
	}
	return false;
}

/* Appends src to *dst unless own or already in dst or in also. */
static void add_addrs(struct ops_mail_addr **dst, size_t *n, const struct ops_mail_addr *src, size_t nsrc,
		      const char *login, const struct ops_mail_addr *also, size_t nalso)
{
	for (size_t i = 0; i < nsrc && *n < COMPOSE_ADDRS_MAX; i++) {
		struct ops_mail_addr *grown;

		if (is_own(login, src[i].address) || listed(*dst, *n, src[i].address) ||
		    listed(also, nalso, src[i].address))
			continue;
		grown = realloc(*dst, (*n + 1) * sizeof(**dst));
		if (grown == NULL)
			return;
		*dst = grown;
		grown[(*n)++] = src[i];
	}
}

static void addr_text(struct strbuf *out, const struct ops_mail_addr *l, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (i > 0)
			strbuf_append_str(out, ", ");
		if (l[i].name[0] != '\0')
			strbuf_printf(out, "%s <%s>", l[i].name, l[i].address);
		else
			strbuf_append_str(out, l[i].address);
	}
}

/* The forwarded header block and text of an inline forward. */
static void forward_text(struct strbuf *out, const struct ops_mail_view *v, bool ja)
{
	strbuf_append_str(out, ja ? "\n\n---------- 転送メッセージ ----------\n" :
			  "\n\n---------- Forwarded message ----------\n");
	strbuf_append_str(out, ja ? "差出人: " : "From: ");
	addr_text(out, v->from, v->nfrom);
	strbuf_printf(out, ja ? "\n日付: %s\n件名: %s\n宛先: " : "\nDate: %s\nSubject: %s\nTo: ", strbuf_cstr(&v->date),
		      strbuf_cstr(&v->subject));
	addr_text(out, v->to, v->nto);
	if (v->ncc > 0) {
		strbuf_append_str(out, "\nCc: ");
		addr_text(out, v->cc, v->ncc);
	}
	strbuf_append_str(out, "\n\n");
	strbuf_append(out, strbuf_cstr(&v->text), v->text.len);
}

int ops_mail_template(struct ops *o, const struct ops_actor *actor, enum ops_compose_mode mode,
		      const struct ops_mail_ref *ref, const struct ops_mail_env *env, bool ja,
		      struct ops_mail_view *t, struct ops_error *err)
{
	struct ops_mail_view v;
	bool fwd = mode == OPS_COMPOSE_FORWARD_INLINE || mode == OPS_COMPOSE_FORWARD_ATTACHMENT;

	memset(t, 0, sizeof(*t));
	if (ops_mail_view(o, actor, ref, env, &v, err) < 0)
		return -1;
	compose_reply_subject(&t->subject, strbuf_cstr(&v.subject), fwd);
	if (!fwd) {
		const struct ops_mail_addr *who = v.nreply_to > 0 ? v.reply_to : v.from;
		size_t nwho = v.nreply_to > 0 ? v.nreply_to : v.nfrom;
		struct strbuf attribution = STRBUF_INIT;

		/* a reply to one's own message (from Sent) goes to its recipients */
		bool mine = nwho > 0;

		for (size_t i = 0; i < nwho; i++)
			mine = mine && is_own(actor->name, who[i].address);
		if (mine) {
			who = v.to;
			nwho = v.nto;
		}
		for (size_t i = 0; i < nwho; i++) {
			if (t->nto < COMPOSE_ADDRS_MAX && !listed(t->to, t->nto, who[i].address)) {
				struct ops_mail_addr *g = realloc(t->to, (t->nto + 1) * sizeof(*t->to));
				if (g == NULL)
					break;
				t->to = g;
				g[t->nto++] = who[i];
			}
		}
		if (mode == OPS_COMPOSE_REPLY_ALL) {
			add_addrs(&t->cc, &t->ncc, v.to, v.nto, actor->name, t->to, t->nto);
			add_addrs(&t->cc, &t->ncc, v.cc, v.ncc, actor->name, t->to, t->nto);
		}
		strbuf_printf(&attribution, ja ? "%s、" : "On %s, ", strbuf_cstr(&v.date));
		addr_text(&attribution, v.from, v.nfrom);
		strbuf_append_str(&attribution, ja ? " さんは書きました:" : " wrote:");
		strbuf_append_str(&t->text, "\n\n");
		compose_quote(&t->text, strbuf_cstr(&attribution), strbuf_cstr(&v.text), v.text.len);
		strbuf_free(&attribution);
		t->has_reply = true;
		t->reply = *ref;
	} else {
		t->forward = mode == OPS_COMPOSE_FORWARD_INLINE ? OPS_FORWARD_INLINE : OPS_FORWARD_ATTACHMENT;
		t->fwd = *ref;
		if (mode == OPS_COMPOSE_FORWARD_INLINE) {
			forward_text(&t->text, &v, ja);
			t->parts = v.parts;	/* the original's attachments go along */
			t->nparts = v.nparts;
			v.parts = NULL;
			v.nparts = 0;
		}
	}
	t->iso2022jp = v.iso2022jp;
	ops_mail_view_free(&v);
	return 0;
}
