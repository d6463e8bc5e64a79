/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define _cleanup_(f)        __attribute__((cleanup(f)))
#define _cleanup_free_      _cleanup_(freep)
#define _cleanup_close_     _cleanup_(closep)
#define _cleanup_fclose_    _cleanup_(fclosep)
#define _cleanup_strv_free_ _cleanup_(strv_freep)
#define _unused_            __attribute__((unused))
#define _noreturn_          __attribute__((noreturn))
#define _printf_(a, b)      __attribute__((format(printf, a, b)))
#define _sentinel_          __attribute__((sentinel))

#define ELEMENTSOF(x) (sizeof(x) / sizeof((x)[0]))

/* Hand ownership of a pointer/fd over and leave NULL/-1 behind, so cleanup does nothing. */
#define TAKE_PTR(p)                          \
        ({                                   \
                __typeof__(p) *_pp_ = &(p);  \
                __typeof__(p) _ptr_ = *_pp_; \
                *_pp_ = NULL;                \
                _ptr_;                       \
        })
#define TAKE_FD(fd)                 \
        ({                          \
                int *_fdp_ = &(fd); \
                int _fd_ = *_fdp_;  \
                *_fdp_ = -1;        \
                _fd_;               \
        })

/* Define a NULL-tolerant "pointer to pointer" cleanup helper for a library free function. */
#define DEFINE_TRIVIAL_CLEANUP_FUNC(type, func) \
        static inline void func##p(type *p) {   \
                if (*p)                         \
                        func(*p);               \
        }

static inline void freep(void *p) {
        free(*(void **) p);
}

static inline void *mfree(void *p) {
        free(p);
        return NULL;
}

static inline int safe_close(int fd) {
        if (fd >= 0) {
                int saved = errno;
                (void) close(fd);
                errno = saved;
        }
        return -1;
}

static inline void closep(int *fd) {
        safe_close(*fd);
}

static inline void fclosep(FILE **f) {
        if (*f)
                fclose(*f);
}

static inline int negative_errno(void) {
        return errno > 0 ? -errno : -EIO;
}

#define streq(a, b)     (strcmp((a), (b)) == 0)
#define streq_ptr(a, b) ((a) && (b) ? streq((a), (b)) : (a) == (b))
#define isempty(s)      (!(s) || !(s)[0])
#define USEC_PER_SEC    1000000ULL
#define USEC_PER_MSEC   1000ULL
#define NSEC_PER_USEC   1000ULL
