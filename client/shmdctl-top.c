/*
 * shmdctl top: a live view of shmd. The segment list is read once (List)
 * and then kept current by Watch events on a second connection, so a
 * refresh costs one Status call and a read of /proc/sysvipc/shm (for
 * nattch, which changes without events), whatever the interval.
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "number.h"
#include "shmd.h"
#include "shmdctl.h"
#include "sysv.h"

#define TOP_INTERVAL_MIN	0.1
#define TOP_INTERVAL_MAX	3600.0
/* Whether poll(2) found something to read (or the end) on p. */
#define TOP_READY(p)	((p).revents & (POLLIN | POLLHUP | POLLERR))

/* What the view shows, and what it needs to compute rates. */
struct top {
	struct shmd_conn	*c;		/* Status, and the first List */
	struct shmd_conn	*w;		/* Watch: keeps segs current */
	struct shmd_conn	*failed;	/* to report; NULL: see errno */
	struct shmd_segment	*segs;
	size_t			 nsegs, cap;
	uint64_t		 events;	/* since the last frame */
	struct shmd_status	 st;
	uint64_t		 last_requests;
	double			 last_frame;	/* 0: no frame yet */
	int			 tty;
};

/* Owned per uid, as the view counts it from the segments it sees. */
struct top_uid {
	uid_t		uid;
	uint64_t	segments, bytes;
};

static volatile sig_atomic_t	top_quit, top_resized;

static void
top_signal(int sig)
{
	if (sig == SIGWINCH)
		top_resized = 1;
	else
		top_quit = 1;
}

static double
top_now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The segment named name in the view, or NULL. */
static struct shmd_segment *
top_find(struct top *t, const char *name)
{
	size_t	i;

	for (i = 0; i < t->nsegs; i++)
		if (strcmp(t->segs[i].name, name) == 0)
			return &t->segs[i];
	return NULL;
}

/* One Watch event applied to the view: created adds, the others remove. */
static int
top_apply(struct top *t, enum shmd_event ev, const struct shmd_segment *s)
{
	struct shmd_segment	*old = top_find(t, s->name), *p;

	t->events++;
	if (ev != SHMD_EVENT_CREATED) {
		if (old != NULL)
			*old = t->segs[--t->nsegs];
		return 0;
	}
	if (old != NULL) {
		*old = *s;
		return 0;
	}
	if (t->nsegs == t->cap) {
		if ((p = reallocarray(t->segs, t->cap ? t->cap * 2 : 64,
		    sizeof *p)) == NULL)
			return -1;
		t->segs = p;
		t->cap = t->cap ? t->cap * 2 : 64;
	}
	t->segs[t->nsegs++] = *s;
	return 0;
}

/*
 * Every event the library has or the socket holds now. The events of a
 * segment already in the first List are harmless: created replaces it by
 * name, the others remove what is there.
 */
static int
top_drain(struct top *t)
{
	struct shmd_segment	s;
	enum shmd_event		ev;
	int			rc, has;

	while ((rc = shmd_watch_poll(t->w, &ev, &s, &has)) == SHMD_OK)
		if (has && top_apply(t, ev, &s) == -1) {
			t->failed = NULL;
			errno = ENOMEM;
			return SHMD_ERR_SYSTEM;
		}
	if (rc == SHMD_ERR_AGAIN)
		return SHMD_OK;
	t->failed = t->w;
	return rc;
}

static int
top_cmp_size(const void *a, const void *b)
{
	const struct shmd_segment	*x = a, *y = b;

	if (x->size != y->size)
		return x->size > y->size ? -1 : 1;
	return strcmp(x->name, y->name);
}

static int
top_cmp_shmid(const void *a, const void *b)
{
	const struct sysv_seg	*x = a, *y = b;

	return (x->shmid > y->shmid) - (x->shmid < y->shmid);
}

static int
top_cmp_bytes(const void *a, const void *b)
{
	const struct top_uid	*x = a, *y = b;

	if (x->bytes != y->bytes)
		return x->bytes > y->bytes ? -1 : 1;
	return (x->uid > y->uid) - (x->uid < y->uid);
}

