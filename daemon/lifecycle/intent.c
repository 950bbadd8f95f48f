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

	fd = openat(dirfd, INTENT_FILE, O_RDWR | O_CREAT | O_NOFOLLOW |
	    O_CLOEXEC, 0600);
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
	page[INTENT_SIZE - 1] = '\0';
	return page;
fail:
	saved = errno;
	close(fd);
	errno = saved;
	return NULL;
}

void
intent_unmap(char *page)
{
	if (page != NULL)
		munmap(page, INTENT_SIZE);
}

/*
 * The compiler keeps the order of the stores around each fence; the
 * processor's order matters to nobody but a reader after the daemon's
 * death, which sees every store it made.
 */
void
intent_store(char *page, const char *line, size_t len)
{
	if (len == 0 || len >= INTENT_SIZE) {
		intent_clear(page);
		return;
	}
	page[0] = '\0';
	atomic_signal_fence(memory_order_seq_cst);
	memcpy(page + 1, line + 1, len - 1);
	page[len] = '\0';
	atomic_signal_fence(memory_order_seq_cst);
	page[0] = line[0];
}

void
intent_clear(char *page)
{
	page[0] = '\0';
}
