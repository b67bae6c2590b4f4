/* fuzz_config.c - loading a supplier file (libconfig syntax and every
 * option's checks) from a private temporary file.
 *
 * Inputs that name a command secret (secret_cmd, token_cmd, ...) or use
 * @include are skipped: the loader would run or read them.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef FUZZ_NAME
#define FUZZ_NAME fuzz_config
#endif
#include "fuzz.h"
#include "conf/conf.h"

static bool has_word(const uint8_t *data, size_t size, const char *word)
{
	size_t n = strlen(word), i, j;

	for (i = 0; i + n <= size; i++) {
		for (j = 0; j < n; j++)
			if ((data[i + j] | 0x20) != word[j])
				break;
		if (j == n)
			return true;
	}
	return false;
}

int FUZZ_ENTRY(const uint8_t *data, size_t size)
{
	const char *tmp = getenv("TMPDIR");
	struct supplier_conf s;
	struct error err;
	char *dir, *path;
	FILE *f;

	if (has_word(data, size, "cmd") || has_word(data, size, "include"))
		return 0;
	/* a directory per input, removed at once: nothing is left behind even
	 * when a later input crashes the process */
	dir = xasprintf("%s/fuzz_config.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(dir))
		abort();
	path = xasprintf("%s/acme.conf", dir);
	f = fopen(path, "w");
	if (!f)
		abort();
	if (size && fwrite(data, 1, size, f) != size)
		abort();
	if (fclose(f) != 0)
		abort();
	memset(&s, 0, sizeof(s));
	(void)conf_load_supplier(path, &s, &err);
	conf_supplier_free(&s);
	unlink(path);
	rmdir(dir);
	free(path);
	free(dir);
	return 0;
}
