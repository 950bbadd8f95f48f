/* The daemon's configuration: defaults, shmd.conf, --key=value options. */
#ifndef SHMD_CONF_H
#define SHMD_CONF_H

#include <stddef.h>
#include <stdint.h>

#include "log.h"

#define CONF_DEFAULT_FILE	SYSCONFDIR "/shmd/shmd.conf"

struct conf {
	char		*socket;
	unsigned	 socket_mode;
	char		*state_dir;
	uint32_t	 key_base;
	uint32_t	 key_count;
	uint64_t	 max_segment_size;
	uint64_t	 max_segments_per_uid;	/* 0: unlimited */
	uint64_t	 max_bytes_per_uid;	/* 0: unlimited */
	uint64_t	 max_clients;
	uint64_t	 max_message_size;
	uint64_t	 attach_timeout;	/* seconds */
	enum log_level	 log_level;
};

/* One key of the table, for --help and for Status's limits. */
struct conf_key {
	const char	*name;
	const char	*help;
	int		 is_limit;	/* reported in Status's limits */
};

extern const struct conf_key conf_keys[];
extern const size_t conf_nkeys;

/* Defaults of DAEMON.md; no allocation that conf_finish does not free. */
int	conf_init(struct conf *);
void	conf_finish(struct conf *);

/*
 * Set one key from its text. -1 with a reason when the key is unknown
 * (reason "unknown key") or the value bad.
 */
int	conf_set(struct conf *, const char *key, const char *value,
	    char *why, size_t whylen);

/*
 * Read a configuration file over *cfg. A missing file is an error unless
 * missing_ok. On error, -1 and a message naming the file, line and key.
 */
int	conf_load(struct conf *, const char *path, int missing_ok,
	    char *err, size_t errlen);

/* Check the keys against each other (key range). -1 with a message. */
int	conf_check(const struct conf *, char *err, size_t errlen);

/* A key's current value as an integer (limits); -1 for unknown keys. */
int	conf_get_int(const struct conf *, const char *key, uint64_t *out);

/* The kernel's shmmax, capped at 2^63-1 (the default max_segment_size). */
uint64_t conf_kernel_shmmax(void);

#endif
