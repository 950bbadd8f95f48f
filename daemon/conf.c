/* The daemon's configuration: defaults, shmd.conf, --key=value options. */
#include "config.h"
#include "conf.h"

#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "number.h"

enum conf_type {
	CONF_STRING,
	CONF_OCTAL,
	CONF_INT,	/* decimal or 0x */
	CONF_SIZE,	/* decimal or 0x, K/M/G/T */
	CONF_LOGLEVEL,
};

struct conf_spec {
	const char		*name;
	enum conf_type	 type;
	size_t			 offset;
	int			 width;		/* bytes of an integer field */
	uint64_t		 min, max;
};

#define INT_FIELD(f) offsetof(struct conf, f), (int)sizeof(((struct conf *)0)->f)

static const struct conf_spec conf_specs[] = {
	{ "socket", CONF_STRING, offsetof(struct conf, socket), 0, 0, 0 },
	{ "socket_mode", CONF_OCTAL, INT_FIELD(socket_mode), 0, 0777 },
	{ "state_dir", CONF_STRING, offsetof(struct conf, state_dir), 0,
	  0, 0 },
	{ "key_base", CONF_INT, INT_FIELD(key_base), 1, UINT32_MAX },
	{ "key_count", CONF_INT, INT_FIELD(key_count), 1, UINT32_MAX },
	{ "max_segment_size", CONF_SIZE, INT_FIELD(max_segment_size), 1,
	  INT64_MAX },
	{ "max_segments_per_uid", CONF_INT, INT_FIELD(max_segments_per_uid),
	  0, INT64_MAX },
	{ "log_level", CONF_LOGLEVEL, offsetof(struct conf, log_level), 0,
	  0, 0 },
	{ "max_bytes_per_uid", CONF_SIZE, INT_FIELD(max_bytes_per_uid), 0,
	  INT64_MAX },
	{ "max_clients", CONF_INT, INT_FIELD(max_clients), 1, 1000000 },
	{ "max_message_size", CONF_SIZE, INT_FIELD(max_message_size), 1024,
	  64 << 20 },
	{ "attach_timeout", CONF_INT, INT_FIELD(attach_timeout), 1,
	  INT32_MAX },
};

const struct conf_key conf_keys[] = {
	{ "socket", "listening socket (when not socket-activated)", 0 },
	{ "socket_mode", "its permission bits, octal", 0 },
	{ "state_dir", "where state survives a restart (tmpfs)", 0 },
	{ "key_base", "first key of the allocated range", 0 },
	{ "key_count", "size of that range", 0 },
	{ "max_segment_size", "largest segment a call may ask for", 1 },
	{ "max_segments_per_uid", "segments one owner may hold (0: no limit)",
	  1 },
	{ "log_level", "debug, info, notice, warning or err", 0 },
	{ "max_bytes_per_uid", "bytes one owner may hold (0: no limit)", 1 },
	{ "max_clients", "open connections at once", 1 },
	{ "max_message_size", "largest message accepted", 1 },
	{ "attach_timeout", "seconds a never-attached detach segment lives",
	  1 },
};
const size_t conf_nkeys = sizeof conf_keys / sizeof conf_keys[0];

#define NSPECS (sizeof conf_specs / sizeof conf_specs[0])

uint64_t
conf_kernel_shmmax(void)
{
	FILE			*f;
	unsigned long long	 v = INT64_MAX;

	if ((f = fopen("/proc/sys/kernel/shmmax", "r")) != NULL) {
		if (fscanf(f, "%llu", &v) != 1)
			v = INT64_MAX;
		fclose(f);
	}
	if (v > INT64_MAX)
		v = INT64_MAX;
	return v;
}

int
conf_init(struct conf *cfg)
{
	memset(cfg, 0, sizeof *cfg);
	cfg->socket = strdup("/run/shmd/shmd.sock");
	cfg->state_dir = strdup("/run/shmd/state");
	if (cfg->socket == NULL || cfg->state_dir == NULL) {
		conf_finish(cfg);
		return -1;
	}
	cfg->socket_mode = 0666;
	cfg->key_base = 0x73680000;
	cfg->key_count = 65536;
	cfg->max_segment_size = conf_kernel_shmmax();
	cfg->max_segments_per_uid = 1024;
	cfg->max_bytes_per_uid = 0;
	cfg->max_clients = 1024;
	cfg->max_message_size = 65536;
	cfg->attach_timeout = 60;
	cfg->log_level = LOG_LEVEL_INFO;
	return 0;
}

void
conf_finish(struct conf *cfg)
{
	free(cfg->socket);
	free(cfg->state_dir);
	cfg->socket = cfg->state_dir = NULL;
}

static const struct conf_spec *
conf_find(const char *key)
{
	size_t	i;

	for (i = 0; i < NSPECS; i++)
		if (strcmp(conf_specs[i].name, key) == 0)
			return &conf_specs[i];
	return NULL;
}

