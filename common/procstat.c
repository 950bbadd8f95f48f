/* /proc/PID/stat, read in one place (see procstat.h). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "procstat.h"

int
procstat_start(pid_t pid, uint64_t *start)
{
	char			 path[64], buf[1024], *p, state;
	unsigned long long	 v;
	ssize_t			 n;
	int			 fd, field;

	snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		/* no descriptor (EMFILE) says nothing of the process */
		if (errno == ENOENT)
			errno = ESRCH;
		return -1;
	}
	n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0) {
		errno = ESRCH;	/* it went between the open and the read */
		return -1;
	}
	buf[n] = '\0';
	errno = EINVAL;
	/* The command may hold spaces and parentheses: start after the last ')'. */
	if ((p = strrchr(buf, ')')) == NULL || sscanf(p + 1, " %c", &state) != 1)
		return -1;
	if (state == 'Z' || state == 'X' || state == 'x') {
		errno = ESRCH;
		return -1;
	}
	/* Fields 3 (state) to 22 (starttime). */
	for (field = 2; field < 22; field++)
		if ((p = strchr(p + 1, ' ')) == NULL)
			return -1;
	if (sscanf(p + 1, "%llu", &v) != 1)
		return -1;
	*start = v;
	return 0;
}
