/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Image archives: docker-archive (docker save) and OCI image layout archives, in and out. */
#include "errors.h"
#include "image.h"

int method_load_image(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        return sd_bus_error_set(error, SD_BUS_ERROR_NOT_SUPPORTED, "Loading image archives is not implemented yet.");
}

int method_save_images(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        return sd_bus_error_set(error, SD_BUS_ERROR_NOT_SUPPORTED, "Saving image archives is not implemented yet.");
}
