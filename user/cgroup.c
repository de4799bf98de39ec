// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "cgroup.h"
#include "strbuf.h"
#include "trace_options.h"

#define MOUNTINFO_MAX_BYTES (4 << 20)
#define CGROUP2_MAGIC	    0x63677270 /* CGROUP2_SUPER_MAGIC */

/* Reads a whole (small, virtual) file into sb. 0 or -errno. */
static int read_file(const char *path, struct strbuf *sb, size_t max)
{
	char buf[8192];
	int fd = open(path, O_RDONLY | O_CLOEXEC), err = 0;

	if (fd < 0)
		return -errno;
	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err = -errno;
			break;
		}
		if (n == 0 || sb->len + (size_t)n > max)
			break;
		strbuf__append(sb, buf, (size_t)n);
	}
	close(fd);
	return sb->oom ? -ENOMEM : err;
}

static bool is_cgroup2_dir(const char *path)
{
	struct statfs fs;
	struct stat st;

	return !statfs(path, &fs) && fs.f_type == CGROUP2_MAGIC && !stat(path, &st) &&
	       S_ISDIR(st.st_mode);
}

/* The id bpf_get_current_cgroup_id() reports for tasks in the cgroup at path. */
static int cgroup_id_of(const char *path, uint64_t *id)
{
	union {
		struct file_handle fh;
		char buf[sizeof(struct file_handle) + sizeof(uint64_t)];
	} h;
	int mount_id;
	struct stat st;

	/* the kernfs node id, as the file handle carries it; the inode number otherwise */
	h.fh.handle_bytes = sizeof(uint64_t);
	if (!name_to_handle_at(AT_FDCWD, path, &h.fh, &mount_id, 0) &&
	    h.fh.handle_bytes == sizeof(uint64_t)) {
		memcpy(id, h.fh.f_handle, sizeof(*id));
		return 0;
	}
	if (stat(path, &st))
		return -errno;
	*id = st.st_ino;
	return 0;
}

int cgroup__resolve(const char *arg, uint64_t *id, char *err, size_t err_size)
{
	struct strbuf mountinfo = {}, path = {};
	char mnt[TRACE_PATH_MAX];
	int e;

	if (arg[0] == '/' && is_cgroup2_dir(arg)) {
		e = cgroup_id_of(arg, id);
		if (e)
			snprintf(err, err_size, "invalid --cgroup '%.200s': %s", arg, strerror(-e));
		return e;
	}
	e = read_file("/proc/self/mountinfo", &mountinfo, MOUNTINFO_MAX_BYTES);
	if (!e)
		e = cgroup2__mount_point(mountinfo.buf ? mountinfo.buf : "", mnt, sizeof(mnt));
	strbuf__free(&mountinfo);
	if (e) {
		snprintf(err, err_size, "invalid --cgroup '%.200s': %s", arg,
			 e == -ENOENT ? "no cgroup v2 file system is mounted" : strerror(-e));
		return e;
	}
	strbuf__appendf(&path, "%s/%s", mnt, arg + strspn(arg, "/"));
	if (path.oom) {
		e = -ENOMEM;
		snprintf(err, err_size, "invalid --cgroup '%.200s': %s", arg, strerror(-e));
	} else if (!is_cgroup2_dir(path.buf)) {
		e = -ENOENT;
		snprintf(err, err_size,
			 "invalid --cgroup '%.200s': not a cgroup v2 directory (nor is '%.200s')",
			 arg, path.buf);
	} else {
		e = cgroup_id_of(path.buf, id);
		if (e)
			snprintf(err, err_size, "invalid --cgroup '%.200s': %s", arg, strerror(-e));
	}
	strbuf__free(&path);
	return e;
}
