/* A caller: who is on the other end of a connection, pinned at connect. */
#ifndef SHMD_PEER_H
#define SHMD_PEER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct ucred;

/* A caller, as SO_PEERCRED and SO_PEERGROUPS tell at connect time. */
struct peer {
	pid_t	 pid;		/* 0: in a pid namespace shmd cannot see */
	uid_t	 uid;
	gid_t	 gid;
	gid_t	*groups;	/* supplementary */
	size_t	 ngroups;
	int	 groups_unread;	/* not read yet (peer_in_group() reads) */
	int	 sock;		/* the connection, to read them from */
	/*
	 * The process that connected, pinned: a "process" segment follows
	 * that process, not whatever process has its pid when the call
	 * comes. On pidfs by its pidfd's inode (start is then 0), elsewhere
	 * by its start time, read at connect time.
	 */
	uint64_t start;
	uint64_t ino;		/* its pidfd's inode (pidfs): 0 when unknown */
	int	 pinned;	/* start or ino is known */
	int	 pidfd;		/* of it, pinned on pidfs, until the call
				   takes it (call_pin()); -1 */
	int	 exited;	/* it has exited (or shmd cannot see it) */
	uint64_t ipcns;		/* its IPC namespace, once read; 0: not yet */
	int	 ipcns_unknown;	/* shmd cannot read it */
};

/*
 * The caller on a connected socket, cred its SO_PEERCRED already read;
 * its groups are read when a check first needs them.
 */
void	peer_from_socket(int fd, const struct ucred *cred, struct peer *);
void	peer_finish(struct peer *);
/*
 * The pidfd peer_pin() took, for the call to hand on or close (its
 * inode is kept): -1 when none.
 */
int	peer_take_pidfd(struct peer *);
/*
 * Pin the process that connected on fd (for a "process" segment): its
 * pidfd (SO_PEERPIDFD: in any pid namespace, one shmd cannot see
 * included) and that pidfd's inode on pidfs. 0, or -1 when it has
 * exited, or the kernel gives no pidfd for it.
 */
int	peer_pin(struct peer *, int fd);
/*
 * The inode of the peer's IPC namespace (connected on fd), read once and
 * kept, through its pidfd where the kernel can, else /proc/PID/ns/ipc: 0,
 * or -1 when shmd cannot read it (not root, another pid namespace).
 */
int	peer_ipc_namespace(struct peer *, int fd, uint64_t *ino);

/*
 * Whether the peer has gid, as its own or a supplementary group (read
 * from its socket the first time): 1 or 0, or -1 when they cannot be
 * read (out of memory), which a check must take as a refusal.
 */
int	peer_in_group(struct peer *, gid_t);

#endif
