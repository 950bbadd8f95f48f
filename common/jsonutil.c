/* json-c helpers shared by the daemon and the client library. */
#include "config.h"

#include <string.h>

#include "jsonutil.h"

int
json_int_value(struct json_object *o, int64_t *out)
{
	int64_t	v;

	if (o == NULL || !json_object_is_type(o, json_type_int))
		return -1;
	v = json_object_get_int64(o);
	/* json-c saturates at both ends; the extremes are never ours. */
	if (v == INT64_MIN)
		return -1;
	if (v == INT64_MAX && json_object_get_uint64(o) != (uint64_t)INT64_MAX)
		return -1;
	*out = v;
	return 0;
}

int
json_string_value(struct json_object *o, const char **out)
{
	const char	*s;

	if (o == NULL || !json_object_is_type(o, json_type_string))
		return -1;
	s = json_object_get_string(o);
	if ((size_t)json_object_get_string_len(o) != strlen(s))
		return -1;
	*out = s;
	return 0;
}

int
json_get_int(struct json_object *obj, const char *key, int64_t *out)
{
	struct json_object	*v;

	if (!json_object_object_get_ex(obj, key, &v))
		return -1;
	return json_int_value(v, out);
}

int
json_get_string(struct json_object *obj, const char *key, const char **out)
{
	struct json_object	*v;

	if (!json_object_object_get_ex(obj, key, &v))
		return -1;
	return json_string_value(v, out);
}

int
json_add(struct json_object *obj, const char *key, struct json_object *v)
{
	if (v == NULL)
		return -1;
	if (json_object_object_add(obj, key, v) != 0) {
		json_object_put(v);
		return -1;
	}
	return 0;
}

int
json_add_int(struct json_object *obj, const char *key, int64_t v)
{
	return json_add(obj, key, json_object_new_int64(v));
}

int
json_add_string(struct json_object *obj, const char *key, const char *v)
{
	return json_add(obj, key, json_object_new_string(v));
}

int
json_add_bool(struct json_object *obj, const char *key, int v)
{
	return json_add(obj, key, json_object_new_boolean(v));
}
