/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <arpa/inet.h>
#include <errno.h>
#include <json-c/json.h>
#include <nftables/libnftables.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "firewall.h"
#include "tests.h"
#include "util.h"

static struct in_addr ip(const char *s) {
        struct in_addr a;

        ASSERT(inet_pton(AF_INET, s, &a) == 1);
        return a;
}

static const FirewallNetwork nets[] = {
        { .bridge = "berth0", .subnet = { 0 }, .prefixlen = 16 },
        { .bridge = "br-0123456789ab", .subnet = { 0 }, .prefixlen = 20, .internal = true },
};

static FirewallNetwork net_bridge(void) {
        FirewallNetwork n = nets[0];

        n.subnet = ip("172.17.0.0");
        return n;
}

static FirewallNetwork net_internal(void) {
        FirewallNetwork n = nets[1];

        n.subnet = ip("192.168.16.0");
        return n;
}

static FirewallPort port(int protocol, const char *host_ip, uint16_t host_port, const char *container_ip,
                         uint16_t container_port) {
        return (FirewallPort){ .protocol = protocol,
                               .host_ip = ip(host_ip),
                               .host_port = host_port,
                               .container_ip = ip(container_ip),
                               .container_port = container_port };
}

static void test_ruleset_text(void) {
        FirewallNetwork n[] = { net_bridge(), net_internal() };
        FirewallPort p[] = { port(IPPROTO_TCP, "0.0.0.0", 8080, "172.17.0.2", 80),
                             port(IPPROTO_UDP, "127.0.0.1", 5353, "172.17.0.3", 53) };
        _cleanup_free_ char *text = NULL;
        const char *elements;

        CHECK_INT(firewall_ruleset_text(n, ELEMENTSOF(n), p, ELEMENTSOF(p), &text), 0);
        ASSERT(text);
        CHECK(startswith(text, "table inet berth\ndelete table inet berth\ntable inet berth {\n"));
        CHECK(strstr(text, "\t\tdnat ip to ip daddr . meta l4proto . th dport map @dnat_addr\n"));
        elements = strstr(text, "\n}\n");
        ASSERT(elements);
        CHECK_STR(elements + 3,
                  "add element inet berth bridges { \"berth0\" }\n"
                  "add element inet berth same_bridge { \"berth0\" . \"berth0\" }\n"
                  "add element inet berth nets { 172.17.0.0/16 }\n"
                  "add element inet berth bridges { \"br-0123456789ab\" }\n"
                  "add element inet berth same_bridge { \"br-0123456789ab\" . \"br-0123456789ab\" }\n"
                  "add element inet berth internal { \"br-0123456789ab\" }\n"
                  "create element inet berth dnat_any { tcp . 8080 : 172.17.0.2 . 80 }\n"
                  "create element inet berth dnat_addr { 127.0.0.1 . udp . 5353 : 172.17.0.3 . 53 }\n");

        text = mfree(text);
        CHECK_INT(firewall_ruleset_text(NULL, 0, NULL, 0, &text), 0);
        ASSERT(text);
        CHECK(endswith(text, "\n}\n"));

        /* A bad element spoils the whole text. */
        p[1].protocol = IPPROTO_ICMP;
        text = mfree(text);
        CHECK_INT(firewall_ruleset_text(n, ELEMENTSOF(n), p, ELEMENTSOF(p), &text), -EINVAL);
        CHECK(!text);
}

