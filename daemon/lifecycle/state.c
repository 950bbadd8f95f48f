/*
 * What survives a restart: an append-only log of segments in state_dir.
 *
 * Its records, one JSON object a line, after the header line
 * {"shmd_state":1,"boot_id":...}:
 *   run      a run began: pid, uid, start_usec, pidns, cuid, cgid (who
 *            wrote what follows; no proof of a leftover: recover.c)
 *   create   a segment (state_segment_text()), after its shmget; the
 *            number of its announcement ("intent") when first written
 *   pending, aborted        what older versions wrote where the intent
 *            page is now (state.h), read still: a Create announced
 *            before its shmget, then one that made nothing
 *   destroy, mark, orphan   a segment's end, shmd's IPC_RMID mark, a
 *            segment shmd could not remove yet
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <json-c/json.h>

#include "intent.h"
#include "jsonutil.h"
#include "kshm.h"
#include "log.h"
#include "realtime.h"
#include "registry.h"
#include "state.h"
#include "textbuf.h"

#define STATE_FORMAT	1
#define STATE_TMP	STATE_FILE ".new"
/* Records beyond two per segment before the log is rewritten. */
#define STATE_SLACK	1024

const char *
state_boot_id(void)
{
	static char	id[64];
	FILE		*f;

	if (id[0] != '\0')
		return id;
	if ((f = fopen("/proc/sys/kernel/random/boot_id", "r")) != NULL) {
		if (fgets(id, sizeof id, f) == NULL)
			id[0] = '\0';
		fclose(f);
	}
	id[strcspn(id, "\n")] = '\0';
	return id;
}

uint64_t
state_pidns(void)
{
	struct stat	sb;

	return stat("/proc/self/ns/pid", &sb) == 0 ? (uint64_t)sb.st_ino : 0;
}

void
state_init(struct state *st, pid_t pid, uid_t uid, int64_t start_usec)
{
	const char	*env;

	memset(st, 0, sizeof *st);
	st->dirfd = st->fd = -1;
	st->pid = pid;
	st->uid = uid;
	st->start_usec = start_usec;
	st->pidns = state_pidns();
	st->slack = STATE_SLACK;
	/* Tests make the log compact at every position (tests/daemon/check_lifetime.c). */
	if ((env = getenv("SHMD_TEST_STATE_SLACK")) != NULL)
		st->slack = strtoull(env, NULL, 10);
	/* Tests choose where Creates are announced: "page" or "log". */
	if ((env = getenv("SHMD_TEST_INTENT")) != NULL)
		st->intent_force = strcmp(env, "page") == 0 ? 1 :
		    strcmp(env, "log") == 0 ? -1 : 0;
}

/*
 * Where Creates are announced (state.h): in the intent page on tmpfs or
 * ramfs, where a store never faults for want of space or for an I/O
 * error once the page is allocated; in the log elsewhere (a copy-on-
 * write or journalled filesystem may refuse a store with SIGBUS).
 */
static int
state_intent_in_log(const struct state *st, int dirfd)
{
	struct statfs	fs;

	if (st->intent_force != 0)
		return st->intent_force < 0;
	if (fstatfs(dirfd, &fs) == -1)
		return 1;
	return fs.f_type != 0x01021994 &&	/* TMPFS_MAGIC */
	    fs.f_type != (typeof(fs.f_type))0x858458f6;	/* RAMFS_MAGIC */
}

int
state_open(struct state *st, const char *dir, char *why, size_t whylen)
{
	struct stat	sb;
	int		fd;

	if (mkdir(dir, 0700) == -1 && errno != EEXIST) {
		snprintf(why, whylen, "cannot create it: %s", strerror(errno));
		return -1;
	}
	if (lstat(dir, &sb) == 0 && S_ISLNK(sb.st_mode)) {
		snprintf(why, whylen, "is a symlink");
		return -1;
	}
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd == -1) {
		if (errno == ELOOP)
			snprintf(why, whylen, "is a symlink");
		else if (errno == ENOTDIR)
			snprintf(why, whylen, "is not a directory");
		else
			snprintf(why, whylen, "%s", strerror(errno));
		return -1;
	}
	/* What was opened is what is checked: no race with a rename. */
	if (fstat(fd, &sb) == -1) {
		snprintf(why, whylen, "%s", strerror(errno));
		close(fd);
		return -1;
	}
	if (sb.st_uid != st->uid) {
		snprintf(why, whylen, "is owned by uid %lu, not by shmd's uid "
		    "%lu", (unsigned long)sb.st_uid, (unsigned long)st->uid);
		close(fd);
		return -1;
	}
	if (sb.st_mode & (S_IWGRP | S_IWOTH)) {
		snprintf(why, whylen, "is writable by group or others (mode "
		    "%04o); it must be 0700 or 0755", (unsigned)sb.st_mode &
		    07777);
		close(fd);
		return -1;
	}
	if ((st->dir = strdup(dir)) == NULL) {
		snprintf(why, whylen, "out of memory");
		close(fd);
		return -1;
	}
	st->dirfd = fd;
	/* (one that cannot be made now is made before the first record) */
	if (!(st->intent_log = state_intent_in_log(st, fd)) &&
	    (st->intent = intent_map(fd)) == NULL)
		log_warn("state: cannot make %s/%s", dir, INTENT_FILE);
	return 0;
}

const char *
state_failed_path(const struct state *st, char *buf, size_t len)
{
	snprintf(buf, len, "%s%s%s", st->dir != NULL ? st->dir : "",
	    st->failed != NULL ? "/" : "", st->failed != NULL ? st->failed :
	    "");
	return buf;
}

