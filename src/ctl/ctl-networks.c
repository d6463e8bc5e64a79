/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* berthctl network create|ls|inspect|rm|connect|disconnect|prune (docs/NETWORKING.md) */
#include <arpa/inet.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "ctl-args.h"
#include "ctl-bus.h"
#include "ctl-format.h"
#include "ctl-log.h"
#include "ctl-netopts.h"
#include "ctl-networks.h"
#include "ctl-objects.h"
#include "ctl-output.h"
#include "ctl.h"
#include "errors.h"
#include "names.h"
#include "util.h"

static int network_help(void) {
        printf("Usage: berthctl network COMMAND\n"
               "\n"
               "Manage networks: bridges containers are attached to, with their own subnet, name\n"
               "resolution between their containers, and isolation from other networks.\n"
               "\n"
               "Commands:\n"
               "  create [OPTIONS] NAME   Create a network (see 'network create --help')\n"
               "  ls [OPTIONS]            List networks (-q, --filter, --format, --no-trunc)\n"
               "  inspect NETWORK...      Show networks as JSON (-f, --format)\n"
               "  rm [-f] NETWORK...      Remove networks\n"
               "  connect [OPTIONS] NETWORK CONTAINER     Attach a container (--alias, --ip)\n"
               "  disconnect [-f] NETWORK CONTAINER       Detach a container\n"
               "  prune [OPTIONS]         Remove the user networks no container uses (-f, --filter)\n");
        return 0;
}

