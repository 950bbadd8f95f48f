/*
 * libFuzzer harness: arbitrary bytes through framing, parsing, validation
 * and dispatch, against an in-process daemon and its registry. As root it
 * runs in an IPC namespace of its own, so it never touches the host's
 * segments; whatever an input created is removed after it.
 */
#include "config.h"

#include <errno.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/event.h>

#include "conn.h"
#include "kshm.h"
#include "log.h"
#include "server.h"

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static struct event_base	*base;
static struct server		 srv;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct conf	conf;

	if (geteuid() == 0 && unshare(CLONE_NEWIPC) == -1) {
		fprintf(stderr, "unshare(CLONE_NEWIPC): %s\n", strerror(errno));
		exit(1);
	}
	log_init("fuzz", LOG_LEVEL_ERR);
	if ((base = event_base_new()) == NULL || conf_init(&conf) == -1)
		abort();
	conf.key_base = 0x7e5f0000;
	conf.key_count = 64;
	conf.max_message_size = 4096;
	conf.max_segment_size = 1 << 20;
	conf.max_segments_per_uid = 8;
	if (server_init(&srv, base, &conf) == -1)
		abort();
	conf_finish(&conf);
	return 0;
}

/* Run the loop once and throw away whatever the daemon answered. */
static void
pump(int fd)
{
	char	buf[65536];

	event_base_loop(base, EVLOOP_NONBLOCK);
	while (recv(fd, buf, sizeof buf, MSG_DONTWAIT) > 0)
		;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct segment		*seg;
	struct kshm_stat	 st;
	size_t			 off = 0;
	ssize_t			 n;
	int			 sv[2], i;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == -1)
		abort();
	if (server_adopt(&srv, sv[0]) == NULL)
		abort();
	while (off < size) {
		n = send(sv[1], data + off, size - off,
		    MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n > 0)
			off += (size_t)n;
		else if (n == -1 && errno != EAGAIN)
			break;	/* the daemon closed it */
		pump(sv[1]);
	}
	for (i = 0; i < 4; i++)
		pump(sv[1]);
	close(sv[1]);
	for (i = 0; i < 4 && srv.nconns > 0; i++)
		event_base_loop(base, EVLOOP_NONBLOCK);
	/* Leave nothing for the next input. */
	while ((seg = TAILQ_FIRST(&srv.life.registry.segments)) != NULL) {
		segment_seen_stat(seg, &st);
		if (lifecycle_destroy(&srv.life, seg, &st) == -1)
			abort();
	}
	if (srv.nconns != 0)
		abort();	/* a connection outlived its socket */
	return 0;
}
