/* What survives a restart: an append-only log of segments in state_dir. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>

#include "jsonutil.h"
#include "log.h"
#include "recover.h"
#include "registry.h"
#include "server.h"
#include "state.h"

#define STATE_FORMAT	1

const char *
state_boot_id(void)
{
	static char	id[64];
	FILE		*f;

	if (id[0] != '\0')
		return id;
	if ((f = fopen("/proc/sys/kernel/random/boot_id", "r")) != NULL) {
		if (fgets(id, sizeof id, f) == NULL)
			id[0] = '\0';
		fclose(f);
	}
	id[strcspn(id, "\n")] = '\0';
	return id;
}

static int
state_path(struct server *srv, char *buf, size_t len, const char *suffix)
{
	int	n;

	n = snprintf(buf, len, "%s/%s%s", srv->conf.state_dir, STATE_FILE,
	    suffix);
	if (n < 0 || (size_t)n >= len) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

static int
state_write_all(int fd, const char *p, size_t len)
{
	ssize_t	n;

	while (len > 0) {
		n = write(fd, p, len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/*
 * One record: the object's text and a newline, in one write; takes the
 * reference to o (NULL: out of memory). After a write that failed part
 * way, a newline first ends the torn line.
 */
static int
state_write_record(int fd, struct json_object *o, int *torn)
{
	const char	*s;
	char		*line;
	size_t		 len, lead = *torn ? 1 : 0;
	int		 rc;

	if (o == NULL) {
		errno = ENOMEM;
		return -1;
	}
	s = json_object_to_json_string_length(o, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE, &len);
	if (s == NULL || (line = malloc(lead + len + 1)) == NULL) {
		json_object_put(o);
		errno = ENOMEM;
		return -1;
	}
	line[0] = '\n';
	memcpy(line + lead, s, len);
	line[lead + len] = '\n';
	rc = state_write_all(fd, line, lead + len + 1);
	free(line);
	json_object_put(o);
	*torn = rc == -1;
	return rc;
}

static struct json_object *
state_segment_json(const struct segment *seg)
{
	struct json_object	*o = json_object_new_object();

	if (o == NULL ||
	    json_add_string(o, "op", "create") == -1 ||
	    json_add_string(o, "name", seg->name) == -1 ||
	    json_add_int(o, "shmid", seg->shmid) == -1 ||
	    json_add_int(o, "key", seg->key) == -1 ||
	    json_add_int(o, "size", (int64_t)seg->size) == -1 ||
	    json_add_string(o, "lifetime",
	    proto_lifetime_name(seg->lifetime)) == -1 ||
	    json_add_int(o, "attach_timeout", (int64_t)seg->attach_timeout) ==
	    -1 ||
	    json_add_int(o, "uid", seg->uid) == -1 ||
	    json_add_int(o, "gid", seg->gid) == -1 ||
	    json_add_int(o, "mode", seg->mode) == -1 ||
	    json_add_int(o, "creator_uid", seg->creator_uid) == -1 ||
	    json_add_int(o, "creator_pid", seg->creator_pid) == -1 ||
	    json_add_int(o, "creator_start", (int64_t)seg->creator_start) == -1 ||
	    json_add_int(o, "created_usec", seg->created_usec) == -1 ||
	    json_add_int(o, "kernel_cpid", seg->kernel_cpid) == -1 ||
	    json_add_int(o, "kernel_ctime", seg->kernel_ctime) == -1) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

static int
state_maybe_compact(struct server *srv)
{
	/* Rewrite once the log holds many more records than segments. */
	if (srv->state_records > 2 * srv->registry.count + 1024)
		return state_compact(srv);
	return 0;
}

/* Append a record, taking the reference to o. */
static int
state_append(struct server *srv, struct json_object *o)
{
	if (state_write_record(srv->state_fd, o, &srv->state_torn) == -1)
		return -1;
	srv->state_records++;
	return 0;
}

int
state_record_create(struct server *srv, const struct segment *seg)
{
	if (srv->state_fd == -1)
		return 0;
	return state_append(srv, state_segment_json(seg));
}

int
state_record_destroy(struct server *srv, const struct segment *seg)
{
	struct json_object	*o;

	if (srv->state_fd == -1)
		return 0;
	o = json_object_new_object();
	if (o != NULL && (json_add_string(o, "op", "destroy") == -1 ||
	    json_add_string(o, "name", seg->name) == -1)) {
		json_object_put(o);
		o = NULL;
	}
	if (state_append(srv, o) == -1)
		return -1;
	/*
	 * Compact here, never after a create record: a create is recorded
	 * before its segment joins the registry that compaction writes.
	 */
	if (state_maybe_compact(srv) == -1)
		log_warn("state: cannot compact %s", srv->conf.state_dir);
	return 0;
}

/* Header and run records, then every segment. */
static int
state_write_snapshot(struct server *srv, int fd, uint64_t *records)
{
	struct json_object	*o;
	struct segment		*seg;
	int			 torn = 0;

	o = json_object_new_object();
	if (o != NULL && (json_add_int(o, "shmd_state", STATE_FORMAT) == -1 ||
	    json_add_string(o, "boot_id", state_boot_id()) == -1)) {
		json_object_put(o);
		o = NULL;
	}
	if (state_write_record(fd, o, &torn) == -1)
		return -1;
	o = json_object_new_object();
	if (o != NULL && (json_add_string(o, "op", "run") == -1 ||
	    json_add_int(o, "pid", srv->pid) == -1 ||
	    json_add_int(o, "uid", srv->euid) == -1 ||
	    json_add_int(o, "start_usec", srv->start_usec) == -1)) {
		json_object_put(o);
		o = NULL;
	}
	if (state_write_record(fd, o, &torn) == -1)
		return -1;
	*records = 2;
	TAILQ_FOREACH(seg, &srv->registry.segments, entry) {
		if (state_write_record(fd, state_segment_json(seg), &torn) == -1)
			return -1;
		(*records)++;
	}
	return 0;
}

int
state_compact(struct server *srv)
{
	char		path[4096], tmp[4096];
	uint64_t	records;
	int		fd, saved;

	if (state_path(srv, path, sizeof path, "") == -1 ||
	    state_path(srv, tmp, sizeof tmp, ".new") == -1)
		return -1;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC,
	    0600);
	if (fd == -1)
		return -1;
	if (state_write_snapshot(srv, fd, &records) == -1 ||
	    rename(tmp, path) == -1) {
		saved = errno;
		close(fd);
		unlink(tmp);
		errno = saved;
		return -1;
	}
	if (srv->state_fd != -1)
		close(srv->state_fd);
	srv->state_fd = fd;
	srv->state_records = records;
	srv->state_torn = 0;
	log_debug("state: %llu records in %s", (unsigned long long)records,
	    path);
	return 0;
}

