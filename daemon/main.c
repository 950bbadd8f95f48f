/* shmd: the System V shared memory broker. All of it lives in libshmdd. */
#include "config.h"

#include "shmdd.h"

int
main(int argc, char **argv)
{
	return shmdd_main(argc, argv);
}
