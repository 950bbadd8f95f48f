/* The Varlink interface definitions the daemon serves. */
#ifndef SHMD_INTERFACE_H
#define SHMD_INTERFACE_H

/* The definition text of an interface, or NULL for one not served. */
const char	*interface_description(const char *name);

#endif
