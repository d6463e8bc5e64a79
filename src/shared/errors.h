/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Named D-Bus errors of org.berth1. Keep in sync with man/org.berth1.xml. */
#define BERTH_ERROR_NO_SUCH_CONTAINER     "org.berth1.Error.NoSuchContainer"
#define BERTH_ERROR_NO_SUCH_IMAGE         "org.berth1.Error.NoSuchImage"
#define BERTH_ERROR_NAME_IN_USE           "org.berth1.Error.NameInUse"
#define BERTH_ERROR_INVALID_NAME          "org.berth1.Error.InvalidName"
#define BERTH_ERROR_INVALID_ARGUMENT      "org.berth1.Error.InvalidArgument"
#define BERTH_ERROR_INVALID_IMAGE         "org.berth1.Error.InvalidImage"
#define BERTH_ERROR_CONTAINER_RUNNING     "org.berth1.Error.ContainerRunning"
#define BERTH_ERROR_CONTAINER_NOT_RUNNING "org.berth1.Error.ContainerNotRunning"
#define BERTH_ERROR_IMAGE_IN_USE          "org.berth1.Error.ImageInUse"
#define BERTH_ERROR_START_FAILED          "org.berth1.Error.StartFailed"
#define BERTH_ERROR_EXEC_FAILED           "org.berth1.Error.ExecFailed"
#define BERTH_ERROR_BUSY                  "org.berth1.Error.Busy"
#define BERTH_ERROR_ACCESS_DENIED         "org.berth1.Error.AccessDenied"
#define BERTH_ERROR_CONTAINER_PAUSED      "org.berth1.Error.ContainerPaused"
#define BERTH_ERROR_CONTAINER_NOT_PAUSED  "org.berth1.Error.ContainerNotPaused"
#define BERTH_ERROR_NO_SUCH_VOLUME        "org.berth1.Error.NoSuchVolume"
#define BERTH_ERROR_VOLUME_IN_USE         "org.berth1.Error.VolumeInUse"
#define BERTH_ERROR_NO_SUCH_PLUGIN        "org.berth1.Error.NoSuchPlugin"
#define BERTH_ERROR_PLUGIN_FAILED         "org.berth1.Error.PluginFailed"
#define BERTH_ERROR_NO_SUCH_PATH          "org.berth1.Error.NoSuchPath"
