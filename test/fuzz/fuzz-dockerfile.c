/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The Dockerfile parser, word expansion and .dockerignore on arbitrary bytes, checking their
 * contracts: errors are sentences naming a line, instructions are well formed, expansion either
 * succeeds or says why. */

#include <errno.h>
#include <string.h>

#include "dockerfile.h"
#include "dockerignore.h"
#include "fuzz.h"
#include "macro.h"
#include "util.h"

static void check_instruction(const Dockerfile *d, const DockerfileInstruction *i) {
        DockerfileVars vars = { .env = (char *[]){ "A=x y", "EMPTY=", NULL } };
        require(i->keyword && i->keyword[0] && i->original && i->rest && i->line > 0);
        for (const char *k = i->keyword; *k; k++)
                require(*k >= 'a' && *k <= 'z');
        require(!i->flags || dockerfile_keyword_takes_flags(i->keyword));
        for (char **f = i->flags; f && *f; f++)
                require(strncmp(*f, "--", 2) == 0);

        _cleanup_strv_free_ char **words = NULL;
        _cleanup_free_ char *word = NULL, *e1 = NULL, *e2 = NULL;
        int r = dockerfile_expand_words(i->rest, d->escape, &vars, &words, &e1);
        require(r >= 0 ? words != NULL : (r == -ENOMEM || (r == -EINVAL && e1)));
        r = dockerfile_expand_word(i->rest, d->escape, &vars, &word, &e2);
        require(r >= 0 ? word != NULL : (r == -ENOMEM || (r == -EINVAL && e2)));

        _cleanup_strv_free_ char **pairs = NULL, **used = NULL;
        _cleanup_free_ char *e3 = NULL, *e4 = NULL;
        r = dockerfile_parse_pairs(i->rest, d->escape, &vars, &pairs, &e3);
        require(r >= 0 ? pairs != NULL : (r == -ENOMEM || (r == -EINVAL && e3)));
        for (char **p = pairs; p && *p; p++)
                require(strchr(*p, '=') && *p[0] != '=');
        DockerfileVars scope = {};
        r = dockerfile_apply_arg(i->rest, d->escape, &vars, (char *[]){ "A=1", NULL }, &vars, &scope, &used, &e4);
        require(r >= 0 || r == -ENOMEM || (r == -EINVAL && e4));
        strv_free(scope.env);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_(dockerfile_freep) Dockerfile *d = NULL;
        _cleanup_(dockerignore_freep) DockerIgnore *ignore = NULL;
        _cleanup_free_ char *error = NULL, *s = malloc(size + 1);

        if (!s || size > 16384)
                return 0;
        memcpy(s, data, size);
        s[size] = 0;
        int r = dockerfile_parse(s, size, &d, &error);
        if (r < 0) {
                require(!d);
                require(r == -ENOMEM || (r == -EINVAL && error && error[0]));
        } else {
                require(d && d->n_instructions > 0);
                require(d->escape == '\\' || d->escape == '`');
                for (size_t k = 0; k < d->n_instructions; k++) {
                        check_instruction(d, &d->instructions[k]);
                        require(k == 0 || d->instructions[k].line > d->instructions[k - 1].line);
                }
        }
        if (!memchr(data, 0, size) && dockerignore_parse(s, &ignore) >= 0) {
                (void) dockerignore_excludes(ignore, "a/b/c");
                (void) dockerignore_excludes(ignore, s);
        }
        return 0;
}
