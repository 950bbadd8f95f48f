/*
 * The benchmark's comparison with iceoryx's RouDi (Debian's iceoryx): a
 * new process's first write, as shmd-bench measures it for shmd. A child
 * registers with RouDi (iox_runtime_init), makes a publisher, loans a
 * chunk of 4096 bytes and writes a byte in it; timed from its start to
 * the write. Prints the median of N (default 21) in microseconds. RouDi
 * must be running (shmd-bench starts it). Built only when configure
 * finds iceoryx's C binding.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "iceoryx_binding_c/log.h"
#include "iceoryx_binding_c/publisher.h"
#include "iceoryx_binding_c/runtime.h"

static double
now_us(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int
cmp(const void *a, const void *b)
{
	double	x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* The child: its first write through RouDi, in us, on fd. */
static void
first_write(int fd)
{
	iox_pub_storage_t	 storage;
	iox_pub_options_t	 options;
	iox_pub_t		 pub;
	double			 t0 = now_us(), dt;
	char			 name[64];
	void			*chunk = NULL;

	iox_set_loglevel(Iceoryx_LogLevel_Off);
	snprintf(name, sizeof name, "shmd-bench-%d", (int)getpid());
	iox_runtime_init(name);
	iox_pub_options_init(&options);
	pub = iox_pub_init(&storage, "shmd", "bench", "first-write", &options);
	if (iox_pub_loan_chunk(pub, &chunk, 4096) != AllocationResult_SUCCESS)
		_exit(2);
	((volatile char *)chunk)[0] = 1;
	dt = now_us() - t0;
	iox_pub_publish_chunk(pub, chunk);
	iox_pub_deinit(pub);
	iox_runtime_shutdown();
	_exit(write(fd, &dt, sizeof dt) == sizeof dt ? 0 : 3);
}

int
main(int argc, char **argv)
{
	int	 n = argc > 1 ? atoi(argv[1]) : 21, i, fds[2];
	double	*v;
	pid_t	 pid;

	if (n < 1 || (v = calloc((size_t)n, sizeof *v)) == NULL)
		return 2;
	for (i = 0; i < n; i++) {
		if (pipe(fds) == -1 || (pid = fork()) == -1)
			return 1;
		if (pid == 0)
			first_write(fds[1]);
		close(fds[1]);
		if (read(fds[0], &v[i], sizeof v[i]) != sizeof v[i]) {
			fprintf(stderr, "roudi-first-write: no answer (is "
			    "iox-roudi running?)\n");
			return 1;
		}
		close(fds[0]);
		waitpid(pid, NULL, 0);
	}
	qsort(v, (size_t)n, sizeof *v, cmp);
	printf("%.0f\n", v[n / 2]);
	free(v);
	return 0;
}
