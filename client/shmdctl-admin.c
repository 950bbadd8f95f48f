/* shmdctl's admin commands: status (with usage, kernel limits, metrics) and orphans. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/shm.h>
#include <time.h>

#include <json-c/json.h>

#include "jsonutil.h"
#include "number.h"
#include "proto.h"
#include "shmd.h"
#include "shmdctl.h"
#include "sysv.h"


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

/* The daemon's Status as a JSON object (NULL: refused, reported). */
static struct json_object *
ctl_status_json(struct shmd_conn *c, int *rc)
{
	struct json_object	*o;
	char			*text;
	int			 err;

	if ((err = shmd_call(c, PROTO_METHOD_STATUS, NULL, &text)) != SHMD_OK) {
		shmd_free(text);
		*rc = ctl_refused(c, "status", NULL, err);
		return NULL;
	}
	o = json_tokener_parse(text);
	shmd_free(text);
	if (o == NULL) {
		fprintf(stderr, "shmdctl: status: unreadable reply\n");
		*rc = EXIT_REFUSED;
	}
	return o;
}

static int64_t
ctl_int(struct json_object *o, const char *key)
{
	int64_t	v = 0;

	json_get_int(o, key, &v);
	return v;
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

static void
ctl_limit(const char *name, uint64_t v, int is_size)
{
	char	buf[16];

	if (v == 0 && strstr(name, "per_uid") != NULL)
		printf("  %-22s unlimited\n", name);
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
ctl_prometheus_usage(struct json_object *usage, const char *member,
    const char *help)
{
	struct json_object	*u;
	size_t			 i, n = json_object_array_length(usage);

	printf("# HELP shmd_uid_%s %s\n# TYPE shmd_uid_%s gauge\n", member,
	    help, member);
	for (i = 0; i < n; i++) {
		u = json_object_array_get_idx(usage, i);
		printf("shmd_uid_%s{uid=\"%lld\"} %lld\n", member,
		    (long long)ctl_int(u, "uid"), (long long)ctl_int(u, member));
	}
}

/* The Prometheus text exposition format, for node_exporter's textfile collector. */
static void
ctl_prometheus(struct json_object *st, const struct ctl_kernel *k)
{
	struct json_object	*limits, *usage;

	ctl_metric("shmd_segments", "gauge", "Segments shmd manages.", "",
	    (uint64_t)ctl_int(st, "segments"));
	ctl_metric("shmd_bytes", "gauge", "Bytes in the segments shmd manages.",
	    "", (uint64_t)ctl_int(st, "bytes"));
	ctl_metric("shmd_clients", "gauge", "Open connections to shmd.", "",
	    (uint64_t)ctl_int(st, "clients"));
	ctl_metric("shmd_requests_total", "counter",
	    "Calls shmd answered since it started.", "",
	    (uint64_t)ctl_int(st, "requests"));
	ctl_metric("shmd_reaped_total", "counter",
	    "Segments destroyed by their lifetime since shmd started.", "",
	    (uint64_t)ctl_int(st, "reaped"));
	ctl_metric("shmd_vanished_total", "counter",
	    "Managed segments removed behind shmd's back since it started.",
	    "", (uint64_t)ctl_int(st, "vanished"));
	ctl_metric("shmd_declared_drift", "gauge",
	    "Declared segments that differ from their declaration.", "",
	    (uint64_t)ctl_int(st, "declared_drift"));
	ctl_metric("shmd_uptime_seconds", "gauge", "Seconds since shmd started.",
	    "", (uint64_t)(ctl_int(st, "uptime_usec") / 1000000));
	if (json_object_object_get_ex(st, "limits", &limits)) {
		printf("# HELP shmd_limit shmd's configured limits (0: "
		    "unlimited).\n# TYPE shmd_limit gauge\n");
		json_object_object_foreach(limits, key, val) {
			printf("shmd_limit{limit=\"%s\"} %lld\n", key,
			    (long long)json_object_get_int64(val));
		}
	}
	if (json_object_object_get_ex(st, "usage", &usage) &&
	    json_object_is_type(usage, json_type_array)) {
		ctl_prometheus_usage(usage, "segments", "Segments per owner uid.");
		ctl_prometheus_usage(usage, "bytes", "Bytes per owner uid.");
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
	struct json_object	*st, *limits = NULL, *usage = NULL, *u;
	struct ctl_kernel	 k;
	const char		*version = "?";
	char			 bytes[16], b2[16], ub[32];
	size_t			 i, n;
	int			 rc = 0, have_kernel;

	if ((st = ctl_status_json(c, &rc)) == NULL)
		return rc;
	have_kernel = ctl_kernel(&k) == 0;
	if (ctl->given & OPT_PROMETHEUS) {
		ctl_prometheus(st, have_kernel ? &k : NULL);
		json_object_put(st);
		return 0;
	}
	if (ctl->given & OPT_JSON) {
		printf("%s\n", json_object_to_json_string_ext(st,
		    JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
		    JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(st);
		return 0;
	}
	json_get_string(st, "version", &version);
	json_object_object_get_ex(st, "limits", &limits);
	number_format_size((uint64_t)ctl_int(st, "bytes"), bytes, sizeof bytes);
	printf("shmd %s, pid %lld, uid %lld, up %llds\n", version,
	    (long long)ctl_int(st, "pid"), (long long)ctl_int(st, "uid"),
	    (long long)(ctl_int(st, "uptime_usec") / 1000000));
	printf("segments:  %lld (%s)\n", (long long)ctl_int(st, "segments"),
	    bytes);
	printf("clients:   %lld\n", (long long)ctl_int(st, "clients"));
	printf("requests:  %lld\n", (long long)ctl_int(st, "requests"));
	printf("reaped:    %lld\n", (long long)ctl_int(st, "reaped"));
	printf("vanished:  %lld\n", (long long)ctl_int(st, "vanished"));
	printf("drift:     %lld (declared segments unlike their "
	    "declaration)\n", (long long)ctl_int(st, "declared_drift"));
	if (limits != NULL) {
		printf("limits:\n");
		ctl_limit("max_segment_size",
		    (uint64_t)ctl_int(limits, "max_segment_size"), 1);
		ctl_limit("max_segments_per_uid",
		    (uint64_t)ctl_int(limits, "max_segments_per_uid"), 0);
		ctl_limit("max_bytes_per_uid",
		    (uint64_t)ctl_int(limits, "max_bytes_per_uid"), 1);
		ctl_limit("max_clients", (uint64_t)ctl_int(limits,
		    "max_clients"), 0);
		ctl_limit("max_message_size",
		    (uint64_t)ctl_int(limits, "max_message_size"), 1);
		ctl_limit("attach_timeout", (uint64_t)ctl_int(limits,
		    "attach_timeout"), 0);
	}
	/* Per owner, against the per-uid limits (root callers only). */
	if (json_object_object_get_ex(st, "usage", &usage) &&
	    json_object_is_type(usage, json_type_array)) {
		uint64_t maxs = (uint64_t)ctl_int(limits, "max_segments_per_uid");
		uint64_t maxb = (uint64_t)ctl_int(limits, "max_bytes_per_uid");

		n = json_object_array_length(usage);
		printf("usage by owner:\n  %-12s %10s %10s\n", "USER",
		    "SEGMENTS", "BYTES");
		for (i = 0; i < n; i++) {
			uint64_t segs, by;

			u = json_object_array_get_idx(usage, i);
			segs = (uint64_t)ctl_int(u, "segments");
			by = (uint64_t)ctl_int(u, "bytes");
			number_format_size(by, bytes, sizeof bytes);
			number_format_size(maxb, b2, sizeof b2);
			printf("  %-12s %4llu/%-5s %4s/%-5s%s\n",
			    ctl_user((uid_t)ctl_int(u, "uid"), ub, sizeof ub),
			    (unsigned long long)segs, ctl_int(u, "uid") == 0 ||
			    maxs == 0 ? "-" : "", bytes, ctl_int(u, "uid") == 0 ||
			    maxb == 0 ? "-" : b2, ctl_int(u, "uid") == 0 ? "" :
			    ctl_flag(segs, maxs)[0] ? ctl_flag(segs, maxs) :
			    ctl_flag(by, maxb));
		}
	}
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
	json_object_put(st);
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
static struct json_object *
ctl_orphans_json(const struct sysv_seg *segs, size_t n)
{
	struct json_object	*arr = json_object_new_array(), *o;
	size_t			 i;

	for (i = 0; arr != NULL && i < n; i++) {
		if ((o = json_object_new_object()) == NULL ||
		    json_object_array_add(arr, o) != 0 ||
		    json_add_int(o, "shmid", segs[i].shmid) == -1 ||
		    json_add_int(o, "key", (int32_t)segs[i].key) == -1 ||
		    json_add_int(o, "uid", segs[i].uid) == -1 ||
		    json_add_int(o, "gid", segs[i].gid) == -1 ||
		    json_add_int(o, "size", (int64_t)segs[i].size) == -1 ||
		    json_add_int(o, "cpid", segs[i].cpid) == -1 ||
		    json_add_int(o, "ctime", segs[i].ctime) == -1) {
			json_object_put(o);
			json_object_put(arr);
			return NULL;
		}
	}
	return arr;
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
			rc = ctl_print_json(ctl_orphans_json(segs, n),
			    JSON_C_TO_STRING_PRETTY);
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
