/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <arpa/inet.h>
#include <errno.h>
#include <json-c/json.h>
#include <net/if.h>
#include <nftables/libnftables.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "firewall.h"
#include "util.h"

/* The table. How it lives beside the others on the hook points (a packet passes a hook only when
 * every base chain there lets it pass; an accept ends one table's chain, never another's):
 *
 * - prerouting at dstnat (-100) and output at -100 (nft 1.0.6 knows the name dstnat only for
 *   prerouting): the same as iptables-nft's "ip nat" (Docker) and just before firewalld's NAT
 *   chains (dstnat + 10). Of the NAT chains on one hook the first to map a connection wins, and
 *   berthd binds each published port, so no other program publishes the same one.
 * - postrouting at srcnat (100), like "ip nat POSTROUTING"; masquerading twice is impossible, the
 *   first mapping stays.
 * - forward at filter (0) with policy accept: berth's table only ever drops (internal networks,
 *   traffic between two networks), so it never lets anything through that another table would
 *   stop. Where another table drops forwarded traffic (Docker's "ip filter FORWARD" policy drop,
 *   firewalld's final reject) the bridges have to be allowed there: firewall_check_conflicts().
 *
 * same_bridge holds "bridge . bridge" for every bridge: traffic between two containers of one
 * network is bridged and reaches the inet forward hook only when br_netfilter is loaded (Docker
 * loads it), then with iifname and oifname both the bridge; it must pass even on an internal
 * network. A connection DNATed to a published port may cross from one network to another (as it
 * could from any other host), and is masqueraded when it comes from a container so that the
 * answer returns through the host (hairpin, also on one bridge; with br_netfilter the kernel
 * bridges such a packet back out of the port it came from, so the veth's host end needs hairpin
 * mode). "ct status ! dnat" tests the bit; nft 1.0.6 compiles "ct status != dnat" to a compare
 * of the whole word. 127.0.0.1 reaches published ports through the output chain and the
 * masquerade of 127.0.0.0/8, with route_localnet=1 on the bridges (berthd's). */
static const char ruleset_head[] =
        "table inet berth\n"
        "delete table inet berth\n"
        "table inet berth {\n"
        "\tset bridges { type ifname; }\n"
        "\tset same_bridge { type ifname . ifname; }\n"
        "\tset internal { type ifname; }\n"
        "\tset nets { type ipv4_addr; flags interval; }\n"
        "\tmap dnat_any { type inet_proto . inet_service : ipv4_addr . inet_service; }\n"
        "\tmap dnat_addr { type ipv4_addr . inet_proto . inet_service : ipv4_addr . inet_service; }\n"
        "\tchain prerouting {\n"
        "\t\ttype nat hook prerouting priority dstnat; policy accept;\n"
        "\t\tfib daddr type local jump publish\n"
        "\t}\n"
        "\tchain output {\n"
        "\t\ttype nat hook output priority -100; policy accept;\n"
        "\t\tfib daddr type local jump publish\n"
        "\t}\n"
        "\tchain publish {\n"
        "\t\tdnat ip to ip daddr . meta l4proto . th dport map @dnat_addr\n"
        "\t\tdnat ip to meta l4proto . th dport map @dnat_any\n"
        "\t}\n"
        "\tchain postrouting {\n"
        "\t\ttype nat hook postrouting priority srcnat; policy accept;\n"
        "\t\tip saddr 127.0.0.0/8 ct status dnat masquerade\n"
        "\t\tip saddr @nets oifname @bridges ct status dnat masquerade\n"
        "\t\tip saddr @nets oifname != @bridges masquerade\n"
        "\t}\n"
        "\tchain forward {\n"
        "\t\ttype filter hook forward priority filter; policy accept;\n"
        "\t\tiifname . oifname @same_bridge accept\n"
        "\t\tiifname @internal drop\n"
        "\t\toifname @internal drop\n"
        "\t\tiifname @bridges oifname @bridges ct status ! dnat drop\n"
        "\t}\n"
        "}\n";

struct Firewall {
        struct nft_ctx *ctx;
};

