/* Shared by the mail index unit tests (test_index*.c): an account's
 * Maildir with its index in a temporary folder, made for each test and
 * removed after it, and a delivery into it. Include after cmocka.h. */
#ifndef YUBIN_TESTS_INDEX_FIXTURE_H
#define YUBIN_TESTS_INDEX_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/fsutil.h"
#include "store/index.h"
#include "store/maildir.h"

struct fixture {
	char root[256];
	struct mail_index *idx;
};

static inline int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char err[256];

	snprintf(f->root, sizeof(f->root), "/tmp/yubin-test-index-XXXXXX");
	assert_non_null(mkdtemp(f->root));
	assert_int_equal(maildir_create(f->root), 0);
	f->idx = mail_index_open(f->root, err, sizeof(err));
	assert_non_null(f->idx);
	*state = f;
	return 0;
}

static inline int teardown(void **state)
{
	struct fixture *f = *state;

	mail_index_close(f->idx);
	fs_remove_tree(f->root);
	free(f);
	return 0;
}

/* text delivered into the Maildir at path, durably, as SMTP does. */
static inline void deliver(const char *path, const char *text)
{
	struct maildir_msg msg = { .prefix = "", .prefix_len = 0, .body = text, .body_fd = -1,
				   .body_len = strlen(text) };
	const char *error;

	assert_int_equal(maildir_deliver(path, &msg, NULL, 0, &error), 0);
}

#endif
