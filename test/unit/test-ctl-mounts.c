/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>
#include <string.h>

#include "ctl-mounts.h"
#include "macro.h"

static int failures;

static void expect(int (*parse)(const char *, CtlMount *), const char *spec, const char *type, const char *source,
                   const char *target, bool ro) {
        CtlMount m = {};
        int r = parse(spec, &m);
        bool ok = type ? (r == 0 && streq(m.type, type) && streq(m.source, source) && streq(m.target, target) &&
                          m.read_only == ro)
                       : r < 0;
        if (!ok) {
                fprintf(stderr, "FAIL: \"%s\" → r=%d type=%s source=%s target=%s ro=%d\n", spec, r, m.type, m.source,
                        m.target, m.read_only);
                failures++;
        }
        ctl_mount_done(&m);
}

int main(void) {
        expect(ctl_parse_volume_spec, "/data", "volume", "", "/data", false);
        expect(ctl_parse_volume_spec, "/data:ro", "volume", "", "/data", true);
        expect(ctl_parse_volume_spec, "vol:/data", "volume", "vol", "/data", false);
        expect(ctl_parse_volume_spec, "vol:/data:ro", "volume", "vol", "/data", true);
        expect(ctl_parse_volume_spec, "/host:/data", "bind", "/host", "/data", false);
        expect(ctl_parse_volume_spec, "/host:/data:rw", "bind", "/host", "/data", false);
        expect(ctl_parse_volume_spec, "/host:/data:ro", "bind", "/host", "/data", true);
        expect(ctl_parse_volume_spec, "", NULL, NULL, NULL, false);
        expect(ctl_parse_volume_spec, "vol", NULL, NULL, NULL, false);
        expect(ctl_parse_volume_spec, "vol:data", NULL, NULL, NULL, false);
        expect(ctl_parse_volume_spec, "/a:/b:xx", NULL, NULL, NULL, false);
        expect(ctl_parse_volume_spec, "/a:/b:ro:x", NULL, NULL, NULL, false);
        expect(ctl_parse_volume_spec, "a::/b", NULL, NULL, NULL, false);

        expect(ctl_parse_mount_spec, "type=volume,source=v,target=/d", "volume", "v", "/d", false);
        expect(ctl_parse_mount_spec, "type=volume,target=/d,readonly", "volume", "", "/d", true);
        expect(ctl_parse_mount_spec, "type=bind,src=/h,dst=/d,ro=true", "bind", "/h", "/d", true);
        expect(ctl_parse_mount_spec, "type=tmpfs,destination=/t,tmpfs-size=64m", "tmpfs", "size=64m", "/t", false);
        expect(ctl_parse_mount_spec, "type=bind,target=/d", NULL, NULL, NULL, false);
        expect(ctl_parse_mount_spec, "type=nfs,target=/d", NULL, NULL, NULL, false);
        expect(ctl_parse_mount_spec, "type=volume,source=v", NULL, NULL, NULL, false);
        expect(ctl_parse_mount_spec, "type=volume,target=/d,bogus=1", NULL, NULL, NULL, false);

        expect(ctl_parse_tmpfs_spec, "/run", "tmpfs", "", "/run", false);
        expect(ctl_parse_tmpfs_spec, "/run:size=64m,mode=1777", "tmpfs", "size=64m,mode=1777", "/run", false);
        expect(ctl_parse_tmpfs_spec, "run", NULL, NULL, NULL, false);

        if (failures == 0)
                printf("ok: ctl-mounts\n");
        return failures ? 1 : 0;
}