static int
state_write_all(int fd, const char *p, size_t len)
{
	ssize_t	n;

	while (len > 0) {
		n = write(fd, p, len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/*
 * Records are written as text straight into a buffer (textbuf.h), as the
 * hot replies are: every Create and every end writes one, and
 * building json-c objects cost more than the write. They are read back
 * with json-c (state_parse()); names are of the protocol's characters,
 * which JSON takes as they are.
 */
#define STATE_RECORD_MAX	(1024 + PROTO_NAME_MAX)

static void
state_int(struct textbuf *tb, const char *key, int64_t v)
{
	textbuf_lit(tb, ",\"");
	textbuf_str(tb, key);
	textbuf_lit(tb, "\":");
	textbuf_i64(tb, v);
}

/*
 * A segment's memory policy, its declared flag and the daemon's own
 * attach that set its NUMA node, each only when there is one: older
 * records have none, and read back as no policy.
 */
static void
state_policy_text(struct textbuf *tb, const struct segment *seg)
{
	if (seg->policy.page_size != 0)
		state_int(tb, "page_size", (int64_t)seg->policy.page_size);
	if (seg->policy.locked)
		textbuf_lit(tb, ",\"locked\":true");
	if (seg->policy.numa_node >= 0)
		state_int(tb, "numa_node", seg->policy.numa_node);
	if (seg->declared)
		textbuf_lit(tb, ",\"declared\":true");
	if (seg->self_atime != 0) {
		state_int(tb, "self_atime", (int64_t)seg->self_atime);
		state_int(tb, "self_dtime", (int64_t)seg->self_dtime);
		state_int(tb, "self_lpid", seg->self_lpid);
	}
}

/*
 * A segment's record (its "create" line), newline included; the number
 * of the announcement it answers, when it is one (0: none).
 */
static void
state_segment_text(struct textbuf *tb, const struct segment *seg,
    uint64_t intent)
{
	textbuf_lit(tb, "{\"op\":\"create\",\"name\":\"");
	textbuf_str(tb, seg->name);
	textbuf_lit(tb, "\"");
	state_int(tb, "shmid", seg->shmid);
	state_int(tb, "key", seg->key);
	state_int(tb, "size", (int64_t)seg->size);
	textbuf_lit(tb, ",\"lifetime\":\"");
	textbuf_str(tb, proto_lifetime_name(seg->lifetime));
	textbuf_lit(tb, "\"");
	state_int(tb, "attach_timeout", (int64_t)seg->attach_timeout);
	state_int(tb, "uid", seg->uid);
	state_int(tb, "gid", seg->gid);
	state_int(tb, "mode", seg->mode);
	state_int(tb, "creator_uid", seg->creator_uid);
	state_int(tb, "creator_pid", seg->creator_pid);
	state_int(tb, "creator_start", (int64_t)seg->creator_start);
	state_int(tb, "creator_ino", (int64_t)seg->creator_ino);
	state_int(tb, "creator_pidns", (int64_t)seg->creator_pidns);
	state_int(tb, "created_usec", seg->created_usec);
	state_int(tb, "created_boot", seg->created_boot);
	state_int(tb, "cuid", seg->kernel_cuid);
	if (seg->rmid_marked)
		textbuf_lit(tb, ",\"marked\":true");
	state_policy_text(tb, seg);
	if (intent != 0)
		state_int(tb, "intent", (int64_t)intent);
	textbuf_lit(tb, "}\n");
}

/* This run's record (who wrote what follows), newline included. */
static void
state_run_text(struct textbuf *tb, const struct state *st)
{
	textbuf_lit(tb, "{\"op\":\"run\"");
	state_int(tb, "pid", st->pid);
	state_int(tb, "uid", st->uid);
	state_int(tb, "start_usec", st->start_usec);
	state_int(tb, "pidns", (int64_t)st->pidns);
	state_int(tb, "cuid", kshm_cuid());
	state_int(tb, "cgid", kshm_cgid());
	textbuf_lit(tb, "}\n");
}

/* The first line of a log: its format and the boot it belongs to. */
static void
state_header_text(struct textbuf *tb)
{
	textbuf_lit(tb, "{\"shmd_state\":");
	textbuf_i64(tb, STATE_FORMAT);
	textbuf_lit(tb, ",\"boot_id\":\"");
	textbuf_str(tb, state_boot_id());
	textbuf_lit(tb, "\"}\n");
}

/*
 * A record's text is written over line + 1, line[0] kept for a newline
 * that ends a line torn by an earlier write that failed part way.
 */
struct state_line {
	struct textbuf	tb;
	char		line[STATE_RECORD_MAX];
};

static struct textbuf *
state_line_begin(struct state_line *l)
{
	l->line[0] = '\n';
	textbuf_init(&l->tb, l->line + 1, sizeof l->line - 1);
	return &l->tb;
}

int
state_maybe_compact(struct state *st, const struct registry *reg)
{
	if (st->fd != -1 && st->records > 2 * reg->count + st->slack)
		return state_compact(st, reg);
	return 0;
}

int
state_ready(struct state *st, const struct registry *reg)
{
	if (st->dirfd == -1)
		return 0;
	if (!st->intent_log && st->intent == NULL) {
		if ((st->intent = intent_map(st->dirfd)) == NULL) {
			st->failed = INTENT_FILE;
			return -1;
		}
		st->failed = NULL;
	}
	if (st->fd != -1)
		return 0;
	return state_compact(st, reg);
}

/*
 * Write a record, len bytes at line + 1 (line[0] is room for the newline
 * that ends a torn line), in one write. A write that fails may have left
 * part of a line: the log is then rewritten whole before the next record
 * (state_ready()).
 */
static int
state_write_record(struct state *st, char *line, size_t len)
{
	int	lead = st->torn ? 1 : 0, saved;

	if (st->fd == -1) {
		errno = EAGAIN;	/* state_ready() first */
		return -1;
	}
	if (state_write_all(st->fd, line + 1 - lead, len + lead) == -1) {
		saved = errno;
		st->failed = STATE_FILE;
		close(st->fd);
		st->fd = -1;
		errno = saved;
		return -1;
	}
	st->torn = 0;
	st->records++;
	return 0;
}

/*
 * The announcement forgotten: the page emptied, or, where Creates are
 * announced in the log, the page an earlier run left removed. Not while
 * the page holds a record the log does not: it goes with it.
 */
static void
state_intent_forget(struct state *st)
{
	if (st->deferred)
		return;
	if (st->intent != NULL) {
		intent_clear(st->intent, INTENT_RECORD);
		intent_clear(st->intent, INTENT_ANNOUNCE);
	} else if (st->intent_found &&
	    (unlinkat(st->dirfd, INTENT_FILE, 0) == 0 || errno == ENOENT))
		st->intent_found = 0;
	st->stale = 0;
}

int
state_flush(struct state *st)
{
	struct state_line	 l;
	const char		*text;
	size_t			 len;

	if (!st->deferred)
		return 0;
	text = intent_text(st->intent, INTENT_RECORD);
	if ((len = strlen(text)) >= sizeof l.line) {
		errno = EINVAL;		/* (never: it was stored from one) */
		return -1;
	}
	l.line[0] = '\n';
	memcpy(l.line + 1, text, len);
	if (state_write_record(st, l.line, len) == -1)
		return -1;
	st->deferred = 0;
	state_intent_forget(st);
	return 0;
}

/* Append the record written in l (the page's record first). */
static int
state_append(struct state *st, struct state_line *l)
{
	long	len = textbuf_end(&l->tb);

	if (st->dirfd == -1)
		return 0;
	if (state_flush(st) == -1)
		return -1;
	if (len == -1) {
		errno = ENOMEM;
		return -1;
	}
	return state_write_record(st, l->line, (size_t)len);
}

int
state_announce(struct state *st, const struct state_pending *p)
{
	struct state_line	 l;
	struct textbuf		*tb = state_line_begin(&l);
	long			 len;

	if (st->dirfd == -1)
		return 0;
	if (!st->intent_log && st->intent == NULL) {
		errno = EAGAIN;	/* state_ready() first */
		return -1;
	}
	/* (the last Create's record, if the page holds it, goes first) */
	if (state_flush(st) == -1)
		return -1;
	textbuf_lit(tb, "{\"op\":\"pending\"");
	if (!st->intent_log) {
		state_int(tb, "seq", (int64_t)++st->intent_seq);
		textbuf_lit(tb, ",\"boot_id\":\"");
		textbuf_str(tb, state_boot_id());
		textbuf_lit(tb, "\"");
	}
	state_int(tb, "pid", p->pid);
	state_int(tb, "pidns", (int64_t)p->pidns);
	state_int(tb, "uid", p->uid);
	state_int(tb, "gid", p->gid);
	state_int(tb, "size", (int64_t)p->size);
	if (p->any_key) {
		state_int(tb, "key_base", p->key_base);
		state_int(tb, "key_count", p->key_count);
	} else
		state_int(tb, "key", p->key);
	state_int(tb, "usec", p->usec);
	if (p->setup)
		textbuf_lit(tb, ",\"setup\":true");
	textbuf_lit(tb, "}\n");
	if (st->intent_log) {
		/* (the record that follows it, create or aborted, answers it) */
		if (state_append(st, &l) == -1)
			return -1;
	} else {
		if ((len = textbuf_end(tb)) == -1 || intent_store(st->intent,
		    INTENT_ANNOUNCE, l.line + 1, (size_t)len) == -1) {
			errno = ENOMEM;
			return -1;
		}
	}
	st->announced = 1;
	return 0;
}

void
state_settle(struct state *st)
{
	struct state_line	l;

	if (!st->announced)
		return;
	st->announced = 0;
	if (st->intent_log) {
		/* (refused: it stays unresolved, as safe; state_ready() next) */
		textbuf_lit(state_line_begin(&l), "{\"op\":\"aborted\"}\n");
		(void)state_append(st, &l);
	} else if (st->fd != -1)
		state_intent_forget(st);
	else
		st->stale = 1;	/* a leftover may be in memory only */
}

int
state_record_create(struct state *st, const struct segment *seg)
{
	struct state_line	l;
	long			len;

	state_segment_text(state_line_begin(&l), seg,
	    st->announced && !st->intent_log ? st->intent_seq : 0);
	/*
	 * Beside its announcement in the page, for the log to take after
	 * the answer (the log open: what it refused is rewritten first).
	 */
	if (st->announced && !st->intent_log && st->fd != -1 &&
	    (len = textbuf_end(&l.tb)) != -1 && intent_store(st->intent,
	    INTENT_RECORD, l.line + 1, (size_t)len) == 0) {
		st->deferred = 1;
		st->announced = 0;
		return 0;
	}
	if (state_append(st, &l) == -1)
		return -1;
	/* (a crash before this: the record's number answers the page) */
	if (st->announced && !st->intent_log)
		state_intent_forget(st);
	st->announced = 0;
	return 0;
}

/* A record that names a segment: {"op":"OP","name":"..."}. */
static int
state_record_named(struct state *st, const char *op, const struct segment *seg)
{
	struct state_line	 l;
	struct textbuf		*tb = state_line_begin(&l);

	textbuf_lit(tb, "{\"op\":\"");
	textbuf_str(tb, op);
	textbuf_lit(tb, "\",\"name\":\"");
	textbuf_str(tb, seg->name);
	textbuf_lit(tb, "\"}\n");
	return state_append(st, &l);
}

int
state_record_destroy(struct state *st, const struct segment *seg)
{
	return state_record_named(st, "destroy", seg);
}

int
state_record_mark(struct state *st, const struct segment *seg)
{
	return state_record_named(st, "mark", seg);
}

/* An orphan's record, newline included. */
static void
state_orphan_text(struct textbuf *tb, const struct state_orphan *o)
{
	textbuf_lit(tb, "{\"op\":\"orphan\"");
	state_int(tb, "shmid", o->shmid);
	state_int(tb, "key", o->key);
	state_int(tb, "cuid", o->cuid);
	state_int(tb, "size", (int64_t)o->size);
	textbuf_lit(tb, "}\n");
}

int
state_orphan_add(struct state *st, const struct state_orphan *o)
{
	struct state_orphan	*tmp;
	struct state_line	 l;

	tmp = reallocarray(st->orphans, st->norphans + 1, sizeof *tmp);
	if (tmp == NULL)
		return -1;
	st->orphans = tmp;
	st->orphans[st->norphans++] = *o;
	/* In the log too when it takes it; else the next rewrite has it. */
	state_orphan_text(state_line_begin(&l), o);
	if (st->fd != -1)
		state_append(st, &l);
	return 0;
}

void
state_orphan_removed(struct state *st, size_t i)
{
	st->orphans[i] = st->orphans[--st->norphans];
}

/* A snapshot's records, gathered and written STATE_CHUNK bytes at a time. */
#define STATE_CHUNK	(64 * 1024)
struct state_chunk {
	int	fd;
	size_t	len;
	char	buf[STATE_CHUNK];
};

static int
state_chunk_flush(struct state_chunk *ch)
{
	if (ch->len > 0 && state_write_all(ch->fd, ch->buf, ch->len) == -1)
		return -1;
	ch->len = 0;
	return 0;
}

/*
 * Room for one record at the chunk's end (flushing it first when less
 * than a record is left): a textbuf over it, done by state_chunk_end().
 */
static struct textbuf *
state_chunk_begin(struct state_chunk *ch, struct textbuf *tb)
{
	if (STATE_CHUNK - ch->len < STATE_RECORD_MAX &&
	    state_chunk_flush(ch) == -1)
		return NULL;
	textbuf_init(tb, ch->buf + ch->len, STATE_CHUNK - ch->len);
	return tb;
}

static int
state_chunk_end(struct state_chunk *ch, struct textbuf *tb)
{
	long	len = textbuf_end(tb);

	if (len == -1) {
		errno = ENOMEM;
		return -1;
	}
	ch->len += (size_t)len;
	return 0;
}

/* Header and run records, then every segment: in large writes. */
static int
state_write_snapshot(const struct state *st, const struct registry *reg,
    int fd, uint64_t *records)
{
	struct state_chunk	*ch;
	struct textbuf		 tb;
	struct segment		*seg;
	size_t			 i;
	int			 rc = -1;

	if ((ch = malloc(sizeof *ch)) == NULL)
		return -1;
	ch->fd = fd;
	ch->len = 0;
	if (state_chunk_begin(ch, &tb) == NULL)
		goto out;
	state_header_text(&tb);
	state_run_text(&tb, st);
	if (state_chunk_end(ch, &tb) == -1)
		goto out;
	*records = 2;
	for (i = 0; i < st->norphans; i++) {
		if (state_chunk_begin(ch, &tb) == NULL)
			goto out;
		state_orphan_text(&tb, &st->orphans[i]);
		if (state_chunk_end(ch, &tb) == -1)
			goto out;
		(*records)++;
	}
	TAILQ_FOREACH(seg, &reg->segments, entry) {
		if (state_chunk_begin(ch, &tb) == NULL)
			goto out;
		state_segment_text(&tb, seg, 0);
		if (state_chunk_end(ch, &tb) == -1)
			goto out;
		(*records)++;
	}
	rc = state_chunk_flush(ch);
out:
	free(ch);
	return rc;
}

/* This run's record, appended to the log. */
static int
state_record_run(struct state *st)
{
	struct state_line	l;

	state_run_text(state_line_begin(&l), st);
	return state_append(st, &l);
}

int
state_resume(struct state *st, const struct state_loaded *l,
    const struct registry *reg, size_t gone)
{
	int	fd, rc = 0;

	if (st->dirfd == -1)
		return 0;
	/* (what recovery undid or set aside must leave the log too) */
	if (l->segments == NULL || gone > 0 || l->npending > 0 ||
	    l->page_record || st->norphans > 0 || l->damaged > 0 ||
	    l->records > 2 * reg->count + st->slack ||
	    (fd = openat(st->dirfd, STATE_FILE, O_WRONLY | O_APPEND |
	    O_NOFOLLOW | O_CLOEXEC)) == -1)
		rc = state_compact(st, reg);
	else {
		if (st->fd != -1)
			close(st->fd);
		st->fd = fd;
		st->records = l->records;
		st->torn = l->torn;	/* a newline first ends the cut line */
		if (state_record_run(st) == -1)
			rc = state_compact(st, reg);
	}
	/*
	 * Recovery has answered what was announced: the announcement goes
	 * once the log holds what recovery left (an orphan, say), else at
	 * the first compaction that writes it (state_compact()).
	 */
	if (rc == 0)
		state_intent_forget(st);
	else
		st->stale = 1;
	return rc;
}

/*
 * A log with unreadable lines is kept aside (one, the latest) before the
 * new one replaces it: a link, so that the log is never missing.
 */
static int
state_set_aside(struct state *st)
{
	if (!st->damaged)
		return 0;
	if ((unlinkat(st->dirfd, STATE_DAMAGED, 0) == -1 && errno != ENOENT) ||
	    (linkat(st->dirfd, STATE_FILE, st->dirfd, STATE_DAMAGED, 0) == -1 &&
	    errno != ENOENT))
		return -1;
	log_notice("state: the damaged log was kept as %s/%s", st->dir,
	    STATE_DAMAGED);
	st->damaged = 0;
	return 0;
}

int
state_compact(struct state *st, const struct registry *reg)
{
	uint64_t	records;
	int		fd, saved;

	if (st->dirfd == -1)
		return 0;
	st->failed = STATE_TMP;
	/* A file left by a run that died while compacting goes first. */
	if (unlinkat(st->dirfd, STATE_TMP, 0) == -1 && errno != ENOENT)
		return -1;
	fd = openat(st->dirfd, STATE_TMP, O_WRONLY | O_CREAT | O_EXCL |
	    O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd == -1)
		return -1;
	if (state_write_snapshot(st, reg, fd, &records) == -1 ||
	    state_set_aside(st) == -1 ||
	    renameat(st->dirfd, STATE_TMP, st->dirfd, STATE_FILE) == -1) {
		saved = errno;
		close(fd);
		unlinkat(st->dirfd, STATE_TMP, 0);
		errno = saved;
		return -1;
	}
	st->failed = NULL;
	if (st->fd != -1)
		close(st->fd);
	st->fd = fd;
	st->records = records;
	st->torn = 0;
	/*
	 * What the page held is in it now: the record of a segment the
	 * registry holds, or what a Create cut short left (its orphans).
	 */
	if (st->deferred) {
		st->deferred = 0;
		state_intent_forget(st);
	} else if (st->stale && !st->announced)
		state_intent_forget(st);
	log_debug("state: %llu records", (unsigned long long)records);
	return 0;
}

void
state_loaded_free(struct state_loaded *l)
{
	if (l->segments != NULL) {
		registry_finish(l->segments);
		free(l->segments);
	}
	free(l->pending);
	free(l->orphans);
	memset(l, 0, sizeof *l);
}

/* Whether o's member key is true (absent: false). */
static int
state_flag(struct json_object *o, const char *key)
{
	struct json_object	*m;

	return json_object_object_get_ex(o, key, &m) &&
	    json_object_get_boolean(m);
}

/* What state_policy_text() wrote; what it left out is no policy. */
static void
state_parse_policy(struct json_object *o, struct segment *seg)
{
	int64_t	v;

	if (json_get_int(o, "page_size", &v) == 0 && v > 0)
		seg->policy.page_size = (uint64_t)v;
	seg->policy.locked = state_flag(o, "locked");
	if (json_get_int(o, "numa_node", &v) == 0 && v >= 0 && v <= INT32_MAX)
		seg->policy.numa_node = (int)v;
	seg->declared = state_flag(o, "declared");
	if (json_get_int(o, "self_atime", &v) == 0 && v > 0) {
		seg->self_atime = (time_t)v;
		if (json_get_int(o, "self_dtime", &v) == 0)
			seg->self_dtime = (time_t)v;
		if (json_get_int(o, "self_lpid", &v) == 0 && v >= 0)
			seg->self_lpid = (pid_t)v;
	}
}

/* A create record into a segment; NULL when it is not one. */
static struct segment *
state_parse_segment(struct json_object *o, uid_t run_uid, int64_t boot_skew)
{
	struct segment		*seg;
	struct json_object	*m;
	const char		*name, *lifetime;
	enum proto_lifetime	 lt;
	int64_t			 v[11], opt;
	static const char *const keys[11] = { "shmid", "key", "size",
	    "attach_timeout", "uid", "gid", "mode", "creator_uid",
	    "creator_pid", "creator_start", "created_usec" };
	int			 i;

	if (json_get_string(o, "name", &name) == -1 ||
	    proto_name_valid(name) == -1 ||
	    json_get_string(o, "lifetime", &lifetime) == -1 ||
	    proto_lifetime_parse(lifetime, &lt) == -1)
		return NULL;
	for (i = 0; i < 11; i++)
		if (json_get_int(o, keys[i], &v[i]) == -1)
			return NULL;
	if (v[0] < 0 || v[1] < INT32_MIN || v[1] > INT32_MAX || v[2] < 1 ||
	    v[3] < 1 || v[8] < 0)
		return NULL;
	if ((seg = segment_create(name)) == NULL)
		return NULL;
	seg->shmid = (int)v[0];
	seg->key = (int32_t)v[1];
	seg->size = (uint64_t)v[2];
	seg->lifetime = lt;
	seg->attach_timeout = (uint64_t)v[3];
	seg->uid = (uid_t)v[4];
	seg->gid = (gid_t)v[5];
	seg->mode = (unsigned)v[6];
	seg->creator_uid = (uid_t)v[7];
	seg->creator_pid = (pid_t)v[8];
	seg->creator_start = (uint64_t)v[9];
	seg->created_usec = v[10];
	/* Written since later versions; absent in older logs. */
	if (json_get_int(o, "creator_ino", &opt) == 0 && opt > 0)
		seg->creator_ino = (uint64_t)opt;
	if (json_get_int(o, "creator_pidns", &opt) == 0 && opt > 0)
		seg->creator_pidns = (uint64_t)opt;
	else
		seg->creator_pidns = state_pidns();	/* older: this one */
	if (json_get_int(o, "created_boot", &opt) == 0)
		seg->created_boot = opt;
	else
		seg->created_boot = seg->created_usec + boot_skew;
	seg->kernel_cuid = json_get_int(o, "cuid", &opt) == 0 && opt >= 0 ?
	    (uid_t)opt : run_uid;
	seg->rmid_marked = json_object_object_get_ex(o, "marked", &m) &&
	    json_object_get_boolean(m);
	state_parse_policy(o, seg);
	seg->seen_uid = seg->uid;
	seg->seen_gid = seg->gid;
	seg->seen_mode = seg->mode;
	return seg;
}

/* A pending record; -1 when it is not one. */
static int
state_parse_pending(struct json_object *o, struct state_pending *p)
{
	int64_t	pid, uid, size, key, base, count, usec, v;

	memset(p, 0, sizeof *p);
	if (json_get_int(o, "pid", &pid) == -1 || pid < 1 ||
	    json_get_int(o, "uid", &uid) == -1 || uid < 0 ||
	    json_get_int(o, "size", &size) == -1 || size < 1 ||
	    json_get_int(o, "usec", &usec) == -1)
		return -1;
	if (json_get_int(o, "key", &key) == 0) {
		if (key < INT32_MIN || key > INT32_MAX)
			return -1;
		p->key = (int32_t)key;
	} else if (json_get_int(o, "key_base", &base) == 0 &&
	    json_get_int(o, "key_count", &count) == 0 && base >= 0 &&
	    base <= UINT32_MAX && count >= 1 && count <= UINT32_MAX) {
		p->any_key = 1;
		p->key_base = (uint32_t)base;
		p->key_count = (uint32_t)count;
	} else
		return -1;
	p->pid = (pid_t)pid;
	p->uid = (uid_t)uid;
	p->size = (uint64_t)size;
	p->usec = usec;
	/* What older logs did not say cannot prove a segment is shmd's. */
	p->gid = json_get_int(o, "gid", &v) == 0 ? (gid_t)v : (gid_t)-1;
	p->pidns = json_get_int(o, "pidns", &v) == 0 ? (uint64_t)v : 0;
	p->setup = state_flag(o, "setup");
	return 0;
}

/*
 * A run record (who wrote what follows: state.h); -1 when it is older
 * and says too little.
 */
static int
state_parse_run(struct json_object *o, struct state_pending *p)
{
	int64_t	pid, pidns, cuid, cgid, usec;

	memset(p, 0, sizeof *p);
	if (json_get_int(o, "pid", &pid) == -1 || pid < 1 ||
	    pid > INT32_MAX || json_get_int(o, "pidns", &pidns) == -1 ||
	    json_get_int(o, "cuid", &cuid) == -1 || cuid < 0 ||
	    json_get_int(o, "cgid", &cgid) == -1 || cgid < 0 ||
	    json_get_int(o, "start_usec", &usec) == -1)
		return -1;
	p->run = 1;
	p->pid = (pid_t)pid;
	p->pidns = (uint64_t)pidns;
	p->uid = (uid_t)cuid;
	p->gid = (gid_t)cgid;
	p->usec = usec;
	return 0;
}

/* An orphan record; -1 when it is not one. */
static int
state_parse_orphan(struct json_object *o, struct state_orphan *or)
{
	int64_t	shmid, key, cuid, size;

	if (json_get_int(o, "shmid", &shmid) == -1 || shmid < 0 ||
	    shmid > INT32_MAX || json_get_int(o, "key", &key) == -1 ||
	    key < INT32_MIN || key > INT32_MAX ||
	    json_get_int(o, "cuid", &cuid) == -1 || cuid < 0 ||
	    json_get_int(o, "size", &size) == -1 || size < 1)
		return -1;
	or->shmid = (int)shmid;
	or->key = (int32_t)key;
	or->cuid = (uid_t)cuid;
	or->size = (uint64_t)size;
	return 0;
}

/* Append one element of size to *arr of *n (reallocarray). */
static void *
state_grow(void *arr, size_t *n, size_t size)
{
	void	*tmp = reallocarray(arr, *n + 1, size);

	if (tmp != NULL)
		(*n)++;
	return tmp;
}

/* A segment to remove at start if the kernel still holds it. -1: no memory. */
static int
state_loaded_orphan(struct state_loaded *out, const struct state_orphan *o)
{
	void	*tmp = state_grow(out->orphans, &out->norphans, sizeof *o);

	if (tmp == NULL)
		return -1;
	out->orphans = tmp;
	out->orphans[out->norphans - 1] = *o;
	return 0;
}

/* One record of the log (not its first line) into out. -1: no memory. */
static int
state_parse_record(struct json_object *o, const char *op, int lineno,
    int64_t boot_skew, size_t *unresolved, struct state_loaded *out)
{
	struct segment		*seg, *old;
	struct state_pending	 p;
	struct state_orphan	 orphan;
	const char		*name;
	void			*tmp;
	int64_t			 uid, intent;

	/*
	 * The daemon does one Create at a time: whatever record follows a
	 * pending one says that Create is over (recorded, or failed and
	 * undone). A pending one that nothing followed stays unresolved,
	 * however many come after it: its Create was cut short.
	 */
	if (strcmp(op, "pending") == 0) {
		if (state_parse_pending(o, &p) == -1) {
			out->damaged++;
			log_warnx("state: line %d not understood, skipped",
			    lineno);
			return 0;
		}
		if ((tmp = state_grow(out->pending, &out->npending,
		    sizeof p)) == NULL)
			return -1;
		out->pending = tmp;
		out->pending[out->npending - 1] = p;
		*unresolved = out->npending;
		return 0;
	}
	if (*unresolved > 0 && (strcmp(op, "create") == 0 ||
	    strcmp(op, "aborted") == 0)) {
		out->pending[*unresolved - 1] =
		    out->pending[--out->npending];
		*unresolved = 0;
	}
	if (strcmp(op, "run") == 0) {
		if (json_get_int(o, "uid", &uid) == 0)
			out->run_uid = (uid_t)uid;
		/* only the last run may have a Create cut short */
		out->has_run = state_parse_run(o, &out->run) == 0;
	} else if (strcmp(op, "aborted") == 0) {
		/* nothing: it only ends a pending Create */
	} else if (strcmp(op, "create") == 0 &&
	    (seg = state_parse_segment(o, out->run_uid, boot_skew)) != NULL) {
		/* the announcement it answers, if any (state_load_intent()) */
		if (json_get_int(o, "intent", &intent) == 0 && intent > 0 &&
		    (uint64_t)intent > out->last_intent)
			out->last_intent = (uint64_t)intent;
		if ((old = registry_find_by_name(out->segments,
		    seg->name)) != NULL) {
			registry_remove(out->segments, old);
			segment_destroy(old);
		}
		if (registry_add(out->segments, seg) == -1) {
			segment_destroy(seg);
			return -1;
		}
	} else if ((strcmp(op, "destroy") == 0 || strcmp(op, "mark") == 0) &&
	    json_get_string(o, "name", &name) == 0) {
		if ((old = registry_find_by_name(out->segments,
		    name)) == NULL)
			return 0;
		if (op[0] == 'm')
			return registry_set_marked(out->segments, old, 1);
		/*
		 * Its end is recorded before the kernel is told: a crash in
		 * between leaves it in the kernel, to remove as an orphan.
		 */
		orphan.shmid = old->shmid;
		orphan.key = old->key;
		orphan.cuid = old->kernel_cuid;
		orphan.size = old->size;
		registry_remove(out->segments, old);
		segment_destroy(old);
		return state_loaded_orphan(out, &orphan);
	} else if (strcmp(op, "orphan") == 0 &&
	    state_parse_orphan(o, &orphan) == 0) {
		return state_loaded_orphan(out, &orphan);
	} else {
		out->damaged++;
		log_warnx("state: line %d not understood, skipped", lineno);
	}
	return 0;
}

int
state_parse(const char *text, const char *boot_id, struct state_loaded *out)
{
	struct json_object	*o;
	const char		*line = text, *end, *op, *boot;
	struct json_tokener	*tok;
	int64_t			 format, boot_skew;
	int			 lineno = 0, rc;
	size_t			 unresolved = 0;

	memset(out, 0, sizeof *out);
	/* What older records lack: their boot clock, from their wall clock. */
	boot_skew = boottime_usec() - realtime_usec();
	if ((tok = json_tokener_new()) == NULL)
		return -1;
	if ((out->segments = calloc(1, sizeof *out->segments)) == NULL) {
		json_tokener_free(tok);
		return -1;
	}
	registry_init(out->segments);
	/* One tokener for every line, parsed in place: recovery's cost. */
	for (; *line != '\0'; line = *end ? end + 1 : end) {
		end = strchrnul(line, '\n');
		lineno++;
		json_tokener_reset(tok);
		o = json_tokener_parse_ex(tok, line, (int)(end - line));
		if (o != NULL && json_tokener_get_parse_end(tok) !=
		    (size_t)(end - line)) {
			json_object_put(o);	/* more after the object */
			o = NULL;
		}
		/*
		 * The first line says which boot the log is of: another
		 * boot's is discarded whole. One that cannot be read is a
		 * damaged line like any other: the records after it are
		 * still checked against the kernel one by one.
		 */
		if (lineno == 1 && o != NULL &&
		    json_get_int(o, "shmd_state", &format) == 0) {
			rc = format == STATE_FORMAT &&
			    json_get_string(o, "boot_id", &boot) == 0 &&
			    strcmp(boot, boot_id) == 0;
			json_object_put(o);
			if (!rc)
				goto fail;
			continue;
		}
		if (lineno == 1 && o != NULL) {
			out->damaged++;
			log_warnx("state: line 1 is no header; reading the "
			    "records as this boot's");
		}
		if (o == NULL || json_get_string(o, "op", &op) == -1) {
			/*
			 * A torn last line is a write that never finished. It
			 * resolves no pending Create: a torn create record is
			 * a segment never answered for.
			 */
			if (*end != '\0' && end[1] != '\0') {
				out->damaged++;
				log_warnx("state: line %d unreadable, skipped",
				    lineno);
			}
			json_object_put(o);
			continue;
		}
		rc = state_parse_record(o, op, lineno, boot_skew, &unresolved,
		    out);
		json_object_put(o);
		if (rc == -1)
			goto fail;
	}
	json_tokener_free(tok);
	if (lineno == 0) {
		state_loaded_free(out);
		return -1;
	}
	out->records = (uint64_t)lineno;
	out->torn = *text != '\0' && line[-1] != '\n';
	return 0;
fail:
	json_tokener_free(tok);
	state_loaded_free(out);
	return -1;
}

/*
 * The whole log, NUL-terminated, in *size bytes of memory mapped and
 * populated at once (a read into fresh pages took a fault for each);
 * NULL with errno (ENOENT: none). Unmapped by state_load().
 */
static char *
state_read_file(int dirfd, size_t *size)
{
	struct stat	 sb;
	char		*buf;
	ssize_t		 n;
	size_t		 len = 0;
	int		 fd, saved;

	fd = openat(dirfd, STATE_FILE, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd == -1)
		return NULL;
	if (fstat(fd, &sb) == -1 || !S_ISREG(sb.st_mode)) {
		saved = S_ISREG(sb.st_mode) ? errno : EINVAL;
		close(fd);
		errno = saved;
		return NULL;
	}
	*size = (size_t)sb.st_size + 1;
	buf = mmap(NULL, *size, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (buf == MAP_FAILED) {
		saved = errno;
		close(fd);
		errno = saved;
		return NULL;
	}
	while (len < (size_t)sb.st_size &&
	    (n = read(fd, buf + len, (size_t)sb.st_size - len)) > 0)
		len += (size_t)n;
	close(fd);
	buf[len] = '\0';
	return buf;
}

/*
 * The create record the page holds beside announcement seq (the log
 * never took it), into out: 1, 0 when it holds none, -1 when out of
 * memory.
 */
static int
state_load_page_record(const char *page, int64_t seq,
    struct state_loaded *out)
{
	struct json_object	*o;
	const char		*op;
	int64_t			 intent;
	size_t			 unresolved = 0, damaged = out->damaged;
	int			 rc = 0;

	if (*intent_text(page, INTENT_RECORD) == '\0' ||
	    (o = json_tokener_parse(intent_text(page, INTENT_RECORD))) == NULL)
		return 0;
	if (json_get_string(o, "op", &op) == 0 && strcmp(op, "create") == 0 &&
	    json_get_int(o, "intent", &intent) == 0 && intent == seq) {
		if (out->segments == NULL &&
		    (out->segments = calloc(1, sizeof *out->segments)) != NULL)
			registry_init(out->segments);
		if (out->segments == NULL || state_parse_record(o, op, 0,
		    boottime_usec() - realtime_usec(), &unresolved, out) == -1)
			rc = -1;
		else if (out->damaged == damaged) {
			out->page_record = 1;
			rc = 1;
		}
		/* (one it could not read: the announcement stays unanswered) */
	}
	json_object_put(o);
	return rc;
}

/*
 * What the intent page says (intent.h), into out: a Create announced this
 * boot that no create record answers is one cut short, unless the page
 * holds its record too (the log had not taken it yet). The numbers go on
 * past every one the log holds.
 */
static int
state_load_intent(struct state *st, struct state_loaded *out)
{
	struct json_object	*o;
	struct state_pending	 p;
	const char		*op, *boot, *text = st->intent;
	char			 buf[INTENT_SIZE];
	int64_t			 seq;
	void			*tmp;
	int			 rc = 0, held;

	if (out->last_intent > st->intent_seq)
		st->intent_seq = out->last_intent;
	/*
	 * Not mapped (announcements go to the log here, or the page could
	 * not be mapped): read, so that what an earlier run announced in it
	 * is answered all the same.
	 */
	if (text == NULL) {
		if (intent_read(st->dirfd, buf) == -1)
			return 0;
		st->intent_found = 1;	/* removed once answered */
		text = buf;
	}
	if (text[0] == '\0' || (o = json_tokener_parse(intent_text(text,
	    INTENT_ANNOUNCE))) == NULL)
		return 0;
	if (json_get_string(o, "op", &op) == 0 &&
	    strcmp(op, "pending") == 0 &&
	    json_get_string(o, "boot_id", &boot) == 0 &&
	    strcmp(boot, state_boot_id()) == 0 &&
	    json_get_int(o, "seq", &seq) == 0 && seq > 0) {
		if ((uint64_t)seq > st->intent_seq)
			st->intent_seq = (uint64_t)seq;
		held = (uint64_t)seq > out->last_intent ?
		    state_load_page_record(text, seq, out) : 0;
		if (held == -1)
			rc = -1;
		else if (!held && (uint64_t)seq > out->last_intent &&
		    state_parse_pending(o, &p) == 0) {
			if ((tmp = state_grow(out->pending, &out->npending,
			    sizeof p)) == NULL)
				rc = -1;
			else {
				out->pending = tmp;
				out->pending[out->npending - 1] = p;
			}
		}
	}
	json_object_put(o);
	return rc;
}

int
state_load(struct state *st, struct state_loaded *out)
{
	char	*text;
	size_t	 size;

	memset(out, 0, sizeof *out);
	if (st->dirfd == -1)
		return 0;
	if ((text = state_read_file(st->dirfd, &size)) == NULL) {
		if (errno != ENOENT)
			return -1;
		return state_load_intent(st, out);
	}
	if (state_parse(text, state_boot_id(), out) == -1)
		log_notice("state: %s is from another boot: starting afresh",
		    STATE_FILE);
	else if (out->damaged > 0) {
		log_warnx("state: %zu unreadable lines of %s skipped; every "
		    "readable record kept", out->damaged, STATE_FILE);
		st->damaged = 1;	/* kept aside at the next rewrite */
	}
	munmap(text, size);
	if (state_load_intent(st, out) == -1) {
		state_loaded_free(out);
		errno = ENOMEM;
		return -1;
	}
	return 0;
}

void
state_close(struct state *st)
{
	intent_unmap(st->intent);
	st->intent = NULL;
	if (st->fd != -1)
		close(st->fd);
	if (st->dirfd != -1)
		close(st->dirfd);
	st->fd = st->dirfd = -1;
	free(st->dir);
	st->dir = NULL;
	free(st->orphans);
	st->orphans = NULL;
	st->norphans = 0;
}
