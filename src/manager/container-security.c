/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The security options of a container: capabilities, privileged mode, no_new_privs, seccomp. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "helper-protocol.h"
#include "capability-names.h"
#include "container.h"
#include "errors.h"
#include "json-util.h"
#include "seccomp-default.h"
#include "seccomp-profile.h"

#define SECCOMP_PROFILE_MAX (1024 * 1024)

void container_security_init(ContainerSecurity *s) {
        *s = (ContainerSecurity){ .seccomp_fd = -1 };
}

void container_security_done(ContainerSecurity *s) {
        strv_free(s->cap_add);
        strv_free(s->cap_drop);
        free(s->seccomp_profile);
        safe_close(s->seccomp_fd);
        free(s->userns_mode);
        container_security_init(s);
}

int container_security_copy(ContainerSecurity *dst, const ContainerSecurity *src) {
        container_security_done(dst);
        dst->privileged = src->privileged;
        dst->no_new_privileges = src->no_new_privileges;
        if ((src->cap_add && !(dst->cap_add = strv_copy(src->cap_add))) ||
            (src->cap_drop && !(dst->cap_drop = strv_copy(src->cap_drop))) ||
            (src->seccomp_profile && !(dst->seccomp_profile = strdup(src->seccomp_profile))) ||
            (src->userns_mode && !(dst->userns_mode = strdup(src->userns_mode))))
                return -ENOMEM;
        return 0;
}

static bool is_unconfined(const ContainerSecurity *s) {
        return s->seccomp_profile && streq(s->seccomp_profile, "unconfined");
}

static int read_capabilities(sd_bus_message *m, const char *key, char ***list, sd_bus_error *error) {
        _cleanup_strv_free_ char **given = NULL;
        int r = sd_bus_message_enter_container(m, 'v', "as");
        if (r < 0)
                return r;
        r = bus_read_strv(m, &given);
        if (r < 0)
                return r;
        for (char **g = given; g && *g; g++) {
                _cleanup_free_ char *name = NULL;
                r = capability_normalize(*g, &name);
                if (r == -EINVAL)
                        return sd_bus_error_setf(error, BERTH_ERROR_INVALID_ARGUMENT,
                                                 "Unknown capability \"%s\" in %s: expected a name such as NET_ADMIN "
                                                 "or CAP_NET_ADMIN, or ALL.",
                                                 *g, key);
                if (r < 0 || (r = strv_push(list, name)) < 0)
                        return r;
        }
        return sd_bus_message_exit_container(m);
}

int container_security_parse_option(sd_bus_message *m, const char *key, const char *contents, ContainerSecurity *s,
                                    sd_bus_error *error) {
        static const char *const types[][2] = {
                { "CapAdd", "as" },         { "CapDrop", "as" },       { "Privileged", "b" },
                { "NoNewPrivileges", "b" }, { "SeccompProfile", "s" }, { "UsernsMode", "s" },
        };
        int b, r;
        size_t i;

        for (i = 0; i < ELEMENTSOF(types) && !streq(types[i][0], key); i++)
                ;
        if (i == ELEMENTSOF(types))
                return 0;
        if (!streq(contents, types[i][1]))
                return sd_bus_error_setf(error, BERTH_ERROR_INVALID_ARGUMENT,
                                         "Container option \"%s\" must have type \"%s\".", key, types[i][1]);
        if (streq(key, "CapAdd") || streq(key, "CapDrop"))
                r = read_capabilities(m, key, streq(key, "CapAdd") ? &s->cap_add : &s->cap_drop, error);
        else if (streq(key, "Privileged") || streq(key, "NoNewPrivileges")) {
                r = sd_bus_message_read(m, "v", "b", &b);
                if (streq(key, "Privileged"))
                        s->privileged = b;
                else
                        s->no_new_privileges = b;
        } else if (streq(key, "SeccompProfile")) {
                const char *profile;
                r = sd_bus_message_read(m, "v", "s", &profile);
                if (r < 0)
                        return r;
                if (strlen(profile) > SECCOMP_PROFILE_MAX)
                        return sd_bus_error_set(error, BERTH_ERROR_INVALID_ARGUMENT,
                                                "The seccomp profile is larger than 1 MiB.");
                free(s->seccomp_profile);
                s->seccomp_profile = isempty(profile) ? NULL : strdup(profile);
                if (!isempty(profile) && !s->seccomp_profile)
                        return -ENOMEM;
        } else if (streq(key, "UsernsMode")) {
                const char *mode;
                r = sd_bus_message_read(m, "v", "s", &mode);
                if (r < 0)
                        return r;
                if (!isempty(mode) && !streq(mode, "host") && !streq(mode, "auto"))
                        return sd_bus_error_setf(error, BERTH_ERROR_INVALID_ARGUMENT,
                                                 "Invalid user namespace mode \"%s\": expected host or auto.", mode);
                free(s->userns_mode);
                s->userns_mode = isempty(mode) ? NULL : strdup(mode);
                if (!isempty(mode) && !s->userns_mode)
                        return -ENOMEM;
        } else
                return 0;
        return r < 0 ? r : 1;
}

uint64_t container_security_capabilities(const ContainerSecurity *s) {
        return capabilities_effective(s->cap_add, s->cap_drop, s->privileged);
}

bool container_security_has_seccomp(const ContainerSecurity *s) {
        /* As Docker: a privileged container runs without a filter, whatever the profile. */
        return !s->privileged && !is_unconfined(s);
}

static bool needs_own_filter(const ContainerSecurity *s) {
        return container_security_has_seccomp(s) &&
                (s->seccomp_profile || seccomp_default_depends_on(container_security_capabilities(s)));
}

