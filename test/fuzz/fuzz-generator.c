/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* berth-generator's parsing on arbitrary bytes: the whole input as a .container file and as a
 * line to split. A refusal says why; a generated unit parses again as a unit file; every word
 * quoted for ExecStart= splits back into itself. */

#include <errno.h>
#include <string.h>

#include "fuzz.h"
#include "gen-container.h"
#include "gen-split.h"
#include "gen-unit-file.h"
#include "names.h"
#include "util.h"

static void check_words(const char *s) {
        _cleanup_strv_free_ char **words = NULL;
        int r = unit_split_words(s, &words);

        require(r == 0 || r == -EINVAL || r == -ENOMEM);
        if (r < 0)
                return;
        for (char **w = words; *w; w++) {
                _cleanup_free_ char *q = unit_quote_word(*w);
                _cleanup_strv_free_ char **back = NULL;
                if (!q || strchr(*w, '$'))
                        continue; /* $$ is systemd's, not the splitter's */
                require(unit_split_words(q, &back) == 0);
                require(back[0] && streq(back[0], *w) && !back[1]);
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_free_ char *text = strndup((const char *) data, size);
        _cleanup_free_ char *message = NULL;
        GeneratedUnit u = {};
        unsigned line = 0;
        int r;

        if (!text)
                return 0;
        check_words(text);
        r = container_unit_generate("web", "/etc/berth/systemd/web.container", text, "/usr/bin/berthctl", &u, &line,
                                    &message);
        require(r == 0 || r == -EINVAL || r == -ENOMEM);
        if (r == -EINVAL)
                require(message && !u.text);
        if (r == 0) {
                UnitFile f = {};
                require(u.text && u.container && container_name_is_valid(u.container));
                require(unit_file_parse(u.text, &f, NULL) == 0);
                unit_file_done(&f);
        }
        generated_unit_done(&u);
        return 0;
}
