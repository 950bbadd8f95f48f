/* The kernel's side of a segment: shmget, IPC_SET, IPC_RMID, and looking. */
#ifndef SHMD_KSHM_H
#define SHMD_KSHM_H

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
 * Create a segment with IPC_CREAT|IPC_EXCL and mode 0 (KSHM_UNSET_MODE:
 * not handed over yet), then give it its owner and mode with IPC_SET.
 * key 0 is IPC_PRIVATE. Returns the shmid, or -1 with errno (EEXIST: the
 * key is taken). On failure nothing is left behind, unless *orphan is
 * set to a shmid the kernel made and then refused to remove.
 */
#define KSHM_UNSET_MODE	0
int	kshm_create(int32_t key, uint64_t size, uid_t uid, gid_t gid,
	    unsigned mode, struct kshm_stat *st, int *orphan);

/* Look at a segment, also when its mode denies the daemon read access. */
int	kshm_stat(int shmid, struct kshm_stat *st);

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

#endif
