/* Who may do what (PROTOCOL.md), from the peer's socket credentials. */
#ifndef SHMD_PERM_H
#define SHMD_PERM_H

#include <stddef.h>
#include <sys/types.h>

struct kshm_stat;

/* A caller, as SO_PEERCRED and SO_PEERGROUPS tell at connect time. */
struct peer {
	pid_t	 pid;
	uid_t	 uid;
	gid_t	 gid;
	gid_t	*groups;	/* supplementary */
	size_t	 ngroups;
};

/* Read the credentials of a connected socket. -1 with errno. */
int	peer_from_socket(int fd, struct peer *);
void	peer_finish(struct peer *);

int	peer_in_group(const struct peer *, gid_t);

/* Open (and List, Watch): root, the creator, or the kernel's mode bits. */
int	perm_may_open(const struct peer *, uid_t creator_uid,
	    const struct kshm_stat *);
/* Destroy: root, the owner, or the creator. */
int	perm_may_destroy(const struct peer *, uid_t creator_uid,
	    const struct kshm_stat *);
/* Create with this owner: root anything; others themselves and their groups. */
int	perm_may_own(const struct peer *, uid_t uid, gid_t gid);

#endif