static void test_network_text(void) {
        FirewallNetwork n = net_bridge();
        _cleanup_free_ char *text = NULL;

        n.subnet = ip("172.17.5.6"); /* host bits are dropped */
        CHECK_INT(firewall_network_text(&n, false, &text), 0);
        CHECK_STR(text,
                  "delete element inet berth bridges { \"berth0\" }\n"
                  "delete element inet berth same_bridge { \"berth0\" . \"berth0\" }\n"
                  "delete element inet berth nets { 172.17.0.0/16 }\n");
        text = mfree(text);

        n.prefixlen = 32;
        CHECK_INT(firewall_network_text(&n, true, &text), 0);
        CHECK(strstr(text, "nets { 172.17.5.6/32 }\n"));
        text = mfree(text);

        const char *bad_names[] = { "", "a\"b", "a b", "br-0123456789abc", "x}", NULL };
        for (const char **s = bad_names; *s; s++) {
                n = net_bridge();
                n.bridge = *s;
                CHECK_INT(firewall_network_text(&n, true, &text), -EINVAL);
        }
        n = net_bridge();
        n.bridge = NULL;
        CHECK_INT(firewall_network_text(&n, true, &text), -EINVAL);
        n = net_bridge();
        n.prefixlen = 0;
        CHECK_INT(firewall_network_text(&n, true, &text), -EINVAL);
        n.prefixlen = 33;
        CHECK_INT(firewall_network_text(&n, true, &text), -EINVAL);
        CHECK(!text);
}

static void test_ports_text(void) {
        FirewallPort p[] = { port(IPPROTO_SCTP, "192.0.2.1", 9000, "172.18.0.5", 9001),
                             port(IPPROTO_TCP, "0.0.0.0", 443, "172.18.0.6", 8443) };
        _cleanup_free_ char *text = NULL;

        CHECK_INT(firewall_ports_text(p, ELEMENTSOF(p), true, &text), 0);
        CHECK_STR(text,
                  "create element inet berth dnat_addr { 192.0.2.1 . sctp . 9000 : 172.18.0.5 . 9001 }\n"
                  "create element inet berth dnat_any { tcp . 443 : 172.18.0.6 . 8443 }\n");
        text = mfree(text);
        CHECK_INT(firewall_ports_text(p, 1, false, &text), 0);
        CHECK_STR(text, "delete element inet berth dnat_addr { 192.0.2.1 . sctp . 9000 : 172.18.0.5 . 9001 }\n");
        text = mfree(text);
        CHECK_INT(firewall_ports_text(p, 0, true, &text), 0);
        CHECK_STR(text, "");
        text = mfree(text);

        p[0].host_port = 0;
        CHECK_INT(firewall_ports_text(p, 1, true, &text), -EINVAL);
        p[0].host_port = 9000;
        p[0].container_ip.s_addr = INADDR_ANY;
        CHECK_INT(firewall_ports_text(p, 1, true, &text), -EINVAL);
        p[0] = port(0, "0.0.0.0", 1, "10.0.0.1", 1);
        CHECK_INT(firewall_ports_text(p, 1, true, &text), -EINVAL);
        CHECK(!text);
}

static void test_errno_from_message(void) {
        CHECK_INT(firewall_errno_from_message("Error: Could not process rule: File exists\nx\n^^\n"), -EEXIST);
        CHECK_INT(firewall_errno_from_message("Error: Could not process rule: No such file or directory\n"), -ENOENT);
        CHECK_INT(firewall_errno_from_message("Error: element does not exist\n"), -ENOENT);
        CHECK_INT(firewall_errno_from_message("Error: interval overlaps with an existing one\n"), -EEXIST);
        CHECK_INT(firewall_errno_from_message("Error: syntax error, unexpected oifname\n"), -EINVAL);
        CHECK_INT(firewall_errno_from_message("Error: Could not process rule: Operation not permitted\n"), -EPERM);
        CHECK_INT(
                firewall_errno_from_message("Error: syntax error, unexpected add\nadd element x { \"File exists\" }\n"),
                -EINVAL);
        CHECK_INT(firewall_errno_from_message("something else"), -EIO);
        CHECK_INT(firewall_errno_from_message(NULL), -EIO);
}

/* What "nft -j list ruleset" prints, cut to what matters. */
#define BERTH_TABLE_JSON                                                                                       \
        "{\"set\": {\"family\": \"inet\", \"name\": \"bridges\", \"table\": \"berth\", \"type\": \"ifname\", " \
        "\"elem\": [\"berth0\", \"br-0123\"]}}, "                                                              \
        "{\"chain\": {\"family\": \"inet\", \"table\": \"berth\", \"name\": \"forward\", \"type\": "           \
        "\"filter\", \"hook\": \"forward\", \"prio\": 0, \"policy\": \"accept\"}}, "                           \
        "{\"rule\": {\"family\": \"inet\", \"table\": \"berth\", \"chain\": \"forward\", \"expr\": "           \
        "[{\"drop\": null}]}}"
