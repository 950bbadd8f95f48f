/* A caller, from its socket: credentials, groups, and its process pinned. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
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

/*
 * The inode of the connecting process's pidfd (SO_PEERPIDFD, Linux 6.5+),
 * which on pidfs (Linux 6.9+) names that one process and is never reused,
 * unlike its pid and its start time (in clock ticks). 0 when unknown.
 */
static uint64_t
peer_pidfd_ino(int fd)
{
	int	 pidfd;
	uint64_t ino;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERPIDFD, &pidfd,
	    &(socklen_t){ sizeof pidfd }) == -1)
		return 0;
	ino = procwatch_pidfd_ino(pidfd);
	close(pidfd);
	return ino;
}

int
peer_from_socket(int fd, struct peer *p)
{
	struct ucred	 cred;
	socklen_t	 len = sizeof cred;
	gid_t		*groups = NULL, *tmp;
	size_t		 cap = 16;

	memset(p, 0, sizeof *p);
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == -1)
		return -1;
	p->pid = cred.pid;
	p->uid = cred.uid;
	p->gid = cred.gid;
	/* Pinned now: the process may exit and its pid be reused later. */
	if (p->pid == 0 || procstat_start(p->pid, &p->start) == -1)
		p->exited = 1;
	else
		p->ino = peer_pidfd_ino(fd);
	for (;;) {
		if ((tmp = realloc(groups, cap * sizeof *groups)) == NULL) {
			free(groups);
			return -1;
		}
		groups = tmp;
		len = (socklen_t)(cap * sizeof *groups);
		if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups,
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
	return 0;
}

int
peer_ipc_namespace(struct peer *p, uint64_t *ino)
{
	struct stat	sb;
	char		path[64];

	if (p->ipcns == 0 && !p->ipcns_unknown) {
		snprintf(path, sizeof path, "/proc/%ld/ns/ipc", (long)p->pid);
		if (p->pid > 0 && stat(path, &sb) == 0)
			p->ipcns = (uint64_t)sb.st_ino;
		else
			p->ipcns_unknown = 1;
	}
	*ino = p->ipcns;
	return p->ipcns_unknown ? -1 : 0;
}

void
peer_finish(struct peer *p)
{
	free(p->groups);
	p->groups = NULL;
	p->ngroups = 0;
}

int
peer_in_group(const struct peer *p, gid_t gid)
{
	size_t	i;

	if (p->gid == gid)
		return 1;
	for (i = 0; i < p->ngroups; i++)
		if (p->groups[i] == gid)
			return 1;
	return 0;
}
