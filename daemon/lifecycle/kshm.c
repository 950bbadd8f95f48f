/* The kernel's side of a segment: shmget, IPC_SET, IPC_RMID, and looking. */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/shm.h>
#include <sys/sysinfo.h>
#include <unistd.h>

#include "kshm.h"

/* shmids are seq * IPCMNI + index; IPCMNI is 32768, or 2^24 when extended. */
#define KSHM_IPCMNI		32768
#define KSHM_IPCMNI_EXTENDED	(1 << 24)

#ifndef SHM_STAT_ANY
#define SHM_STAT_ANY 15
#endif

/*
 * Who creates (this process): the creator's ids and pid the kernel will
 * show, asked once rather than at every create, and again in a forked
 * child.
 */
static struct {
	int	known;
	uid_t	euid;
	gid_t	egid;
	pid_t	pid;
} kshm_self_ids;

static void
kshm_self_forget(void)
{
	kshm_self_ids.known = 0;
}

static void
kshm_self(void)
{
	static int	atfork;

	if (kshm_self_ids.known)
		return;
	if (!atfork)
		atfork = pthread_atfork(NULL, NULL, kshm_self_forget) == 0;
	kshm_self_ids.euid = geteuid();
	kshm_self_ids.egid = getegid();
	kshm_self_ids.pid = getpid();
	kshm_self_ids.known = atfork;	/* not kept when a fork would not say */
}

static void
kshm_fill(int shmid, const struct shmid_ds *ds, struct kshm_stat *st)
{
	st->shmid = shmid;
	st->key = (int32_t)ds->shm_perm.__key;
	st->uid = ds->shm_perm.uid;
	st->gid = ds->shm_perm.gid;
	st->cuid = ds->shm_perm.cuid;
	st->cgid = ds->shm_perm.cgid;
	st->mode = ds->shm_perm.mode;
	st->size = ds->shm_segsz;
	st->nattch = ds->shm_nattch;
	st->atime = ds->shm_atime;
	st->dtime = ds->shm_dtime;
	st->ctime = ds->shm_ctime;
	st->cpid = ds->shm_cpid;
	st->lpid = ds->shm_lpid;
}

int
kshm_stat_index(int idx, struct kshm_stat *st)
{
	struct shmid_ds	ds;
	int		id;

	memset(&ds, 0, sizeof ds);	/* valgrind does not know it fills ds */
	if ((id = shmctl(idx, SHM_STAT_ANY, &ds)) == -1)
		return -1;
	kshm_fill(id, &ds, st);
	return id;
}

int
kshm_stat(int shmid, struct kshm_stat *st)
{
	struct shmid_ds	ds;
	int		idx, id;

	if (shmctl(shmid, IPC_STAT, &ds) == 0) {
		kshm_fill(shmid, &ds, st);
		return 0;
	}
	if (errno != EACCES)
		return -1;
	/* SHM_STAT_ANY takes the index and needs no read permission. */
	memset(&ds, 0, sizeof ds);	/* valgrind does not know it fills ds */
	idx = shmid % KSHM_IPCMNI;
	id = shmctl(idx, SHM_STAT_ANY, &ds);
	if (id != shmid) {
		idx = shmid % KSHM_IPCMNI_EXTENDED;
		id = shmctl(idx, SHM_STAT_ANY, &ds);
	}
	if (id != shmid) {
		errno = EINVAL;
		return -1;
	}
	kshm_fill(shmid, &ds, st);
	return 0;
}

uid_t
kshm_cuid(void)
{
	kshm_self();
	return kshm_self_ids.euid;
}

gid_t
kshm_cgid(void)
{
	kshm_self();
	return kshm_self_ids.egid;
}

/* What the kernel holds for a segment shmd made: ds filled as IPC_SET reads it. */
static void
kshm_made(struct shmid_ds *ds, int32_t key, uint64_t size, uid_t uid,
    gid_t gid, unsigned mode)
{
	kshm_self();
	memset(ds, 0, sizeof *ds);
	ds->shm_perm.__key = (key_t)key;
	ds->shm_perm.uid = uid;
	ds->shm_perm.gid = gid;
	ds->shm_perm.cuid = kshm_self_ids.euid;
	ds->shm_perm.cgid = kshm_self_ids.egid;
	ds->shm_perm.mode = mode & 0777;
	ds->shm_segsz = (size_t)size;
	ds->shm_cpid = kshm_self_ids.pid;
	ds->shm_ctime = time(NULL);
}

