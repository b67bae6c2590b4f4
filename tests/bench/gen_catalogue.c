/* gen_catalogue.c - benchmark helper.
 *
 *   gen_catalogue links N SLUG FILE      catalogue CSV of N linked SKUs
 *   gen_catalogue csv N PCT SEED FILE    CSV feed of N rows, PCT% of stocks altered
 *   gen_catalogue measure CMD ARGS...    run CMD, print "wall_ms maxrss_kb" on stderr
 *   gen_catalogue webhooks URL SECRET REQUESTS ITEMS SKUS THREADS
 *                                        POST REQUESTS GitHub-signed pushes of ITEMS
 *                                        items each (SKUs SKU-0000000.. below SKUS)
 *                                        over THREADS keep-alive connections; prints
 *                                        "webhooks: ms items failed" on stderr
 *
 * SKUs and base stocks match the mock supplier's --generate items:
 * "SKU-%07d" with stock (i*7)%50.
 */
#include "config.h"

#include <curl/curl.h>
#include <openssl/hmac.h>
#include <pthread.h>
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

struct wh_job {
	const char *url, *secret;
	long requests, items, skus, first;
	long failed;
};

static size_t wh_discard(char *p, size_t size, size_t n, void *ud)
{
	(void)p;
	(void)ud;
	return size * n;
}

static void *wh_worker(void *arg)
{
	struct wh_job *j = arg;
	CURL *c = curl_easy_init();
	size_t cap = (size_t)j->items * 64 + 64;
	char *body = malloc(cap);

	for (long r = 0; r < j->requests; r++) {
		unsigned char mac[32];
		unsigned int maclen = 0;
		char header[128];
		struct curl_slist *h = NULL;
		size_t len = 0;
		long code = 0;

		len += (size_t)snprintf(body + len, cap - len, "{\"items\":[");
		for (long i = 0; i < j->items; i++) {
			long sku = ((j->first + r) * j->items + i) % j->skus;
			len += (size_t)snprintf(body + len, cap - len, "%s{\"sku\":\"SKU-%07ld\",\"stock\":%ld}",
			                        i ? "," : "", sku, (r + i) % 97);
		}
		len += (size_t)snprintf(body + len, cap - len, "]}");
		HMAC(EVP_sha256(), j->secret, (int)strlen(j->secret), (unsigned char *)body, len, mac,
		     &maclen);
		strcpy(header, "X-Hub-Signature-256: sha256=");
		for (unsigned k = 0; k < maclen; k++)
			sprintf(header + strlen(header), "%02x", mac[k]);
		h = curl_slist_append(h, header);
		h = curl_slist_append(h, "Content-Type: application/json");
		curl_easy_setopt(c, CURLOPT_URL, j->url);
		curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)len);
		curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, wh_discard);
		if (curl_easy_perform(c) != CURLE_OK ||
		    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code) != CURLE_OK || code != 200)
			j->failed++;
		curl_slist_free_all(h);
	}
	free(body);
	curl_easy_cleanup(c);
	return NULL;
}

static int webhooks(char **argv)
{
	long requests = atol(argv[2]), items = atol(argv[3]), skus = atol(argv[4]);
	int threads = atoi(argv[5]);
	struct wh_job jobs[64];
	pthread_t th[64];
	struct timespec a, b;
	long failed = 0;

	if (threads < 1 || threads > 64)
		return 2;
	curl_global_init(CURL_GLOBAL_ALL);
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (int t = 0; t < threads; t++) {
		jobs[t] = (struct wh_job){ argv[0], argv[1], requests / threads, items, skus,
		                           t * (requests / threads), 0 };
		pthread_create(&th[t], NULL, wh_worker, &jobs[t]);
	}
	for (int t = 0; t < threads; t++) {
		pthread_join(th[t], NULL);
		failed += jobs[t].failed;
	}
	clock_gettime(CLOCK_MONOTONIC, &b);
	fprintf(stderr, "webhooks: %lld %ld %ld\n",
	        (long long)((b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000),
	        (requests / threads) * threads * items, failed);
	curl_global_cleanup();
	return failed != 0;
}

int main(int argc, char **argv)
{
	if (argc == 5 && strcmp(argv[1], "links") == 0)
		return gen_links(atol(argv[2]), argv[3], argv[4]);
	if (argc == 6 && strcmp(argv[1], "csv") == 0)
		return gen_csv(atol(argv[2]), atof(argv[3]), (unsigned)atoi(argv[4]), argv[5]);
	if (argc >= 3 && strcmp(argv[1], "measure") == 0)
		return measure(argv + 2);
	if (argc == 8 && strcmp(argv[1], "webhooks") == 0)
		return webhooks(argv + 2);
	fprintf(stderr, "usage: gen_catalogue links N SLUG FILE | csv N PCT SEED FILE | "
	                "measure CMD ARGS... | webhooks URL SECRET REQUESTS ITEMS SKUS THREADS\n");
	return 2;
}
