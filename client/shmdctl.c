/* shmdctl: the admin client of shmd. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "number.h"
#include "proto.h"
#include "shmd.h"
#include "shmdctl.h"
#include "sysv.h"
#include "textbuf.h"

static int	cmd_create(struct ctl *, struct shmd_conn *);
static int	cmd_ls(struct ctl *, struct shmd_conn *);
static int	cmd_info(struct ctl *, struct shmd_conn *);
static int	cmd_rm(struct ctl *, struct shmd_conn *);
static int	cmd_watch(struct ctl *, struct shmd_conn *);
static int	cmd_write(struct ctl *, struct shmd_conn *);
static int	cmd_read(struct ctl *, struct shmd_conn *);
static int	cmd_wait(struct ctl *, struct shmd_conn *);

static const struct ctl_cmd ctl_cmds[] = {
	{ "create", "create NAME SIZE [--mode MODE] [--lifetime detach|process|"
	  "persistent] [--key KEY] [--owner UID[:GID]] [--exist-ok] "
	  "[--huge-pages [--page-size SIZE]] [--locked] [--numa-node N]", 2,
	  OPT_MODE | OPT_LIFETIME | OPT_KEY | OPT_OWNER | OPT_EXIST_OK |
	  OPT_HUGE | OPT_PAGE_SIZE | OPT_LOCKED | OPT_NUMA, cmd_create },
	{ "wait", "wait NAME [--timeout SECONDS]", 1, OPT_TIMEOUT, cmd_wait },
	{ "ls", "ls [--json] [--attachers]", 0, OPT_JSON | OPT_ATTACHERS,
	  cmd_ls },
	{ "info", "info NAME [--json]", 1, OPT_JSON, cmd_info },
	{ "rm", "rm NAME", 1, 0, cmd_rm },
	{ "status", "status [--json | --prometheus]", 0,
	  OPT_JSON | OPT_PROMETHEUS, cmd_status },
	{ "orphans", "orphans [--json] [--older-than SECONDS] [--remove]", 0,
	  OPT_JSON | OPT_OLDER | OPT_REMOVE, cmd_orphans },
	{ "watch", "watch [--json]", 0, OPT_JSON, cmd_watch },
	{ "top", "top [--interval SECONDS]", 0, OPT_INTERVAL, cmd_top },
	{ "write", "write NAME", 1, 0, cmd_write },
	{ "read", "read NAME [--offset N] [--size N]", 1, OPT_OFFSET | OPT_SIZE,
	  cmd_read },
};
#define NCMDS (sizeof ctl_cmds / sizeof ctl_cmds[0])

/* The socket connected to (or tried), for messages. */
static const char	*ctl_path = PROTO_DEFAULT_SOCKET;

/*
 * Connect where DAEMON.md says: --socket, else $SHMD_SOCKET, else, for
 * root, the admin socket when it exists (a flood on the main socket
 * never reaches it), else the default. A stale admin socket nobody
 * answers on falls back to the default.
 */
static int
ctl_connect(const char *given, struct shmd_conn **c)
{
	const char	*env = getenv(PROTO_SOCKET_ENV);
	struct stat	 sb;

	if ((given == NULL || *given == '\0') && (env == NULL ||
	    *env == '\0') && geteuid() == 0 &&
	    stat(PROTO_DEFAULT_ADMIN_SOCKET, &sb) == 0 && S_ISSOCK(sb.st_mode)) {
		ctl_path = PROTO_DEFAULT_ADMIN_SOCKET;
		if (shmd_connect(ctl_path, c) == SHMD_OK)
			return SHMD_OK;
		if (errno != ECONNREFUSED && errno != ENOENT)
			return SHMD_ERR_CONNECT;
	}
	ctl_path = shmd_socket_path(given);
	return shmd_connect(given, c);
}

int
ctl_connect_again(struct shmd_conn **c)
{
	return shmd_connect(ctl_path, c);
}

