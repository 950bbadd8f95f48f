/*
 * libshmd: the client library of shmd, the System V shared memory broker.
 *
 * shmd creates named System V shared memory segments, gives them the
 * caller's ownership and mode, and removes them when their lifetime ends.
 * This library asks it over its Unix socket (the Varlink protocol of
 * shmd-protocol(7)) and returns shmids: callers attach them with shmat(2).
 *
 *     struct shmd_conn *c;
 *     struct shmd_segment seg;
 *     if (shmd_connect(NULL, &c) == 0 &&
 *         shmd_create(c, "cam0", 1 << 20, NULL, &seg) == 0)
 *             p = shmat(seg.shmid, NULL, 0);
 *
 * Every function that can fail returns 0 or a negative enum shmd_error;
 * shmd_strerror() describes it and shmd_last_error() gives the daemon's
 * own details. The library never prints, never exits and never raises
 * a signal (SIGPIPE included).
 *
 * Room to grow (since 0.3): every struct a caller allocates begins with
 * size_t struct_size, its sizeof in the caller's build, which its _init()
 * sets (shmd_segment_init(), shmd_status_init(),
 * shmd_create_options_init()). The library reads and writes only that
 * much, so a later libshmd can add members at the end without breaking
 * programs built against an earlier one. The functions that fill a struct
 * are macros here that set struct_size from this header before calling the
 * library, so shmd_open(c, name, &seg) needs no _init(); a caller that does
 * not use this header (through a function pointer, or from another
 * language) sets struct_size itself. Programs built against 0.1 or 0.2,
 * whose structs have no struct_size, keep their own entry points (symbol
 * versions LIBSHMD_0 and LIBSHMD_0.2); libshmd(3) has the details.
 *
 * Threads: a struct shmd_conn is not safe to use from two threads at
 * once; give each thread its own connection or serialise calls with a
 * lock. Different connections are independent. shmd_strerror() and
 * shmd_socket_path() are safe from any thread.
 */
#ifndef SHMD_H
#define SHMD_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Longest segment name, in bytes. */
#define SHMD_NAME_MAX	255

/* Error codes: every failure is one of these (negative) values. */
enum shmd_error {
	SHMD_OK = 0,
	SHMD_ERR_SYSTEM = -1,		/* a system call failed (errno) */
	SHMD_ERR_NOMEM = -2,		/* out of memory */
	SHMD_ERR_CONNECT = -3,		/* the daemon cannot be reached */
	SHMD_ERR_DISCONNECTED = -4,	/* the daemon closed the connection */
	SHMD_ERR_BAD_REPLY = -5,	/* a reply this library cannot read */
	SHMD_ERR_INVALID_ARGUMENT = -6,	/* a bad argument to this library */
	SHMD_ERR_BUSY = -7,		/* the connection is watching */
	/* shmd_watch_poll(): no complete event is buffered (since 0.3). */
	SHMD_ERR_AGAIN = -8,
	/* The daemon's errors (shmd-protocol(7)). */
	SHMD_ERR_NAME_EXISTS = -20,
	SHMD_ERR_NO_SUCH_SEGMENT = -21,
	SHMD_ERR_PERMISSION_DENIED = -22,
	SHMD_ERR_QUOTA_EXCEEDED = -23,
	SHMD_ERR_KEY_IN_USE = -24,
	SHMD_ERR_SYSTEM_LIMIT = -25,
	SHMD_ERR_PROTOCOL_ERROR = -26,
	SHMD_ERR_METHOD_NOT_FOUND = -27,
	SHMD_ERR_INTERFACE_NOT_FOUND = -28,
	SHMD_ERR_INVALID_PARAMETER = -29,
	SHMD_ERR_EXPECTED_MORE = -30,
	SHMD_ERR_UNKNOWN_ERROR = -31,	/* an error name this library lacks */
	/* The caller is in another IPC namespace than shmd: its shmids
	 * would name nothing, or another segment (since 0.2). */
	SHMD_ERR_WRONG_NAMESPACE = -32,
	/* shmd could not record the change in its state directory (full,
	 * read-only): nothing changed; try again later (since 0.3). */
	SHMD_ERR_STATE = -33,
};