static bool bridge_name_is_valid(const char *s) {
        size_t n = s ? strlen(s) : 0;

        if (n == 0 || n >= IFNAMSIZ)
                return false;
        for (const char *p = s; *p; p++)
                if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '-' ||
                      *p == '_' || *p == '.'))
                        return false;
        return true;
}

static const char *protocol_name(int protocol) {
        switch (protocol) {
        case IPPROTO_TCP:
                return "tcp";
        case IPPROTO_UDP:
                return "udp";
        case IPPROTO_SCTP:
                return "sctp";
        default:
                return NULL;
        }
}

static int write_network(FILE *out, const FirewallNetwork *n, bool add) {
        const char *verb = add ? "add" : "delete";
        char addr[INET_ADDRSTRLEN];
        struct in_addr net;

        if (!n || !bridge_name_is_valid(n->bridge) || n->prefixlen < 1 || n->prefixlen > 32)
                return -EINVAL;

        fprintf(out, "%s element inet berth bridges { \"%s\" }\n", verb, n->bridge);
        fprintf(out, "%s element inet berth same_bridge { \"%s\" . \"%s\" }\n", verb, n->bridge, n->bridge);
        if (n->internal) {
                fprintf(out, "%s element inet berth internal { \"%s\" }\n", verb, n->bridge);
                return 0;
        }
        net.s_addr = n->subnet.s_addr & htonl(UINT32_MAX << (32 - n->prefixlen));
        if (!inet_ntop(AF_INET, &net, addr, sizeof(addr)))
                return -EINVAL;
        fprintf(out, "%s element inet berth nets { %s/%u }\n", verb, addr, n->prefixlen);
        return 0;
}

static int write_port(FILE *out, const FirewallPort *p, bool add) {
        const char *verb = add ? "create" : "delete", *proto;
        char host[INET_ADDRSTRLEN], container[INET_ADDRSTRLEN];

        proto = protocol_name(p->protocol);
        if (!proto || p->host_port == 0 || p->container_port == 0 || p->container_ip.s_addr == INADDR_ANY)
                return -EINVAL;
        if (!inet_ntop(AF_INET, &p->container_ip, container, sizeof(container)))
                return -EINVAL;

        if (p->host_ip.s_addr == INADDR_ANY) {
                fprintf(out, "%s element inet berth dnat_any { %s . %u : %s . %u }\n", verb, proto,
                        (unsigned) p->host_port, container, (unsigned) p->container_port);
                return 0;
        }
        if (!inet_ntop(AF_INET, &p->host_ip, host, sizeof(host)))
                return -EINVAL;
        fprintf(out, "%s element inet berth dnat_addr { %s . %s . %u : %s . %u }\n", verb, host, proto,
                (unsigned) p->host_port, container, (unsigned) p->container_port);
        return 0;
}

/* Closes out; *buf is the text on success, freed on failure. */
/* The rules of nets and ports (added, or with add false deleted), after the table's head with
 * head, as one text for nft. */
static int write_text(const FirewallNetwork *nets, size_t n_nets, const FirewallPort *ports, size_t n_ports, bool head,
                      bool add, char **ret) {
        _cleanup_free_ char *buf = NULL;
        size_t size = 0;
        FILE *out;
        bool failed;
        int r = 0;

        out = open_memstream(&buf, &size);
        if (!out)
                return -ENOMEM;
        if (head)
                fputs(ruleset_head, out);
        for (size_t i = 0; i < n_nets && r >= 0; i++)
                r = write_network(out, &nets[i], add);
        for (size_t i = 0; i < n_ports && r >= 0; i++)
                r = write_port(out, &ports[i], add);
        failed = ferror(out);
        if (fclose(out) != 0)
                failed = true;
        if (r >= 0 && failed)
                r = -ENOMEM;
        if (r < 0)
                return r;
        *ret = TAKE_PTR(buf);
        return 0;
}

int firewall_ruleset_text(const FirewallNetwork *nets, size_t n_nets, const FirewallPort *ports, size_t n_ports,
                          char **ret) {
        return write_text(nets, n_nets, ports, n_ports, true, true, ret);
}

int firewall_network_text(const FirewallNetwork *n, bool add, char **ret) {
        return write_text(n, 1, NULL, 0, false, add, ret);
}