static void
ctl_usage(FILE *f)
{
	size_t	i;

	fprintf(f, "usage: shmdctl [--socket PATH] COMMAND ...\n\n");
	for (i = 0; i < NCMDS; i++)
		fprintf(f, "  shmdctl %s\n", ctl_cmds[i].usage);
	fprintf(f, "\nThe socket is --socket, else $%s, else, for root, %s\n"
	    "when it exists, else %s.\n"
	    "Sizes accept K, M, G; modes are octal. Exit status: 0 success,\n"
	    "1 refused by shmd or the system, 2 usage error.\n",
	    PROTO_SOCKET_ENV, PROTO_DEFAULT_ADMIN_SOCKET, PROTO_DEFAULT_SOCKET);
}

int
ctl_usage_error(const char *fmt, ...)
{
	va_list	ap;

	fprintf(stderr, "shmdctl: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (see shmdctl --help)\n");
	return EXIT_USAGE;
}

int
ctl_refused(struct shmd_conn *c, const char *what, const char *name, int err)
{
	const char	*detail = shmd_last_error(c);

	if (name != NULL)
		fprintf(stderr, "shmdctl: %s %s: %s\n", what, name,
		    *detail ? detail : shmd_strerror(err));
	else
		fprintf(stderr, "shmdctl: %s: %s\n", what,
		    *detail ? detail : shmd_strerror(err));
	return EXIT_REFUSED;
}

static int
ctl_size(const char *s, const char *what, uint64_t *out)
{
	const char	*why;

	if (number_parse(s, NUMBER_SUFFIX | NUMBER_HEX, out, &why) == -1) {
		fprintf(stderr, "shmdctl: %s '%s': %s (see shmdctl --help)\n",
		    what, s, why);
		return -1;
	}
	return 0;
}

/* A segment's page size, as sizes are shown; "-" from a daemon before 0.4. */
static void
ctl_page(uint64_t page_size, char *buf, size_t len)
{
	if (page_size == 0)
		snprintf(buf, len, "-");
	else
		number_format_size(page_size, buf, len);
}

const char *
ctl_user(uid_t uid, char *buf, size_t len)
{
	struct passwd	*pw = getpwuid(uid);

	if (pw != NULL)
		return pw->pw_name;
	snprintf(buf, len, "%lu", (unsigned long)uid);
	return buf;
}

static const char *
ctl_group(gid_t gid, char *buf, size_t len)
{
	struct group	*gr = getgrgid(gid);

	if (gr != NULL)
		return gr->gr_name;
	snprintf(buf, len, "%lu", (unsigned long)gid);
	return buf;
}

void
ctl_age(int64_t created_usec, char *buf, size_t len)
{
	struct timespec	ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ctl_duration(ts.tv_sec - created_usec / 1000000, buf, len);
}

void
ctl_duration(int64_t secs, char *buf, size_t len)
{
	if (secs < 0)
		secs = 0;
	if (secs < 120)
		snprintf(buf, len, "%llds", (long long)secs);
	else if (secs < 7200)
		snprintf(buf, len, "%lldm", (long long)(secs / 60));
	else if (secs < 172800)
		snprintf(buf, len, "%lldh", (long long)(secs / 3600));
	else
		snprintf(buf, len, "%lldd", (long long)(secs / 86400));
}

int
ctl_segment_text(struct textbuf *tb, const struct shmd_segment *s,
    const struct sysv_attacher *att, ssize_t natt)
{
	ssize_t	 i;
	char	*json;
	int	 first = 1;

	if (shmd_segment_json(s, 0, &json) != SHMD_OK)
		return -1;
	if (natt < 0) {
		textbuf_str(tb, json);
		shmd_free(json);
		return 0;
	}
	/* the object without its '}', then one more member */
	textbuf_mem(tb, json, strlen(json) - 1);
	shmd_free(json);
	textbuf_lit(tb, ",\"attachers\":[");
	for (i = 0; i < natt; i++) {
		if (att[i].shmid != s->shmid)
			continue;
		if (!first)
			textbuf_lit(tb, ",");
		textbuf_lit(tb, "{\"pid\":");
		textbuf_i64(tb, att[i].pid);
		textbuf_lit(tb, ",\"uid\":");
		textbuf_i64(tb, att[i].uid == (uid_t)-1 ? -1 :
		    (int64_t)att[i].uid);
		textbuf_lit(tb, ",\"command\":");
		textbuf_json_string(tb, att[i].command);
		textbuf_lit(tb, "}");
		first = 0;
	}
	textbuf_lit(tb, "]}");
	return tb->failed ? -1 : 0;
}

