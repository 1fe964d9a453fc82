/* Unit tests for src/proto/imap_sort.c: base subjects (RFC 5256 2.1),
 * SORT criteria and order, THREAD=ORDEREDSUBJECT and THREAD=REFERENCES. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "proto/imap_sort.h"
#include "mail/header.h"
#include "mail/imap_envelope.h"

static void check_base(const char *subject, const char *want, bool want_reply)
{
	char out[256];
	bool reply;

	imap_base_subject(subject, out, sizeof(out), &reply);
	assert_string_equal(out, want);
	assert_int_equal(reply, want_reply);
}

static void test_base_subject(void **state)
{
	check_base("Hello", "hello", false);
	check_base("Re: Hello", "hello", true);
	check_base("RE:Hello", "hello", true);
	check_base("Re: re: Fwd: Hello", "hello", true);
	check_base("Fw: Hello", "hello", true);
	check_base("Re [2]: Hello", "hello", true);
	check_base("[list] Re: Hello", "hello", true);
	check_base("[list] Hello", "hello", false);
	check_base("Hello (fwd)", "hello", true);
	check_base("Hello (fwd) (FWD)  ", "hello", true);
	check_base("[Fwd: Re: Hello]", "hello", true);
	check_base("  Hello \t  world  ", "hello world", false);
	/* a blob that is the whole subject stays */
	check_base("[list]", "[list]", false);
	check_base("Re: [list]", "[list]", true);
	check_base("", "", false);
	check_base("Re:", "", true);
	check_base("Reply to this", "reply to this", false);
	check_base("Fwdx: hi", "fwdx: hi", false);
	check_base("[unterminated Re: x", "[unterminated re: x", false);
	/* UTF-8 passes through */
	check_base("Re: 会議の件", "会議の件", true);
}

static void test_criteria(void **state)
{
	const char *ok[] = { "reverse", "DATE", "SUBJECT", "REVERSE", "size" };
	const char *bad1[] = { "REVERSE" }, *bad2[] = { "NOPE" }, *bad3[] = { "REVERSE", "REVERSE", "DATE" };
	struct imap_sort_key keys[IMAP_SORT_KEYS_MAX];
	const char *e = NULL;
	size_t n = 0;

	assert_int_equal(imap_sort_criteria_parse(ok, 5, keys, &n, &e), 0);
	assert_int_equal(n, 3);
	assert_int_equal(keys[0].kind, IMAP_SORT_DATE);
	assert_true(keys[0].reverse);
	assert_int_equal(keys[1].kind, IMAP_SORT_SUBJECT);
	assert_false(keys[1].reverse);
	assert_int_equal(keys[2].kind, IMAP_SORT_SIZE);
	assert_true(keys[2].reverse);
	assert_int_equal(imap_sort_criteria_parse(bad1, 1, keys, &n, &e), -1);
	assert_int_equal(imap_sort_criteria_parse(bad2, 1, keys, &n, &e), -1);
	assert_int_equal(imap_sort_criteria_parse(bad3, 3, keys, &n, &e), -1);
	assert_int_equal(imap_sort_criteria_parse(NULL, 0, keys, &n, &e), -1);
}

static struct imap_sort_msg msg(uint32_t seq, int64_t date, uint64_t size, const char *subject,
				const char *from, const char *id, const char *refs)
{
	struct imap_sort_msg m;
	char *base = malloc(256);

	memset(&m, 0, sizeof(m));
	m.seq = seq;
	m.uid = seq * 10;
	m.arrival = 1000 - seq;
	m.date = date;
	m.size = size;
	imap_base_subject(subject, base, 256, &m.subject_is_reply);
	m.base_subject = base;
	m.from = from;
	m.to = m.cc = m.display_from = m.display_to = "";
	m.message_id = id;
	m.references = refs;
	return m;
}

static void free_msgs(struct imap_sort_msg *m, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free((char *)m[i].base_subject);
}

static void order(struct imap_sort_msg *m, size_t n, char *out)
{
	out[0] = '\0';
	for (size_t i = 0; i < n; i++)
		sprintf(out + strlen(out), "%s%u", i ? " " : "", m[i].seq);
}

