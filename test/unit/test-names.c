/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>

#include "macro.h"
#include "names.h"
#include "tests.h"

static void test_container_name_is_valid(void) {
        char name[CONTAINER_NAME_MAX + 2];

        CHECK(container_name_is_valid("ab"));
        CHECK(container_name_is_valid("web1"));
        CHECK(container_name_is_valid("my_app.v2-blue"));
        CHECK(container_name_is_valid("A9"));
        CHECK(container_name_is_valid("0-"));
        CHECK(!container_name_is_valid(NULL));
        CHECK(!container_name_is_valid(""));
        CHECK(!container_name_is_valid("a"));
        CHECK(!container_name_is_valid("-ab"));
        CHECK(!container_name_is_valid("_ab"));
        CHECK(!container_name_is_valid(".ab"));
        CHECK(!container_name_is_valid("a/b"));
        CHECK(!container_name_is_valid("../x"));
        CHECK(!container_name_is_valid(".."));
        CHECK(!container_name_is_valid("a b"));
        CHECK(!container_name_is_valid("a:b"));
        CHECK(!container_name_is_valid("ab\n"));
        CHECK(!container_name_is_valid("caf\xc3\xa9"));

        memset(name, 'a', sizeof(name));
        name[CONTAINER_NAME_MAX] = 0; /* 128 characters: the limit */
        CHECK(container_name_is_valid(name));
        name[CONTAINER_NAME_MAX] = 'a';
        name[CONTAINER_NAME_MAX + 1] = 0; /* 129 */
        CHECK(!container_name_is_valid(name));
}

static void check_ref(const char *ref, const char *name, const char *tag) {
        _cleanup_free_ char *n = NULL, *t = NULL;

        CHECK_INT(image_reference_parse(ref, &n, &t), 0);
        CHECK_STR(n, name);
        CHECK_STR(t, tag);
}

static void check_ref_invalid(const char *ref) {
        char *n = (char *) 0x1, *t = (char *) 0x1;

        CHECK_INT(image_reference_parse(ref, &n, &t), -EINVAL);
        /* Outputs are written only on success. */
        CHECK(n == (char *) 0x1 && t == (char *) 0x1);
}

/* A reference that is valid as it is, and the same name with a tag: berth keeps the name as given. */
#define CHECK_NAME_VALID(s)                                                  \
        do {                                                                 \
                CHECK(image_repository_is_valid(s));                         \
                check_ref(s, s, "latest");                                   \
                _cleanup_free_ char *_tagged = NULL;                         \
                ASSERT(asprintf(&_tagged, "%s:t1", (const char *) (s)) > 0); \
                check_ref(_tagged, s, "t1");                                 \
        } while (0)

#define CHECK_NAME_INVALID(s)                                                \
        do {                                                                 \
                CHECK(!image_repository_is_valid(s));                        \
                check_ref_invalid(s);                                        \
                _cleanup_free_ char *_tagged = NULL;                         \
                ASSERT(asprintf(&_tagged, "%s:t1", (const char *) (s)) > 0); \
                check_ref_invalid(_tagged);                                  \
        } while (0)

static void test_image_reference_parse(void) {
        check_ref("busybox", "busybox", "latest");
        check_ref("busybox:1.36", "busybox", "1.36");
        check_ref("library/busybox:musl", "library/busybox", "musl");
        check_ref("localhost:5000/x/y:tag", "localhost:5000/x/y", "tag");
        check_ref("localhost:5000/x", "localhost:5000/x", "latest");
        check_ref("localhost/x", "localhost/x", "latest");
        check_ref("registry.example.com/team/app:v1.2_3-rc", "registry.example.com/team/app", "v1.2_3-rc");
        check_ref("a__b/c--d/e.f:_x", "a__b/c--d/e.f", "_x");
        /* No normalization beyond the default tag: no docker.io/library/ is added or taken away. */
        check_ref("docker.io/library/busybox", "docker.io/library/busybox", "latest");

        check_ref_invalid("");
        check_ref_invalid(NULL);
        check_ref_invalid("Busybox");
        check_ref_invalid("busybox:");
        check_ref_invalid(":tag");
        check_ref_invalid("a:b:c");
        check_ref_invalid("busybox:-x");
        check_ref_invalid("busybox:.x");
        check_ref_invalid("/busybox");
        check_ref_invalid("busybox/");
        check_ref_invalid("a//b");
        check_ref_invalid("a/../b");
        check_ref_invalid("-a");
        check_ref_invalid("a-");
        check_ref_invalid("a___b");
        check_ref_invalid("a..b");
        check_ref_invalid("busy box");
        check_ref_invalid("localhost:/x");
        check_ref_invalid("localhost:50a0/x");
        check_ref_invalid("busybox:1.0/x");
        check_ref_invalid("busybox\n");
        check_ref_invalid("busybox:latest\n");

        /* NULL outputs are allowed. */
        CHECK_INT(image_reference_parse("busybox:1", NULL, NULL), 0);

        CHECK(image_repository_is_valid("busybox"));
        CHECK(!image_repository_is_valid("Busybox"));
        CHECK(!image_repository_is_valid(NULL));
        CHECK(!image_repository_is_valid(""));
        CHECK(image_tag_is_valid("latest"));
        CHECK(!image_tag_is_valid("la/test"));
}

