/*
 * Accounting per uid, after dbus-broker's: one object per uid that holds
 * something (connections now), made when the first thing is charged and
 * freed with the last. A connection holds a reference to its user for
 * its whole life (conn.c), so the count cannot drift.
 */
#ifndef SHMD_USER_H
#define SHMD_USER_H

#include <stddef.h>
#include <sys/types.h>

struct user_registry {
	void	*by_uid;	/* tsearch(3) tree */
	size_t	 count;
};

struct user {
	struct user_registry	*reg;
	uid_t			 uid;
	unsigned		 refs;
	size_t			 conns;		/* open connections */
};

void	user_registry_init(struct user_registry *);
/* Frees every user (at exit, after every connection). */
void	user_registry_finish(struct user_registry *);

/* A reference to uid's user, made when missing; NULL when out of memory. */
struct user *user_get(struct user_registry *, uid_t uid);
void	user_put(struct user *);

#endif
