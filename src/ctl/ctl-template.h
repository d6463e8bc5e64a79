/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <json-c/json.h>

/* The subset of Go templates that `inspect --format` is used with: literal text and actions
 * {{.Field.Sub}}, {{.}}, {{json .Field}}. Strings print raw, numbers and booleans as JSON, objects
 * and arrays as JSON. -EINVAL for a malformed template or a field that does not exist (*ret_error
 * then says which). */
int ctl_render_template(const char *tmpl, json_object *o, char **ret, char **ret_error);