/* When a segment is destroyed. */
enum shmd_lifetime {
	SHMD_LIFETIME_DETACH = 0,	/* at the last detach (the default) */
	SHMD_LIFETIME_PROCESS = 1,	/* when the creating process exits */
	SHMD_LIFETIME_PERSISTENT = 2,	/* only by shmd_destroy() */
};

/*
 * A managed segment, as the daemon reports it. New members will come at
 * the end.
 */
struct shmd_segment {
	size_t			struct_size;	/* sizeof, from shmd_segment_init() */
	char			name[SHMD_NAME_MAX + 1];
	int			shmid;		/* for shmat(2) */
	int32_t			key;		/* 0: IPC_PRIVATE */
	uint64_t		size;		/* bytes */
	unsigned int		mode;		/* permission bits */
	uid_t			uid;		/* owner, as the kernel holds it */
	gid_t			gid;
	enum shmd_lifetime	lifetime;
	uint64_t		nattch;		/* current attach count */
	uid_t			creator_uid;
	pid_t			creator_pid;
	int64_t			created_usec;	/* since the Unix epoch */
	/* since 0.4; from an older daemon page_size reads 0 */
	uint64_t		page_size;	/* its page size, in bytes */
	int			locked;		/* 1: locked in RAM */
	int			numa_node;	/* bound to it; -1: none */
	int			declared;	/* 1: from the daemon's config */
};

/* Which members of struct shmd_create_options are set. */
#define SHMD_CREATE_MODE		0x01
#define SHMD_CREATE_KEY			0x02
#define SHMD_CREATE_UID			0x04
#define SHMD_CREATE_GID			0x08
#define SHMD_CREATE_ATTACH_TIMEOUT	0x10
/*
 * An existing segment of that name and size the caller may open is the
 * answer, as it is (since 0.2): shmd_created() tells which happened.
 */
#define SHMD_CREATE_EXIST_OK		0x20
/*
 * Memory policy (since 0.4; shmd-protocol(7)): backed by huge pages (of
 * page_size bytes with SHMD_CREATE_PAGE_SIZE, else the system's default;
 * the size is rounded up to it), locked in RAM, bound to numa_node.
 */
#define SHMD_CREATE_HUGE_PAGES		0x40
#define SHMD_CREATE_PAGE_SIZE		0x80
#define SHMD_CREATE_LOCKED		0x100
#define SHMD_CREATE_NUMA_NODE		0x200

/*
 * Optional parameters of shmd_create(); start from
 * shmd_create_options_init(). New members will come at the end, each with
 * its SHMD_CREATE_* flag.
 */
struct shmd_create_options {
	size_t			struct_size;	/* sizeof, from the _init() */
	unsigned int		flags;		/* SHMD_CREATE_* set below */
	enum shmd_lifetime	lifetime;
	unsigned int		mode;		/* default 0600 */
	int32_t			key;		/* default: one from the daemon's range; 0: none */
	uid_t			uid;		/* default: the caller's */
	gid_t			gid;		/* default: the caller's primary group */
	unsigned int		attach_timeout;	/* seconds, detach lifetime */
	/* since 0.4 */
	uint64_t		page_size;	/* huge page size, in bytes */
	int			numa_node;	/* NUMA node to bind it to */
};

/*
 * The daemon's configured limits: only ever a member of struct
 * shmd_status, whose struct_size covers it. It stays as it is; new limits
 * will be new members at the end of struct shmd_status.
 */
struct shmd_limits {
	uint64_t	max_segment_size;
	uint64_t	max_segments_per_uid;	/* 0: unlimited */
	uint64_t	max_bytes_per_uid;	/* 0: unlimited */
	uint64_t	max_clients;
	uint64_t	max_message_size;
	uint64_t	attach_timeout;
};

/* What Status reports. New members will come at the end. */
struct shmd_status {
	size_t			struct_size;	/* sizeof, from shmd_status_init() */
	char			version[32];
	pid_t			pid;
	uid_t			uid;		/* the daemon's effective uid */
	uint64_t		uptime_usec;
	uint64_t		clients;
	uint64_t		segments;
	uint64_t		bytes;
	uint64_t		requests;
	uint64_t		reaped;
	uint64_t		vanished;
	struct shmd_limits	limits;
	/* Since 0.4: the limits the daemon has beside those of limits. */
	uint64_t		max_clients_per_uid;	/* 0: unlimited */
	uint64_t		max_huge_bytes_per_uid;	/* 0: root only */
	uint64_t		max_locked_bytes_per_uid; /* 0: root only */
	uint64_t		declared_drift;	/* declared segments unlike
						   their declaration */
	uint64_t		created;	/* segments made since start */
};

