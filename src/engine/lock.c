/* lock.c - one sync per supplier at a time, across processes.
 *
 * An flock() on DBDIR/locks/SLUG.lock: the kernel drops it when the holder
 * exits or dies, so a crash never leaves a supplier locked.  The holder's
 * pid is written into the file for the "already running" message.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "engine/sync.h"

static char *lock_dir(const char *db_path)
{
	char *dir;

	if (!db_path || !*db_path || strcmp(db_path, ":memory:") == 0) {
		char *state = path_state_dir();
		dir = path_join(state, "locks");
		free(state);
		return dir;
	}
	{
		char *parent = path_dirname(db_path);
		dir = path_join(parent, "locks");
		free(parent);
	}
	return dir;
}

int sync_lock(const char *db_path, const char *slug, bool wait, struct error *err)
{
	char *dir = lock_dir(db_path);
	char *path = NULL;
	char pidbuf[32];
	int fd = -1;

	if (mkdir_p(dir, err) != 0)
		goto out;
	path = xasprintf("%s/%s.lock", dir, slug);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		err_set(err, ERRK_INTERNAL, _("%s: cannot open lock file: %s"), path, strerror(errno));
		goto out;
	}
	while (flock(fd, LOCK_EX | (wait ? 0 : LOCK_NB)) != 0) {
		if (errno == EINTR && wait)
			continue;
		if (errno == EWOULDBLOCK || errno == EINTR) {
			ssize_t n = pread(fd, pidbuf, sizeof(pidbuf) - 1, 0);
			pidbuf[n > 0 ? n : 0] = '\0';
			err_set(err, ERRK_BUSY,
			        _("supplier '%s' is already being synced (process %s); try again later"),
			        slug, n > 0 ? str_trim(pidbuf) : "?");
		} else {
			err_set(err, ERRK_INTERNAL, _("%s: cannot lock: %s"), path, strerror(errno));
		}
		close(fd);
		fd = -1;
		goto out;
	}
	snprintf(pidbuf, sizeof(pidbuf), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) == 0 && pwrite(fd, pidbuf, strlen(pidbuf), 0) < 0) {
		/* the pid is only informative */
	}
out:
	free(dir);
	free(path);
	return fd;
}

void sync_unlock(int fd)
{
	if (fd >= 0) {
		if (ftruncate(fd, 0) != 0) {
			/* informative only */
		}
		flock(fd, LOCK_UN);
		close(fd);
	}
}
