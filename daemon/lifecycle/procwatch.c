/* Following creator processes with pidfds (pidfd_open(2)). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <event2/event.h>

#include "log.h"
#include "procstat.h"
#include "procwatch.h"

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif

static void
procwatch_cb(evutil_socket_t fd, short what, void *arg)
{
	struct procwatch	*w = arg;

	log_debug("process %ld exited", (long)w->pid);
	/* Keep the watch alive while its segments are reaped. */
	w->refs++;
	w->pw->exited(w->pw->arg, w);
	procwatch_put(w);
}

void
procwatch_init(struct procwatcher *pw, struct event_base *base,
    procwatch_exited_fn *exited, void *arg)
{
	pw->base = base;
	LIST_INIT(&pw->list);
	pw->exited = exited;
	pw->arg = arg;
	pw->npidfds = 0;
	pw->max_pidfds = SIZE_MAX;
	LIST_INIT(&pw->unwatched);
	pw->flush = NULL;
}

/*
 * Watch the pidfds of new watches in the event loop: after the call that
 * made them is answered (an epoll_ctl less before a first Create's
 * reply). A pidfd shows an exit that happened meanwhile all the same.
 * One the loop refuses is tried again at the next poll.
 */
static void
procwatch_flush(struct procwatcher *pw)
{
	struct procwatch	*w, *next;

	for (w = LIST_FIRST(&pw->unwatched); w != NULL; w = next) {
		next = LIST_NEXT(w, unwatched_entry);
		if (event_add(w->ev, NULL) == -1) {
			log_warnx("cannot watch process %ld (will retry)",
			    (long)w->pid);
			continue;
		}
		LIST_REMOVE(w, unwatched_entry);
		w->unwatched = 0;
	}
}

static void
procwatch_flush_cb(evutil_socket_t fd, short what, void *arg)
{
	procwatch_flush(arg);
}

/* Watch w's pidfd once the call under way is answered. -1: no memory. */
static int
procwatch_defer(struct procwatcher *pw, struct procwatch *w)
{
	if (pw->flush == NULL && (pw->flush = event_new(pw->base, -1, 0,
	    procwatch_flush_cb, pw)) == NULL)
		return -1;
	LIST_INSERT_HEAD(&pw->unwatched, w, unwatched_entry);
	w->unwatched = 1;
	event_active(pw->flush, EV_TIMEOUT, 1);
	return 0;
}

void
procwatch_set_budget(struct procwatcher *pw, size_t max)
{
	pw->max_pidfds = max;
}

#define PROCWATCH_PIDFS_MAGIC	0x50494446	/* "PIDF" */

uint64_t
procwatch_pidfd_ino(int pidfd)
{
	struct statfs	sfs;
	struct stat	sb;

	if (fstatfs(pidfd, &sfs) == -1 ||
	    (unsigned long)sfs.f_type != PROCWATCH_PIDFS_MAGIC ||
	    fstat(pidfd, &sb) == -1)
		return 0;
	return (uint64_t)sb.st_ino;
}

/*
 * Whether w is the watch of that process: on pidfs its pidfd's inode
 * names it exactly; elsewhere its start time does.
 */
static int
procwatch_is(const struct procwatch *w, pid_t pid, uint64_t start,
    uint64_t ino)
{
	return w->pid == pid && (ino != 0 ? w->ino == ino : w->start == start);
}

/* Whether the process of a pidfd has exited (its pidfd is readable). */
static int
procwatch_exited(int fd)
{
	struct pollfd	pfd = { fd, POLLIN, 0 };

	return poll(&pfd, 1, 0) == 1 && (pfd.revents & POLLIN);
}

/*
 * Is pid, by /proc, the live process started at start? 0, or -1 with
 * errno: ESRCH when it is not; another when /proc cannot say (EMFILE).
 */
static int
procwatch_check_start(pid_t pid, uint64_t start)
{
	uint64_t	now;

	if (procstat_start(pid, &now) == -1)
		return -1;
	if (now != start) {
		errno = ESRCH;
		return -1;
	}
	return 0;
}

/*
 * Is fd, a pidfd just opened for pid, of the process named by ino (on
 * pidfs) or start, and alive? 0, or -1 with errno as above.
 */
static int
procwatch_check(int fd, pid_t pid, uint64_t start, uint64_t ino)
{
	if (ino != 0 && procwatch_pidfd_ino(fd) != ino) {
		errno = ESRCH;
		return -1;
	}
	if (ino == 0 && procwatch_check_start(pid, start) == -1)
		return -1;
	if (procwatch_exited(fd)) {
		errno = ESRCH;
		return -1;
	}
	return 0;
}

/*
 * The start time of the live process of pidfd fd, for polling it in
 * /proc without its pidfd. A pidfd does not keep a reaped process's pid
 * from reuse: what /proc said counts only if the process has not exited
 * since. 0, or -1 with errno (ESRCH: it has).
 */