/* Watch events. */
enum shmd_event {
	SHMD_EVENT_READY = 0,
	SHMD_EVENT_CREATED = 1,
	SHMD_EVENT_DESTROYED = 2,	/* by shmd_destroy() */
	SHMD_EVENT_REAPED = 3,		/* by its lifetime */
	SHMD_EVENT_VANISHED = 4,	/* removed behind the daemon's back */
};

struct shmd_conn;

/*
 * The socket a connection to path would use: path if not NULL, else
 * $SHMD_SOCKET if set, else /run/shmd/shmd.sock.
 */
const char	*shmd_socket_path(const char *path);

/* Connect to the daemon (see shmd_socket_path()). */
int	shmd_connect(const char *path, struct shmd_conn **out);
/* Close and free; NULL is fine. */
void	shmd_disconnect(struct shmd_conn *);
/* The socket's descriptor, to poll for watch events. */
int	shmd_fd(const struct shmd_conn *);

/* Zero a struct and set its struct_size: inline, so it is this header's. */
static inline void
shmd_segment_init(struct shmd_segment *s)
{
	memset(s, 0, sizeof *s);
	s->struct_size = sizeof *s;
}

static inline void
shmd_status_init(struct shmd_status *st)
{
	memset(st, 0, sizeof *st);
	st->struct_size = sizeof *st;
}

/* Set every option to "not given" (mode 0600, detach lifetime). */
static inline void
shmd_create_options_init(struct shmd_create_options *o)
{
	memset(o, 0, sizeof *o);
	o->struct_size = sizeof *o;
	o->lifetime = SHMD_LIFETIME_DETACH;
	o->mode = 0600;
}

/* s with its struct_size set (NULL stays NULL): for the macros below. */
static inline struct shmd_segment *
shmd_segment_sized(struct shmd_segment *s)
{
	if (s != NULL)
		s->struct_size = sizeof *s;
	return s;
}

static inline struct shmd_status *
shmd_status_sized(struct shmd_status *st)
{
	if (st != NULL)
		st->struct_size = sizeof *st;
	return st;
}

/*
 * Create a segment; opts may be NULL (else its struct_size must be set).
 * out may be NULL.
 */
int	shmd_create(struct shmd_conn *, const char *name, uint64_t size,
	    const struct shmd_create_options *opts, struct shmd_segment *out);
#define shmd_create(c, name, size, opts, out) \
	shmd_create((c), (name), (size), (opts), shmd_segment_sized(out))
/*
 * Whether the last successful shmd_create() on the connection made the
 * segment (1), or found it there with SHMD_CREATE_EXIST_OK (0). Since 0.2.
 */
int	shmd_created(const struct shmd_conn *);
/* Look a segment up by name. */
int	shmd_open(struct shmd_conn *, const char *name,
	    struct shmd_segment *out);
#define shmd_open(c, name, out) shmd_open((c), (name), shmd_segment_sized(out))
/*
 * The same, waiting up to seconds (at most 3600) for the name to be
 * created: SHMD_ERR_NO_SUCH_SEGMENT when the time runs out,
 * SHMD_ERR_PERMISSION_DENIED when it came but the caller may not open
 * it. Blocks; 0 seconds is shmd_open(). Since 0.2.
 */
int	shmd_open_wait(struct shmd_conn *, const char *name,
	    unsigned int seconds, struct shmd_segment *out);
#define shmd_open_wait(c, name, seconds, out) \
	shmd_open_wait((c), (name), (seconds), shmd_segment_sized(out))
/* Destroy a segment now (its owner, its creator or root). */
int	shmd_destroy(struct shmd_conn *, const char *name);
/*
 * The segments the caller may open, an array of *n elements of seg_size
 * bytes each (the struct_size of each); free *segs with shmd_free().
 * shmd_list() passes this header's sizeof. Since 0.3.
 */
int	shmd_list_sized(struct shmd_conn *, struct shmd_segment **segs,
	    size_t *n, size_t seg_size);
#define shmd_list(c, segs, n) \
	shmd_list_sized((c), (segs), (n), sizeof **(segs))