int
ctl_print_json(struct textbuf *tb, int flags)
{
	char	*out;
	int	 rc = tb->failed ? SHMD_ERR_NOMEM : SHMD_OK;

	if (rc == SHMD_OK && textbuf_end(tb) == -1)
		rc = SHMD_ERR_NOMEM;
	if (rc == SHMD_OK)
		rc = shmd_json_format(tb->buf, NULL, flags, &out);
	free(tb->buf);
	tb->buf = NULL;
	if (rc != SHMD_OK) {
		fprintf(stderr, "shmdctl: %s\n", shmd_strerror(rc));
		return EXIT_REFUSED;
	}
	printf("%s\n", out);
	shmd_free(out);
	return 0;
}

/* create's memory policy: --huge-pages, --page-size, --locked, --numa-node. */
static int
ctl_policy(struct ctl *ctl, struct shmd_create_options *o)
{
	uint64_t	 v;
	const char	*why;

	if (ctl->given & OPT_HUGE)
		o->flags |= SHMD_CREATE_HUGE_PAGES;
	if (ctl->page_size != NULL) {
		if (!(ctl->given & OPT_HUGE))
			return ctl_usage_error("%s", "--page-size needs "
			    "--huge-pages");
		if (ctl_size(ctl->page_size, "page size", &v) == -1)
			return EXIT_USAGE;
		o->flags |= SHMD_CREATE_PAGE_SIZE;
		o->page_size = v;
	}
	if (ctl->given & OPT_LOCKED)
		o->flags |= SHMD_CREATE_LOCKED;
	if (ctl->numa != NULL) {
		if (number_parse(ctl->numa, 0, &v, &why) == -1 || v > INT32_MAX)
			return ctl_usage_error("bad NUMA node '%s'", ctl->numa);
		o->flags |= SHMD_CREATE_NUMA_NODE;
		o->numa_node = (int)v;
	}
	return 0;
}

static int
cmd_create(struct ctl *ctl, struct shmd_conn *c)
{
	struct shmd_create_options	 o;
	struct shmd_segment		 seg;
	enum proto_lifetime		 lt;
	uint64_t			 size, v;
	const char			*why;
	char				*end, *colon;
	long long			 key;
	int				 rc;

	shmd_create_options_init(&o);
	if (ctl_size(ctl->args[1], "size", &size) == -1)
		return EXIT_USAGE;
	if (ctl->mode != NULL) {
		if (number_parse(ctl->mode, NUMBER_OCTAL, &v, &why) == -1 ||
		    v > 0777)
			return ctl_usage_error("bad mode '%s': octal, 0 to 777",
			    ctl->mode);
		o.flags |= SHMD_CREATE_MODE;
		o.mode = (unsigned)v;
	}
	if (ctl->lifetime != NULL) {
		if (proto_lifetime_parse(ctl->lifetime, &lt) == -1)
			return ctl_usage_error("bad lifetime '%s': detach, "
			    "process or persistent", ctl->lifetime);
		o.lifetime = (enum shmd_lifetime)lt;
	}
	if (ctl->key != NULL) {
		errno = 0;
		key = strtoll(ctl->key, &end, 0);
		if (errno != 0 || *end != '\0' || end == ctl->key ||
		    key < INT32_MIN || key > UINT32_MAX)
			return ctl_usage_error("bad key '%s'", ctl->key);
		o.flags |= SHMD_CREATE_KEY;
		o.key = (int32_t)(uint32_t)key;
	}
	if (ctl->owner != NULL) {
		struct passwd	*pw;
		struct group	*gr;
		char		 user[256];

		snprintf(user, sizeof user, "%s", ctl->owner);
		if ((colon = strchr(user, ':')) != NULL)
			*colon++ = '\0';
		if (number_parse(user, 0, &v, &why) == 0 && v < UINT32_MAX)
			o.uid = (uid_t)v;
		else if ((pw = getpwnam(user)) != NULL) {
			o.uid = pw->pw_uid;
			if (colon == NULL) {
				o.gid = pw->pw_gid;
				o.flags |= SHMD_CREATE_GID;
			}
		} else
			return ctl_usage_error("unknown user '%s'", user);
		o.flags |= SHMD_CREATE_UID;
		if (colon != NULL) {
			if (number_parse(colon, 0, &v, &why) == 0 &&
			    v < UINT32_MAX)
				o.gid = (gid_t)v;
			else if ((gr = getgrnam(colon)) != NULL)
				o.gid = gr->gr_gid;
			else
				return ctl_usage_error("unknown group '%s'",
				    colon);
			o.flags |= SHMD_CREATE_GID;
		}
	}
	if (ctl->given & OPT_EXIST_OK)
		o.flags |= SHMD_CREATE_EXIST_OK;
	if ((rc = ctl_policy(ctl, &o)) != 0)
		return rc;
	if ((rc = shmd_create(c, ctl->args[0], size, &o, &seg)) != SHMD_OK)
		return ctl_refused(c, "create", ctl->args[0], rc);
	printf("%d\n", seg.shmid);
	return 0;
}

