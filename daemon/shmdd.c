/* The daemon's life: command line, configuration, signals, the loop. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/event.h>

#include "conf.h"
#include "declared.h"
#include "log.h"
#include "notify.h"
#include "recover.h"
#include "server.h"
#include "shmdd.h"
#include "state.h"

#define EXIT_USAGE	2

/* A --key=value given on the command line; it overrides the file. */
struct override {
	const char	*key;
	const char	*value;
};

struct shmdd {
	struct server		 srv;
	struct event_base	*base;
	const char		*config_path;
	int			 config_named;	/* --config was given */
	struct override		*overrides;
	size_t			 noverrides;
	struct declared		 declared;	/* segments_dir's, as last read */
	int			 exit_code;
};

static void	shmdd_budget_fds(struct server *);

static void
shmdd_usage(FILE *f)
{
	size_t	i;
	char	opt[64], *p;

	fprintf(f,
	    "usage: shmd [--config FILE] [--socket PATH] [--state-dir DIR] "
	    "[--KEY=VALUE ...]\n"
	    "\n"
	    "System V shared memory broker: named, owned, limited segments.\n"
	    "Runs in the foreground and logs to stderr.\n"
	    "\n"
	    "  --config FILE   configuration file (default %s)\n"
	    "  --help          show this help and exit\n"
	    "  --version       show the version and exit\n"
	    "\n"
	    "Every configuration key is also an option (see shmd.conf(5)):\n",
	    CONF_DEFAULT_FILE);
	for (i = 0; i < conf_nkeys; i++) {
		snprintf(opt, sizeof opt, "--%s=VALUE", conf_keys[i].name);
		for (p = opt; *p != '\0'; p++)
			if (*p == '_')
				*p = '-';
		/* (a key with no fixed default says its own in its help) */
		fprintf(f, "  %-28s %s\n  %-28s (%s%s%s)\n", opt,
		    conf_keys[i].help, "", conf_keys[i].def != NULL ?
		    "default " : "", conf_keys[i].def != NULL ?
		    conf_keys[i].def : "default above",
		    conf_keys[i].flags & CONF_RELOAD ? "" :
		    "; SIGHUP: at the next start");
	}
}

/* Defaults, then the file, then the command line. Exits 2 on an error. */
static int
shmdd_configure(struct shmdd *d, struct conf *cfg, char *err, size_t errlen)
{
	char	why[256];
	size_t	i;

	if (conf_init(cfg) == -1) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (conf_load(cfg, d->config_path, !d->config_named, err,
	    errlen) == -1)
		goto fail;
	for (i = 0; i < d->noverrides; i++) {
		if (conf_set(cfg, d->overrides[i].key, d->overrides[i].value,
		    why, sizeof why) == -1) {
			char	opt[64], *p;

			snprintf(opt, sizeof opt, "%s", d->overrides[i].key);
			for (p = opt; *p != '\0'; p++)
				if (*p == '_')
					*p = '-';
			snprintf(err, errlen, "option --%s (key '%s'): %s", opt,
			    d->overrides[i].key, why);
			goto fail;
		}
	}
	if (conf_check(cfg, err, errlen) == -1)
		goto fail;
	return 0;
fail:
	conf_finish(cfg);
	return -1;
}