/* The issue: components made of dots, and domains that are no domain names. */
static void test_image_reference_dots(void) {
        CHECK_NAME_INVALID("../x");
        CHECK_NAME_INVALID("./x");
        CHECK_NAME_INVALID("..:5000/x");
        CHECK_NAME_INVALID(".:5000/x");
        CHECK_NAME_INVALID("..");
        CHECK_NAME_INVALID(".");
        CHECK_NAME_INVALID("../../x");
        CHECK_NAME_INVALID("x/..");
        CHECK_NAME_INVALID("x/./y");
        CHECK_NAME_INVALID(".x/y");
        CHECK_NAME_INVALID("x./y");
        CHECK_NAME_INVALID("a..b/x");
        CHECK_NAME_INVALID(".x");
        CHECK_NAME_INVALID("x.");
        check_ref_invalid("..:5000/x:tag");
        check_ref_invalid("../x:latest");
}

/* domain := host [':' port], host := domain-name | '[' IPv6 ']', a domain-name component is
 * alphanumeric (any case) with inner hyphens. */
static void test_image_reference_domain(void) {
        CHECK_NAME_VALID("localhost:5000/x");
        CHECK_NAME_VALID("localhost/x");
        CHECK_NAME_VALID("example.com/x");
        CHECK_NAME_VALID("a-b.example-1.com/team/app");
        CHECK_NAME_VALID("a--b.com/x");
        CHECK_NAME_VALID("a.b.c.d.e/x");
        CHECK_NAME_VALID("1.2.3.4/x");
        CHECK_NAME_VALID("127.0.0.1:5000/a/b");
        CHECK_NAME_VALID("host:5000/x");
        CHECK_NAME_VALID("host:0/x");
        CHECK_NAME_VALID("host:123456/x"); /* any number of digits, as Docker */
        CHECK_NAME_VALID("Example.COM/x");
        CHECK_NAME_VALID("Registry:443/x");
        CHECK_NAME_VALID("A/b"); /* an uppercase first component is a domain name */
        CHECK_NAME_VALID("Ab-C/b");
        CHECK_NAME_VALID("[::1]:5000/x");
        CHECK_NAME_VALID("[::1]/x");
        CHECK_NAME_VALID("[fe80::1:AbCd]/x");
        CHECK_NAME_VALID("[2001:db8::8a2e:370:7334]:443/a/b");
        /* Docker takes these as a remote name without a domain: its path components may have '.'. */
        CHECK_NAME_VALID("a_b.c/x");
        CHECK_NAME_VALID("a__b.c/x");

        CHECK_NAME_INVALID("-a.com/x");
        CHECK_NAME_INVALID("a-.com/x");
        CHECK_NAME_INVALID("a.-b.com/x");
        CHECK_NAME_INVALID("a.b-/x");
        CHECK_NAME_INVALID("-a/x");
        CHECK_NAME_INVALID("-A/x");
        CHECK_NAME_INVALID("A-/x");
        CHECK_NAME_INVALID("A_B/x");
        CHECK_NAME_INVALID("a_b.C/x");
        CHECK_NAME_INVALID("a.com./x");
        CHECK_NAME_INVALID("a.com:/x");
        CHECK_NAME_INVALID(":5000/x");
        CHECK_NAME_INVALID("a.com:5000:1/x");
        CHECK_NAME_INVALID("a.com:-1/x");
        CHECK_NAME_INVALID("a.com:+1/x");
        CHECK_NAME_INVALID("a.com: 1/x");
        CHECK_NAME_INVALID("a.com:１/x");
        CHECK_NAME_INVALID("a b.com/x");
        CHECK_NAME_INVALID("a~b.com/x");
        CHECK_NAME_INVALID("caf\xc3\xa9.com/x");
        CHECK_NAME_INVALID("[]/x");
        CHECK_NAME_INVALID("[::1/x");
        CHECK_NAME_INVALID("::1]/x");
        CHECK_NAME_INVALID("[::1]]/x");
        CHECK_NAME_INVALID("[::g]/x");
        CHECK_NAME_INVALID("[::1%eth0]/x");
        CHECK_NAME_INVALID("[::1]:/x");
        CHECK_NAME_INVALID("[::1]5000/x");
        CHECK_NAME_INVALID("[1.2.3.4]/x");
        /* Only a component with a '.' or ':', "localhost" or one with an uppercase letter is taken
         * for a domain: otherwise it is a path component. */
        CHECK_NAME_INVALID("[0]/x");
        CHECK_NAME_INVALID("[abc]/x");
        CHECK_NAME_VALID("[A]/x");
        CHECK_NAME_VALID("[0]:5000/x");
        CHECK_NAME_VALID("[::]/x");
        CHECK_NAME_VALID("a-b/x");
        CHECK_NAME_VALID("localhost/x");
        CHECK_NAME_INVALID("::1/x");
        /* A domain alone is no name: in a reference, "5000" is the tag of the name "localhost". */
        CHECK(!image_repository_is_valid("localhost:5000"));
        CHECK(!image_repository_is_valid("example.com:5000"));
        check_ref("localhost:5000", "localhost", "5000");
        CHECK_NAME_INVALID("localhost:5000/"); /* nor with an empty remote name */
        CHECK_NAME_INVALID("example.com//x");
        /* The domain is only the first component. */
        CHECK_NAME_INVALID("x/example.com:5000/y");
        CHECK_NAME_INVALID("x/A/y");
        /* A domain's remote name is lowercase like any other. */
        CHECK_NAME_INVALID("A/B");
        CHECK_NAME_INVALID("localhost:5000/X");
        CHECK_NAME_INVALID("example.com/x/Y");
        CHECK_NAME_INVALID("localhost:5000/../x");
        CHECK_NAME_INVALID("localhost:5000/.x");
}

