/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/if_bridge.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "netlink.h"
#include "util.h"

#ifndef NETLINK_CAP_ACK
#define NETLINK_CAP_ACK 10
#endif

/* Big enough for any one datagram of a link dump (the kernel fills at most 32 KiB). */
#define REPLY_MAX 32768

struct NetlinkSocket {
        int fd;
        uint32_t seq;
        _Alignas(struct nlmsghdr) char reply[REPLY_MAX];
};

/* One request: header, the family's header, attributes. Ours are far smaller than this. */
typedef struct Message {
        union {
                struct nlmsghdr hdr;
                char buf[1024];
        };
        bool overflow;
} Message;

typedef int (*ReplyHandler)(const struct nlmsghdr *h, void *userdata);

int netlink_open(NetlinkSocket **ret) {
        _cleanup_close_ int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
        if (fd < 0)
                return -errno;
        /* Errors then carry only the header of the failed request, not all of it. */
        (void) setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &(int){ 1 }, sizeof(int));
        struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
        if (bind(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0)
                return -errno;
        NetlinkSocket *nl = calloc(1, sizeof(*nl));
        if (!nl)
                return -ENOMEM;
        nl->fd = TAKE_FD(fd);
        *ret = nl;
        return 0;
}

NetlinkSocket *netlink_close(NetlinkSocket *nl) {
        if (nl) {
                safe_close(nl->fd);
                free(nl);
        }
        return NULL;
}

static void message_init(Message *m, uint16_t type, uint16_t flags, const void *header, size_t header_len) {
        memset(m, 0, sizeof(*m));
        m->hdr.nlmsg_len = NLMSG_LENGTH(header_len);
        m->hdr.nlmsg_type = type;
        m->hdr.nlmsg_flags = NLM_F_REQUEST | flags;
        memcpy(NLMSG_DATA(&m->hdr), header, header_len);
}

/* Append len bytes at the next aligned offset; NULL (and the message marked) when they do not fit. */
static void *message_append(Message *m, const void *data, size_t len) {
        size_t offset = NLMSG_ALIGN(m->hdr.nlmsg_len);
        if (m->overflow || offset + len > sizeof(m->buf)) {
                m->overflow = true;
                return NULL;
        }
        if (len > 0)
                memcpy(m->buf + offset, data, len);
        m->hdr.nlmsg_len = (uint32_t) (offset + len);
        return m->buf + offset;
}

static struct rtattr *message_put(Message *m, uint16_t type, const void *data, size_t len) {
        struct rtattr *a = message_append(m, &(struct rtattr){ .rta_len = RTA_LENGTH(len), .rta_type = type },
                                          sizeof(struct rtattr));
        if (a && len > 0 && !message_append(m, data, len))
                return NULL;
        return a;
}

static void message_put_string(Message *m, uint16_t type, const char *s) {
        (void) message_put(m, type, s, strlen(s) + 1);
}

static void message_put_u32(Message *m, uint16_t type, uint32_t v) {
        (void) message_put(m, type, &v, sizeof(v));
}

/* A nested attribute: message_put() it without data, add its content, then close it here. */
static void message_nest_end(Message *m, struct rtattr *nest) {
        if (nest && !m->overflow)
                nest->rta_len = (unsigned short) (m->buf + m->hdr.nlmsg_len - (char *) nest);
}

/* Send the request, pass every reply message to handler, up to the kernel's acknowledgement (or the
 * end of a dump). Replies to earlier requests (abandoned half-read) are skipped by their sequence
 * number. Returns the kernel's error, else the handler's first one. */
