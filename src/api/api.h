/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "api-http.h"
#include "ctl-objects.h"

#define API_VERSION_MAX_MINOR 41
#define API_VERSION_MIN_MINOR 24

/* Endpoints: each answers the request (now, or later through api_call_async()). The argument is
 * the object's name, id or reference from the path. */
int api_ping(ApiConn *c);
int api_version(ApiConn *c);
int api_info(ApiConn *c);
int api_events(ApiConn *c);
int api_login(ApiConn *c);

int api_containers_list(ApiConn *c);
int api_container_inspect(ApiConn *c, const char *name);
int api_container_create(ApiConn *c);
int api_container_action(ApiConn *c, const char *name, const char *action);
int api_container_wait(ApiConn *c, const char *name);
int api_container_remove(ApiConn *c, const char *name);
int api_container_logs(ApiConn *c, const char *name);
int api_container_attach(ApiConn *c, const char *name);
int api_container_resize(ApiConn *c, const char *name);
/* For Start: StartAttached(WithInput) with the descriptors of an attach waiting for this
 * container, made into *ret (returns 1); 0 when none waits. */
/* The hijacked stream of attach and exec start: pipes for stdout and stderr framed onto the
 * socket, the socket itself as stdin when want_in. Sets c's userdata. */
typedef struct Attach Attach;
int api_attach_setup(ApiConn *c, bool tty, bool want_in, bool want_out, bool want_err, Attach **ret);
/* Appends (stdin, stdout, stderr) to m and drops our copies; the stream then stays open until
 * api_attach_release() (the call's answer) as well as the pipes' end. */
int api_attach_append_fds(Attach *a, sd_bus_message *m, void *owner);
void api_attach_release(Attach *a);
void *api_attach_owner(Attach *a);

int api_exec_create(ApiConn *c, const char *name);
int api_exec_start(ApiConn *c, const char *id);
int api_exec_inspect(ApiConn *c, const char *id);
int api_exec_resize(ApiConn *c, const char *id);

int api_attach_start_message(ApiConn *c, const char *path, sd_bus_message **ret);

int api_images_list(ApiConn *c);
int api_image_inspect(ApiConn *c, const char *name);
int api_image_pull(ApiConn *c);
int api_image_remove(ApiConn *c, const char *name);
int api_image_tag(ApiConn *c, const char *name);
int api_image_history(ApiConn *c, const char *name);
int api_network_create(ApiConn *c);
int api_network_remove(ApiConn *c, const char *name);
int api_container_rename(ApiConn *c, const char *name);
int api_container_top(ApiConn *c, const char *name);
int api_container_stats(ApiConn *c, const char *name);
int api_container_archive_get(ApiConn *c, const char *name);
int api_container_archive_put(ApiConn *c, const char *name);
int api_container_changes(ApiConn *c, const char *name);
int api_container_export(ApiConn *c, const char *name);
int api_container_update(ApiConn *c, const char *name);
int api_commit(ApiConn *c);
/* name: /images/{name}/get; NULL: the names query of /images/get. */
int api_images_save(ApiConn *c, const char *name);
int api_images_load(ApiConn *c);
int api_image_push(ApiConn *c, const char *name);
int api_image_import(ApiConn *c);
int api_system_df(ApiConn *c);

int api_volumes_list(ApiConn *c);
int api_volume_create(ApiConn *c);
int api_volume_inspect(ApiConn *c, const char *name);
int api_volume_remove(ApiConn *c, const char *name);
int api_networks_list(ApiConn *c);
int api_network_inspect(ApiConn *c, const char *name);
int api_network_connect(ApiConn *c, const char *name);
int api_network_disconnect(ApiConn *c, const char *name);

int api_containers_prune(ApiConn *c);
int api_images_prune(ApiConn *c);
int api_volumes_prune(ApiConn *c);
int api_networks_prune(ApiConn *c);

/* The entries of GET /containers/json and /volumes (also in /system/df). */
json_object *api_container_summary_json(const ContainerInfo *ci, uint64_t now);
json_object *api_volume_json(const VolumeInfo *v);

/* Manager.GetContainer; replies 404 "No such container: NAME" (or the error) and returns 0 when it
 * fails, 1 with the object path when found. */
int api_lookup_container(ApiConn *c, const char *name, char **ret_path);
/* The JSON object body[key] of strings as the a{ss} option 'option' (Labels, Options); nothing when
 * the key is absent or null, -EINVAL when it is no object of strings. */
int api_append_kv_option(sd_bus_message *m, json_object *body, const char *key, const char *option);
/* The end of a JSON progress stream (pull, push) whose call failed: Docker's in-stream error (the
 * status was 200 already). */
int api_stream_end_with_error(ApiConn *c, const sd_bus_error *e);
/* The answer to a call that made an image (commit, import): {key: "sha256:<id>"} with status, or
 * the call's error. */
int api_reply_image_id(ApiConn *c, sd_bus_message *reply, const char *key, int status);
/* The request body as a JSON object; replies 400 and returns 0 when it is not one. An empty body
 * is an empty object. */
int api_body_json(ApiConn *c, json_object **ret);
