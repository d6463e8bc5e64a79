/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* IPv4 address management: parsing, the subnet pool, allocation, Docker's MACs. */
#include <errno.h>

#include "ipam.h"
#include "tests.h"

static void test_parse(void) {
        Ipv4Net n;
        char buf[19];
        CHECK_INT(ipv4_net_parse("172.20.0.0/16", &n), 0);
        CHECK_INT(n.addr, 0xAC140000);
        CHECK_INT(n.prefixlen, 16);
        CHECK_STR(ipv4_net_to_string(&n, buf), "172.20.0.0/16");
        CHECK_INT(ipv4_net_parse("172.20.0.1/16", &n), -EADDRNOTAVAIL);
        CHECK_INT(ipv4_net_parse("0.0.0.0/0", &n), 0);
        CHECK_INT(ipv4_net_parse("10.0.0.0/33", &n), -EINVAL);
        CHECK_INT(ipv4_net_parse("10.0.0.0/", &n), -EINVAL);
        CHECK_INT(ipv4_net_parse("10.0.0.0/-1", &n), -EINVAL);
        CHECK_INT(ipv4_net_parse("10.0.0/8", &n), -EINVAL);
        CHECK_INT(ipv4_net_parse("10.0.0.0", &n), -EINVAL);
        CHECK_INT(ipv4_net_parse("10.0.0.0/8x", &n), -EINVAL);
        CHECK_INT(ipv4_net_parse("fd00::/64", &n), -EINVAL);
        CHECK_INT(ipv4_net_parse(NULL, &n), -EINVAL);
        uint32_t a;
        CHECK_INT(ipv4_parse("192.168.1.2", &a), 0);
        CHECK_INT(a, 0xC0A80102);
        CHECK_INT(ipv4_parse("192.168.1", &a), -EINVAL);
        CHECK_INT(ipv4_parse("", &a), -EINVAL);
}

static void test_overlap(void) {
        Ipv4Net a = { 0xAC110000, 16 }, b = { 0xAC118000, 17 }, c = { 0xAC120000, 16 }, all = { 0, 0 };
        CHECK(ipv4_net_overlaps(&a, &b));
        CHECK(ipv4_net_overlaps(&b, &a));
        CHECK(!ipv4_net_overlaps(&a, &c));
        CHECK(ipv4_net_overlaps(&a, &all));
        CHECK(ipv4_net_within(&a, &b));
        CHECK(!ipv4_net_within(&b, &a));
        CHECK(ipv4_net_contains(&a, 0xAC11FFFF));
        CHECK(!ipv4_net_contains(&a, 0xAC120000));
        CHECK_INT(ipv4_net_broadcast(&a), 0xAC11FFFF);
}

static void test_pool(void) {
        Ipv4Net n;
        CHECK_INT(ipam_pick_subnet(true, NULL, 0, &n), 0);
        CHECK_INT(n.addr, 0xAC110000);
        /* A host route inside 172.17/16 takes the default bridge's only choice. */
        Ipv4Net host[] = { { 0, 0 }, { 0xAC110100, 24 } };
        CHECK_INT(ipam_pick_subnet(true, host, 2, &n), -ENOSPC);
        /* The default route takes nothing; user networks start at 172.18/16 and skip what is taken. */
        Ipv4Net taken[] = { { 0, 0 }, { 0xAC120000, 16 }, { 0xAC130000, 16 } };
        CHECK_INT(ipam_pick_subnet(false, taken, 3, &n), 0);
        CHECK_INT(n.addr, 0xAC140000);
        CHECK_INT(n.prefixlen, 16);
        /* All of 172.16/12 taken: then 192.168.x.0/20. */
        Ipv4Net big[] = { { 0xAC100000, 12 }, { 0xC0A80000, 20 } };
        CHECK_INT(ipam_pick_subnet(false, big, 2, &n), 0);
        CHECK_INT(n.addr, 0xC0A81000);
        CHECK_INT(n.prefixlen, 20);
        Ipv4Net none[] = { { 0xAC100000, 12 }, { 0xC0A80000, 16 } };
        CHECK_INT(ipam_pick_subnet(false, none, 2, &n), -ENOSPC);
}

static void test_allocate(void) {
        Ipv4Net subnet = { 0xAC110000, 16 };
        uint32_t gw = 0xAC110001, a;
        CHECK_INT(ipam_allocate(&subnet, NULL, gw, NULL, 0, &a), 0);
        CHECK_INT(a, 0xAC110002);
        uint32_t used[] = { 0xAC110003, 0xAC110002 };
        CHECK_INT(ipam_allocate(&subnet, NULL, gw, used, 2, &a), 0);
        CHECK_INT(a, 0xAC110004);
        /* A range: only its addresses. */
        Ipv4Net range = { 0xAC110A00, 24 };
        CHECK_INT(ipam_allocate(&subnet, &range, gw, used, 2, &a), 0);
        CHECK_INT(a, 0xAC110A00);
        /* A /30: network, gateway, one host, broadcast. */
        Ipv4Net tiny = { 0x0A000000, 30 };
        CHECK_INT(ipam_allocate(&tiny, NULL, 0x0A000001, NULL, 0, &a), 0);
        CHECK_INT(a, 0x0A000002);
        uint32_t full[] = { 0x0A000002 };
        CHECK_INT(ipam_allocate(&tiny, NULL, 0x0A000001, full, 1, &a), -ENOSPC);
        CHECK(!ipam_address_is_assignable(&subnet, gw, gw));
        CHECK(!ipam_address_is_assignable(&subnet, gw, 0xAC110000));
        CHECK(!ipam_address_is_assignable(&subnet, gw, 0xAC11FFFF));
        CHECK(!ipam_address_is_assignable(&subnet, gw, 0xAC120002));
        CHECK(ipam_address_is_assignable(&subnet, gw, 0xAC110505));
}

static void test_mac(void) {
        uint8_t mac[6];
        char buf[18];
        ipam_mac_for(0xAC110002, mac);
        CHECK_STR(mac_to_string(mac, buf), "02:42:ac:11:00:02");
        CHECK_INT(mac_parse("92:d0:c6:0a:29:33", mac), 0);
        CHECK_STR(mac_to_string(mac, buf), "92:d0:c6:0a:29:33");
        CHECK_INT(mac_parse("92-D0-C6-0A-29-33", mac), 0);
        CHECK_INT(mac_parse("92:d0-c6:0a:29:33", mac), -EINVAL);
        CHECK_INT(mac_parse("01:00:5e:00:00:01", mac), -EINVAL); /* multicast */
        CHECK_INT(mac_parse("92:d0:c6:0a:29", mac), -EINVAL);
        CHECK_INT(mac_parse("92:d0:c6:0a:29:3g", mac), -EINVAL);
        CHECK_INT(mac_parse("92:d0:c6:0a:29:33:", mac), -EINVAL);
}

int main(void) {
        TEST(test_parse);
        TEST(test_overlap);
        TEST(test_pool);
        TEST(test_allocate);
        TEST(test_mac);
        return tests_exit_status();
}
