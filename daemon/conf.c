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
#include "proto.h"

#define FIELD(f)	offsetof(struct conf, f), 0
#define INT_FIELD(f)	offsetof(struct conf, f), \
	(int)sizeof(((struct conf *)0)->f)

const struct conf_key conf_keys[] = {
	{ "socket", CONF_STRING, FIELD(socket), "/run/shmd/shmd.sock", 0, 0,
	  0, "listening socket (when not socket-activated)" },
	{ "socket_mode", CONF_OCTAL, INT_FIELD(socket_mode), "0666", 0, 0777,
	  0, "its permission bits, octal" },
	{ "admin_socket", CONF_STRING, FIELD(admin_socket), NULL, 0, 0,
	  CONF_EMPTY, "root's own socket, mode 0600 (default: admin.sock "
	  "beside socket; empty: none)" },
	{ "state_dir", CONF_STRING, FIELD(state_dir), "/run/shmd/state", 0, 0,
	  0, "where state survives a restart (tmpfs, owned by shmd, 0700)" },
	{ "key_base", CONF_INT, INT_FIELD(key_base), "0x73680000", 1,
	  UINT32_MAX, CONF_RELOAD, "first key of the allocated range" },
	{ "key_count", CONF_INT, INT_FIELD(key_count), "65536", 1, UINT32_MAX,
	  CONF_RELOAD, "size of that range" },
	{ "max_segment_size", CONF_SIZE, INT_FIELD(max_segment_size), NULL, 1,
	  INT64_MAX, CONF_RELOAD | CONF_LIMIT,
	  "largest segment a call may ask for (default: kernel.shmmax)" },
	{ "max_segments_per_uid", CONF_INT, INT_FIELD(max_segments_per_uid),
	  "1024", 0, INT64_MAX, CONF_RELOAD | CONF_LIMIT,
	  "segments one uid may hold (0: no limit)" },
	{ "log_level", CONF_LOGLEVEL, INT_FIELD(log_level), "info", 0, 0,
	  CONF_RELOAD, "debug, info, notice, warning or err" },
	{ "max_bytes_per_uid", CONF_SIZE, INT_FIELD(max_bytes_per_uid), "0", 0,
	  INT64_MAX, CONF_RELOAD | CONF_LIMIT,
	  "bytes one uid may hold (0: no limit)" },
	{ "max_huge_bytes_per_uid", CONF_SIZE,
	  INT_FIELD(max_huge_bytes_per_uid), "0", 0, INT64_MAX,
	  CONF_RELOAD | CONF_LIMIT,
	  "bytes of huge-page segments one uid may hold (0: none; root: any)" },
	{ "max_locked_bytes_per_uid", CONF_SIZE,
	  INT_FIELD(max_locked_bytes_per_uid), "0", 0, INT64_MAX,
	  CONF_RELOAD | CONF_LIMIT,
	  "bytes of locked segments one uid may hold (0: none; root: any)" },
	{ "max_clients", CONF_INT, INT_FIELD(max_clients), "1024", 1, 1000000,
	  CONF_RELOAD | CONF_LIMIT, "open connections at once" },
	{ "max_clients_per_uid", CONF_INT, INT_FIELD(max_clients_per_uid),
	  "128", 0, 1000000, CONF_RELOAD | CONF_LIMIT,
	  "open connections of one uid but root (0: no cap)" },
	{ "max_output_bytes", CONF_SIZE, INT_FIELD(max_output_bytes), "64M",
	  65536, INT64_MAX, CONF_RELOAD,
	  "replies and events queued for all clients at once" },
	{ "max_output_bytes_per_uid", CONF_SIZE,
	  INT_FIELD(max_output_bytes_per_uid), "16M", 65536, INT64_MAX,
	  CONF_RELOAD, "replies and events queued for one uid but root" },
	{ "max_message_size", CONF_SIZE, INT_FIELD(max_message_size), "65536",
	  1024, 64 << 20, CONF_RELOAD | CONF_LIMIT, "largest message accepted" },
	{ "attach_timeout", CONF_INT, INT_FIELD(attach_timeout), "60", 1,
	  INT32_MAX, CONF_RELOAD | CONF_LIMIT,
	  "seconds a never-attached detach segment lives" },
	{ "segments_dir", CONF_STRING, FIELD(segments_dir),
	  CONF_DEFAULT_SEGMENTS_DIR, 0, 0, CONF_EMPTY, "declared segments, files "
	  "*.conf (empty: none)" },
};
const size_t conf_nkeys = sizeof conf_keys / sizeof conf_keys[0];

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
	char	why[256];
	size_t	i;

	memset(cfg, 0, sizeof *cfg);
	for (i = 0; i < conf_nkeys; i++) {
		if (conf_keys[i].def != NULL && conf_set(cfg, conf_keys[i].name,
		    conf_keys[i].def, why, sizeof why) == -1) {
			conf_finish(cfg);
			return -1;
		}
	}
	/* The one default that is not a constant. */
	cfg->max_segment_size = conf_kernel_shmmax();
	return 0;
}