/* Docker's rule for network names, as for containers, but one character is enough. */
static bool network_name_is_valid(const char *s) {
        size_t n = strlen(s);
        if (n == 0 || n > 128 ||
            !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z') || (s[0] >= '0' && s[0] <= '9')))
                return false;
        return n == 1 || container_name_is_valid(s);
}

/* "a.b.c.d/n" into the address and prefix length; -EAFNOSUPPORT for an IPv6 prefix. */
static int parse_cidr(const char *s, struct in_addr *ret_addr, unsigned *ret_prefix) {
        const char *slash = strchr(s, '/');
        _cleanup_free_ char *a = slash ? strndup(s, (size_t) (slash - s)) : NULL;
        unsigned char buf[sizeof(struct in6_addr)];
        int prefix;
        if (!slash)
                return -EINVAL;
        if (!a)
                return -ENOMEM;
        if (inet_pton(AF_INET6, a, buf) == 1)
                return -EAFNOSUPPORT;
        if (inet_pton(AF_INET, a, ret_addr) != 1 || parse_int(slash + 1, &prefix) < 0 || prefix < 0 || prefix > 32 ||
            !(slash[1] >= '0' && slash[1] <= '9'))
                return -EINVAL;
        *ret_prefix = (unsigned) prefix;
        return 0;
}

static bool in_subnet(struct in_addr a, struct in_addr net, unsigned prefix) {
        uint32_t mask = prefix == 0 ? 0 : htonl(~0u << (32 - prefix));
        return (a.s_addr & mask) == (net.s_addr & mask);
}

typedef struct CreateNetworkArgs {
        const char *driver, *subnet, *gateway, *ip_range;
        bool internal;
        char **labels, **opts;
} CreateNetworkArgs;

/* Docker's checks of --subnet, --gateway and --ip-range, before anything reaches berthd. */
static int check_addresses(const CreateNetworkArgs *a) {
        struct in_addr net, addr, range;
        unsigned prefix, range_prefix;
        int r;

        if ((a->gateway || a->ip_range) && !a->subnet) {
                ctl_log_error("every ip-range or gateway must have a corresponding subnet (give --subnet)");
                return -EINVAL;
        }
        if (!a->subnet)
                return 0;
        r = parse_cidr(a->subnet, &net, &prefix);
        if (r == -ENOMEM)
                return ctl_log_errno(r, "%m");
        if (r == -EAFNOSUPPORT) {
                ctl_log_error("invalid subnet %s: IPv6 networks are not supported, berth's container networking is "
                              "IPv4 only",
                              a->subnet);
                return -EINVAL;
        }
        if (r < 0 || prefix > 30) {
                ctl_log_error("invalid CIDR address: %s%s", a->subnet,
                              r < 0 ? "" : " (a subnet needs room for a gateway and a container: at most /30)");
                return -EINVAL;
        }
        if (a->gateway && (inet_pton(AF_INET, a->gateway, &addr) != 1 || !in_subnet(addr, net, prefix))) {
                ctl_log_error("no matching subnet for gateway %s (the subnet is %s)", a->gateway, a->subnet);
                return -EINVAL;
        }
        if (a->ip_range) {
                r = parse_cidr(a->ip_range, &range, &range_prefix);
                if (r == -ENOMEM)
                        return ctl_log_errno(r, "%m");
                if (r < 0) {
                        ctl_log_error("invalid CIDR address: %s", a->ip_range);
                        return -EINVAL;
                }
                if (range_prefix < prefix || !in_subnet(range, net, prefix)) {
                        ctl_log_error("no matching subnet for range %s (the subnet is %s)", a->ip_range, a->subnet);
                        return -EINVAL;
                }
        }
        return 0;
}

/* Once: Docker takes several, berth's networks have one subnet (and so one gateway, one range). */
static int set_once(const char **where, const char *arg, const char *flag) {
        if (*where && !streq(*where, arg)) {
                ctl_log_error("%s was given twice: a berth network has one IPv4 subnet, gateway and range", flag);
                return -EINVAL;
        }
        *where = arg;
        return 0;
}

static int parse_network_create(int argc, char *argv[], CreateNetworkArgs *a) {
        enum {
                ARG_SUBNET = 0x100,
                ARG_GATEWAY,
                ARG_IP_RANGE,
                ARG_INTERNAL,
                ARG_LABEL,
                ARG_IPV6,
                ARG_HELP,
        };
        static const struct option options[] = {
                { "driver", required_argument, NULL, 'd' },
                { "subnet", required_argument, NULL, ARG_SUBNET },
                { "gateway", required_argument, NULL, ARG_GATEWAY },
                { "ip-range", required_argument, NULL, ARG_IP_RANGE },
                { "internal", no_argument, NULL, ARG_INTERNAL },
                { "label", required_argument, NULL, ARG_LABEL },
                { "opt", required_argument, NULL, 'o' },
                { "ipv6", no_argument, NULL, ARG_IPV6 },
                { "help", no_argument, NULL, ARG_HELP },
                {},
        };
        int c, r;

        optind = 0;
        opterr = 0;
        while ((c = getopt_long(argc, argv, "+:d:o:h", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                case ARG_HELP:
                        printf("Usage: berthctl network create [OPTIONS] NETWORK\n"
                               "\n"
                               "Create a network (a Linux bridge with a subnet of its own) and print its id.\n"
                               "\n"
                               "Options:\n"
                               "  -d, --driver=NAME     bridge (the default and only driver)\n"
                               "      --subnet=CIDR     The IPv4 subnet, e.g. 10.10.0.0/24 (default: a free /16\n"
                               "                        of 172.18-31.0.0, then a /20 of 192.168.0.0/16)\n"
                               "      --gateway=ADDRESS The bridge's address (default: the subnet's first)\n"
                               "      --ip-range=CIDR   Allocate container addresses from this part of the subnet\n"
                               "      --internal        No traffic to or from outside the network\n"
                               "      --label=KEY[=VALUE]  Set a label (repeatable)\n"
                               "  -o, --opt=KEY=VALUE   Driver option (repeatable): com.docker.network.bridge.name,\n"
                               "                        com.docker.network.driver.mtu\n"
                               "      --ipv6            Refused: berth's container networking is IPv4 only\n"
                               "  -h, --help            Show this help\n");
                        return 0;
                case 'd':
                        a->driver = optarg;
                        break;
                case ARG_SUBNET:
                        if ((r = set_once(&a->subnet, optarg, "--subnet")) < 0)
                                return r;
                        break;
                case ARG_GATEWAY:
                        if ((r = set_once(&a->gateway, optarg, "--gateway")) < 0)
                                return r;
                        break;
                case ARG_IP_RANGE:
                        if ((r = set_once(&a->ip_range, optarg, "--ip-range")) < 0)
                                return r;
                        break;
                case ARG_INTERNAL:
                        a->internal = true;
                        break;
                case ARG_LABEL:
                        if ((r = ctl_push_kv(&a->labels, optarg, "label")) < 0)
                                return r;
                        break;
                case 'o':
                        if ((r = ctl_push_kv(&a->opts, optarg, "driver option")) < 0)
                                return r;
                        break;
                case ARG_IPV6:
                        ctl_log_error("--ipv6 is not supported: berth's container networking is IPv4 only");
                        return -EOPNOTSUPP;
                default:
                        return ctl_log_getopt_error("network create", c, argv);
                }
        if (argc - optind != 1) {
                ctl_log_error("\"berthctl network create\" requires exactly 1 argument (see 'berthctl network create "
                              "--help')");
                return -EINVAL;
        }
        if (!network_name_is_valid(argv[optind])) {
                ctl_log_error("invalid network name \"%s\": only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed", argv[optind]);
                return -EINVAL;
        }
        if (a->driver && !streq(a->driver, "bridge")) {
                ctl_log_error("invalid driver \"%s\": berth creates bridge networks only (host and none exist "
                              "already)",
                              a->driver);
                return -EINVAL;
        }
        r = check_addresses(a);
        return r < 0 ? r : 1;
}

static void create_network_args_done(CreateNetworkArgs *a) {
        strv_free(a->labels);
        strv_free(a->opts);
}

static int network_create(Ctl *ctl, int argc, char *argv[]) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL;
        _cleanup_(create_network_args_done) CreateNetworkArgs a = {};
        _cleanup_free_ char *id = NULL;
        const char *path;
        sd_bus *bus;
        int r;

        r = parse_network_create(argc, argv, &a);
        if (r <= 0)
                return r;
        r = ctl_acquire_bus(ctl, &bus);
        if (r < 0)
                return r;
        r = sd_bus_message_new_method_call(bus, &m, BERTH_BUS_SERVICE, BERTH_BUS_PATH, BERTH_BUS_MANAGER,
                                           "CreateNetwork");
        if (r >= 0)
                r = sd_bus_message_append(m, "s", argv[optind]);
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'a', "{sv}");
        if (r >= 0)
                r = sd_bus_message_append(m, "{sv}", "Driver", "s", a.driver ?: "bridge");
        if (r >= 0 && a.subnet)
                r = sd_bus_message_append(m, "{sv}", "Subnet", "s", a.subnet);
        if (r >= 0 && a.gateway)
                r = sd_bus_message_append(m, "{sv}", "Gateway", "s", a.gateway);
        if (r >= 0 && a.ip_range)
                r = sd_bus_message_append(m, "{sv}", "IPRange", "s", a.ip_range);
        if (r >= 0 && a.internal)
                r = sd_bus_message_append(m, "{sv}", "Internal", "b", 1);
        if (r >= 0 && a.labels)
                r = ctl_bus_append_dict_option(m, "Labels", a.labels);
        if (r >= 0 && a.opts)
                r = ctl_bus_append_dict_option(m, "Options", a.opts);
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        if (r < 0)
                return ctl_log_errno(r, "Failed to build the call: %m");
        r = sd_bus_call(bus, m, CTL_TIMEOUT_DEFAULT, &error, &reply);
        if (r >= 0)
                r = sd_bus_message_read(reply, "o", &path);
        if (r >= 0)
                r = sd_bus_get_property_string(bus, BERTH_BUS_SERVICE, path, BERTH_BUS_NETWORK, "Id", &error, &id);
        if (r < 0)
                return ctl_log_bus_error(&error, r);
        printf("%s\n", id);
        return 0;
}

static bool network_is_builtin(const NetworkInfo *n) {
        return streq_ptr(n->name, "bridge") || streq_ptr(n->name, "host") || streq_ptr(n->name, "none");
}

static const char *const network_filter_keys[] = { "driver", "id", "label", "name", "scope", "type", "dangling" };

/* Docker's network ls filters: driver=, id=, label=KEY[=VALUE], name=, scope=, type=custom|builtin,
 * dangling=true|false. */
static int check_network_filter(const char *f) {
        const char *v;
        size_t n;
        if (ctl_split_filter(f, &n, &v) < 0)
                return -EINVAL;
        for (size_t k = 0; k < ELEMENTSOF(network_filter_keys); k++)
                if (strlen(network_filter_keys[k]) == n && !strncmp(f, network_filter_keys[k], n)) {
                        if (!strncmp(f, "type", n) && !streq(v, "custom") && !streq(v, "builtin")) {
                                ctl_log_error("invalid filter: 'type'='%s' (expected custom or builtin)", v);
                                return -EINVAL;
                        }
                        if (!strncmp(f, "dangling", n) && !streq(v, "true") && !streq(v, "false") && !streq(v, "1") &&
                            !streq(v, "0")) {
                                ctl_log_error("invalid filter 'dangling=%s'", v);
                                return -EINVAL;
                        }
                        return 0;
                }
        ctl_log_error("invalid filter '%.*s'", (int) n, f);
        return -EINVAL;
}

static bool network_filter_matches(const char *key, const char *value, const void *userdata) {
        const NetworkInfo *n = userdata;
        if (streq(key, "driver"))
                return streq_ptr(n->driver, value);
        if (streq(key, "id"))
                return ctl_regex_matches(value, n->id);
        if (streq(key, "name"))
                return ctl_regex_matches(value, n->name);
        if (streq(key, "label"))
                return ctl_labels_match(n->labels, value);
        if (streq(key, "scope"))
                return streq(value, n->scope ?: "local");
        if (streq(key, "type"))
                return network_is_builtin(n) == streq(value, "builtin");
        /* dangling: a user network no container is attached to */
        bool dangling = !network_is_builtin(n) && strv_length(n->containers) == 0;
        return dangling == (streq(value, "true") || streq(value, "1"));
}

static const char *const network_headers[][2] = {
        { "CreatedAt", "CREATED AT" }, { "Driver", "DRIVER" }, { "ID", "NETWORK ID" }, { "IPv6", "IPV6" },
        { "Internal", "INTERNAL" },    { "Labels", "LABELS" }, { "Name", "NAME" },     { "Scope", "SCOPE" },
};

/* One row as the fields of docker network ls --format. */
static json_object *network_row(const void *object, bool no_trunc) {
        const NetworkInfo *n = object;
        _cleanup_(json_object_putp) json_object *o = json_object_new_object();
        _cleanup_free_ char *labels = strv_join(n->labels, ","), *at = ctl_format_go_time(n->created_at),
                            *id = strndup(n->id ?: "", no_trunc ? BERTH_ID_LEN : BERTH_SHORT_ID_LEN);
        if (!o || !labels || !at || !id || json_add(o, "CreatedAt", json_object_new_string(at)) < 0 ||
            json_add(o, "Driver", json_object_new_string(n->driver ?: "")) < 0 ||
            json_add(o, "ID", json_object_new_string(id)) < 0 ||
            json_add(o, "IPv6", json_object_new_string(n->ipv6 ? "true" : "false")) < 0 ||
            json_add(o, "Internal", json_object_new_string(n->internal ? "true" : "false")) < 0 ||
            json_add(o, "Labels", json_object_new_string(labels)) < 0 ||
            json_add(o, "Name", json_object_new_string(n->name ?: "")) < 0 ||
            json_add(o, "Scope", json_object_new_string(n->scope ?: "local")) < 0)
                return NULL;
        return TAKE_PTR(o);
}

static int compare_network_names(const void *a, const void *b) {
        return strcmp(((const NetworkInfo *) a)->name ?: "", ((const NetworkInfo *) b)->name ?: "");
}

static void network_print_id(const void *object, bool no_trunc) {
        const NetworkInfo *n = object;
        printf("%.*s\n", no_trunc ? BERTH_ID_LEN : BERTH_SHORT_ID_LEN, n->id ?: "");
}

static const CtlListing network_listing = {
        .size = sizeof(NetworkInfo),
        .filter_keys = network_filter_keys,
        .n_filter_keys = ELEMENTSOF(network_filter_keys),
        .match = network_filter_matches,
        .print_quiet = network_print_id,
        .row = network_row,
        .default_table = "{{.ID}}\t{{.Name}}\t{{.Driver}}\t{{.Scope}}",
        .headers = network_headers,
        .n_headers = ELEMENTSOF(network_headers),
        .what = "networks",
};

static int network_ls(Ctl *ctl, int argc, char *argv[]) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(ctl_list_args_done) CtlListArgs a = {};
        NetworkInfo *list = NULL;
        size_t n = 0;
        sd_bus *bus;
        int r;

        r = ctl_parse_list_args(argc, argv, "network ls",
                                "Usage: berthctl network ls [OPTIONS]\n"
                                "\n"
                                "List networks.\n"
                                "\n"
                                "Options:\n"
                                "  -f, --filter=KEY=VALUE  name=REGEX, id=REGEX, driver=NAME, label=KEY[=VALUE],\n"
                                "                   scope=local, type=custom|builtin, dangling=true|false;\n"
                                "                   repeatable (values of one key are alternatives)\n"
                                "      --format=TMPL  A Go template over ID, Name, Driver, Scope, IPv6, Internal,\n"
                                "                   Labels, CreatedAt; \"table TMPL\" aligns it under a header,\n"
                                "                   \"json\" prints each line as JSON\n"
                                "      --no-trunc   Do not truncate network ids\n"
                                "  -q, --quiet      Only print network ids\n"
                                "  -h, --help       Show this help\n",
                                check_network_filter, true, &a);
        if (r <= 0)
                return r;
        r = ctl_acquire_bus(ctl, &bus);
        if (r < 0)
                return r;
        r = network_list_fetch(bus, &error, &list, &n);
        if (r < 0)
                return ctl_log_bus_error(&error, r);
        qsort(list, n, sizeof(NetworkInfo), compare_network_names);
        r = ctl_list_objects(&network_listing, list, n, &a);
        for (size_t k = 0; k < n; k++)
                network_info_done(&list[k]);
        free(list);
        return r;
}

