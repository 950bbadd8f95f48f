/* Who may do what (shmd-protocol(7)), from the peer's socket credentials. */
#ifndef SHMD_PERM_H
#define SHMD_PERM_H

#include <sys/types.h>

#include "peer.h"

struct kshm_stat;

/* Open (and List, Watch): root, the creator, or the kernel's mode bits. */
int	perm_may_open(struct peer *, uid_t creator_uid,
	    const struct kshm_stat *);
/* Destroy: root, the owner, or the creator. */
int	perm_may_destroy(struct peer *, uid_t creator_uid,
	    const struct kshm_stat *);
/* Create with this owner: root anything; others themselves and their groups. */
int	perm_may_own(struct peer *, uid_t uid, gid_t gid);
/* Create this name: root any; uid:N/... only uid N, gid:N/... group N. */
int	perm_may_name(struct peer *, const char *name);

#endif
