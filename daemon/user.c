/* Accounting per uid (see user.h). */
#include "config.h"

#include <search.h>
#include <stdlib.h>

#include "user.h"

static int
user_compare(const void *a, const void *b)
{
	const struct user	*ua = a, *ub = b;

	return (ua->uid > ub->uid) - (ua->uid < ub->uid);
}

void
user_registry_init(struct user_registry *reg)
{
	reg->by_uid = NULL;
	reg->count = 0;
}

void
user_registry_finish(struct user_registry *reg)
{
	tdestroy(reg->by_uid, free);
	reg->by_uid = NULL;
	reg->count = 0;
}

struct user *
user_get(struct user_registry *reg, uid_t uid)
{
	struct user	 key, *u;
	void		*node;

	key.uid = uid;
	if ((node = tfind(&key, &reg->by_uid, user_compare)) != NULL) {
		u = *(struct user **)node;
		u->refs++;
		return u;
	}
	if ((u = calloc(1, sizeof *u)) == NULL)
		return NULL;
	u->reg = reg;
	u->uid = uid;
	u->refs = 1;
	if (tsearch(u, &reg->by_uid, user_compare) == NULL) {
		free(u);
		return NULL;
	}
	reg->count++;
	return u;
}

void
user_put(struct user *u)
{
	if (u == NULL || --u->refs > 0)
		return;
	tdelete(u, &u->reg->by_uid, user_compare);
	u->reg->count--;
	free(u);
}