static int
shmdd_parse_args(struct shmdd *d, int argc, char **argv)
{
	struct option	*opts;
	char		*names;
	size_t		 i, j;
	int		 ch, idx, rc = -1;

	/* One long option per configuration key, underscores as dashes. */
	opts = calloc(conf_nkeys + 4, sizeof *opts);
	names = calloc(conf_nkeys, 64);
	if (opts == NULL || names == NULL) {
		fprintf(stderr, "shmd: out of memory\n");
		goto out;
	}
	for (i = 0; i < conf_nkeys; i++) {
		char *n = names + i * 64;

		snprintf(n, 64, "%s", conf_keys[i].name);
		for (j = 0; n[j] != '\0'; j++)
			if (n[j] == '_')
				n[j] = '-';
		opts[i].name = n;
		opts[i].has_arg = required_argument;
		opts[i].val = 0;
	}
	opts[i++] = (struct option){ "config", required_argument, NULL, 'c' };
	opts[i++] = (struct option){ "help", no_argument, NULL, 'h' };
	opts[i++] = (struct option){ "version", no_argument, NULL, 'V' };

	d->overrides = calloc((size_t)argc, sizeof *d->overrides);
	if (d->overrides == NULL) {
		fprintf(stderr, "shmd: out of memory\n");
		goto out;
	}
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":", opts, &idx)) != -1) {
		switch (ch) {
		case 0:
			d->overrides[d->noverrides].key = conf_keys[idx].name;
			d->overrides[d->noverrides].value = optarg;
			d->noverrides++;
			break;
		case 'c':
			d->config_path = optarg;
			d->config_named = 1;
			break;
		case 'h':
			shmdd_usage(stdout);
			rc = 1;
			goto out;
		case 'V':
			printf("shmd %s\n", PACKAGE_VERSION);
			rc = 1;
			goto out;
		case ':':
			fprintf(stderr, "shmd: option %s needs a value\n",
			    argv[optind - 1]);
			rc = -2;
			goto out;
		default:
			fprintf(stderr, "shmd: unknown option %s (see shmd "
			    "--help)\n", argv[optind - 1]);
			rc = -2;
			goto out;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "shmd: unexpected argument '%s'\n",
		    argv[optind]);
		rc = -2;
		goto out;
	}
	rc = 0;
out:
	/* The overrides point into argv and at the table's names. */
	free(opts);
	free(names);
	return rc;
}

static void
shmdd_stop(evutil_socket_t sig, short what, void *arg)
{
	struct shmdd	*d = arg;

	log_info("%s: stopping", strsignal((int)sig));
	notify_send("STOPPING=1");
	d->exit_code = 0;
	event_base_loopbreak(d->base);
}

/* SIGHUP, for each reloaded key whose value changed. */
static void
shmdd_reloaded(const struct conf_key *key, const struct conf *old,
    const struct conf *now)
{
	char	a[256], b[256];

	conf_key_text(old, key, a, sizeof a);
	conf_key_text(now, key, b, sizeof b);
	log_info("reload: %s %s -> %s", key->name, a, b);
}

/*
 * SIGHUP: read segments_dir again and make what it declares; a bad file
 * keeps the declarations as they were.
 */
static void
shmdd_redeclare(struct shmdd *d)
{
	struct declared	next;
	char		err[512];

	if (declared_load(&next, d->srv.conf.segments_dir, err,
	    sizeof err) == -1) {
		log_warnx("reload: %s; keeping the declared segments as they "
		    "were", err);
		return;
	}
	declared_free(&d->declared);
	d->declared = next;
	declared_apply(&d->declared, &d->srv.life, d->srv.pid, d->srv.euid);
}

/* SIGHUP: read the file again; every key the table marks reloads. */
static void
shmdd_reload(evutil_socket_t sig, short what, void *arg)
{
	struct shmdd	*d = arg;
	struct conf	 cfg;
	char		 err[512];

	notify_send("RELOADING=1");
	if (shmdd_configure(d, &cfg, err, sizeof err) == -1) {
		log_warnx("reload: %s; keeping the current configuration",
		    err);
		notify_send("READY=1");
		return;
	}
	if (conf_reload(&d->srv.conf, &cfg, shmdd_reloaded) > 0)
		log_notice("reload: socket, socket_mode, admin_socket, "
		    "state_dir and segments_dir take effect at the next start");
	conf_finish(&cfg);
	log_set_level(d->srv.conf.log_level);
	lifecycle_reconfigure(&d->srv.life);
	shmdd_budget_fds(&d->srv);
	shmdd_redeclare(d);
	log_info("reloaded %s", d->config_path);
	notify_send("READY=1");
}

/* Descriptors the daemon keeps for itself (log, state, listener, ...). */
#define SHMDD_OWN_FDS	64

/* The soft descriptor limit raised to the hard one: what there is. */
static rlim_t
shmdd_raise_nofile(void)
{
	struct rlimit	rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
		return 1024;
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
			log_warn("setrlimit(RLIMIT_NOFILE)");
		getrlimit(RLIMIT_NOFILE, &rl);
	}
	return rl.rlim_cur;
}

/*
 * Share the descriptors: every connection shmd may accept (root's
 * reserve included) and its own come first; followed processes get the
 * rest as pidfds, and are polled in /proc beyond that.
 */