#define DOCKER_JSON                                                                                                \
        "{\"chain\": {\"family\": \"ip\", \"table\": \"filter\", \"name\": \"FORWARD\", \"type\": \"filter\", "    \
        "\"hook\": \"forward\", \"prio\": 0, \"policy\": \"drop\"}}, "                                             \
        "{\"chain\": {\"family\": \"ip\", \"table\": \"filter\", \"name\": \"DOCKER-USER\"}}, "                    \
        "{\"rule\": {\"family\": \"ip\", \"table\": \"filter\", \"chain\": \"FORWARD\", \"expr\": [{\"counter\": " \
        "{\"packets\": 0, \"bytes\": 0}}, {\"jump\": {\"target\": \"DOCKER-USER\"}}]}}, "                          \
        "{\"rule\": {\"family\": \"ip\", \"table\": \"filter\", \"chain\": \"FORWARD\", \"expr\": [{\"match\": "   \
        "{\"op\": \"==\", \"left\": {\"meta\": {\"key\": \"oifname\"}}, \"right\": \"docker0\"}}, {\"accept\": "   \
        "null}]}}"
#define DOCKER_USER_ACCEPT_JSON                                                                                      \
        "{\"rule\": {\"family\": \"ip\", \"table\": \"filter\", \"chain\": \"DOCKER-USER\", \"expr\": [{\"match\": " \
        "{\"op\": \"==\", \"left\": {\"meta\": {\"key\": \"iifname\"}}, \"right\": \"berth0\"}}, {\"counter\": "     \
        "null}, {\"accept\": null}]}}"
#define FIREWALLD_JSON                                                                                          \
        "{\"chain\": {\"family\": \"inet\", \"table\": \"firewalld\", \"name\": \"filter_FORWARD\", \"type\": " \
        "\"filter\", \"hook\": \"forward\", \"prio\": 10, \"policy\": \"accept\"}}, "                           \
        "{\"rule\": {\"family\": \"inet\", \"table\": \"firewalld\", \"chain\": \"filter_FORWARD\", \"expr\": " \
        "[{\"match\": {\"op\": \"in\", \"left\": {\"ct\": {\"key\": \"state\"}}, \"right\": [\"established\", " \
        "\"related\"]}}, {\"accept\": null}]}}, "                                                               \
        "{\"rule\": {\"family\": \"inet\", \"table\": \"firewalld\", \"chain\": \"filter_FORWARD\", \"expr\": " \
        "[{\"reject\": {\"type\": \"icmpx\", \"expr\": \"admin-prohibited\"}}]}}"

