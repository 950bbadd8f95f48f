/*
 * systemd's protocols, spoken without libsystemd: socket activation
 * ($LISTEN_FDS/$LISTEN_PID) and readiness ($NOTIFY_SOCKET, $WATCHDOG_USEC).
 * Both work without systemd as PID 1 (systemd-socket-activate, tests).
 */
#ifndef SHMD_NOTIFY_H
#define SHMD_NOTIFY_H

struct event_base;
struct server;

/* $LISTEN_FDNAMES's name of root's socket (shmd-admin.socket). */
#define NOTIFY_ADMIN_FDNAME	"admin"

/*
 * The listening sockets systemd handed over: root's (the one named
 * "admin") and the main one (the first other), each -1 when not handed
 * over. 0, or -1 (logged) when what was handed over is not a listening
 * Unix stream socket.
 */
int	notify_listen_fds(int *main_fd, int *admin_fd);

/* Start the watchdog and status timers when asked for. -1 on failure. */
int	notify_init(struct event_base *, struct server *);
void	notify_finish(void);

/* READY=1 with a STATUS= summary. */
void	notify_ready(struct server *);
/* Send one state line ("STOPPING=1"); nothing when $NOTIFY_SOCKET is unset. */
void	notify_send(const char *state);

#endif