int firewall_ports_text(const FirewallPort *p, size_t n, bool add, char **ret) {
        return write_text(NULL, 0, p, n, false, add, ret);
}

int firewall_errno_from_message(const char *message) {
        /* The kernel's errors come as strerror() text (berthd runs in the C locale); a few of
         * nft's own checks have their own words. */
        static const struct {
                const char *text;
                int error;
        } table[] = {
                { "File exists", EEXIST },
                { "No such file or directory", ENOENT },
                { "Operation not permitted", EPERM },
                { "Permission denied", EACCES },
                { "Device or resource busy", EBUSY },
                { "Cannot allocate memory", ENOMEM },
                { "No space left on device", ENOSPC },
                { "Operation not supported", EOPNOTSUPP },
                { "Protocol not supported", EPROTONOSUPPORT },
                { "Address family not supported", EAFNOSUPPORT },
                { "Invalid argument", EINVAL },
                { "interval overlaps", EEXIST },
                { "conflicting intervals", EEXIST },
                { "does not exist", ENOENT },
                { "syntax error", EINVAL },
        };

        _cleanup_free_ char *first = NULL;

        /* The first error decides; the lines after it quote the script. */
        first = message ? strndup(message, strcspn(message, "\n")) : NULL;
        if (!first)
                return -EIO;
        for (size_t i = 0; i < ELEMENTSOF(table); i++)
                if (strstr(first, table[i].text))
                        return -table[i].error;
        return -EIO;
}

/* "/proc/self/fd/5:2:27-34: Error: Could not process rule: File exists\n<command>\n   ^^^^\n" →
 * "Could not process rule: File exists: <command>". */
static char *error_sentence(const char *message) {
        _cleanup_free_ char *first = NULL, *command = NULL;
        const char *line = message, *end, *p;
        size_t n;

        if (isempty(message))
                return strdup("libnftables failed without a message");
        p = strstr(line, "Error: ");
        end = strchrnul(line, '\n');
        if (p && p < end)
                line = p + strlen("Error: ");
        first = strndup(line, end - line);
        if (!first)
                return NULL;
        if (*end != '\n' || isempty(end + 1))
                return TAKE_PTR(first);

        line = end + 1;
        while (*line == ' ' || *line == '\t')
                line++;
        n = strchrnul(line, '\n') - line;
        if (n == 0 || line[0] == '^')
                return TAKE_PTR(first);
        command = strndup(line, n);
        if (!command)
                return NULL;
        return strjoin(first, ": ", command);
}

/* *ret_error is written only on failure. The script goes through a memfd: for a buffer nft 1.0.6
 * quotes the first line of the script in its error messages, for a file the line at fault. */
static int firewall_run(Firewall *f, const char *text, char **ret_error) {
        _cleanup_close_ int fd = -1;
        char path[sizeof("/proc/self/fd/") + 12];
        const char *message;
        int r;

        fd = memfd_create("berth-nft", MFD_CLOEXEC);
        if (fd < 0)
                return -errno;
        r = loop_write(fd, text, strlen(text));
        if (r < 0)
                return r;
        snprintf(path, sizeof(path), "/proc/self/fd/%i", fd);

        r = nft_run_cmd_from_filename(f->ctx, path);
        /* Reading the buffers rewinds them for the next command. */
        (void) nft_ctx_get_output_buffer(f->ctx);
        message = nft_ctx_get_error_buffer(f->ctx);
        if (r == 0)
                return 0;

        r = firewall_errno_from_message(message);
        if (ret_error)
                *ret_error = error_sentence(message);
        return r;
}

static int firewall_run_ignore_missing(Firewall *f, const char *text, char **ret_error) {
        _cleanup_free_ char *error = NULL;
        int r;

        r = firewall_run(f, text, &error);
        if (r == -ENOENT)
                return 0;
        if (r < 0 && ret_error)
                *ret_error = TAKE_PTR(error);
        return r;
}

/* One transaction when every element is there; else element by element, skipping the missing
 * (nft 1.0.6 has no "destroy element"). */