static void test_conflicts_from_json(void) {
        char *w = (char *) "untouched";

        CHECK_INT(firewall_conflicts_from_json("{\"nftables\": [" BERTH_TABLE_JSON "]}", &w), 0);
        CHECK(!w);
        CHECK_INT(firewall_conflicts_from_json("{\"nftables\": []}", &w), 0);
        CHECK(!w);

        CHECK_INT(firewall_conflicts_from_json("{\"nftables\": [" BERTH_TABLE_JSON ", " DOCKER_JSON "]}", &w), 0);
        ASSERT(w);
        CHECK(startswith(w, "Chain FORWARD of table ip filter (hook forward) has policy drop (as Docker sets it)"));
        CHECK(strstr(w,
                     "iptables -I DOCKER-USER -i berth0 -j ACCEPT; iptables -I DOCKER-USER -o berth0 -j ACCEPT "
                     "(for each of berth0, br-0123)."));
        w = mfree(w);

        /* The user allowed the bridge there. */
        CHECK_INT(firewall_conflicts_from_json(
                          "{\"nftables\": [" BERTH_TABLE_JSON ", " DOCKER_JSON ", " DOCKER_USER_ACCEPT_JSON "]}", &w),
                  0);
        CHECK(!w);

        CHECK_INT(firewall_conflicts_from_json("{\"nftables\": [" FIREWALLD_JSON "]}", &w), 0);
        ASSERT(w);
        CHECK(startswith(w, "Chain filter_FORWARD of table inet firewalld (hook forward) rejects"));
        CHECK(endswith(w,
                       "allow berth's bridges there, e.g. in zone trusted: firewall-cmd --permanent "
                       "--zone=trusted --add-interface=berth0; firewall-cmd --reload."));
        w = mfree(w);

        CHECK_INT(firewall_conflicts_from_json("{\"nftables\": [" DOCKER_JSON ", " FIREWALLD_JSON "]}", &w), 0);
        ASSERT(w);
        CHECK(strstr(w, "ip filter"));
        CHECK(strstr(w, "inet firewalld"));
        w = mfree(w);

        CHECK_INT(firewall_conflicts_from_json("not json", &w), -EINVAL);
        CHECK_INT(firewall_conflicts_from_json("{\"other\": 1}", &w), -EINVAL);
}

/* Against the kernel, in a network namespace of the test's own. */
static struct nft_ctx *lister;

static char *nft_output(const char *cmd, bool json) {
        char *out;

        nft_ctx_output_set_flags(lister, json ? NFT_CTX_OUTPUT_JSON : 0);
        if (nft_run_cmd_from_buffer(lister, cmd) < 0) {
                printf("nft %s: %s", cmd, nft_ctx_get_error_buffer(lister));
                (void) nft_ctx_get_output_buffer(lister);
                return NULL;
        }
        (void) nft_ctx_get_error_buffer(lister);
        out = strdup(nft_ctx_get_output_buffer(lister));
        ASSERT(out);
        return out;
}

static int compare_json(const void *a, const void *b) {
        return strcmp(json_object_to_json_string_ext(*(json_object *const *) a, JSON_C_TO_STRING_PLAIN),
                      json_object_to_json_string_ext(*(json_object *const *) b, JSON_C_TO_STRING_PLAIN));
}

/* The elements of one set or map, as compact JSON ("[]" when empty). */
static char *elements(const char *name) {
        _cleanup_free_ char *json = nft_output("list table inet berth", true);
        json_object *root, *list;
        char *ret = NULL;

        if (!json)
                return NULL;
        root = json_tokener_parse(json);
        ASSERT(root && json_object_object_get_ex(root, "nftables", &list));
        for (size_t i = 0; i < json_object_array_length(list); i++) {
                json_object *item = json_object_array_get_idx(list, i), *o, *name_o, *elem;

                if (!json_object_object_get_ex(item, "set", &o) && !json_object_object_get_ex(item, "map", &o))
                        continue;
                if (!json_object_object_get_ex(o, "name", &name_o) || !streq(json_object_get_string(name_o), name))
                        continue;
                if (!json_object_object_get_ex(o, "elem", &elem)) {
                        ret = strdup("[]");
                        break;
                }
                /* In the kernel's order, which is a hash's: sorted here. */
                json_object_array_sort(elem, compare_json);
                ret = strdup(json_object_to_json_string_ext(elem, JSON_C_TO_STRING_PLAIN));
                break;
        }
        json_object_put(root);
        return ret;
}

#define CHECK_ELEMENTS(name, expected)                    \
        do {                                              \
                _cleanup_free_ char *_e = elements(name); \
                CHECK_STR(_e, expected);                  \
        } while (0)

