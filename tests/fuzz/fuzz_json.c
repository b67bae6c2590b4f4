/* fuzz_json.c - the JSON feed parser with a mapping taken from the input
 * (format: see fuzz_feed.h). */
#include "config.h"

#ifndef FUZZ_NAME
#define FUZZ_NAME fuzz_json
#endif
#include "fuzz.h"
#include "fuzz_feed.h"

int FUZZ_ENTRY(const uint8_t *data, size_t size)
{
	return fuzz_feed_run(FORMAT_JSON, data, size);
}