static int
procwatch_start_of(int fd, pid_t pid, uint64_t *start)
{
	if (procstat_start(pid, start) == -1)
		return -1;
	if (procwatch_exited(fd)) {
		errno = ESRCH;
		return -1;
	}
	return 0;
}

/* A pidfd the watch does not keep: closed if this opened it. */
static void
procwatch_unused(int fd, int mine)
{
	if (fd != -1 && mine)
		close(fd);
}

struct procwatch *
procwatch_get(struct procwatcher *pw, pid_t pid, uint64_t start, uint64_t ino,
    int *pinned)
{
	struct procwatch	*w;
	int			 fd, saved, mine;

	LIST_FOREACH(w, &pw->list, entry) {
		if (procwatch_is(w, pid, start, ino)) {
			w->refs++;
			return w;
		}
	}
	/*
	 * A pidfd of that process: the caller's (taken as it is), or one
	 * opened and checked. On pidfs one is opened even beyond the budget,
	 * for a moment: its inode is how the process is known. Elsewhere,
	 * without a pidfd (Linux < 5.3, valgrind, the budget spent, no
	 * descriptors left), the start time is checked and /proc polled.
	 */
	fd = pinned != NULL ? *pinned : -1;
	mine = fd < 0;		/* one this opens is this one's to close */
	if (fd < 0 && (ino != 0 || pw->npidfds < pw->max_pidfds)) {
		fd = (int)syscall(SYS_pidfd_open, pid, 0);
		if (fd == -1 && (ino != 0 || (errno != ENOSYS &&
		    errno != EMFILE && errno != ENFILE)))
			return NULL;	/* ESRCH: gone; else try again later */
		if (fd != -1 && procwatch_check(fd, pid, start, ino) == -1) {
			saved = errno;
			close(fd);
			errno = saved;
			return NULL;
		}
	}
	/* (no pidfd and no pidfs: ino is 0) */
	if (fd == -1 && procwatch_check_start(pid, start) == -1)
		return NULL;
	/*
	 * Beyond the budget: polled in /proc, so known by its start time;
	 * but a process of another pid namespace (pid 0) has no entry there.
	 */
	if (fd != -1 && pw->npidfds >= pw->max_pidfds && pid != 0) {
		saved = ino != 0 && procwatch_start_of(fd, pid, &start) == -1 ?
		    errno : 0;
		procwatch_unused(fd, mine);
		if (saved != 0) {
			errno = saved;
			return NULL;
		}
		fd = -1;
	}
	if ((w = calloc(1, sizeof *w)) == NULL) {
		saved = errno;
		procwatch_unused(fd, mine);
		errno = saved;
		return NULL;
	}
	w->pw = pw;
	w->pid = pid;
	w->start = start;
	w->ino = ino;
	w->pidfd = fd;
	w->refs = 1;
	if (fd != -1) {
		if (mine)
			fcntl(fd, F_SETFD, FD_CLOEXEC);
		w->ev = event_new(pw->base, fd, EV_READ, procwatch_cb, w);
		if (w->ev == NULL || procwatch_defer(pw, w) == -1) {
			if (w->ev != NULL)
				event_free(w->ev);
			procwatch_unused(fd, mine);
			free(w);
			errno = ENOMEM;
			return NULL;
		}
		pw->npidfds++;
		if (!mine)
			*pinned = -1;	/* the watch's now */
	}
	LIST_INSERT_HEAD(&pw->list, w, entry);
	return w;
}

static void
procwatch_free(struct procwatch *w)
{
	LIST_REMOVE(w, entry);
	if (w->unwatched)
		LIST_REMOVE(w, unwatched_entry);
	if (w->ev != NULL)
		event_free(w->ev);
	if (w->pidfd != -1) {
		close(w->pidfd);
		w->pw->npidfds--;
	}
	free(w);
}

void
procwatch_poll(struct procwatcher *pw)
{
	struct procwatch	*w, *next;

	procwatch_flush(pw);
	for (w = LIST_FIRST(&pw->list); w != NULL; w = next) {
		/* The callback may free w, never another watch. */
		next = LIST_NEXT(w, entry);
		/* gone, or another process has its pid (not: /proc unread) */
		if (w->pidfd == -1 && procwatch_check_start(w->pid,
		    w->start) == -1 && errno == ESRCH)
			procwatch_cb(-1, 0, w);
	}
}

void
procwatch_put(struct procwatch *w)
{
	if (w != NULL && --w->refs == 0)
		procwatch_free(w);
}

void
procwatch_finish(struct procwatcher *pw)
{
	struct procwatch	*w;

	while ((w = LIST_FIRST(&pw->list)) != NULL)
		procwatch_free(w);
	if (pw->flush != NULL)
		event_free(pw->flush);
	pw->flush = NULL;
}