static void test_kernel_table(void) {
        FirewallNetwork n[] = { net_bridge(), net_internal() };
        FirewallNetwork x = { .bridge = "br-x", .subnet = ip("172.18.0.0"), .prefixlen = 16 };
        FirewallNetwork overlap = { .bridge = "br-y", .subnet = ip("172.18.1.0"), .prefixlen = 24 };
        FirewallPort p[] = { port(IPPROTO_TCP, "0.0.0.0", 8080, "172.17.0.2", 80),
                             port(IPPROTO_UDP, "127.0.0.1", 5353, "172.17.0.3", 53) };
        FirewallPort q[] = { port(IPPROTO_SCTP, "0.0.0.0", 9090, "172.17.0.4", 90),
                             port(IPPROTO_TCP, "0.0.0.0", 8080, "172.17.0.9", 80) };
        FirewallPort missing = port(IPPROTO_TCP, "192.0.2.1", 1, "172.17.0.9", 1);
        _cleanup_(firewall_freep) Firewall *f = NULL;
        _cleanup_free_ char *first = NULL, *second = NULL, *error = NULL, *warning = NULL;

        ASSERT(firewall_new(&f) == 0);
        CHECK_INT(firewall_remove_table(f, &error), 0); /* none there yet */
        CHECK(!error);

        CHECK_INT(firewall_rebuild(f, n, ELEMENTSOF(n), p, ELEMENTSOF(p), &error), 0);
        CHECK(!error);
        CHECK_ELEMENTS("bridges", "[\"berth0\",\"br-0123456789ab\"]");
        CHECK_ELEMENTS("same_bridge",
                       "[{\"concat\":[\"berth0\",\"berth0\"]},"
                       "{\"concat\":[\"br-0123456789ab\",\"br-0123456789ab\"]}]");
        CHECK_ELEMENTS("internal", "[\"br-0123456789ab\"]");
        CHECK_ELEMENTS("nets", "[{\"prefix\":{\"addr\":\"172.17.0.0\",\"len\":16}}]");
        CHECK_ELEMENTS("dnat_any", "[[{\"concat\":[\"tcp\",8080]},{\"concat\":[\"172.17.0.2\",80]}]]");
        CHECK_ELEMENTS("dnat_addr", "[[{\"concat\":[\"127.0.0.1\",\"udp\",5353]},{\"concat\":[\"172.17.0.3\",53]}]]");

        first = nft_output("list table inet berth", false);
        printf("%s", first ?: "");
        CHECK_INT(firewall_rebuild(f, n, ELEMENTSOF(n), p, ELEMENTSOF(p), &error), 0);
        second = nft_output("list table inet berth", false);
        CHECK_STR(first, second);

        /* Networks: adding twice is fine, an overlapping subnet is refused whole. */
        CHECK_INT(firewall_add_network(f, &x, &error), 0);
        CHECK_INT(firewall_add_network(f, &x, &error), 0);
        CHECK(!error);
        CHECK_ELEMENTS("bridges", "[\"berth0\",\"br-0123456789ab\",\"br-x\"]");
        CHECK_ELEMENTS("nets",
                       "[{\"prefix\":{\"addr\":\"172.17.0.0\",\"len\":16}},"
                       "{\"prefix\":{\"addr\":\"172.18.0.0\",\"len\":16}}]");
        CHECK_INT(firewall_add_network(f, &overlap, &error), -EEXIST);
        CHECK_STR(error, "interval overlaps with an existing one: add element inet berth nets { 172.18.1.0/24 }");
        printf("overlap: %s\n", error ?: "(null)");
        error = mfree(error);
        CHECK_ELEMENTS("bridges", "[\"berth0\",\"br-0123456789ab\",\"br-x\"]");
        CHECK_INT(firewall_remove_network(f, &x, &error), 0);
        CHECK_INT(firewall_remove_network(f, &x, &error), 0);
        CHECK_INT(firewall_remove_network(f, &n[1], &error), 0);
        CHECK(!error);
        CHECK_ELEMENTS("bridges", "[\"berth0\"]");
        CHECK_ELEMENTS("same_bridge", "[{\"concat\":[\"berth0\",\"berth0\"]}]");
        CHECK_ELEMENTS("internal", "[]");
        CHECK_ELEMENTS("nets", "[{\"prefix\":{\"addr\":\"172.17.0.0\",\"len\":16}}]");

        /* Ports: a duplicate spoils the whole call. */
        CHECK_INT(firewall_add_ports(f, q, ELEMENTSOF(q), &error), -EEXIST);
        CHECK_STR(error,
                  "Could not process rule: File exists: create element inet berth dnat_any { tcp . 8080 : 172.17.0.9 . "
                  "80 }");
        printf("duplicate: %s\n", error ?: "(null)");
        error = mfree(error);
        CHECK_ELEMENTS("dnat_any", "[[{\"concat\":[\"tcp\",8080]},{\"concat\":[\"172.17.0.2\",80]}]]");
        CHECK_INT(firewall_add_ports(f, q, 1, &error), 0);
        CHECK_ELEMENTS("dnat_any",
                       "[[{\"concat\":[\"sctp\",9090]},{\"concat\":[\"172.17.0.4\",90]}],"
                       "[{\"concat\":[\"tcp\",8080]},{\"concat\":[\"172.17.0.2\",80]}]]");
        CHECK_INT(firewall_add_ports(f, q, 0, &error), 0);

        /* Missing ones are skipped, the rest removed. */
        FirewallPort r[] = { missing, q[0], p[1] };
        CHECK_INT(firewall_remove_ports(f, r, ELEMENTSOF(r), &error), 0);
        CHECK(!error);
        CHECK_ELEMENTS("dnat_any", "[[{\"concat\":[\"tcp\",8080]},{\"concat\":[\"172.17.0.2\",80]}]]");
        CHECK_ELEMENTS("dnat_addr", "[]");
        CHECK_INT(firewall_remove_ports(f, r, ELEMENTSOF(r), &error), 0);

        /* Nothing else hooks forward here. */
        CHECK_INT(firewall_check_conflicts(f, &warning), 0);
        CHECK(!warning);
        second = mfree(second);
        second = nft_output("table ip filter { chain FORWARD { type filter hook forward priority filter; policy "
                            "drop; }; }",
                            false);
        CHECK_INT(firewall_check_conflicts(f, &warning), 0);
        CHECK(warning && startswith(warning, "Chain FORWARD of table ip filter (hook forward) has policy drop: "));
        printf("warning: %s\n", warning ?: "(null)");
        free(nft_output("delete table ip filter", false));

        CHECK_INT(firewall_remove_table(f, &error), 0);
        CHECK_INT(firewall_remove_table(f, &error), 0);
        CHECK(!error);
        CHECK_INT(firewall_add_ports(f, p, 1, &error), -ENOENT);
        CHECK(error);
}

