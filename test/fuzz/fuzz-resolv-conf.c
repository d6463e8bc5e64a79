/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* resolv.conf text, arbitrary bytes: what parses comes back the same from the text written for it;
 * the host's configuration always has nameservers, none of them loopback; each line as an
 * --add-host entry either parses into a hosts line or is refused. */

#include <string.h>

#include "fuzz.h"
#include "macro.h"
#include "resolv-conf.h"
#include "util.h"

static bool strv_equal(char *const *a, char *const *b) {
        size_t n = strv_length(a);
        if (n != strv_length(b))
                return false;
        for (size_t i = 0; i < n; i++)
                if (!streq(a[i], b[i]))
                        return false;
        return true;
}

static void round_trip(const ResolvConf *c) {
        _cleanup_free_ char *text = resolv_conf_format(c);
        ResolvConf again = {};

        if (!text)
                return;
        require(resolv_conf_parse(text, strlen(text), &again) == 0);
        require(strv_equal(again.nameservers, c->nameservers));
        require(strv_equal(again.search, c->search));
        require(strv_equal(again.options, c->options));
        resolv_conf_done(&again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        const char *text = (const char *) data;
        ResolvConf c = {}, host = {}, container = {};
        bool fallback;

        if (resolv_conf_parse(text, size, &c) < 0)
                return 0;
        for (char **s = c.nameservers; s && *s; s++)
                require(nameserver_is_valid(*s));
        round_trip(&c);

        if (resolv_conf_host(text, size, text, size, &host, &fallback) == 0) {
                require(host.nameservers && host.nameservers[0]);
                for (char **s = host.nameservers; *s; s++)
                        require(!nameserver_is_loopback(*s));
                round_trip(&host);
                if (resolv_conf_for_container(&host, c.nameservers, c.options, c.search, &container) == 0) {
                        round_trip(&container);
                        resolv_conf_done(&container);
                }
                resolv_conf_done(&host);
        }

        /* Lines as --add-host entries. */
        _cleanup_free_ char *copy = strndup(text, size);
        if (copy) {
                _cleanup_strv_free_ char **lines = NULL;
                char *save = NULL;
                for (char *l = strtok_r(copy, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
                        _cleanup_free_ char *name = NULL, *address = NULL;
                        if (extra_host_parse(l, "172.18.0.1", &name, &address) == 0) {
                                require(!isempty(name) && nameserver_is_valid(address));
                                require(!strpbrk(name, " \t\n#"));
                                if (strv_push(&lines, l) < 0)
                                        break;
                        }
                }
                _cleanup_free_ char *hosts = NULL;
                HostsLine own = { "172.18.0.2", STRV_MAKE("host", "name") };
                require(etc_hosts_format(&own, 1, lines, "172.18.0.1", &hosts) == 0 || !hosts);
        }
        resolv_conf_done(&c);
        return 0;
}
