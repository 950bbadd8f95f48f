/* systemd's socket activation and readiness protocols (sd_listen_fds(3), sd_notify(3)). */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <event2/event.h>

#include "log.h"
#include "notify.h"
#include "server.h"

#define LISTEN_FDS_START	3
#define NOTIFY_STATUS_SECS	10

static struct event	*notify_watchdog_ev;
static struct event	*notify_status_ev;

/* Whether fd is a listening Unix stream socket; else logged. */
static int
notify_check_listener(int fd)
{
	struct sockaddr_un	sun;
	socklen_t		len;
	int			type, listening;

	len = sizeof type;
	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) == -1 ||
	    type != SOCK_STREAM) {
		log_errx("socket activation: fd %d is not a stream socket", fd);
		return 0;
	}
	len = sizeof listening;
	if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening,
	    &len) == -1 || !listening) {
		log_errx("socket activation: fd %d is not listening", fd);
		return 0;
	}
	len = sizeof sun;
	if (getsockname(fd, (struct sockaddr *)&sun, &len) == -1 ||
	    sun.sun_family != AF_UNIX) {
		log_errx("socket activation: fd %d is not a Unix socket", fd);
		return 0;
	}
	return 1;
}

/* The name $LISTEN_FDNAMES gives the i-th socket ("" when none). */
static void
notify_fd_name(const char *names, long i, char *out, size_t outlen)
{
	const char	*p = names, *colon;

	*out = '\0';
	if (names == NULL)
		return;
	for (; i > 0 && p != NULL; i--)
		if ((p = strchr(p, ':')) != NULL)
			p++;
	if (p == NULL)
		return;
	colon = strchr(p, ':');
	snprintf(out, outlen, "%.*s", colon != NULL ? (int)(colon - p) :
	    (int)strlen(p), p);
}

int
notify_listen_fds(int *main_fd, int *admin_fd)
{
	const char	*pid_s = getenv("LISTEN_PID"), *fds_s = getenv("LISTEN_FDS");
	char		*end, *names = NULL, name[64];
	const char	*env_names;
	long		 pid, nfds, i;
	int		 fd, rc = 0;

	*main_fd = *admin_fd = -1;
	if (pid_s == NULL || fds_s == NULL)
		return 0;
	pid = strtol(pid_s, &end, 10);
	if (*end != '\0' || pid != (long)getpid())
		return 0;
	nfds = strtol(fds_s, &end, 10);
	if ((env_names = getenv("LISTEN_FDNAMES")) != NULL &&
	    (names = strdup(env_names)) == NULL) {
		log_errx("socket activation: out of memory");
		return -1;
	}
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");
	if (*end != '\0' || nfds < 1 || nfds > 64) {
		free(names);
		return 0;
	}
	/* FileDescriptorName=admin (shmd-admin.socket): root's socket. */
	for (i = 0; i < nfds && rc == 0; i++) {
		fd = LISTEN_FDS_START + (int)i;
		notify_fd_name(names, i, name, sizeof name);
		if (!notify_check_listener(fd))
			rc = -1;
		else if (strcmp(name, NOTIFY_ADMIN_FDNAME) == 0 &&
		    *admin_fd == -1)
			*admin_fd = fd;
		else if (strcmp(name, NOTIFY_ADMIN_FDNAME) != 0 &&
		    *main_fd == -1)
			*main_fd = fd;
		else
			log_warnx("socket activation: fd %d (%s) is one socket "
			    "too many: not served", fd, *name != '\0' ? name :
			    "unnamed");
	}
	free(names);
	return rc;
}

void
notify_send(const char *state)
{
	const char		*path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un	 sun;
	socklen_t		 len;
	size_t			 plen;
	int			 fd;

	if (path == NULL || *path == '\0')
		return;
	plen = strlen(path);
	if ((path[0] != '/' && path[0] != '@') || plen >= sizeof sun.sun_path)
		return;
	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, path, plen);
	if (path[0] == '@')
		sun.sun_path[0] = '\0';	/* abstract namespace */
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + plen +
	    (path[0] == '@' ? 0 : 1));
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1)
		return;
	if (sendto(fd, state, strlen(state), MSG_NOSIGNAL,
	    (struct sockaddr *)&sun, len) == -1)
		log_debug("notify %s: %s", path, strerror(errno));
	close(fd);
}

static void
notify_status(struct server *srv)
{
	char	line[128];

	snprintf(line, sizeof line, "STATUS=%zu segments, %zu clients",
	    srv->life.registry.count, srv->nconns);
	notify_send(line);
}

static void
notify_watchdog_cb(evutil_socket_t fd, short what, void *arg)
{
	notify_send("WATCHDOG=1");
}

static void
notify_status_cb(evutil_socket_t fd, short what, void *arg)
{
	notify_status(arg);
}

int
notify_init(struct event_base *base, struct server *srv)
{
	const char	*usec_s = getenv("WATCHDOG_USEC");
	const char	*pid_s = getenv("WATCHDOG_PID");
	struct timeval	 tv;
	unsigned long long usec;
	char		*end;

	if (getenv("NOTIFY_SOCKET") == NULL)
		return 0;
	notify_status_ev = event_new(base, -1, EV_PERSIST, notify_status_cb,
	    srv);
	tv.tv_sec = NOTIFY_STATUS_SECS;
	tv.tv_usec = 0;
	if (notify_status_ev == NULL || event_add(notify_status_ev, &tv) == -1)
		return -1;
	if (usec_s == NULL || (pid_s != NULL && strtol(pid_s, NULL, 10) !=
	    (long)getpid()))
		return 0;
	usec = strtoull(usec_s, &end, 10);
	if (*end != '\0' || usec == 0) {
		log_warnx("ignoring WATCHDOG_USEC=%s", usec_s);
		return 0;
	}
	/* Ping at half the interval, as sd_watchdog_enabled(3) advises. */
	usec /= 2;
	tv.tv_sec = (time_t)(usec / 1000000);
	tv.tv_usec = (suseconds_t)(usec % 1000000);
	notify_watchdog_ev = event_new(base, -1, EV_PERSIST,
	    notify_watchdog_cb, NULL);
	if (notify_watchdog_ev == NULL ||
	    event_add(notify_watchdog_ev, &tv) == -1)
		return -1;
	notify_send("WATCHDOG=1");
	return 0;
}

void
notify_finish(void)
{
	if (notify_watchdog_ev != NULL)
		event_free(notify_watchdog_ev);
	if (notify_status_ev != NULL)
		event_free(notify_status_ev);
	notify_watchdog_ev = notify_status_ev = NULL;
}

void
notify_ready(struct server *srv)
{
	char	line[160];

	snprintf(line, sizeof line, "READY=1\nSTATUS=%zu segments, %zu "
	    "clients\nMAINPID=%ld", srv->life.registry.count, srv->nconns,
	    (long)getpid());
	notify_send(line);
}