int
kshm_make(int32_t key, uint64_t size, int flags, struct kshm_stat *st)
{
	struct shmid_ds	ds;
	int		shmid;

	shmid = shmget((key_t)key, (size_t)size,
	    IPC_CREAT | IPC_EXCL | flags | KSHM_UNSET_MODE);
	if (shmid == -1)
		return -1;
	/* what shmget made: no IPC_STAT needed */
	kshm_made(&ds, key, size, kshm_self_ids.euid, kshm_self_ids.egid,
	    KSHM_UNSET_MODE);
	kshm_fill(shmid, &ds, st);
	return shmid;
}

int
kshm_hand_over(struct kshm_stat *st, uid_t uid, gid_t gid, unsigned mode)
{
	struct shmid_ds	ds;

	/*
	 * IPC_SET reads only the owner and mode of ds, so it is filled here
	 * rather than asked for (no IPC_STAT): the rest is what shmget made.
	 */
	kshm_made(&ds, st->key, st->size, uid, gid, mode);
	if (shmctl(st->shmid, IPC_SET, &ds) == -1)
		return -1;
	st->uid = uid;
	st->gid = gid;
	st->mode = (st->mode & ~0777u) | (mode & 0777);
	st->ctime = ds.shm_ctime;
	return 0;
}

int
kshm_unhanded(const struct kshm_stat *st)
{
	return st->uid == st->cuid && st->gid == st->cgid &&
	    ((st->mode & 0777) == KSHM_UNSET_MODE ||
	    (st->mode & 0777) == KSHM_SETUP_MODE);
}

int
kshm_is(const struct kshm_stat *st, int32_t key, uid_t cuid, uint64_t size,
    int marked)
{
	/* The shmid was reused by someone else's segment. */
	if (st->cuid != cuid || st->size != size)
		return 0;
	/* Marked for removal: by shmd (its key is gone), or by an ipcrm. */
	if (st->mode & SHM_DEST)
		return marked;
	return st->key == key;
}

int
kshm_remove(int shmid)
{
	if (shmctl(shmid, IPC_RMID, NULL) == -1 &&
	    errno != EINVAL && errno != EIDRM)
		return -1;
	return 0;
}

const char *
kshm_errno_name(int err)
{
	const char	*name = strerrorname_np(err);

	return name != NULL ? name : "EIO";
}

const char *
kshm_limit_message(int err)
{
	switch (err) {
	case ENOSPC:
		return "the kernel's limit on segments (kernel.shmmni) or on "
		    "shared memory pages (kernel.shmall) is reached; raise it "
		    "with sysctl -w kernel.shmmni=N or kernel.shmall=N";
	case EINVAL:
		return "the size is above the kernel's largest segment "
		    "(kernel.shmmax); raise it with sysctl -w kernel.shmmax=N";
	case ENOMEM:
		return "the kernel could not allocate memory for the segment";
	case EPERM:
	case EACCES:
		return "the kernel refused the daemon (permission)";
	}
	return "the kernel refused to create the segment";
}

/* The kernel's SysV limits (of this IPC namespace): cheap. -1 with errno. */
static int
kshm_limits(struct shminfo *lim)
{
	return shmctl(0, IPC_INFO, (struct shmid_ds *)(void *)lim) == -1 ?
	    -1 : 0;
}

/*
 * What this IPC namespace uses: segments and pages. Dear: SHM_INFO
 * walks every segment (for rss and swap), so only once a create failed.
 */
static int
kshm_use(struct shm_info *use)
{
	return shmctl(0, SHM_INFO, (struct shmid_ds *)(void *)use) == -1 ?
	    -1 : 0;
}

