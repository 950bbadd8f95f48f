/*
 * The two clocks shmd reads. The wall clock, in microseconds since the
 * Unix epoch, is only ever shown (shmd-protocol(7)'s times); every
 * deadline runs on the boot clock, which a step of the wall clock does
 * not move and which, like the state, lasts exactly one boot.
 */
#ifndef SHMD_REALTIME_H
#define SHMD_REALTIME_H

#include <stdint.h>
#include <time.h>

static inline int64_t
realtime_usec(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Microseconds since boot (CLOCK_BOOTTIME: suspend counts, steps do not). */
static inline int64_t
boottime_usec(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_BOOTTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

#endif