static json_object *kv_object(char **kv) {
        json_object *o = json_object_new_object();
        for (char **l = kv; o && l && *l; l++) {
                _cleanup_free_ char *k = strndup(*l, strcspn(*l, "="));
                if (!k) {
                        json_object_put(o);
                        return NULL;
                }
                json_object_object_add(o, k, json_object_new_string((*l)[strlen(k)] ? *l + strlen(k) + 1 : ""));
        }
        return o;
}

/* The endpoint id of container id on network_id, from the container's Networks property ("name\tid\t
 * address\tprefix\tgateway\tmac\tendpoint\taliases"); fields may be empty. */
static const char *endpoint_of(const ObjectList *objects, const char *container_id, const char *network_id,
                               char buf[static BERTH_ID_LEN + 1]) {
        for (size_t i = 0; i < objects->n_containers; i++) {
                const ContainerInfo *c = &objects->containers[i];
                if (!streq_ptr(c->id, container_id))
                        continue;
                for (char **e = c->networks; e && *e; e++) {
                        _cleanup_free_ char *copy = strdup(*e);
                        char *p = copy, *f[7] = {};
                        for (size_t k = 0; p && k < 7; k++)
                                f[k] = strsep(&p, "\t");
                        if (f[6] && streq(f[1], network_id)) {
                                snprintf(buf, BERTH_ID_LEN + 1, "%s", f[6]);
                                return buf;
                        }
                }
        }
        return "";
}

