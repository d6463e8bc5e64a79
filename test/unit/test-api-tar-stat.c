/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api-tar-stat.h"
#include "macro.h"
#include "tests.h"

/* One ustar header block with a valid checksum. */
static void header(unsigned char *h, const char *name, char type, unsigned mode, unsigned long long size,
                   const char *link, const char *prefix) {
        unsigned sum = 0;
        memset(h, 0, 512);
        strncpy((char *) h, name, 100);
        snprintf((char *) h + 100, 8, "%07o", mode);
        snprintf((char *) h + 124, 12, "%011llo", size);
        snprintf((char *) h + 136, 12, "%011o", 1600000000U);
        h[156] = (unsigned char) type;
        if (link)
                strncpy((char *) h + 157, link, 100);
        memcpy(h + 257,
               "ustar\0"
               "00",
               8);
        if (prefix)
                strncpy((char *) h + 345, prefix, 155);
        memset(h + 148, ' ', 8);
        for (size_t i = 0; i < 512; i++)
                sum += h[i];
        snprintf((char *) h + 148, 8, "%06o", sum);
}

static void test_plain(void) {
        unsigned char b[1024];
        TarStat s;

        header(b, "passwd", '0', 0644, 1234, NULL, NULL);
        CHECK_INT(api_tar_stat_parse(b, 511, &s), 0); /* not whole yet */
        CHECK_INT(api_tar_stat_parse(b, 512, &s), 1);
        CHECK_STR(s.name, "passwd");
        CHECK(s.size == 1234 && s.mode == 0644 && s.mtime == 1600000000);
        CHECK_STR(s.link_target, "");
        tar_stat_done(&s);

        header(b, "etc/", '5', 01777, 0, NULL, NULL);
        CHECK_INT(api_tar_stat_parse(b, 512, &s), 1);
        CHECK_STR(s.name, "etc");
        CHECK_STR(s.path, "etc");
        CHECK(s.mode == (TAR_GO_MODE_DIR | (UINT32_C(1) << 20) | 0777));
        tar_stat_done(&s);

        header(b, "lnk", '2', 0777, 0, "/target/x", NULL);
        CHECK_INT(api_tar_stat_parse(b, 512, &s), 1);
        CHECK_STR(s.link_target, "/target/x");
        CHECK(s.mode == ((UINT32_C(1) << 27) | 0777));
        tar_stat_done(&s);

        header(b, "name", '0', 0600, 0, NULL, "some/prefix");
        CHECK_INT(api_tar_stat_parse(b, 512, &s), 1);
        CHECK_STR(s.name, "name");
        CHECK_STR(s.path, "some/prefix/name");
        tar_stat_done(&s);
}

static void test_pax_and_gnu(void) {
        unsigned char b[2048] = {};
        const char rec[] = "30 path=a/very/long/name/here\n"
                           "19 linkpath=/l/o/n\n"
                           "14 size=99999\n"
                           "26 mtime=1700000000.12345\n";
        TarStat s;

        header(b, "PaxHeaders/x", 'x', 0644, strlen(rec), NULL, NULL);
        memcpy(b + 512, rec, strlen(rec));
        header(b + 1024, "short", '2', 0777, 0, "short", NULL);
        CHECK_INT(api_tar_stat_parse(b, 1024, &s), 0);
        CHECK_INT(api_tar_stat_parse(b, 1536, &s), 1);
        CHECK_STR(s.name, "here");
        CHECK_STR(s.path, "a/very/long/name/here");
        CHECK_STR(s.link_target, "/l/o/n");
        CHECK(s.size == 99999 && s.mtime == 1700000000);
        tar_stat_done(&s);

        memset(b, 0, sizeof b);
        header(b, "././@LongLink", 'L', 0644, 9, NULL, NULL);
        memcpy(b + 512, "long/nam", 9);
        header(b + 1024, "long/na", '0', 0644, 0, NULL, NULL);
        CHECK_INT(api_tar_stat_parse(b, 1536, &s), 1);
        CHECK_STR(s.name, "nam");
        tar_stat_done(&s);
}

static void test_bad(void) {
        unsigned char b[1024] = {};
        TarStat s;
        char *v = NULL;

        CHECK_INT(api_tar_stat_parse(b, 512, &s), -EBADMSG); /* the end of the archive: no entry */
        header(b, "x", '0', 0644, 0, NULL, NULL);
        b[0] = 'y'; /* checksum wrong */
        CHECK_INT(api_tar_stat_parse(b, 512, &s), -EBADMSG);
        header(b, "x", 'x', 0644, 5, NULL, NULL);
        memcpy(b + 512, "9 a=b\n", 6); /* a record longer than the data */
        CHECK_INT(api_tar_stat_parse(b, 1024, &s), -EBADMSG);

        header(b, "x", '0', 0644, 3, NULL, NULL);
        CHECK_INT(api_tar_stat_parse(b, 512, &s), 1);
        CHECK_INT(api_tar_stat_header(&s, &v), 0);
        /* {"name":"x","size":3,"mode":420,"mtime":"2020-09-13T12:26:40Z","linkTarget":""} */
        CHECK_STR(v,
                  "eyJuYW1lIjoieCIsInNpemUiOjMsIm1vZGUiOjQyMCwibXRpbWUiOiIyMDIwLTA5LTEzVDEyOjI2OjQwWiIsImxpbmtUYXJnZXQi"
                  "OiIifQ==");
        free(v);
        tar_stat_done(&s);
}

int main(void) {
        test_plain();
        test_pax_and_gnu();
        test_bad();
        return 0;
}
