// SPDX-License-Identifier: GPL-2.0
/*
 * Drives the Kubernetes API client (user/kube.c) the way the event loop will, for
 * test_kube.py: kube_probe URL CA_FILE TOKEN_FILE NODE, then commands on stdin, one
 * answer line each on stdout:
 *   lookup UID [CID]     -> "1 NAMESPACE POD CONTAINER" or "0" (names "-" when empty)
 *   stats                -> "ok=N failures=N hit=N miss=N pods=N generation=N"
 *   hammer THREADS N UID CID -> "found=N max_us=N": N lookups in each of THREADS threads,
 *                           the slowest single lookup in microseconds
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "identity/kube.h"
#include "lib/log.h"

struct hammer {
	struct kube *k;
	const char *uid, *cid;
	long n, found;
	uint64_t max_ns;
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void *hammer_run(void *arg)
{
	struct hammer *h = arg;
	struct kube_pod_names names;

	for (long i = 0; i < h->n; i++) {
		uint64_t t0 = now_ns(), dt;

		h->found += kube__lookup(h->k, h->uid, h->cid, &names);
		dt = now_ns() - t0;
		if (dt > h->max_ns)
			h->max_ns = dt;
	}
	return NULL;
}

static const char *or_dash(const char *s)
{
	return *s ? s : "-";
}

int main(int argc, char **argv)
{
	struct kube_options o;
	struct kube *k;
	char line[1024], err[512];

	if (argc != 5) {
		fprintf(stderr, "usage: kube_probe URL CA_FILE TOKEN_FILE NODE\n");
		return 2;
	}
	log__setup(LOG_DEBUG, LOG_STYLE_CLI, "kube_probe");
	kube_options__init(&o);
	o.enable = true;
	snprintf(o.api_url, sizeof(o.api_url), "%s", argv[1]);
	snprintf(o.ca_file, sizeof(o.ca_file), "%s", argv[2]);
	snprintf(o.token_file, sizeof(o.token_file), "%s", argv[3]);
	snprintf(o.node_name, sizeof(o.node_name), "%s", argv[4]);
	o.timeout_ns = 1000000000ULL;
	k = kube__start(&o, err, sizeof(err));
	if (!k) {
		fprintf(stderr, "kube_probe: %s\n", err);
		return 1;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	while (fgets(line, sizeof(line), stdin)) {
		char cmd[32] = "", uid[256] = "", cid[256] = "";
		struct kube_pod_names names;
		struct kube_stats st;
		long threads = 0, n = 0;

		if (sscanf(line, "%31s", cmd) != 1)
			continue;
		if (!strcmp(cmd, "lookup")) {
			sscanf(line, "%*s %255s %255s", uid, cid);
			if (kube__lookup(k, uid, cid, &names))
				printf("1 %s %s %s\n", or_dash(names.namespace_),
				       or_dash(names.pod), or_dash(names.container));
			else
				printf("0\n");
		} else if (!strcmp(cmd, "stats")) {
			uint64_t failed = 0;

			kube__stats(k, &st);
			for (int f = 0; f < KUBE_FAIL_MAX; f++)
				failed += st.failures[f];
			printf(
			    "ok=%llu failures=%llu hit=%llu miss=%llu pods=%llu generation=%llu\n",
			    (unsigned long long)st.requests_ok, (unsigned long long)failed,
			    (unsigned long long)st.lookups_hit, (unsigned long long)st.lookups_miss,
			    (unsigned long long)st.pods, (unsigned long long)kube__generation(k));
		} else if (!strcmp(cmd, "hammer") &&
			   sscanf(line, "%*s %ld %ld %255s %255s", &threads, &n, uid, cid) == 4 &&
			   threads > 0 && threads <= 16) {
			struct hammer h[16];
			pthread_t t[16];
			long found = 0;
			uint64_t max_ns = 0;

			for (long i = 0; i < threads; i++) {
				h[i] = (struct hammer){.k = k, .uid = uid, .cid = cid, .n = n};
				pthread_create(&t[i], NULL, hammer_run, &h[i]);
			}
			for (long i = 0; i < threads; i++) {
				pthread_join(t[i], NULL);
				found += h[i].found;
				if (h[i].max_ns > max_ns)
					max_ns = h[i].max_ns;
			}
			printf("found=%ld max_us=%llu\n", found,
			       (unsigned long long)(max_ns / 1000));
		} else {
			printf("?\n");
		}
	}
	kube__stop(k);
	return 0;
}
