/*
 * What the system shows of SysV shared memory, for shmdctl: the kernel's
 * table (/proc/sysvipc/shm), its limits (/proc/sys/kernel), and which
 * processes have a segment attached (/proc/PID/maps).
 */
#ifndef SHMD_SYSV_H
#define SHMD_SYSV_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

/* One row of /proc/sysvipc/shm. */
struct sysv_seg {
	int32_t		key;
	int		shmid;
	unsigned	perms;		/* with SHM_DEST (01000) */
	uint64_t	size;
	pid_t		cpid, lpid;
	uint64_t	nattch;
	uid_t		uid, cuid;
	gid_t		gid, cgid;
	time_t		atime, dtime, ctime;
};

/* Every segment on the system; free *segs. -1 with errno. */
int	sysv_segments(struct sysv_seg **segs, size_t *n);

/* The kernel's limits: shmmni (segments), shmall (pages), shmmax (bytes). */
struct sysv_limits {
	uint64_t	shmmni, shmall, shmmax;
	uint64_t	pagesize;
};
int	sysv_limits(struct sysv_limits *);

/* A process that has a segment attached. */
struct sysv_attacher {
	int	shmid;
	pid_t	pid;
	uid_t	uid;		/* real uid */
	char	command[256];	/* its command line, spaces for NULs */
};

/*
 * Every attachment the caller may see in /proc/PID/maps (root: all):
 * an attached segment shows as /SYSV%08x with the inode equal to its
 * shmid. Free *out.
 */
int	sysv_attachers(struct sysv_attacher **out, size_t *n);

/*
 * Whether the process that created a segment at ctime is gone: no such
 * pid, a zombie, or the pid now belongs to a process started after ctime.
 */
int	sysv_creator_gone(pid_t cpid, time_t ctime);

#endif
