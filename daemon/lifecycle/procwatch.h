/*
 * Following creator processes for the "process" lifetime: a pidfd per
 * process, watched by the event loop, readable once the process has exited
 * (a zombie included). A process is named by its pid and its pidfd's
 * inode on pidfs, elsewhere its pid and start time, so a reused pid is
 * never taken for the process that had it.
 */
#ifndef SHMD_PROCWATCH_H
#define SHMD_PROCWATCH_H

#include <stdint.h>
#include <sys/queue.h>
#include <sys/types.h>

struct event;
struct event_base;
struct procwatch;

LIST_HEAD(procwatch_list, procwatch);

/* Told when a followed process exits. */
typedef void	procwatch_exited_fn(void *arg, struct procwatch *);

/* Every process followed, and whom to tell of an exit. */
struct procwatcher {
	struct event_base	*base;
	struct procwatch_list	 list;
	procwatch_exited_fn	*exited;
	void			*arg;
	size_t			 npidfds;	/* descriptors held */
	size_t			 max_pidfds;	/* beyond: /proc is polled */
	struct procwatch_list	 unwatched;	/* pidfds not in the loop yet */
	struct event		*flush;		/* puts them there */
};

struct procwatch {
	LIST_ENTRY(procwatch)	 entry;
	struct procwatcher	*pw;
	pid_t			 pid;
	uint64_t		 start;		/* clock ticks after boot; 0:
						   by ino, with its pidfd */
	uint64_t		 ino;		/* its pidfd's inode; 0: unknown */
	int			 pidfd;
	struct event		*ev;
	unsigned		 refs;		/* segments that follow it */
	LIST_ENTRY(procwatch)	 unwatched_entry;
	int			 unwatched;	/* ev not added yet */
};

void	procwatch_init(struct procwatcher *, struct event_base *,
	    procwatch_exited_fn *, void *arg);
/* Free every watch (at exit). */
void	procwatch_finish(struct procwatcher *);
/*
 * Hold at most max pidfds: the processes followed beyond them (or when
 * the descriptors run out) are looked at in /proc each reaper tick, so
 * followed processes cannot starve connections of descriptors.
 */
void	procwatch_set_budget(struct procwatcher *, size_t max);

/*
 * A reference to the watch of process pid whose pidfd has inode ino
 * (when not 0: see procwatch_pidfd_ino(); start is then not needed),
 * else started at start; exited() is called once it exits. pinned, when
 * not NULL nor -1, is a pidfd of that very process, which the watch takes
 * when it keeps it (setting it to -1); else it stays the caller's to
 * close (the call's: call.c). NULL with errno ESRCH when that process is
 * already gone, or another errno when it cannot be told now (EMFILE: try
 * again later).
 */
struct procwatch *procwatch_get(struct procwatcher *, pid_t pid,
	    uint64_t start, uint64_t ino, int *pinned);
/*
 * A pidfd's inode when pidfds live on pidfs (Linux 6.9+), where it names
 * one process for the life of the system; 0 elsewhere.
 */
uint64_t procwatch_pidfd_ino(int pidfd);
void	procwatch_put(struct procwatch *);
/* Look at the processes followed without a pidfd (each reaper tick). */
void	procwatch_poll(struct procwatcher *);

#endif
