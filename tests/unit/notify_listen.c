/* notify_listen.c - a fake systemd notification socket for the tests.
 *
 *   notify_listen SOCKET-PATH OUT-FILE [MAX-SECONDS]
 *
 * Binds an AF_UNIX datagram socket at SOCKET-PATH (a path, or "@name" for
 * the abstract namespace) and appends every datagram received to OUT-FILE,
 * followed by a line "--" (a datagram may hold several lines), flushing
 * after each.  OUT-FILE is created (empty) once the socket is bound, so a
 * test waits for it to exist.  Exits 0 on SIGTERM/SIGINT or after
 * MAX-SECONDS (default 120); the socket file is removed.
 *
 * This is a test tool: its messages are not translated.
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t done;

static void on_signal(int sig)
{
	(void)sig;
	done = 1;
}

int main(int argc, char **argv)
{
	struct sockaddr_un sa;
	struct sigaction act;
	socklen_t salen;
	const char *path;
	size_t plen;
	time_t end;
	FILE *out;
	int fd;

	if (argc < 3 || argc > 4) {
		fprintf(stderr, "usage: notify_listen SOCKET-PATH OUT-FILE [MAX-SECONDS]\n");
		return 2;
	}
	path = argv[1];
	end = time(NULL) + (argc == 4 ? atoi(argv[3]) : 120);
	plen = strlen(path);
	if (plen < 2 || plen >= sizeof(sa.sun_path)) {
		fprintf(stderr, "notify_listen: %s: bad socket path\n", path);
		return 2;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, path, plen);
	if (path[0] == '@') {
		sa.sun_path[0] = '\0';
		salen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + plen);
	} else {
		salen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + plen + 1);
		unlink(path);
	}
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, salen) != 0) {
		fprintf(stderr, "notify_listen: %s: %s\n", path, strerror(errno));
		return 1;
	}
	out = fopen(argv[2], "a");
	if (!out) {
		fprintf(stderr, "notify_listen: %s: %s\n", argv[2], strerror(errno));
		return 1;
	}
	memset(&act, 0, sizeof(act));
	act.sa_handler = on_signal;
	sigaction(SIGTERM, &act, NULL);
	sigaction(SIGINT, &act, NULL);

	while (!done && time(NULL) < end) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		char buf[4096];
		ssize_t n;

		if (poll(&pfd, 1, 200) <= 0)
			continue;
		n = recv(fd, buf, sizeof(buf) - 1, 0);
		if (n < 0)
			continue;
		buf[n] = '\0';
		fprintf(out, "%s\n--\n", buf);
		fflush(out);
	}
	fclose(out);
	close(fd);
	if (path[0] != '@')
		unlink(path);
	return 0;
}
