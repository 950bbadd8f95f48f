/* Declared segments: segments_dir's files, and making what they declare. */
#include "config.h"
#include "declared.h"

#include <dirent.h>
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "kmem.h"
#include "kshm.h"
#include "lifecycle.h"
#include "log.h"
#include "number.h"
#include "proto.h"

/* What one file's reading needs between conf_parse()'s callbacks. */
struct declared_reader {
	struct declared		*out;
	const char		*path;
	size_t			 first;		/* this file's first section */
	int			 in_section;
	uid_t			 euid;		/* the default owner */
	gid_t			 egid;
};

void
declared_free(struct declared *d)
{
	size_t	i;

	for (i = 0; i < d->n; i++) {
		free(d->v[i].name);
		free(d->v[i].file);
	}
	free(d->v);
	d->v = NULL;
	d->n = 0;
}

static const struct declaration *
declared_find(const struct declared *d, const char *name)
{
	size_t	i;

	for (i = 0; i < d->n; i++)
		if (strcmp(d->v[i].name, name) == 0)
			return &d->v[i];
	return NULL;
}

/* "[segment NAME]" opens a declaration. */
static int
declared_section(void *arg, const char *text, int line, char *why,
    size_t whylen)
{
	struct declared_reader	*r = arg;
	struct declaration	*dcl, *v;
	const struct declaration *other;
	const char		*name;

	if (strncmp(text, "segment", 7) != 0 || (text[7] != ' ' &&
	    text[7] != '\t')) {
		snprintf(why, whylen, "expected '[segment NAME]', got "
		    "'[%.64s]'", text);
		return -1;
	}
	name = text + 8;
	name += strspn(name, " \t");
	if (proto_name_valid(name) == -1) {
		snprintf(why, whylen, "'%.64s' is not a valid segment name",
		    name);
		return -1;
	}
	if ((other = declared_find(r->out, name)) != NULL) {
		snprintf(why, whylen, "segment '%s' is declared already at "
		    "%s:%d", name, other->file, other->line);
		return -1;
	}
	v = reallocarray(r->out->v, r->out->n + 1, sizeof *v);
	if (v == NULL) {
		snprintf(why, whylen, "out of memory");
		return -1;
	}
	r->out->v = v;
	dcl = &v[r->out->n];
	memset(dcl, 0, sizeof *dcl);
	dcl->name = strdup(name);
	dcl->file = strdup(r->path);
	if (dcl->name == NULL || dcl->file == NULL) {
		free(dcl->name);
		free(dcl->file);
		snprintf(why, whylen, "out of memory");
		return -1;
	}
	r->out->n++;
	dcl->line = line;
	dcl->mode = 0600;
	dcl->uid = r->euid;
	dcl->gid = r->egid;
	dcl->any_key = 1;
	dcl->policy.numa_node = -1;
	r->in_section = 1;
	return 0;
}

/* "yes"/"no" (and true/false, 1/0). */
static int
declared_bool(const char *value, int *out, char *why, size_t whylen)
{
	if (strcmp(value, "yes") == 0 || strcmp(value, "true") == 0 ||
	    strcmp(value, "1") == 0)
		*out = 1;
	else if (strcmp(value, "no") == 0 || strcmp(value, "false") == 0 ||
	    strcmp(value, "0") == 0)
		*out = 0;
	else {
		snprintf(why, whylen, "'%.64s' is not yes or no", value);
		return -1;
	}
	return 0;
}

/* A user or group: a number, or a name the system knows. */
static int
declared_id(const char *text, int group, uint32_t *out, char *why,
    size_t whylen)
{
	struct passwd	*pw;
	struct group	*gr;
	uint64_t	 v;
	const char	*reason;

	if (number_parse(text, 0, &v, &reason) == 0) {
		if (v >= UINT32_MAX) {
			snprintf(why, whylen, "'%.64s' is out of range", text);
			return -1;
		}
		*out = (uint32_t)v;
		return 0;
	}
	if (group && (gr = getgrnam(text)) != NULL) {
		*out = gr->gr_gid;
		return 0;
	}
	if (!group && (pw = getpwnam(text)) != NULL) {
		*out = pw->pw_uid;
		return 0;
	}
	snprintf(why, whylen, "no such %s '%.64s'", group ? "group" : "user",
	    text);
	return -1;
}

