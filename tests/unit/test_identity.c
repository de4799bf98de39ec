// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "lib/flags.h"
#include "identity/identity.h"

#define CID  "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define CID2 "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210"
#define UID  "1b4e28ba-2fa1-11d2-883f-0016d3cca427"
#define UIDS "1b4e28ba_2fa1_11d2_883f_0016d3cca427"

static void assert_identity(const char *path, const char *cid, const char *uid,
			    enum identity_qos qos)
{
	struct cgroup_identity id;
	bool found = identity__parse(path, &id);

	if (strcmp(id.container_id, cid) || strcmp(id.pod_uid, uid) || id.qos != qos)
		fail_msg("'%s': got container '%s' pod '%s' qos %d, want '%s' '%s' %d", path,
			 id.container_id, id.pod_uid, id.qos, cid, uid, qos);
	assert_int_equal(found, cid[0] || uid[0]);
}

static void test_identity_systemd_layouts(void **state)
{
	(void)state;
	assert_identity("/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" UIDS
			".slice/cri-containerd-" CID ".scope",
			CID, UID, IDENTITY_QOS_BURSTABLE);
	assert_identity("/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" UIDS
			".slice/crio-" CID ".scope",
			CID, UID, IDENTITY_QOS_BESTEFFORT);
	assert_identity("/kubepods.slice/kubepods-pod" UIDS ".slice/docker-" CID ".scope", CID, UID,
			IDENTITY_QOS_GUARANTEED);
	/* the pod's own slice (a pause-less process, or the sandbox) */
	assert_identity("kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" UIDS
			".slice",
			"", UID, IDENTITY_QOS_BURSTABLE);
	/* docker and podman outside Kubernetes */
	assert_identity("/system.slice/docker-" CID ".scope", CID, "", IDENTITY_QOS_NONE);
	assert_identity("/machine.slice/libpod-" CID ".scope/container", CID, "",
			IDENTITY_QOS_NONE);
	/* conmon is the runtime's monitor, not the container */
	assert_identity("/kubepods.slice/kubepods-pod" UIDS ".slice/crio-conmon-" CID ".scope", "",
			UID, IDENTITY_QOS_GUARANTEED);
}

static void test_identity_cgroupfs_layouts(void **state)
{
	(void)state;
	assert_identity("/kubepods/burstable/pod" UID "/" CID, CID, UID, IDENTITY_QOS_BURSTABLE);
	assert_identity("/kubepods/besteffort/pod" UID "/" CID, CID, UID, IDENTITY_QOS_BESTEFFORT);
	assert_identity("/kubepods/pod" UID "/" CID, CID, UID, IDENTITY_QOS_GUARANTEED);
	assert_identity("/kubepods/pod" UID "/crio-" CID, CID, UID, IDENTITY_QOS_GUARANTEED);
	assert_identity("/docker/" CID, CID, "", IDENTITY_QOS_NONE);
	assert_identity("docker/" CID "/", CID, "", IDENTITY_QOS_NONE);
	/* a pod uid that is not a UUID (a static pod's config hash) */
	assert_identity("/kubepods/pod0123abcd/" CID, CID, "0123abcd", IDENTITY_QOS_GUARANTEED);
}

static void test_identity_nested_takes_innermost(void **state)
{
	(void)state;
	/* docker in docker */
	assert_identity("/docker/" CID "/docker/" CID2, CID2, "", IDENTITY_QOS_NONE);
	/* a kind node (a container) running a pod: the pod's container wins */
	assert_identity("/docker/" CID "/kubepods/burstable/pod" UID "/" CID2, CID2, UID,
			IDENTITY_QOS_BURSTABLE);
	assert_identity("/system.slice/docker-" CID ".scope/kubepods.slice/kubepods-pod" UIDS
			".slice/cri-containerd-" CID2 ".scope",
			CID2, UID, IDENTITY_QOS_GUARANTEED);
	/* a pod slice inside a container: the container id before it belongs to the node */
	assert_identity("/docker/" CID "/kubepods/pod" UID, "", UID, IDENTITY_QOS_GUARANTEED);
	/* a sub-cgroup the container made for itself keeps the container */
	assert_identity("/kubepods/pod" UID "/" CID "/init.scope", CID, UID,
			IDENTITY_QOS_GUARANTEED);
}

