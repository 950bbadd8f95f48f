/*
 * The page where the Create in flight is announced before its shmget:
 * segments.intent in state_dir, mapped shared. What is stored in it is in
 * the file as soon as it is stored, so it outlives a crash of the daemon
 * as a record of the log does (neither outlives a reboot, and no segment
 * does either), for the cost of a copy instead of a write(2) a Create.
 *
 * It has two slots, each one line of text, NUL-ended, or nothing: the
 * announcement of the Create in flight (INTENT_ANNOUNCE), and that
 * Create's record until the log holds it too (INTENT_RECORD: state.h).
 * A line is stored so that a crash part way through leaves its slot
 * empty, never part of one line over another: the first byte is
 * cleared, the rest copied, then the first byte set.
 */
#ifndef SHMD_INTENT_H
#define SHMD_INTENT_H

#include <stddef.h>

#define INTENT_FILE	"segments.intent"
#define INTENT_SIZE	4096

/* The slots: where each begins in the page, and its size. */
enum intent_slot {
	INTENT_ANNOUNCE,	/* [0, 512): a pending record's fields */
	INTENT_RECORD		/* [512, 4096): a create record */
};
#define INTENT_RECORD_AT	512

/*
 * The page of the directory dirfd, made (0600, its space allocated so a
 * store never faults for want of it) when missing; NULL with errno.
 */
char	*intent_map(int dirfd);
void	 intent_unmap(char *page);

/*
 * The page read into buf (INTENT_SIZE bytes) without mapping it: 0, or
 * -1 with errno (ENOENT: there is none).
 */
int	 intent_read(int dirfd, char *buf);

/* The text of a slot of page (a mapped page, or one intent_read() read). */
const char *intent_text(const char *page, enum intent_slot);
/*
 * Store line (len bytes) in a slot: 0, or -1 (the slot emptied) when it
 * is longer than the slot holds.
 */
int	 intent_store(char *page, enum intent_slot, const char *line,
	    size_t len);
void	 intent_clear(char *page, enum intent_slot);

#endif