/* Open with wait: the shmid once the segment exists. */
static int
cmd_wait(struct ctl *ctl, struct shmd_conn *c)
{
	struct shmd_segment	 seg;
	uint64_t		 secs = 30;
	const char		*why;
	int			 rc;

	if (ctl->timeout != NULL &&
	    (number_parse(ctl->timeout, 0, &secs, &why) == -1 || secs > 3600))
		return ctl_usage_error("bad timeout '%s': seconds, 0 to 3600",
		    ctl->timeout);
	rc = shmd_open_wait(c, ctl->args[0], (unsigned)secs, &seg);
	if (rc == SHMD_ERR_NO_SUCH_SEGMENT) {
		fprintf(stderr, "shmdctl: wait %s: no such segment after %llu "
		    "s\n", ctl->args[0], (unsigned long long)secs);
		return EXIT_REFUSED;
	}
	if (rc != SHMD_OK)
		return ctl_refused(c, "wait", ctl->args[0], rc);
	printf("%d\n", seg.shmid);
	return 0;
}

/*
 * ls --json: the daemon's Segment objects as they came (members beyond
 * struct shmd_segment included), never parsed: with tens of thousands of
 * segments, the cost of `ls --json` against lsipc's (BENCHMARKS.md).
 */
static int
ctl_ls_json(struct shmd_conn *c)
{
	char	*segs;
	int	 rc;

	if ((rc = shmd_list_json(c, &segs)) != SHMD_OK)
		return ctl_refused(c, "ls", NULL, rc);
	printf("%s\n", segs);
	shmd_free(segs);
	return 0;
}

