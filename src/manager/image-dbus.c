/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>
#include <string.h>

#include "bus-polkit.h"
#include "log.h"
#include "errors.h"
#include "image.h"
#include "image-ref.h"
#include "json-util.h"
#include "names.h"

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

static int property_get_string_ptr(sd_bus *bus, const char *path, const char *interface, const char *property,
                                   sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        char **s = userdata;
        return sd_bus_message_append(reply, "s", *s ?: "");
}

static int property_get_labels(sd_bus *bus, const char *path, const char *interface, const char *property,
                               sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Image *i = userdata;
        return bus_append_labels(reply, i->labels);
}

static int property_get_layer_sizes(sd_bus *bus, const char *path, const char *interface, const char *property,
                                    sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Image *i = userdata;
        size_t n = strv_length(i->layers);
        int r = sd_bus_message_open_container(reply, 'a', "t");
        for (size_t k = 0; r >= 0 && k < n; k++)
                r = sd_bus_message_append(reply, "t", i->layer_sizes ? i->layer_sizes[k] : (uint64_t) 0);
        if (r < 0)
                return r;
        return sd_bus_message_close_container(reply);
}

/* "repo@sha256:..." for each repository the image is tagged in, when the manifest digest is known. A
 * local image has no registry manifest, so Docker lists none for it either. */
static int property_get_repo_digests(sd_bus *bus, const char *path, const char *interface, const char *property,
                                     sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Image *i = userdata;
        _cleanup_strv_free_ char **l = calloc(1, sizeof(char *));
        if (!l)
                return -ENOMEM;
        for (char **t = i->repo_tags; i->manifest_digest && t && *t; t++) {
                _cleanup_free_ char *name = NULL, *entry = NULL;
                if (image_reference_parse(*t, &name, NULL) < 0)
                        continue;
                if (asprintf(&entry, "%s@%s", name, i->manifest_digest) < 0)
                        return -ENOMEM;
                if (!strv_contains(l, entry) && strv_push(&l, entry) < 0)
                        return -ENOMEM;
        }
        /* Pulled by digest alone (no tag): the repository it came from, as Docker lists it. */
        const char *slash = i->registry_source ? strchr(i->registry_source, '/') : NULL;
        if (strv_length(l) == 0 && i->manifest_digest && slash) {
                _cleanup_free_ char *host = strndup(i->registry_source, (size_t) (slash - i->registry_source)),
                                    *full = NULL, *name = NULL, *entry = NULL;
                _cleanup_(image_ref_done) ImageRef ref = {};
                if (!host)
                        return -ENOMEM;
                full = strjoin(streq(host, IMAGE_REF_DEFAULT_HOST) ? IMAGE_REF_DEFAULT_DOMAIN : host, slash);
                if (full && image_ref_parse(full, &ref) >= 0 && (name = image_ref_familiar_name(&ref)) &&
                    asprintf(&entry, "%s@%s", name, i->manifest_digest) >= 0 && strv_push(&l, entry) < 0)
                        return -ENOMEM;
        }
        return sd_bus_message_append_strv(reply, l);
}

static int property_get_history(sd_bus *bus, const char *path, const char *interface, const char *property,
                                sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Image *i = userdata;
        ImageHistory *h = NULL;
        size_t n = 0;
        int r = image_history(i, &h, &n);
        if (r < 0)
                return r;
        r = sd_bus_message_open_container(reply, 'a', "(tssb)");
        for (size_t k = 0; r >= 0 && k < n; k++)
                r = sd_bus_message_append(reply, "(tssb)", h[k].created, h[k].created_by, h[k].comment,
                                          (int) h[k].empty_layer);
        image_history_free(h, n);
        if (r < 0)
                return r;
        return sd_bus_message_close_container(reply);
}

