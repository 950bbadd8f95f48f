/* At start: take back what an earlier run left, and only that. */
#ifndef SHMD_RECOVER_H
#define SHMD_RECOVER_H

struct server;
struct state_loaded;

/*
 * Adopt every recorded segment the kernel still holds as the same segment
 * (creator pid, size, key, ctime); drop the others as vanished. Then
 * remove the segments an earlier run created but never acknowledged (its
 * pid is their creator pid, and no record names them). Takes the segments
 * out of *loaded.
 */
void	recover_segments(struct server *, struct state_loaded *loaded);

#endif
