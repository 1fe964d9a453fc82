/* Unit tests for src/proto/imap_args.c: LIST, STATUS, ENABLE, ID, SETQUOTA. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#define IMAP_TEST_PARSE_LINE
#include "imap_test_util.h"
#include "proto/imap_args.h"

static struct imap_parser *parser;

static int setup(void **state)
{
	parser = imap_parser_new(NULL);
	return parser == NULL;
}

static int teardown(void **state)
{
	imap_parser_free(parser);
	return 0;
}

static const struct imap_command *cmd(const char *line)
{
	return imap_test_parse(parser, line);
}

static int list(const char *line, struct imap_list *l, const char **err)
{
	const struct imap_command *c = cmd(line);

	*err = NULL;
	return imap_list_parse(c->args, c->count, imap_parser_arena(parser), l, err);
}

static void test_list(void **state)
{
	struct imap_list l;
	const char *err;

	assert_int_equal(list("a LIST \"\" *\r\n", &l, &err), 0);
	assert_false(l.extended);
	assert_string_equal(l.reference, "");
	assert_int_equal(l.npatterns, 1);
	assert_string_equal(l.patterns[0], "*");
	assert_int_equal(list("a LIST ~/Mail/ %\r\n", &l, &err), 0);
	assert_string_equal(l.reference, "~/Mail/");
	assert_string_equal(l.patterns[0], "%");

	assert_int_equal(list("a LIST (SUBSCRIBED RECURSIVEMATCH remote) \"\" (\"INBOX*\" Foo/%) "
			      "RETURN (CHILDREN SUBSCRIBED SPECIAL-USE STATUS (MESSAGES UNSEEN SIZE))\r\n",
			      &l, &err), 0);
	assert_true(l.extended);
	assert_int_equal(l.select, IMAP_LIST_SELECT_SUBSCRIBED | IMAP_LIST_SELECT_RECURSIVEMATCH |
			 IMAP_LIST_SELECT_REMOTE);
	assert_int_equal(l.ret, IMAP_LIST_RETURN_CHILDREN | IMAP_LIST_RETURN_SUBSCRIBED |
			 IMAP_LIST_RETURN_SPECIAL_USE | IMAP_LIST_RETURN_STATUS);
	assert_int_equal(l.status_items, IMAP_STATUS_MESSAGES | IMAP_STATUS_UNSEEN | IMAP_STATUS_SIZE);
	assert_int_equal(l.npatterns, 2);
	assert_string_equal(l.patterns[1], "Foo/%");
	assert_int_equal(list("a LIST () \"\" % RETURN ()\r\n", &l, &err), 0);
	assert_true(l.extended);
	assert_int_equal(l.select, 0);
	assert_int_equal(l.ret, 0);

	assert_int_equal(list("a LIST (RECURSIVEMATCH) \"\" %\r\n", &l, &err), -1);
	assert_string_equal(err, "RECURSIVEMATCH needs another selection option");
	assert_int_equal(list("a LIST (REMOTE RECURSIVEMATCH) \"\" %\r\n", &l, &err), -1);
	assert_int_equal(list("a LIST (FOO) \"\" %\r\n", &l, &err), -1);
	assert_string_equal(err, "Unknown LIST selection option");
	assert_int_equal(list("a LIST \"\" % RETURN (FOO)\r\n", &l, &err), -1);
	assert_string_equal(err, "Unknown LIST return option");
	assert_int_equal(list("a LIST \"\" % RETURN (STATUS)\r\n", &l, &err), -1);
	assert_string_equal(err, "STATUS needs a list of items");
	assert_int_equal(list("a LIST \"\" % RETURN (STATUS (FOO))\r\n", &l, &err), -1);
	assert_int_equal(list("a LIST \"\" % RETURN CHILDREN\r\n", &l, &err), -1);
	assert_int_equal(list("a LIST \"\" % EXTRA (x)\r\n", &l, &err), -1);
	assert_string_equal(err, "Invalid LIST arguments");
	assert_int_equal(list("a LIST \"\"\r\n", &l, &err), -1);
	assert_string_equal(err, "LIST needs a reference and a pattern");
	assert_int_equal(list("a LIST \"\" ()\r\n", &l, &err), -1);
	assert_string_equal(err, "Empty pattern list");
	assert_int_equal(list("a LIST \"\" ((x))\r\n", &l, &err), -1);
	assert_string_equal(err, "Invalid mailbox pattern");
}

static void test_status(void **state)
{
	const struct imap_command *c;
	const char *mbox, *err = NULL;
	unsigned items;

	c = cmd("a STATUS \"Sent Items\" (MESSAGES RECENT UIDNEXT UIDVALIDITY UNSEEN DELETED SIZE "
		"HIGHESTMODSEQ appendlimit)\r\n");
	assert_int_equal(imap_status_parse(c->args, c->count, &mbox, &items, &err), 0);
	assert_string_equal(mbox, "Sent Items");
	assert_int_equal(items, 0x1ff);
	c = cmd("a STATUS INBOX ()\r\n");
	assert_int_equal(imap_status_parse(c->args, c->count, &mbox, &items, &err), -1);
	c = cmd("a STATUS INBOX (MESSAGES FOO)\r\n");
	assert_int_equal(imap_status_parse(c->args, c->count, &mbox, &items, &err), -1);
	assert_string_equal(err, "Unknown status item");
	c = cmd("a STATUS INBOX MESSAGES\r\n");
	assert_int_equal(imap_status_parse(c->args, c->count, &mbox, &items, &err), -1);
	c = cmd("a STATUS (INBOX) (MESSAGES)\r\n");
	assert_int_equal(imap_status_parse(c->args, c->count, &mbox, &items, &err), -1);
}

static void test_enable(void **state)
{
	const struct imap_command *c = cmd("a ENABLE condstore UTF8=ACCEPT qresync\r\n");
	const char *const *caps;
	const char *err = NULL;
	size_t n;

	assert_int_equal(imap_enable_parse(c->args, c->count, imap_parser_arena(parser), &caps, &n,
					   &err), 0);
	assert_int_equal(n, 3);
	assert_string_equal(caps[0], "CONDSTORE");
	assert_string_equal(caps[1], "UTF8=ACCEPT");
	assert_string_equal(caps[2], "QRESYNC");
	c = cmd("a ENABLE\r\n");
	assert_int_equal(imap_enable_parse(c->args, c->count, imap_parser_arena(parser), &caps, &n,
					   &err), -1);
	c = cmd("a ENABLE \"X\"\r\n");
	assert_int_equal(imap_enable_parse(c->args, c->count, imap_parser_arena(parser), &caps, &n,
					   &err), -1);
}

static void test_id(void **state)
{
	const struct imap_command *c = cmd("a ID (\"name\" \"Thunderbird\" \"version\" NIL "
					   "\"os\" {5}\r\nLinux)\r\n");
	const struct imap_id_field *f;
	const char *err = NULL;
	struct strbuf line = STRBUF_INIT;
	size_t n;

	assert_int_equal(imap_id_parse(c->args, c->count, imap_parser_arena(parser), &f, &n, &err), 0);
	assert_int_equal(n, 3);
	assert_string_equal(f[0].name, "name");
	assert_string_equal(f[0].value, "Thunderbird");
	assert_null(f[1].value);
	assert_string_equal(f[2].value, "Linux");
	c = cmd("a ID NIL\r\n");
	assert_int_equal(imap_id_parse(c->args, c->count, imap_parser_arena(parser), &f, &n, &err), 0);
	assert_int_equal(n, 0);
	c = cmd("a ID (\"name\")\r\n");
	assert_int_equal(imap_id_parse(c->args, c->count, imap_parser_arena(parser), &f, &n, &err), -1);
	c = cmd("a ID (name \"x\")\r\n");
	assert_int_equal(imap_id_parse(c->args, c->count, imap_parser_arena(parser), &f, &n, &err), -1);
	c = cmd("a ID (\"0123456789012345678901234567890\" \"x\")\r\n");
	assert_int_equal(imap_id_parse(c->args, c->count, imap_parser_arena(parser), &f, &n, &err), -1);
	c = cmd("a ID\r\n");
	assert_int_equal(imap_id_parse(c->args, c->count, imap_parser_arena(parser), &f, &n, &err), -1);
	strbuf_append_str(&line, "a ID (");
	for (int i = 0; i < 31; i++)
		strbuf_printf(&line, "%s\"k%d\" \"v\"", i > 0 ? " " : "", i);
	strbuf_append_str(&line, ")\r\n");
	c = cmd(line.data);
	assert_int_equal(imap_id_parse(c->args, c->count, imap_parser_arena(parser), &f, &n, &err), -1);
	strbuf_free(&line);
}

static void test_setquota(void **state)
{
	const struct imap_command *c = cmd("a SETQUOTA \"\" (storage 512000 MESSAGE 10000)\r\n");
	const struct imap_quota_limit *q;
	const char *root, *err = NULL;
	size_t n;

	assert_int_equal(imap_setquota_parse(c->args, c->count, imap_parser_arena(parser), &root, &q,
					     &n, &err), 0);
	assert_string_equal(root, "");
	assert_int_equal(n, 2);
	assert_string_equal(q[0].resource, "STORAGE");
	assert_true(q[0].limit == 512000);
	assert_string_equal(q[1].resource, "MESSAGE");
	c = cmd("a SETQUOTA \"\" ()\r\n");
	assert_int_equal(imap_setquota_parse(c->args, c->count, imap_parser_arena(parser), &root, &q,
					     &n, &err), 0);
	assert_int_equal(n, 0);
	c = cmd("a SETQUOTA \"\" (STORAGE)\r\n");
	assert_int_equal(imap_setquota_parse(c->args, c->count, imap_parser_arena(parser), &root, &q,
					     &n, &err), -1);
	c = cmd("a SETQUOTA \"\" (STORAGE -1)\r\n");
	assert_int_equal(imap_setquota_parse(c->args, c->count, imap_parser_arena(parser), &root, &q,
					     &n, &err), -1);
	c = cmd("a SETQUOTA \"\" STORAGE 1\r\n");
	assert_int_equal(imap_setquota_parse(c->args, c->count, imap_parser_arena(parser), &root, &q,
					     &n, &err), -1);
}

static void test_select(void **state)
{
	const struct imap_command *c;
	struct imap_select_params sp;
	const char *mbox, *err = NULL;
	struct imap_arena *a = imap_parser_arena(parser);

	c = cmd("a SELECT INBOX\r\n");
	assert_int_equal(imap_select_parse(c->args, c->count, a, &mbox, &sp, &err), 0);
	assert_string_equal(mbox, "INBOX");
	assert_false(sp.condstore);
	assert_false(sp.qresync);
	c = cmd("a EXAMINE \"Sent\" (condstore)\r\n");
	assert_int_equal(imap_select_parse(c->args, c->count, a, &mbox, &sp, &err), 0);
	assert_true(sp.condstore);
	c = cmd("a SELECT INBOX (QRESYNC (67890007 20050715194045000 41,43:211,214:541))\r\n");
	assert_int_equal(imap_select_parse(c->args, c->count, a, &mbox, &sp, &err), 0);
	assert_true(sp.qresync);
	assert_int_equal(sp.uidvalidity, 67890007);
	assert_true(sp.modseq == 20050715194045000ULL);
	assert_true(sp.has_known_uids);
	assert_true(imap_seqset_contains(&sp.known_uids, 300, 1000));
	assert_false(sp.has_seq_match);
	c = cmd("a SELECT INBOX (QRESYNC (67890007 90060115194045000 1:29997 (5000,7500,9000,9990:9999 "
		"15000,22500,27000,29970,29973,29976,29979,29982,29985,29988,29991,29994,29997)))\r\n");
	assert_int_equal(imap_select_parse(c->args, c->count, a, &mbox, &sp, &err), 0);
	assert_true(sp.has_seq_match);
	assert_true(imap_seqset_contains(&sp.match_seqs, 9995, 1));
	assert_true(imap_seqset_contains(&sp.match_uids, 29985, 1));
	c = cmd("a SELECT INBOX (QRESYNC (1 2 (1 1)))\r\n");
	assert_int_equal(imap_select_parse(c->args, c->count, a, &mbox, &sp, &err), 0);
	assert_false(sp.has_known_uids);
	assert_true(sp.has_seq_match);

	static const char *const bad[] = {
		"a SELECT\r\n", "a SELECT (x)\r\n", "a SELECT INBOX CONDSTORE\r\n",
		"a SELECT INBOX (FOO)\r\n", "a SELECT INBOX (QRESYNC)\r\n",
		"a SELECT INBOX (QRESYNC (0 1))\r\n", "a SELECT INBOX (QRESYNC (1 0))\r\n",
		"a SELECT INBOX (QRESYNC (1 1 x))\r\n", "a SELECT INBOX (QRESYNC (1 1 1 (1)))\r\n",
		"a SELECT INBOX (QRESYNC (1 1 1 (1 1) 2))\r\n", "a SELECT INBOX () x\r\n",
		"a SELECT INBOX (CONDSTORE CONDSTORE)\r\n",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		c = cmd(bad[i]);
		if (imap_select_parse(c->args, c->count, a, &mbox, &sp, &err) == 0)
			fail_msg("\"%s\" accepted", bad[i]);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_list),
		cmocka_unit_test(test_status),
		cmocka_unit_test(test_enable),
		cmocka_unit_test(test_id),
		cmocka_unit_test(test_setquota),
		cmocka_unit_test(test_select),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
