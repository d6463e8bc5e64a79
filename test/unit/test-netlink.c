/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* netlink.c against the kernel: the test moves itself into a network namespace of its own (as root;
 * the parsers alone otherwise) and checks what it did with iproute2's JSON output. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "netlink.h"
#include "util.h"
#include "tests.h"

/* The output of an iproute2 command run in our current network namespace. */
static char *run_ip(const char *command) {
        FILE *f = popen(command, "re");
        ASSERT(f);
        char *out = NULL;
        size_t size = 0;
        FILE *m = open_memstream(&out, &size);
        ASSERT(m);
        char buf[4096];
        size_t n;
        while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
                fwrite(buf, 1, n, m);
        pclose(f);
        fclose(m);
        return out;
}

#define CHECK_IP(command, needle)                                                                              \
        do {                                                                                                   \
                _cleanup_free_ char *_out = run_ip(command);                                                   \
                if (!strstr(_out, needle)) {                                                                   \
                        printf("FAIL %s:%d: '%s' has no %s: %s\n", __FILE__, __LINE__, command, needle, _out); \
                        tests_failed++;                                                                        \
                }                                                                                              \
        } while (0)

static void test_parsers(void) {
        struct in_addr a;
        unsigned prefixlen;
        uint8_t mac[NETLINK_ETHER_ADDR_LEN];

        CHECK_INT(ipv4_prefix_parse("172.17.0.2/16", &a, &prefixlen), 0);
        CHECK_INT(ntohl(a.s_addr), 0xac110002);
        CHECK_INT(prefixlen, 16);
        CHECK_INT(ipv4_prefix_parse("0.0.0.0/0", &a, &prefixlen), 0);
        CHECK_INT(prefixlen, 0);
        CHECK_INT(ipv4_prefix_parse("10.0.0.1/32", &a, &prefixlen), 0);
        prefixlen = 99;
        const char *bad_prefixes[] = {
                "",         "10.0.0.1",    "10.0.0.1/",   "10.0.0.1/33", "10.0.0.1/08",  "10.0.0.1/1x",
                "10.0.0/8", "010.0.0.1/8", "10.0.0.1/-1", "::1/64",      "10.0.0.1/8/8", "1234567890123456/8"
        };
        for (size_t i = 0; i < ELEMENTSOF(bad_prefixes); i++)
                CHECK_INT(ipv4_prefix_parse(bad_prefixes[i], &a, &prefixlen), -EINVAL);
        CHECK_INT(ipv4_prefix_parse(NULL, &a, &prefixlen), -EINVAL);
        CHECK_INT(prefixlen, 99); /* untouched */

        CHECK_INT(ether_addr_parse("02:42:ac:11:00:02", mac), 0);
        CHECK(memcmp(mac, (uint8_t[]){ 0x02, 0x42, 0xac, 0x11, 0x00, 0x02 }, 6) == 0);
        CHECK_INT(ether_addr_parse("FF:fe:0A:00:00:01", mac), 0);
        CHECK_INT(mac[0], 0xff);
        const char *bad_macs[] = { "",
                                   "02:42:ac:11:00",
                                   "02:42:ac:11:00:02:",
                                   "2:42:ac:11:00:02",
                                   "02-42-ac-11-00-02",
                                   "02:42:ac:11:00:0g",
                                   "02:42:ac:11:00:002" };
        for (size_t i = 0; i < ELEMENTSOF(bad_macs); i++)
                CHECK_INT(ether_addr_parse(bad_macs[i], mac), -EINVAL);

        CHECK(ifname_is_valid("eth0"));
        CHECK(ifname_is_valid("vb0123456789a0"));
        CHECK(ifname_is_valid("123456789012345"));
        CHECK(!ifname_is_valid("1234567890123456"));
        CHECK(!ifname_is_valid(""));
        CHECK(!ifname_is_valid(NULL));
        CHECK(!ifname_is_valid("."));
        CHECK(!ifname_is_valid(".."));
        CHECK(!ifname_is_valid("a/b"));
        CHECK(!ifname_is_valid("a:b"));
        CHECK(!ifname_is_valid("a b"));
        CHECK(!ifname_is_valid("a\nb"));
}