/* nattch as the kernel has it now: events do not follow attaches. */
static void
top_nattch(struct top *t)
{
	struct sysv_seg	*k, key, *hit;
	size_t		 n, i;

	if (sysv_segments(&k, &n) == -1)
		return;		/* the daemon's figures, as last reported */
	if (n == 0) {
		free(k);
		return;
	}
	qsort(k, n, sizeof *k, top_cmp_shmid);
	for (i = 0; i < t->nsegs; i++) {
		key.shmid = t->segs[i].shmid;
		if ((hit = bsearch(&key, k, n, sizeof *k, top_cmp_shmid)) !=
		    NULL)
			t->segs[i].nattch = hit->nattch;
	}
	free(k);
}

/* Per owner uid, from the segments in the view; free *out. */
static int
top_uids(const struct top *t, struct top_uid **out, size_t *nout)
{
	struct top_uid	*u;
	size_t		 n = 0, i, j;

	if ((u = calloc(t->nsegs + 1, sizeof *u)) == NULL)
		return -1;
	for (i = 0; i < t->nsegs; i++) {
		for (j = 0; j < n && u[j].uid != t->segs[i].uid; j++)
			;
		if (j == n)
			u[n++].uid = t->segs[i].uid;
		u[j].segments++;
		u[j].bytes += t->segs[i].size;
	}
	qsort(u, n, sizeof *u, top_cmp_bytes);
	*out = u;
	*nout = n;
	return 0;
}

/* "12/s", or "-" before there are two frames to compare. */
static void
top_rate(char *buf, size_t len, uint64_t count, double secs)
{
	if (secs <= 0)
		snprintf(buf, len, "-");
	else
		snprintf(buf, len, "%.0f/s", (double)count / secs);
}

/* "used/max" against a per-uid limit (0: none; root is not limited). */
static void
top_against(char *buf, size_t len, const char *used, uint64_t max,
    int is_size, uid_t uid)
{
	char	m[24];

	if (max == 0 || uid == 0) {
		snprintf(buf, len, "%s", used);
		return;
	}
	if (is_size)
		number_format_size(max, m, sizeof m);
	else
		snprintf(m, sizeof m, "%llu", (unsigned long long)max);
	snprintf(buf, len, "%s/%s", used, m);
}

/* The frame, as text: totals, usage per uid, segments by size. */
static void
top_frame(struct top *t, FILE *f, double secs)
{
	struct top_uid	*u = NULL;
	size_t		 nu = 0, i;
	char		 req[32], ev[32], bytes[16], up[32], ub[32], a[64], b[64];
	char		 size[16], age[32];
	int		 w = 4;

	top_rate(req, sizeof req, t->st.requests - t->last_requests, secs);
	top_rate(ev, sizeof ev, t->events, secs);
	number_format_size(t->st.bytes, bytes, sizeof bytes);
	ctl_duration((int64_t)(t->st.uptime_usec / 1000000), up, sizeof up);
	fprintf(f, "shmd %s, pid %ld, up %s; clients %llu, requests %s, "
	    "events %s%s\n", t->st.version, (long)t->st.pid, up,
	    (unsigned long long)t->st.clients, req, ev,
	    t->tty ? " (q quits)" : "");
	fprintf(f, "segments %llu (%s), reaped %llu, vanished %llu\n\n",
	    (unsigned long long)t->st.segments, bytes,
	    (unsigned long long)t->st.reaped,
	    (unsigned long long)t->st.vanished);
	if (top_uids(t, &u, &nu) == 0) {
		fprintf(f, "%-12s %14s %16s\n", "USER", "SEGMENTS", "BYTES");
		for (i = 0; i < nu; i++) {
			snprintf(ub, sizeof ub, "%llu",
			    (unsigned long long)u[i].segments);
			top_against(a, sizeof a, ub, t->st.limits.
			    max_segments_per_uid, 0, u[i].uid);
			number_format_size(u[i].bytes, size, sizeof size);
			top_against(b, sizeof b, size, t->st.limits.
			    max_bytes_per_uid, 1, u[i].uid);
			fprintf(f, "%-12s %14s %16s\n", ctl_user(u[i].uid, ub,
			    sizeof ub), a, b);
		}
		free(u);
		fputc('\n', f);
	}
	qsort(t->segs, t->nsegs, sizeof *t->segs, top_cmp_size);
	for (i = 0; i < t->nsegs; i++)
		if ((int)strlen(t->segs[i].name) > w)
			w = (int)strlen(t->segs[i].name);
	fprintf(f, "%-*s %10s %6s %6s %-12s %-10s %s\n", w, "NAME", "SHMID",
	    "SIZE", "NATTCH", "OWNER", "LIFETIME", "AGE");
	for (i = 0; i < t->nsegs; i++) {
		number_format_size(t->segs[i].size, size, sizeof size);
		ctl_age(t->segs[i].created_usec, age, sizeof age);
		fprintf(f, "%-*s %10d %6s %6llu %-12s %-10s %s\n", w,
		    t->segs[i].name, t->segs[i].shmid, size,
		    (unsigned long long)t->segs[i].nattch,
		    ctl_user(t->segs[i].uid, ub, sizeof ub),
		    shmd_lifetime_name(t->segs[i].lifetime), age);
	}
}