static void
shmdd_budget_fds(struct server *srv)
{
	rlim_t		nofile = shmdd_raise_nofile();
	uint64_t	conns = srv->conf.max_clients + SERVER_ROOT_RESERVE +
			    SHMDD_OWN_FDS;

	procwatch_set_budget(&srv->life.procs, nofile > conns ?
	    (size_t)(nofile - conns) : 0);
	if (nofile < conns)
		log_warnx("the descriptor limit (%llu) is below max_clients + "
		    "%d: raise LimitNOFILE= or lower max_clients",
		    (unsigned long long)nofile, SERVER_ROOT_RESERVE +
		    SHMDD_OWN_FDS);
}

/* mkdir for one missing level; an existing directory is fine. */
static int
shmdd_mkdir(const char *path, mode_t mode)
{
	struct stat	sb;

	if (mkdir(path, mode) == 0)
		return 0;
	if (errno == EEXIST && stat(path, &sb) == 0 && S_ISDIR(sb.st_mode))
		return 0;
	if (errno == EEXIST)
		errno = ENOTDIR;
	return -1;
}

/* The directory of a socket path, made when missing (one level). */
static int
shmdd_prepare_socket_dir(const char *path)
{
	char	*dir, *slash;

	if (*path == '\0')
		return 0;	/* (admin_socket empty: none) */
	if ((dir = strdup(path)) == NULL)
		return -1;
	if ((slash = strrchr(dir, '/')) != NULL && slash != dir) {
		*slash = '\0';
		if (shmdd_mkdir(dir, 0755) == -1) {
			log_warn("socket directory %s", dir);
			free(dir);
			return -1;
		}
	}
	free(dir);
	return 0;
}

/*
 * Take back what an earlier run left, before answering anyone: the steps
 * of recover.h, in order. -1 (logged) when the state cannot be used.
 */
static int
shmdd_recover(struct server *srv)
{
	struct lifecycle	*lc = &srv->life;
	struct state_loaded	 loaded;
	struct recover_kernel	 kernel;
	size_t			 gone, adopted;
	int			 rc;

	if (state_load(&lc->state, &loaded) == -1) {
		log_warn("state: cannot read %s/%s", srv->conf.state_dir,
		    STATE_FILE);
		return -1;
	}
	recover_scan(&kernel, &loaded);
	gone = recover_verify(&loaded, &kernel);
	lc->vanished += gone;
	adopted = recover_adopt(lc, &loaded);
	recover_remove_leftover(lc, &loaded, &kernel);
	recover_kernel_free(&kernel);
	/*
	 * A log that still says what is true goes on; else a new one. One
	 * that cannot be written now is not fatal: shmd serves, refuses
	 * changes with StateError, and writes it once it can (state.h).
	 */
	rc = state_resume(&lc->state, &loaded, &lc->registry, gone);
	state_loaded_free(&loaded);
	if (rc == -1)
		log_warn("state: cannot write %s/%s; changes are refused until "
		    "it can be", srv->conf.state_dir, STATE_FILE);
	log_info("recovery: %zu segments taken back, %zu gone", adopted, gone);
	return 0;
}

