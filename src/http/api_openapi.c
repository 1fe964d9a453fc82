/* GET /api/v1/openapi.json: the API's description (OpenAPI 3.1), the
 * checked-in src/http/openapi.json built into the daemon. */
#include "http/api.h"

#include <event2/buffer.h>
#include <string.h>

/* The file's bytes and a NUL (the assembler includes it as it is). */
extern const char api_openapi_text[];
__asm__(".section .rodata\n"
	".global api_openapi_text\n"
	"api_openapi_text:\n"
	".incbin \"src/http/openapi.json\"\n"
	".byte 0\n"
	".previous\n");

void api_openapi(struct api_job *j)
{
	j->raw = evbuffer_new();
	if (j->raw == NULL) {
		api_error(j, 500, "internal", NULL, "out of memory", "メモリ不足です");
		return;
	}
	evbuffer_add_reference(j->raw, api_openapi_text, strlen(api_openapi_text), NULL, NULL);
	j->status = 200;
	j->content_type = "application/json";
}
