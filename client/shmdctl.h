/* shmdctl: what its command files share. */
#ifndef SHMD_SHMDCTL_H
#define SHMD_SHMDCTL_H

#include <stdio.h>
#include <sys/types.h>

#include "shmd.h"

#define EXIT_REFUSED	1
#define EXIT_USAGE	2

/* Options, as given; each command says which it takes. */
#define OPT_JSON	0x01
#define OPT_MODE	0x02
#define OPT_LIFETIME	0x04
#define OPT_KEY		0x08
#define OPT_OWNER	0x10
#define OPT_OFFSET	0x20
#define OPT_SIZE	0x40
#define OPT_ATTACHERS	0x80
#define OPT_OLDER	0x100
#define OPT_REMOVE	0x200
#define OPT_PROMETHEUS	0x400
#define OPT_EXIST_OK	0x800
#define OPT_TIMEOUT	0x1000
#define OPT_INTERVAL	0x2000
#define OPT_HUGE	0x4000
#define OPT_PAGE_SIZE	0x8000
#define OPT_LOCKED	0x10000
#define OPT_NUMA	0x20000

struct ctl {
	const char	*socket;
	int		 given;		/* OPT_* seen */
	const char	*mode, *lifetime, *key, *owner, *offset, *size;
	const char	*older_than, *timeout, *interval, *page_size, *numa;
	char		**args;
	int		 nargs;
};

struct ctl_cmd {
	const char	*name;
	const char	*usage;
	int		 nargs;
	int		 options;
	int		(*fn)(struct ctl *, struct shmd_conn *);
};

struct sysv_attacher;

int	ctl_usage_error(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2)));
/* The daemon's refusal of a call about a segment: one line, exit 1. */
int	ctl_refused(struct shmd_conn *, const char *what, const char *name,
	    int err);
/* Another connection to the socket the first one reached. */
int	ctl_connect_again(struct shmd_conn **);
const char *ctl_user(uid_t, char *buf, size_t len);
/* secs as "59s", "119m", "47h", "3d": the unit that keeps it short. */
void	ctl_duration(int64_t secs, char *buf, size_t len);
void	ctl_age(int64_t created_usec, char *buf, size_t len);
struct textbuf;
/*
 * A segment as the protocol's Segment object (libshmd's text), and its
 * attachers as one more member when natt >= 0; 0, or -1.
 */
int	ctl_segment_text(struct textbuf *, const struct shmd_segment *,
	    const struct sysv_attacher *, ssize_t natt);
/*
 * Print the JSON text in tb (which it frees), laid out by libshmd as
 * flags (SHMD_JSON_*) say, and a newline; 0, or 1 (out of memory).
 */
int	ctl_print_json(struct textbuf *, int flags);

/* shmdctl-admin.c */
int	cmd_status(struct ctl *, struct shmd_conn *);
int	cmd_orphans(struct ctl *, struct shmd_conn *);
/* shmdctl-top.c */
int	cmd_top(struct ctl *, struct shmd_conn *);

/* The attachers of shmid, for a table: "pid:command, ..." */
void	ctl_attachers_text(const struct sysv_attacher *, size_t n, int shmid,
	    char *buf, size_t len);

#endif
