/* shmdctl's admin commands: status (with usage, kernel limits, metrics) and orphans. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/shm.h>
#include <time.h>

#include <unistd.h>

#include "number.h"
#include "proto.h"
#include "shmd.h"
#include "shmdctl.h"
#include "sysv.h"
#include "textbuf.h"


void
ctl_attachers_text(const struct sysv_attacher *att, size_t n, int shmid,
    char *buf, size_t len)
{
	size_t	i, used = 0;
	int	k;

	buf[0] = '\0';
	for (i = 0; i < n && used < len; i++) {
		if (att[i].shmid != shmid)
			continue;
		k = snprintf(buf + used, len - used, "%s%ld:%s", used ? ", " : "",
		    (long)att[i].pid, att[i].command);
		if (k < 0)
			break;
		used += (size_t)k;
	}
}

/* status --json: the daemon's Status as it came, laid out. */
static int
ctl_status_json(struct shmd_conn *c)
{
	char	*text, *out;
	int	 rc;

	if ((rc = shmd_call(c, PROTO_METHOD_STATUS, NULL, &text)) != SHMD_OK) {
		shmd_free(text);
		return ctl_refused(c, "status", NULL, rc);
	}
	rc = shmd_json_format(text, NULL, SHMD_JSON_PRETTY | SHMD_JSON_SPACED,
	    &out);
	shmd_free(text);
	if (rc != SHMD_OK) {
		fprintf(stderr, "shmdctl: status: unreadable reply\n");
		return EXIT_REFUSED;
	}
	printf("%s\n", out);
	shmd_free(out);
	return 0;
}

/*
 * The limits Status reports, in its order, from libshmd's struct: for
 * the Prometheus output and the human one.
 */
struct ctl_limit {
	const char	*name;
	uint64_t	 value;
	int		 is_size;
	int		 shown;		/* in the human output */
	const char	*zero;		/* what 0 means, if more than 0 */
};

#define CTL_NLIMITS	9

static size_t
ctl_limits(const struct shmd_status *st, struct ctl_limit *l)
{
	const struct ctl_limit	 all[] = {
		{ "max_segment_size", st->limits.max_segment_size, 1, 1,
		    NULL },
		{ "max_segments_per_uid", st->limits.max_segments_per_uid, 0,
		    1, "unlimited" },
		{ "max_bytes_per_uid", st->limits.max_bytes_per_uid, 1, 1,
		    "unlimited" },
		{ "max_huge_bytes_per_uid", st->max_huge_bytes_per_uid, 1, 1,
		    "root only" },
		{ "max_locked_bytes_per_uid", st->max_locked_bytes_per_uid, 1,
		    1, "root only" },
		{ "max_clients", st->limits.max_clients, 0, 1, NULL },
		{ "max_clients_per_uid", st->max_clients_per_uid, 0, 0,
		    "unlimited" },
		{ "max_message_size", st->limits.max_message_size, 1, 1, NULL },
		{ "attach_timeout", st->limits.attach_timeout, 0, 1, NULL },
	};

	_Static_assert(sizeof all / sizeof all[0] == CTL_NLIMITS,
	    "CTL_NLIMITS is the number of limits");
	memcpy(l, all, sizeof all);
	return CTL_NLIMITS;
}

/* What the system uses of the kernel's limits. */
struct ctl_kernel {
	struct sysv_limits	lim;
	uint64_t		segments, pages, largest;
};

static int
ctl_kernel(struct ctl_kernel *k)
{
	struct sysv_seg	*segs;
	size_t		 n, i;

	memset(k, 0, sizeof *k);
	if (sysv_limits(&k->lim) == -1 || sysv_segments(&segs, &n) == -1)
		return -1;
	k->segments = n;
	for (i = 0; i < n; i++) {
		k->pages += (segs[i].size + k->lim.pagesize - 1) /
		    k->lim.pagesize;
		if (segs[i].size > k->largest)
			k->largest = segs[i].size;
	}
	free(segs);
	return 0;
}

static const char *
ctl_flag(uint64_t used, uint64_t limit)
{
	return limit > 0 && (double)used > 0.8 * (double)limit ?
	    "  <-- over 80%" : "";
}

/* One limit, for people: zero says what 0 means, when it means more. */
static void
ctl_limit(const char *name, uint64_t v, int is_size, const char *zero)
{
	char	buf[16];

	if (v == 0 && zero != NULL)
		printf("  %-22s %s\n", name, zero);
	else if (is_size) {
		number_format_size(v, buf, sizeof buf);
		printf("  %-22s %s\n", name, buf);
	} else
		printf("  %-22s %llu\n", name, (unsigned long long)v);
}

