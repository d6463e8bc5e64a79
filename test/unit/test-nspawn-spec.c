/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The helper's spec parser: the network keys (net_mode, net_join_pid, interfaces). */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>

#include "nspawn-spec.h"
#include "util.h"
#include "tests.h"

#define ID "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

/* A minimal valid spec plus 'extra' (",\"key\": value" members, or ""). */
static int parse(const char *extra, ContainerSpec **ret, char *error, size_t size) {
        char json[4096];
        int n = snprintf(json, sizeof(json),
                         "{\"id\":\"" ID "\",\"name\":\"c\",\"hostname\":\"h\",\"rootfs\":\"/r\",\"rundir\":\"/run/x\","
                         "\"argv\":[\"sh\"]%s}",
                         extra);
        ASSERT(n > 0 && (size_t) n < sizeof(json));
        return container_spec_parse(json, (size_t) n, ret, error, size);
}

static void test_net_mode_strings(void) {
        for (NetMode m = 0; m < _NET_MODE_MAX; m++)
                CHECK_INT(net_mode_from_string(net_mode_to_string(m)), m);
        CHECK_STR(net_mode_to_string(NET_MODE_PRIVATE), "private");
        CHECK(net_mode_to_string(_NET_MODE_MAX) == NULL);
        CHECK(net_mode_to_string(_NET_MODE_INVALID) == NULL);
        CHECK_INT(net_mode_from_string("bridge"), _NET_MODE_INVALID);
        CHECK_INT(net_mode_from_string(NULL), _NET_MODE_INVALID);
}

static void test_net_default(void) {
        _cleanup_(container_spec_freep) ContainerSpec *s = NULL;
        char error[256] = "x";
        CHECK_INT(parse("", &s, error, sizeof(error)), 0);
        CHECK_INT(s->net_mode, NET_MODE_NONE);
        CHECK_INT(s->n_interfaces, 0);
        CHECK(container_spec_own_netns(s));
        CHECK_STR(error, "");
}

static void test_net_modes(void) {
        _cleanup_(container_spec_freep) ContainerSpec *host = NULL, *container = NULL, *none = NULL, *exec = NULL;
        CHECK_INT(parse(",\"net_mode\":\"host\"", &host, NULL, 0), 0);
        CHECK_INT(host->net_mode, NET_MODE_HOST);
        CHECK(!container_spec_own_netns(host));
        CHECK_INT(parse(",\"net_mode\":\"container\",\"net_join_pid\":4711", &container, NULL, 0), 0);
        CHECK_INT(container->net_mode, NET_MODE_CONTAINER);
        CHECK_INT(container->net_join_pid, 4711);
        CHECK_INT(parse(",\"net_mode\":\"none\",\"interfaces\":[]", &none, NULL, 0), 0);
        CHECK_INT(none->net_mode, NET_MODE_NONE);
        /* An exec joins the payload's namespaces: no process to name. */
        CHECK_INT(parse(",\"exec_pid\":42,\"net_mode\":\"container\"", &exec, NULL, 0), 0);
        CHECK_INT(exec->net_join_pid, 0);
}

static void test_net_private(void) {
        _cleanup_(container_spec_freep) ContainerSpec *s = NULL;
        char error[256];
        CHECK_INT(parse(",\"net_mode\":\"private\",\"userns_base\":100000,\"interfaces\":["
                        "{\"host_ifname\":\"vb0123456789a0\",\"ifname\":\"eth0\",\"bridge\":\"berth0\","
                        "\"address\":\"172.17.0.2/16\",\"gateway\":\"172.17.0.1\",\"mac\":\"02:42:ac:11:00:02\","
                        "\"mtu\":1500},"
                        "{\"host_ifname\":\"vb0123456789a1\",\"ifname\":\"eth1\",\"bridge\":\"br-0123456789ab\","
                        "\"address\":\"192.168.0.5/20\",\"gateway\":\"\",\"mac\":\"\"},"
                        "{\"host_ifname\":\"vb0123456789a2\",\"ifname\":\"eth2\",\"bridge\":\"\"}]",
                        &s, error, sizeof(error)),
                  0);
        ASSERT(s);
        CHECK_INT(s->net_mode, NET_MODE_PRIVATE);
        CHECK_INT(s->n_interfaces, 3);
        const SpecInterface *i = &s->interfaces[0];
        CHECK_STR(i->host_ifname, "vb0123456789a0");
        CHECK_STR(i->ifname, "eth0");
        CHECK_STR(i->bridge, "berth0");
        CHECK(i->has_address && i->has_gateway && i->has_mac);
        CHECK_INT(ntohl(i->address.s_addr), 0xac110002);
        CHECK_INT(i->prefixlen, 16);
        CHECK_INT(ntohl(i->gateway.s_addr), 0xac110001);
        CHECK(memcmp(i->mac, (uint8_t[]){ 0x02, 0x42, 0xac, 0x11, 0x00, 0x02 }, 6) == 0);
        CHECK_INT(i->mtu, 1500);
        i = &s->interfaces[1];
        CHECK_STR(i->bridge, "br-0123456789ab");
        CHECK(i->has_address && !i->has_gateway && !i->has_mac);
        CHECK_INT(i->prefixlen, 20);
        CHECK_INT(i->mtu, 0);
        i = &s->interfaces[2];
        CHECK_STR(i->bridge, "");
        CHECK(!i->has_address && !i->has_gateway && !i->has_mac);
}

