/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>

/* --log-opt labels=, env=: the container's labels and environment variables named there are added
 * to every journal entry of its output, as Docker's journald driver does, under the key made a
 * journal field name its way: upper case, every character but A-Z and 0-9 an underscore, leading
 * underscores dropped after that ("com.example.tier" is COM_EXAMPLE_TIER, "._x" is X). -EINVAL
 * when nothing is left, for more than 64 characters, or when the name would be one of the fields
 * berth sets itself (MESSAGE, PRIORITY, CONTAINER_*, ...). */
int log_field_name_from_key(const char *key, char **ret);
/* "FIELD=value" with FIELD as log_field_name_from_key() makes them and a value without a newline
 * (the spec's log_fields). */
bool log_field_is_valid(const char *field);
/* A --log-opt labels= or env= value: comma-separated keys, none empty. */
bool log_key_list_is_valid(const char *list);