static void
ctl_metric(const char *name, const char *type, const char *help,
    const char *labels, uint64_t v)
{
	printf("# HELP %s %s\n# TYPE %s %s\n%s%s %llu\n", name, help, name,
	    type, name, labels, (unsigned long long)v);
}

/* shmd_uid_<member>{uid="N"}, one sample per owner of Status's usage. */
static void
ctl_prometheus_usage(const struct shmd_usage *u, size_t n, int bytes,
    const char *help)
{
	const char	*member = bytes ? "bytes" : "segments";
	size_t		 i;

	printf("# HELP shmd_uid_%s %s\n# TYPE shmd_uid_%s gauge\n", member,
	    help, member);
	for (i = 0; i < n; i++)
		printf("shmd_uid_%s{uid=\"%lld\"} %llu\n", member,
		    (long long)u[i].uid, (unsigned long long)(bytes ?
		    u[i].bytes : u[i].segments));
}

/* The Prometheus text exposition format, for node_exporter's textfile collector. */
static void
ctl_prometheus(const struct shmd_status *st, const struct shmd_usage *u,
    size_t nu, const struct ctl_kernel *k)
{
	struct ctl_limit	l[CTL_NLIMITS];
	size_t			i, nl = ctl_limits(st, l);

	ctl_metric("shmd_segments", "gauge", "Segments shmd manages.", "",
	    st->segments);
	ctl_metric("shmd_bytes", "gauge", "Bytes in the segments shmd manages.",
	    "", st->bytes);
	ctl_metric("shmd_clients", "gauge", "Open connections to shmd.", "",
	    st->clients);
	ctl_metric("shmd_requests_total", "counter",
	    "Calls shmd answered since it started.", "", st->requests);
	ctl_metric("shmd_reaped_total", "counter",
	    "Segments destroyed by their lifetime since shmd started.", "",
	    st->reaped);
	ctl_metric("shmd_vanished_total", "counter",
	    "Managed segments removed behind shmd's back since it started.",
	    "", st->vanished);
	ctl_metric("shmd_declared_drift", "gauge",
	    "Declared segments that differ from their declaration.", "",
	    st->declared_drift);
	ctl_metric("shmd_uptime_seconds", "gauge", "Seconds since shmd started.",
	    "", st->uptime_usec / 1000000);
	printf("# HELP shmd_limit shmd's configured limits (0: "
	    "unlimited).\n# TYPE shmd_limit gauge\n");
	for (i = 0; i < nl; i++)
		printf("shmd_limit{limit=\"%s\"} %llu\n", l[i].name,
		    (unsigned long long)l[i].value);
	if (u != NULL) {
		ctl_prometheus_usage(u, nu, 0, "Segments per owner uid.");
		ctl_prometheus_usage(u, nu, 1, "Bytes per owner uid.");
	}
	if (k == NULL)
		return;
	ctl_metric("shmd_kernel_segments", "gauge",
	    "SysV segments on the system (all, not only shmd's).", "",
	    k->segments);
	ctl_metric("shmd_kernel_shmmni", "gauge",
	    "The kernel's limit on segments (kernel.shmmni).", "",
	    k->lim.shmmni);
	ctl_metric("shmd_kernel_pages", "gauge",
	    "Pages in SysV segments on the system.", "", k->pages);
	ctl_metric("shmd_kernel_shmall", "gauge",
	    "The kernel's limit on pages in segments (kernel.shmall).", "",
	    k->lim.shmall);
	ctl_metric("shmd_kernel_largest_segment_bytes", "gauge",
	    "The largest SysV segment on the system.", "", k->largest);
	ctl_metric("shmd_kernel_shmmax_bytes", "gauge",
	    "The kernel's largest segment (kernel.shmmax).", "",
	    k->lim.shmmax);
}

