/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <string.h>

#include "image.h"

int image_object_find(sd_bus *bus, const char *path, const char *interface, void *userdata, void **found,
                      sd_bus_error *error) {
        Manager *m = userdata;
        const char *prefix = "/org/berth1/image/";
        if (strncmp(path, prefix, strlen(prefix)))
                return 0;
        const char *id = path + strlen(prefix);
        if (!id_is_valid(id))
                return 0;
        for (Image *i = m->images; i; i = i->next)
                if (streq(i->id, id)) {
                        *found = i;
                        return 1;
                }
        return 0;
}

int image_node_enumerator(sd_bus *bus, const char *path, void *userdata, char ***nodes, sd_bus_error *error) {
        Manager *m = userdata;
        _cleanup_strv_free_ char **l = calloc(1, sizeof(char *));
        if (!l)
                return -ENOMEM;
        for (Image *i = m->images; i; i = i->next) {
                _cleanup_free_ char *p = image_object_path(i);
                if (!p || strv_push(&l, p) < 0)
                        return -ENOMEM;
        }
        *nodes = TAKE_PTR(l);
        return 1;
}

static int property_get_id(sd_bus *bus, const char *path, const char *interface, const char *property,
                           sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Image *i = userdata;
        return sd_bus_message_append(reply, "s", i->id);
}

static int property_get_strv_ptr(sd_bus *bus, const char *path, const char *interface, const char *property,
                                 sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        char ***l = userdata;
        return sd_bus_message_append_strv(reply, *l);
}

const sd_bus_vtable image_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("Id", "s", property_get_id, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("RepoTags", "as", property_get_strv_ptr, offsetof(Image, repo_tags),
                        SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Created", "t", NULL, offsetof(Image, created), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Size", "t", NULL, offsetof(Image, size), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Layers", "as", property_get_strv_ptr, offsetof(Image, layers), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Cmd", "as", property_get_strv_ptr, offsetof(Image, cmd), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Env", "as", property_get_strv_ptr, offsetof(Image, env), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_VTABLE_END,
};