static json_object *network_containers_json(const NetworkInfo *n, const ObjectList *objects) {
        json_object *o = json_object_new_object();
        for (char **l = n->containers; o && l && *l; l++) {
                _cleanup_free_ char *copy = strdup(*l);
                char *f[4] = {}, *p = copy, buf[BERTH_ID_LEN + 1] = "";
                for (size_t i = 0; p && i < 4; i++)
                        f[i] = strsep(&p, "\t");
                json_object *e = json_object_new_object();
                if (!copy || !f[3] || !e) {
                        json_object_put(e);
                        json_object_put(o);
                        return NULL;
                }
                json_object_object_add(e, "Name", json_object_new_string(f[1]));
                json_object_object_add(e, "EndpointID",
                                       json_object_new_string(endpoint_of(objects, f[0], n->id ?: "", buf)));
                json_object_object_add(e, "MacAddress", json_object_new_string(f[3]));
                json_object_object_add(e, "IPv4Address", json_object_new_string(f[2]));
                json_object_object_add(e, "IPv6Address", json_object_new_string(""));
                json_object_object_add(o, f[0], e);
        }
        return o;
}

/* Docker's IPAM: {Driver: "default", Options: null, Config: [{Subnet, Gateway[, IPRange]}]} (no
 * Config entry for host and none). */
