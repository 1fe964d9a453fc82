/* Test driver: runs a Sieve script on a message file and prints the
 * actions in the normalised form tests/integration/test_sieve_diff.py
 * compares with Pigeonhole's sieve-test:
 *   store FOLDER [flags=a,b]   (keep and fileinto; flags lowercased, sorted)
 *   implicit-keep FOLDER [flags=...]
 *   redirect ADDRESS | discard | reject | ereject | vacation
 *   error (a run-time error; followed by the implicit keep)
 *   compile-error
 * With -v each line also names the script line that decided it.
 *   sieve_run [-v] [-f FROM] [-r TO] [-n NOW] SCRIPT MESSAGE */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sieve/sieve.h"

static char *slurp(const char *path, size_t *len_r)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t cap = 0, len = 0, n;

	if (f == NULL)
		return NULL;
	do {
		if (len + 65536 > cap) {
			cap = (cap + 65536) * 2;
			buf = realloc(buf, cap);
			if (buf == NULL)
				abort();
		}
		n = fread(buf + len, 1, cap - len, f);
		len += n;
	} while (n > 0);
	fclose(f);
	*len_r = len;
	return buf;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* flags lowercased, sorted, comma separated */
static void print_flags(const char *flags)
{
	char *copy = strdup(flags != NULL ? flags : ""), *tok, *save = NULL;
	char *list[256];
	size_t n = 0;

	for (char *p = copy; *p != '\0'; p++)
		*p = (char)tolower((unsigned char)*p);
	for (tok = strtok_r(copy, " ", &save); tok != NULL && n < 256; tok = strtok_r(NULL, " ", &save))
		list[n++] = tok;
	qsort(list, n, sizeof(list[0]), cmp_str);
	if (n > 0)
		printf(" flags=");
	for (size_t i = 0; i < n; i++)
		printf("%s%s", i ? "," : "", list[i]);
	free(copy);
}

int main(int argc, char **argv)
{
	struct sieve_limits lim;
	struct sieve_script *script;
	struct sieve_error err;
	struct sieve_message msg = { 0 };
	struct sieve_env env = { 0 };
	struct sieve_result res;
	const char *from = "sender@example.org", *to = "recipient@example.com";
	bool verbose = false;
	size_t slen, mlen;
	char *src, *data;
	int c;

	env.now = 1700000000;
	env.spam_score = env.spam_percent = env.virus_score = -1;
	while ((c = getopt(argc, argv, "vf:r:n:")) != -1) {
		switch (c) {
		case 'v': verbose = true; break;
		case 'f': from = optarg; break;
		case 'r': to = optarg; break;
		case 'n': env.now = strtoll(optarg, NULL, 10); break;
		default: return 2;
		}
	}
	if (argc - optind != 2) {
		fprintf(stderr, "usage: sieve_run [-v] [-f FROM] [-r TO] [-n NOW] SCRIPT MESSAGE\n");
		return 2;
	}
	src = slurp(argv[optind], &slen);
	data = slurp(argv[optind + 1], &mlen);
	if (src == NULL || data == NULL) {
		perror("sieve_run");
		return 2;
	}
	sieve_limits_default(&lim);
	if (sieve_compile(src, slen, &lim, &script, &err) < 0) {
		printf("compile-error\n");
		fprintf(stderr, "%s\n", err.msg);
		free(src);
		free(data);
		return 0;
	}
	msg.data = data;
	msg.size = mlen;
	msg.env_from = from;
	msg.env_to = to;
	sieve_run(script, &msg, &env, &lim, &res);
	if (res.error) {
		printf("error\n");
		fprintf(stderr, "%s\n", res.err.msg);
	}
	for (unsigned int i = 0; i < res.count; i++) {
		const struct sieve_action *a = &res.actions[i];
		bool implicit = res.implicit_keep && i + 1 == res.count;

		switch (a->kind) {
		case SIEVE_ACT_KEEP:
		case SIEVE_ACT_FILEINTO:
			printf("%s %s", implicit ? "implicit-keep" : "store",
			       a->kind == SIEVE_ACT_KEEP ? "INBOX" : a->arg);
			print_flags(a->flags);
			break;
		case SIEVE_ACT_REDIRECT:
			printf("redirect %s", a->arg);
			break;
		default:
			printf("%s", sieve_action_name(a->kind));
			break;
		}
		if (verbose)
			printf("\t# line %u", a->line);
		printf("\n");
	}
	sieve_result_free(&res);
	sieve_script_free(script);
	free(src);
	free(data);
	return 0;
}