static int compile(const ContainerSecurity *s, int *ret_fd, sd_bus_error *error) {
        _cleanup_free_ char *message = NULL;
        int r = seccomp_compile(s->seccomp_profile, container_security_capabilities(s), ret_fd, &message);
        if (r == -EINVAL)
                return sd_bus_error_set(error, BERTH_ERROR_INVALID_ARGUMENT,
                                        message ?: "The seccomp profile cannot be compiled.");
        if (r < 0)
                return sd_bus_error_set_errnof(error, -r, "Failed to compile the seccomp profile: %m");
        return 0;
}

int container_security_validate(const ContainerSecurity *s, sd_bus_error *error) {
        /* As Docker: privileged means the host's powers, which a user namespace takes away again
         * (its root cannot mount a writable /sys or reach host devices the way --privileged means). */
        if (s->privileged && streq_ptr(s->userns_mode, "auto"))
                return sd_bus_error_set(
                        error, BERTH_ERROR_INVALID_ARGUMENT,
                        "Privileged mode cannot be combined with a user namespace (UsernsMode \"auto\").");
        /* Even where it will not be used (privileged): a profile that cannot compile is a mistake. */
        if (!s->seccomp_profile || is_unconfined(s))
                return 0;
        _cleanup_close_ int fd = -1;
        return compile(s, &fd, error);
}

int container_security_prepare(Container *c, sd_bus_error *error) {
        if (!needs_own_filter(&c->security) || c->security.seccomp_fd >= 0)
                return 0;
        return compile(&c->security, &c->security.seccomp_fd, error);
}

int container_security_seccomp_fd(const Container *c) {
        if (!container_security_has_seccomp(&c->security))
                return -1;
        return c->security.seccomp_fd >= 0 ? c->security.seccomp_fd : c->manager->seccomp_fd;
}

void container_security_to_spec(const ContainerSecurity *s, json_object *spec) {
        json_object_object_add(spec, SPEC_KEY_CAPS, json_object_new_uint64(container_security_capabilities(s)));
        json_object_object_add(spec, SPEC_KEY_PRIVILEGED, json_object_new_boolean(s->privileged));
        json_object_object_add(spec, SPEC_KEY_NO_NEW_PRIVS, json_object_new_boolean(s->no_new_privileges));
        json_object_object_add(spec, SPEC_KEY_SECCOMP, json_object_new_boolean(container_security_has_seccomp(s)));
        if (s->uid_base > 0)
                json_object_object_add(spec, SPEC_KEY_USERNS_BASE, json_object_new_uint64(s->uid_base));
}

json_object *container_security_to_json(const ContainerSecurity *s) {
        json_object *o = json_object_new_object();
        if (!o)
                return NULL;
        json_object_object_add(o, "cap_add", json_strv_new(s->cap_add));
        json_object_object_add(o, "cap_drop", json_strv_new(s->cap_drop));
        json_object_object_add(o, "privileged", json_object_new_boolean(s->privileged));
        json_object_object_add(o, "no_new_privileges", json_object_new_boolean(s->no_new_privileges));
        json_object_object_add(o, "seccomp_profile", json_object_new_string(s->seccomp_profile ?: ""));
        json_object_object_add(o, "userns_mode", json_object_new_string(s->userns_mode ?: ""));
        json_object_object_add(o, "uid_base", json_object_new_uint64(s->uid_base));
        return o;
}

int container_security_from_json(json_object *o, ContainerSecurity *s) {
        json_object *sec = NULL;
        int r;
        /* Absent in the container.json of older versions: the defaults. */
        if (!json_object_object_get_ex(o, "security", &sec) || !json_object_is_type(sec, json_type_object))
                return 0;
        if ((r = json_get_strv(sec, "cap_add", &s->cap_add)) < 0 ||
            (r = json_get_strv(sec, "cap_drop", &s->cap_drop)) < 0)
                return r;
        s->privileged = json_get_bool(sec, "privileged", 0);
        s->no_new_privileges = json_get_bool(sec, "no_new_privileges", 0);
        const char *profile = json_get_string(sec, "seccomp_profile");
        if (!isempty(profile) && !(s->seccomp_profile = strdup(profile)))
                return -ENOMEM;
        const char *mode = json_get_string(sec, "userns_mode");
        uint64_t base = json_get_u64(sec, "uid_base", 0);
        if (!isempty(mode) && !(s->userns_mode = strdup(mode)))
                return -ENOMEM;
        /* The range is kept for the container's lifetime: a start must never run without it. */
        if (streq_ptr(mode, "auto") && (base == 0 || base > UINT32_MAX - USERNS_RANGE))
                return -EBADMSG;
        s->uid_base = streq_ptr(mode, "auto") ? (uint32_t) base : 0;
        return 0;
}

int container_security_property_get(sd_bus *bus, const char *path, const char *interface, const char *property,
                                    sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        const ContainerSecurity *s = userdata;
        if (streq(property, "CapAdd"))
                return sd_bus_message_append_strv(reply, s->cap_add);
        if (streq(property, "CapDrop"))
                return sd_bus_message_append_strv(reply, s->cap_drop);
        if (streq(property, "Privileged"))
                return sd_bus_message_append(reply, "b", (int) s->privileged);
        if (streq(property, "NoNewPrivileges"))
                return sd_bus_message_append(reply, "b", (int) s->no_new_privileges);
        if (streq(property, "UsernsMode"))
                return sd_bus_message_append(reply, "s", s->userns_mode ?: "");
        if (streq(property, "UidMapBase"))
                return sd_bus_message_append(reply, "u", s->uid_base);
        return sd_bus_message_append(reply, "s", s->seccomp_profile ?: "");
}
