/*
 * The Varlink interface definitions the daemon serves: the interface
 * files themselves, made C strings at build time (Makefile.am), from
 * which the method table is made too (varlink-methods.h).
 */
#include "config.h"

#include <string.h>

#include "interface.h"
#include "proto.h"

/* io.shmd.varlink, made a C string at build time (Makefile.am). */
static const char io_shmd[] =
#include "io.shmd.varlink.h"
;

/* daemon/org.varlink.service.varlink, the same way. */
static const char org_varlink_service[] =
#include "org.varlink.service.varlink.h"
;

const char *
interface_description(const char *name)
{
	if (strcmp(name, PROTO_INTERFACE) == 0)
		return io_shmd;
	if (strcmp(name, PROTO_SERVICE_INTERFACE) == 0)
		return org_varlink_service;
	return NULL;
}
