/* shmd: the System V shared memory broker. All of it lives in libshmdd. */
#include "config.h"

#include "shmd.h"

int
main(int argc, char **argv)
{
	return shmd_main(argc, argv);
}