/* path-component := [a-z0-9]+ (separator [a-z0-9]+)*, separator := [_.] | __ | [-]+ */
static void test_image_reference_path(void) {
        CHECK_NAME_VALID("a");
        CHECK_NAME_VALID("0");
        CHECK_NAME_VALID("a__b");
        CHECK_NAME_VALID("a--b");
        CHECK_NAME_VALID("a---b");
        CHECK_NAME_VALID("a_b");
        CHECK_NAME_VALID("a.b");
        CHECK_NAME_VALID("a.b.c-d_e__f--g");
        CHECK_NAME_VALID("a/b/c/d");
        CHECK_NAME_VALID("library/busybox");
        CHECK_NAME_VALID("localhost"); /* alone: a path component named so */
        CHECK_NAME_VALID("0123456789abcdef");

        CHECK_NAME_INVALID("a___b");
        CHECK_NAME_INVALID("a._b");
        CHECK_NAME_INVALID("a_.b");
        CHECK_NAME_INVALID("a.-b");
        CHECK_NAME_INVALID("a-.b");
        CHECK_NAME_INVALID("a-_b");
        CHECK_NAME_INVALID("a_-b");
        CHECK_NAME_INVALID("a__");
        CHECK_NAME_INVALID("_a");
        CHECK_NAME_INVALID("__a");
        CHECK_NAME_INVALID("a/B");
        CHECK_NAME_INVALID("a/b/C");
        CHECK_NAME_INVALID("aB");
        CHECK_NAME_INVALID("a/-b");
        CHECK_NAME_INVALID("a/b-");
        CHECK_NAME_INVALID("a/_b");
        CHECK_NAME_INVALID("a/b.");
        CHECK_NAME_INVALID("a/b//c");
        CHECK_NAME_INVALID("a+b");
        CHECK_NAME_INVALID("a\\b");
        CHECK_NAME_INVALID("a\tb");
        CHECK_NAME_INVALID("caf\xc3\xa9");
}