static int
cmd_ls(struct ctl *ctl, struct shmd_conn *c)
{
	struct shmd_segment	*segs;
	struct sysv_attacher	*att = NULL;
	size_t			 n, natt = 0, i;
	int			 rc, w = 4, with = ctl->given & OPT_ATTACHERS;
	char			 size[16], age[32], ub[32], gb[32], owner[80];
	char			 cmds[1024], page[16];

	if ((ctl->given & OPT_JSON) && !with)
		return ctl_ls_json(c);
	if ((rc = shmd_list(c, &segs, &n)) != SHMD_OK)
		return ctl_refused(c, "ls", NULL, rc);
	if (with && sysv_attachers(&att, &natt) == -1) {
		fprintf(stderr, "shmdctl: ls: cannot read /proc: %s\n",
		    strerror(errno));
		shmd_free(segs);
		return EXIT_REFUSED;
	}
	if (ctl->given & OPT_JSON) {
		struct textbuf	tb;

		if (textbuf_init_heap(&tb, 4096) == -1)
			tb.failed = 1;
		textbuf_lit(&tb, "[");
		for (i = 0; !tb.failed && i < n; i++) {
			if (i > 0)
				textbuf_lit(&tb, ",");
			if (ctl_segment_text(&tb, &segs[i], att,
			    (ssize_t)natt) == -1)
				tb.failed = 1;
		}
		textbuf_lit(&tb, "]");
		shmd_free(segs);
		free(att);
		return ctl_print_json(&tb, SHMD_JSON_PRETTY);
	}
	for (i = 0; i < n; i++)
		if ((int)strlen(segs[i].name) > w)
			w = (int)strlen(segs[i].name);
	printf("%-*s %10s %-10s %6s %4s %4s %-17s %6s %-10s %-6s %-5s%s\n", w,
	    "NAME", "SHMID", "KEY", "SIZE", "PAGE", "MODE", "OWNER", "NATTCH",
	    "LIFETIME", "LOCKED", "AGE", with ? " ATTACHED BY" : "");
	for (i = 0; i < n; i++) {
		number_format_size(segs[i].size, size, sizeof size);
		ctl_age(segs[i].created_usec, age, sizeof age);
		snprintf(owner, sizeof owner, "%s:%s",
		    ctl_user(segs[i].uid, ub, sizeof ub),
		    ctl_group(segs[i].gid, gb, sizeof gb));
		cmds[0] = '\0';
		if (with)
			ctl_attachers_text(att, natt, segs[i].shmid, cmds,
			    sizeof cmds);
		ctl_page(segs[i].page_size, page, sizeof page);
		printf("%-*s %10d 0x%08x %6s %4s %04o %-17s %6llu %-10s %-6s "
		    "%-5s%s%s\n", w, segs[i].name, segs[i].shmid,
		    (unsigned)segs[i].key, size, page, segs[i].mode, owner,
		    (unsigned long long)segs[i].nattch,
		    shmd_lifetime_name(segs[i].lifetime),
		    segs[i].locked ? "yes" : "no", age, with ? " " : "", cmds);
	}
	shmd_free(segs);
	free(att);
	return 0;
}

static int
cmd_info(struct ctl *ctl, struct shmd_conn *c)
{
	struct shmd_segment	 s;
	struct sysv_attacher	*att = NULL;
	size_t			 natt = 0, i;
	int			 shown = 0;
	char			 size[16], age[32], ub[32], gb[32], cb[32];
	char			 page[16];
	int			 rc;

	if ((rc = shmd_open(c, ctl->args[0], &s)) != SHMD_OK)
		return ctl_refused(c, "info", ctl->args[0], rc);
	/* Who has it attached, as far as this caller may see (root: all). */
	if (sysv_attachers(&att, &natt) == -1) {
		att = NULL;
		natt = 0;
	}
	if (ctl->given & OPT_JSON) {
		struct textbuf	tb;

		if (textbuf_init_heap(&tb, 1024) == -1 ||
		    ctl_segment_text(&tb, &s, att, (ssize_t)natt) == -1)
			tb.failed = 1;
		free(att);
		return ctl_print_json(&tb, SHMD_JSON_PRETTY);
	}
	number_format_size(s.size, size, sizeof size);
	ctl_age(s.created_usec, age, sizeof age);
	printf("name:      %s\n", s.name);
	printf("shmid:     %d\n", s.shmid);
	printf("key:       0x%08x%s\n", (unsigned)s.key,
	    s.key == 0 ? " (private)" : "");
	printf("size:      %llu (%s)\n", (unsigned long long)s.size, size);
	printf("mode:      %04o\n", s.mode);
	printf("owner:     %s:%s (%lu:%lu)\n", ctl_user(s.uid, ub, sizeof ub),
	    ctl_group(s.gid, gb, sizeof gb), (unsigned long)s.uid,
	    (unsigned long)s.gid);
	printf("lifetime:  %s\n", shmd_lifetime_name(s.lifetime));
	ctl_page(s.page_size, page, sizeof page);
	printf("page size: %s%s\n", page, s.page_size > (uint64_t)getpagesize() ?
	    " (huge pages)" : "");
	printf("locked:    %s\n", s.locked ? "yes" : "no");
	if (s.numa_node >= 0)
		printf("numa node: %d\n", s.numa_node);
	if (s.declared)
		printf("declared:  yes (shmd's configuration)\n");
	printf("nattch:    %llu\n", (unsigned long long)s.nattch);
	printf("creator:   pid %ld, %s\n", (long)s.creator_pid,
	    ctl_user(s.creator_uid, cb, sizeof cb));
	printf("age:       %s\n", age);
	for (i = 0; i < natt; i++) {
		if (att[i].shmid != s.shmid)
			continue;
		if (!shown++)
			printf("attached by:\n  %7s %-10s %s\n", "PID", "USER",
			    "COMMAND");
		printf("  %7ld %-10s %s\n", (long)att[i].pid,
		    att[i].uid == (uid_t)-1 ? "?" : ctl_user(att[i].uid, ub,
		    sizeof ub), att[i].command);
	}
	free(att);
	return 0;
}