/* owner = user[:group]; without a group, the user's primary one. */
static int
declared_owner(struct declaration *dcl, const char *value, char *why,
    size_t whylen)
{
	char		*user, *colon;
	struct passwd	*pw;
	uint32_t	 uid, gid;
	int		 rc = -1;

	if ((user = strdup(value)) == NULL) {
		snprintf(why, whylen, "out of memory");
		return -1;
	}
	if ((colon = strchr(user, ':')) != NULL)
		*colon = '\0';
	if (declared_id(user, 0, &uid, why, whylen) == -1)
		goto out;
	if (colon != NULL) {
		if (declared_id(colon + 1, 1, &gid, why, whylen) == -1)
			goto out;
	} else if ((pw = getpwuid(uid)) != NULL)
		gid = pw->pw_gid;
	else {
		snprintf(why, whylen, "uid %lu has no primary group: write "
		    "user:group", (unsigned long)uid);
		goto out;
	}
	dcl->uid = uid;
	dcl->gid = gid;
	rc = 0;
out:
	free(user);
	return rc;
}

/* One key of a "[segment NAME]" section. */
static int
declared_key(void *arg, const char *key, const char *value, char *why,
    size_t whylen)
{
	struct declared_reader	*r = arg;
	struct declaration	*dcl;
	uint64_t		 v;

	if (!r->in_section) {
		snprintf(why, whylen, "outside a [segment NAME] section");
		return -1;
	}
	dcl = &r->out->v[r->out->n - 1];
	if (strcmp(key, "size") == 0) {
		if (conf_number(value, NUMBER_HEX | NUMBER_SUFFIX, 1,
		    INT64_MAX, &v, why, whylen) == -1)
			return -1;
		dcl->size = v;
	} else if (strcmp(key, "mode") == 0) {
		if (conf_number(value, NUMBER_OCTAL, 0, 0777, &v, why,
		    whylen) == -1)
			return -1;
		dcl->mode = (unsigned)v;
	} else if (strcmp(key, "owner") == 0) {
		return declared_owner(dcl, value, why, whylen);
	} else if (strcmp(key, "key") == 0) {
		if (conf_number(value, NUMBER_HEX, 0, UINT32_MAX, &v, why,
		    whylen) == -1)
			return -1;
		dcl->any_key = 0;
		dcl->key = (int32_t)(uint32_t)v;
	} else if (strcmp(key, "huge_pages") == 0) {
		return declared_bool(value, &dcl->huge_pages, why, whylen);
	} else if (strcmp(key, "page_size") == 0) {
		/* (which sizes the kernel offers: declared_check()) */
		if (conf_number(value, NUMBER_HEX | NUMBER_SUFFIX, 1,
		    INT64_MAX, &v, why, whylen) == -1)
			return -1;
		dcl->policy.page_size = v;
	} else if (strcmp(key, "locked") == 0) {
		return declared_bool(value, &dcl->policy.locked, why, whylen);
	} else if (strcmp(key, "numa_node") == 0) {
		if (conf_number(value, 0, 0, INT32_MAX, &v, why,
		    whylen) == -1)
			return -1;
		dcl->policy.numa_node = (int)v;
	} else {
		snprintf(why, whylen, "unknown key (size, mode, owner, key, "
		    "huge_pages, page_size, locked, numa_node)");
		return -1;
	}
	return 0;
}

/*
 * What a section must say as a whole: its size, and a memory policy this
 * system can give (kmem_policy_settle(), as for a Create).
 */
