/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* berth-generator's pure parts: the word splitter and quoting, the unit file parser and the
 * .container → .service translation. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "gen-container.h"
#include "gen-split.h"
#include "gen-unit-file.h"
#include "tests.h"
#include "util.h"

/* words: the expected words joined with '|', or NULL when s must be refused. */
static void check_split(const char *s, const char *words) {
        _cleanup_strv_free_ char **l = NULL;
        int r = unit_split_words(s, &l);
        if (!words) {
                if (r != -EINVAL)
                        printf("FAIL split \"%s\": expected -EINVAL, got %d\n", s, r);
                tests_failed += r != -EINVAL;
                return;
        }
        _cleanup_free_ char *joined = r >= 0 ? strv_join(l, "|") : NULL;
        if (r < 0 || !joined || !streq(joined, words)) {
                printf("FAIL split \"%s\": r=%d \"%s\" != \"%s\"\n", s, r, joined ?: "", words);
                tests_failed++;
        }
}

static void test_split(void) {
        check_split("", "");
        check_split("   \t ", "");
        check_split("a", "a");
        check_split("  a  b\tc ", "a|b|c");
        check_split("sh -c 'echo started; trap \"echo bye; exit 0\" TERM'",
                    "sh|-c|echo started; trap \"echo bye; exit 0\" TERM");
        check_split("\"a b\" 'c d'", "a b|c d");
        check_split("a\"b c\"d", "ab cd");
        check_split("\"\" x ''", "|x|");
        check_split("a\\ b", "a b");
        check_split("\"a\\\"b\"", "a\"b");
        check_split("'a\\'b'", "a'b");
        check_split("\\\\", "\\");
        check_split("a\\tb \\x41 \\101 \\u00e9 \\s", "a\tb|A|A|\xc3\xa9| ");
        check_split("$HOME %n ;", "$HOME|%n|;");
        check_split("'unterminated", NULL);
        check_split("\"unterminated", NULL);
        check_split("trailing\\", NULL);
        check_split("bad\\q", NULL);
        check_split("nul\\x00", NULL);
        check_split("nul\\000", NULL);
        check_split("short\\x4", NULL);
}

static void check_quote(const char *s, const char *quoted) {
        _cleanup_free_ char *q = unit_quote_word(s);
        CHECK_STR(q, quoted);
        /* What systemd would read back is the word itself (but for $$, which systemd turns
         * into $, and which our splitter does not know). */
        if (!strchr(s, '$')) {
                _cleanup_strv_free_ char **l = NULL;
                CHECK_INT(unit_split_words(q, &l), 0);
                CHECK(l && l[0] && streq(l[0], s) && !l[1]);
        }
}

static void test_quote(void) {
        check_quote("a", "\"a\"");
        check_quote("", "\"\"");
        check_quote("a b", "\"a b\"");
        check_quote("say \"hi\"", "\"say \\\"hi\\\"\"");
        check_quote("back\\slash", "\"back\\\\slash\"");
        check_quote("$HOME", "\"$$HOME\"");
        check_quote("%n", "\"%n\"");
        check_quote("l1\nl2\tx\x01", "\"l1\\nl2\\tx\\x01\"");
        check_quote(";", "\";\"");
}

static void test_parse(void) {
        UnitFile f = {};
        unsigned line = 0;
        const char *text = "# comment\n"
                           "; comment\n"
                           "[Unit]\n"
                           "Description = a web server \n"
                           "\n"
                           "[Container]\n"
                           "Exec=sh -c \\\n"
                           "# skipped inside a continuation\n"
                           "   'echo hi'\n"
                           "Environment=\n"
                           "[Unit]\n"
                           "After=x.service";
        CHECK_INT(unit_file_parse(text, &f, &line), 0);
        CHECK_INT(f.n_entries, 4);
        CHECK_INT(f.n_sections, 2);
        if (f.n_entries == 4) {
                CHECK_STR(f.entries[0].section, "Unit");
                CHECK_STR(f.entries[0].key, "Description");
                CHECK_STR(f.entries[0].value, "a web server");
                CHECK_INT(f.entries[0].line, 4);
                CHECK_STR(f.entries[1].section, "Container");
                CHECK_STR(f.entries[1].value, "sh -c  'echo hi'");
                CHECK_INT(f.entries[1].line, 7);
                CHECK_STR(f.entries[2].value, "");
                CHECK_STR(f.entries[3].key, "After");
                CHECK_STR(f.entries[3].value, "x.service");
        }
        unit_file_done(&f);

        CHECK_INT(unit_file_parse("Key=before any section\n", &f, &line), -EINVAL);
        CHECK_INT(line, 1);
        CHECK_INT(unit_file_parse("[Container]\nImage=x\nno equals sign\n", &f, &line), -EINVAL);
        CHECK_INT(line, 3);
        CHECK_INT(unit_file_parse("[Container\n", &f, &line), -EINVAL);
        CHECK_INT(unit_file_parse("[Container]\n=value\n", &f, &line), -EINVAL);
        CHECK_INT(line, 2);
        CHECK_INT(unit_file_parse("", &f, &line), 0);
        CHECK_INT(f.n_entries, 0);
        unit_file_done(&f);
}