static void test_sort(void **state)
{
	struct imap_sort_msg m[5] = {
		msg(1, 300, 50, "Re: beta", "zed", "", ""),
		msg(2, 100, 10, "alpha", "Adam", "", ""),
		msg(3, 200, 50, "Beta", "bob", "", ""),
		msg(4, 100, 99, "[x] Gamma", "adam", "", ""),
		msg(5, 500, 1, "", "", "", ""),
	};
	struct imap_sort_key k[3];
	char got[64];

	k[0] = (struct imap_sort_key){ IMAP_SORT_DATE, false };
	imap_sort(m, 5, k, 1);
	order(m, 5, got);
	assert_string_equal(got, "2 4 3 1 5");	/* ties by sequence number */
	k[0] = (struct imap_sort_key){ IMAP_SORT_SUBJECT, false };
	k[1] = (struct imap_sort_key){ IMAP_SORT_SIZE, true };
	imap_sort(m, 5, k, 2);
	order(m, 5, got);
	assert_string_equal(got, "5 2 1 3 4");	/* "" < alpha < beta(50,50: seq) < gamma */
	k[0] = (struct imap_sort_key){ IMAP_SORT_FROM, false };
	imap_sort(m, 5, k, 1);
	order(m, 5, got);
	assert_string_equal(got, "5 2 4 3 1");	/* case-insensitive, ties by seq */
	k[0] = (struct imap_sort_key){ IMAP_SORT_ARRIVAL, true };
	imap_sort(m, 5, k, 1);
	order(m, 5, got);
	assert_string_equal(got, "1 2 3 4 5");
	free_msgs(m, 5);
}

static void check_thread(struct imap_sort_msg *m, size_t n, enum imap_thread_algo algo, const char *want)
{
	struct strbuf out = STRBUF_INIT;

	imap_thread(m, n, algo, false, &out);
	assert_string_equal(strbuf_cstr(&out), want);
	strbuf_free(&out);
}

static void test_thread_orderedsubject(void **state)
{
	struct imap_sort_msg m[5] = {
		msg(1, 100, 1, "hello", "", "", ""),
		msg(2, 300, 1, "Re: hello", "", "", ""),
		msg(3, 200, 1, "other", "", "", ""),
		msg(4, 400, 1, "Re: hello", "", "", ""),
		msg(5, 50, 1, "single", "", "", ""),
	};

	check_thread(m, 5, IMAP_THREAD_ORDEREDSUBJECT, "(5)(1 (2)(4))(3)");
	check_thread(m, 3, IMAP_THREAD_ORDEREDSUBJECT, "(1 2)(3)");
	check_thread(m, 0, IMAP_THREAD_ORDEREDSUBJECT, "");
	free_msgs(m, 5);
}

static void test_thread_references(void **state)
{
	struct imap_sort_msg m[8] = {
		msg(1, 100, 1, "Plan", "", "<a@x>", ""),
		msg(2, 200, 1, "Re: Plan", "", "<b@x>", "<a@x>"),
		msg(3, 300, 1, "Re: Plan", "", "<c@x>", "<a@x> <b@x>"),
		msg(4, 250, 1, "Re: Plan", "", "<d@x>", "<a@x>"),
		/* a reply whose parent is not in the mailbox: a dummy */
		msg(5, 150, 1, "Re: Lost", "", "<e@x>", "<missing@x>"),
		msg(6, 160, 1, "Re: Lost", "", "<f@x>", "<missing@x>"),
		/* no references, same subject as 1: gathered under it */
		msg(7, 400, 1, "Re: plan", "", "<g@x>", ""),
		/* a duplicate Message-ID and a self reference */
		msg(8, 500, 1, "Solo", "", "<a@x>", "<h@x> <h@x>"),
	};

	check_thread(m, 4, IMAP_THREAD_REFERENCES, "(1 (2 3)(4))");
	/* the dummy parent of 5 and 6 stays at the root with two children */
	check_thread(m, 6, IMAP_THREAD_REFERENCES, "(1 (2 3)(4))((5)(6))");
	check_thread(m, 7, IMAP_THREAD_REFERENCES, "(1 (2 3)(4)(7))((5)(6))");
	check_thread(m, 8, IMAP_THREAD_REFERENCES, "(1 (2 3)(4)(7))((5)(6))(8)");
	/* in any input order the tree is the same */
	{
		struct imap_sort_msg r[7];
		for (size_t i = 0; i < 7; i++)
			r[i] = m[6 - i];
		check_thread(r, 7, IMAP_THREAD_REFERENCES, "(1 (2 3)(4)(7))((5)(6))");
	}
	free_msgs(m, 8);
}