void
conf_finish(struct conf *cfg)
{
	free(cfg->socket);
	free(cfg->admin_socket);
	free(cfg->state_dir);
	free(cfg->segments_dir);
	cfg->socket = cfg->admin_socket = cfg->state_dir = NULL;
	cfg->segments_dir = NULL;
}

static const struct conf_key *
conf_find(const char *key)
{
	size_t	i;

	for (i = 0; i < conf_nkeys; i++)
		if (strcmp(conf_keys[i].name, key) == 0)
			return &conf_keys[i];
	return NULL;
}

static void
conf_store_int(struct conf *cfg, const struct conf_key *s, uint64_t v)
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

uint64_t
conf_key_int(const struct conf *cfg, const struct conf_key *s)
{
	const char	*p = (const char *)cfg + s->offset;
	uint32_t	 v32;
	uint64_t	 v;

	if (s->width == sizeof(uint32_t)) {
		memcpy(&v32, p, sizeof v32);
		return v32;
	}
	memcpy(&v, p, sizeof v);
	return v;
}

int
conf_get_int(const struct conf *cfg, const char *key, uint64_t *out)
{
	const struct conf_key	*s = conf_find(key);

	if (s == NULL || s->type == CONF_STRING || s->type == CONF_LOGLEVEL)
		return -1;
	*out = conf_key_int(cfg, s);
	return 0;
}

void
conf_key_text(const struct conf *cfg, const struct conf_key *s, char *buf,
    size_t len)
{
	switch (s->type) {
	case CONF_STRING: {
		const char *v = *(char *const *)((const char *)cfg + s->offset);

		snprintf(buf, len, "%s", v != NULL ? v : "");
		break;
	}
	case CONF_LOGLEVEL:
		snprintf(buf, len, "%s", log_level_name(cfg->log_level));
		break;
	case CONF_OCTAL:
		snprintf(buf, len, "0%03llo",
		    (unsigned long long)conf_key_int(cfg, s));
		break;
	default:
		snprintf(buf, len, "%llu",
		    (unsigned long long)conf_key_int(cfg, s));
		break;
	}
}

int
conf_reload(struct conf *cur, const struct conf *next,
    void (*changed)(const struct conf_key *, const struct conf *,
    const struct conf *))
{
	const struct conf_key	*s;
	struct conf		 old;
	char			 a[256], b[256];
	size_t			 i;
	int			 later = 0;

	old = *cur;
	for (i = 0; i < conf_nkeys; i++) {
		s = &conf_keys[i];
		conf_key_text(cur, s, a, sizeof a);
		conf_key_text(next, s, b, sizeof b);
		if (strcmp(a, b) == 0)
			continue;
		if (!(s->flags & CONF_RELOAD)) {
			later++;
			continue;
		}
		/* Only fixed-size fields reload (never socket, state_dir). */
		if (s->width == 0)
			continue;
		memcpy((char *)cur + s->offset, (const char *)next + s->offset,
		    (size_t)s->width);
		if (changed != NULL)
			changed(s, &old, cur);
	}
	return later;
}

