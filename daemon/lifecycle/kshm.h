/* The kernel's side of a segment: shmget, IPC_SET, IPC_RMID, and looking. */
#ifndef SHMD_KSHM_H
#define SHMD_KSHM_H

#include <errno.h>
#include <stdint.h>
#include <sys/shm.h>	/* SHM_DEST: the mode bit of a segment marked IPC_RMID */
#include <sys/types.h>
#include <time.h>

/* What the kernel holds for a segment now. */
struct kshm_stat {
	int		shmid;
	int32_t		key;
	uid_t		uid, cuid;
	gid_t		gid, cgid;
	unsigned	mode;		/* including SHM_DEST */
	uint64_t	size;
	uint64_t	nattch;
	time_t		atime, dtime, ctime;
	pid_t		cpid, lpid;
};

/*
 * Make a segment (IPC_CREAT|IPC_EXCL, and flags: kmem_shmflg()) with
 * mode 0 and the daemon as its owner (KSHM_UNSET_MODE): nobody may
 * attach it until it is handed over, and a crash before its record
 * leaves a segment recovery can tell as the daemon's. key 0 is
 * IPC_PRIVATE. The shmid with *st, or -1 with errno (EEXIST: the key is
 * taken).
 */
#define KSHM_UNSET_MODE	0
/*
 * The mode the daemon gives itself for a moment, after the segment's
 * record, to attach it and set its memory policy (kmem.c) before it is
 * handed over.
 */
#define KSHM_SETUP_MODE	0600
int	kshm_make(int32_t key, uint64_t size, int flags, struct kshm_stat *st);
/* Give a segment kshm_make() made its owner and mode (IPC_SET); st follows. */
int	kshm_hand_over(struct kshm_stat *st, uid_t uid, gid_t gid,
	    unsigned mode);
/*
 * Whether st shows a segment made and not handed over yet (still the
 * daemon's, mode KSHM_UNSET_MODE or KSHM_SETUP_MODE): 1 or 0.
 */
int	kshm_unhanded(const struct kshm_stat *st);

/*
 * Look at a segment, also when its mode denies the daemon read access:
 * 0; -1 with errno EINVAL or EIDRM when there is no segment of that
 * shmid; -1 with another errno (KSHM_UNKNOWN()) when the kernel cannot
 * say now, which never means gone.
 */
int	kshm_stat(int shmid, struct kshm_stat *st);
#define KSHM_UNKNOWN(err)	((err) != EINVAL && (err) != EIDRM)
/*
 * The segment at kernel index idx (SHM_STAT_ANY: no read access needed):
 * its shmid with *st, or -1 with errno (EINVAL: none there).
 */
int	kshm_stat_index(int idx, struct kshm_stat *st);

/*
 * Whether st (looked up by its shmid) is the segment shmd made with that
 * key and size as uid cuid: the whole of a segment's identity
 * (PROTOCOL.md, "Identity"). Process ids never decide it. A segment
 * marked for removal is the same only when marked says shmd marked it
 * (its key then reads 0): else someone's ipcrm ended it. 1 or 0.
 */
int	kshm_is(const struct kshm_stat *st, int32_t key, uid_t cuid,
	    uint64_t size, int marked);
/* The daemon's euid and egid: the cuid and cgid of every segment it makes. */
uid_t	kshm_cuid(void);
gid_t	kshm_cgid(void);

/* Mark for removal; a segment already gone is not an error. */
int	kshm_remove(int shmid);

/* The errno's symbolic name ("ENOSPC"). */
const char *kshm_errno_name(int err);

/* A sentence that says which kernel limit refused a create, and how to raise it. */
const char *kshm_limit_message(int err);

/* A kernel limit a segment crosses (shmd-protocol(7), SystemLimit). */
struct kshm_limit {
	int		 err;		/* what shmget says (or would) */
	const char	*name;		/* "shmmax", "shmall", "shmmni",
					   "memory"; NULL: cannot tell */
	uint64_t	 max;		/* its value (bytes, pages for shmall,
					   segments for shmmni) */
	int		 has_max;	/* max is known */
	char		 message[200];	/* which setting to raise, and how */
};

/*
 * Which limit refused a create of size bytes with errno err: asked only
 * once the kernel refused (IPC_INFO and sysinfo are not free on every
 * Create), and the same the kernel applied.
 */
void	kshm_limit_of(int err, uint64_t size, struct kshm_limit *);

#endif
