/* Who may do what (shmd-protocol(7)), from the peer's socket credentials. */
#include "config.h"

#include "kshm.h"
#include "perm.h"
#include "proto.h"

int
perm_may_open(struct peer *p, uid_t creator_uid,
    const struct kshm_stat *st)
{
	unsigned	bits;
	int		member;

	if (p->uid == 0 || p->uid == creator_uid)
		return 1;
	if (p->uid == st->uid)
		bits = st->mode >> 6;
	else if ((member = peer_in_group(p, st->gid)) == -1)
		return 0;	/* the group's bits, or the others'? unknown */
	else
		bits = member ? st->mode >> 3 : st->mode;
	return (bits & 06) != 0;
}

int
perm_may_destroy(struct peer *p, uid_t creator_uid,
    const struct kshm_stat *st)
{
	return p->uid == 0 || p->uid == creator_uid || p->uid == st->uid;
}

int
perm_may_own(struct peer *p, uid_t uid, gid_t gid)
{
	if (p->uid == 0)
		return 1;
	return uid == p->uid && peer_in_group(p, gid) == 1;
}

/* proto_name_allowed()'s question about a peer's groups. */
static int
perm_in_group(void *peer, uint32_t gid)
{
	return peer_in_group(peer, (gid_t)gid) == 1;
}

int
perm_may_name(struct peer *p, const char *name)
{
	return proto_name_allowed(name, p->uid, perm_in_group, p);
}