static void test_bridge(void) {
        _cleanup_(netlink_closep) NetlinkSocket *nl = NULL;
        int index = 0, again = 0;

        ASSERT(netlink_open(&nl) == 0);
        CHECK_INT(netlink_bridge_create(nl, "tbr0", false), 0);
        CHECK_INT(netlink_bridge_create(nl, "tbr0", false), -EEXIST);
        CHECK_INT(netlink_bridge_create(nl, "tbr0", true), 0);
        CHECK_INT(netlink_bridge_create(nl, "much-too-long-name", true), -EINVAL);
        CHECK_INT(netlink_link_index(nl, "tbr0", &index), 0);
        CHECK(index > 1);
        CHECK_INT(netlink_link_index(nl, "lo", &again), 0);
        CHECK_INT(again, 1);
        again = 4711;
        CHECK_INT(netlink_link_index(nl, "nosuchlink", &again), -ENODEV);
        CHECK_INT(again, 4711);

        CHECK_INT(netlink_link_set_mtu(nl, "tbr0", 1400), 0);
        CHECK_INT(netlink_link_set_mac(nl, "tbr0", (uint8_t[]){ 0x02, 0x42, 0x0a, 0x58, 0x00, 0x01 }), 0);
        CHECK_INT(netlink_link_set_up(nl, "tbr0"), 0);
        CHECK_INT(netlink_link_set_up(nl, "nosuchlink"), -ENODEV);
        CHECK_INT(netlink_address_add_ipv4(nl, "tbr0", (struct in_addr){ htonl(0x0a580001) }, 24), 0);
        CHECK_INT(netlink_address_add_ipv4(nl, "tbr0", (struct in_addr){ htonl(0x0a580001) }, 24), -EEXIST);
        CHECK_INT(netlink_address_add_ipv4(nl, "nosuchlink", (struct in_addr){ htonl(0x0a580001) }, 24), -ENODEV);

        CHECK_IP("ip -j link show tbr0", "\"mtu\":1400");
        CHECK_IP("ip -j link show tbr0", "\"address\":\"02:42:0a:58:00:01\"");
        CHECK_IP("ip -j link show tbr0", "\"UP\"");
        CHECK_IP("ip -j -d link show tbr0", "\"info_kind\":\"bridge\"");
        CHECK_IP("ip -j -4 addr show dev tbr0",
                 "\"local\":\"10.88.0.1\",\"prefixlen\":24,\"broadcast\":\"10.88.0.255\"");
}

/* A process with a network namespace of its own, until *done_fd is closed. */
static pid_t spawn_namespace(int *ret_done_fd) {
        int ready[2], done[2];
        ASSERT(pipe2(ready, O_CLOEXEC) == 0 && pipe2(done, O_CLOEXEC) == 0);
        pid_t pid = fork();
        ASSERT(pid >= 0);
        if (pid == 0) {
                char c;
                close(ready[0]);
                close(done[1]);
                if (unshare(CLONE_NEWNET) < 0)
                        _exit(1);
                (void) !write(ready[1], "x", 1);
                (void) !read(done[0], &c, 1);
                _exit(0);
        }
        char c;
        close(ready[1]);
        close(done[0]);
        ASSERT(read(ready[0], &c, 1) == 1);
        close(ready[0]);
        *ret_done_fd = done[1];
        return pid;
}