static int
cmd_rm(struct ctl *ctl, struct shmd_conn *c)
{
	int	rc;

	if ((rc = shmd_destroy(c, ctl->args[0])) != SHMD_OK)
		return ctl_refused(c, "rm", ctl->args[0], rc);
	return 0;
}

static int
cmd_watch(struct ctl *ctl, struct shmd_conn *c)
{
	struct shmd_segment	s;
	enum shmd_event		ev;
	int			rc, has;

	if ((rc = shmd_watch(c)) != SHMD_OK)
		return ctl_refused(c, "watch", NULL, rc);
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (;;) {
		if ((rc = shmd_watch_next(c, &ev, &s, &has)) != SHMD_OK)
			return ctl_refused(c, "watch", NULL, rc);
		if (!has)
			continue;
		if (ctl->given & OPT_JSON) {
			struct textbuf	tb;

			/* one line per event: Watch's reply, as it came */
			if (textbuf_init_heap(&tb, 1024) == -1)
				tb.failed = 1;
			textbuf_lit(&tb, "{\"event\":\"");
			textbuf_str(&tb, shmd_event_name(ev));
			textbuf_lit(&tb, "\",\"segment\":");
			if (ctl_segment_text(&tb, &s, NULL, -1) == -1)
				tb.failed = 1;
			textbuf_lit(&tb, "}");
			if (ctl_print_json(&tb, SHMD_JSON_SPACED) != 0)
				return EXIT_REFUSED;
		} else
			printf("%-9s %s shmid %d key 0x%08x size %llu owner "
			    "%lu:%lu %s\n", shmd_event_name(ev), s.name,
			    s.shmid, (unsigned)s.key,
			    (unsigned long long)s.size, (unsigned long)s.uid,
			    (unsigned long)s.gid,
			    shmd_lifetime_name(s.lifetime));
	}
}

/* Open a segment and attach it. */
static void *
ctl_attach(struct ctl *ctl, struct shmd_conn *c, const char *what,
    int flags, struct shmd_segment *s, int *exit_code)
{
	void	*p;
	int	 rc;

	if ((rc = shmd_open(c, ctl->args[0], s)) != SHMD_OK) {
		*exit_code = ctl_refused(c, what, ctl->args[0], rc);
		return NULL;
	}
	if ((p = shmat(s->shmid, NULL, flags)) == (void *)-1) {
		fprintf(stderr, "shmdctl: %s %s: shmat: %s\n", what,
		    ctl->args[0], strerror(errno));
		*exit_code = EXIT_REFUSED;
		return NULL;
	}
	return p;
}

