// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "anomaly/baseline_codec.h"
#include "anomaly/state.h"
#include "lib/file.h"
#include "lib/strbuf.h"

static void set_why(char *why, size_t why_size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_why(char *why, size_t why_size, const char *fmt, ...)
{
	va_list ap;

	if (!why || !why_size)
		return;
	va_start(ap, fmt);
	vsnprintf(why, why_size, fmt, ap);
	va_end(ap);
}

/* mkdir -p with mode for what it creates; the result must be a directory. */
static int make_dirs(const char *dir, mode_t mode)
{
	struct stat st;
	char *path, *p, saved;
	int err = 0;

	path = strdup(dir);
	if (!path)
		return -ENOMEM;
	for (p = path + 1;; p++) {
		if (*p && *p != '/')
			continue;
		saved = *p;
		*p = '\0';
		if (mkdir(path, mode) && errno != EEXIST) {
			err = -errno;
			goto out;
		}
		*p = saved;
		if (!*p)
			break;
	}
	if (stat(dir, &st)) {
		err = -errno;
		goto out;
	}
	if (!S_ISDIR(st.st_mode))
		err = -ENOTDIR;
out:
	free(path);
	return err;
}

static int write_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = write(fd, buf, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

static int fsync_dir(const char *dir)
{
	int fd, err = 0;

	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fsync(fd))
		err = -errno;
	close(fd);
	return err;
}

int state__save(const struct anomaly_detector *d, const char *dir)
{
	char *path = NULL, *tmp = NULL;
	struct strbuf sb = {0};
	int fd = -1, err;

	if (!d || !dir || !*dir)
		return -EINVAL;
	err = anomaly__serialize(d, &sb);
	if (err)
		goto out;
	err = make_dirs(dir, 0700);
	if (err)
		goto out;
	if (asprintf(&path, "%s/%s", dir, STATE_FILE_NAME) < 0) {
		path = NULL;
		err = -ENOMEM;
		goto out;
	}
	if (asprintf(&tmp, "%s/.%s.XXXXXX", dir, STATE_FILE_NAME) < 0) {
		tmp = NULL;
		err = -ENOMEM;
		goto out;
	}
	fd = mkostemp(tmp, O_CLOEXEC); /* mode 0600 */
	if (fd < 0) {
		err = -errno;
		goto out;
	}
	err = write_all(fd, sb.buf, sb.len);
	if (err)
		goto unlink_tmp;
	if (fsync(fd)) {
		err = -errno;
		goto unlink_tmp;
	}
	err = close(fd) ? -errno : 0;
	fd = -1;
	if (err)
		goto unlink_tmp;
	if (rename(tmp, path)) {
		err = -errno;
		goto unlink_tmp;
	}
	err = fsync_dir(dir);
	goto out;
unlink_tmp:
	if (fd >= 0)
		close(fd);
	fd = -1;
	unlink(tmp);
out:
	free(tmp);
	free(path);
	strbuf__free(&sb);
	return err;
}

/* Reads a regular file of at most max bytes; *why set on failure. */
static int read_file(const char *path, size_t max, char **data, size_t *len, char *why,
		     size_t why_size)
{
	/* no symlinks (a root daemon writing here), no blocking on a FIFO */
	int err = file__read(path, max, FILE_REGULAR | FILE_NOFOLLOW, data, len);

	if (err == -EFBIG)
		set_why(why, why_size,
			"state file '%s' is larger than the %zu bytes its baselines could need "
			"(--anomaly.max-tools, --anomaly.seasonal); not read",
			path, max);
	else if (err == -EINVAL)
		set_why(why, why_size, "state file '%s' is not a regular file", path);
	else if (err)
		set_why(why, why_size, "cannot read '%s': %s", path, strerror(-err));
	return err;
}

int state__load(struct anomaly_detector *d, const char *dir, char *why, size_t why_size)
{
	char *path = NULL, *data = NULL;
	size_t len = 0, max;
	int err;

	if (why && why_size)
		why[0] = '\0';
	if (!d || !dir || !*dir) {
		set_why(why, why_size, "no state directory given");
		return -EINVAL;
	}
	if (asprintf(&path, "%s/%s", dir, STATE_FILE_NAME) < 0) {
		set_why(why, why_size, "cannot load state: %s", strerror(ENOMEM));
		return -ENOMEM;
	}
	/* checked against the file's size before a byte is read */
	max = anomaly__serialized_max(d);
	if (max > STATE_MAX_BYTES)
		max = STATE_MAX_BYTES;
	err = read_file(path, max, &data, &len, why, why_size);
	if (err)
		goto out;
	err = anomaly__deserialize(d, data, len);
	switch (err) {
	case 0:
		break;
	case -EPROTO:
		set_why(why, why_size,
			len ? "state file '%s' is not a toolwatch baselines file"
			    : "state file '%s' is empty",
			path);
		break;
	case -EPROTONOSUPPORT:
		set_why(why, why_size, "state file '%s' has an unsupported format version", path);
		break;
	case -EBADMSG:
		set_why(why, why_size, "state file '%s' is truncated or corrupt", path);
		break;
	case -ESTALE:
		set_why(why, why_size,
			"state file '%s' was learned with another anomaly window or baseline span",
			path);
		break;
	default:
		set_why(why, why_size, "cannot load '%s': %s", path, strerror(-err));
		break;
	}
out:
	free(data);
	free(path);
	return err;
}