static int firewall_run_removal(Firewall *f, const char *text, char **ret_error) {
        _cleanup_free_ char *copy = NULL, *error = NULL;
        char *save = NULL;
        int r;

        r = firewall_run(f, text, &error);
        if (r != -ENOENT) {
                if (r < 0 && ret_error)
                        *ret_error = TAKE_PTR(error);
                return r;
        }

        copy = strdup(text);
        if (!copy)
                return -ENOMEM;
        for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                r = firewall_run_ignore_missing(f, line, ret_error);
                if (r < 0)
                        return r;
        }
        return 0;
}

int firewall_new(Firewall **ret) {
        _cleanup_(firewall_freep) Firewall *f = NULL;

        f = calloc(1, sizeof(Firewall));
        if (!f)
                return -ENOMEM;
        f->ctx = nft_ctx_new(NFT_CTX_DEFAULT);
        if (!f->ctx)
                return -ENOMEM;
        if (nft_ctx_buffer_output(f->ctx) < 0 || nft_ctx_buffer_error(f->ctx) < 0)
                return -ENOMEM;
        *ret = TAKE_PTR(f);
        return 0;
}

Firewall *firewall_free(Firewall *f) {
        if (!f)
                return NULL;
        if (f->ctx)
                nft_ctx_free(f->ctx);
        return mfree(f);
}

int firewall_rebuild(Firewall *f, const FirewallNetwork *nets, size_t n_nets, const FirewallPort *ports, size_t n_ports,
                     char **ret_error) {
        _cleanup_free_ char *text = NULL;
        int r;

        r = firewall_ruleset_text(nets, n_nets, ports, n_ports, &text);
        if (r < 0)
                return r;
        return firewall_run(f, text, ret_error);
}

/* Runs the rules of one network, or of ports, as an addition or as a removal (what is gone already
 * is no error). */
static int firewall_apply(Firewall *f, const char *text, bool add, char **ret_error) {
        return add ? firewall_run(f, text, ret_error) : firewall_run_removal(f, text, ret_error);
}

static int firewall_network(Firewall *f, const FirewallNetwork *n, bool add, char **ret_error) {
        _cleanup_free_ char *text = NULL;
        int r = firewall_network_text(n, add, &text);
        return r < 0 ? r : firewall_apply(f, text, add, ret_error);
}

static int firewall_ports(Firewall *f, const FirewallPort *p, size_t n, bool add, char **ret_error) {
        _cleanup_free_ char *text = NULL;
        int r;

        if (n == 0)
                return 0;
        r = firewall_ports_text(p, n, add, &text);
        return r < 0 ? r : firewall_apply(f, text, add, ret_error);
}

int firewall_add_network(Firewall *f, const FirewallNetwork *n, char **ret_error) {
        return firewall_network(f, n, true, ret_error);
}

int firewall_remove_network(Firewall *f, const FirewallNetwork *n, char **ret_error) {
        return firewall_network(f, n, false, ret_error);
}

int firewall_add_ports(Firewall *f, const FirewallPort *p, size_t n, char **ret_error) {
        return firewall_ports(f, p, n, true, ret_error);
}

int firewall_remove_ports(Firewall *f, const FirewallPort *p, size_t n, char **ret_error) {
        return firewall_ports(f, p, n, false, ret_error);
}

int firewall_remove_table(Firewall *f, char **ret_error) {
        return firewall_run_ignore_missing(f, "delete table inet berth\n", ret_error);
}

typedef struct ForwardChain {
        const char *family, *table, *name;
        bool policy_drop;
        bool docker_user; /* the table has a chain DOCKER-USER, Docker's place for the user's rules */
        bool handled; /* some rule of the table names a berth bridge as iifname or oifname */
        json_object *last_expr;
} ForwardChain;

static const char *json_string_of(json_object *o, const char *key) {
        json_object *v;

        if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
                return NULL;
        return json_object_get_string(v);
}

static bool same_table(const ForwardChain *c, json_object *o) {
        return streq_ptr(c->family, json_string_of(o, "family")) && streq_ptr(c->table, json_string_of(o, "table"));
}

