/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* A Quadlet-style NAME.container file turned into NAME.service (see berth.container(5)). Pure:
 * no file system access, so the whole translation is unit-tested. */

typedef struct GeneratedUnit {
        char *text; /* the service unit's content */
        char *container; /* the container's name */
        char **wanted_by; /* [Install] WantedBy= units: TARGET.wants/NAME.service links */
        char **required_by; /* RequiredBy=: TARGET.requires/ */
        char **upheld_by; /* UpheldBy=: TARGET.upholds/ */
        char **aliases; /* Alias=: links to NAME.service */
} GeneratedUnit;

void generated_unit_done(GeneratedUnit *u);

/* unit_name: the file's name without ".container" (the service is unit_name + ".service");
 * source_path: the file (for SourcePath=); text: its content; berthctl: the absolute path
 * ExecStart= runs. On a mistake in the file returns -EINVAL with a sentence in *ret_message and
 * the line it is about (0: the whole file) in *ret_line; -ENOMEM otherwise. */
int container_unit_generate(const char *unit_name, const char *source_path, const char *text, const char *berthctl,
                            GeneratedUnit *ret, unsigned *ret_line, char **ret_message);
