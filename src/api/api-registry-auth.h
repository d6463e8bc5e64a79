/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>

#include "ctl-auth.h"

/* Docker's X-Registry-Auth header: base64url (padded or not; the standard alphabet is taken too) of
 * JSON {"username", "password", "serveraddress", "email"} or {"identitytoken"}. Fills *ret with the
 * credentials (all NULL for an empty header, "{}" or "null": an anonymous pull). -EBADMSG for what
 * is no base64 or no such JSON object. Nothing is logged, the decoded text is wiped. */
int api_registry_auth_parse(const char *header, size_t len, RegistryAuth *ret);
