/*
 * The page where the Create in flight is announced before its shmget:
 * segments.intent in state_dir, mapped shared. What is stored in it is in
 * the file as soon as it is stored, so it outlives a crash of the daemon
 * as a record of the log does (neither outlives a reboot, and no segment
 * does either), for the cost of a copy instead of a write(2) a Create.
 *
 * It holds one line of text, NUL-ended, or nothing (an empty page: no
 * Create in flight). A line is stored so that a crash part way through
 * leaves the page empty, never part of one line over another: the first
 * byte is cleared, the rest copied, then the first byte set.
 */
#ifndef SHMD_INTENT_H
#define SHMD_INTENT_H

#include <stddef.h>

#define INTENT_FILE	"segments.intent"
#define INTENT_SIZE	4096

/*
 * The page of the directory dirfd, made (0600, its space allocated so a
 * store never faults for want of it) when missing; NULL with errno.
 */
char	*intent_map(int dirfd);
void	 intent_unmap(char *page);

/*
 * The page's text read into buf (size bytes, NUL-ended) without mapping
 * it: 0, or -1 with errno (ENOENT: there is none).
 */
int	 intent_read(int dirfd, char *buf, size_t size);

/* Store line (len bytes, len < INTENT_SIZE), or empty the page. */
void	 intent_store(char *page, const char *line, size_t len);
void	 intent_clear(char *page);

#endif
