/* json-c helpers shared by the daemon and the client library. */
#ifndef SHMD_JSONUTIL_H
#define SHMD_JSONUTIL_H

#include <stdint.h>

#include <json-c/json.h>

/*
 * An integer member that is really an integer: not a double, not a
 * string, and not a number json-c had to saturate. 0 or -1.
 */
int	json_int_value(struct json_object *o, int64_t *out);

/* A string with no embedded NUL. 0 or -1. */
int	json_string_value(struct json_object *o, const char **out);

/* Member lookups: 0 when present with the right type, -1 otherwise. */
int	json_get_int(struct json_object *obj, const char *key, int64_t *out);
int	json_get_string(struct json_object *obj, const char *key,
	    const char **out);

/* Add members; they return -1 when out of memory. */
int	json_add_int(struct json_object *obj, const char *key, int64_t v);
int	json_add_string(struct json_object *obj, const char *key,
	    const char *v);
int	json_add_bool(struct json_object *obj, const char *key, int v);
/* Takes the reference to v, also on failure. */
int	json_add(struct json_object *obj, const char *key,
	    struct json_object *v);

#endif
