/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <json-c/json.h>

#include "ctl-objects.h"

/* Docker's inspect JSON of a container or an image (also what berth-api answers). */
int ctl_container_json(const ContainerInfo *c, json_object **ret);
int ctl_image_json(const ImageInfo *i, json_object **ret);