static json_object *network_ipam_json(const NetworkInfo *n) {
        _cleanup_(json_object_putp) json_object *ipam = json_object_new_object(), *config = json_object_new_array();
        if (!ipam || !config)
                return NULL;
        if (!isempty(n->subnet)) {
                json_object *e = json_object_new_object();
                if (!e || json_object_array_add(config, e) < 0) {
                        json_object_put(e);
                        return NULL;
                }
                json_object_object_add(e, "Subnet", json_object_new_string(n->subnet));
                json_object_object_add(e, "Gateway", json_object_new_string(n->gateway ?: ""));
                if (!isempty(n->ip_range))
                        json_object_object_add(e, "IPRange", json_object_new_string(n->ip_range));
        }
        if (json_add(ipam, "Driver", json_object_new_string("default")) < 0 || json_add_null(ipam, "Options") < 0 ||
            json_add(ipam, "Config", TAKE_PTR(config)) < 0)
                return NULL;
        return TAKE_PTR(ipam);
}

json_object *ctl_network_json(const NetworkInfo *n, const ObjectList *objects) {
        _cleanup_(json_object_putp) json_object *o = json_object_new_object(), *from = json_object_new_object();
        _cleanup_free_ char *created = format_timestamp_rfc3339(n->created_at);
        if (!o || !from || !created || json_add(o, "Name", json_object_new_string(n->name ?: "")) < 0 ||
            json_add(o, "Id", json_object_new_string(n->id ?: "")) < 0 ||
            json_add(o, "Created", json_object_new_string(created)) < 0 ||
            json_add(o, "Scope", json_object_new_string(n->scope ?: "local")) < 0 ||
            json_add(o, "Driver", json_object_new_string(n->driver ?: "")) < 0 ||
            json_add(o, "EnableIPv6", json_object_new_boolean(n->ipv6)) < 0 ||
            json_add(o, "IPAM", network_ipam_json(n)) < 0 ||
            json_add(o, "Internal", json_object_new_boolean(n->internal)) < 0 ||
            json_add(o, "Attachable", json_object_new_boolean(false)) < 0 ||
            json_add(o, "Ingress", json_object_new_boolean(false)) < 0 ||
            json_add(from, "Network", json_object_new_string("")) < 0 ||
            json_add(o, "ConfigFrom", TAKE_PTR(from)) < 0 ||
            json_add(o, "ConfigOnly", json_object_new_boolean(false)) < 0 ||
            json_add(o, "Containers", network_containers_json(n, objects)) < 0 ||
            json_add(o, "Options", kv_object(n->options)) < 0 || json_add(o, "Labels", kv_object(n->labels)) < 0)
                return NULL;
        return TAKE_PTR(o);
}

