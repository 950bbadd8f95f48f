/* The wall clock in microseconds since the Unix epoch (shmd-protocol(7)'s times). */
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

#endif