/* tag := [\w][\w.-]{0,127} */
static void test_image_reference_tag(void) {
        char tag[IMAGE_TAG_MAX + 2];
        char ref[IMAGE_TAG_MAX + 16];

        check_ref("a:A", "a", "A");
        check_ref("a:_", "a", "_");
        check_ref("a:0", "a", "0");
        check_ref("a:V1.2-rc_3", "a", "V1.2-rc_3");
        check_ref("a:__..--", "a", "__..--");
        check_ref("localhost:5000/x:5000", "localhost:5000/x", "5000");
        check_ref("[::1]:5000/x:v1", "[::1]:5000/x", "v1");

        check_ref_invalid("a:");
        check_ref_invalid("a:-x");
        check_ref_invalid("a:.x");
        check_ref_invalid("a:x/y");
        check_ref_invalid("a:x y");
        check_ref_invalid("a:x+y");
        check_ref_invalid("a:caf\xc3\xa9");
        CHECK(!image_tag_is_valid(NULL));
        CHECK(!image_tag_is_valid(""));
        CHECK(!image_tag_is_valid("x:y"));
        CHECK(!image_tag_is_valid("x@y"));

        memset(tag, 'x', sizeof(tag));
        tag[IMAGE_TAG_MAX] = 0; /* 128 characters: the limit */
        snprintf(ref, sizeof(ref), "a:%s", tag);
        check_ref(ref, "a", tag);
        CHECK(image_tag_is_valid(tag));
        tag[IMAGE_TAG_MAX] = 'x';
        tag[IMAGE_TAG_MAX + 1] = 0; /* 129 */
        snprintf(ref, sizeof(ref), "a:%s", tag);
        check_ref_invalid(ref);
        CHECK(!image_tag_is_valid(tag));
}

/* At most 255 characters in the name, domain included; the tag does not count. A single component
 * NAME is library/NAME to Docker, which counts those: it has at most 247. */
static void test_image_reference_length(void) {
        char name[IMAGE_NAME_MAX + 2], ref[IMAGE_NAME_MAX + 16];

        memset(name, 'a', sizeof(name));
        name[IMAGE_NAME_MAX] = 0;
        memcpy(name, "ab/", 3);
        CHECK_NAME_VALID(name);
        snprintf(ref, sizeof(ref), "%s:v", name);
        check_ref(ref, name, "v");
        name[IMAGE_NAME_MAX] = 'a';
        name[IMAGE_NAME_MAX + 1] = 0;
        CHECK_NAME_INVALID(name);

        memcpy(name, "example.com/", 12);
        name[IMAGE_NAME_MAX] = 0;
        CHECK_NAME_VALID(name);
        name[IMAGE_NAME_MAX] = 'a';
        CHECK_NAME_INVALID(name);

        memcpy(name, "a_b.c/", 6); /* a remote name as a whole */
        name[IMAGE_NAME_MAX] = 0;
        CHECK_NAME_VALID(name);
        name[IMAGE_NAME_MAX] = 'a';
        CHECK_NAME_INVALID(name);

        memset(name, 'a', sizeof(name));
        name[247] = 0;
        CHECK_NAME_VALID(name);
        snprintf(ref, sizeof(ref), "%s:v", name);
        check_ref(ref, name, "v");
        name[247] = 'a';
        name[248] = 0;
        CHECK_NAME_INVALID(name);
        name[IMAGE_NAME_MAX] = 0;
        CHECK_NAME_INVALID(name);
}

