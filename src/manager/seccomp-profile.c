/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * One seccomp compiler for berth's default filter and for custom profiles in Docker's JSON format
 * (moby profiles/seccomp): defaultAction, defaultErrnoRet, architectures or archMap, and syscalls
 * entries with names (or name), action, errnoRet, args and includes/excludes (caps, arches,
 * minKernel). The result is BPF in a sealed memfd, which berth-nspawn loads with one seccomp(2).
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <seccomp.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/utsname.h>

#include "capability-names.h"
#include "json-util.h"
#include "macro.h"
#include "seccomp-default.h"
#include "seccomp-profile.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(scmp_filter_ctx, seccomp_release);

static int invalid(char **ret_message, const char *fmt, ...) _printf_(2, 3);
static int invalid(char **ret_message, const char *fmt, ...) {
        va_list ap;
        if (ret_message) {
                va_start(ap, fmt);
                if (vasprintf(ret_message, fmt, ap) < 0)
                        *ret_message = NULL;
                va_end(ap);
        }
        return -EINVAL;
}

/* "SCMP_ACT_ERRNO" with errnoRet (or the profile's defaultErrnoRet; EPERM if neither is given). */
static int parse_action(const char *name, int errno_ret, uint32_t *ret, char **ret_message) {
        if (!name)
                return invalid(ret_message, "Invalid seccomp profile: an action is missing.");
        if (streq(name, "SCMP_ACT_ALLOW"))
                *ret = SCMP_ACT_ALLOW;
        else if (streq(name, "SCMP_ACT_ERRNO"))
                *ret = SCMP_ACT_ERRNO((uint16_t) (errno_ret >= 0 ? errno_ret : EPERM));
        else if (streq(name, "SCMP_ACT_KILL") || streq(name, "SCMP_ACT_KILL_THREAD"))
                *ret = SCMP_ACT_KILL_THREAD;
        else if (streq(name, "SCMP_ACT_KILL_PROCESS"))
                *ret = SCMP_ACT_KILL_PROCESS;
        else if (streq(name, "SCMP_ACT_TRAP"))
                *ret = SCMP_ACT_TRAP;
        else if (streq(name, "SCMP_ACT_TRACE"))
                *ret = SCMP_ACT_TRACE((uint16_t) (errno_ret >= 0 ? errno_ret : EPERM));
        else if (streq(name, "SCMP_ACT_LOG"))
                *ret = SCMP_ACT_LOG;
        else
                /* SCMP_ACT_NOTIFY needs a listener, which berth does not provide. */
                return invalid(ret_message, "Invalid seccomp profile: unknown or unsupported action \"%s\".", name);
        return 0;
}

static int get_errno(json_object *o, const char *key, int fallback, int *ret, char **ret_message) {
        json_object *v;
        if (!json_object_object_get_ex(o, key, &v) || json_object_is_type(v, json_type_null)) {
                *ret = fallback;
                return 0;
        }
        int64_t n = json_object_get_int64(v);
        if (!json_object_is_type(v, json_type_int) || n < 0 || n > 4095)
                return invalid(ret_message, "Invalid seccomp profile: \"%s\" must be an errno number.", key);
        *ret = (int) n;
        return 0;
}

/* An array of strings (possibly absent or null: an empty list). */
static int get_strings(json_object *o, const char *key, json_object **ret, char **ret_message) {
        json_object *v = NULL;
        *ret = NULL;
        if (!o || !json_object_object_get_ex(o, key, &v) || json_object_is_type(v, json_type_null))
                return 0;
        if (!json_object_is_type(v, json_type_array))
                return invalid(ret_message, "Invalid seccomp profile: \"%s\" must be a list of strings.", key);
        for (size_t i = 0; i < json_object_array_length(v); i++)
                if (!json_object_is_type(json_object_array_get_idx(v, i), json_type_string))
                        return invalid(ret_message, "Invalid seccomp profile: \"%s\" must be a list of strings.", key);
        *ret = v;
        return 0;
}

static bool strings_contain(json_object *a, const char *s) {
        for (size_t i = 0; a && i < json_object_array_length(a); i++)
                if (streq(json_object_get_string(json_object_array_get_idx(a, i)), s))
                        return true;
        return false;
}

/* "SCMP_ARCH_X86_64" → libseccomp's token. */
static uint32_t arch_from_name(const char *name) {
        char lower[32];
        size_t i;
        if (strncmp(name, "SCMP_ARCH_", 10) != 0)
                return 0;
        for (i = 0; name[10 + i] && i < sizeof(lower) - 1; i++)
                lower[i] = (char) tolower((unsigned char) name[10 + i]);
        lower[i] = 0;
        return seccomp_arch_resolve_name(lower);
}

