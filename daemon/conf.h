/*
 * The daemon's configuration: defaults, shmd.conf, --key=value options.
 * One table (conf_keys) describes every key: its name, type, default,
 * range, whether SIGHUP reloads it and whether Status reports it as a
 * limit. The file parser, the options, --help, Status and reload all
 * read that table, so a new key is one row.
 */
#ifndef SHMD_CONF_H
#define SHMD_CONF_H

#include <stddef.h>
#include <stdint.h>

#include "log.h"

#define CONF_DEFAULT_FILE	SYSCONFDIR "/shmd/shmd.conf"
/* A missing directory is fine only here (shmd.conf(5)). */
#define CONF_DEFAULT_SEGMENTS_DIR	SYSCONFDIR "/shmd/segments.d"

struct conf {
	char		*socket;
	unsigned	 socket_mode;
	char		*admin_socket;		/* "": none */
	char		*state_dir;
	uint32_t	 key_base;
	uint32_t	 key_count;
	uint64_t	 max_segment_size;
	uint64_t	 max_segments_per_uid;	/* 0: unlimited */
	uint64_t	 max_bytes_per_uid;	/* 0: unlimited */
	uint64_t	 max_huge_bytes_per_uid;	/* 0: none (root: any) */
	uint64_t	 max_locked_bytes_per_uid;	/* 0: none (root: any) */
	uint64_t	 max_clients;
	uint64_t	 max_clients_per_uid;	/* 0: no cap; root: never */
	uint64_t	 max_message_size;
	uint64_t	 max_output_bytes;	/* queued for all clients */
	uint64_t	 max_output_bytes_per_uid; /* for one uid; root: never */
	uint64_t	 attach_timeout;	/* seconds */
	char		*segments_dir;		/* declared segments; "": none */
	enum log_level	 log_level;
};

enum conf_type {
	CONF_STRING,
	CONF_OCTAL,
	CONF_INT,	/* decimal or 0x */
	CONF_SIZE,	/* decimal or 0x, K/M/G/T */
	CONF_LOGLEVEL,
};

#define CONF_RELOAD	0x1	/* SIGHUP applies a new value */
#define CONF_LIMIT	0x2	/* reported in Status's limits */
#define CONF_EMPTY	0x4	/* a string that may be empty */

/* One key of the configuration. */
struct conf_key {
	const char	*name;
	enum conf_type	 type;
	size_t		 offset;	/* of its field in struct conf */
	int		 width;		/* bytes of an integer field */
	const char	*def;		/* default as text; NULL: see conf_init */
	uint64_t	 min, max;	/* integers */
	unsigned	 flags;
	const char	*help;
};

extern const struct conf_key conf_keys[];
extern const size_t conf_nkeys;

/* Defaults of shmd(8); no allocation that conf_finish does not free. */
int	conf_init(struct conf *);
void	conf_finish(struct conf *);

/*
 * value as a number of number_parse()'s flags, in [min, max]: 0, or -1
 * with why ("'VALUE': not a number", "'VALUE' is out of range (..)").
 */
int	conf_number(const char *value, int flags, uint64_t min, uint64_t max,
	    uint64_t *out, char *why, size_t whylen);
/*
 * Set one key from its text. -1 with a reason when the key is unknown
 * (reason "unknown key") or the value bad.
 */
int	conf_set(struct conf *, const char *key, const char *value,
	    char *why, size_t whylen);

/*
 * How conf_parse() hands a file's lines to its reader: key() for each
 * "key = value", section() for each "[text]" (NULL: a file without
 * sections, where such a line is an error). Each returns 0, or -1 with
 * a reason that conf_parse() prefixes with the file, line (and key).
 */
struct conf_parser {
	int	(*section)(void *arg, const char *text, int line, char *why,
		    size_t whylen);
	int	(*key)(void *arg, const char *key, const char *value,
		    char *why, size_t whylen);
	void	*arg;
};

/*
 * Read a file of shmd.conf's syntax (key = value, # comments, blank
 * lines; sections when cp takes them). A missing file is an error unless
 * missing_ok. On error, -1 and a message naming the file, line and key.
 */
int	conf_parse(const char *path, int missing_ok,
	    const struct conf_parser *cp, char *err, size_t errlen);

/*
 * Read a configuration file over *cfg. A missing file is an error unless
 * missing_ok. On error, -1 and a message naming the file, line and key.
 */
int	conf_load(struct conf *, const char *path, int missing_ok,
	    char *err, size_t errlen);

/*
 * Check the keys against each other (key range), and fill in the
 * defaults that follow from other keys (admin_socket beside socket).
 * -1 with a message.
 */
int	conf_check(struct conf *, char *err, size_t errlen);

/* A key's current value as an integer; -1 for unknown and text keys. */
int	conf_get_int(const struct conf *, const char *key, uint64_t *out);
/* The same for a row of the table. */
uint64_t conf_key_int(const struct conf *, const struct conf_key *);

/*
 * SIGHUP: copy every CONF_RELOAD key of next into cur, calling changed()
 * for each whose value differs. Returns how many keys that are not
 * reloaded differ (they take effect at the next start).
 */
int	conf_reload(struct conf *cur, const struct conf *next,
	    void (*changed)(const struct conf_key *, const struct conf *old,
	    const struct conf *now));

/* A key's value as text, for logs and --help ("0666", "info"). */
void	conf_key_text(const struct conf *, const struct conf_key *,
	    char *buf, size_t len);

/* The kernel's shmmax, capped at 2^63-1 (the default max_segment_size). */
uint64_t conf_kernel_shmmax(void);

#endif