int ctl_get_network(sd_bus *bus, const char *name, sd_bus_error *error, NetworkInfo *ret) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        const char *path;
        int r = ctl_bus_call_manager(bus, "GetNetwork", CTL_TIMEOUT_DEFAULT, error, &reply, "s", name);
        if (r >= 0)
                r = sd_bus_message_read(reply, "o", &path);
        if (r >= 0)
                r = network_info_get(bus, path, error, ret);
        return r;
}

static int network_inspect(Ctl *ctl, int argc, char *argv[]) {
        _cleanup_(json_object_putp) json_object *array = json_object_new_array();
        _cleanup_(object_list_done) ObjectList objects = {};
        const char *format = NULL;
        bool failed = false, verbose = false; /* Docker's swarm details: there are none */
        const CtlOption options[] = {
                { "format", 'f', .value = &format },
                { "verbose", 'v', .flag = &verbose },
        };
        sd_bus *bus;
        int r;

        r = ctl_parse_options(argc, argv, "network inspect",
                              "Usage: berthctl network inspect [OPTIONS] NETWORK...\n"
                              "\n"
                              "Show networks (names, ids or unique id prefixes) as JSON.\n"
                              "\n"
                              "Options:\n"
                              "  -f, --format=TMPL  Print TMPL per network, e.g. '{{.IPAM.Config}}'; 'json'\n"
                              "                     prints each as one line of JSON\n"
                              "  -v, --verbose      Accepted as Docker's (it adds nothing here)\n"
                              "  -h, --help         Show this help\n",
                              options, ELEMENTSOF(options), CTL_ARGS_SOME);
        if (r <= 0)
                return r;
        if (!array)
                return ctl_log_errno(-ENOMEM, "%m");
        r = ctl_acquire_bus(ctl, &bus);
        if (r < 0)
                return r;
        for (int i = optind; i < argc; i++) {
                _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
                _cleanup_(network_info_done) NetworkInfo n = {};
                r = ctl_get_network(bus, argv[i], &error, &n);
                if (r < 0) {
                        ctl_log_bus_error(&error, r);
                        failed = true;
                        continue;
                }
                /* The endpoints are in the containers' properties: one round trip for all of them. */
                if (strv_length(n.containers) > 0 && objects.n_containers == 0 &&
                    (r = object_list_fetch(bus, &error, &objects)) < 0)
                        return ctl_log_bus_error(&error, r);
                json_object *o = ctl_network_json(&n, &objects);
                if (!o || json_object_array_add(array, o) < 0) {
                        json_object_put(o);
                        return ctl_log_errno(-ENOMEM, "%m");
                }
        }
        r = ctl_print_inspect(array, format);
        if (r < 0)
                return r == -EINVAL ? r : ctl_log_errno(r, "Failed to write the output: %m");
        return failed ? 1 : 0;
}