/* Docker names architectures in includes/excludes as Go does (runtime.GOARCH). */
static const char *native_go_arch(void) {
        switch (seccomp_arch_native()) {
        case SCMP_ARCH_X86_64:
                return "amd64";
        case SCMP_ARCH_X86:
                return "386";
        case SCMP_ARCH_AARCH64:
                return "arm64";
        case SCMP_ARCH_ARM:
                return "arm";
        case SCMP_ARCH_PPC64LE:
                return "ppc64le";
        case SCMP_ARCH_S390X:
                return "s390x";
        case SCMP_ARCH_RISCV64:
                return "riscv64";
        default:
                return "";
        }
}

static int add_arch(scmp_filter_ctx ctx, const char *name, char **ret_message) {
        uint32_t arch = arch_from_name(name);
        if (arch == 0)
                return invalid(ret_message, "Invalid seccomp profile: unknown architecture \"%s\".", name);
        int r = seccomp_arch_add(ctx, arch);
        return r < 0 && r != -EEXIST ? r : 0;
}

static int add_arches(scmp_filter_ctx ctx, json_object *profile, char **ret_message) {
        json_object *list, *map;
        int r = get_strings(profile, "architectures", &list, ret_message);
        if (r < 0)
                return r;
        for (size_t i = 0; list && i < json_object_array_length(list); i++)
                if ((r = add_arch(ctx, json_object_get_string(json_object_array_get_idx(list, i)), ret_message)) < 0)
                        return r;
        /* archMap: the entry of the native architecture, with its sub-architectures. */
        if (!json_object_object_get_ex(profile, "archMap", &map) || json_object_is_type(map, json_type_null))
                return 0;
        if (!json_object_is_type(map, json_type_array))
                return invalid(ret_message, "Invalid seccomp profile: \"archMap\" must be a list.");
        for (size_t i = 0; i < json_object_array_length(map); i++) {
                json_object *e = json_object_array_get_idx(map, i), *subs;
                const char *arch = json_get_string(e, "architecture");
                if (!arch)
                        return invalid(ret_message,
                                       "Invalid seccomp profile: an \"archMap\" entry has no "
                                       "\"architecture\".");
                if (arch_from_name(arch) != seccomp_arch_native())
                        continue;
                if ((r = add_arch(ctx, arch, ret_message)) < 0 ||
                    (r = get_strings(e, "subArchitectures", &subs, ret_message)) < 0)
                        return r;
                for (size_t j = 0; subs && j < json_object_array_length(subs); j++)
                        if ((r = add_arch(ctx, json_object_get_string(json_object_array_get_idx(subs, j)),
                                          ret_message)) < 0)
                                return r;
        }
        return 0;
}

static bool kernel_at_least(const char *version) {
        struct utsname u;
        unsigned want_major = 0, want_minor = 0, major = 0, minor = 0;
        if (sscanf(version, "%u.%u", &want_major, &want_minor) < 1 || uname(&u) < 0 ||
            sscanf(u.release, "%u.%u", &major, &minor) < 1)
                return true;
        return major > want_major || (major == want_major && minor >= want_minor);
}

static int caps_match(json_object *caps, uint64_t have, bool all) {
        for (size_t i = 0; caps && i < json_object_array_length(caps); i++) {
                int cap = capability_from_name(json_object_get_string(json_object_array_get_idx(caps, i)));
                bool present = cap >= 0 && ((have >> cap) & 1);
                if (all && !present)
                        return false;
                if (!all && present)
                        return true;
        }
        return all;
}

/* Docker's filters: "includes" must all hold (every capability present, the architecture listed,
 * the kernel new enough), "excludes" none (no listed capability, not a listed architecture). */
static int entry_applies(json_object *entry, uint64_t caps, bool *ret, char **ret_message) {
        json_object *inc = NULL, *exc = NULL, *l;
        int r;
        *ret = false;
        json_object_object_get_ex(entry, "includes", &inc);
        json_object_object_get_ex(entry, "excludes", &exc);
        if (inc && !json_object_is_type(inc, json_type_object) && !json_object_is_type(inc, json_type_null))
                return invalid(ret_message, "Invalid seccomp profile: \"includes\" must be an object.");
        if (exc && !json_object_is_type(exc, json_type_object) && !json_object_is_type(exc, json_type_null))
                return invalid(ret_message, "Invalid seccomp profile: \"excludes\" must be an object.");
        if ((r = get_strings(inc, "caps", &l, ret_message)) < 0)
                return r;
        if (l && !caps_match(l, caps, true))
                return 0;
        if ((r = get_strings(inc, "arches", &l, ret_message)) < 0)
                return r;
        if (l && json_object_array_length(l) > 0 && !strings_contain(l, native_go_arch()))
                return 0;
        const char *min_kernel = json_get_string(inc, "minKernel");
        if (min_kernel && !kernel_at_least(min_kernel))
                return 0;
        if ((r = get_strings(exc, "caps", &l, ret_message)) < 0)
                return r;
        if (l && caps_match(l, caps, false))
                return 0;
        if ((r = get_strings(exc, "arches", &l, ret_message)) < 0)
                return r;
        if (l && strings_contain(l, native_go_arch()))
                return 0;
        *ret = true;
        return 0;
}

