/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The berth-tar module: the checked tar code for berthctl cp and build (see ctl-tar.h). */
#include "ctl-tar.h"

extern const CtlTar berth_ctl_tar;
const CtlTar berth_ctl_tar = {
        .write_entry = tar_write_entry,
        .extract = tar_extract_full,
        .write_tree = tar_write_tree,
        .writer_new = tar_writer_new,
        .writer_add = tar_writer_add,
        .writer_finish = tar_writer_finish,
        .writer_take_error = tar_writer_take_error,
        .writer_free = tar_writer_free,
        .sha256_hex_of = sha256_hex_of,
};
