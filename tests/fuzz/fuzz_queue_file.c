/* libFuzzer target: outbound queue files (queue_file_parse): envelope
 * header, message bounds and the appended result log. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "store/queue_file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct queue_env env;
	const char *error = NULL;

	if (queue_file_parse((const char *)data, size, &env, &error) < 0) {
		if (error == NULL || env.rcpts != NULL)
			abort();
		return 0;
	}
	if (env.nrcpts == 0 || env.body_off > size || env.body_len > size - env.body_off)
		abort();
	if (queue_env_pending(&env) > env.nrcpts)
		abort();
	for (size_t i = 0; i < env.nrcpts; i++) {
		if (strlen(env.rcpts[i].addr) > QUEUE_ADDR_MAX || strlen(env.rcpts[i].reply) >= QUEUE_REPLY_MAX)
			abort();
	}
	queue_env_free(&env);
	return 0;
}
