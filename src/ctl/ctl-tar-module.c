/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The berth-tar module: the checked tar code for berthctl cp (see ctl-tar.h). */
#include "ctl-tar.h"

extern const CtlTar berth_ctl_tar;
const CtlTar berth_ctl_tar = {
        .write_entry = tar_write_entry_flags,
        .extract = tar_extract_full,
};