/*
 * The same list as the JSON text of the daemon's array of Segment
 * objects, as it wrote it (members this header lacks included); free
 * *json with shmd_free(). Since 0.4.
 */
int	shmd_list_json(struct shmd_conn *, char **json);
/* The daemon's status. */
int	shmd_status(struct shmd_conn *, struct shmd_status *out);
#define shmd_status(c, out) shmd_status((c), shmd_status_sized(out))

/*
 * Start watching: the connection then only reports events, through
 * shmd_watch_next(), which blocks for the next one, or shmd_watch_poll(),
 * which never blocks. *has_segment is 0 for SHMD_EVENT_READY.
 */
int	shmd_watch(struct shmd_conn *);
int	shmd_watch_next(struct shmd_conn *, enum shmd_event *event,
	    struct shmd_segment *seg, int *has_segment);
#define shmd_watch_next(c, event, seg, has) \
	shmd_watch_next((c), (event), shmd_segment_sized(seg), (has))
/*
 * The next event if one is buffered, else SHMD_ERR_AGAIN at once. One
 * read from the socket can bring several events, and the descriptor is
 * then quiet while they wait in the library: in an event loop, call this
 * until SHMD_ERR_AGAIN right after shmd_watch() and each time shmd_fd()
 * polls readable (POLLIN). Since 0.3.
 *
 *     while ((rc = shmd_watch_poll(c, &ev, &seg, &has)) == SHMD_OK)
 *             handle(ev, has ? &seg : NULL);
 *     if (rc != SHMD_ERR_AGAIN)
 *             fail(shmd_last_error(c));
 */
int	shmd_watch_poll(struct shmd_conn *, enum shmd_event *event,
	    struct shmd_segment *seg, int *has_segment);
#define shmd_watch_poll(c, event, seg, has) \
	shmd_watch_poll((c), (event), shmd_segment_sized(seg), (has))

/*
 * Any call, in JSON: params_json is an object's text or NULL. On success
 * *reply_json is the reply's parameters; when the daemon answers an error,
 * its code is returned and *reply_json holds the error's parameters.
 * Free *reply_json with shmd_free().
 */
int	shmd_call(struct shmd_conn *, const char *method,
	    const char *params_json, char **reply_json);

/*
 * Status's usage for a root caller: one element per owner uid that holds
 * segments (none for another caller). New members will come at the end.
 * Since 0.4.
 */
struct shmd_usage {
	size_t			struct_size;	/* sizeof, set by the library */
	uid_t			uid;
	uint64_t		segments;
	uint64_t		bytes;
};

/*
 * Status's usage, an array of *n elements of usage_size bytes each;
 * free *usage with shmd_free(). shmd_usage() passes this header's
 * sizeof. Since 0.4.
 */
int	shmd_usage_sized(struct shmd_conn *, struct shmd_usage **usage,
	    size_t *n, size_t usage_size);
#define shmd_usage(c, usage, n) \
	shmd_usage_sized((c), (usage), (n), sizeof **(usage))

/* How the library lays out the JSON text it gives (since 0.4). */
#define SHMD_JSON_PRETTY	0x01	/* indented, one member a line */
#define SHMD_JSON_SPACED	0x02	/* a space after ':' and ',' */

/*
 * The protocol's Segment object of seg (shmd-protocol(7)), as the JSON
 * text a tool prints; free *json with shmd_free(). Since 0.4.
 */
int	shmd_segment_json(const struct shmd_segment *seg, int flags,
	    char **json);
/*
 * JSON text laid out again as flags say (0: compact); with member not
 * NULL, only that member of the object json is (SHMD_ERR_INVALID_ARGUMENT
 * when json is not JSON or has no such member). For printing what
 * shmd_call() returned; free *out with shmd_free(). Since 0.4.
 */
int	shmd_json_format(const char *json, const char *member, int flags,
	    char **out);

/* Free what the library returned. */
void	shmd_free(void *);

/* A description of an error code. */
const char	*shmd_strerror(int err);
/*
 * The last error on this connection with the daemon's details (for
 * example "quota exceeded: segments (max 1024)"); "" when none.
 */
const char	*shmd_last_error(const struct shmd_conn *);
/* The wire name of a lifetime or an event ("detach", "created"). */
const char	*shmd_lifetime_name(enum shmd_lifetime);
const char	*shmd_event_name(enum shmd_event);

#ifdef __cplusplus
}
#endif

#endif