/* Packets: the test's namespace is the host, with bridges berth0 (172.17.0.1/16) and br-x
 * (172.18.0.1/16) and a veth to "ext", another host (192.0.2.1/24 here, 192.0.2.2/24 there).
 * Container c (172.17.0.2) on berth0 listens on port 80, containers d (172.18.0.2) and e
 * (172.18.0.3, listening on 80) are on br-x, ext listens on port 9. A probe connects from one namespace and reports the
 * source address the listener saw, or NULL when no connection came through. */
static int host_ns = -1;

static void enter(int ns) {
        ASSERT(setns(ns, CLONE_NEWNET) == 0);
}

static int new_netns(void) {
        int fd;

        ASSERT(unshare(CLONE_NEWNET) == 0);
        fd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
        ASSERT(fd >= 0);
        enter(host_ns);
        return fd;
}

static int sh(int ns, const char *command) {
        int r;

        enter(ns);
        r = system(command);
        enter(host_ns);
        if (r != 0)
                printf("failed: %s\n", command);
        return r == 0 ? 0 : -1;
}

/* A veth from the host (host_name, with host_setup) to ns (eth0, configured by ns_setup). */
static void veth(int ns, const char *host_name, const char *host_setup, const char *ns_setup) {
        char command[512];

        snprintf(command, sizeof(command), "ip link add %s type veth peer name eth0 netns /proc/%i/fd/%i && %s",
                 host_name, (int) getpid(), ns, host_setup);
        ASSERT(sh(host_ns, command) == 0);
        snprintf(command, sizeof(command), "ip link set lo up && ip link set eth0 up && %s", ns_setup);
        ASSERT(sh(ns, command) == 0);
}