static int
declared_check(struct declaration *dcl, char *err, size_t errlen)
{
	struct kmem_fault	f;

	if (dcl->size == 0) {
		snprintf(err, errlen, "%s:%d: segment '%s': key 'size' is "
		    "missing", dcl->file, dcl->line, dcl->name);
		return -1;
	}
	/* Made rounded up (PROTOCOL.md): compared rounded up. */
	if (kmem_policy_settle(dcl->huge_pages, &dcl->policy, &dcl->size,
	    &f) == -1) {
		snprintf(err, errlen, "%s:%d: segment '%s': key '%s': %s",
		    dcl->file, dcl->line, dcl->name, f.key, f.why);
		return -1;
	}
	if (dcl->size > INT64_MAX) {
		snprintf(err, errlen, "%s:%d: segment '%s': key 'size' is out "
		    "of range", dcl->file, dcl->line, dcl->name);
		return -1;
	}
	return 0;
}

/* Files *.conf, not hidden: the ones segments_dir holds for shmd. */
static int
declared_file_filter(const struct dirent *de)
{
	size_t	len = strlen(de->d_name);

	return de->d_name[0] != '.' && len > 5 &&
	    strcmp(de->d_name + len - 5, ".conf") == 0;
}

/* Compared byte by byte: "name order" whatever the locale. */
static int
declared_file_order(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

int
declared_load(struct declared *out, const char *dir, char *err,
    size_t errlen)
{
	struct declared_reader	 r;
	const struct conf_parser cp = { declared_section, declared_key, &r };
	struct dirent		**names = NULL;
	char			*path = NULL;
	int			 n, i, rc = -1;
	size_t			 j;

	memset(out, 0, sizeof *out);
	if (*dir == '\0')
		return 0;
	if ((n = scandir(dir, &names, declared_file_filter,
	    declared_file_order)) == -1) {
		if (errno == ENOENT && strcmp(dir, CONF_DEFAULT_SEGMENTS_DIR) ==
		    0)
			return 0;
		snprintf(err, errlen, "key 'segments_dir': %s: %s", dir,
		    strerror(errno));
		return -1;
	}
	memset(&r, 0, sizeof r);
	r.out = out;
	r.euid = geteuid();
	r.egid = getegid();
	for (i = 0; i < n; i++) {
		free(path);
		if (asprintf(&path, "%s/%s", dir, names[i]->d_name) == -1) {
			path = NULL;
			snprintf(err, errlen, "out of memory");
			goto out;
		}
		r.path = path;
		r.first = out->n;
		r.in_section = 0;
		if (conf_parse(path, 0, &cp, err, errlen) == -1)
			goto out;
		for (j = r.first; j < out->n; j++)
			if (declared_check(&out->v[j], err, errlen) == -1)
				goto out;
	}
	rc = 0;
out:
	free(path);
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	if (rc == -1)
		declared_free(out);
	return rc;
}

/* Append one difference to buf ("a, b, c"). */
static void __attribute__((format(printf, 4, 5)))
declared_say(char *buf, size_t len, int *n, const char *fmt, ...)
{
	size_t	used = strlen(buf);
	va_list	ap;

	if ((*n)++ > 0 && used + 2 < len) {
		memcpy(buf + used, ", ", 3);
		used += 2;
	}
	va_start(ap, fmt);
	vsnprintf(buf + used, len - used, fmt, ap);
	va_end(ap);
}

/*
 * Write in buf what of seg (with st, what the kernel holds) differs
 * from its declaration; how many members differ.
 */
static int
declared_diff(const struct declaration *dcl, const struct segment *seg,
    const struct kshm_stat *st, char *buf, size_t len)
{
	int	n = 0;

	*buf = '\0';
	if (seg->size != dcl->size)
		declared_say(buf, len, &n, "size %llu (declared %llu)",
		    (unsigned long long)seg->size,
		    (unsigned long long)dcl->size);
	if (st->uid != dcl->uid || st->gid != dcl->gid)
		declared_say(buf, len, &n, "owner %lu:%lu (declared %lu:%lu)",
		    (unsigned long)st->uid, (unsigned long)st->gid,
		    (unsigned long)dcl->uid, (unsigned long)dcl->gid);
	if ((st->mode & 0777) != dcl->mode)
		declared_say(buf, len, &n, "mode %03o (declared %03o)",
		    st->mode & 0777, dcl->mode);
	if (!dcl->any_key && seg->key != dcl->key)
		declared_say(buf, len, &n, "key 0x%08x (declared 0x%08x)",
		    (unsigned)seg->key, (unsigned)dcl->key);
	if (seg->policy.page_size != dcl->policy.page_size)
		declared_say(buf, len, &n, "page_size %llu (declared %llu)",
		    (unsigned long long)seg->policy.page_size,
		    (unsigned long long)dcl->policy.page_size);
	if (seg->policy.locked != dcl->policy.locked)
		declared_say(buf, len, &n, "locked %s (declared %s)",
		    seg->policy.locked ? "yes" : "no",
		    dcl->policy.locked ? "yes" : "no");
	if (seg->policy.numa_node != dcl->policy.numa_node)
		declared_say(buf, len, &n, "numa_node %d (declared %d)",
		    seg->policy.numa_node, dcl->policy.numa_node);
	return n;
}

/* Make a declared segment that does not exist. */
static void
declared_make(const struct declaration *dcl, struct lifecycle *lc,
    pid_t pid, uid_t euid)
{
	struct lifecycle_request	 req;
	struct segment			*seg;
	struct kshm_stat		 st;
	int				 rc;

	memset(&req, 0, sizeof req);
	req.name = dcl->name;
	req.size = dcl->size;
	req.lifetime = PROTO_LIFETIME_PERSISTENT;
	req.any_key = dcl->any_key;
	req.key = dcl->key;
	req.uid = dcl->uid;
	req.gid = dcl->gid;
	req.mode = dcl->mode;
	req.policy = dcl->policy;
	req.declared = 1;
	req.attach_timeout = lc->conf->attach_timeout;
	req.creator_uid = euid;
	req.creator_pid = pid;
	req.creator_pidfd = NULL;	/* none: the daemon is the creator */
	rc = lifecycle_create(lc, &req, &seg, &st);
	if (rc == LIFECYCLE_STATE_ERROR)
		log_warn("declared segment %s (%s:%d): cannot record it",
		    dcl->name, dcl->file, dcl->line);
	else if (rc == -1 && errno == EEXIST && !dcl->any_key)
		log_warnx("declared segment %s (%s:%d): key 0x%08x is in use",
		    dcl->name, dcl->file, dcl->line, (unsigned)dcl->key);
	else if (rc == -1)
		log_warn("declared segment %s (%s:%d): cannot create it",
		    dcl->name, dcl->file, dcl->line);
}

void
declared_apply(const struct declared *d, struct lifecycle *lc, pid_t pid,
    uid_t euid)
{
	const struct declaration *dcl;
	struct segment		*seg;
	struct kshm_stat	 st;
	char			 diff[512];
	uint64_t		 drift = 0;
	size_t			 i;
	int			 rc;

	/* A declaration that went destroys nothing: the flag goes. */
	TAILQ_FOREACH(seg, &lc->registry.segments, entry) {
		if (!seg->declared || declared_find(d, seg->name) != NULL)
			continue;
		if ((rc = lifecycle_declare(lc, seg, 0)) != 0)
			log_warn("%s: cannot record that it is no longer "
			    "declared%s", seg->name, rc ==
			    LIFECYCLE_STATE_ERROR ? "" : " (no memory)");
	}
	for (i = 0; i < d->n; i++) {
		dcl = &d->v[i];
		if ((seg = lifecycle_find(lc, dcl->name, &st)) == NULL) {
			declared_make(dcl, lc, pid, euid);
			continue;
		}
		if (declared_diff(dcl, seg, &st, diff, sizeof diff) == 0)
			continue;
		drift++;
		log_warnx("declared segment %s (%s:%d) differs from its "
		    "declaration, kept as it is: %s", dcl->name, dcl->file,
		    dcl->line, diff);
	}
	lc->declared_drift = drift;
}