static void test_veth(void) {
        _cleanup_(netlink_closep) NetlinkSocket *nl = NULL, *inside = NULL;
        _cleanup_close_ int done = -1, netns = -1, own = -1;
        char path[64];
        int index;

        ASSERT(netlink_open(&nl) == 0);
        pid_t pid = spawn_namespace(&done);
        snprintf(path, sizeof(path), "/proc/%d/ns/net", (int) pid);
        netns = open(path, O_RDONLY | O_CLOEXEC);
        own = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
        ASSERT(netns >= 0 && own >= 0);

        CHECK_INT(netlink_veth_create(nl, "vbtest00", "eth0", netns, 1400), 0);
        CHECK_INT(netlink_veth_create(nl, "vbtest00", "eth0", netns, 1400), -EEXIST);
        CHECK_INT(netlink_link_index(nl, "vbtest00", &index), 0);
        CHECK_INT(netlink_link_index(nl, "eth0", &index), -ENODEV); /* the peer is over there */
        CHECK_INT(netlink_link_set_master(nl, "vbtest00", "tbr0"), 0);
        CHECK_INT(netlink_link_set_master(nl, "vbtest00", "nosuchbridge"), -ENODEV);
        CHECK_INT(netlink_link_set_hairpin(nl, "vbtest00"), 0);
        CHECK_INT(netlink_link_set_hairpin(nl, "nosuchlink"), -ENODEV);
        CHECK_INT(netlink_link_set_up(nl, "vbtest00"), 0);
        CHECK_IP("ip -j -d link show vbtest00", "\"hairpin\":true");
        CHECK_IP("ip -j link show vbtest00", "\"master\":\"tbr0\"");
        CHECK_IP("ip -j link show vbtest00", "\"mtu\":1400");
        CHECK_IP("ip -j link show vbtest00", "\"UP\"");
        struct sockaddr_in gateway = { .sin_family = AF_INET,
                                       .sin_port = htons(4711),
                                       .sin_addr = { htonl(0x0a580001) } };
        _cleanup_close_ int receiver = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        ASSERT(receiver >= 0 && bind(receiver, (struct sockaddr *) &gateway, sizeof(gateway)) == 0);
        ASSERT(setsockopt(receiver, SOL_SOCKET, SO_RCVTIMEO, &(struct timeval){ .tv_sec = 10 },
                          sizeof(struct timeval)) == 0);

        /* The container's side, with a socket of that namespace. */
        ASSERT(setns(netns, CLONE_NEWNET) == 0);
        ASSERT(netlink_open(&inside) == 0);
        CHECK_INT(netlink_link_set_mac(inside, "eth0", (uint8_t[]){ 0x02, 0x42, 0x0a, 0x58, 0x00, 0x02 }), 0);
        CHECK_INT(netlink_link_set_mtu(inside, "eth0", 1400), 0);
        CHECK_INT(netlink_address_add_ipv4(inside, "eth0", (struct in_addr){ htonl(0x0a580002) }, 24), 0);
        CHECK_INT(netlink_link_set_up(inside, "eth0"), 0);
        CHECK_INT(netlink_route_add_ipv4_default(inside, "eth0", (struct in_addr){ htonl(0x0a580001) }), 0);
        CHECK_INT(netlink_route_add_ipv4_default(inside, "eth0", (struct in_addr){ htonl(0x0a580001) }), -EEXIST);
        CHECK_IP("ip -j link show eth0", "\"address\":\"02:42:0a:58:00:02\"");
        CHECK_IP("ip -j link show eth0", "\"mtu\":1400");
        CHECK_IP("ip -j link show eth0", "\"UP\"");
        CHECK_IP("ip -j -d link show eth0", "\"info_kind\":\"veth\"");
        CHECK_IP("ip -j -4 addr show dev eth0",
                 "\"local\":\"10.88.0.2\",\"prefixlen\":24,\"broadcast\":\"10.88.0.255\"");
        CHECK_IP("ip -j -4 route show default", "\"gateway\":\"10.88.0.1\",\"dev\":\"eth0\"");
        /* A datagram from here reaches the bridge's address over there: the pair works. */
        _cleanup_close_ int sender = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        ASSERT(sender >= 0);
        CHECK(sendto(sender, "hello", 5, 0, (struct sockaddr *) &gateway, sizeof(gateway)) == 5);
        char buf[16] = "";
        CHECK(recv(receiver, buf, sizeof(buf), 0) == 5 && memcmp(buf, "hello", 5) == 0);
        ASSERT(setns(own, CLONE_NEWNET) == 0);

        /* Removing the host end removes the peer too. */
        CHECK_INT(netlink_link_delete(nl, "vbtest00"), 0);
        CHECK_INT(netlink_link_delete(nl, "vbtest00"), -ENODEV);
        CHECK_INT(netlink_link_index(inside, "eth0", &index), -ENODEV);

        done = safe_close(done);
        int status;
        CHECK_INT(waitpid(pid, &status, 0), pid);
        CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

static void test_list_prefix(void) {
        _cleanup_(netlink_closep) NetlinkSocket *nl = NULL;
        _cleanup_strv_free_ char **names = NULL, **all = NULL, **none = NULL;

        ASSERT(netlink_open(&nl) == 0);
        CHECK_INT(netlink_veth_create(nl, "vbaaa0", "xpeer1", -1, 0), 0);
        CHECK_INT(netlink_veth_create(nl, "vbbbb0", "xpeer2", -1, 0), 0);
        CHECK_INT(netlink_link_list_prefix(nl, "vb", &names), 0);
        CHECK_INT(strv_length(names), 2);
        CHECK(strv_contains(names, "vbaaa0") && strv_contains(names, "vbbbb0"));
        CHECK_INT(netlink_link_list_prefix(nl, "", &all), 0);
        CHECK(strv_contains(all, "lo") && strv_contains(all, "tbr0") && strv_contains(all, "xpeer1"));
        CHECK(strv_contains(all, "vbaaa0") && strv_contains(all, "xpeer2")); /* (and any fallback tunnels) */
        CHECK_INT(netlink_link_list_prefix(nl, "nomatch", &none), 0);
        CHECK(none && !none[0]);

        CHECK_INT(netlink_link_delete(nl, "vbaaa0"), 0);
        CHECK_INT(netlink_link_delete(nl, "xpeer2"), 0); /* either end */
        strv_free(names);
        names = NULL;
        CHECK_INT(netlink_link_list_prefix(nl, "vb", &names), 0);
        CHECK_INT(strv_length(names), 0);

        /* Many links: the dump spans several datagrams. */
        char name[IFNAMSIZ], peer[IFNAMSIZ];
        for (int i = 0; i < 100; i++) {
                snprintf(name, sizeof(name), "vbmany%d", i);
                snprintf(peer, sizeof(peer), "xmany%d", i);
                CHECK_INT(netlink_veth_create(nl, name, peer, -1, 0), 0);
        }
        strv_free(names);
        names = NULL;
        CHECK_INT(netlink_link_list_prefix(nl, "vbmany", &names), 0);
        CHECK_INT(strv_length(names), 100);
        CHECK_INT(netlink_link_delete(nl, "tbr0"), 0);
        CHECK_INT(netlink_link_index(nl, "tbr0", &(int){ 0 }), -ENODEV);
}

int main(void) {
        TEST(test_parsers);
        if (geteuid() != 0) {
                printf("skipping the kernel tests: they need root (a network namespace of their own)\n");
                return tests_failed > 0 ? EXIT_FAILURE : 77;
        }
        /* Never the host's links. */
        ASSERT(unshare(CLONE_NEWNET) == 0);
        TEST(test_bridge);
        TEST(test_veth);
        TEST(test_list_prefix);
        return tests_exit_status();
}