int
shmdd_main(int argc, char **argv)
{
	struct shmdd	 d;
	struct conf	 cfg;
	struct event	*ev_term = NULL, *ev_int = NULL, *ev_hup = NULL;
	locale_t	 cloc = (locale_t)0;
	char		 err[512];
	int		 rc, fd, admin_fd;

	memset(&d, 0, sizeof d);
	d.config_path = CONF_DEFAULT_FILE;
	d.exit_code = 1;
	log_init("shmd", LOG_LEVEL_INFO);

	if ((rc = shmdd_parse_args(&d, argc, argv)) != 0) {
		free(d.overrides);
		return rc == 1 ? 0 : EXIT_USAGE;
	}
	if (shmdd_configure(&d, &cfg, err, sizeof err) == -1) {
		fprintf(stderr, "shmd: %s\n", err);
		free(d.overrides);
		return EXIT_USAGE;
	}
	/* A declaration's error is the configuration's: before anything. */
	if (declared_load(&d.declared, cfg.segments_dir, err,
	    sizeof err) == -1) {
		fprintf(stderr, "shmd: %s\n", err);
		conf_finish(&cfg);
		free(d.overrides);
		return EXIT_USAGE;
	}
	log_set_level(cfg.log_level);
	signal(SIGPIPE, SIG_IGN);
	/*
	 * json-c switches LC_NUMERIC to "C" around every parse (duplocale,
	 * newlocale, freelocale: a fifth of parsing a call). On glibc's own
	 * C locale object those are no-ops. shmd never uses another locale.
	 */
	if ((cloc = newlocale(LC_ALL_MASK, "C", (locale_t)0)) != (locale_t)0)
		uselocale(cloc);

	if ((d.base = event_base_new()) == NULL ||
	    event_base_priority_init(d.base, LIFECYCLE_PRIORITIES) == -1) {
		log_errx("cannot create the event loop");
		conf_finish(&cfg);
		declared_free(&d.declared);
		free(d.overrides);
		return 1;
	}
	if (server_init(&d.srv, d.base, &cfg) == -1) {
		log_errx("out of memory");
		goto out;
	}
	conf_finish(&cfg);
	shmdd_budget_fds(&d.srv);
	if (state_open(&d.srv.life.state, d.srv.conf.state_dir, err,
	    sizeof err) == -1) {
		log_errx("state directory %s: %s", d.srv.conf.state_dir, err);
		d.exit_code = EXIT_USAGE;
		goto out;
	}
	if (shmdd_prepare_socket_dir(d.srv.conf.socket) == -1 ||
	    shmdd_prepare_socket_dir(d.srv.conf.admin_socket) == -1 ||
	    shmdd_recover(&d.srv) == -1)
		goto out;
	if (lifecycle_start(&d.srv.life) == -1) {
		log_errx("cannot start the reaper");
		goto out;
	}
	/* Declared segments exist before anyone can ask for them. */
	declared_apply(&d.declared, &d.srv.life, d.srv.pid, d.srv.euid);
	if (notify_listen_fds(&fd, &admin_fd) == -1 ||
	    server_listen(&d.srv, fd, admin_fd) == -1)
		goto out;

	ev_term = evsignal_new(d.base, SIGTERM, shmdd_stop, &d);
	ev_int = evsignal_new(d.base, SIGINT, shmdd_stop, &d);
	ev_hup = evsignal_new(d.base, SIGHUP, shmdd_reload, &d);
	if (ev_term == NULL || ev_int == NULL || ev_hup == NULL ||
	    evsignal_add(ev_term, NULL) == -1 ||
	    evsignal_add(ev_int, NULL) == -1 ||
	    evsignal_add(ev_hup, NULL) == -1) {
		log_errx("cannot watch signals");
		goto out;
	}
	if (notify_init(d.base, &d.srv) == -1)
		goto out;
	log_info("shmd %s ready on %s%s%s (pid %ld, uid %lu)",
	    PACKAGE_VERSION, d.srv.main.path != NULL ? d.srv.main.path :
	    d.srv.main.fd != -1 ? "an activated socket" : "no main socket",
	    d.srv.admin.fd == -1 ? "" : ", root's on ",
	    d.srv.admin.fd == -1 ? "" : d.srv.admin.path != NULL ?
	    d.srv.admin.path : "an activated socket",
	    (long)d.srv.pid, (unsigned long)d.srv.euid);
	notify_ready(&d.srv);
	if (event_base_dispatch(d.base) == -1) {
		log_errx("event loop failed");
		goto out;
	}
	/* Leave a compact state for the next start. */
	if (state_compact(&d.srv.life.state, &d.srv.life.registry) == -1)
		log_warn("state: cannot write the state at exit");
	d.exit_code = 0;
out:
	notify_finish();
	server_unlisten(&d.srv);
	if (ev_term != NULL)
		event_free(ev_term);
	if (ev_int != NULL)
		event_free(ev_int);
	if (ev_hup != NULL)
		event_free(ev_hup);
	server_finish(&d.srv);
	event_base_free(d.base);
	declared_free(&d.declared);
	free(d.overrides);
	if (cloc != (locale_t)0) {
		uselocale(LC_GLOBAL_LOCALE);
		freelocale(cloc);
	}
	return d.exit_code;
}
