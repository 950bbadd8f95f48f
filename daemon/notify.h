/*
 * systemd's protocols, spoken without libsystemd: socket activation
 * ($LISTEN_FDS/$LISTEN_PID) and readiness ($NOTIFY_SOCKET, $WATCHDOG_USEC).
 * Both work without systemd as PID 1 (systemd-socket-activate, tests).
 */
#ifndef SHMD_NOTIFY_H
#define SHMD_NOTIFY_H

struct event_base;
struct server;

/*
 * The listening socket systemd handed over: its fd, -1 when there is none,
 * -2 (logged) when what was handed over is not a listening Unix stream socket.
 */
int	notify_listen_fd(void);

/* Start the watchdog and status timers when asked for. -1 on failure. */
int	notify_init(struct event_base *, struct server *);
void	notify_finish(void);

/* READY=1 with a STATUS= summary. */
void	notify_ready(struct server *);
/* Send one state line ("STOPPING=1"); nothing when $NOTIFY_SOCKET is unset. */
void	notify_send(const char *state);

#endif