void
state_loaded_free(struct state_loaded *l)
{
	if (l->segments != NULL) {
		registry_finish(l->segments);
		free(l->segments);
	}
	free(l->runs);
	memset(l, 0, sizeof *l);
}

/* A create record into a segment; NULL when it is not one. */
static struct segment *
state_parse_segment(struct json_object *o)
{
	struct segment		*seg;
	const char		*name, *lifetime;
	enum proto_lifetime	 lt;
	int64_t			 v[14];
	static const char *const keys[14] = { "shmid", "key", "size",
	    "attach_timeout", "uid", "gid", "mode", "creator_uid",
	    "creator_pid", "creator_start", "created_usec", "kernel_cpid",
	    "kernel_ctime", "shmid" };
	int			 i;

	if (json_get_string(o, "name", &name) == -1 ||
	    proto_name_valid(name) == -1 ||
	    json_get_string(o, "lifetime", &lifetime) == -1 ||
	    proto_lifetime_parse(lifetime, &lt) == -1)
		return NULL;
	for (i = 0; i < 13; i++)
		if (json_get_int(o, keys[i], &v[i]) == -1)
			return NULL;
	if (v[0] < 0 || v[2] < 1 || v[3] < 1)
		return NULL;
	if ((seg = segment_create(name)) == NULL)
		return NULL;
	seg->shmid = (int)v[0];
	seg->key = (int32_t)v[1];
	seg->size = (uint64_t)v[2];
	seg->lifetime = lt;
	seg->attach_timeout = (uint64_t)v[3];
	seg->uid = (uid_t)v[4];
	seg->gid = (gid_t)v[5];
	seg->mode = (unsigned)v[6];
	seg->creator_uid = (uid_t)v[7];
	seg->creator_pid = (pid_t)v[8];
	seg->creator_start = (uint64_t)v[9];
	seg->created_usec = v[10];
	seg->kernel_cpid = (pid_t)v[11];
	seg->kernel_ctime = v[12];
	return seg;
}