static void
conf_store_int(struct conf *cfg, const struct conf_spec *s, uint64_t v)
{
	char	*p = (char *)cfg + s->offset;

	switch (s->width) {
	case sizeof(uint32_t): {
		uint32_t v32 = (uint32_t)v;
		memcpy(p, &v32, sizeof v32);
		break;
	}
	default:
		memcpy(p, &v, sizeof v);
		break;
	}
}

int
conf_get_int(const struct conf *cfg, const char *key, uint64_t *out)
{
	const struct conf_spec	*s = conf_find(key);
	const char			*p;

	if (s == NULL || s->type == CONF_STRING ||
	    s->type == CONF_LOGLEVEL)
		return -1;
	p = (const char *)cfg + s->offset;
	if (s->width == sizeof(uint32_t)) {
		uint32_t v32;
		memcpy(&v32, p, sizeof v32);
		*out = v32;
	} else
		memcpy(out, p, sizeof *out);
	return 0;
}

int
conf_set(struct conf *cfg, const char *key, const char *value,
    char *why, size_t whylen)
{
	const struct conf_spec	*s;
	const char			*reason;
	enum log_level			 level;
	uint64_t			 v;
	char				*copy, **field;
	int				 flags = 0;

	if ((s = conf_find(key)) == NULL) {
		snprintf(why, whylen, "unknown key");
		return -1;
	}
	switch (s->type) {
	case CONF_STRING:
		if (*value == '\0') {
			snprintf(why, whylen, "empty value");
			return -1;
		}
		if ((copy = strdup(value)) == NULL) {
			snprintf(why, whylen, "out of memory");
			return -1;
		}
		field = (char **)((char *)cfg + s->offset);
		free(*field);
		*field = copy;
		return 0;
	case CONF_LOGLEVEL:
		if (log_level_parse(value, &level) != 0) {
			snprintf(why, whylen, "'%s' is not one of debug, info, "
			    "notice, warning, err", value);
			return -1;
		}
		cfg->log_level = level;
		return 0;
	case CONF_OCTAL:
		flags = NUMBER_OCTAL;
		break;
	case CONF_INT:
		flags = NUMBER_HEX;
		break;
	case CONF_SIZE:
		flags = NUMBER_HEX | NUMBER_SUFFIX;
		break;
	}
	if (number_parse(value, flags, &v, &reason) != 0) {
		snprintf(why, whylen, "'%s': %s", value, reason);
		return -1;
	}
	if (v < s->min || v > s->max) {
		snprintf(why, whylen, "'%s' is out of range (%llu..%llu)",
		    value, (unsigned long long)s->min,
		    (unsigned long long)s->max);
		return -1;
	}
	conf_store_int(cfg, s, v);
	return 0;
}

static char *
conf_trim(char *s)
{
	char	*end;

	while (isspace((unsigned char)*s))
		s++;
	end = s + strlen(s);
	while (end > s && isspace((unsigned char)end[-1]))
		*--end = '\0';
	return s;
}

int
conf_load(struct conf *cfg, const char *path, int missing_ok,
    char *err, size_t errlen)
{
	FILE	*f;
	char	*line = NULL, *p, *key, *value, *eq, why[256];
	size_t	 cap = 0;
	ssize_t	 n;
	int	 lineno = 0, rc = 0;

	if ((f = fopen(path, "r")) == NULL) {
		if (errno == ENOENT && missing_ok)
			return 0;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	while ((n = getline(&line, &cap, f)) != -1) {
		lineno++;
		if ((size_t)n != strlen(line)) {
			snprintf(err, errlen, "%s:%d: NUL byte in line", path,
			    lineno);
			rc = -1;
			break;
		}
		if ((p = strchr(line, '#')) != NULL)
			*p = '\0';
		p = conf_trim(line);
		if (*p == '\0')
			continue;
		if ((eq = strchr(p, '=')) == NULL) {
			snprintf(err, errlen, "%s:%d: expected 'key = value', "
			    "got '%.64s'", path, lineno, p);
			rc = -1;
			break;
		}
		*eq = '\0';
		key = conf_trim(p);
		value = conf_trim(eq + 1);
		if (conf_set(cfg, key, value, why, sizeof why) != 0) {
			snprintf(err, errlen, "%s:%d: key '%.64s': %s", path,
			    lineno, key, why);
			rc = -1;
			break;
		}
	}
	if (rc == 0 && ferror(f)) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		rc = -1;
	}
	free(line);
	fclose(f);
	return rc;
}

int
conf_check(const struct conf *cfg, char *err, size_t errlen)
{
	if ((uint64_t)cfg->key_base + cfg->key_count - 1 > UINT32_MAX) {
		snprintf(err, errlen, "key 'key_count': key_base 0x%x + "
		    "key_count %u runs past 0xffffffff", cfg->key_base,
		    cfg->key_count);
		return -1;
	}
	return 0;
}