/* A spec refused with a sentence containing 'needle'. */
static void check_invalid(const char *extra, const char *needle) {
        ContainerSpec *s = NULL;
        char error[HELPER_STATUS_MESSAGE_MAX] = "";
        CHECK_INT(parse(extra, &s, error, sizeof(error)), -EBADMSG);
        CHECK(s == NULL);
        if (!strstr(error, needle)) {
                printf("FAIL %s: error \"%s\" lacks \"%s\"\n", extra, error, needle);
                tests_failed++;
        }
        size_t n = strlen(error);
        CHECK(n > 0 && error[n - 1] == '.');
        /* Without a buffer the same refusal. */
        CHECK_INT(parse(extra, &s, NULL, 0), -EBADMSG);
}

#define IFACE(members) ",\"net_mode\":\"private\",\"interfaces\":[{" members "}]"
#define OK_NAMES       "\"host_ifname\":\"vb0\",\"ifname\":\"eth0\",\"bridge\":\"berth0\""

static void test_net_invalid(void) {
        check_invalid(",\"net_mode\":\"bridge\"", "invalid network mode \"bridge\"");
        check_invalid(",\"net_mode\":5", "invalid network mode \"(not a string)\"");
        check_invalid(",\"net_mode\":\"container\"", "names no process");
        check_invalid(",\"net_mode\":\"container\",\"net_join_pid\":-3", "names no process");
        check_invalid(",\"net_mode\":\"host\",\"userns_base\":100000",
                      "Cannot share the host's network namespace when user namespaces are enabled.");
        check_invalid(",\"net_mode\":\"container\",\"net_join_pid\":7,\"userns_base\":100000",
                      "Cannot share the network namespace of another container");
        check_invalid(",\"net_mode\":\"host\",\"interfaces\":[{" OK_NAMES "}]", "network mode is host, not private");
        check_invalid(",\"interfaces\":[{" OK_NAMES "}]", "network mode is none, not private");
        check_invalid(",\"net_mode\":\"private\",\"interfaces\":{}", "not an array");
        check_invalid(",\"net_mode\":\"private\",\"interfaces\":[\"eth0\"]", "not an object");
        check_invalid(IFACE("\"ifname\":\"eth0\",\"bridge\":\"b\""),
                      "host_ifname \"(missing)\" is not an interface name");
        check_invalid(IFACE("\"host_ifname\":\"vb0123456789abcdef\",\"ifname\":\"eth0\",\"bridge\":\"b\""),
                      "host_ifname \"vb0123456789abcdef\" is not an interface name (1 to 15 characters");
        check_invalid(IFACE("\"host_ifname\":\"vb0\",\"ifname\":\"\",\"bridge\":\"b\""), "ifname \"\" is not");
        check_invalid(IFACE("\"host_ifname\":\"vb0\",\"ifname\":\"eth/0\",\"bridge\":\"b\""), "ifname \"eth/0\"");
        check_invalid(IFACE("\"host_ifname\":\"vb0\",\"ifname\":\"eth0\",\"bridge\":\"a:b\""), "bridge \"a:b\"");
        check_invalid(IFACE("\"host_ifname\":\"vb0\",\"ifname\":\"eth0\""), "bridge \"(missing)\"");
        check_invalid(IFACE(OK_NAMES ",\"address\":\"172.17.0.2\""),
                      "invalid address for network interface eth0: \"172.17.0.2\" is not an IPv4 address with a "
                      "prefix length");
        check_invalid(IFACE(OK_NAMES ",\"address\":\"172.17.0.300/16\""), "\"172.17.0.300/16\"");
        check_invalid(IFACE(OK_NAMES ",\"address\":\"172.17.0.2/33\""), "\"172.17.0.2/33\"");
        check_invalid(IFACE(OK_NAMES ",\"gateway\":\"172.17.0.1/16\""),
                      "invalid gateway for network interface eth0: \"172.17.0.1/16\" is not an IPv4 address.");
        check_invalid(IFACE(OK_NAMES ",\"mac\":\"02:42:ac:11:00\""),
                      "invalid MAC address for network interface eth0: \"02:42:ac:11:00\"");
        check_invalid(IFACE(OK_NAMES ",\"mac\":\"zz:42:ac:11:00:02\""), "\"zz:42:ac:11:00:02\"");
        check_invalid(IFACE(OK_NAMES ",\"mtu\":67"), "invalid MTU for network interface eth0: 67");
        check_invalid(IFACE(OK_NAMES ",\"mtu\":65536"), "65536 is not between 68 and 65535.");
}

int main(void) {
        TEST(test_net_mode_strings);
        TEST(test_net_default);
        TEST(test_net_modes);
        TEST(test_net_private);
        TEST(test_net_invalid);
        return tests_exit_status();
}