static int
cmd_write(struct ctl *ctl, struct shmd_conn *c)
{
	struct shmd_segment	 s;
	char			*buf, *p;
	size_t			 len = 0, cap;
	ssize_t			 n;
	int			 ec = 0;

	if ((p = ctl_attach(ctl, c, "write", 0, &s, &ec)) == NULL)
		return ec;
	/* Read all of it first: input longer than the segment changes nothing. */
	cap = s.size + 1;
	if ((buf = malloc(cap)) == NULL) {
		fprintf(stderr, "shmdctl: write %s: out of memory\n", s.name);
		shmdt(p);
		return EXIT_REFUSED;
	}
	while (len < cap) {
		n = read(STDIN_FILENO, buf + len, cap - len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			fprintf(stderr, "shmdctl: write %s: standard input: "
			    "%s\n", s.name, strerror(errno));
			ec = EXIT_REFUSED;
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (len > s.size) {
		fprintf(stderr, "shmdctl: write %s: standard input is longer "
		    "than the segment (%llu bytes); nothing written\n", s.name,
		    (unsigned long long)s.size);
		ec = EXIT_REFUSED;
		goto out;
	}
	memcpy(p, buf, len);
out:
	free(buf);
	shmdt(p);
	return ec;
}

static int
cmd_read(struct ctl *ctl, struct shmd_conn *c)
{
	struct shmd_segment	 s;
	uint64_t		 off = 0, size = UINT64_MAX;
	const char		*p;
	size_t			 done;
	ssize_t			 n;
	int			 ec = 0;

	if (ctl->offset != NULL && ctl_size(ctl->offset, "offset", &off) == -1)
		return EXIT_USAGE;
	if (ctl->size != NULL && ctl_size(ctl->size, "size", &size) == -1)
		return EXIT_USAGE;
	if ((p = ctl_attach(ctl, c, "read", SHM_RDONLY, &s, &ec)) == NULL)
		return ec;
	if (off > s.size) {
		fprintf(stderr, "shmdctl: read %s: offset %llu is past the end "
		    "of the segment (%llu bytes)\n", s.name,
		    (unsigned long long)off, (unsigned long long)s.size);
		shmdt(p);
		return EXIT_REFUSED;
	}
	if (size > s.size - off)
		size = s.size - off;
	for (done = 0; done < size; done += (size_t)n) {
		n = write(STDOUT_FILENO, p + off + done, size - done);
		if (n == -1 && errno == EINTR) {
			n = 0;
			continue;
		}
		if (n == -1) {
			fprintf(stderr, "shmdctl: read %s: standard output: "
			    "%s\n", s.name, strerror(errno));
			ec = EXIT_REFUSED;
			break;
		}
	}
	shmdt(p);
	return ec;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, 'S' },
		{ "json", no_argument, NULL, 'j' },
		{ "mode", required_argument, NULL, 'm' },
		{ "lifetime", required_argument, NULL, 'l' },
		{ "key", required_argument, NULL, 'k' },
		{ "owner", required_argument, NULL, 'o' },
		{ "offset", required_argument, NULL, 'O' },
		{ "size", required_argument, NULL, 's' },
		{ "attachers", no_argument, NULL, 'a' },
		{ "older-than", required_argument, NULL, 'g' },
		{ "remove", no_argument, NULL, 'r' },
		{ "prometheus", no_argument, NULL, 'p' },
		{ "exist-ok", no_argument, NULL, 'e' },
		{ "timeout", required_argument, NULL, 't' },
		{ "interval", required_argument, NULL, 'i' },
		{ "huge-pages", no_argument, NULL, 'H' },
		{ "page-size", required_argument, NULL, 'P' },
		{ "locked", no_argument, NULL, 'L' },
		{ "numa-node", required_argument, NULL, 'N' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	static const struct { int ch, flag; const char *name; } flagnames[] = {
		{ 'j', OPT_JSON, "--json" }, { 'm', OPT_MODE, "--mode" },
		{ 'l', OPT_LIFETIME, "--lifetime" }, { 'k', OPT_KEY, "--key" },
		{ 'o', OPT_OWNER, "--owner" }, { 'O', OPT_OFFSET, "--offset" },
		{ 's', OPT_SIZE, "--size" }, { 'a', OPT_ATTACHERS, "--attachers" },
		{ 'g', OPT_OLDER, "--older-than" }, { 'r', OPT_REMOVE, "--remove" },
		{ 'p', OPT_PROMETHEUS, "--prometheus" },
		{ 'e', OPT_EXIST_OK, "--exist-ok" },
		{ 't', OPT_TIMEOUT, "--timeout" },
		{ 'i', OPT_INTERVAL, "--interval" },
		{ 'H', OPT_HUGE, "--huge-pages" },
		{ 'P', OPT_PAGE_SIZE, "--page-size" },
		{ 'L', OPT_LOCKED, "--locked" },
		{ 'N', OPT_NUMA, "--numa-node" },
	};
	const struct ctl_cmd	*cmd = NULL;
	struct shmd_conn	*c;
	struct ctl		 ctl;
	size_t			 i;
	int			 ch, rc;

	memset(&ctl, 0, sizeof ctl);
	signal(SIGPIPE, SIG_IGN);
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (ch) {
		case 'S': ctl.socket = optarg; break;
		case 'j': ctl.given |= OPT_JSON; break;
		case 'm': ctl.given |= OPT_MODE; ctl.mode = optarg; break;
		case 'l': ctl.given |= OPT_LIFETIME; ctl.lifetime = optarg; break;
		case 'k': ctl.given |= OPT_KEY; ctl.key = optarg; break;
		case 'o': ctl.given |= OPT_OWNER; ctl.owner = optarg; break;
		case 'O': ctl.given |= OPT_OFFSET; ctl.offset = optarg; break;
		case 's': ctl.given |= OPT_SIZE; ctl.size = optarg; break;
		case 'a': ctl.given |= OPT_ATTACHERS; break;
		case 'g': ctl.given |= OPT_OLDER; ctl.older_than = optarg; break;
		case 'r': ctl.given |= OPT_REMOVE; break;
		case 'p': ctl.given |= OPT_PROMETHEUS; break;
		case 'e': ctl.given |= OPT_EXIST_OK; break;
		case 't': ctl.given |= OPT_TIMEOUT; ctl.timeout = optarg; break;
		case 'i': ctl.given |= OPT_INTERVAL; ctl.interval = optarg; break;
		case 'H': ctl.given |= OPT_HUGE; break;
		case 'P': ctl.given |= OPT_PAGE_SIZE; ctl.page_size = optarg; break;
		case 'L': ctl.given |= OPT_LOCKED; break;
		case 'N': ctl.given |= OPT_NUMA; ctl.numa = optarg; break;
		case 'h':
			ctl_usage(stdout);
			return 0;
		case 'V':
			printf("shmdctl %s\n", PACKAGE_VERSION);
			return 0;
		case ':':
			return ctl_usage_error("option %s needs a value",
			    argv[optind - 1]);
		default:
			return ctl_usage_error("unknown option %s",
			    argv[optind - 1]);
		}
	}
	if (optind >= argc)
		return ctl_usage_error("%s", "no command given");
	for (i = 0; i < NCMDS; i++)
		if (strcmp(argv[optind], ctl_cmds[i].name) == 0)
			cmd = &ctl_cmds[i];
	if (cmd == NULL)
		return ctl_usage_error("unknown command '%s'", argv[optind]);
	for (i = 0; i < sizeof flagnames / sizeof flagnames[0]; i++)
		if ((ctl.given & flagnames[i].flag) &&
		    !(cmd->options & flagnames[i].flag)) {
			fprintf(stderr, "shmdctl: %s does not take %s "
			    "(usage: shmdctl %s)\n", cmd->name,
			    flagnames[i].name, cmd->usage);
			return EXIT_USAGE;
		}
	ctl.args = argv + optind + 1;
	ctl.nargs = argc - optind - 1;
	if (ctl.nargs != cmd->nargs) {
		fprintf(stderr, "shmdctl: %s takes %d operand%s (usage: "
		    "shmdctl %s)\n", cmd->name, cmd->nargs,
		    cmd->nargs == 1 ? "" : "s", cmd->usage);
		return EXIT_USAGE;
	}
	if (cmd->nargs > 0 && proto_name_valid(ctl.args[0]) == -1) {
		fprintf(stderr, "shmdctl: %s: invalid segment name '%s': "
		    PROTO_NAME_RULE "\n", cmd->name, ctl.args[0]);
		return EXIT_USAGE;
	}
	if (ctl_connect(ctl.socket, &c) != SHMD_OK) {
		fprintf(stderr, "shmdctl: cannot connect to shmd at %s: %s\n",
		    ctl_path, strerror(errno));
		return EXIT_REFUSED;
	}
	rc = cmd->fn(&ctl, c);
	shmd_disconnect(c);
	return rc;
}