/* What the system commits at most, in bytes (RAM and swap); 0: unknown. */
static uint64_t
kshm_memory(void)
{
	struct sysinfo	si;

	if (sysinfo(&si) == -1)
		return 0;
	return ((uint64_t)si.totalram + si.totalswap) * si.mem_unit;
}

/* vm.overcommit_memory (0 heuristic, 1 always, 2 never); 0 when unknown. */
static int
kshm_overcommit(void)
{
	FILE	*f;
	int	 mode = 0;

	if ((f = fopen("/proc/sys/vm/overcommit_memory", "re")) == NULL)
		return 0;
	if (fscanf(f, "%d", &mode) != 1)
		mode = 0;
	fclose(f);
	return mode;
}

/* Fill lim: the limit name crossed (max its value), err what shmget says. */
static void
kshm_limit_set(struct kshm_limit *lim, int err, const char *name,
    uint64_t max, int has_max)
{
	lim->err = err;
	lim->name = name;
	lim->max = max;
	lim->has_max = has_max;
	if (name == NULL)
		snprintf(lim->message, sizeof lim->message, "%s",
		    kshm_limit_message(err));
	else if (strcmp(name, "memory") == 0)
		snprintf(lim->message, sizeof lim->message, "the system will "
		    "not commit that much memory (%llu bytes of RAM and swap): "
		    "add memory or swap, or set vm.overcommit_memory",
		    (unsigned long long)max);
	else
		snprintf(lim->message, sizeof lim->message, "the kernel's "
		    "limit kernel.%s (%llu%s) is reached: raise it with sysctl "
		    "-w kernel.%s=N", name, (unsigned long long)max,
		    strcmp(name, "shmmax") == 0 ? " bytes in a segment" :
		    strcmp(name, "shmall") == 0 ? " pages in all" :
		    " segments", name);
}

/*
 * Whether the kernel could ever give a segment of size bytes: 0, or -1
 * with the limit it crosses: above kernel.shmmax, more pages than
 * kernel.shmall allows in all, or more than the system will commit (RAM
 * and swap, unless vm.overcommit_memory is 1).
 */
static int
kshm_check_size(uint64_t size, struct kshm_limit *lim)
{
	struct shminfo	k;
	uint64_t	page = (uint64_t)sysconf(_SC_PAGESIZE), mem;

	if (kshm_limits(&k) == 0) {
		if (size > k.shmmax) {
			kshm_limit_set(lim, EINVAL, "shmmax", k.shmmax, 1);
			return -1;
		}
		/* more pages than there may be in all, used or not */
		if (size / page + (size % page != 0) > k.shmall) {
			kshm_limit_set(lim, ENOSPC, "shmall", k.shmall, 1);
			return -1;
		}
	}
	/* (vm.overcommit_memory 1 commits anything: the kernel would too) */
	if ((mem = kshm_memory()) != 0 && size > mem && kshm_overcommit() != 1) {
		kshm_limit_set(lim, ENOMEM, "memory", mem, 1);
		return -1;
	}
	return 0;
}

void
kshm_limit_of(int err, uint64_t size, struct kshm_limit *lim)
{
	struct shminfo	k;
	struct shm_info	use;
	uint64_t	mem;

	/* The limit that refused it is the one now crossed, when one is. */
	if (kshm_check_size(size, lim) == -1 && lim->err == err)
		return;
	if (err == ENOMEM && (mem = kshm_memory()) != 0) {
		kshm_limit_set(lim, err, "memory", mem, 1);
		return;
	}
	/* every segment in use, or the pages they may take in all */
	if (err == ENOSPC && kshm_limits(&k) == 0 && kshm_use(&use) == 0) {
		if (use.used_ids >= (int)k.shmmni)
			kshm_limit_set(lim, err, "shmmni", k.shmmni, 1);
		else
			kshm_limit_set(lim, err, "shmall", k.shmall, 1);
		return;
	}
	if (err == EINVAL && kshm_limits(&k) == 0 && size > k.shmmax) {
		kshm_limit_set(lim, err, "shmmax", k.shmmax, 1);
		return;
	}
	kshm_limit_set(lim, err, NULL, 0, 0);
}