static void test_identity_garbage(void **state)
{
	(void)state;
	assert_identity("", "", "", IDENTITY_QOS_NONE);
	assert_identity("/", "", "", IDENTITY_QOS_NONE);
	assert_identity("/user.slice/user-0.slice/session-3.scope", "", "", IDENTITY_QOS_NONE);
	assert_identity("/system.slice/cron.service", "", "", IDENTITY_QOS_NONE);
	/* ids too short, too long, upper case, not hex */
	assert_identity("/docker/0123456789a", "", "", IDENTITY_QOS_NONE);
	assert_identity("/docker/0123456789ABCDEF", "", "", IDENTITY_QOS_NONE);
	assert_identity("/docker/" CID CID CID, "", "", IDENTITY_QOS_NONE);
	assert_identity("/docker/zzzzzzzzzzzzzzzz", "", "", IDENTITY_QOS_NONE);
	assert_identity("/system.slice/docker-" CID ".scopex", "", "", IDENTITY_QOS_NONE);
	assert_identity("/system.slice/docker-.scope", "", "", IDENTITY_QOS_NONE);
	/* a hex directory not under docker or a pod */
	assert_identity("/srv/" CID, "", "", IDENTITY_QOS_NONE);
	/* pod directories outside kubepods, hostile uids */
	assert_identity("/pod" UID "/" CID, "", "", IDENTITY_QOS_NONE);
	assert_identity("/kubepods/pod\"x\"/" CID, "", "", IDENTITY_QOS_NONE);
	assert_identity("/kubepods/pod/" CID, "", "", IDENTITY_QOS_NONE);
	assert_identity("/kubepods.slice/kubepods-pod\x1f.slice", "", "", IDENTITY_QOS_NONE);
	assert_identity("/kubepods.slice/kubepods-burstable-pod.slice", "", "", IDENTITY_QOS_NONE);
	assert_identity("/kubepods/weird/pod" UID "/" CID, "", "", IDENTITY_QOS_NONE);
	assert_identity("////docker////" CID, CID, "", IDENTITY_QOS_NONE);
	assert_identity(NULL, "", "", IDENTITY_QOS_NONE);
}

struct fake_source {
	int calls;
	char last_uid[IDENTITY_UID_MAX];
	char last_cid[IDENTITY_ID_MAX];
	const char *pod;
};

static bool fake_lookup(void *ctx, const char *pod_uid, const char *container_id,
			struct kube_pod_names *out)
{
	struct fake_source *f = ctx;

	f->calls++;
	snprintf(f->last_uid, sizeof(f->last_uid), "%s", pod_uid);
	snprintf(f->last_cid, sizeof(f->last_cid), "%s", container_id);
	if (strcmp(pod_uid, UID))
		return false;
	snprintf(out->namespace_, sizeof(out->namespace_), "prod");
	snprintf(out->pod, sizeof(out->pod), "%s", f->pod);
	if (!strcmp(container_id, CID))
		snprintf(out->container, sizeof(out->container), "app");
	return true;
}

static void test_identity_labels_with_names(void **state)
{
	struct fake_source f = {.pod = "web-7d9f"};
	struct name_source src = {fake_lookup, &f};
	struct cgroup_identity id;
	struct identity_labels l;

	(void)state;
	identity__parse("/kubepods/burstable/pod" UID "/" CID, &id);
	assert_true(identity__labels(&id, &src, 0x1f, &l));
	assert_string_equal(l.value[IDENTITY_LABEL_CONTAINER_ID], CID);
	assert_string_equal(l.value[IDENTITY_LABEL_POD_UID], UID);
	assert_string_equal(l.value[IDENTITY_LABEL_NAMESPACE], "prod");
	assert_string_equal(l.value[IDENTITY_LABEL_POD], "web-7d9f");
	assert_string_equal(l.value[IDENTITY_LABEL_CONTAINER], "app");
	assert_string_equal(f.last_uid, UID);
	assert_string_equal(f.last_cid, CID);

	/* only what the mask asks for */
	assert_true(identity__labels(&id, &src, 1u << IDENTITY_LABEL_POD, &l));
	assert_string_equal(l.value[IDENTITY_LABEL_CONTAINER_ID], "");
	assert_string_equal(l.value[IDENTITY_LABEL_POD], "web-7d9f");
	assert_string_equal(l.value[IDENTITY_LABEL_NAMESPACE], "");

	/* ids only: the source is not asked */
	f.calls = 0;
	assert_false(identity__labels(&id, &src, 3, &l));
	assert_int_equal(f.calls, 0);
	assert_string_equal(l.value[IDENTITY_LABEL_POD_UID], UID);
}

