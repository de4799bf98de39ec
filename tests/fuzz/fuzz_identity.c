// SPDX-License-Identifier: GPL-2.0
/*
 * Cgroup paths (identity__parse): for any bytes, a container id found is 12..128 lowercase
 * hex digits that occur in the path, a pod uid is [0-9A-Za-z-] only (no '_' left), and the
 * series key of what was found splits back into the same labels and tool name.
 */
#include <string.h>

#include "fuzz.h"
#include "identity/identity.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *path = malloc(size + 1), key[2048];
	struct cgroup_identity id;
	struct identity_labels labels, back;
	size_t n;

	if (!path)
		return 0;
	memcpy(path, data, size);
	path[size] = '\0';
	identity__parse(path, &id);
	n = strlen(id.container_id);
	FUZZ_CHECK(!n || (n >= 12 && n < IDENTITY_ID_MAX));
	FUZZ_CHECK(strspn(id.container_id, "0123456789abcdef") == n);
	FUZZ_CHECK(!n || strstr(path, id.container_id));
	n = strlen(id.pod_uid);
	FUZZ_CHECK(n < IDENTITY_UID_MAX);
	FUZZ_CHECK(strspn(id.pod_uid, "0123456789abcdefghijklmnopqrstuvwxyz"
				      "ABCDEFGHIJKLMNOPQRSTUVWXYZ-") == n);
	FUZZ_CHECK((id.qos == IDENTITY_QOS_NONE) == !id.pod_uid[0]);
	identity__labels(&id, NULL, 0x1f, &labels);
	FUZZ_CHECK(identity__key(&labels, path, key, sizeof(key)) || strlen(path) > 1000);
	FUZZ_CHECK(strlen(key) < sizeof(key));
	if (strlen(path) < 1000) {
		FUZZ_CHECK(identity__key(&labels, path, key, sizeof(key)));
		FUZZ_CHECK(!strcmp(identity__split_key(key, &back), path));
		FUZZ_CHECK(!memcmp(&labels, &back, sizeof(labels)));
	}
	free(path);
	return 0;
}
