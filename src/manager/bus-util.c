/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "errors.h"
#include "manager.h"
#include "util.h"

int bus_append_labels(sd_bus_message *m, char **labels) {
        int r = sd_bus_message_open_container(m, 'a', "{ss}");
        if (r < 0)
                return r;
        for (char **l = labels; l && *l; l++) {
                const char *eq = strchr(*l, '=');
                _cleanup_free_ char *key = eq ? strndup(*l, (size_t) (eq - *l)) : strdup(*l);
                if (!key)
                        return -ENOMEM;
                r = sd_bus_message_append(m, "{ss}", key, eq ? eq + 1 : "");
                if (r < 0)
                        return r;
        }
        return sd_bus_message_close_container(m);
}

int bus_read_strv(sd_bus_message *m, char ***ret) {
        _cleanup_strv_free_ char **l = NULL;
        size_t n = 0;
        const char *s;
        int r = sd_bus_message_enter_container(m, 'a', "s");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_read_basic(m, 's', &s)) > 0)
                if (strv_push_counted(&l, &n, s) < 0)
                        return -ENOMEM;
        if (r < 0)
                return r;
        r = sd_bus_message_exit_container(m);
        if (r < 0)
                return r;
        strv_free(*ret);
        *ret = TAKE_PTR(l);
        return 1;
}

int bus_read_labels(sd_bus_message *m, char ***labels, sd_bus_error *error) {
        const char *key, *value;
        size_t n = strv_length(*labels);
        int r = sd_bus_message_enter_container(m, 'a', "{ss}");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_read(m, "{ss}", &key, &value)) > 0) {
                _cleanup_free_ char *kv = NULL;
                if (isempty(key) || strchr(key, '=') || strlen(key) > 1024 || strlen(value) > 65536)
                        return sd_bus_error_setf(error, BERTH_ERROR_INVALID_ARGUMENT, "Invalid label \"%s\".", key);
                if (asprintf(&kv, "%s=%s", key, value) < 0 || strv_push_counted(labels, &n, kv) < 0)
                        return -ENOMEM;
        }
        if (r < 0)
                return r;
        return sd_bus_message_exit_container(m);
}

/* The sender's uid costs a synchronous GetConnectionUnixUser round trip through the bus, during
 * which berthd's loop serves nobody. A unique name is never given out twice while the bus runs,
 * so what was learnt about it stays true: `run` (CreateContainer, then Start) asks once. */
static struct {
        char name[64];
        uid_t uid;
} sender_uids[32];
static unsigned sender_uids_next;

int bus_sender_uid(sd_bus_message *message, uid_t *ret) {
        const char *sender = sd_bus_message_get_sender(message);
        bool cacheable = sender && sender[0] == ':' && strlen(sender) < sizeof(sender_uids[0].name);
        _cleanup_(sd_bus_creds_unrefp) sd_bus_creds *creds = NULL;
        int r;

        for (size_t i = 0; cacheable && i < ELEMENTSOF(sender_uids); i++)
                if (streq(sender_uids[i].name, sender)) {
                        *ret = sender_uids[i].uid;
                        return 0;
                }
        r = sd_bus_query_sender_creds(message, SD_BUS_CREDS_EUID, &creds);
        if (r < 0)
                return r;
        r = sd_bus_creds_get_euid(creds, ret);
        if (r < 0)
                return r;
        if (cacheable) {
                unsigned k = sender_uids_next++ % ELEMENTSOF(sender_uids);
                strcpy(sender_uids[k].name, sender);
                sender_uids[k].uid = *ret;
        }
        return 0;
}

int bus_check_privileged(sd_bus_message *message, sd_bus_error *error) {
        uid_t uid;
        int r = bus_sender_uid(message, &uid);
        if (r < 0)
                return r;
        if (uid != 0)
                return sd_bus_error_set(error, BERTH_ERROR_ACCESS_DENIED,
                                        "Only root may change containers and images.");
        return 0;
}

int bus_property_check_privileged(sd_bus *bus, const char *property, sd_bus_error *error) {
        sd_bus_message *call = sd_bus_get_current_message(bus);
        uid_t uid;
        if (!call) /* not a caller's Get: a signal, which such properties are never part of */
                return sd_bus_error_setf(error, BERTH_ERROR_ACCESS_DENIED, "%s is not broadcast.", property);
        int r = bus_sender_uid(call, &uid);
        if (r < 0)
                return r;
        if (uid != 0)
                return sd_bus_error_setf(error, BERTH_ERROR_ACCESS_DENIED,
                                         "Only root may read %s: it may hold secrets such as passwords.", property);
        return 0;
}

