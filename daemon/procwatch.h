/*
 * Following creator processes for the "process" lifetime: a pidfd per
 * process, watched by the event loop, readable once the process has exited
 * (a zombie included). A process is named by its pid and its start time,
 * so a reused pid is never taken for the process that had it.
 */
#ifndef SHMD_PROCWATCH_H
#define SHMD_PROCWATCH_H

#include <stdint.h>
#include <sys/queue.h>
#include <sys/types.h>

struct event;
struct server;

struct procwatch {
	LIST_ENTRY(procwatch)	 entry;
	struct server		*srv;
	pid_t			 pid;
	uint64_t		 start;		/* clock ticks after boot */
	int			 pidfd;
	struct event		*ev;
	unsigned		 refs;		/* segments that follow it */
};

LIST_HEAD(procwatch_list, procwatch);

/*
 * A process's start time (field 22 of /proc/PID/stat). 0, or -1 when the
 * process does not exist or has exited (a zombie).
 */
int	proc_start_time(pid_t pid, uint64_t *start);

/*
 * A reference to the watch of process pid started at start; the watch
 * calls reaper_process_exited() once it exits. NULL with errno ESRCH when
 * that process is already gone, or another errno on failure.
 */
struct procwatch *procwatch_get(struct server *, pid_t pid, uint64_t start);
void	procwatch_put(struct procwatch *);
/* Look at the processes followed without a pidfd (called by the reaper). */
void	procwatch_poll(struct server *);
/* Free every watch (at exit). */
void	procwatch_finish(struct server *);

#endif
