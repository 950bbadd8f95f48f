/* The Varlink interface definitions the daemon serves. */
#include "config.h"

#include <string.h>

#include "interface.h"
#include "proto.h"

/* io.shmd.varlink, made a C string at build time (Makefile.am). */
static const char io_shmd[] =
#include "io.shmd.varlink.h"
;

static const char org_varlink_service[] =
"# The Varlink Service Interface is provided by every varlink service. It\n"
"# describes the service and the interfaces it implements.\n"
"interface org.varlink.service\n"
"\n"
"# Get a list of all the interfaces a service provides and information\n"
"# about the implementation.\n"
"method GetInfo() -> (\n"
"  vendor: string,\n"
"  product: string,\n"
"  version: string,\n"
"  url: string,\n"
"  interfaces: []string\n"
")\n"
"\n"
"# Get the description of an interface that is implemented by this service.\n"
"method GetInterfaceDescription(interface: string) -> (description: string)\n"
"\n"
"# The requested interface was not found.\n"
"error InterfaceNotFound (interface: string)\n"
"\n"
"# The requested method was not found\n"
"error MethodNotFound (method: string)\n"
"\n"
"# The interface defines the requested method, but the service does not\n"
"# implement it.\n"
"error MethodNotImplemented (method: string)\n"
"\n"
"# One of the passed parameters is invalid.\n"
"error InvalidParameter (parameter: string)\n"
"\n"
"# Client is denied access\n"
"error PermissionDenied ()\n"
"\n"
"# Method is expected to be called with 'more' set to true, but wasn't\n"
"error ExpectedMore ()\n";

const char *
interface_description(const char *name)
{
	if (strcmp(name, PROTO_INTERFACE) == 0)
		return io_shmd;
	if (strcmp(name, PROTO_SERVICE_INTERFACE) == 0)
		return org_varlink_service;
	return NULL;
}
