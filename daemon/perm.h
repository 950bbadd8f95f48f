/* Who may do what (PROTOCOL.md), from the peer's socket credentials. */
#ifndef SHMD_PERM_H
#define SHMD_PERM_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct kshm_stat;

/* A caller, as SO_PEERCRED and SO_PEERGROUPS tell at connect time. */
struct peer {
	pid_t	 pid;		/* 0: in a pid namespace shmd cannot see */
	uid_t	 uid;
	gid_t	 gid;
	gid_t	*groups;	/* supplementary */
	size_t	 ngroups;
	/*
	 * The process that connected, pinned at connect time by its start
	 * time: a "process" segment follows that process, not whatever
	 * process has its pid when the call comes.
	 */
	uint64_t start;
	uint64_t ino;		/* its pidfd's inode (pidfs): 0 when unknown */
	int	 exited;	/* it had exited (or was unseen) at connect */
	uint64_t ipcns;		/* its IPC namespace, once read; 0: not yet */
	int	 ipcns_unknown;	/* shmd cannot read it */
};

/* Read the credentials of a connected socket. -1 with errno. */
int	peer_from_socket(int fd, struct peer *);
void	peer_finish(struct peer *);
/*
 * The inode of the peer's IPC namespace (/proc/PID/ns/ipc), read once and
 * kept: 0, or -1 when shmd cannot read it (not root, another pid
 * namespace).
 */
int	peer_ipc_namespace(struct peer *, uint64_t *ino);

int	peer_in_group(const struct peer *, gid_t);

/* Open (and List, Watch): root, the creator, or the kernel's mode bits. */
int	perm_may_open(const struct peer *, uid_t creator_uid,
	    const struct kshm_stat *);
/* Destroy: root, the owner, or the creator. */
int	perm_may_destroy(const struct peer *, uid_t creator_uid,
	    const struct kshm_stat *);
/* Create with this owner: root anything; others themselves and their groups. */
int	perm_may_own(const struct peer *, uid_t uid, gid_t gid);
/* Create this name: root any; uid:N/... only uid N, gid:N/... group N. */
int	perm_may_name(const struct peer *, const char *name);

#endif
