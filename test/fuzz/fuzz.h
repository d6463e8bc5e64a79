/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* The libFuzzer entry point, implemented by each fuzz-*.c; fuzz-main.c drives it without libFuzzer. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A contract the code under test must keep: abort (a finding) when it does not. */
#define require(expr)                                                                        \
        do {                                                                                 \
                if (!(expr)) {                                                               \
                        fprintf(stderr, "%s:%d: violated: %s\n", __FILE__, __LINE__, #expr); \
                        abort();                                                             \
                }                                                                            \
        } while (0)

/* fuzz-util.c: the input as a memfd, read from its start. */
int fuzz_memfd(const char *name, const uint8_t *data, size_t size);
/* rm -rf that also copes with directories an archive made unreadable (matters when not root). */
void fuzz_force_remove(int dirfd, const char *name);