/*
 * Draw a frame: on a terminal from the top left, each line cut to the
 * width and the rest of the screen cleared, in one write (no flicker).
 */
static int
top_draw(struct top *t)
{
	struct winsize	 ws;
	FILE		*f;
	char		*text = NULL, *line, *next;
	size_t		 len = 0;
	double		 now = top_now();
	int		 rc, rows = 0;

	if ((rc = shmd_status(t->c, &t->st)) != SHMD_OK) {
		t->failed = t->c;
		return rc;
	}
	top_nattch(t);
	t->failed = NULL;	/* what fails below is ours: errno says */
	if ((f = open_memstream(&text, &len)) == NULL)
		return SHMD_ERR_SYSTEM;
	top_frame(t, f, t->last_frame > 0 ? now - t->last_frame : 0);
	if (fclose(f) != 0) {
		free(text);
		return SHMD_ERR_SYSTEM;
	}
	t->last_frame = now;
	t->last_requests = t->st.requests;
	t->events = 0;
	if (!t->tty) {
		fputs(text, stdout);
		free(text);
		return SHMD_OK;
	}
	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == -1 || ws.ws_row == 0)
		ws.ws_row = 24, ws.ws_col = 80;
	fputs("\033[H", stdout);
	for (line = text; line != NULL && *line != '\0' && rows < ws.ws_row - 1;
	    line = next) {
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		printf("%.*s\033[K\n", ws.ws_col, line);
		rows++;
	}
	fputs("\033[J", stdout);
	fflush(stdout);
	free(text);
	return SHMD_OK;
}

/* The terminal as it was, to put back. */
static struct termios	top_saved;
static int		top_raw;

static void
top_terminal(int on)
{
	struct termios	raw;

	if (on) {
		if (isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO,
		    &top_saved) == 0) {
			raw = top_saved;
			raw.c_lflag &= ~(tcflag_t)(ICANON | ECHO);
			raw.c_cc[VMIN] = 1;
			raw.c_cc[VTIME] = 0;
			top_raw = tcsetattr(STDIN_FILENO, TCSAFLUSH, &raw) == 0;
		}
		/* the alternate screen, without the cursor */
		fputs("\033[?1049h\033[?25l\033[H\033[2J", stdout);
	} else {
		fputs("\033[?25h\033[?1049l", stdout);
		if (top_raw)
			tcsetattr(STDIN_FILENO, TCSAFLUSH, &top_saved);
	}
	fflush(stdout);
}

/*
 * Read the keys typed: -1 when one is q (quit), 0 when the terminal is
 * gone (stop reading it), else 1.
 */
static int
top_key(void)
{
	char	buf[64];
	ssize_t	n = read(STDIN_FILENO, buf, sizeof buf);

	if (n == -1 && (errno == EINTR || errno == EAGAIN))
		return 1;
	if (n <= 0)
		return 0;
	if (memchr(buf, 'q', (size_t)n) != NULL ||
	    memchr(buf, 'Q', (size_t)n) != NULL)
		return -1;
	return 1;
}

/*
 * SIGINT and SIGTERM (quit) and SIGWINCH (redraw) set flags, and are
 * blocked but inside ppoll() (*during: the mask there), so none comes
 * between a look at the flags and the wait, nor before the terminal is
 * put back.
 */
static void
top_signals(sigset_t *during)
{
	struct sigaction	sa;
	sigset_t		block;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = top_signal;
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGWINCH);
	sigprocmask(SIG_BLOCK, &block, during);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGWINCH, &sa, NULL);
}

