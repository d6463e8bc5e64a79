/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdint.h>

#include "manager.h"
#include "util.h"

typedef struct Image {
        Manager *manager;
        Image *next;
        char id[BERTH_ID_LEN + 1]; /* sha256 of the image's JSON description */
        char **repo_tags;          /* "name:tag" */
        char **layers;             /* diff ids "sha256:<hex>", bottom first */
        char **cmd;
        char **env;
        uint64_t created;
        uint64_t size;
} Image;

char *image_object_path(const Image *i);
/* By "name[:tag]", id, "sha256:<id>" or unique id prefix. */
Image *manager_find_image(Manager *m, const char *ref, bool *ret_ambiguous);
int manager_load_images(Manager *m);
/* Import a tarball as a one-layer image tagged 'reference'. Errors are set on 'error'. */
int image_import(Manager *m, int tar_fd, const char *reference, Image **ret, sd_bus_error *error);
/* Host paths of the overlay lower dirs, top layer first. */
int image_lower_dirs(Image *i, char ***ret);
void image_free(Image *i);
