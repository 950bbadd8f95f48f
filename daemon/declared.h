/*
 * Declared segments (shmd(8), shmd.conf(5)): files *.conf of
 * segments_dir, read in name order, in shmd.conf's syntax with one
 * "[segment NAME]" section per segment. At start and on SIGHUP the
 * daemon makes every declared segment that does not exist; one that
 * exists is kept as it is (a difference is logged and counted), and a
 * declaration that goes destroys nothing.
 */
#ifndef SHMD_DECLARED_H
#define SHMD_DECLARED_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "policy.h"

struct lifecycle;

/* One "[segment NAME]" section. */
struct declaration {
	char			*name;
	char			*file;		/* where, for errors and logs */
	int			 line;
	uint64_t		 size;		/* rounded up to page_size */
	unsigned		 mode;
	uid_t			 uid;
	gid_t			 gid;
	int			 any_key;	/* no key given: allocated */
	int32_t			 key;
	struct shm_policy	 policy;
	int			 huge_pages;	/* as written: page_size needs it */
};

struct declared {
	struct declaration	*v;
	size_t			 n;
};

/*
 * Read every declaration of dir ("" : none; a missing dir is fine only
 * when it is the default one) into *out, which is empty on error. -1
 * with a message naming the file, line and key.
 */
int	declared_load(struct declared *out, const char *dir, char *err,
	    size_t errlen);
void	declared_free(struct declared *);

/*
 * Make each declared segment that does not exist (persistent, declared,
 * charged to no uid, made by the daemon as pid and euid); log each one
 * that differs from its declaration and count them in
 * lc->declared_drift; a declared segment no declaration names any more
 * is no longer declared. Failures are logged: the daemon serves on.
 */
void	declared_apply(const struct declared *, struct lifecycle *,
	    pid_t pid, uid_t euid);

#endif