static int netlink_call(NetlinkSocket *nl, Message *m, ReplyHandler handler, void *userdata) {
        char *reply = nl->reply;
        struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
        int result = 0;

        if (m->overflow)
                return -ENOBUFS;
        if (++nl->seq == 0)
                nl->seq = 1;
        m->hdr.nlmsg_seq = nl->seq;
        if (sendto(nl->fd, m->buf, m->hdr.nlmsg_len, 0, (struct sockaddr *) &kernel, sizeof(kernel)) < 0)
                return -errno;
        for (;;) {
                struct sockaddr_nl from;
                socklen_t from_len = sizeof(from);
                ssize_t n = recvfrom(nl->fd, reply, REPLY_MAX, MSG_TRUNC, (struct sockaddr *) &from, &from_len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return -errno;
                if ((size_t) n > REPLY_MAX)
                        return -EMSGSIZE;
                if (from.nl_pid != 0)
                        continue; /* not the kernel's */
                size_t left = (size_t) n;
                for (const struct nlmsghdr *h = (const struct nlmsghdr *) reply; NLMSG_OK(h, left);
                     h = NLMSG_NEXT(h, left)) {
                        if (h->nlmsg_seq != nl->seq)
                                continue;
                        if (h->nlmsg_type == NLMSG_ERROR) {
                                const struct nlmsgerr *e = NLMSG_DATA(h);
                                if (h->nlmsg_len < NLMSG_LENGTH(sizeof(*e)))
                                        return -EBADMSG;
                                return e->error < 0 ? e->error : result;
                        }
                        if (h->nlmsg_type == NLMSG_DONE)
                                return result;
                        if (handler && result >= 0) {
                                int r = handler(h, userdata);
                                if (r < 0)
                                        result = r;
                        }
                }
        }
}

/* Each link message's name and index. */
static int link_reply_parse(const struct nlmsghdr *h, const char **ret_name, int *ret_index) {
        if (h->nlmsg_type != RTM_NEWLINK || h->nlmsg_len < NLMSG_LENGTH(sizeof(struct ifinfomsg)))
                return -EBADMSG;
        const struct ifinfomsg *ifi = NLMSG_DATA(h);
        int len = (int) IFLA_PAYLOAD(h);
        *ret_name = NULL;
        *ret_index = ifi->ifi_index;
        for (const struct rtattr *a = IFLA_RTA(ifi); RTA_OK(a, len); a = RTA_NEXT(a, len))
                if (a->rta_type == IFLA_IFNAME && RTA_PAYLOAD(a) > 0 && memchr(RTA_DATA(a), 0, RTA_PAYLOAD(a)) != NULL)
                        *ret_name = RTA_DATA(a);
        return 0;
}

static int link_index_handler(const struct nlmsghdr *h, void *userdata) {
        const char *name;
        return link_reply_parse(h, &name, userdata);
}

int netlink_link_index(NetlinkSocket *nl, const char *name, int *ret_index) {
        Message m;
        int index = 0;
        if (!ifname_is_valid(name))
                return -EINVAL;
        message_init(&m, RTM_GETLINK, NLM_F_ACK, &(struct ifinfomsg){ .ifi_family = AF_UNSPEC },
                     sizeof(struct ifinfomsg));
        message_put_string(&m, IFLA_IFNAME, name);
        int r = netlink_call(nl, &m, link_index_handler, &index);
        if (r < 0)
                return r;
        if (index <= 0)
                return -EBADMSG;
        *ret_index = index;
        return 0;
}

/* An RTM_NEWLINK request for the link 'name': creating it (flags NLM_F_CREATE | NLM_F_EXCL), or
 * changing the existing one. */
static void link_message_init(Message *m, const char *name, uint16_t flags, unsigned up) {
        message_init(m, RTM_NEWLINK, NLM_F_ACK | flags,
                     &(struct ifinfomsg){ .ifi_family = AF_UNSPEC, .ifi_flags = up, .ifi_change = up },
                     sizeof(struct ifinfomsg));
        message_put_string(m, IFLA_IFNAME, name);
}

int netlink_bridge_create(NetlinkSocket *nl, const char *name, bool may_exist) {
        Message m;
        if (!ifname_is_valid(name))
                return -EINVAL;
        link_message_init(&m, name, NLM_F_CREATE | NLM_F_EXCL, 0);
        struct rtattr *info = message_put(&m, IFLA_LINKINFO, NULL, 0);
        message_put_string(&m, IFLA_INFO_KIND, "bridge");
        message_nest_end(&m, info);
        int r = netlink_call(nl, &m, NULL, NULL);
        return r == -EEXIST && may_exist ? 0 : r;
}

int netlink_veth_create(NetlinkSocket *nl, const char *name, const char *peer_name, int peer_netns_fd, uint32_t mtu) {
        Message m;
        if (!ifname_is_valid(name) || !ifname_is_valid(peer_name))
                return -EINVAL;
        link_message_init(&m, name, NLM_F_CREATE | NLM_F_EXCL, 0);
        if (mtu > 0)
                message_put_u32(&m, IFLA_MTU, mtu);
        struct rtattr *info = message_put(&m, IFLA_LINKINFO, NULL, 0);
        message_put_string(&m, IFLA_INFO_KIND, "veth");
        struct rtattr *data = message_put(&m, IFLA_INFO_DATA, NULL, 0);
        /* The peer: an ifinfomsg of its own, then its attributes. */
        struct rtattr *peer = message_put(&m, VETH_INFO_PEER, NULL, 0);
        (void) message_append(&m, &(struct ifinfomsg){ .ifi_family = AF_UNSPEC }, sizeof(struct ifinfomsg));
        message_put_string(&m, IFLA_IFNAME, peer_name);
        if (peer_netns_fd >= 0)
                message_put_u32(&m, IFLA_NET_NS_FD, (uint32_t) peer_netns_fd);
        message_nest_end(&m, peer);
        message_nest_end(&m, data);
        message_nest_end(&m, info);
        return netlink_call(nl, &m, NULL, NULL);
}

int netlink_link_delete(NetlinkSocket *nl, const char *name) {
        Message m;
        if (!ifname_is_valid(name))
                return -EINVAL;
        message_init(&m, RTM_DELLINK, NLM_F_ACK, &(struct ifinfomsg){ .ifi_family = AF_UNSPEC },
                     sizeof(struct ifinfomsg));
        message_put_string(&m, IFLA_IFNAME, name);
        return netlink_call(nl, &m, NULL, NULL);
}

int netlink_link_set_up(NetlinkSocket *nl, const char *name) {
        Message m;
        if (!ifname_is_valid(name))
                return -EINVAL;
        link_message_init(&m, name, 0, IFF_UP);
        return netlink_call(nl, &m, NULL, NULL);
}

int netlink_link_set_mtu(NetlinkSocket *nl, const char *name, uint32_t mtu) {
        Message m;
        if (!ifname_is_valid(name) || mtu == 0)
                return -EINVAL;
        link_message_init(&m, name, 0, 0);
        message_put_u32(&m, IFLA_MTU, mtu);
        return netlink_call(nl, &m, NULL, NULL);
}

int netlink_link_set_mac(NetlinkSocket *nl, const char *name, const uint8_t mac[NETLINK_ETHER_ADDR_LEN]) {
        Message m;
        if (!ifname_is_valid(name))
                return -EINVAL;
        link_message_init(&m, name, 0, 0);
        (void) message_put(&m, IFLA_ADDRESS, mac, NETLINK_ETHER_ADDR_LEN);
        return netlink_call(nl, &m, NULL, NULL);
}

int netlink_link_set_master(NetlinkSocket *nl, const char *name, const char *master) {
        Message m;
        int index;
        if (!ifname_is_valid(name))
                return -EINVAL;
        int r = netlink_link_index(nl, master, &index);
        if (r < 0)
                return r;
        link_message_init(&m, name, 0, 0);
        message_put_u32(&m, IFLA_MASTER, (uint32_t) index);
        return netlink_call(nl, &m, NULL, NULL);
}

int netlink_link_set_hairpin(NetlinkSocket *nl, const char *name) {
        Message m;
        int index;
        int r = netlink_link_index(nl, name, &index);
        if (r < 0)
                return r;
        /* A bridge port's own flags: RTM_SETLINK of family AF_BRIDGE, IFLA_PROTINFO nested. */
        message_init(&m, RTM_SETLINK, NLM_F_ACK, &(struct ifinfomsg){ .ifi_family = AF_BRIDGE, .ifi_index = index },
                     sizeof(struct ifinfomsg));
        struct rtattr *nest = message_put(&m, IFLA_PROTINFO | NLA_F_NESTED, NULL, 0);
        uint8_t on = 1;
        (void) message_put(&m, IFLA_BRPORT_MODE, &on, sizeof(on));
        message_nest_end(&m, nest);
        return netlink_call(nl, &m, NULL, NULL);
}

int netlink_address_add_ipv4(NetlinkSocket *nl, const char *name, struct in_addr address, unsigned prefixlen) {
        Message m;
        int index;
        if (prefixlen > 32)
                return -EINVAL;
        int r = netlink_link_index(nl, name, &index);
        if (r < 0)
                return r;
        message_init(&m, RTM_NEWADDR, NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL,
                     &(struct ifaddrmsg){ .ifa_family = AF_INET,
                                          .ifa_prefixlen = (uint8_t) prefixlen,
                                          .ifa_scope = RT_SCOPE_UNIVERSE,
                                          .ifa_index = (uint32_t) index },
                     sizeof(struct ifaddrmsg));
        (void) message_put(&m, IFA_LOCAL, &address, sizeof(address));
        (void) message_put(&m, IFA_ADDRESS, &address, sizeof(address));
        if (prefixlen < 31) {
                uint32_t host_mask = prefixlen == 0 ? UINT32_MAX : (UINT32_C(1) << (32 - prefixlen)) - 1;
                struct in_addr broadcast = { .s_addr = address.s_addr | htonl(host_mask) };
                (void) message_put(&m, IFA_BROADCAST, &broadcast, sizeof(broadcast));
        }
        return netlink_call(nl, &m, NULL, NULL);
}

int netlink_route_add_ipv4_default(NetlinkSocket *nl, const char *name, struct in_addr gateway) {
        Message m;
        int index;
        int r = netlink_link_index(nl, name, &index);
        if (r < 0)
                return r;
        message_init(&m, RTM_NEWROUTE, NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL,
                     &(struct rtmsg){ .rtm_family = AF_INET,
                                      .rtm_table = RT_TABLE_MAIN,
                                      .rtm_protocol = RTPROT_BOOT,
                                      .rtm_scope = RT_SCOPE_UNIVERSE,
                                      .rtm_type = RTN_UNICAST },
                     sizeof(struct rtmsg));
        (void) message_put(&m, RTA_GATEWAY, &gateway, sizeof(gateway));
        message_put_u32(&m, RTA_OIF, (uint32_t) index);
        return netlink_call(nl, &m, NULL, NULL);
}

typedef struct ListState {
        const char *prefix;
        char **names;
        size_t n;
} ListState;

static int list_handler(const struct nlmsghdr *h, void *userdata) {
        ListState *state = userdata;
        const char *name;
        int index;
        if (link_reply_parse(h, &name, &index) < 0 || !name || !startswith(name, state->prefix))
                return 0;
        return strv_push_counted(&state->names, &state->n, name);
}

int netlink_link_list_prefix(NetlinkSocket *nl, const char *prefix, char ***ret_names) {
        Message m;
        ListState state = { .prefix = prefix };
        message_init(&m, RTM_GETLINK, NLM_F_DUMP, &(struct ifinfomsg){ .ifi_family = AF_UNSPEC },
                     sizeof(struct ifinfomsg));
        message_put_u32(&m, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
        int r = netlink_call(nl, &m, list_handler, &state);
        if (r >= 0 && !state.names)
                r = (state.names = calloc(1, sizeof(char *))) ? 0 : -ENOMEM;
        if (r < 0) {
                strv_free(state.names);
                return r;
        }
        *ret_names = state.names;
        return 0;
}

int ipv4_prefix_parse(const char *s, struct in_addr *ret_address, unsigned *ret_prefixlen) {
        char address[INET_ADDRSTRLEN];
        struct in_addr a;
        const char *slash = s ? strchr(s, '/') : NULL;
        if (!slash || (size_t) (slash - s) >= sizeof(address))
                return -EINVAL;
        memcpy(address, s, (size_t) (slash - s));
        address[slash - s] = 0;
        if (inet_pton(AF_INET, address, &a) != 1)
                return -EINVAL;
        const char *p = slash + 1;
        size_t digits = strspn(p, "0123456789");
        if (digits == 0 || digits > 2 || p[digits] != 0 || (digits == 2 && p[0] == '0'))
                return -EINVAL;
        unsigned prefixlen = (unsigned) atoi(p);
        if (prefixlen > 32)
                return -EINVAL;
        *ret_address = a;
        *ret_prefixlen = prefixlen;
        return 0;
}

int ether_addr_parse(const char *s, uint8_t ret[NETLINK_ETHER_ADDR_LEN]) {
        uint8_t mac[NETLINK_ETHER_ADDR_LEN];
        if (!s || strlen(s) != 3 * NETLINK_ETHER_ADDR_LEN - 1)
                return -EINVAL;
        for (size_t i = 0; i < NETLINK_ETHER_ADDR_LEN; i++) {
                int hi = unhexchar(s[3 * i]), lo = unhexchar(s[3 * i + 1]);
                if (hi < 0 || lo < 0 || (i + 1 < NETLINK_ETHER_ADDR_LEN && s[3 * i + 2] != ':'))
                        return -EINVAL;
                mac[i] = (uint8_t) (hi << 4 | lo);
        }
        memcpy(ret, mac, sizeof(mac));
        return 0;
}

bool ifname_is_valid(const char *s) {
        if (isempty(s) || strlen(s) >= IFNAMSIZ || streq(s, ".") || streq(s, ".."))
                return false;
        for (const char *p = s; *p; p++)
                if (*p == '/' || *p == ':' || *p == ' ' || (*p >= '\t' && *p <= '\r'))
                        return false;
        return true;
}
