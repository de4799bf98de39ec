// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target for the Kubernetes PodList parser (seeds in tests/fuzz/corpus/podlist/):
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE -Iuser -Itests/fuzz \
 *     tests/fuzz/fuzz_podlist.c user/kube_podlist.c -ljansson -o fuzz_podlist
 *   ./fuzz_podlist -max_total_time=60
 * Whatever the body, the parser returns a map or one line of error, and every pod it kept
 * is found again by its uid with bounded, NUL-terminated names.
 */
#include <errno.h>
#include <string.h>

#include "fuzz.h"
#include "identity/kube_podlist.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kube_podmap *m = NULL;
	struct kube_pod_names n;
	char why[512];
	int err = kube_podlist__parse((const char *)data, size, &m, why, sizeof(why));

	if (err) {
		FUZZ_CHECK(err == -EINVAL || err == -ENOMEM);
		FUZZ_CHECK(!m);
		FUZZ_CHECK(!strchr(why, '\n'));
		return 0;
	}
	FUZZ_CHECK(m);
	FUZZ_CHECK(m->nr_pods <= KUBE_PODS_MAX && m->nr_containers <= KUBE_CONTAINERS_MAX);
	for (size_t i = 0; i < m->nr_pods; i++) {
		const struct kube_pod *p = &m->pods[i];
		const struct kube_pod *found = kube_podmap__find(m, p->uid);

		FUZZ_CHECK(p->uid[0] && p->name[0] && p->namespace_[0]);
		FUZZ_CHECK(found && !strcmp(found->uid, p->uid)); /* the first pod of that uid */
		FUZZ_CHECK(p->first_container + p->nr_containers <= m->nr_containers);
		for (size_t c = 0; c < p->nr_containers; c++) {
			const struct kube_container *k = &m->containers[p->first_container + c];

			FUZZ_CHECK(memchr(k->id, 0, sizeof(k->id)) && k->id[0]);
			FUZZ_CHECK(memchr(k->name, 0, sizeof(k->name)));
			FUZZ_CHECK(kube_podmap__lookup(m, found->uid, k->id, &n, NULL));
			FUZZ_CHECK(memchr(n.container, 0, sizeof(n.container)));
		}
		if (p->mirror_uid[0])
			FUZZ_CHECK(kube_podmap__find(m, p->mirror_uid));
	}
	kube_podmap__free(m);
	return 0;
}