static int read_option_value(sd_bus_message *message, const BusOption *o, sd_bus_error *error) {
        int r, b;

        if (streq(o->type, "s"))
                return sd_bus_message_read(message, "v", "s", (const char **) o->dest);
        if (streq(o->type, "u"))
                return sd_bus_message_read(message, "v", "u", (uint32_t *) o->dest);
        if (streq(o->type, "t"))
                return sd_bus_message_read(message, "v", "t", (uint64_t *) o->dest);
        if (streq(o->type, "h"))
                return sd_bus_message_read(message, "v", "h", (int *) o->dest);
        if (streq(o->type, "b")) {
                r = sd_bus_message_read(message, "v", "b", &b);
                if (r >= 0)
                        *(bool *) o->dest = b;
                return r;
        }
        /* as, or a{ss} as KEY=VALUE strings; a key given twice: the last one counts */
        char ***strv = o->dest;
        strv_free(*strv);
        *strv = NULL;
        if ((r = sd_bus_message_enter_container(message, 'v', o->type)) < 0)
                return r;
        r = streq(o->type, "as") ? bus_read_strv(message, strv) : bus_read_labels(message, strv, error);
        if (r < 0)
                return r;
        return sd_bus_message_exit_container(message);
}

int bus_read_options(sd_bus_message *message, const BusOption *options, size_t n, const char *what,
                     sd_bus_error *error) {
        const char *key, *contents;
        int r;

        if ((r = sd_bus_message_enter_container(message, 'a', "{sv}")) < 0)
                return r;
        while ((r = sd_bus_message_enter_container(message, 'e', "sv")) > 0) {
                if ((r = sd_bus_message_read(message, "s", &key)) < 0 ||
                    (r = sd_bus_message_peek_type(message, NULL, &contents)) < 0)
                        return r;
                const BusOption *o = NULL;
                for (size_t k = 0; k < n && !o; k++)
                        if (streq(options[k].key, key))
                                o = &options[k];
                if (!o)
                        return sd_bus_error_setf(error, BERTH_ERROR_INVALID_ARGUMENT, "Unknown %s \"%s\".", what, key);
                if (!streq(contents, o->type))
                        return sd_bus_error_setf(error, BERTH_ERROR_INVALID_ARGUMENT,
                                                 "%c%s \"%s\" must have type \"%s\", not \"%s\".", toupper(what[0]),
                                                 what + 1, key, o->type, contents);
                if ((r = read_option_value(message, o, error)) < 0 || (r = sd_bus_message_exit_container(message)) < 0)
                        return r;
                if (o->seen)
                        *o->seen = true;
        }
        if (r < 0)
                return r;
        return sd_bus_message_exit_container(message);
}

int bus_reply_list(sd_bus_message *message, const char *element, void *first, void *(*next)(void *object),
                   BusListAppendFunc append) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        int r = sd_bus_message_new_method_return(message, &reply);
        if (r < 0)
                return r;
        r = sd_bus_message_open_container(reply, 'a', element);
        for (void *o = first; r >= 0 && o; o = next(o))
                r = append(reply, o);
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

int bus_reply_object_path(sd_bus_message *message, char *path) {
        _cleanup_free_ char *p = path;
        if (!p)
                return -ENOMEM;
        return sd_bus_reply_method_return(message, "o", p);
}

void bus_prune_filters_done(BusPruneFilters *f) {
        strv_free(f->labels);
        strv_free(f->not_labels);
}

int bus_read_prune_filters(sd_bus_message *message, bool with_until, BusPruneFilters *f, sd_bus_error *error) {
        const BusOption opts[] = { BUS_OPTION("label", "as", &f->labels), BUS_OPTION("label!", "as", &f->not_labels),
                                   BUS_OPTION("until", "t", &f->until) };
        int r = bus_read_options(message, opts, ELEMENTSOF(opts) - !with_until, "prune filter", error);
        if (r < 0)
                return r;
        char **lists[] = { f->labels, f->not_labels };
        for (size_t i = 0; i < ELEMENTSOF(lists); i++)
                for (char **k = lists[i]; k && *k; k++)
                        if (isempty(*k) || **k == '=')
                                return sd_bus_error_setf(error, BERTH_ERROR_INVALID_ARGUMENT,
                                                         "Invalid label filter \"%s\".", *k);
        return 0;
}

bool bus_prune_filters_match(const BusPruneFilters *f, char *const *labels, uint64_t created) {
        if (created >= f->until)
                return false;
        for (char **l = f->labels; l && *l; l++)
                if (!labels_match(labels, *l))
                        return false;
        for (char **l = f->not_labels; l && *l; l++)
                if (labels_match(labels, *l))
                        return false;
        return true;
}
