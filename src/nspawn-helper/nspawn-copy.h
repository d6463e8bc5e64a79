/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Copy the contents of directory 'src' into directory 'dst' (both descriptors, any open mode),
 * keeping types, modes, owners and times. Symbolic links are copied as links and never followed,
 * on either side; only regular files, directories, symlinks, FIFOs and device nodes are copied
 * (sockets are skipped). Hard links become separate files. */
int copy_tree_contents(int src, int dst);

/* Remove everything in the directory (not following symlinks); the directory itself stays. */
int empty_directory(int dirfd);

/* True if the directory has no entries besides "." and "..". */
int dir_is_empty_at(int dirfd);
