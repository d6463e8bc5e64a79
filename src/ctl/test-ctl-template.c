/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl-template.h"
#include "macro.h"

static int failures;

static void expect(const char *tmpl, const char *want) {
        json_object *o = json_tokener_parse(
                "{\"Id\":\"abc\",\"State\":{\"Status\":\"running\",\"Pid\":42,\"Running\":true},"
                "\"Config\":{\"Cmd\":[\"sleep\",\"1\"]},\"Name\":\"/web\",\"Null\":null}");
        char *out = NULL, *err = NULL;
        int r = ctl_render_template(tmpl, o, &out, &err);
        bool ok = want ? (r == 0 && streq(out, want)) : r < 0;
        if (!ok) {
                fprintf(stderr, "FAIL: %s -> r=%d out=%s err=%s\n", tmpl, r, out, err);
                failures++;
        }
        free(out);
        free(err);
        json_object_put(o);
}

int main(void) {
        expect("{{.Id}}", "abc");
        expect("{{.State.Status}}", "running");
        expect("{{ .State.Pid }}", "42");
        expect("{{.State.Running}}", "true");
        expect("{{json .Config.Cmd}}", "[\"sleep\",\"1\"]");
        expect("{{json .State.Status}}", "\"running\"");
        expect("id={{.Id}} name={{.Name}}", "id=abc name=/web");
        expect("plain", "plain");
        expect("{{.Null}}", "<no value>");
        expect("{{.Nope}}", NULL);
        expect("{{.State.Nope}}", NULL);
        expect("{{.Id", NULL);
        expect("{{range .X}}", NULL);
        if (failures == 0)
                printf("ok: ctl-template\n");
        return failures ? 1 : 0;
}