int
cmd_status(struct ctl *ctl, struct shmd_conn *c)
{
	struct shmd_status	 st;
	struct shmd_usage	*u = NULL;
	struct ctl_kernel	 k;
	struct ctl_limit	 l[CTL_NLIMITS];
	char			 bytes[16], b2[16], ub[32];
	size_t			 i, n = 0, nl;
	int			 rc, have_kernel, root = geteuid() == 0;

	if (ctl->given & OPT_JSON)
		return ctl_status_json(c);
	/* usage: the daemon reports it to root only */
	if ((rc = shmd_status(c, &st)) != SHMD_OK ||
	    (root && (rc = shmd_usage(c, &u, &n)) != SHMD_OK))
		return ctl_refused(c, "status", NULL, rc);
	have_kernel = ctl_kernel(&k) == 0;
	if (ctl->given & OPT_PROMETHEUS) {
		ctl_prometheus(&st, root ? u : NULL, n,
		    have_kernel ? &k : NULL);
		shmd_free(u);
		return 0;
	}
	number_format_size(st.bytes, bytes, sizeof bytes);
	printf("shmd %s, pid %ld, uid %lu, up %llus\n", st.version,
	    (long)st.pid, (unsigned long)st.uid,
	    (unsigned long long)(st.uptime_usec / 1000000));
	printf("segments:  %llu (%s)\n", (unsigned long long)st.segments,
	    bytes);
	printf("clients:   %llu\n", (unsigned long long)st.clients);
	printf("requests:  %llu\n", (unsigned long long)st.requests);
	printf("reaped:    %llu\n", (unsigned long long)st.reaped);
	printf("vanished:  %llu\n", (unsigned long long)st.vanished);
	printf("drift:     %llu (declared segments unlike their "
	    "declaration)\n", (unsigned long long)st.declared_drift);
	printf("limits:\n");
	nl = ctl_limits(&st, l);
	for (i = 0; i < nl; i++)
		if (l[i].shown)
			ctl_limit(l[i].name, l[i].value, l[i].is_size,
			    l[i].zero);
	/* Per owner, against the per-uid limits (root callers only). */
	if (root) {
		uint64_t maxs = st.limits.max_segments_per_uid;
		uint64_t maxb = st.limits.max_bytes_per_uid;

		printf("usage by owner:\n  %-12s %10s %10s\n", "USER",
		    "SEGMENTS", "BYTES");
		for (i = 0; i < n; i++) {
			number_format_size(u[i].bytes, bytes, sizeof bytes);
			number_format_size(maxb, b2, sizeof b2);
			printf("  %-12s %4llu/%-5s %4s/%-5s%s\n",
			    ctl_user(u[i].uid, ub, sizeof ub),
			    (unsigned long long)u[i].segments, u[i].uid == 0 ||
			    maxs == 0 ? "-" : "", bytes, u[i].uid == 0 ||
			    maxb == 0 ? "-" : b2, u[i].uid == 0 ? "" :
			    ctl_flag(u[i].segments, maxs)[0] ?
			    ctl_flag(u[i].segments, maxs) :
			    ctl_flag(u[i].bytes, maxb));
		}
	}
	shmd_free(u);
	if (have_kernel) {
		char	largest[16], shmmax[16];

		number_format_size(k.largest, largest, sizeof largest);
		number_format_size(k.lim.shmmax, shmmax, sizeof shmmax);
		printf("kernel (the whole system):\n");
		printf("  segments  %llu of %llu (kernel.shmmni)%s\n",
		    (unsigned long long)k.segments,
		    (unsigned long long)k.lim.shmmni,
		    ctl_flag(k.segments, k.lim.shmmni));
		printf("  pages     %llu of %llu (kernel.shmall)%s\n",
		    (unsigned long long)k.pages,
		    (unsigned long long)k.lim.shmall,
		    ctl_flag(k.pages, k.lim.shmall));
		printf("  largest   %s of %s (kernel.shmmax)%s\n", largest,
		    shmmax, ctl_flag(k.largest, k.lim.shmmax));
	}
	return 0;
}

/* -------------------------------------------------------------- orphans */

static int
ctl_cmp_int(const void *a, const void *b)
{
	int	x = *(const int *)a, y = *(const int *)b;

	return (x > y) - (x < y);
}

/*
 * The SysV segments that nobody has attached, whose creator is gone, and
 * that shmd does not manage. shmd's own come from List (complete for
 * root); when shmd runs unprivileged, every segment it created (cuid) is
 * its own too.
 */
static int
ctl_orphans(struct shmd_conn *c, time_t older_than, struct sysv_seg **out,
    size_t *nout)
{
	struct shmd_segment	*managed;
	struct shmd_status	 st;
	struct sysv_seg		*segs;
	size_t			 nmanaged, n, i, k = 0;
	int			*ids, rc;
	time_t			 now = time(NULL);

	if ((rc = shmd_status(c, &st)) != SHMD_OK ||
	    (rc = shmd_list(c, &managed, &nmanaged)) != SHMD_OK)
		return ctl_refused(c, "orphans", NULL, rc);
	if ((ids = calloc(nmanaged + 1, sizeof *ids)) == NULL) {
		shmd_free(managed);
		fprintf(stderr, "shmdctl: orphans: out of memory\n");
		return EXIT_REFUSED;
	}
	for (i = 0; i < nmanaged; i++)
		ids[i] = managed[i].shmid;
	shmd_free(managed);
	qsort(ids, nmanaged, sizeof *ids, ctl_cmp_int);
	if (sysv_segments(&segs, &n) == -1) {
		fprintf(stderr, "shmdctl: orphans: /proc/sysvipc/shm: %s\n",
		    strerror(errno));
		free(ids);
		return EXIT_REFUSED;
	}
	for (i = 0; i < n; i++) {
		if (bsearch(&segs[i].shmid, ids, nmanaged, sizeof *ids,
		    ctl_cmp_int) != NULL ||
		    (st.uid != 0 && segs[i].cuid == st.uid) ||
		    segs[i].nattch > 0 || (segs[i].perms & SHM_DEST) ||
		    now - segs[i].ctime < older_than ||
		    !sysv_creator_gone(segs[i].cpid, segs[i].ctime))
			continue;
		segs[k++] = segs[i];
	}
	free(ids);
	*out = segs;
	*nout = k;
	return 0;
}

