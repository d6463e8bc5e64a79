/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdint.h>

#include "manager.h"
#include "util.h"

typedef struct Image {
        Manager *manager;
        Image *next;
        char id[BERTH_ID_LEN + 1]; /* sha256 of the image's JSON description */
        char **repo_tags; /* "name:tag" */
        char **layers; /* diff ids "sha256:<hex>", bottom first */
        char **cmd;
        char **env;
        uint64_t created;
        uint64_t size;
} Image;

char *image_object_path(const Image *i);
/* By "name[:tag]", id, "sha256:<id>" or unique id prefix. */
Image *manager_find_image(Manager *m, const char *ref, bool *ret_ambiguous);
int manager_load_images(Manager *m);
/* Import a tarball as a one-layer image tagged 'reference'. The extraction runs in a worker
 * process; 'request' is answered when it is done. Returns 1 when the answer is pending. */
int image_import(Manager *m, int tar_fd, const char *reference, sd_bus_message *request, sd_bus_error *error);
int image_save(Image *i);
int image_compute_id(Image *i);
void image_move_tag(Manager *m, Image *target, const char *tag);
/* Host paths of the overlay lower dirs, top layer first. */
int image_lower_dirs(Image *i, char ***ret);
void image_free(Image *i);

/* docker-archive / OCI archive in and out (image-archive.c): Manager.LoadImage, Manager.SaveImages. */
int method_load_image(sd_bus_message *message, void *userdata, sd_bus_error *error);
int method_save_images(sd_bus_message *message, void *userdata, sd_bus_error *error);
