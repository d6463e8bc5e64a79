/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/uio.h>

#include "log-stream.h"
#include "nspawn-spec.h"

enum { JOURNAL_FIELDS_MAX = 10 };

/* The journal fields of one container, formatted once; each line reuses them. */
typedef struct JournalWriter {
        struct iovec fields[JOURNAL_FIELDS_MAX];
        size_t n_fields;
        char *owned[JOURNAL_FIELDS_MAX];
        size_t n_owned;
        unsigned long long n_sent;
        char message[sizeof("MESSAGE=") - 1 + LOG_LINE_MAX];
} JournalWriter;

int journal_writer_init(JournalWriter *w, const ContainerSpec *spec);
void journal_writer_done(JournalWriter *w);
/* priority is 6 (stdout) or 3 (stderr) */
int journal_writer_line(JournalWriter *w, int priority, const char *line, size_t len, bool partial);
/* Wait until journald has processed every entry this process sent. */
int journal_synchronize(int timeout_ms);
