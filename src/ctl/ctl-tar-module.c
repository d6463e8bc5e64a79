/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The berth-tar module: the checked tar code for berthctl cp and build (see ctl-tar.h). */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ctl-tar.h"
#include "macro.h"

/* A tar stream we wrote, again with every entry's owner (and permission bits, when mode >= 0)
 * replaced: COPY --chown/--chmod. */
static int rewrite_owner(int input_fd, int output_fd, unsigned uid, unsigned gid, int mode, char **ret_error) {
        struct archive *in = archive_read_new(), *out = archive_write_new();
        struct archive_entry *e;
        char buf[65536];
        int r = 0;

        if (!in || !out) {
                r = -ENOMEM;
                goto finish;
        }
        if (archive_read_support_format_tar(in) != ARCHIVE_OK ||
            archive_read_open_fd(in, input_fd, 65536) != ARCHIVE_OK ||
            archive_write_set_format_pax_restricted(out) != ARCHIVE_OK ||
            archive_write_open_fd(out, output_fd) != ARCHIVE_OK) {
                r = -EIO;
                goto finish;
        }
        for (;;) {
                int k = archive_read_next_header(in, &e);
                if (k == ARCHIVE_EOF)
                        break;
                if (k != ARCHIVE_OK) {
                        r = -EBADMSG;
                        goto finish;
                }
                archive_entry_set_uid(e, uid);
                archive_entry_set_gid(e, gid);
                archive_entry_set_uname(e, NULL);
                archive_entry_set_gname(e, NULL);
                if (mode >= 0 && archive_entry_filetype(e) != AE_IFLNK)
                        archive_entry_set_perm(e, (mode_t) mode);
                if (archive_write_header(out, e) != ARCHIVE_OK) {
                        r = -EIO;
                        goto finish;
                }
                for (;;) {
                        la_ssize_t n = archive_read_data(in, buf, sizeof(buf));
                        if (n == 0)
                                break;
                        if (n < 0 || archive_write_data(out, buf, (size_t) n) != n) {
                                r = -EIO;
                                goto finish;
                        }
                }
        }
        if (archive_write_close(out) != ARCHIVE_OK)
                r = -EIO;
finish:
        if (r < 0 && ret_error) {
                const char *why = (in && archive_error_string(in)) ? archive_error_string(in)
                        : (out && archive_error_string(out))       ? archive_error_string(out)
                                                                   : strerror(-r);
                *ret_error = strdup(why);
        }
        if (in)
                archive_read_free(in);
        if (out)
                archive_write_free(out);
        return r;
}

/* The sha256 of what a tar stream holds, modification times left out (as Docker's classic
 * builder's tarsum): each entry's name, type, mode, owner, size, link target and data, then extra.
 * Touching a file does not change it; changing its contents, name, mode or owner does. */
static int content_digest(int fd, const char *extra, char ret[SHA256_HEX_LEN + 1]) {
        _cleanup_(sha256_freep) Sha256 *h = NULL;
        struct archive *in = archive_read_new();
        struct archive_entry *e;
        char buf[65536];
        int r = sha256_new(&h);

        if (!in || r < 0) {
                r = -ENOMEM;
                goto finish;
        }
        if (archive_read_support_format_tar(in) != ARCHIVE_OK || archive_read_open_fd(in, fd, 65536) != ARCHIVE_OK) {
                r = -EBADMSG;
                goto finish;
        }
        for (;;) {
                int k = archive_read_next_header(in, &e);
                if (k == ARCHIVE_EOF)
                        break;
                if (k != ARCHIVE_OK) {
                        r = -EBADMSG;
                        goto finish;
                }
                const char *link = archive_entry_symlink(e) ?: archive_entry_hardlink(e);
                char *head = NULL;
                int n = asprintf(&head, "%s%c%o%c%jd:%jd%c%jd%c%s%c", archive_entry_pathname(e) ?: "", 0,
                                 (unsigned) archive_entry_mode(e), 0, (intmax_t) archive_entry_uid(e),
                                 (intmax_t) archive_entry_gid(e), 0, (intmax_t) archive_entry_size(e), 0, link ?: "",
                                 0);
                if (n < 0) {
                        r = -ENOMEM;
                        goto finish;
                }
                r = sha256_update(h, head, (size_t) n);
                free(head);
                if (r < 0)
                        goto finish;
                for (;;) {
                        la_ssize_t m = archive_read_data(in, buf, sizeof(buf));
                        if (m == 0)
                                break;
                        if (m < 0) {
                                r = -EBADMSG;
                                goto finish;
                        }
                        if ((r = sha256_update(h, buf, (size_t) m)) < 0)
                                goto finish;
                }
        }
        r = sha256_update(h, extra, strlen(extra) + 1);
        if (r >= 0)
                r = sha256_final_hex(h, ret);
finish:
        if (in)
                archive_read_free(in);
        return r;
}

extern const CtlTar berth_ctl_tar;
const CtlTar berth_ctl_tar = {
        .write_entry = tar_write_entry_flags,
        .extract = tar_extract_full,
        .write_tree = tar_write_tree,
        .writer_new = tar_writer_new,
        .writer_add = tar_writer_add,
        .writer_finish = tar_writer_finish,
        .writer_take_error = tar_writer_take_error,
        .writer_free = tar_writer_free,
        .sha256_hex_of = sha256_hex_of,
        .rewrite_owner = rewrite_owner,
        .content_digest = content_digest,
};
