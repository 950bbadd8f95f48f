/*
 * A new program's first contact, timed from its own main(), as a program
 * sees it (shmd-bench --first-contact execs it; BENCHMARKS.md):
 *
 *   first-contact SOCKET          connect to shmd, Create a keyless
 *                                 "process" segment, attach it, write
 *   first-contact SOCKET --floor  the same connect and request to the
 *                                 bare server, one round trip, then its
 *                                 own shmget(IPC_PRIVATE), shmat, write
 *
 * Both send the request every client this project ships sends (its IPC
 * namespace included, read the same way) and read the shmid out of the
 * reply with the same code. Prints the microseconds from the start of
 * main() to the write, and "pid PID" (shmd's debug line names it).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/shm.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static double
now_us(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

int
main(int argc, char **argv)
{
	double			 t0 = now_us(), dt;
	struct sockaddr_un	 sun;
	struct stat		 sb;
	char			 msg[256], reply[4096], *p, *shm;
	size_t			 len = 0;
	ssize_t			 n;
	int			 fd, shmid, floor = argc > 2 &&
				    strcmp(argv[2], "--floor") == 0;

	if (argc < 2 || strlen(argv[1]) >= sizeof sun.sun_path) {
		fprintf(stderr, "usage: first-contact SOCKET [--floor]\n");
		return 2;
	}
	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, argv[1], strlen(argv[1]) + 1);
	if (stat("/proc/self/ns/ipc", &sb) == -1)
		sb.st_ino = 0;
	snprintf(msg, sizeof msg, "{\"method\":\"io.shmd.Create\",\"parameters\":"
	    "{\"name\":\"bench.first.%ld\",\"size\":4096,\"lifetime\":"
	    "\"process\",\"key\":0,\"ipc_namespace\":%llu}}", (long)getpid(),
	    (unsigned long long)sb.st_ino);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1 ||
	    connect(fd, (struct sockaddr *)&sun, sizeof sun) == -1 ||
	    send(fd, msg, strlen(msg) + 1, MSG_NOSIGNAL) !=
	    (ssize_t)strlen(msg) + 1) {
		perror("first-contact: connect");
		return 1;
	}
	/* one reply, NUL-terminated */
	while (memchr(reply, '\0', len) == NULL) {
		if (len == sizeof reply ||
		    (n = recv(fd, reply + len, sizeof reply - len, 0)) <= 0) {
			fprintf(stderr, "first-contact: no reply\n");
			return 1;
		}
		len += (size_t)n;
	}
	if ((p = strstr(reply, "\"shmid\":")) == NULL) {
		fprintf(stderr, "first-contact: %s\n", reply);
		return 1;
	}
	shmid = atoi(p + 8);
	if (floor)
		shmid = shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0600);
	if (shmid < 0 || (shm = shmat(shmid, NULL, 0)) == (void *)-1) {
		fprintf(stderr, "first-contact: shmat: %s\n", strerror(errno));
		return 1;
	}
	shm[0] = 1;
	dt = now_us() - t0;
	shmdt(shm);
	if (floor)
		shmctl(shmid, IPC_RMID, NULL);
	printf("%.1f pid %ld\n", dt, (long)getpid());
	/* its segment is reaped once it exits (shmd), or gone (the floor) */
	return 0;
}