static int listener(int ns, uint16_t port) {
        struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
        int fd;

        enter(ns);
        fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        enter(host_ns);
        ASSERT(fd >= 0);
        ASSERT(bind(fd, (struct sockaddr *) &sa, sizeof(sa)) == 0);
        ASSERT(listen(fd, 8) == 0);
        return fd;
}

static char *probe(int from, int listen_fd, const char *addr, uint16_t port) {
        struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port), .sin_addr = ip(addr) }, peer;
        struct timeval timeout = { .tv_sec = 1 };
        socklen_t len = sizeof(peer);
        struct pollfd pfd = { .fd = listen_fd, .events = POLLIN };
        char text[INET_ADDRSTRLEN];
        _cleanup_close_ int fd = -1, accepted = -1;

        enter(from);
        fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        enter(host_ns);
        ASSERT(fd >= 0);
        ASSERT(setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof(timeout)) == 0);
        if (connect(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0) {
                printf("probe %s:%u: %m\n", addr, port);
                return NULL;
        }
        if (poll(&pfd, 1, 1000) != 1)
                return NULL;
        accepted = accept4(listen_fd, (struct sockaddr *) &peer, &len, SOCK_CLOEXEC);
        if (accepted < 0 || !inet_ntop(AF_INET, &peer.sin_addr, text, sizeof(text)))
                return NULL;
        return strdup(text);
}

#define CHECK_PROBE(from, listen_fd, addr, port, expected)                       \
        do {                                                                     \
                _cleanup_free_ char *_seen = probe(from, listen_fd, addr, port); \
                const char *_expected = (expected);                              \
                if (_expected)                                                   \
                        CHECK_STR(_seen, _expected);                             \
                else                                                             \
                        CHECK_STR(_seen ?: "(nothing)", "(nothing)");            \
        } while (0)

static void write_sysctl(const char *path, const char *value) {
        _cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC);

        ASSERT(fd >= 0 && loop_write(fd, value, strlen(value)) == 0);
}

