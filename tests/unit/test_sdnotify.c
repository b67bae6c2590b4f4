/* test_sdnotify.c - the sd_notify datagram (path and abstract sockets),
 * the watchdog interval, and the log's journal mode. */
#include "config.h"

#include <fcntl.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "daemon/daemon.h"
#include "tap.h"

/* Binds a datagram socket at name ("@x" = abstract); -1 on failure. */
static int listen_at(const char *name)
{
	struct sockaddr_un sa;
	socklen_t len;
	size_t n = strlen(name);
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd < 0 || n >= sizeof(sa.sun_path))
		return -1;
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, name, n);
	if (name[0] == '@') {
		sa.sun_path[0] = '\0';
		len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);
	} else {
		len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + 1);
	}
	if (bind(fd, (struct sockaddr *)&sa, len) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* One datagram within a second, as a string (static buffer); "" on none. */
static const char *receive(int fd)
{
	static char buf[1024];
	struct pollfd p = { .fd = fd, .events = POLLIN };
	ssize_t n;

	buf[0] = '\0';
	if (poll(&p, 1, 1000) == 1 && (n = recv(fd, buf, sizeof(buf) - 1, 0)) >= 0)
		buf[n] = '\0';
	return buf;
}

static void test_notify(const char *dir)
{
	struct error err = { 0 };
	char *path = xasprintf("%s/notify", dir);
	char *abstract = xasprintf("@dropstock-test-%ld", (long)getpid());
	char *missing = xasprintf("%s/nobody", dir);
	int fd;

	unsetenv("NOTIFY_SOCKET");
	is_int(sdnotify("READY=1", &err), 0, "no NOTIFY_SOCKET: nothing sent, no error");

	fd = listen_at(path);
	ok(fd >= 0, "bound %s", path);
	setenv("NOTIFY_SOCKET", path, 1);
	is_int(sdnotify("READY=1", &err), 1, "sent to a path socket");
	is_str(receive(fd), "READY=1", "the listener got READY=1");
	is_int(sdnotifyf(&err, "STATUS=%d suppliers\nWATCHDOG=1", 3), 1, "sdnotifyf sends");
	is_str(receive(fd), "STATUS=3 suppliers\nWATCHDOG=1", "several lines in one datagram");
	close(fd);
	unlink(path);

	fd = listen_at(abstract);
	ok(fd >= 0, "bound the abstract socket %s", abstract);
	setenv("NOTIFY_SOCKET", abstract, 1);
	is_int(sdnotify("STOPPING=1", &err), 1, "sent to an abstract socket");
	is_str(receive(fd), "STOPPING=1", "the abstract listener got STOPPING=1");
	close(fd);

	setenv("NOTIFY_SOCKET", "relative/path", 1);
	is_int(sdnotify("READY=1", &err), -1, "a relative NOTIFY_SOCKET is refused");
	like(err.msg, "NOTIFY_SOCKET=relative/path", "the error names the variable");
	setenv("NOTIFY_SOCKET", missing, 1);
	err_clear(&err);
	is_int(sdnotify("READY=1", &err), -1, "nobody listening: an error");
	like(err.msg, "cannot send \"READY=1\"", "the error says what was not sent");
	unsetenv("NOTIFY_SOCKET");
	free(path);
	free(abstract);
	free(missing);
}

static void test_watchdog(void)
{
	char pid[32];

	unsetenv("WATCHDOG_PID");
	unsetenv("WATCHDOG_USEC");
	is_int(sdnotify_watchdog_ms(), 0, "no WATCHDOG_USEC: no pings");
	setenv("WATCHDOG_USEC", "60000000", 1);
	is_int(sdnotify_watchdog_ms(), 30000, "WatchdogSec=60: a ping every 30 s");
	setenv("WATCHDOG_USEC", "1", 1);
	is_int(sdnotify_watchdog_ms(), 1, "a tiny interval is at least 1 ms");
	setenv("WATCHDOG_USEC", "soon", 1);
	is_int(sdnotify_watchdog_ms(), 0, "garbage: no pings");
	setenv("WATCHDOG_USEC", "0", 1);
	is_int(sdnotify_watchdog_ms(), 0, "zero: no pings");
	setenv("WATCHDOG_USEC", "4000000", 1);
	snprintf(pid, sizeof(pid), "%ld", (long)getpid());
	setenv("WATCHDOG_PID", pid, 1);
	is_int(sdnotify_watchdog_ms(), 2000, "WATCHDOG_PID is this process");
	snprintf(pid, sizeof(pid), "%ld", (long)getpid() + 1);
	setenv("WATCHDOG_PID", pid, 1);
	is_int(sdnotify_watchdog_ms(), 0, "WATCHDOG_PID is another process: no pings");
	unsetenv("WATCHDOG_PID");
	unsetenv("WATCHDOG_USEC");
}

/* The journal mode: stderr redirected to a file that JOURNAL_STREAM names. */
static void test_journal_log(const char *dir)
{
	char *path = xasprintf("%s/stderr", dir);
	enum log_level saved_threshold = log_threshold;
	char stream[64], *text;
	struct stat st;
	int saved = dup(STDERR_FILENO);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	ok(fd >= 0 && saved >= 0, "stderr redirected to %s", path);
	fflush(stderr);
	dup2(fd, STDERR_FILENO);
	close(fd);
	fstat(STDERR_FILENO, &st);
	snprintf(stream, sizeof(stream), "%ju:%ju", (uintmax_t)st.st_dev, (uintmax_t)st.st_ino);

	setenv("JOURNAL_STREAM", stream, 1);
	log_setup(false, NULL);
	log_threshold = LOG_INFO;
	is_int(log_get_target(), LOG_TO_JOURNAL, "stderr is the journal");
	log_warn("low on %s\nsecond line", "stock");
	log_info("synced");
	log_error("failed");
	log_debug("not shown");

	snprintf(stream, sizeof(stream), "%ju:%ju", (uintmax_t)st.st_dev, (uintmax_t)st.st_ino + 1);
	setenv("JOURNAL_STREAM", stream, 1);
	log_setup(false, NULL);
	is_int(log_get_target(), LOG_TO_STDERR, "another inode: not the journal");
	log_warn("plain");
	setenv("JOURNAL_STREAM", "nonsense", 1);
	log_setup(false, NULL);
	is_int(log_get_target(), LOG_TO_STDERR, "an unreadable JOURNAL_STREAM: not the journal");
	unsetenv("JOURNAL_STREAM");
	log_setup(false, NULL);

	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	log_threshold = saved_threshold;
	text = file_read_all(path, NULL, NULL);
	ok(text && str_startswith(text, "<4>low on stock\n<4>second line\n<6>synced\n<3>failed\n"),
	   "journal lines carry <N> priorities, one per line");
	like(text, " warning: plain\n", "then a timestamped line");
	ok(text && !strstr(text, "not shown"), "below the threshold: nothing");
	free(text);
	unlink(path);
	free(path);
}

int main(void)
{
	const char *tmp = getenv("TMPDIR");
	char *dir = xasprintf("%s/dropstock-sdnotify.XXXXXX", tmp && *tmp ? tmp : "/tmp");

	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 99;
	}
	test_notify(dir);
	test_watchdog();
	test_journal_log(dir);
	rmdir(dir);
	free(dir);
	return tap_done();
}
