/* The daemon's entry point, called by main.c. */
#ifndef SHMD_SHMDD_H
#define SHMD_SHMDD_H

int	shmdd_main(int argc, char **argv);

#endif