static void test_thread_loops(void **state)
{
	/* references that contradict each other never make a loop */
	struct imap_sort_msg m[3] = {
		msg(1, 100, 1, "a", "", "<a@x>", "<b@x>"),
		msg(2, 200, 1, "b", "", "<b@x>", "<a@x>"),
		msg(3, 300, 1, "c", "", "<c@x>", "<c@x> <a@x> <c@x>"),
	};
	struct strbuf out = STRBUF_INIT;

	imap_thread(m, 3, IMAP_THREAD_REFERENCES, true, &out);
	assert_true(out.len > 0);
	assert_non_null(strstr(strbuf_cstr(&out), "10"));
	assert_non_null(strstr(strbuf_cstr(&out), "20"));
	assert_non_null(strstr(strbuf_cstr(&out), "30"));
	strbuf_free(&out);
	free_msgs(m, 3);
}

static void test_thread_loop_not_under_descendant(void **state)
{
	/* 2 puts the dummy <c@x> under 1 and itself under <c@x>; then 3 is
	 * <c@x> and names 2 its parent: 3 leaves 1 (RFC 5256 step 1C drops
	 * the old parent) but cannot go under 2, its own child, so it is a
	 * root */
	struct imap_sort_msg m[3] = {
		msg(1, 100, 1, "x", "", "<a@x>", ""),
		msg(2, 200, 1, "y", "", "<b@x>", "<a@x> <c@x>"),
		msg(3, 300, 1, "z", "", "<c@x>", "<b@x>"),
	};

	check_thread(m, 3, IMAP_THREAD_REFERENCES, "(1)(3 2)");
	free_msgs(m, 3);
}

static void test_many_references(void **state)
{
	/* far more Message-IDs than messages: the id table grows */
	static char refs[2][16384];
	struct imap_sort_msg m[2];
	struct strbuf out = STRBUF_INIT;
	size_t o = 0;

	for (int i = 0; i < 600; i++)
		o += (size_t)snprintf(refs[0] + o, sizeof(refs[0]) - o, "<r%d@x> ", i);
	snprintf(refs[1], sizeof(refs[1]), "<r599@x>");
	m[0] = msg(1, 1, 1, "a", "", "<a@x>", refs[0]);
	m[1] = msg(2, 2, 1, "b", "", "<b@x>", "<a@x>");
	imap_thread(m, 2, IMAP_THREAD_REFERENCES, false, &out);
	/* 1 hangs under the chain of 600 missing ids, 2 under 1 */
	assert_string_equal(strbuf_cstr(&out), "(1 2)");
	strbuf_free(&out);
	free_msgs(m, 2);
}

static void test_subject_gathering_grows_nodes(void **state)
{
	/* 64 replies with one subject and no references fill the node array;
	 * gathering them makes a dummy parent, which moves the array */
	struct imap_sort_msg m[64];
	char ids[64][16];
	struct strbuf out = STRBUF_INIT;

	for (int i = 0; i < 64; i++) {
		snprintf(ids[i], sizeof(ids[i]), "<m%d@x>", i);
		m[i] = msg((uint32_t)i + 1, 100 + i, 1, "Re: same", "", ids[i], "");
	}
	imap_thread(m, 64, IMAP_THREAD_REFERENCES, false, &out);
	assert_true(strncmp(strbuf_cstr(&out), "((1)(2)(3)", 10) == 0);
	strbuf_free(&out);
	free_msgs(m, 64);
}

static void test_hostile(void **state)
{
	/* garbage in the headers: every byte, unterminated ids */
	char refs[600];
	struct imap_sort_msg m[2];
	struct strbuf out = STRBUF_INIT;

	for (int i = 0; i < 599; i++)
		refs[i] = (char)(1 + (i * 37) % 255);
	refs[599] = '\0';
	m[0] = msg(1, 1, 1, refs, "", refs, refs);
	m[1] = msg(2, 1, 1, "<<<>>>[[]]:(fwd)", "", "<", "<<><><");
	imap_thread(m, 2, IMAP_THREAD_REFERENCES, false, &out);
	imap_thread(m, 2, IMAP_THREAD_ORDEREDSUBJECT, false, &out);
	strbuf_free(&out);
	free_msgs(m, 2);
}