static void
ctl_orphan_row(const struct sysv_seg *s, const char *prefix)
{
	char	size[16], ub[32], age[32];

	number_format_size(s->size, size, sizeof size);
	ctl_age((int64_t)s->ctime * 1000000, age, sizeof age);
	printf("%s%10d 0x%08x %6s %-10s %7ld %s\n", prefix, s->shmid,
	    (unsigned)s->key, size, ctl_user(s->uid, ub, sizeof ub),
	    (long)s->cpid, age);
}

/* Orphans as a JSON array of {shmid, key, uid, gid, size, cpid, ctime}. */
static int
ctl_orphans_json(const struct sysv_seg *segs, size_t n)
{
	struct textbuf	tb;
	size_t		i;

	if (textbuf_init_heap(&tb, 1024) == -1)
		tb.failed = 1;
	textbuf_lit(&tb, "[");
	for (i = 0; i < n; i++) {
		if (i > 0)
			textbuf_lit(&tb, ",");
		textbuf_lit(&tb, "{\"shmid\":");
		textbuf_i64(&tb, segs[i].shmid);
		textbuf_lit(&tb, ",\"key\":");
		textbuf_i64(&tb, (int32_t)segs[i].key);
		textbuf_lit(&tb, ",\"uid\":");
		textbuf_u64(&tb, segs[i].uid);
		textbuf_lit(&tb, ",\"gid\":");
		textbuf_u64(&tb, segs[i].gid);
		textbuf_lit(&tb, ",\"size\":");
		textbuf_u64(&tb, segs[i].size);
		textbuf_lit(&tb, ",\"cpid\":");
		textbuf_i64(&tb, segs[i].cpid);
		textbuf_lit(&tb, ",\"ctime\":");
		textbuf_i64(&tb, segs[i].ctime);
		textbuf_lit(&tb, "}");
	}
	textbuf_lit(&tb, "]");
	return ctl_print_json(&tb, SHMD_JSON_PRETTY);
}

int
cmd_orphans(struct ctl *ctl, struct shmd_conn *c)
{
	struct sysv_seg	*segs = NULL, *now;
	size_t		 n = 0, nn, i, j;
	uint64_t	 older = 0;
	const char	*why;
	int		 rc, failed = 0;

	if (ctl->older_than != NULL &&
	    number_parse(ctl->older_than, 0, &older, &why) == -1)
		return ctl_usage_error("--older-than '%s': %s", ctl->older_than,
		    why);
	if ((rc = ctl_orphans(c, (time_t)older, &segs, &n)) != 0)
		return rc;
	if (!(ctl->given & OPT_REMOVE)) {
		if (ctl->given & OPT_JSON) {
			rc = ctl_orphans_json(segs, n);
			free(segs);
			return rc;
		} else if (n > 0) {
			printf("%10s %-10s %6s %-10s %7s %s\n", "SHMID", "KEY",
			    "SIZE", "OWNER", "CPID", "AGE");
			for (i = 0; i < n; i++)
				ctl_orphan_row(&segs[i], "");
		}
		free(segs);
		return 0;
	}
	/* Remove exactly those, each after one more look at its attach count. */
	for (i = 0; i < n; i++) {
		if (sysv_segments(&now, &nn) == -1)
			break;
		for (j = 0; j < nn && now[j].shmid != segs[i].shmid; j++)
			;
		if (j == nn || now[j].nattch > 0 || now[j].ctime !=
		    segs[i].ctime) {
			free(now);
			continue;	/* gone, attached or changed meanwhile */
		}
		free(now);
		if (shmctl(segs[i].shmid, IPC_RMID, NULL) == -1) {
			fprintf(stderr, "shmdctl: orphans: cannot remove shmid "
			    "%d: %s\n", segs[i].shmid, strerror(errno));
			failed = 1;
			continue;
		}
		ctl_orphan_row(&segs[i], "removed ");
	}
	free(segs);
	return failed ? EXIT_REFUSED : 0;
}