/*
 * Refresh every interval and on each resize; in between, apply Watch's
 * events as they come. Ends on q, SIGINT or SIGTERM (0), or when the
 * daemon goes (1).
 */
static int
top_loop(struct top *t, double interval, const sigset_t *during)
{
	struct pollfd		 pfd[2];
	struct timespec		 ts;
	double			 next, left;
	int			 rc, keys = top_raw;
	nfds_t			 n;

	next = top_now() + interval;
	for (;;) {
		pfd[0].fd = shmd_fd(t->w);
		pfd[0].events = POLLIN;
		pfd[1].fd = STDIN_FILENO;
		pfd[1].events = POLLIN;
		pfd[0].revents = pfd[1].revents = 0;
		n = keys ? 2 : 1;
		left = next - top_now();
		if (left < 0)
			left = 0;
		ts.tv_sec = (time_t)left;
		ts.tv_nsec = (long)((left - (double)ts.tv_sec) * 1e9);
		if (ppoll(pfd, n, &ts, during) == -1 && errno != EINTR) {
			t->failed = NULL;
			return SHMD_ERR_SYSTEM;
		}
		if (top_quit)
			return SHMD_OK;
		if (TOP_READY(pfd[0]) && (rc = top_drain(t)) != SHMD_OK)
			return rc;
		if (keys && TOP_READY(pfd[1]) && (keys = top_key(), keys == -1))
			return SHMD_OK;
		if (top_resized || top_now() >= next) {
			top_resized = 0;
			if ((rc = top_draw(t)) != SHMD_OK)
				return rc;
			next += interval;
			if (next < top_now())
				next = top_now() + interval;
		}
	}
}

int
cmd_top(struct ctl *ctl, struct shmd_conn *c)
{
	struct top		 t;
	struct shmd_segment	*listed;
	sigset_t		 during;
	double			 interval = 1;
	char			*end;
	size_t			 n;
	int			 rc, saved = 0;

	if (ctl->interval != NULL) {
		errno = 0;
		interval = strtod(ctl->interval, &end);
		if (errno != 0 || *end != '\0' || end == ctl->interval ||
		    !isfinite(interval) || interval < TOP_INTERVAL_MIN ||
		    interval > TOP_INTERVAL_MAX)
			return ctl_usage_error("bad interval '%s': seconds, "
			    "0.1 to 3600", ctl->interval);
	}
	memset(&t, 0, sizeof t);
	t.c = c;
	shmd_status_init(&t.st);
	t.tty = isatty(STDOUT_FILENO);
	/* Watch before List: nothing that happens in between is missed. */
	if (t.tty) {
		if ((rc = ctl_connect_again(&t.w)) != SHMD_OK)
			return ctl_refused(c, "top", NULL, rc);
		if ((rc = shmd_watch(t.w)) != SHMD_OK) {
			rc = ctl_refused(t.w, "top", NULL, rc);
			shmd_disconnect(t.w);
			return rc;
		}
	}
	if ((rc = shmd_list(c, &listed, &n)) != SHMD_OK) {
		shmd_disconnect(t.w);
		return ctl_refused(c, "top", NULL, rc);
	}
	/* the view's own array, which events grow */
	t.cap = n + 64;
	if ((t.segs = calloc(t.cap, sizeof *t.segs)) == NULL) {
		shmd_free(listed);
		shmd_disconnect(t.w);
		fprintf(stderr, "shmdctl: top: out of memory\n");
		return EXIT_REFUSED;
	}
	memcpy(t.segs, listed, n * sizeof *listed);
	t.nsegs = n;
	shmd_free(listed);
	if (!t.tty)
		rc = top_draw(&t);	/* one snapshot */
	else {
		top_signals(&during);
		top_terminal(1);
		if ((rc = top_drain(&t)) == SHMD_OK &&
		    (rc = top_draw(&t)) == SHMD_OK)
			rc = top_loop(&t, interval, &during);
		saved = errno;
		top_terminal(0);
		errno = saved;
	}
	if (rc == SHMD_ERR_SYSTEM && t.failed == NULL) {
		fprintf(stderr, "shmdctl: top: %s\n", strerror(errno));
		rc = EXIT_REFUSED;
	} else if (rc != SHMD_OK)
		rc = ctl_refused(t.failed != NULL ? t.failed : c, "top", NULL,
		    rc);
	shmd_disconnect(t.w);
	free(t.segs);
	return rc;
}