/* An argument's "value" or "valueTwo": a non-negative integer (absent: 0). */
static int get_datum(json_object *arg, const char *key, scmp_datum_t *ret, char **ret_message) {
        json_object *v;
        *ret = 0;
        if (!json_object_object_get_ex(arg, key, &v) || json_object_is_type(v, json_type_null))
                return 0;
        if (!json_object_is_type(v, json_type_int) || json_object_get_int64(v) < 0)
                return invalid(ret_message,
                               "Invalid seccomp profile: an argument's \"%s\" must be a non-negative "
                               "integer.",
                               key);
        *ret = json_object_get_uint64(v);
        return 0;
}

static int parse_args(json_object *entry, struct scmp_arg_cmp cmps[6], unsigned *ret_n, bool *ret_same_index,
                      char **ret_message) {
        static const struct {
                const char *name;
                enum scmp_compare op;
        } ops[] = {
                { "SCMP_CMP_NE", SCMP_CMP_NE },
                { "SCMP_CMP_LT", SCMP_CMP_LT },
                { "SCMP_CMP_LE", SCMP_CMP_LE },
                { "SCMP_CMP_EQ", SCMP_CMP_EQ },
                { "SCMP_CMP_GE", SCMP_CMP_GE },
                { "SCMP_CMP_GT", SCMP_CMP_GT },
                { "SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ },
        };
        json_object *args;
        unsigned seen = 0;
        *ret_n = 0;
        *ret_same_index = false;
        if (!json_object_object_get_ex(entry, "args", &args) || json_object_is_type(args, json_type_null))
                return 0;
        if (!json_object_is_type(args, json_type_array) || json_object_array_length(args) > 6)
                return invalid(ret_message,
                               "Invalid seccomp profile: \"args\" must be a list of at most 6 conditions.");
        for (size_t i = 0; i < json_object_array_length(args); i++) {
                json_object *a = json_object_array_get_idx(args, i);
                int64_t index = json_get_i64(a, "index", -1);
                const char *op = json_get_string(a, "op");
                size_t k;
                if (index < 0 || index > 5)
                        return invalid(ret_message, "Invalid seccomp profile: an argument index must be 0 to 5.");
                for (k = 0; op && k < ELEMENTSOF(ops) && !streq(ops[k].name, op); k++)
                        ;
                if (!op || k == ELEMENTSOF(ops))
                        return invalid(ret_message, "Invalid seccomp profile: unknown comparison \"%s\".",
                                       op ?: "(none)");
                cmps[i] = (struct scmp_arg_cmp){ .arg = (unsigned) index, .op = ops[k].op };
                int r = get_datum(a, "value", &cmps[i].datum_a, ret_message);
                if (r < 0 || (r = get_datum(a, "valueTwo", &cmps[i].datum_b, ret_message)) < 0)
                        return r;
                if (seen & (1U << index))
                        *ret_same_index = true;
                seen |= 1U << index;
        }
        *ret_n = (unsigned) json_object_array_length(args);
        return 0;
}

static int add_syscall_entry(scmp_filter_ctx ctx, json_object *entry, uint32_t default_action, int default_errno,
                             uint64_t caps, char **ret_message) {
        struct scmp_arg_cmp cmps[6];
        json_object *names;
        uint32_t action;
        unsigned n_args;
        bool applies, same_index;
        int errno_ret, r;

        if (!json_object_is_type(entry, json_type_object))
                return invalid(ret_message, "Invalid seccomp profile: \"syscalls\" must be a list of objects.");
        if ((r = entry_applies(entry, caps, &applies, ret_message)) < 0 ||
            (r = get_errno(entry, "errnoRet", default_errno, &errno_ret, ret_message)) < 0 ||
            (r = parse_action(json_get_string(entry, "action"), errno_ret, &action, ret_message)) < 0 ||
            (r = parse_args(entry, cmps, &n_args, &same_index, ret_message)) < 0 ||
            (r = get_strings(entry, "names", &names, ret_message)) < 0)
                return r;
        const char *single = json_get_string(entry, "name"); /* the older, one-name form */
        if (!names && !single)
                return invalid(ret_message, "Invalid seccomp profile: a \"syscalls\" entry has no \"names\".");
        size_t n = names ? json_object_array_length(names) : 1;
        for (size_t i = 0; i < n; i++) {
                const char *name = names ? json_object_get_string(json_object_array_get_idx(names, i)) : single;
                int nr = seccomp_syscall_resolve_name(name);
                if (nr == __NR_SCMP_ERROR)
                        return invalid(ret_message, "Invalid seccomp profile: unknown system call \"%s\".", name);
                /* A rule that does what the default does anyway is no rule (libseccomp refuses it). */
                if (!applies || action == default_action)
                        continue;
                /* As runc: conditions on different arguments must all hold; several on the same
                 * argument are alternatives, one rule each. */
                if (same_index)
                        for (unsigned k = 0; k < n_args && r >= 0; k++)
                                r = seccomp_rule_add_array(ctx, action, nr, 1, &cmps[k]);
                else
                        r = seccomp_rule_add_array(ctx, action, nr, n_args, cmps);
                if (r == -EINVAL)
                        return invalid(ret_message, "Invalid seccomp profile: the rule for \"%s\" cannot be compiled.",
                                       name);
                if (r < 0 && r != -EEXIST && r != -EDOM)
                        return r;
        }
        return 0;
}

static int build_profile_filter(const char *text, uint64_t caps, scmp_filter_ctx *ret, char **ret_message) {
        _cleanup_json_ json_object *profile = NULL;
        json_object *syscalls;
        uint32_t default_action;
        int default_errno, r;

        if (json_parse_buffer(text, strlen(text), &profile) < 0 || !json_object_is_type(profile, json_type_object))
                return invalid(ret_message, "Invalid seccomp profile: not a JSON object.");
        if ((r = get_errno(profile, "defaultErrnoRet", -1, &default_errno, ret_message)) < 0 ||
            (r = parse_action(json_get_string(profile, "defaultAction"), default_errno, &default_action, ret_message)) <
                    0)
                return r;
        _cleanup_(seccomp_releasep) scmp_filter_ctx ctx = seccomp_init(default_action);
        if (!ctx)
                return -ENOMEM;
        r = add_arches(ctx, profile, ret_message);
        if (r < 0)
                return r;
        if (json_object_object_get_ex(profile, "syscalls", &syscalls) &&
            !json_object_is_type(syscalls, json_type_null)) {
                if (!json_object_is_type(syscalls, json_type_array))
                        return invalid(ret_message, "Invalid seccomp profile: \"syscalls\" must be a list.");
                for (size_t i = 0; i < json_object_array_length(syscalls); i++) {
                        r = add_syscall_entry(ctx, json_object_array_get_idx(syscalls, i), default_action,
                                              default_errno, caps, ret_message);
                        if (r < 0)
                                return r;
                }
        }
        *ret = TAKE_PTR(ctx);
        return 0;
}

int seccomp_compile(const char *profile, uint64_t caps, int *ret_fd, char **ret_message) {
        _cleanup_(seccomp_releasep) scmp_filter_ctx ctx = NULL;
        int r;

        if (isempty(profile)) {
                ctx = seccomp_init(SCMP_ACT_ERRNO(EPERM));
                if (!ctx)
                        return -ENOMEM;
                r = seccomp_default_rules(ctx, caps);
        } else
                r = build_profile_filter(profile, caps, &ctx, ret_message);
        if (r < 0)
                return r;
        /* A binary tree of syscall numbers instead of a linear list: the kernel loads (JITs) it
         * faster (shorter jumps), once per container, and every syscall in the container takes
         * O(log n) checks. */
        r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);
        if (r < 0)
                return r;
        _cleanup_close_ int fd = memfd_create("berth-seccomp", MFD_CLOEXEC | MFD_ALLOW_SEALING);
        if (fd < 0)
                return -errno;
        r = seccomp_export_bpf(ctx, fd);
        if (r < 0)
                return r;
        /* Shared by every container (or every process of one): nobody may change it after the fact. */
        if (fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) < 0)
                return -errno;
        /* berth-nspawn refuses a program it could not load: say so here, at create time. */
        off_t size = lseek(fd, 0, SEEK_END);
        if (size < 0)
                return -errno;
        if ((size_t) size / 8 > 4096)
                return invalid(ret_message, "The seccomp profile compiles to more than 4096 BPF instructions.");
        *ret_fd = TAKE_FD(fd);
        return 0;
}
