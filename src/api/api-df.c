/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* docker system df: GET /system/df from Manager.GetDiskUsage, in the shapes of the image,
 * container and volume lists. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "ctl-bus.h"
#include "ctl-objects.h"
#include "json-util.h"
#include "names.h"
#include "util.h"

static const ImageInfo *find_image(const ObjectList *l, const char *id) {
        for (size_t i = 0; i < l->n_images; i++)
                if (streq(image_id_strip(l->images[i].id ?: ""), image_id_strip(id)))
                        return &l->images[i];
        return NULL;
}

/* Images: GetDiskUsage's (id, size, unique size, containers) with the list's tags and times. */
static int images_json(sd_bus_message *reply, const ObjectList *l, json_object *a) {
        const char *id;
        uint64_t size, unique;
        uint32_t containers;
        int r = sd_bus_message_enter_container(reply, 'a', "(sttu)");
        while (r >= 0 && (r = sd_bus_message_read(reply, "(sttu)", &id, &size, &unique, &containers)) > 0) {
                const ImageInfo *img = find_image(l, id);
                _cleanup_free_ char *full = strjoin("sha256:", image_id_strip(id));
                json_object *o = json_object_new_object();
                if (!o || !full) {
                        json_object_put(o);
                        return -ENOMEM;
                }
                json_object_object_add(o, "Id", json_object_new_string(full));
                json_object_object_add(o, "ParentId", json_object_new_string(""));
                json_object_object_add(o, "RepoTags", json_strv_new(img ? img->repo_tags : NULL));
                json_object_object_add(o, "RepoDigests", json_strv_new(img ? img->repo_digests : NULL));
                json_object_object_add(o, "Created",
                                       json_object_new_int64(img ? (int64_t) (img->created / USEC_PER_SEC) : 0));
                json_object_object_add(o, "Size", json_object_new_int64((int64_t) size));
                json_object_object_add(o, "VirtualSize", json_object_new_int64((int64_t) size));
                json_object_object_add(o, "SharedSize",
                                       json_object_new_int64((int64_t) (size >= unique ? size - unique : 0)));
                json_object_object_add(o, "Labels", json_object_new_object());
                json_object_object_add(o, "Containers", json_object_new_int64(containers));
                json_object_array_add(a, o);
        }
        if (r >= 0)
                r = sd_bus_message_exit_container(reply);
        return r;
}

/* Containers: the list's entries with SizeRw (the writable layer) and SizeRootFs (plus the
 * image's layers). */
static int containers_json(sd_bus_message *reply, const ObjectList *l, json_object *a) {
        uint64_t now = now_realtime_usec();
        const char *id;
        uint64_t size;
        uint32_t volumes;
        int r = sd_bus_message_enter_container(reply, 'a', "(stu)");
        while (r >= 0 && (r = sd_bus_message_read(reply, "(stu)", &id, &size, &volumes)) > 0) {
                const ContainerInfo *ci = NULL;
                for (size_t i = 0; i < l->n_containers && !ci; i++)
                        if (streq_ptr(l->containers[i].id, id))
                                ci = &l->containers[i];
                if (!ci) /* removed meanwhile */
                        continue;
                json_object *o = api_container_summary_json(ci, now);
                if (!o)
                        return -ENOMEM;
                const ImageInfo *img = find_image(l, ci->image_id ?: "");
                json_object_object_add(o, "SizeRw", json_object_new_int64((int64_t) size));
                json_object_object_add(o, "SizeRootFs",
                                       json_object_new_int64((int64_t) (size + (img ? img->size : 0))));
                json_object_array_add(a, o);
        }
        if (r >= 0)
                r = sd_bus_message_exit_container(reply);
        return r;
}

/* Volumes: the list's entries with UsageData {Size, RefCount}. */
static int volumes_json(ApiConn *c, sd_bus_message *reply, json_object *a) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        VolumeInfo *v = NULL;
        size_t n = 0;
        const char *name;
        uint32_t refs;
        uint64_t size;
        int r = volume_list_fetch(c->server->bus, &error, &v, &n);
        if (r >= 0)
                r = sd_bus_message_enter_container(reply, 'a', "(sut)");
        while (r >= 0 && (r = sd_bus_message_read(reply, "(sut)", &name, &refs, &size)) > 0) {
                for (size_t i = 0; i < n; i++) {
                        if (!streq_ptr(v[i].name, name))
                                continue;
                        json_object *o = api_volume_json(&v[i]), *usage = json_object_new_object();
                        if (!o || !usage) {
                                json_object_put(o);
                                json_object_put(usage);
                                r = -ENOMEM;
                                break;
                        }
                        json_object_object_add(usage, "Size", json_object_new_int64((int64_t) size));
                        json_object_object_add(usage, "RefCount", json_object_new_int64(refs));
                        json_object_object_add(o, "UsageData", usage);
                        json_object_array_add(a, o);
                }
        }
        for (size_t i = 0; i < n; i++)
                volume_info_done(&v[i]);
        free(v);
        return r;
}

static int on_disk_usage(ApiConn *c, sd_bus_message *reply) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(object_list_done) ObjectList list = {};
        uint64_t layers, reclaimable;
        int r;

        if (sd_bus_message_is_method_error(reply, NULL))
                return api_reply_bus_error(c, sd_bus_message_get_error(reply), -EIO);
        r = object_list_fetch(c->server->bus, &error, &list);
        if (r < 0)
                return api_reply_bus_error(c, &error, r);

        _cleanup_json_ json_object *o = json_object_new_object();
        json_object *images = json_object_new_array(), *containers = json_object_new_array(),
                    *volumes = json_object_new_array();
        if (!o || !images || !containers || !volumes) {
                json_object_put(images);
                json_object_put(containers);
                json_object_put(volumes);
                return -ENOMEM;
        }
        json_object_object_add(o, "Images", images);
        json_object_object_add(o, "Containers", containers);
        json_object_object_add(o, "Volumes", volumes);
        json_object_object_add(o, "BuildCache", json_object_new_array());
        r = sd_bus_message_read(reply, "tt", &layers, &reclaimable);
        if (r >= 0)
                r = images_json(reply, &list, images);
        if (r >= 0)
                r = containers_json(reply, &list, containers);
        if (r >= 0)
                r = volumes_json(c, reply, volumes);
        if (r < 0)
                return r;
        json_object_object_add(o, "LayersSize", json_object_new_int64((int64_t) layers));
        return api_reply_json(c, 200, o);
}

int api_system_df(ApiConn *c) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        int r = sd_bus_message_new_method_call(c->server->bus, &m, BERTH_BUS_SERVICE, BERTH_BUS_PATH, BERTH_BUS_MANAGER,
                                               "GetDiskUsage");
        if (r >= 0)
                r = api_call_async(c, m, CTL_TIMEOUT_LONG, on_disk_usage);
        return r;
}