static void test_identity_labels_fall_back(void **state)
{
	struct fake_source f = {.pod = "bad\nname"};
	struct name_source src = {fake_lookup, &f};
	struct cgroup_identity id;
	struct identity_labels l;

	(void)state;
	/* an unknown pod: ids stay, names empty */
	identity__parse("/kubepods/pod0000aaaa/" CID, &id);
	assert_false(identity__labels(&id, &src, 0x1f, &l));
	assert_string_equal(l.value[IDENTITY_LABEL_CONTAINER_ID], CID);
	assert_string_equal(l.value[IDENTITY_LABEL_POD_UID], "0000aaaa");
	assert_string_equal(l.value[IDENTITY_LABEL_POD], "");
	/* no source at all */
	identity__parse("/kubepods/pod" UID "/" CID, &id);
	assert_false(identity__labels(&id, NULL, 0x1f, &l));
	assert_string_equal(l.value[IDENTITY_LABEL_POD_UID], UID);
	assert_string_equal(l.value[IDENTITY_LABEL_NAMESPACE], "");
	/* a name with a control byte is refused, the others kept */
	assert_true(identity__labels(&id, &src, 0x1f, &l));
	assert_string_equal(l.value[IDENTITY_LABEL_POD], "");
	assert_string_equal(l.value[IDENTITY_LABEL_NAMESPACE], "prod");
	/* outside any container: everything empty, the source not asked */
	f.calls = 0;
	identity__parse("/user.slice", &id);
	assert_false(identity__labels(&id, &src, 0x1f, &l));
	for (int i = 0; i < IDENTITY_LABELS; i++)
		assert_string_equal(l.value[i], "");
	assert_int_equal(f.calls, 0);
}

static void test_identity_key_round_trip(void **state)
{
	struct identity_labels l = {}, back;
	char key[2048];
	const char *tool;

	(void)state;
	snprintf(l.value[IDENTITY_LABEL_POD_UID], IDENTITY_NAME_MAX, UID);
	snprintf(l.value[IDENTITY_LABEL_POD], IDENTITY_NAME_MAX, "web");
	/* a tool name may hold the separator itself */
	assert_true(identity__key(&l, "odd\x1fname", key, sizeof(key)));
	tool = identity__split_key(key, &back);
	assert_string_equal(tool, "odd\x1fname");
	assert_memory_equal(&l, &back, sizeof(l));
	/* a plain name (the "other" series) has every label empty */
	tool = identity__split_key("other", &back);
	assert_string_equal(tool, "other");
	assert_string_equal(back.value[IDENTITY_LABEL_POD], "");
	/* too small: refused, terminated */
	assert_false(identity__key(&l, "sh", key, 10));
	assert_true(strlen(key) < 10);
}

static void test_identity_label_list(void **state)
{
	unsigned int mask = 0;
	char bad[64];

	(void)state;
	assert_int_equal(flag_list__parse(identity_label_names, "namespace,pod,container", &mask,
					  bad, sizeof(bad)),
			 0);
	assert_int_equal(mask, (1u << IDENTITY_LABEL_NAMESPACE) | (1u << IDENTITY_LABEL_POD) |
				   (1u << IDENTITY_LABEL_CONTAINER));
	assert_int_not_equal(
	    flag_list__parse(identity_label_names, "pod,node", &mask, bad, sizeof(bad)), 0);
	assert_string_equal(bad, "node");
	assert_string_equal(identity_qos__name(IDENTITY_QOS_BESTEFFORT), "besteffort");
	assert_string_equal(identity_qos__name(IDENTITY_QOS_NONE), "");
}