static bool is_berth(json_object *o) {
        return streq_ptr(json_string_of(o, "family"), "inet") && streq_ptr(json_string_of(o, "table"), "berth");
}

/* A last rule that drops or rejects whatever reaches it, maybe counted or logged first
 * (firewalld's "reject with icmpx admin-prohibited"). */
static bool expr_drops_all(json_object *expr) {
        size_t n;

        if (!expr || !json_object_is_type(expr, json_type_array))
                return false;
        n = json_object_array_length(expr);
        if (n == 0)
                return false;
        for (size_t i = 0; i < n; i++) {
                json_object *stmt = json_object_array_get_idx(expr, i);
                bool last = i == n - 1;

                if (!json_object_is_type(stmt, json_type_object))
                        return false;
                if (last)
                        return json_object_object_get_ex(stmt, "drop", NULL) ||
                                json_object_object_get_ex(stmt, "reject", NULL);
                if (!json_object_object_get_ex(stmt, "counter", NULL) && !json_object_object_get_ex(stmt, "log", NULL))
                        return false;
        }
        return false;
}

static bool expr_names_bridge(json_object *expr, char **bridges) {
        const char *s = json_object_to_json_string_ext(expr, JSON_C_TO_STRING_PLAIN);

        if (!s || (!strstr(s, "\"iifname\"") && !strstr(s, "\"oifname\"")))
                return false;
        for (char **b = bridges; b && *b; b++) {
                _cleanup_free_ char *quoted = strjoin("\"", *b, "\"");

                if (quoted && strstr(s, quoted))
                        return true;
        }
        return false;
}

static char *conflict_sentence(const ForwardChain *c, char **bridges) {
        const char *bridge = bridges && bridges[0] ? bridges[0] : "berth0";
        _cleanup_free_ char *all = NULL, *why = NULL, *hint = NULL;

        if (bridges && bridges[0] && bridges[1]) {
                _cleanup_free_ char *list = strv_join(bridges, ", ");

                if (!list)
                        return NULL;
                all = strjoin(" (for each of ", list, ")");
        } else
                all = strdup("");
        if (!all)
                return NULL;

        if (streq(c->table, "firewalld")) {
                why = strdup("rejects forwarded packets of interfaces in no zone that forwards them (firewalld)");
                hint = strjoin("e.g. in zone trusted: firewall-cmd --permanent --zone=trusted --add-interface=", bridge,
                               "; firewall-cmd --reload", all);
        } else {
                why = c->policy_drop ? strjoin("has policy drop", c->docker_user ? " (as Docker sets it)" : "")
                                     : strdup("drops or rejects what no rule before accepts");
                if (c->docker_user || (streq(c->family, "ip") && streq(c->table, "filter"))) {
                        const char *chain = c->docker_user ? "DOCKER-USER" : c->name;

                        hint = strjoin("e.g. iptables -I ", chain, " -i ", bridge, " -j ACCEPT; iptables -I ", chain,
                                       " -o ", bridge, " -j ACCEPT", all);
                } else
                        hint = strjoin("e.g. nft insert rule ", c->family, " ", c->table, " ", c->name, " iifname ",
                                       bridge, " accept; nft insert rule ", c->family, " ", c->table, " ", c->name,
                                       " oifname ", bridge, " accept", all);
        }
        if (!why || !hint)
                return NULL;

        return strjoin("Chain ", c->name, " of table ", c->family, " ", c->table, " (hook forward) ", why,
                       ": containers reach no other host and other hosts no published port; allow berth's "
                       "bridges there, ",
                       hint, ".");
}