int
conf_set(struct conf *cfg, const char *key, const char *value,
    char *why, size_t whylen)
{
	const struct conf_key	*s;
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
		if (*value == '\0' && !(s->flags & CONF_EMPTY)) {
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
	if (conf_number(value, flags, s->min, s->max, &v, why, whylen) == -1)
		return -1;
	conf_store_int(cfg, s, v);
	return 0;
}

int
conf_number(const char *value, int flags, uint64_t min, uint64_t max,
    uint64_t *out, char *why, size_t whylen)
{
	const char	*reason;

	if (number_parse(value, flags, out, &reason) == -1) {
		snprintf(why, whylen, "'%.64s': %s", value, reason);
		return -1;
	}
	if (*out < min || *out > max) {
		snprintf(why, whylen, "'%.64s' is out of range (%llu..%llu)",
		    value, (unsigned long long)min, (unsigned long long)max);
		return -1;
	}
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
conf_parse(const char *path, int missing_ok, const struct conf_parser *cp,
    char *err, size_t errlen)
{
	FILE	*f;
	char	*line = NULL, *p, *key, *value, *eq, *end, why[256];
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
		/* "[section]": only where the file's reader takes sections */
		end = p + strlen(p) - 1;
		if (cp->section != NULL && *p == '[' && *end == ']') {
			*end = '\0';
			if (cp->section(cp->arg, conf_trim(p + 1), lineno, why,
			    sizeof why) == -1) {
				snprintf(err, errlen, "%s:%d: %s", path, lineno,
				    why);
				rc = -1;
				break;
			}
			continue;
		}
		if ((eq = strchr(p, '=')) == NULL) {
			snprintf(err, errlen, "%s:%d: expected 'key = value', "
			    "got '%.64s'", path, lineno, p);
			rc = -1;
			break;
		}
		*eq = '\0';
		key = conf_trim(p);
		value = conf_trim(eq + 1);
		if (cp->key(cp->arg, key, value, why, sizeof why) != 0) {
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

/* One key = value of shmd.conf. */
static int
conf_load_key(void *arg, const char *key, const char *value, char *why,
    size_t whylen)
{
	return conf_set(arg, key, value, why, whylen);
}

int
conf_load(struct conf *cfg, const char *path, int missing_ok,
    char *err, size_t errlen)
{
	const struct conf_parser	cp = { NULL, conf_load_key, cfg };

	return conf_parse(path, missing_ok, &cp, err, errlen);
}

/* admin_socket's default: admin.sock in socket's directory. */
static int
conf_admin_default(struct conf *cfg)
{
	const char	*slash = strrchr(cfg->socket, '/');
	int		 dirlen = slash == NULL ? 0 : (int)(slash - cfg->socket + 1);

	if (asprintf(&cfg->admin_socket, "%.*s%s", dirlen, cfg->socket,
	    PROTO_ADMIN_SOCKET_NAME) == -1) {
		cfg->admin_socket = NULL;
		return -1;
	}
	return 0;
}

int
conf_check(struct conf *cfg, char *err, size_t errlen)
{
	if ((uint64_t)cfg->key_base + cfg->key_count - 1 > UINT32_MAX) {
		snprintf(err, errlen, "key 'key_count': key_base 0x%x + "
		    "key_count %u runs past 0xffffffff", cfg->key_base,
		    cfg->key_count);
		return -1;
	}
	if (cfg->admin_socket == NULL && conf_admin_default(cfg) == -1) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (strcmp(cfg->admin_socket, cfg->socket) == 0) {
		snprintf(err, errlen, "key 'admin_socket': %s is also the "
		    "main socket", cfg->admin_socket);
		return -1;
	}
	return 0;
}
