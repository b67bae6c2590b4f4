/* sdnotify.c - the systemd notification datagram, without libsystemd.
 *
 * $NOTIFY_SOCKET names an AF_UNIX datagram socket: a file system path
 * ("/run/systemd/notify"), or "@name" for the Linux abstract namespace
 * (the '@' becomes a leading NUL byte and the address is not
 * NUL-terminated).  Each call sends the state text as one datagram.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "daemon/daemon.h"

int sdnotify(const char *state, struct error *err)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa;
	socklen_t salen;
	size_t plen;
	ssize_t n;
	int fd, rc = -1;

	if (!path || !*path)
		return 0;
	plen = strlen(path);
	if ((path[0] != '/' && path[0] != '@') || plen < 2 || plen >= sizeof(sa.sun_path))
		return err_set(err, ERRK_CONFIG,
		               _("NOTIFY_SOCKET=%s: not an absolute socket path or @abstract name"),
		               path);
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, path, plen);
	if (path[0] == '@') {
		sa.sun_path[0] = '\0';
		salen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + plen);
	} else {
		salen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + plen + 1);
	}
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return err_set(err, ERRK_INTERNAL, _("NOTIFY_SOCKET=%s: cannot create a socket: %s"),
		               path, strerror(errno));
	do
		n = sendto(fd, state, strlen(state), MSG_NOSIGNAL, (struct sockaddr *)&sa, salen);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		err_set(err, ERRK_INTERNAL, _("NOTIFY_SOCKET=%s: cannot send \"%s\": %s"), path, state,
		        strerror(errno));
		goto out;
	}
	rc = 1;
out:
	close(fd);
	return rc;
}

int sdnotifyf(struct error *err, const char *fmt, ...)
{
	va_list ap;
	char *state;
	int rc;

	va_start(ap, fmt);
	state = xvasprintf(fmt, ap);
	va_end(ap);
	rc = sdnotify(state, err);
	free(state);
	return rc;
}

int64_t sdnotify_watchdog_ms(void)
{
	const char *usec = getenv("WATCHDOG_USEC");
	const char *pid = getenv("WATCHDOG_PID");
	int64_t us, p;

	if (!usec || !str_to_i64(usec, &us) || us <= 0)
		return 0;
	/* WATCHDOG_PID names the process meant; a child that inherited the
	 * environment must not ping for its parent */
	if (pid && *pid && (!str_to_i64(pid, &p) || p != (int64_t)getpid()))
		return 0;
	us /= 2000;
	return us > 0 ? us : 1;
}