int firewall_conflicts_from_json(const char *json, char **ret_warning) {
        _cleanup_free_ ForwardChain *chains = NULL;
        _cleanup_strv_free_ char **bridges = NULL;
        _cleanup_free_ char *warning = NULL;
        json_object *root, *list;
        size_t n_chains = 0, n;
        int r = 0;

        root = json_tokener_parse(json);
        if (!root)
                return -EINVAL;
        if (!json_object_object_get_ex(root, "nftables", &list) || !json_object_is_type(list, json_type_array)) {
                r = -EINVAL;
                goto finish;
        }
        n = json_object_array_length(list);

        /* The forward base chains of other tables, and berth's bridges. */
        for (size_t i = 0; i < n; i++) {
                json_object *item = json_object_array_get_idx(list, i), *o, *elem;

                if (json_object_object_get_ex(item, "set", &o) && is_berth(o) &&
                    streq_ptr(json_string_of(o, "name"), "bridges") && json_object_object_get_ex(o, "elem", &elem)) {
                        size_t m = json_object_is_type(elem, json_type_array) ? json_object_array_length(elem) : 1;

                        for (size_t j = 0; j < m; j++) {
                                json_object *e = json_object_is_type(elem, json_type_array)
                                        ? json_object_array_get_idx(elem, j)
                                        : elem;

                                if (json_object_is_type(e, json_type_string) &&
                                    strv_push(&bridges, json_object_get_string(e)) < 0) {
                                        r = -ENOMEM;
                                        goto finish;
                                }
                        }
                }

                if (json_object_object_get_ex(item, "chain", &o) && !is_berth(o) &&
                    streq_ptr(json_string_of(o, "hook"), "forward") && json_string_of(o, "family") &&
                    json_string_of(o, "table") && json_string_of(o, "name")) {
                        ForwardChain *a = reallocarray(chains, n_chains + 1, sizeof(ForwardChain));

                        if (!a) {
                                r = -ENOMEM;
                                goto finish;
                        }
                        chains = a;
                        chains[n_chains++] = (ForwardChain){
                                .family = json_string_of(o, "family"),
                                .table = json_string_of(o, "table"),
                                .name = json_string_of(o, "name"),
                                .policy_drop = streq_ptr(json_string_of(o, "policy"), "drop"),
                        };
                }
        }

        /* Their last rules, what their tables say about berth's bridges, DOCKER-USER. */
        for (size_t i = 0; i < n; i++) {
                json_object *item = json_object_array_get_idx(list, i), *o, *expr;

                if (json_object_object_get_ex(item, "chain", &o)) {
                        for (size_t k = 0; k < n_chains; k++)
                                if (same_table(&chains[k], o) && streq_ptr(json_string_of(o, "name"), "DOCKER-USER"))
                                        chains[k].docker_user = true;
                        continue;
                }
                if (!json_object_object_get_ex(item, "rule", &o) || !json_object_object_get_ex(o, "expr", &expr))
                        continue;
                for (size_t k = 0; k < n_chains; k++) {
                        if (!same_table(&chains[k], o))
                                continue;
                        if (streq_ptr(json_string_of(o, "chain"), chains[k].name))
                                chains[k].last_expr = expr;
                        if (expr_names_bridge(expr, bridges))
                                chains[k].handled = true;
                }
        }

        for (size_t k = 0; k < n_chains; k++) {
                char *s, *joined;

                if (chains[k].handled || !(chains[k].policy_drop || expr_drops_all(chains[k].last_expr)))
                        continue;
                s = conflict_sentence(&chains[k], bridges);
                if (!s) {
                        r = -ENOMEM;
                        goto finish;
                }
                joined = warning ? strjoin(warning, " ", s) : s;
                if (joined != s)
                        free(s);
                if (!joined) {
                        r = -ENOMEM;
                        goto finish;
                }
                free(warning);
                warning = joined;
        }

        *ret_warning = TAKE_PTR(warning);
finish:
        json_object_put(root);
        return r;
}

int firewall_check_conflicts(Firewall *f, char **ret_warning) {
        unsigned flags = nft_ctx_output_get_flags(f->ctx);
        _cleanup_free_ char *json = NULL;
        int r;

        nft_ctx_output_set_flags(f->ctx, flags | NFT_CTX_OUTPUT_JSON);
        r = nft_run_cmd_from_buffer(f->ctx, "list ruleset");
        nft_ctx_output_set_flags(f->ctx, flags);
        json = strdup(nft_ctx_get_output_buffer(f->ctx));
        r = r < 0 ? firewall_errno_from_message(nft_ctx_get_error_buffer(f->ctx)) : 0;
        if (r < 0)
                return r;
        if (!json)
                return -ENOMEM;
        return firewall_conflicts_from_json(json, ret_warning);
}