/* OnBuild, read from the config blob when asked: only builds want it, so the record does not keep it. */
static int property_get_on_build(sd_bus *bus, const char *path, const char *interface, const char *property,
                                 sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        _cleanup_json_ json_object *blob = NULL;
        _cleanup_free_ char *text = NULL;
        json_object *config, *triggers;
        size_t len;
        int r = image_config_json(userdata, &text, &len);
        if (r < 0)
                return r;
        r = sd_bus_message_open_container(reply, 'a', "s");
        if (r < 0)
                return r;
        if (json_parse_buffer(text, len, &blob) >= 0 && json_object_object_get_ex(blob, "config", &config) &&
            json_object_object_get_ex(config, "OnBuild", &triggers) && json_object_is_type(triggers, json_type_array))
                for (size_t k = 0; r >= 0 && k < json_object_array_length(triggers); k++) {
                        json_object *t = json_object_array_get_idx(triggers, k);
                        if (json_object_is_type(t, json_type_string))
                                r = sd_bus_message_append(reply, "s", json_object_get_string(t));
                }
        if (r < 0)
                return r;
        return sd_bus_message_close_container(reply);
}

static void emit_repo_tags_changed(Image *i) {
        _cleanup_free_ char *path = image_object_path(i);
        if (path)
                (void) sd_bus_emit_properties_changed(i->manager->bus, path, "org.berth1.Image", "RepoTags",
                                                      "RepoDigests", NULL);
}

/* Tag and Untag: the reference argument, normalized, from a caller polkit allows: 0, 1 while polkit
 * is asked (return it), or <0. */
static int read_tag_argument(sd_bus_message *message, char **ret, sd_bus_error *error) {
        const char *reference;
        int r = sd_bus_message_read(message, "s", &reference);
        if (r < 0)
                return r;
        r = bus_verify_action(message, BERTH_ACTION_MANAGE_IMAGES, error);
        if (r != 0)
                return r;
        return image_reference_normalize(reference, ret, error);
}

static int method_tag(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        Image *i = userdata;
        _cleanup_free_ char *tag = NULL;
        int r = read_tag_argument(message, &tag, error);
        if (r != 0)
                return r;
        if (!image_has_tag(i, tag)) {
                /* Taken from its old image first: a crash in between loses the tag, never doubles it. */
                image_move_tag(i->manager, i, tag);
                r = strv_push(&i->repo_tags, tag);
                if (r < 0)
                        return r;
                r = image_save(i);
                if (r < 0)
                        return sd_bus_error_set_errnof(error, -r, "Failed to save image: %m");
                emit_repo_tags_changed(i);
        }
        return sd_bus_reply_method_return(message, NULL);
}

static int method_untag(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        Image *i = userdata;
        _cleanup_free_ char *tag = NULL;
        int r = read_tag_argument(message, &tag, error);
        if (r != 0)
                return r;
        if (!image_has_tag(i, tag))
                return sd_bus_error_setf(error, BERTH_ERROR_NO_SUCH_IMAGE, "Image %.12s has no tag %s.", i->id, tag);
        image_remove_tag(i, tag);
        r = image_save(i);
        if (r < 0)
                return sd_bus_error_set_errnof(error, -r, "Failed to save image: %m");
        emit_repo_tags_changed(i);
        return sd_bus_reply_method_return(message, NULL);
}

static int method_remove(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        Image *i = userdata;
        bool active;
        int force, r;

        r = sd_bus_message_read(message, "b", &force);
        if (r < 0)
                return r;
        r = bus_verify_action(message, BERTH_ACTION_MANAGE_IMAGES, error);
        if (r != 0)
                return r;
        unsigned users = image_count_users(i, &active);
        if (active)
                return sd_bus_error_setf(error, BERTH_ERROR_IMAGE_IN_USE,
                                         "Image %.12s is used by a running container; stop it first.", i->id);
        if (users > 0 && !force)
                return sd_bus_error_setf(error, BERTH_ERROR_IMAGE_IN_USE,
                                         "Image %.12s is used by %u container%s; remove %s first, or force.", i->id,
                                         users, users == 1 ? "" : "s", users == 1 ? "it" : "them");
        r = image_remove(i);
        if (r < 0)
                return sd_bus_error_set_errnof(error, -r, "Failed to remove image: %m");
        return sd_bus_reply_method_return(message, NULL);
}

static bool image_prunable(Image *i, bool all, const BusPruneFilters *f) {
        if ((!all && strv_length(i->repo_tags) > 0) || image_count_users(i, NULL) > 0)
                return false;
        return bus_prune_filters_match(f, i->labels, i->created);
}

