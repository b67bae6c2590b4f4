/* replay.c - runs every saved fuzz input through its target's entry point,
 * without libFuzzer: tests/fuzz/regressions/TARGET/ (crashes found and
 * fixed) and tests/fuzz/corpus/TARGET/ (the seeds).  Built for make check
 * with any compiler; a regression that comes back crashes or aborts here.
 *
 *   replay                       every target, under $top_srcdir (default .)
 *   replay TARGET FILE...        the given files through one target
 */
#include "config.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/unit/tap.h"
#include "util/util.h"

typedef int (*fuzz_fn)(const uint8_t *data, size_t size);

int fuzz_json_one_input(const uint8_t *data, size_t size);
int fuzz_csv_one_input(const uint8_t *data, size_t size);
int fuzz_xml_one_input(const uint8_t *data, size_t size);
int fuzz_signature_one_input(const uint8_t *data, size_t size);
int fuzz_webhook_body_one_input(const uint8_t *data, size_t size);
int fuzz_schedule_one_input(const uint8_t *data, size_t size);
int fuzz_config_one_input(const uint8_t *data, size_t size);

static const struct {
	const char *name;
	fuzz_fn fn;
} targets[] = {
	{ "fuzz_json", fuzz_json_one_input },
	{ "fuzz_csv", fuzz_csv_one_input },
	{ "fuzz_xml", fuzz_xml_one_input },
	{ "fuzz_signature", fuzz_signature_one_input },
	{ "fuzz_webhook_body", fuzz_webhook_body_one_input },
	{ "fuzz_schedule", fuzz_schedule_one_input },
	{ "fuzz_config", fuzz_config_one_input },
};

/* Runs one file; -1 when it cannot be read. */
static int run_file(fuzz_fn fn, const char *path)
{
	struct error err;
	size_t len;
	char *data;
	uint8_t *copy;

	data = file_read_all(path, &len, &err);
	if (!data) {
		printf("# %s\n", err.msg);
		return -1;
	}
	/* an exact-size copy, so a read past the end shows under ASan */
	copy = xmalloc(len ? len : 1);
	memcpy(copy, data, len);
	fn(copy, len);
	free(copy);
	free(data);
	return 0;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Runs every regular file in dir (sorted); returns the count, or -1 when a
 * file cannot be read.  A missing directory has no files. */
static int run_dir(fuzz_fn fn, const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char **names = NULL;
	size_t n = 0, cap = 0, i;
	int count = 0;

	if (!d)
		return 0;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			names = xrealloc(names, cap * sizeof(*names));
		}
		names[n++] = xasprintf("%s/%s", dir, de->d_name);
	}
	closedir(d);
	if (n > 1)
		qsort(names, n, sizeof(*names), name_cmp);
	for (i = 0; i < n; i++) {
		if (count >= 0 && run_file(fn, names[i]) == 0)
			count++;
		else
			count = -1;
		free(names[i]);
	}
	free(names);
	return count;
}

int main(int argc, char **argv)
{
	const char *top = getenv("top_srcdir");
	size_t t;
	int i;

	if (argc > 2) {
		for (t = 0; t < ARRAY_SIZE(targets); t++)
			if (strcmp(argv[1], targets[t].name) == 0)
				break;
		if (t == ARRAY_SIZE(targets)) {
			fprintf(stderr, "replay: unknown target %s\n", argv[1]);
			return 2;
		}
		for (i = 2; i < argc; i++)
			ok(run_file(targets[t].fn, argv[i]) == 0, "%s %s", targets[t].name, argv[i]);
		return tap_done();
	}
	if (!top || !*top)
		top = ".";
	for (t = 0; t < ARRAY_SIZE(targets); t++) {
		char *corpus = xasprintf("%s/tests/fuzz/corpus/%s", top, targets[t].name);
		char *regr = xasprintf("%s/tests/fuzz/regressions/%s", top, targets[t].name);
		int nc = run_dir(targets[t].fn, corpus);
		int nr = run_dir(targets[t].fn, regr);

		ok(nc > 0, "%s: %d seed inputs replayed", targets[t].name, nc);
		ok(nr >= 0, "%s: %d regression inputs replayed", targets[t].name, nr);
		free(corpus);
		free(regr);
	}
	return tap_done();
}
