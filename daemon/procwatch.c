/* Following creator processes with pidfds (pidfd_open(2)). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
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
 * Is pid (its pidfd fd, or -1) the process started at start whose pidfd
 * has inode ino? On pidfs (ino != 0) the inode alone says so exactly;
 * elsewhere the start time, in clock ticks; alive either way.
 */
static int
procwatch_same(pid_t pid, uint64_t start, uint64_t ino, int fd)
{
	uint64_t	now;

	if (ino != 0 && fd != -1)
		return procwatch_pidfd_ino(fd) == ino &&
		    procstat_start(pid, &now) == 0;
	return procstat_start(pid, &now) == 0 && now == start;
}

struct procwatch *
procwatch_get(struct procwatcher *pw, pid_t pid, uint64_t start, uint64_t ino,
    int pinned)
{
	struct procwatch	*w;
	int			 fd, saved;

	LIST_FOREACH(w, &pw->list, entry) {
		if (w->pid == pid && w->start == start && w->ino == ino) {
			if (pinned >= 0)
				close(pinned);
			w->refs++;
			return w;
		}
	}
	/*
	 * Without a pidfd (Linux < 5.3, valgrind, the budget spent, no
	 * descriptors left) the reaper polls /proc instead.
	 */
	fd = -1;
	if (pinned >= 0 && pw->npidfds < pw->max_pidfds) {
		/* the caller's pidfd of that very process, taken: no check */
		fd = pinned;
	} else if (pinned >= 0) {
		close(pinned);	/* over the budget: polled, as any */
		pinned = -1;
	} else if (pw->npidfds < pw->max_pidfds &&
	    (fd = (int)syscall(SYS_pidfd_open, pid, 0)) == -1 &&
	    errno != ENOSYS && errno != EMFILE && errno != ENFILE)
		return NULL;
	/*
	 * The pid is pinned now: is it still the same process, and alive?
	 * Its pidfd's inode says so exactly; the start time, in clock ticks,
	 * where there is no pidfs.
	 */
	if (pinned < 0 && !procwatch_same(pid, start, ino, fd)) {
		if (fd != -1)
			close(fd);
		errno = ESRCH;
		return NULL;
	}
	if ((w = calloc(1, sizeof *w)) == NULL) {
		saved = errno;
		if (fd != -1)
			close(fd);
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
		if (fd != pinned)
			fcntl(fd, F_SETFD, FD_CLOEXEC);
		w->ev = event_new(pw->base, fd, EV_READ, procwatch_cb, w);
		if (w->ev == NULL || event_add(w->ev, NULL) == -1) {
			if (w->ev != NULL)
				event_free(w->ev);
			close(fd);
			free(w);
			errno = ENOMEM;
			return NULL;
		}
		pw->npidfds++;
	}
	LIST_INSERT_HEAD(&pw->list, w, entry);
	return w;
}

static void
procwatch_free(struct procwatch *w)
{
	LIST_REMOVE(w, entry);
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
	uint64_t		 now;

	for (w = LIST_FIRST(&pw->list); w != NULL; w = next) {
		/* The callback may free w, never another watch. */
		next = LIST_NEXT(w, entry);
		if (w->pidfd == -1 && (procstat_start(w->pid, &now) == -1 ||
		    now != w->start))
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
}
