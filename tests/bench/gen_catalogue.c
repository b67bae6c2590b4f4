/* gen_catalogue.c - benchmark helper.
 *
 *   gen_catalogue links N SLUG FILE      catalogue CSV of N linked SKUs
 *   gen_catalogue csv N PCT SEED FILE    CSV feed of N rows, PCT% of stocks altered
 *   gen_catalogue measure CMD ARGS...    run CMD, print "wall_ms maxrss_kb" on stderr
 *
 * SKUs and base stocks match the mock supplier's --generate items:
 * "SKU-%07d" with stock (i*7)%50.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int gen_links(long n, const char *slug, const char *path)
{
	FILE *f = fopen(path, "w");

	if (!f)
		return 1;
	fprintf(f, "product_sku,product_name,supplier_slug,supplier_sku\n");
	for (long i = 0; i < n; i++)
		fprintf(f, "P-%07ld,Product %ld,%s,SKU-%07ld\n", i, i, slug, i);
	return fclose(f) != 0;
}

static int gen_csv(long n, double pct, unsigned seed, const char *path)
{
	FILE *f = fopen(path, "w");

	if (!f)
		return 1;
	srand(seed);
	fprintf(f, "sku,stock,updated_at\n");
	for (long i = 0; i < n; i++) {
		long stock = (i * 7) % 50;
		if (pct > 0 && (double)rand() / RAND_MAX * 100.0 < pct)
			stock += 1 + rand() % 5;
		fprintf(f, "SKU-%07ld,%ld,2026-11-01T00:00:00Z\n", i, stock);
	}
	return fclose(f) != 0;
}

static int measure(char **argv)
{
	struct timespec a, b;
	struct rusage ru;
	int status;
	pid_t pid;

	clock_gettime(CLOCK_MONOTONIC, &a);
	pid = fork();
	if (pid == 0) {
		execvp(argv[0], argv);
		_exit(127);
	}
	if (pid < 0 || wait4(pid, &status, 0, &ru) < 0)
		return 1;
	clock_gettime(CLOCK_MONOTONIC, &b);
	fprintf(stderr, "measure: %lld %ld\n",
	        (long long)((b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000),
	        ru.ru_maxrss);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}

int main(int argc, char **argv)
{
	if (argc == 5 && strcmp(argv[1], "links") == 0)
		return gen_links(atol(argv[2]), argv[3], argv[4]);
	if (argc == 6 && strcmp(argv[1], "csv") == 0)
		return gen_csv(atol(argv[2]), atof(argv[3]), (unsigned)atoi(argv[4]), argv[5]);
	if (argc >= 3 && strcmp(argv[1], "measure") == 0)
		return measure(argv + 2);
	fprintf(stderr, "usage: gen_catalogue links N SLUG FILE | csv N PCT SEED FILE | "
	                "measure CMD ARGS...\n");
	return 2;
}
