/*
 * libshmd's inside: what libshmd.c and libshmd-compat.c share. Each entry
 * point that changed its structs' layout in 0.3 has one implementation per
 * layout, named after its symbol version (shmd_open_0_3 is
 * shmd_open@@LIBSHMD_0.3, shmd_open_0 the 0.1 and 0.2 layout's
 * shmd_open@LIBSHMD_0), bound to its name by SHMD_SYMVER.
 */
#ifndef SHMD_LIBSHMD_INT_H
#define SHMD_LIBSHMD_INT_H

#include <stddef.h>

#include "shmd.h"

#define SHMD_EXPORT	__attribute__((visibility("default")))
/* impl is exported as name@node; "@@" in node makes it the default. */
#define SHMD_SYMVER(impl, versioned) \
	__asm__(".symver " #impl ", " versioned)

/*
 * The smallest struct_size each struct may have: its size in 0.3, where
 * struct_size began. Later members do not change these.
 */
#define SHMD_SEGMENT_MIN_SIZE \
	(offsetof(struct shmd_segment, created_usec) + sizeof(int64_t))
#define SHMD_STATUS_MIN_SIZE \
	(offsetof(struct shmd_status, limits) + sizeof(struct shmd_limits))
/* Since 0.4: its size then. */
#define SHMD_USAGE_MIN_SIZE \
	(offsetof(struct shmd_usage, bytes) + sizeof(uint64_t))
#define SHMD_CREATE_OPTIONS_MIN_SIZE \
	(offsetof(struct shmd_create_options, attach_timeout) + \
	sizeof(unsigned int))

/*
 * The largest: a struct_size beyond it is not one a header set (an
 * uninitialised struct), and is refused rather than read or written.
 */
#define SHMD_STRUCT_SIZE_MAX	4096

int	shmd_create_0_3(struct shmd_conn *, const char *, uint64_t,
	    const struct shmd_create_options *, struct shmd_segment *);
int	shmd_open_0_3(struct shmd_conn *, const char *, struct shmd_segment *);
int	shmd_open_wait_0_3(struct shmd_conn *, const char *, unsigned int,
	    struct shmd_segment *);
int	shmd_status_0_3(struct shmd_conn *, struct shmd_status *);
int	shmd_watch_next_0_3(struct shmd_conn *, enum shmd_event *,
	    struct shmd_segment *, int *);

#endif