/* A reference that is just 64 hex digits would be an image id: Docker refuses it as a name. */
static void test_image_reference_identifier(void) {
        const char *id = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
        _cleanup_free_ char *tagged = NULL, *nested = NULL;

        check_ref_invalid(id);
        CHECK(image_repository_is_valid(id)); /* as a name it is fine, with a tag it may be used */
        ASSERT(asprintf(&tagged, "%s:v1", id) > 0);
        check_ref(tagged, id, "v1");
        ASSERT(asprintf(&nested, "x/%s", id) > 0);
        check_ref(nested, nested, "latest");
        /* Not 64 lowercase hex digits: an ordinary name. */
        check_ref("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b85",
                  "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b85", "latest");
        check_ref("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b8555",
                  "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b8555", "latest");
        check_ref("g3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
                  "g3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "latest");
}

#define HEX64 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

static void check_full(const char *ref, const char *name, const char *tag, const char *digest) {
        _cleanup_free_ char *n = NULL, *t = NULL, *d = NULL;

        CHECK_INT(image_reference_parse_full(ref, &n, &t, &d), 0);
        CHECK_STR(n, name);
        if (tag)
                CHECK_STR(t, tag);
        else
                CHECK(!t);
        if (digest)
                CHECK_STR(d, digest);
        else
                CHECK(!d);
}

static void check_full_invalid(const char *ref) {
        char *n = (char *) 0x1, *t = (char *) 0x1, *d = (char *) 0x1;

        CHECK_INT(image_reference_parse_full(ref, &n, &t, &d), -EINVAL);
        CHECK(n == (char *) 0x1 && t == (char *) 0x1 && d == (char *) 0x1);
}

/* reference := name [':' tag] ['@' digest]; a digest is sha256:<64>, sha384:<96> or sha512:<128> lowercase
 * hex, the algorithms Docker knows. */
static void test_image_reference_digest(void) {
        char hex96[97], hex128[129], ref[200];

        memset(hex96, 'a', 96);
        hex96[96] = 0;
        memset(hex128, '0', 128);
        hex128[128] = 0;

        check_full("busybox", "busybox", NULL, NULL);
        check_full("busybox:1", "busybox", "1", NULL);
        check_full("busybox@sha256:" HEX64, "busybox", NULL, "sha256:" HEX64);
        check_full("busybox:1@sha256:" HEX64, "busybox", "1", "sha256:" HEX64);
        check_full("localhost:5000/a/b:v@sha256:" HEX64, "localhost:5000/a/b", "v", "sha256:" HEX64);
        check_full("[::1]:5000/x@sha256:" HEX64, "[::1]:5000/x", NULL, "sha256:" HEX64);
        snprintf(ref, sizeof(ref), "x@sha384:%s", hex96);
        check_full(ref, "x", NULL, ref + 2);
        snprintf(ref, sizeof(ref), "x@sha512:%s", hex128);
        check_full(ref, "x", NULL, ref + 2);
        CHECK_INT(image_reference_parse_full("x:y@sha256:" HEX64, NULL, NULL, NULL), 0);

        check_full_invalid(NULL);
        check_full_invalid("");
        check_full_invalid("x@");
        check_full_invalid("@sha256:" HEX64);
        check_full_invalid(":t@sha256:" HEX64);
        check_full_invalid("x:@sha256:" HEX64);
        check_full_invalid("x@sha256:");
        check_full_invalid("x@sha256" HEX64);
        check_full_invalid("x@" HEX64);
        check_full_invalid("x@sha256:" HEX64 "0"); /* 65 digits */
        check_full_invalid("x@sha256:" HEX64 "\n");
        check_full_invalid("x@sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b85"); /* 63 */
        check_full_invalid("x@sha256:E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855");
        check_full_invalid("x@sha256:g3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
        check_full_invalid("x@SHA256:" HEX64);
        check_full_invalid("x@md5:0123456789abcdef0123456789abcdef");
        check_full_invalid("x@sha512:" HEX64);
        snprintf(ref, sizeof(ref), "x@sha256:%s", hex96);
        check_full_invalid(ref);
        check_full_invalid("x@sha256:" HEX64 "@sha256:" HEX64);
        check_full_invalid("x@y@sha256:" HEX64);
        check_full_invalid("../x@sha256:" HEX64);
        check_full_invalid("X@sha256:" HEX64);
        check_full_invalid("x:-t@sha256:" HEX64);
        check_full_invalid("x/@sha256:" HEX64);
        check_full_invalid(HEX64);
        check_full_invalid("a/B:t");

        /* berth's tags have no digest: image_reference_parse refuses one, as docker tag does. */
        check_ref_invalid("busybox@sha256:" HEX64);
        check_ref_invalid("busybox:1@sha256:" HEX64);
        check_ref_invalid("busybox@sha256:x");
}

static void test_slice_name_is_valid(void) {
        CHECK(slice_name_is_valid("batch.slice"));
        CHECK(slice_name_is_valid("a-b.slice"));
        CHECK(slice_name_is_valid("machine-x_y.slice"));
        CHECK(!slice_name_is_valid(".slice"));
        CHECK(!slice_name_is_valid("batch"));
        CHECK(!slice_name_is_valid("-a.slice"));
        CHECK(!slice_name_is_valid("a-.slice"));
        CHECK(!slice_name_is_valid("a--b.slice"));
        CHECK(!slice_name_is_valid("a/b.slice"));
        CHECK(!slice_name_is_valid("a b.slice"));
        CHECK(!slice_name_is_valid(NULL));
}

static void test_cpu_list_parse(void) {
        unsigned char mask[16];
        CHECK_INT(cpu_list_parse("0", 128, mask), 0);
        CHECK(mask[0] == 1 && mask[1] == 0);
        CHECK_INT(cpu_list_parse("1-3,8,10-11", 128, mask), 0);
        CHECK(mask[0] == 0x0e && mask[1] == 0x0d);
        CHECK_INT(cpu_list_parse("127", 128, mask), 0);
        CHECK(mask[15] == 0x80);
        CHECK_INT(cpu_list_parse("128", 128, mask), -ERANGE);
        CHECK_INT(cpu_list_parse("", 128, mask), -EINVAL);
        CHECK_INT(cpu_list_parse("1-", 128, mask), -EINVAL);
        CHECK_INT(cpu_list_parse("3-1", 128, mask), -EINVAL);
        CHECK_INT(cpu_list_parse("1,", 128, mask), -EINVAL);
        CHECK_INT(cpu_list_parse("a", 128, NULL), -EINVAL);
        CHECK_INT(cpu_list_parse(" 1", 128, NULL), -EINVAL);
}

static void test_sysctl_is_namespaced(void) {
        CHECK(sysctl_is_namespaced("net.ipv4.ip_forward"));
        CHECK(sysctl_is_namespaced("net.ipv4.conf.all.rp_filter"));
        CHECK(sysctl_is_namespaced("fs.mqueue.msg_max"));
        CHECK(sysctl_is_namespaced("kernel.shmmax"));
        CHECK(sysctl_is_namespaced("kernel.shm_rmid_forced"));
        CHECK(sysctl_is_namespaced("kernel.sem"));
        CHECK(!sysctl_is_namespaced("kernel.domainname")); /* not in Docker's list */
        CHECK(!sysctl_is_namespaced("kernel.shm"));
        CHECK(!sysctl_is_namespaced("vm.swappiness"));
        CHECK(!sysctl_is_namespaced("fs.mqueue"));
        CHECK(!sysctl_is_namespaced("net..x"));
        CHECK(!sysctl_is_namespaced("net.ipv4/../../x"));
        CHECK(!sysctl_is_namespaced("net.x."));
        CHECK(!sysctl_is_namespaced(""));
        CHECK(!sysctl_is_namespaced(NULL));
}

static void test_hostname_is_valid(void) {
        char name[66];

        CHECK(hostname_is_valid("a"));
        CHECK(hostname_is_valid("web"));
        CHECK(hostname_is_valid("my-host"));
        CHECK(hostname_is_valid("Host1.example.com"));
        CHECK(hostname_is_valid("0abc"));
        CHECK(!hostname_is_valid(NULL));
        CHECK(!hostname_is_valid(""));
        CHECK(!hostname_is_valid("-a"));
        CHECK(!hostname_is_valid("a-"));
        CHECK(!hostname_is_valid("a.-b"));
        CHECK(!hostname_is_valid("a-.b"));
        CHECK(!hostname_is_valid("a..b"));
        CHECK(!hostname_is_valid(".a"));
        CHECK(!hostname_is_valid("a."));
        CHECK(!hostname_is_valid("a_b"));
        CHECK(!hostname_is_valid("a b"));
        CHECK(!hostname_is_valid("a/b"));

        memset(name, 'a', sizeof(name));
        name[63] = 0;
        CHECK(hostname_is_valid(name));
        name[63] = 'a';
        name[64] = 0;
        CHECK(!hostname_is_valid(name));
}

static void test_env_assignment_is_valid(void) {
        CHECK(env_assignment_is_valid("A=b"));
        CHECK(env_assignment_is_valid("A="));
        CHECK(env_assignment_is_valid("PATH=/usr/bin:/bin"));
        CHECK(env_assignment_is_valid("A=b=c"));
        CHECK(env_assignment_is_valid("lower_case1=x y"));
        CHECK(!env_assignment_is_valid(NULL));
        CHECK(!env_assignment_is_valid(""));
        CHECK(!env_assignment_is_valid("A"));
        CHECK(!env_assignment_is_valid("=b"));
        CHECK(!env_assignment_is_valid("="));
        CHECK(!env_assignment_is_valid("A B=c"));
        CHECK(!env_assignment_is_valid("A\t=c"));
}

int main(void) {
        TEST(test_container_name_is_valid);
        TEST(test_image_reference_parse);
        TEST(test_image_reference_dots);
        TEST(test_image_reference_domain);
        TEST(test_image_reference_path);
        TEST(test_image_reference_tag);
        TEST(test_image_reference_length);
        TEST(test_image_reference_identifier);
        TEST(test_image_reference_digest);
        TEST(test_hostname_is_valid);
        TEST(test_slice_name_is_valid);
        TEST(test_cpu_list_parse);
        TEST(test_sysctl_is_namespaced);
        TEST(test_env_assignment_is_valid);
        return tests_exit_status();
}
