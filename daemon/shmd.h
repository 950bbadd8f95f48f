/* The daemon's entry point, called by main.c. */
#ifndef SHMD_SHMD_H
#define SHMD_SHMD_H

int	shmd_main(int argc, char **argv);

#endif