static int network_rm(Ctl *ctl, int argc, char *argv[]) {
        bool force = false;
        const CtlOption options[] = { { "force", 'f', .flag = &force } };
        sd_bus *bus;
        int r, ret = 0;

        r = ctl_parse_options(argc, argv, "network rm",
                              "Usage: berthctl network rm [OPTIONS] NETWORK...\n"
                              "\n"
                              "Remove networks no running container is attached to (not bridge, host, none).\n"
                              "\n"
                              "Options:\n"
                              "  -f, --force   Do not fail for a network that does not exist\n"
                              "  -h, --help    Show this help\n",
                              options, ELEMENTSOF(options), CTL_ARGS_SOME);
        if (r <= 0)
                return r;
        r = ctl_acquire_bus(ctl, &bus);
        if (r < 0)
                return r;
        for (int i = optind; i < argc; i++) {
                _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
                r = ctl_bus_call_manager(bus, "RemoveNetwork", CTL_TIMEOUT_LONG, &error, NULL, "s", argv[i]);
                if (r >= 0)
                        printf("%s\n", argv[i]);
                else if (!(force && sd_bus_error_has_name(&error, BERTH_ERROR_NO_SUCH_NETWORK)))
                        ret = ctl_log_bus_error(&error, r);
        }
        return ret < 0 ? 1 : 0;
}

static int network_connect(Ctl *ctl, int argc, char *argv[], bool connect) {
        enum { ARG_ALIAS = 0x100, ARG_IP, ARG_IP6, ARG_HELP };
        static const struct option options[] = {
                { "alias", required_argument, NULL, ARG_ALIAS }, { "ip", required_argument, NULL, ARG_IP },
                { "ip6", required_argument, NULL, ARG_IP6 },     { "force", no_argument, NULL, 'f' },
                { "help", no_argument, NULL, ARG_HELP },         {},
        };
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL;
        _cleanup_(ctl_network_done) CtlNetwork opts = {};
        const char *verb = connect ? "network connect" : "network disconnect", *path;
        bool force = false;
        sd_bus *bus;
        int c, r;

        optind = 0;
        opterr = 0;
        while ((c = getopt_long(argc, argv, connect ? "+:h" : "+:fh", options, NULL)) >= 0)
                switch (c) {
                case ARG_ALIAS:
                case ARG_IP:
                        if (!connect)
                                return ctl_log_getopt_error(verb, '?', argv);
                        r = ctl_network_parse(&opts, c == ARG_ALIAS ? CTL_ARG_NETWORK_ALIAS : CTL_ARG_IP, optarg);
                        if (r < 0)
                                return r;
                        break;
                case ARG_IP6:
                        ctl_log_error("--ip6 is not supported: berth's container networking is IPv4 only");
                        return -EOPNOTSUPP;
                case 'f':
                        force = true;
                        break;
                case 'h':
                case ARG_HELP:
                        if (connect)
                                printf("Usage: berthctl network connect [OPTIONS] NETWORK CONTAINER\n"
                                       "\n"
                                       "Attach a container to a network: a running one gets the interface at once\n"
                                       "(eth1, ...), a stopped one at its next start.\n"
                                       "\n"
                                       "Options:\n"
                                       "      --alias=NAME  Another name it answers to on this network (repeatable)\n"
                                       "      --ip=ADDRESS  A fixed IPv4 address on this network\n"
                                       "  -h, --help        Show this help\n");
                        else
                                printf("Usage: berthctl network disconnect [OPTIONS] NETWORK CONTAINER\n"
                                       "\n"
                                       "Detach a container from a network.\n"
                                       "\n"
                                       "Options:\n"
                                       "  -f, --force   Detach even when the container is gone or the network is in\n"
                                       "                a bad state\n"
                                       "  -h, --help    Show this help\n");
                        return 0;
                default:
                        return ctl_log_getopt_error(verb, c, argv);
                }
        if (argc - optind != 2) {
                ctl_log_error("\"berthctl %s\" requires exactly 2 arguments (see 'berthctl %s --help')", verb, verb);
                return -EINVAL;
        }
        r = ctl_acquire_bus(ctl, &bus);
        if (r < 0)
                return r;
        r = ctl_bus_call_manager(bus, "GetNetwork", CTL_TIMEOUT_DEFAULT, &error, &reply, "s", argv[optind]);
        if (r >= 0)
                r = sd_bus_message_read(reply, "o", &path);
        if (r < 0)
                return ctl_log_bus_error(&error, r);
        if (!connect) {
                r = ctl_bus_call(bus, path, BERTH_BUS_NETWORK, "Disconnect", CTL_TIMEOUT_LONG, &error, NULL, "sb",
                                 argv[optind + 1], (int) force);
                return r < 0 ? ctl_log_bus_error(&error, r) : 0;
        }
        r = sd_bus_message_new_method_call(bus, &m, BERTH_BUS_SERVICE, path, BERTH_BUS_NETWORK, "Connect");
        if (r >= 0)
                r = sd_bus_message_append(m, "s", argv[optind + 1]);
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'a', "{sv}");
        if (r >= 0 && opts.aliases)
                r = ctl_bus_append_strv_option(m, "Aliases", opts.aliases);
        if (r >= 0 && opts.ip)
                r = sd_bus_message_append(m, "{sv}", "IPAddress", "s", opts.ip);
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        if (r < 0)
                return ctl_log_errno(r, "Failed to build the call: %m");
        r = sd_bus_call(bus, m, CTL_TIMEOUT_LONG, &error, NULL);
        return r < 0 ? ctl_log_bus_error(&error, r) : 0;
}