static int gen(const char *name, const char *text, GeneratedUnit *u, unsigned *line, char **message) {
        *u = (GeneratedUnit){};
        *line = 0;
        *message = NULL;
        return container_unit_generate(name, "/etc/berth/systemd/x.container", text, "/usr/bin/berthctl", u, line,
                                       message);
}

/* text must be refused; the message must contain what, at this line. */
static void check_refused(const char *name, const char *text, unsigned expected_line, const char *what) {
        GeneratedUnit u;
        unsigned line;
        _cleanup_free_ char *message = NULL;
        int r = gen(name, text, &u, &line, &message);
        if (r != -EINVAL || !message || !strstr(message, what) || line != expected_line) {
                printf("FAIL refused \"%s\": r=%d line=%u message=\"%s\" (expected line %u, \"%s\")\n", text, r, line,
                       message ?: "", expected_line, what);
                tests_failed++;
        }
        generated_unit_done(&u);
}

static void test_generate(void) {
        GeneratedUnit u;
        unsigned line;
        _cleanup_free_ char *message = NULL;
        const char *text = "[Unit]\n"
                           "Description=web\n"
                           "[Container]\n"
                           "Image=busybox:latest\n"
                           "Exec=sh -c 'echo started; trap \"echo bye; exit 0\" TERM; while :; do sleep 1; done'\n"
                           "Environment=A=1 \"B=two words\"\n"
                           "Environment=C=$HOME\n"
                           "EnvironmentFile=/etc/web.env\n"
                           "Volume=/srv:/srv:ro\n"
                           "User=web\n"
                           "Group=www\n"
                           "WorkingDir=/srv\n"
                           "Entrypoint=/bin/sh\n"
                           "Label=a=b c=d\n"
                           "BerthArgs=--memory 64m\n"
                           "Pull=never\n"
                           "ReadOnly=yes\n"
                           "StopSignal=QUIT\n"
                           "StopTimeout=5\n"
                           "Notify=true\n"
                           "[Service]\n"
                           "Restart=always\n"
                           "[Install]\n"
                           "WantedBy=multi-user.target default.target\n"
                           "RequiredBy=x.target\n"
                           "Alias=www.service\n";
        CHECK_INT(gen("web", text, &u, &line, &message), 0);
        ASSERT(u.text);
        CHECK_STR(u.container, "systemd-web");
        CHECK(strstr(u.text,
                     "\n[Unit]\nSourcePath=/etc/berth/systemd/x.container\nWants=berthd.service\n"
                     "After=berthd.service\nDescription=web\n"));
        CHECK(strstr(u.text,
                     "\nKillMode=mixed\nKillSignal=SIGQUIT\nSuccessExitStatus=131\nSyslogIdentifier=web\n"
                     "TimeoutStopSec=5\n"));
        CHECK(strstr(u.text,
                     "\nExecStart=/usr/bin/berthctl \"run\" \"--rm\" \"--name=systemd-web\" \"--pull=never\" "
                     "\"--user=web:www\" \"--workdir=/srv\" \"--entrypoint=/bin/sh\" "
                     "\"--stop-signal=SIGQUIT\" \"--read-only\" \"--sdnotify=container\" "
                     "\"--env-file=/etc/web.env\" \"--env=A=1\" "
                     "\"--env=B=two words\" \"--env=C=$$HOME\" \"--volume=/srv:/srv:ro\" \"--label=a=b\" "
                     "\"--label=c=d\" \"--memory\" \"64m\" \"busybox:latest\" \"sh\" \"-c\" \"echo started; "
                     "trap \\\"echo bye; exit 0\\\" TERM; while :; do sleep 1; done\"\n"));
        CHECK(strstr(u.text, "\nExecStopPost=-/usr/bin/berthctl rm -f \"systemd-web\"\n"));
        CHECK(strstr(u.text, "\nRestart=always\n"));
        CHECK(strstr(u.text, "\n[Install]\nWantedBy=multi-user.target default.target\n"));
        CHECK(u.wanted_by && strv_length(u.wanted_by) == 2 && streq(u.wanted_by[0], "multi-user.target") &&
              streq(u.wanted_by[1], "default.target"));
        CHECK(u.required_by && streq(u.required_by[0], "x.target") && !u.required_by[1]);
        CHECK(u.aliases && streq(u.aliases[0], "www.service"));
        CHECK(!u.upheld_by);
        generated_unit_done(&u);

        /* Quadlet's LogDriver= and LogOpt= (one option per assignment): berthctl checks them. */
        CHECK_INT(gen("log",
                      "[Container]\nImage=x\nLogDriver=journald\nLogOpt=mode=non-blocking\n"
                      "LogOpt=max-buffer-size=4m\n",
                      &u, &line, &message),
                  0);
        ASSERT(u.text);
        CHECK(strstr(u.text,
                     "\nExecStart=/usr/bin/berthctl \"run\" \"--rm\" \"--name=systemd-log\" "
                     "\"--log-driver=journald\" \"--log-opt=mode=non-blocking\" "
                     "\"--log-opt=max-buffer-size=4m\" \"x\"\n"));
        generated_unit_done(&u);

        /* The smallest file; ContainerName=; an empty assignment resets a list. */
        CHECK_INT(gen("db", "[Container]\nImage=postgres\nContainerName=pg\nEnvironment=A=1\nEnvironment=\n", &u, &line,
                      &message),
                  0);
        ASSERT(u.text);
        CHECK_STR(u.container, "pg");
        CHECK(strstr(u.text, "\nExecStart=/usr/bin/berthctl \"run\" \"--rm\" \"--name=pg\" \"postgres\"\n"));
        CHECK(strstr(u.text, "\nKillSignal=SIGTERM\nSuccessExitStatus=143\n"));
        CHECK(!strstr(u.text, "TimeoutStopSec"));
        CHECK(!strstr(u.text, "[Install]"));
        CHECK(!u.wanted_by);
        generated_unit_done(&u);

        check_refused("web", "[Container]\nImage=x\nFoo=bar\n", 3, "Unknown key Foo= in section [Container]");
        check_refused("web", "[Container]\nExec=true\n", 0, "Image= is required");
        check_refused("web", "[Unit]\nDescription=x\n", 0, "No [Container] section");
        check_refused("web", "[Container]\nImage=x\n[Pod]\nPodName=p\n", 0, "Unknown section [Pod]");
        /* Quadlet's health keys and Notify=healthy become run's options. */
        CHECK_INT(gen("hc",
                      "[Container]\nImage=x\nHealthCmd=wget -q -O- localhost\nHealthInterval=10s\n"
                      "HealthTimeout=2s\nHealthRetries=5\nHealthStartPeriod=1m\nHealthOnFailure=restart\n"
                      "Notify=healthy\n",
                      &u, &line, &message),
                  0);
        ASSERT(u.text);
        CHECK(strstr(u.text,
                     "\nExecStart=/usr/bin/berthctl \"run\" \"--rm\" \"--name=systemd-hc\" "
                     "\"--health-cmd=wget -q -O- localhost\" \"--health-interval=10s\" \"--health-timeout=2s\" "
                     "\"--health-retries=5\" \"--health-start-period=1m\" \"--health-on-failure=restart\" "
                     "\"--sdnotify=healthy\" \"x\"\n"));
        generated_unit_done(&u);
        CHECK_INT(gen("nn", "[Container]\nImage=x\nNotify=false\n", &u, &line, &message), 0);
        CHECK(u.text && !strstr(u.text, "sdnotify"));
        generated_unit_done(&u);
        check_refused("web", "[Container]\nImage=x\nHealthStartupCmd=true\n", 3, "HealthStartupCmd= is not supported");
        check_refused("web", "[Container]\nImage=x\nNotify=maybe\n", 3, "Notify=maybe");
        check_refused("web", "[Container]\nImage=x\nPodmanArgs=--foo\n", 3, "BerthArgs=");
        check_refused("web", "[Container]\nImage=x\nPublishPort=80:80\n", 3, "not supported by berth");
        check_refused("web", "[Container]\nImage=x\nExec=sh -c 'oops\n", 3, "quotes");
        check_refused("web", "[Container]\nImage=x\nEnvironment=NOVALUE\n", 3, "KEY=VALUE");
        check_refused("web", "[Container]\nImage=x\nReadOnly=perhaps\n", 3, "boolean");
        check_refused("web", "[Container]\nImage=x\nStopSignal=SIGNOPE\n", 3, "not a signal");
        check_refused("web", "[Container]\nImage=x\nStopSignal=SIGWINCH\n", 3, "forwards only");
        check_refused("web", "[Container]\nImage=x\nPull=newer\n", 3, "Pull=newer");
        check_refused("web", "[Container]\nImage=x\nGroup=g\n", 0, "Group= needs User=");
        check_refused("web", "[Container]\nImage=x\nStopTimeout=5min\n", 0, "number of seconds");
        check_refused("web", "[Container]\nImage=x\nContainerName=-bad\n", 0, "not a valid container name");
        check_refused("a:b", "[Container]\nImage=x\n", 0, "set ContainerName=");
        check_refused("web@", "[Container]\nImage=x\n", 0, "Template");
        check_refused("my web", "[Container]\nImage=x\n", 0, "not a valid unit name");
        check_refused("web", "[Container]\nImage=x\n[Install]\nWantedBy=../etc\n", 4, "not a unit name");
        check_refused("web", "[Container]\nImage=x\nbroken line\n", 3, "Key=Value");
}

int main(void) {
        TEST(test_split);
        TEST(test_quote);
        TEST(test_parse);
        TEST(test_generate);
        return tests_exit_status();
}
