/* What the system shows of SysV shared memory: /proc, read for shmdctl. */
#include "config.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "procstat.h"
#include "sysv.h"

int
sysv_segments(struct sysv_seg **segs, size_t *n)
{
	FILE			*f;
	struct sysv_seg		*out = NULL, *tmp, s;
	char			 line[512];
	size_t			 cap = 0;
	unsigned long long	 size, nattch, atime, dtime, ctime;
	unsigned long		 uid, gid, cuid, cgid;
	long			 cpid, lpid;

	*segs = NULL;
	*n = 0;
	if ((f = fopen("/proc/sysvipc/shm", "r")) == NULL)
		return -1;
	if (fgets(line, sizeof line, f) == NULL) {	/* the header */
		fclose(f);
		return 0;
	}
	while (fgets(line, sizeof line, f) != NULL) {
		memset(&s, 0, sizeof s);
		if (sscanf(line, "%d %d %o %llu %ld %ld %llu %lu %lu %lu %lu "
		    "%llu %llu %llu", &s.key, &s.shmid, &s.perms, &size, &cpid,
		    &lpid, &nattch, &uid, &gid, &cuid, &cgid, &atime, &dtime,
		    &ctime) != 14)
			continue;
		s.size = size;
		s.cpid = (pid_t)cpid;
		s.lpid = (pid_t)lpid;
		s.nattch = nattch;
		s.uid = (uid_t)uid;
		s.gid = (gid_t)gid;
		s.cuid = (uid_t)cuid;
		s.cgid = (gid_t)cgid;
		s.atime = (time_t)atime;
		s.dtime = (time_t)dtime;
		s.ctime = (time_t)ctime;
		if (*n == cap) {
			cap = cap ? cap * 2 : 64;
			if ((tmp = reallocarray(out, cap, sizeof *out)) == NULL) {
				free(out);
				fclose(f);
				return -1;
			}
			out = tmp;
		}
		out[(*n)++] = s;
	}
	fclose(f);
	*segs = out;
	return 0;
}

static uint64_t
sysv_read_u64(const char *path)
{
	FILE			*f = fopen(path, "r");
	unsigned long long	 v = 0;

	if (f != NULL) {
		if (fscanf(f, "%llu", &v) != 1)
			v = 0;
		fclose(f);
	}
	return v;
}

int
sysv_limits(struct sysv_limits *l)
{
	l->shmmni = sysv_read_u64("/proc/sys/kernel/shmmni");
	l->shmall = sysv_read_u64("/proc/sys/kernel/shmall");
	l->shmmax = sysv_read_u64("/proc/sys/kernel/shmmax");
	l->pagesize = (uint64_t)sysconf(_SC_PAGESIZE);
	return l->shmmni == 0 ? -1 : 0;
}

/* A small file read whole, NUL-terminated; its length or -1. */
static ssize_t
sysv_slurp(const char *path, char *buf, size_t len)
{
	ssize_t	n;
	int	fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	return n;
}

static void
sysv_process(pid_t pid, uid_t *uid, char *cmd, size_t len)
{
	char	 path[64], buf[4096], *p;
	ssize_t	 n, i;

	*uid = (uid_t)-1;
	snprintf(path, sizeof path, "/proc/%ld/status", (long)pid);
	if (sysv_slurp(path, buf, sizeof buf) > 0 &&
	    (p = strstr(buf, "\nUid:")) != NULL)
		*uid = (uid_t)strtoul(p + 5, NULL, 10);
	snprintf(path, sizeof path, "/proc/%ld/cmdline", (long)pid);
	n = sysv_slurp(path, buf, sizeof buf);
	if (n <= 0) {
		/* a kernel thread or a zombie: its name */
		snprintf(path, sizeof path, "/proc/%ld/comm", (long)pid);
		n = sysv_slurp(path, buf, sizeof buf);
		if (n <= 0)
			n = 0;
		buf[strcspn(buf, "\n")] = '\0';
		buf[len > 3 ? len - 3 : 0] = '\0';	/* room for [] */
		snprintf(cmd, len, "[%.*s]", (int)(len - 3), buf);
		return;
	}
	for (i = 0; i < n - 1; i++)
		if (buf[i] == '\0' || (unsigned char)buf[i] < ' ')
			buf[i] = ' ';
	snprintf(cmd, len, "%.*s", (int)(len - 1), buf);
}

int
sysv_attachers(struct sysv_attacher **out, size_t *n)
{
	struct sysv_attacher	*list = NULL, *tmp;
	struct dirent		*de;
	DIR			*d;
	FILE			*f;
	char			 path[64], line[1024], *name;
	unsigned long		 inode;
	size_t			 cap = 0, first;
	struct stat		 sb;
	ino_t			 ipcns;
	pid_t			 pid;

	*out = NULL;
	*n = 0;
	/* shmids name segments only in one IPC namespace: this process's */
	ipcns = stat("/proc/self/ns/ipc", &sb) == 0 ? sb.st_ino : 0;
	if ((d = opendir("/proc")) == NULL)
		return -1;
	while ((de = readdir(d)) != NULL) {
		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		pid = (pid_t)strtol(de->d_name, NULL, 10);
		snprintf(path, sizeof path, "/proc/%ld/ns/ipc", (long)pid);
		if (ipcns != 0 && stat(path, &sb) == 0 && sb.st_ino != ipcns)
			continue;	/* another namespace's shmids */
		snprintf(path, sizeof path, "/proc/%ld/maps", (long)pid);
		if ((f = fopen(path, "r")) == NULL)
			continue;	/* gone, or not ours to see */
		first = *n;
		while (fgets(line, sizeof line, f) != NULL) {
			/* addr perms offset dev inode path */
			if ((name = strstr(line, "/SYSV")) == NULL ||
			    sscanf(line, "%*s %*s %*s %*s %lu", &inode) != 1)
				continue;
			/* one row per process and segment, however mapped */
			for (size_t i = first; i < *n; i++)
				if (list[i].shmid == (int)inode)
					goto next;
			if (*n == cap) {
				cap = cap ? cap * 2 : 32;
				tmp = reallocarray(list, cap, sizeof *list);
				if (tmp == NULL) {
					fclose(f);
					closedir(d);
					free(list);
					return -1;
				}
				list = tmp;
			}
			memset(&list[*n], 0, sizeof list[*n]);
			list[*n].shmid = (int)inode;
			list[*n].pid = pid;
			(*n)++;
next:			;
		}
		fclose(f);
		for (size_t i = first; i < *n; i++)
			sysv_process(pid, &list[i].uid, list[i].command,
			    sizeof list[i].command);
	}
	closedir(d);
	*out = list;
	return 0;
}

int
sysv_creator_gone(pid_t cpid, time_t ctime)
{
	uint64_t	 start;
	long		 hz = sysconf(_SC_CLK_TCK);
	double		 boot = 0, uptime;
	FILE		*f;

	if (procstat_start(cpid, &start) == -1)
		return errno == ESRCH;	/* gone; unreadable: say it lives */
	/* Its start in Unix time: now - uptime + start / HZ. */
	if ((f = fopen("/proc/uptime", "r")) == NULL)
		return 0;
	if (fscanf(f, "%lf", &uptime) != 1)
		uptime = 0;
	fclose(f);
	boot = (double)time(NULL) - uptime;
	/* Started after the segment was made: a younger process has the pid. */
	return boot + (double)start / (double)hz > (double)ctime + 1.0;
}