int ctl_prune_networks(sd_bus *bus, char **filters, bool optional, bool check_only) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL;
        _cleanup_strv_free_ char **removed = NULL;
        int r = sd_bus_message_new_method_call(bus, &m, BERTH_BUS_SERVICE, BERTH_BUS_PATH, BERTH_BUS_MANAGER,
                                               "PruneNetworks");
        if (r < 0)
                return ctl_log_errno(r, "Failed to build the request: %m");
        r = ctl_append_prune_filters(m, filters);
        if (r < 0 || check_only)
                return r;
        r = sd_bus_call(bus, m, CTL_TIMEOUT_LONG, &error, &reply);
        if (r < 0 && optional && sd_bus_error_has_name(&error, SD_BUS_ERROR_UNKNOWN_METHOD))
                return 0;
        if (r < 0)
                return ctl_log_bus_error(&error, r);
        r = sd_bus_message_read_strv(reply, &removed);
        if (r < 0)
                return ctl_log_errno(r, "Failed to parse the reply: %m");
        ctl_print_deleted("Deleted Networks:", removed);
        return 0;
}

static int network_prune(Ctl *ctl, int argc, char *argv[]) {
        _cleanup_(ctl_prune_args_done) CtlPruneArgs a = {};
        sd_bus *bus;
        int r;

        r = ctl_parse_prune_args(argc, argv, "network prune",
                                 "Usage: berthctl network prune [OPTIONS]\n"
                                 "\n"
                                 "Remove every user network no container is attached to.\n"
                                 "\n"
                                 "Options:\n" CTL_PRUNE_OPTIONS_HELP,
                                 0, &a);
        if (r <= 0)
                return r;
        r = ctl_acquire_bus(ctl, &bus);
        if (r < 0)
                return r;
        /* Checked (and refused) before asking. */
        r = ctl_prune_networks(bus, a.filters, false, true);
        if (r < 0)
                return r;
        if (!a.force &&
            !ctl_confirm("WARNING! This will remove all custom networks not used by at least one container."))
                return 0;
        return ctl_prune_networks(bus, a.filters, false, false);
}

int verb_network(int argc, char *argv[], Ctl *ctl) {
        if (argc < 2 || streq(argv[1], "--help") || streq(argv[1], "-h") || streq(argv[1], "help"))
                return network_help();
        const char *sub = argv[1];
        argc--, argv++;
        if (streq(sub, "create"))
                return network_create(ctl, argc, argv);
        if (streq(sub, "ls") || streq(sub, "list"))
                return network_ls(ctl, argc, argv);
        if (streq(sub, "inspect"))
                return network_inspect(ctl, argc, argv);
        if (streq(sub, "rm") || streq(sub, "remove"))
                return network_rm(ctl, argc, argv);
        if (streq(sub, "connect") || streq(sub, "disconnect"))
                return network_connect(ctl, argc, argv, streq(sub, "connect"));
        if (streq(sub, "prune"))
                return network_prune(ctl, argc, argv);
        ctl_log_error("unknown command \"network %s\" (see 'berthctl network --help')", sub);
        return -EINVAL;
}
