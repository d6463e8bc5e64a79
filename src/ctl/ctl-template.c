/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Go templates: ctl_render_template(), which parses a whole template and then executes it. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ctl-template.h"
#include "ctl-template-internal.h"

static int set_error(char **ret_error, char **error, const char *fallback) {
        if (!ret_error)
                return -EINVAL;
        *ret_error = *error ? TAKE_PTR(*error) : strdup(fallback);
        return -EINVAL;
}

int ctl_render_template(const char *tmpl, json_object *o, char **ret, char **ret_error) {
        _cleanup_(parser_done) Parser p = { .src = tmpl, .len = tmpl ? strlen(tmpl) : 0 };
        _cleanup_(state_done) State s = { .src = tmpl, .root = o };
        _cleanup_(value_clear) Value root = {};
        Node *tree = NULL;
        TokType end;
        int r;

        if (!tmpl)
                return -EINVAL;
        r = var_declare(&p, (Span){ "$", 1 });
        if (r >= 0)
                r = lex(&p);
        if (r >= 0)
                r = parse_list(&p, &tree, &end);
        if (r == -EINVAL)
                return set_error(ret_error, &p.error, "template: bad template");
        if (r < 0)
                return r;

        root = value_of(o);
        r = var_push(&s, (Span){ "$", 1 }, &root);
        if (r >= 0)
                r = walk_list(&s, &root, tree);
        if (r == -E2BIG || r == -EFBIG || r == -ELOOP) {
                free(s.error);
                s.error = NULL;
                return set_error(ret_error, &s.error,
                                 r == -E2BIG           ? "template: output larger than 16 MiB"
                                         : r == -EFBIG ? "template: execution makes more than 256 MiB of strings"
                                                       : "template: value nested too deeply to print");
        }
        if (r == -EINVAL)
                return set_error(ret_error, &s.error, "template: execution failed");
        if (r < 0)
                return r;
        *ret = s.out.s ? TAKE_PTR(s.out.s) : strdup("");
        return *ret ? 0 : -ENOMEM;
}
