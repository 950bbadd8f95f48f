/*
 * The announcement page (intent.h).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "intent.h"

char *
intent_map(int dirfd)
{
	struct stat	 sb;
	char		*page;
	int		 fd, rc, saved;

	/* (O_NONBLOCK: something not a file there must not hold us up) */
	fd = openat(dirfd, INTENT_FILE, O_RDWR | O_CREAT | O_NOFOLLOW |
	    O_NONBLOCK | O_CLOEXEC, 0600);
	if (fd == -1)
		return NULL;
	if (fstat(fd, &sb) == -1)
		goto fail;
	if (!S_ISREG(sb.st_mode)) {
		errno = EINVAL;
		goto fail;
	}
	/* a full disk refuses here (state_ready()), never in a store */
	if (sb.st_size < INTENT_SIZE &&
	    (rc = posix_fallocate(fd, 0, INTENT_SIZE)) != 0) {
		errno = rc;
		goto fail;
	}
	page = mmap(NULL, INTENT_SIZE, PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_POPULATE, fd, 0);
	if (page == MAP_FAILED)
		goto fail;
	close(fd);
	/* (each slot ends in a NUL whatever was stored before) */
	page[INTENT_RECORD_AT - 1] = '\0';
	page[INTENT_SIZE - 1] = '\0';
	return page;
fail:
	saved = errno;
	close(fd);
	errno = saved;
	return NULL;
}

int
intent_read(int dirfd, char *buf)
{
	struct stat	sb;
	ssize_t		n;
	int		fd, saved;

	fd = openat(dirfd, INTENT_FILE, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
	    O_CLOEXEC);
	if (fd == -1)
		return -1;
	if (fstat(fd, &sb) == -1 || !S_ISREG(sb.st_mode)) {
		close(fd);
		errno = EINVAL;
		return -1;
	}
	n = read(fd, buf, INTENT_SIZE);
	saved = errno;
	close(fd);
	if (n == -1) {
		errno = saved;
		return -1;
	}
	memset(buf + n, 0, INTENT_SIZE - (size_t)n);
	buf[INTENT_RECORD_AT - 1] = '\0';
	buf[INTENT_SIZE - 1] = '\0';
	return 0;
}

/* Where each slot begins in the page, and where it ends. */
static const size_t	intent_from[] = { 0, INTENT_RECORD_AT };
static const size_t	intent_to[] = { INTENT_RECORD_AT, INTENT_SIZE };

const char *
intent_text(const char *page, enum intent_slot slot)
{
	return page + intent_from[slot];
}

void
intent_unmap(char *page)
{
	if (page != NULL)
		munmap(page, INTENT_SIZE);
}

/*
 * The first byte is stored through a volatile access and the compiler
 * keeps the other stores on their side of each fence; the processor's
 * order matters to nobody but a reader after the daemon's death, which
 * sees every store the daemon made, in the order it made them.
 */
int
intent_store(char *page, enum intent_slot slot, const char *line,
    size_t len)
{
	char	*at = page + intent_from[slot];

	intent_clear(page, slot);
	if (len == 0 || len >= intent_to[slot] - intent_from[slot])
		return -1;
	memcpy(at + 1, line + 1, len - 1);
	at[len] = '\0';
	atomic_signal_fence(memory_order_seq_cst);
	*(volatile char *)at = line[0];
	return 0;
}

void
intent_clear(char *page, enum intent_slot slot)
{
	*(volatile char *)(page + intent_from[slot]) = '\0';
	atomic_signal_fence(memory_order_seq_cst);
}