static void check_date(const char *s, int64_t want)
{
	int64_t t = -1;

	assert_int_equal(mail_date_parse(s, strlen(s), &t), 0);
	assert_int_equal(t, want);
}

static void test_date_and_address(void **state)
{
	int64_t t;
	struct strbuf name = STRBUF_INIT, box = STRBUF_INIT, host = STRBUF_INIT;

	check_date("Thu, 1 Jan 1970 00:00:00 +0000", 0);
	check_date("Mon, 2 Nov 2026 10:00:00 +0900", 1793581200);
	check_date("2 Nov 2026 01:00 GMT", 1793581200);
	check_date("Mon (day), 02 Nov 26 01:00:00 -0000 (comment)", 1793581200);
	check_date("Sun, 1 Nov 2026 20:00:00 EST", 1793581200);
	check_date("29 Feb 2024 12:00:00 +0000", 1709208000);
	assert_int_equal(mail_date_parse("not a date", 10, &t), -1);
	assert_int_equal(mail_date_parse("32 Jan 2026 00:00", 17, &t), -1);
	assert_int_equal(mail_date_parse("1 Foo 2026 00:00", 16, &t), -1);
	assert_int_equal(mail_date_parse("", 0, &t), -1);

	/* what ENVELOPE shows first: for a group, its name as the mailbox
	 * (RFC 5256 sorts on it) */
	assert_true(imap_first_address("Team: \"Yamada, Taro\" <taro@example.jp>, b@x;", 46, &name, &box,
				       &host));
	assert_string_equal(strbuf_cstr(&name), "");
	assert_string_equal(strbuf_cstr(&box), "Team");
	assert_string_equal(strbuf_cstr(&host), "");
	strbuf_free(&name);
	strbuf_free(&box);
	strbuf_free(&host);
	assert_true(imap_first_address("\"Yamada, Taro\" <taro@example.jp>, b@x", 37, &name, &box, &host));
	assert_string_equal(strbuf_cstr(&name), "Yamada, Taro");
	assert_string_equal(strbuf_cstr(&box), "taro");
	assert_string_equal(strbuf_cstr(&host), "example.jp");
	strbuf_free(&name);
	strbuf_free(&box);
	strbuf_free(&host);
	/* a comment names an address that has no display name, as in ENVELOPE */
	assert_true(imap_first_address("plain@example.jp (Comment)", 26, &name, &box, &host));
	assert_string_equal(strbuf_cstr(&name), "Comment");
	assert_string_equal(strbuf_cstr(&box), "plain");
	strbuf_free(&name);
	strbuf_free(&box);
	strbuf_free(&host);
	assert_true(imap_first_address("<user (c)@ (c) example.org>", 27, &name, &box, &host));
	assert_string_equal(strbuf_cstr(&box), "user");
	assert_string_equal(strbuf_cstr(&host), "example.org");
	strbuf_free(&name);
	strbuf_free(&box);
	strbuf_free(&host);
	assert_true(imap_first_address("undisclosed-recipients:;", 24, &name, &box, &host));
	assert_string_equal(strbuf_cstr(&box), "undisclosed-recipients");
	strbuf_free(&name);
	strbuf_free(&box);
	strbuf_free(&host);
	assert_false(imap_first_address(" , ", 3, &name, &box, &host));
	strbuf_free(&name);
	strbuf_free(&box);
	strbuf_free(&host);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_base_subject),
		cmocka_unit_test(test_date_and_address),
		cmocka_unit_test(test_criteria),
		cmocka_unit_test(test_sort),
		cmocka_unit_test(test_thread_orderedsubject),
		cmocka_unit_test(test_thread_references),
		cmocka_unit_test(test_thread_loops),
		cmocka_unit_test(test_thread_loop_not_under_descendant),
		cmocka_unit_test(test_many_references),
		cmocka_unit_test(test_subject_gathering_grows_nodes),
		cmocka_unit_test(test_hostile),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