static void test_kernel_packets(void) {
        FirewallNetwork n[] = { net_bridge(), { .bridge = "br-x", .subnet = ip("172.18.0.0"), .prefixlen = 16 } };
        FirewallPort p[] = { port(IPPROTO_TCP, "0.0.0.0", 8080, "172.17.0.2", 80),
                             port(IPPROTO_TCP, "192.0.2.1", 8081, "172.17.0.2", 80) };
        _cleanup_(firewall_freep) Firewall *f = NULL;
        _cleanup_close_ int c = -1, d = -1, e = -1, ext = -1, c_listen = -1, e_listen = -1, ext_listen = -1;

        host_ns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
        ASSERT(host_ns >= 0);
        ASSERT(sh(host_ns,
                  "ip link set lo up && "
                  "ip link add berth0 type bridge && ip addr add 172.17.0.1/16 dev berth0 && "
                  "ip link set berth0 up && "
                  "ip link add br-x type bridge && ip addr add 172.18.0.1/16 dev br-x && "
                  "ip link set br-x up") == 0);
        c = new_netns();
        d = new_netns();
        e = new_netns();
        ext = new_netns();
        veth(c, "vbc0", "ip link set vbc0 master berth0 up && bridge link set dev vbc0 hairpin on",
             "ip addr add 172.17.0.2/16 dev eth0 && ip route add default via 172.17.0.1");
        veth(d, "vbd0", "ip link set vbd0 master br-x up",
             "ip addr add 172.18.0.2/16 dev eth0 && ip route add default via 172.18.0.1");
        veth(e, "vbe0", "ip link set vbe0 master br-x up",
             "ip addr add 172.18.0.3/16 dev eth0 && ip route add default via 172.18.0.1");
        veth(ext, "vbext", "ip addr add 192.0.2.1/24 dev vbext && ip link set vbext up",
             "ip addr add 192.0.2.2/24 dev eth0 && ip route add default via 192.0.2.1");
        /* berthd's part. */
        write_sysctl("/proc/sys/net/ipv4/ip_forward", "1");
        write_sysctl("/proc/sys/net/ipv4/conf/berth0/route_localnet", "1");
        write_sysctl("/proc/sys/net/ipv4/conf/br-x/route_localnet", "1");
        c_listen = listener(c, 80);
        e_listen = listener(e, 80);
        ext_listen = listener(ext, 9);

        ASSERT(firewall_new(&f) == 0);
        ASSERT(firewall_rebuild(f, n, ELEMENTSOF(n), p, ELEMENTSOF(p), NULL) == 0);

        /* Published ports from another host, on every address and on one. */
        CHECK_PROBE(ext, c_listen, "192.0.2.1", 8080, "192.0.2.2");
        CHECK_PROBE(ext, c_listen, "192.0.2.1", 8081, "192.0.2.2");
        /* From the host itself, 127.0.0.1 too (masqueraded: 127/8 cannot leave the host). */
        CHECK_PROBE(host_ns, c_listen, "127.0.0.1", 8080, "172.17.0.1");
        CHECK_PROBE(host_ns, c_listen, "192.0.2.1", 8081, "192.0.2.1");
        CHECK_PROBE(host_ns, c_listen, "172.17.0.1", 8081, NULL);
        /* Hairpin: the container to its own published port, a container of another network to it. */
        CHECK_PROBE(c, c_listen, "192.0.2.1", 8080, "172.17.0.1");
        CHECK_PROBE(d, c_listen, "172.18.0.1", 8080, "172.17.0.1");
        /* Not straight from one network to another. */
        CHECK_PROBE(d, c_listen, "172.17.0.2", 80, NULL);
        /* Out to other hosts, masqueraded. */
        CHECK_PROBE(c, ext_listen, "192.0.2.2", 9, "192.0.2.1");
        CHECK_PROBE(d, ext_listen, "192.0.2.2", 9, "192.0.2.1");

        /* Within one network (with br_netfilter loaded this passes the forward hook). */
        CHECK_PROBE(d, e_listen, "172.18.0.3", 80, "172.18.0.2");

        /* br-x internal: nothing in or out, but within. */
        n[1].internal = true;
        ASSERT(firewall_rebuild(f, n, ELEMENTSOF(n), p, ELEMENTSOF(p), NULL) == 0);
        CHECK_PROBE(d, ext_listen, "192.0.2.2", 9, NULL);
        CHECK_PROBE(d, c_listen, "172.18.0.1", 8080, NULL);
        CHECK_PROBE(d, e_listen, "172.18.0.3", 80, "172.18.0.2");
        CHECK_PROBE(c, ext_listen, "192.0.2.2", 9, "192.0.2.1");

        /* An unpublished port is closed at once. */
        CHECK_INT(firewall_remove_ports(f, p, 1, NULL), 0);
        CHECK_PROBE(ext, c_listen, "192.0.2.1", 8080, NULL);
        CHECK_PROBE(ext, c_listen, "192.0.2.1", 8081, "192.0.2.2");
}

int main(void) {
        TEST(test_ruleset_text);
        TEST(test_network_text);
        TEST(test_ports_text);
        TEST(test_errno_from_message);
        TEST(test_conflicts_from_json);

        if (geteuid() != 0 || unshare(CLONE_NEWNET) < 0) {
                printf("skip test_kernel_table: needs root (a network namespace of its own)\n");
                return tests_exit_status();
        }
        lister = nft_ctx_new(NFT_CTX_DEFAULT);
        ASSERT(lister && nft_ctx_buffer_output(lister) == 0 && nft_ctx_buffer_error(lister) == 0);
        TEST(test_kernel_table);
        if (system("command -v ip >/dev/null && command -v bridge >/dev/null") == 0)
                TEST(test_kernel_packets);
        else
                printf("skip test_kernel_packets: needs ip and bridge (iproute2)\n");
        nft_ctx_free(lister);
        return tests_exit_status();
}
