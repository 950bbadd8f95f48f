/* /proc/PID/stat, read in one place for the daemon and shmdctl. */
#ifndef SHMD_PROCSTAT_H
#define SHMD_PROCSTAT_H

#include <stdint.h>
#include <sys/types.h>

/*
 * A live process's start time (field 22 of /proc/PID/stat, clock ticks
 * after boot). 0, or -1 with errno: ESRCH when there is no such process
 * or it has exited (a zombie), EINVAL when the file cannot be read as
 * expected, open(2)'s otherwise (EMFILE: nothing known).
 */
int	procstat_start(pid_t pid, uint64_t *start);

#endif
