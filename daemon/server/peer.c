/* A caller, from its socket: credentials, groups, and its process pinned. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <unistd.h>

#include "peer.h"
#include "procstat.h"
#include "procwatch.h"

#ifndef SO_PEERGROUPS
#define SO_PEERGROUPS 59
#endif
#ifndef SO_PEERPIDFD
#define SO_PEERPIDFD 77
#endif
#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef PIDFD_GET_IPC_NAMESPACE
#define PIDFD_GET_IPC_NAMESPACE _IO(0xFF, 2)	/* <linux/pidfd.h>, 6.11 */
#endif

/*
 * Whether SO_PEERPIDFD hands out pidfds on pidfs (Linux 6.9+), whose
 * inode names one process and is never reused: then the process that
 * connected can be pinned any time later, since the socket keeps it.
 * Asked once.
 */
static int
peer_pidfs(void)
{
	static int	known = -1;
	int		fd;

	if (known == -1) {
		fd = (int)syscall(SYS_pidfd_open, getpid(), 0);
		known = fd != -1 && procwatch_pidfd_ino(fd) != 0;
		if (fd != -1)
			close(fd);
	}
	return known;
}

int
peer_pin(struct peer *p, int fd)
{
	struct stat	sb;
	int		pidfd;

	if (p->pinned)
		return p->exited ? -1 : 0;
	p->pinned = 1;
	/*
	 * The process that connected, in any pid namespace (one shmd
	 * cannot see has pid 0 here), though its pid may be another's now:
	 * on pidfs its pidfd's inode is all it takes to know it (and the
	 * watch on that pidfd tells of its exit, at once if it has exited).
	 */
	if (getsockopt(fd, SOL_SOCKET, SO_PEERPIDFD, &pidfd,
	    &(socklen_t){ sizeof pidfd }) == -1) {
		p->exited = 1;
		return -1;
	}
	/*
	 * Its inode is all that names it, here and in the state (no start
	 * time: the process watcher reads one, while the pidfd shows the
	 * process alive, only if it must poll /proc for it).
	 */
	if (fstat(pidfd, &sb) == -1) {
		close(pidfd);
		p->exited = 1;
		return -1;
	}
	p->ino = (uint64_t)sb.st_ino;
	p->pidfd = pidfd;	/* kept: following it needs no other */
	return 0;
}

void
peer_from_socket(int fd, const struct ucred *cred, struct peer *p)
{
	memset(p, 0, sizeof *p);
	p->pidfd = -1;
	p->pid = cred->pid;
	p->uid = cred->uid;
	p->gid = cred->gid;
	/*
	 * Where pidfs can pin it later (peer_pin()), nothing more now: every
	 * connection's first call is cheaper. Elsewhere its start time, now:
	 * the process may exit and its pid be reused before it asks.
	 */
	if (!peer_pidfs()) {
		p->pinned = 1;
		if (p->pid == 0 || procstat_start(p->pid, &p->start) == -1)
			p->exited = 1;
	}
	/* Its groups, as at connect time, once a check needs them. */
	p->sock = fd;
	p->groups_unread = 1;
}

/*
 * The peer's supplementary groups (SO_PEERGROUPS: those it had when it
 * connected, however late they are read). -1 with errno.
 */
static int
peer_read_groups(struct peer *p)
{
	socklen_t	 len;
	gid_t		*groups = NULL, *tmp;
	size_t		 cap = 16;

	for (;;) {
		if ((tmp = realloc(groups, cap * sizeof *groups)) == NULL) {
			free(groups);
			return -1;
		}
		groups = tmp;
		len = (socklen_t)(cap * sizeof *groups);
		if (getsockopt(p->sock, SOL_SOCKET, SO_PEERGROUPS, groups,
		    &len) == 0)
			break;
		if (errno != ERANGE || cap >= 65536) {
			free(groups);
			return -1;
		}
		cap = len / sizeof *groups > cap ? len / sizeof *groups :
		    cap * 2;
	}
	p->groups = groups;
	p->ngroups = len / sizeof *groups;
	p->groups_unread = 0;
	return 0;
}

/*
 * The peer's IPC namespace through its pidfd (Linux 6.11+): no lookup in
 * /proc, where a new process's entries are made for the asking and
 * dropped after. The same permission as /proc/PID/ns (ptrace read).
 */
static int
peer_ipc_namespace_pidfd(struct peer *p, int fd, uint64_t *ino)
{
	struct stat	sb;
	int		nsfd, r;

	/* (no pidfd pinned where there is no pidfs: see peer_from_socket) */
	if (peer_pin(p, fd) == -1 || p->pidfd < 0 ||
	    (nsfd = ioctl(p->pidfd, PIDFD_GET_IPC_NAMESPACE, 0)) == -1)
		return -1;
	r = fstat(nsfd, &sb);
	close(nsfd);
	if (r == -1)
		return -1;
	*ino = (uint64_t)sb.st_ino;
	return 0;
}

int
peer_ipc_namespace(struct peer *p, int fd, uint64_t *ino)
{
	struct stat	sb;
	char		path[64];

	if (p->ipcns == 0 && !p->ipcns_unknown &&
	    peer_ipc_namespace_pidfd(p, fd, &p->ipcns) == -1) {
		snprintf(path, sizeof path, "/proc/%ld/ns/ipc", (long)p->pid);
		if (p->pid > 0 && stat(path, &sb) == 0)
			p->ipcns = (uint64_t)sb.st_ino;
		else
			p->ipcns_unknown = 1;
	}
	*ino = p->ipcns;
	return p->ipcns_unknown ? -1 : 0;
}

int
peer_take_pidfd(struct peer *p)
{
	int	fd = p->pidfd;

	p->pidfd = -1;
	/* (0: a zeroed peer's, not ours) */
	return fd > 0 ? fd : -1;
}

void
peer_finish(struct peer *p)
{
	free(p->groups);
	p->groups = NULL;
	p->ngroups = 0;
}

int
peer_in_group(struct peer *p, gid_t gid)
{
	size_t	i;

	if (p->gid == gid)
		return 1;
	if (p->groups_unread && peer_read_groups(p) == -1)
		return -1;
	for (i = 0; i < p->ngroups; i++)
		if (p->groups[i] == gid)
			return 1;
	return 0;
}