/* Manager.PruneImages: untagged images (every image with 'all') that no container uses, in any state. */
int method_prune_images(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        _cleanup_(bus_prune_filters_done) BusPruneFilters f = BUS_PRUNE_FILTERS_INIT;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        uint64_t reclaimed = 0;
        int all, r;

        if ((r = sd_bus_message_read(message, "b", &all)) < 0 ||
            (r = bus_read_prune_filters(message, true, &f, error)) < 0 ||
            (r = bus_verify_action(message, BERTH_ACTION_MANAGE_IMAGES, error)) != 0)
                return r;
        /* Removing one image changes nothing about whether another may go. */
        _cleanup_strv_free_ char **ids = calloc(1, sizeof(char *));
        if (!ids)
                return -ENOMEM;
        for (Image *i = m->images; i; i = i->next)
                if (image_prunable(i, all, &f) && strv_push(&ids, i->id) < 0)
                        return -ENOMEM;
        if ((r = sd_bus_message_new_method_return(message, &reply)) < 0 ||
            (r = sd_bus_message_open_container(reply, 'a', "(sas)")) < 0)
                return r;
        for (char **id = ids; *id; id++) {
                Image *i = m->images;
                while (i && !streq(i->id, *id))
                        i = i->next;
                if (!i)
                        continue;
                /* Computed before each removal: a layer shared by two pruned images is freed with the second. */
                uint64_t size = image_unique_size(i);
                _cleanup_strv_free_ char **tags = strv_copy(i->repo_tags);
                if (!tags)
                        return -ENOMEM;
                r = image_remove(i);
                if (r < 0) {
                        /* Nothing of it is gone: the others are still pruned, it stays for the next time. */
                        log_warning("Failed to prune image %.12s, skipping: %s", *id, strerror(-r));
                        continue;
                }
                reclaimed += size;
                if ((r = sd_bus_message_open_container(reply, 'r', "sas")) < 0 ||
                    (r = sd_bus_message_append(reply, "s", *id)) < 0 ||
                    (r = sd_bus_message_append_strv(reply, tags)) < 0 ||
                    (r = sd_bus_message_close_container(reply)) < 0)
                        return r;
        }
        if ((r = sd_bus_message_close_container(reply)) < 0 || (r = sd_bus_message_append(reply, "t", reclaimed)) < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

const sd_bus_vtable image_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("Id", "s", property_get_id, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("RepoTags", "as", property_get_strv_ptr, offsetof(Image, repo_tags),
                        SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Created", "t", NULL, offsetof(Image, created), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("RepoDigests", "as", property_get_repo_digests, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Size", "t", NULL, offsetof(Image, size), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("VirtualSize", "t", NULL, offsetof(Image, size), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Layers", "as", property_get_strv_ptr, offsetof(Image, layers), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("LayerSizes", "at", property_get_layer_sizes, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("History", "a(tssb)", property_get_history, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("OnBuild", "as", property_get_on_build, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("BuildCacheKey", "s", property_get_string_ptr, offsetof(Image, build_cache_key),
                        SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Architecture", "s", property_get_string_ptr, offsetof(Image, architecture),
                        SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Os", "s", property_get_string_ptr, offsetof(Image, os), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Cmd", "as", property_get_strv_ptr, offsetof(Image, cmd), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Entrypoint", "as", property_get_strv_ptr, offsetof(Image, entrypoint),
                        SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Env", "as", property_get_strv_ptr, offsetof(Image, env), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("WorkingDir", "s", property_get_string_ptr, offsetof(Image, working_dir),
                        SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("User", "s", property_get_string_ptr, offsetof(Image, user), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("StopSignal", "s", property_get_string_ptr, offsetof(Image, stop_signal),
                        SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Labels", "a{ss}", property_get_labels, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("ExposedPorts", "as", property_get_strv_ptr, offsetof(Image, exposed_ports),
                        SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Volumes", "as", property_get_strv_ptr, offsetof(Image, volumes), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_METHOD_WITH_ARGS("Tag", SD_BUS_ARGS("s", reference), SD_BUS_NO_RESULT, method_tag,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Untag", SD_BUS_ARGS("s", reference), SD_BUS_NO_RESULT, method_untag,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Remove", SD_BUS_ARGS("b", force), SD_BUS_NO_RESULT, method_remove,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_VTABLE_END,
};