static void test_identity_contributors_ranked(void **state)
{
	struct identity_labels web = {}, uid_only = {}, host = {}, cid_only = {};
	char k[5][2048], out[512];
	struct identity_share shares[5];

	(void)state;
	snprintf(web.value[IDENTITY_LABEL_NAMESPACE], IDENTITY_NAME_MAX, "prod");
	snprintf(web.value[IDENTITY_LABEL_POD], IDENTITY_NAME_MAX, "web-1");
	snprintf(web.value[IDENTITY_LABEL_CONTAINER], IDENTITY_NAME_MAX, "app");
	snprintf(uid_only.value[IDENTITY_LABEL_POD_UID], IDENTITY_NAME_MAX, UID);
	snprintf(cid_only.value[IDENTITY_LABEL_CONTAINER_ID], IDENTITY_NAME_MAX, CID);
	identity__key(&web, "curl", k[0], sizeof(k[0]));
	identity__key(&uid_only, "curl", k[1], sizeof(k[1]));
	identity__key(&host, "curl", k[2], sizeof(k[2]));
	identity__key(&web, "wget", k[3], sizeof(k[3])); /* another tool: not counted */
	identity__key(&cid_only, "curl", k[4], sizeof(k[4]));
	shares[0] = (struct identity_share){k[0], 62};
	shares[1] = (struct identity_share){k[1], 30};
	shares[2] = (struct identity_share){k[2], 8};
	shares[3] = (struct identity_share){k[3], 1000};
	shares[4] = (struct identity_share){k[4], 0};
	assert_int_equal(identity__contributors(shares, 5, "curl", 3, out, sizeof(out)), 3);
	assert_string_equal(out, "prod/web-1/app 62%,pod_uid=" UID " 30%,host 8%");
	assert_int_equal(identity__contributors(shares, 5, "curl", 1, out, sizeof(out)), 1);
	assert_string_equal(out, "prod/web-1/app 62%");
	shares[4].amount = 62; /* a tie: the first series first */
	assert_int_equal(identity__contributors(shares, 5, "curl", 2, out, sizeof(out)), 2);
	assert_string_equal(out, "prod/web-1/app 38%,container_id=0123456789ab 38%");
	/* nothing grew, an unknown tool, a buffer too small */
	assert_int_equal(identity__contributors(shares, 5, "sh", 3, out, sizeof(out)), 0);
	assert_string_equal(out, "");
	assert_int_equal(identity__contributors(shares, 5, "curl", 3, out, 8), 0);
	assert_string_equal(out, "");
}

static void test_cgroup2_mount_point_from_mountinfo(void **state)
{
	static const char hybrid[] =
	    "22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw\n"
	    "30 22 0:26 / /sys/fs/cgroup ro,nosuid shared:9 - tmpfs tmpfs ro,mode=755\n"
	    "31 30 0:27 / /sys/fs/cgroup/unified rw,nosuid shared:10 - cgroup2 cgroup2 rw\n"
	    "32 30 0:28 / /sys/fs/cgroup/cpu rw shared:11 - cgroup cgroup rw,cpu\n";
	static const char unified[] =
	    "25 1 0:22 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime - cgroup2 cgroup2 "
	    "rw,nsdelegate\n";
	static const char escaped[] = "40 1 0:30 / /mnt/my\\040cgroups rw - cgroup2 none rw";
	static const char none[] = "22 1 8:1 / / rw - ext4 /dev/sda1 rw\n"
				   "32 30 0:28 / /sys/fs/cgroup/cpu rw - cgroup cgroup2 rw,cpu\n";
	char out[64];

	(void)state;
	assert_int_equal(cgroup2__mount_point(hybrid, out, sizeof(out)), 0);
	assert_string_equal(out, "/sys/fs/cgroup/unified");
	assert_int_equal(cgroup2__mount_point(unified, out, sizeof(out)), 0);
	assert_string_equal(out, "/sys/fs/cgroup");
	assert_int_equal(cgroup2__mount_point(escaped, out, sizeof(out)), 0);
	assert_string_equal(out, "/mnt/my cgroups");
	assert_int_equal(cgroup2__mount_point(none, out, sizeof(out)), -ENOENT);
	assert_int_equal(cgroup2__mount_point("", out, sizeof(out)), -ENOENT);
	assert_int_equal(cgroup2__mount_point(hybrid, out, 8), -ENAMETOOLONG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_identity_systemd_layouts),
	    cmocka_unit_test(test_identity_cgroupfs_layouts),
	    cmocka_unit_test(test_identity_nested_takes_innermost),
	    cmocka_unit_test(test_identity_garbage),
	    cmocka_unit_test(test_identity_labels_with_names),
	    cmocka_unit_test(test_identity_labels_fall_back),
	    cmocka_unit_test(test_identity_key_round_trip),
	    cmocka_unit_test(test_identity_label_list),
	    cmocka_unit_test(test_identity_contributors_ranked),
	    cmocka_unit_test(test_cgroup2_mount_point_from_mountinfo),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