int
state_parse(const char *text, const char *boot_id, struct state_loaded *out)
{
	struct json_object	*o;
	struct segment		*seg, *old;
	const char		*line = text, *end, *op, *boot;
	char			*copy;
	int64_t			 format, pid, uid;
	pid_t			*runs;
	int			 lineno = 0;

	memset(out, 0, sizeof *out);
	if ((out->segments = calloc(1, sizeof *out->segments)) == NULL)
		return -1;
	registry_init(out->segments);
	for (; *line != '\0'; line = *end ? end + 1 : end) {
		end = line + strcspn(line, "\n");
		lineno++;
		if ((copy = strndup(line, (size_t)(end - line))) == NULL)
			goto fail;
		o = json_tokener_parse(copy);
		free(copy);
		if (lineno == 1) {
			if (o == NULL ||
			    json_get_int(o, "shmd_state", &format) == -1 ||
			    format != STATE_FORMAT ||
			    json_get_string(o, "boot_id", &boot) == -1 ||
			    strcmp(boot, boot_id) != 0) {
				json_object_put(o);
				goto fail;
			}
			json_object_put(o);
			continue;
		}
		if (o == NULL || json_get_string(o, "op", &op) == -1) {
			/* A torn last line is a write that never finished. */
			if (*end != '\0' && end[1] != '\0')
				log_warnx("state: line %d unreadable, skipped",
				    lineno);
			json_object_put(o);
			continue;
		}
		if (strcmp(op, "run") == 0 && json_get_int(o, "pid", &pid) == 0) {
			runs = reallocarray(out->runs, out->nruns + 1,
			    sizeof *runs);
			if (runs == NULL) {
				json_object_put(o);
				goto fail;
			}
			out->runs = runs;
			out->runs[out->nruns++] = (pid_t)pid;
			if (json_get_int(o, "uid", &uid) == 0)
				out->run_uid = (uid_t)uid;
		} else if (strcmp(op, "create") == 0 &&
		    (seg = state_parse_segment(o)) != NULL) {
			if ((old = registry_find_by_name(out->segments,
			    seg->name)) != NULL) {
				registry_remove(out->segments, old);
				segment_destroy(old);
			}
			if (registry_add(out->segments, seg) == -1) {
				segment_destroy(seg);
				json_object_put(o);
				goto fail;
			}
		} else if (strcmp(op, "destroy") == 0 &&
		    json_get_string(o, "name", &op) == 0) {
			if ((old = registry_find_by_name(out->segments,
			    op)) != NULL) {
				registry_remove(out->segments, old);
				segment_destroy(old);
			}
		} else
			log_warnx("state: line %d not understood, skipped",
			    lineno);
		json_object_put(o);
	}
	if (lineno == 0)
		goto fail;
	return 0;
fail:
	state_loaded_free(out);
	return -1;
}

/* The whole file, NUL-terminated; NULL with errno (ENOENT: none). */
static char *
state_read_file(const char *path)
{
	struct stat	 sb;
	char		*buf;
	ssize_t		 n;
	size_t		 len = 0;
	int		 fd, saved;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return NULL;
	if (fstat(fd, &sb) == -1 ||
	    (buf = malloc((size_t)sb.st_size + 1)) == NULL) {
		saved = errno;
		close(fd);
		errno = saved;
		return NULL;
	}
	while (len < (size_t)sb.st_size &&
	    (n = read(fd, buf + len, (size_t)sb.st_size - len)) > 0)
		len += (size_t)n;
	close(fd);
	buf[len] = '\0';
	return buf;
}

int
state_open(struct server *srv)
{
	struct state_loaded	 loaded;
	char			 path[4096], *text;

	if (state_path(srv, path, sizeof path, "") == -1) {
		log_errx("state directory %s: path too long",
		    srv->conf.state_dir);
		return -1;
	}
	memset(&loaded, 0, sizeof loaded);
	if ((text = state_read_file(path)) == NULL) {
		if (errno != ENOENT) {
			log_warn("state: cannot read %s", path);
			return -1;
		}
	} else {
		if (state_parse(text, state_boot_id(), &loaded) == -1)
			log_notice("state: %s is from another boot or "
			    "unreadable: starting afresh", path);
		free(text);
	}
	if (loaded.segments != NULL) {
		recover_segments(srv, &loaded);
		state_loaded_free(&loaded);
	}
	if (state_compact(srv) == -1) {
		log_warn("state: cannot write %s", path);
		return -1;
	}
	return 0;
}

void
state_close(struct server *srv)
{
	if (srv->state_fd != -1)
		close(srv->state_fd);
	srv->state_fd = -1;
}
