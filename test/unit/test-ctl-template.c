/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl-template.h"
#include "macro.h"

static int failures;

/* Shaped like Docker's container inspect output, with a few extra members for the corner cases. */
static const char fixture[] =
        "{\"Id\":\"abc\",\"Created\":\"2024-01-02T03:04:05Z\",\"Path\":\"sh\",\"Args\":[\"-c\",\"echo hi\"],"
        "\"State\":{\"Status\":\"running\",\"Running\":true,\"Paused\":false,\"Pid\":42,\"ExitCode\":0,\"Error\":\"\"},"
        "\"Name\":\"/web\",\"RestartCount\":0,"
        "\"Mounts\":[{\"Type\":\"volume\",\"Source\":\"/s1\",\"Destination\":\"/a\",\"RW\":true},"
        "{\"Type\":\"bind\",\"Source\":\"/s2\",\"Destination\":\"/b\",\"RW\":false}],"
        "\"Config\":{\"Hostname\":\"h1\",\"Env\":[\"A=1\",\"B=2\"],\"Cmd\":[\"sleep\",\"1\"],"
        "\"Labels\":{\"com.example.key\":\"v1\",\"b\":\"2\",\"a\":\"1\"},\"Tty\":false},"
        "\"HostConfig\":{\"Memory\":0,\"CpuShares\":1.5,\"Big\":1000000.0,\"Small\":0.0001,\"Tiny\":0.00001,"
        "\"NanoCpus\":2.0,\"Binds\":null},"
        "\"Null\":null,\"Empty\":[],\"EmptyObj\":{},\"EmptyStr\":\"\","
        "\"Mixed\":[1,2.5,null,\"x\",true,{\"k\":\"v\"},[1,2]],"
        "\"Quote\":\"a\\\"b\\\\c\\n\\u00e9\"}";

static int render(const char *tmpl, json_object *o, char **out, char **err) {
        *out = *err = NULL;
        return ctl_render_template(tmpl, o, out, err);
}

static void check_with(json_object *o, const char *tmpl, const char *want) {
        _cleanup_free_ char *out = NULL, *err = NULL;
        int r = render(tmpl, o, &out, &err);
        if (r != 0 || !out || !streq(out, want)) {
                fprintf(stderr, "FAIL: %s\n  want \"%s\"\n  got r=%d out=\"%s\" err=%s\n", tmpl, want, r,
                        out ? out : "(null)", err ? err : "(null)");
                failures++;
        }
}

/* An error: -EINVAL and a message containing what (a part of Go's wording). */
static void check_error_with(json_object *o, const char *tmpl, const char *what) {
        _cleanup_free_ char *out = NULL, *err = NULL;
        int r = render(tmpl, o, &out, &err);
        if (r != -EINVAL || !err || !strstr(err, what) || out) {
                fprintf(stderr, "FAIL: %s\n  want an error with \"%s\"\n  got r=%d out=\"%s\" err=%s\n", tmpl, what, r,
                        out ? out : "(null)", err ? err : "(null)");
                failures++;
        }
}

static json_object *doc;

static void expect(const char *tmpl, const char *want) {
        check_with(doc, tmpl, want);
}

static void expect_error(const char *tmpl, const char *what) {
        check_error_with(doc, tmpl, what);
}

/* What worked before the rewrite keeps working. */
static void test_compat(void) {
        expect("{{.Id}}", "abc");
        expect("{{.State.Status}}", "running");
        expect("{{ .State.Pid }}", "42");
        expect("{{.State.Running}}", "true");
        expect("{{json .Config.Cmd}}", "[\"sleep\",\"1\"]");
        expect("{{json .State.Status}}", "\"running\"");
        expect("id={{.Id}} name={{.Name}}", "id=abc name=/web");
        expect("plain", "plain");
        expect("", "");
        expect("{{.Null}}", "<no value>");
        /* The root's own keys are the fields a command offers: a missing one is a typo, an error (ps,
         * images and inspect rely on it). Deeper, a missing key is Go's <no value>. */
        expect_error("{{.Nope}}", "map has no entry for key \"Nope\"");
        expect_error("{{.Missing}}", "Missing");
        expect("{{.State.Nope}}", "<no value>");
        expect("{{.State.Missing}}", "<no value>");
        expect("{{index . \"Missing\"}}", "<no value>");
        expect_error("{{.Id", "unclosed action");
        expect_error("{{range .X}}", "unexpected EOF");
}

/* The cases Docker users type most. */
static void test_docker_examples(void) {
        expect("{{range .Mounts}}{{.Destination}} {{end}}", "/a /b ");
        expect("{{.RestartCount}}", "0");
        expect("{{json .Config}}",
               "{\"Hostname\":\"h1\",\"Env\":[\"A=1\",\"B=2\"],\"Cmd\":[\"sleep\",\"1\"],"
               "\"Labels\":{\"com.example.key\":\"v1\",\"b\":\"2\",\"a\":\"1\"},\"Tty\":false}");
        expect("{{.Config.Env}}", "[A=1 B=2]");
        expect("{{index .Config.Labels \"com.example.key\"}}", "v1");
        expect("{{join .Args \",\"}}", "-c,echo hi");
        expect("{{.State.Running}}", "true");
        expect("{{if .State.Running}}up{{else}}down{{end}}", "up");
        expect("{{if .State.Paused}}up{{else}}down{{end}}", "down");
        expect("{{range $k, $v := .Config.Labels}}{{$k}}={{$v}};{{end}}", "a=1;b=2;com.example.key=v1;");
        expect("{{.Name | upper}}", "/WEB");
        expect("{{printf \"%s:%d\" .Name 3}}", "/web:3");
        expect("  x  {{- .Name -}}  \n y", "  x/weby");
        expect("{{.Config.Labels.a}}", "1");
        expect("{{.Config.Labels.nope}}", "<no value>");
        expect("{{.State.Nope.Deeper}}", "<no value>");
        expect("{{range .Config.Env}}{{.}}\n{{end}}", "A=1\nB=2\n");
        expect("{{.Config.Env | json}}", "[\"A=1\",\"B=2\"]");
        expect("{{(index .Mounts 1).Source}}", "/s2");
        expect("{{with .State}}{{$.Name}} {{.Status}}{{end}}", "/web running");
}

static void test_trim_and_comments(void) {
        expect("a\n\t {{- 1 }} b", "a1 b");
        expect("a {{1 -}}\n\t b", "a 1b");
        expect("a {{- 1 -}} b", "a1b");
        expect("a {{-\n1\n-}} b", "a1b");
        expect("a {{-3}} b", "a -3 b"); /* no space after the dash: the number -3 */
        expect("a {{3 }}{{- 4}}", "a 34");
        expect("{{/* a comment */}}x", "x");
        expect("a {{- /* c */ -}} b", "ab");
        expect("a {{/* c */ -}} b", "a b");
        expect("{{ .Name\n}}", "/web");
        expect("{{\"}}\"}}|{{/* }} */}}|{{`{{`}}", "}}||{{");
        expect("a\r\n{{- 1 -}}\r\nb", "a1b");
        expect_error("{{/* c }}", "unclosed comment");
        expect_error("{{/* c */ x}}", "comment ends before closing delimiter");
        expect_error("a {{-.Name}}", "bad number syntax");
        expect_error("{{.Name-}}", "bad character");
}

static void test_literals(void) {
        expect("{{\"a\\tb\\n\\\"q\\\"\\\\\"}}", "a\tb\n\"q\"\\");
        expect("{{\"\\x41\\101\\u00e9\\U0001F600\"}}", "AA\xc3\xa9\xf0\x9f\x98\x80");
        expect("{{`a\\n\"b`}}", "a\\n\"b");
        expect("{{42}} {{-7}} {{+7}} {{0x1F}} {{0o17}} {{017}} {{0b101}}", "42 -7 7 31 15 15 5");
        expect("{{1.5}} {{1e3}} {{.5}} {{2.0}}", "1.5 1000 0.5 2");
        expect("{{'a'}} {{'\\n'}}", "97 10");
        expect("{{true}} {{false}}", "true false");
        expect_error("{{\"abc}}", "unterminated quoted string");
        expect_error("{{\"a\nb\"}}", "unterminated quoted string");
        expect_error("{{`abc}}", "unterminated raw quoted string");
        expect_error("{{\"\\q\"}}", "invalid syntax");
        expect_error("{{\"\\x4\"}}", "invalid syntax");
        expect_error("{{'ab'}}", "malformed character constant");
        expect_error("{{99999999999999999999}}", "illegal number syntax");
        expect_error("{{9223372036854775808}}", "overflows int");
        expect("{{-9223372036854775808}}", "-9223372036854775808");
        expect_error("{{1e999}}", "illegal number syntax");
        expect_error("{{1_000}}", "illegal number syntax");
        expect_error("{{3i}}", "illegal number syntax");
        expect_error("{{-}}", "illegal number syntax");
        expect_error("{{08}}", "illegal number syntax");
}

/* fmt's %v of decoded JSON. */
static void test_printing(void) {
        expect("{{.Config.Labels}}", "map[a:1 b:2 com.example.key:v1]");
        expect("{{.Mounts}}",
               "[map[Destination:/a RW:true Source:/s1 Type:volume] "
               "map[Destination:/b RW:false Source:/s2 Type:bind]]");
        expect("{{.Mixed}}", "[1 2.5 <nil> x true map[k:v] [1 2]]");
        expect("{{.State}}", "map[Error: ExitCode:0 Paused:false Pid:42 Running:true Status:running]");
        expect("{{.HostConfig.CpuShares}} {{.HostConfig.Big}} {{.HostConfig.Small}} {{.HostConfig.Tiny}}",
               "1.5 1e+06 0.0001 1e-05");
        expect("{{.HostConfig.NanoCpus}} {{.HostConfig.Memory}} {{.HostConfig.Binds}}", "2 0 <no value>");
        expect("{{.Empty}} {{.EmptyObj}} {{.EmptyStr}}|", "[] map[] |");
        expect("{{123456.0}} {{1234567.0}} {{0.1}} {{-2.5}} {{1e21}} {{1e-7}}",
               "123456 1.234567e+06 0.1 -2.5 1e+21 1e-07");
        expect("{{.Quote}}", "a\"b\\c\n\xc3\xa9");
}

static void test_json(void) {
        expect("{{json .Name}}", "\"/web\"");
        expect("{{json .Quote}}", "\"a\\\"b\\\\c\\n\xc3\xa9\"");
        expect("{{json .Null}} {{json .State.Nope}}", "null null");
        expect("{{json .Mixed}}", "[1,2.5,null,\"x\",true,{\"k\":\"v\"},[1,2]]");
        expect("{{json .HostConfig}}",
               "{\"Memory\":0,\"CpuShares\":1.5,\"Big\":1000000,\"Small\":0.0001,"
               "\"Tiny\":0.00001,\"NanoCpus\":2,\"Binds\":null}");
        expect("{{json 1e21}} {{json 1e-7}} {{json 0.1}} {{json \"<&>\\u2028\"}}", "1e+21 1e-7 0.1 \"<&>\\u2028\"");
        expect("{{json .Empty}}{{json .EmptyObj}}", "[]{}");
        expect_error("{{json}}", "wrong number of args for json: want 1 got 0");
}

static void test_pipelines(void) {
        expect("{{.Name | printf \"%s!\"}}", "/web!");
        expect("{{\"x\" | printf \"%s-%s\" \"y\"}}", "y-x");
        expect("{{join .Args \" \" | upper}}", "-C ECHO HI");
        /* The piped value comes last, so this is join(" ", .Args): an error in Go as well. */
        expect_error("{{.Args | join \" \"}}", "expected []string; got string");
        expect("{{(index .Config.Labels \"a\")}}", "1");
        expect("{{len (index .Mounts 0)}}", "4");
        expect("{{index (split \"a:b\" \":\") 1}}", "b");
        expect("{{(.State).Pid}}", "42");
        expect("{{$}}",
               "map[Args:[-c echo hi] Config:map[Cmd:[sleep 1] Env:[A=1 B=2] Hostname:h1 Labels:map[a:1 b:2 "
               "com.example.key:v1] Tty:false] Created:2024-01-02T03:04:05Z Empty:[] EmptyObj:map[] EmptyStr: "
               "HostConfig:map[Big:1e+06 Binds:<nil> CpuShares:1.5 Memory:0 NanoCpus:2 Small:0.0001 Tiny:1e-05] "
               "Id:abc Mixed:[1 2.5 <nil> x true map[k:v] [1 2]] Mounts:[map[Destination:/a RW:true Source:/s1 "
               "Type:volume] map[Destination:/b RW:false Source:/s2 Type:bind]] Name:/web Null:<nil> Path:sh "
               "Quote:a\"b\\c\n\xc3\xa9 RestartCount:0 State:map[Error: ExitCode:0 Paused:false Pid:42 "
               "Running:true Status:running]]");
        expect("{{$.Name}}", "/web");
        expect("{{.Name | and 1}}", "/web");
        expect_error("{{.Id | }}", "missing command after \"|\"");
        expect_error("{{.Id | \"x\"}}", "non executable command in pipeline stage 2");
        expect_error("{{1 2}}", "can't give argument to non-function 1");
        expect_error("{{.Id 2}}", "Id is not a method but has arguments");
        expect_error("{{.Id | .Name}}", "Name is not a method but has arguments");
        expect_error("{{(1) 2}}", "can't give argument to non-function");
        expect_error("{{nil}}", "nil is not a command");
        expect_error("{{.Null.X}}", "nil pointer evaluating interface {}.X");
        expect_error("{{.Name.X}}", "can't evaluate field X in type string");
        expect_error("{{.A.}}", "unexpected \".\" in operand");
        expect_error("{{\"x\".A}}", "unexpected . after term");
        expect_error("{{(.Id}}", "unclosed left paren");
        expect_error("{{.Id)}}", "unexpected right paren");
        expect_error("{{}}", "missing value for command");
        expect_error("{{.Id\"x\"}}", "bad character");
        expect_error("{{(.Id)(.Id)}}", "unexpected \"(\" in operand");
        expect_error("{{#}}", "unrecognized character in action: #");
}

static void test_functions(void) {
        expect("{{join .Empty \",\"}}|{{join .Null \",\"}}", "|");
        expect("{{join .Mixed \"|\"}}", "1|2.5|<nil>|x|true|map[k:v]|[1 2]");
        expect_error("{{join .Name \",\"}}", "wrong type for value; expected []string; got string");
        expect("{{index .Args 1}} {{index .Mounts 0 \"Type\"}} {{index .Name 1}}", "echo hi volume 119");
        expect("{{index .Config.Labels \"nope\"}}", "<no value>");
        expect("{{index .Config}}",
               "map[Cmd:[sleep 1] Env:[A=1 B=2] Hostname:h1 Labels:map[a:1 b:2 com.example.key:v1] Tty:false]");
        expect_error("{{index .Args 5}}", "error calling index: index out of range: 5");
        expect_error("{{index .Args -1}}", "index out of range: -1");
        expect_error("{{index .Args \"x\"}}", "cannot index slice/array with type string");
        expect_error("{{index .Config \"Env\" \"x\"}}", "cannot index slice/array with type string");
        expect_error("{{index .Config 1}}", "value has type int; should be string");
        expect_error("{{index .Null 1}}", "index of untyped nil");
        expect_error("{{index .Config.Labels \"nope\" \"x\"}}", "index of nil pointer");
        expect_error("{{index .State.Pid 1}}", "can't index item of type int");
        expect_error("{{index}}", "wrong number of args for index: want at least 1 got 0");
        expect("{{len .Args}} {{len .Config.Labels}} {{len .Name}} {{len .Empty}}", "2 3 4 0");
        expect_error("{{len .Null}}", "len of nil pointer");
        expect_error("{{len 3}}", "len of type int");
        expect_error("{{len}}", "wrong number of args for len: want 1 got 0");
        expect_error("{{len 1 2}}", "wrong number of args for len: want 1 got 2");
        expect("{{lower \"ABC dE\"}} {{upper \"abc\"}}", "abc de ABC");
        expect("{{title \"hello wORLD-foo_bar x.y \xc3\xa9t\xc3\xa9\"}}", "Hello WORLD-Foo_bar X.Y \xc3\xa9t\xc3\xa9");
        expect_error("{{upper 3}}", "wrong type for value; expected string; got int");
        expect_error("{{upper .State.Nope}}", "invalid value; expected string");
        expect("{{split \"a,b,,c\" \",\"}}", "[a b  c]");
        expect("{{split \"ab\xc3\xa9\" \"\"}}", "[a b \xc3\xa9]");
        expect("{{len (split \"\" \",\")}} {{len (split \"\" \"\")}}", "1 0");
        expect("{{json (split \"a,b,\" \",\")}} {{json (split \",\" \",\")}}", "[\"a\",\"b\",\"\"] [\"\",\"\"]");
        expect("{{truncate \"abcdef\" 3}} {{truncate \"ab\" 5}} {{truncate \"\xc3\xa9\xc3\xa8x\" 2}}|{{truncate \"x\" "
               "0}}|",
               "abc ab \xc3\xa9\xc3\xa8||");
        expect_error("{{truncate \"x\" -1}}", "negative length");
        expect_error("{{truncate \"x\" \"1\"}}", "expected int; got string");
        expect("[{{pad \"x\" 2 1}}][{{pad \"\" 2 2}}]", "[  x ][]");
        expect_error("{{pad \"x\" -1 0}}", "negative count");
        expect_error("{{pad \"x\" 1}}", "wrong number of args for pad: want 3 got 2");
        expect("{{println \"a\" 1 2 \"b\"}}", "a 1 2 b\n");
        expect("{{print \"a\" 1 2 \"b\"}}|{{print 1 2}}|{{print}}|{{print .State.Nope}}", "a1 2b|1 2||<nil>");
        expect("{{println}}", "\n");
        expect_error("{{foo}}", "template: :1: function \"foo\" not defined");
        expect_error("{{.Id | foo}}", "function \"foo\" not defined");
}

static void test_printf(void) {
        expect("{{printf \"%v %q %%\" .Config.Env .Name}}", "[A=1 B=2] \"/web\" %");
        expect("{{printf \"%5s|%-5s|%05d|%x|%X|%.2f|%e|%g|%t\" \"ab\" \"cd\" 42 255 255 3.14159 1234.5 0.5 true}}",
               "   ab|cd   |00042|ff|FF|3.14|1.234500e+03|0.5|true");
        expect("{{printf \"%d\" \"x\"}}", "%!d(string=x)");
        expect("{{printf \"%d %d\" 1}}", "1 %!d(MISSING)");
        expect("{{printf \"%d\" 1 2 \"a\"}}", "1%!(EXTRA int=2, string=a)");
        expect("{{printf \"%s|%v\" .State.Nope .State.Nope}}", "%!s(<nil>)|<nil>");
        expect("{{printf \"%T %T %T %T %T %T\" 1 \"a\" .Args .Config 1.5 true}}",
               "int string []interface {} map[string]interface {} float64 bool");
        expect("{{printf \"%q\" \"a\\\"b\\n\"}}", "\"a\\\"b\\n\"");
        expect("{{printf \"%c%c %q %U\" 65 233 66 65}}", "A\xc3\xa9 'B' U+0041");
        expect("{{printf \"%+d % d %+d\" 5 5 -5}}", "+5  5 -5");
        expect("{{printf \"%6.2f|%-10.3e|%+.1f\" 3.14159 1234.5 2.0}}", "  3.14|1.234e+03 |+2.0");
        expect("{{printf \"%03d|%-4d|%4d|%.3d\" -5 7 7 7}}", "-05|7   |   7|007");
        expect("{{printf \"%v %v %v %g\" 1.0 1e6 2.5 100000.0}}", "1 1e+06 2.5 100000");
        expect("{{printf \"%d\" 1.5}}", "%!d(float64=1.5)");
        expect("{{printf \"%\"}}", "%!(NOVERB)");
        expect("{{printf \"%z\" 1}}", "%!z(int=1)");
        expect("{{printf \"%s\" 1}}", "%!s(int=1)");
        expect("{{printf \"%d\" .Args}}", "[%!d(string=-c) %!d(string=echo hi)]");
        expect("{{printf \"%s\" .Config.Labels}}", "map[a:1 b:2 com.example.key:v1]");
        expect("{{printf \"%x %X %o %#x %#o %b\" \"hi\" 255 8 255 8 5}}", "6869 FF 10 0xff 010 101");
        expect("{{printf \"%.2s|%5.1s|\" \"abcdef\" \"xyz\"}}", "ab|    x|");
        expect("{{printf \"%*d|%-*d|\" 4 1 3 2}}", "   1|2  |");
        expect("{{printf \"%*d\" \"x\" 1}}", "%!(BADWIDTH)1");
        expect("{{printf \"%.*d\" \"x\" 1}}", "%!(BADPREC)1");
        expect("{{printf \"%v\" true}} {{printf \"%d\" true}}", "true %!d(bool=true)");
        expect_error("{{printf 3}}", "wrong type for value; expected string; got int");
        expect_error("{{printf}}", "wrong number of args for printf: want at least 1 got 0");
}

static void test_comparisons(void) {
        expect("{{eq .State.Status \"running\"}} {{eq .State.Pid 42}} {{eq 1 2 3 1}} {{eq 1 2}}",
               "true true true false");
        expect("{{eq .HostConfig.NanoCpus 2}} {{eq 2 2.0}} {{eq true true}} {{eq .Null .State.Nope}} {{eq .Null nil}}",
               "true true true true true");
        expect("{{eq .Null 1}} {{eq \"a\" .Null}}", "false false");
        expect("{{ne .Name \"/web\"}} {{ne 1 2}}", "false true");
        expect_error("{{eq .Name 1}}", "incompatible types for comparison");
        expect_error("{{eq .Args .Args}}", "non-comparable type");
        expect_error("{{eq 1}}", "missing argument for comparison");
        expect("{{lt 1 2}} {{le 2 2}} {{gt \"b\" \"a\"}} {{ge 1 2}} {{lt 1.5 2}} {{gt 2 1.5}} {{lt \"a\" \"ab\"}}",
               "true true true false true true true");
        expect("{{le 3 2}} {{ge 2 2}} {{gt 2 2}} {{lt 2 2}}", "false true false false");
        expect_error("{{lt \"a\" 1}}", "incompatible types for comparison");
        expect_error("{{lt true false}}", "invalid type for comparison");
        expect_error("{{lt .Null 1}}", "invalid type for comparison");
        expect_error("{{lt 1}}", "wrong number of args for lt: want 2 got 1");
        expect("{{not .State.Running}} {{not \"\"}} {{not .Empty}} {{not .Mixed}}", "false true true false");
        expect("{{and 1 0 2}}|{{and 1 2}}|{{or 0 \"\" \"x\"}}|{{or 0 \"\"}}|", "0|2|x||");
        /* and/or stop at the answer: the erroneous index is never evaluated. */
        expect("{{or 1 (index .Args 9)}} {{and 0 (index .Args 9)}}", "1 0");
        expect_error("{{and 1 (index .Args 9)}}", "index out of range");
        expect_error("{{and}}", "wrong number of args for and: want at least 1 got 0");
}

static void test_control(void) {
        expect("{{if eq .State.Status \"exited\"}}E{{else if .State.Running}}R{{else}}X{{end}}", "R");
        expect("{{if .Empty}}a{{else if .EmptyObj}}b{{else if .EmptyStr}}c{{else if .Null}}d{{else if 0}}e"
               "{{else if 0.0}}f{{else if false}}g{{else}}h{{end}}",
               "h");
        expect("{{if .Mixed}}y{{end}}{{if .State.Nope}}y{{else}}n{{end}}{{if 1}}1{{end}}{{if \"0\"}}s{{end}}", "yn1s");
        expect("{{range .Empty}}x{{else}}none{{end}} {{range .Null}}x{{else}}none{{end}}", "none none");
        expect("{{range .State.Nope}}x{{else}}none{{end}}", "none");
        expect("{{range $i, $e := .Args}}{{$i}}:{{$e}} {{end}}", "0:-c 1:echo hi ");
        expect("{{range $e := .Mounts}}{{$e.Type}},{{end}}", "volume,bind,");
        expect("{{range .Config.Labels}}{{.}},{{end}}", "1,2,v1,");
        expect("{{range $i, $m := .Mounts}}{{if $i}}, {{end}}{{$m.Source}}{{end}}", "/s1, /s2");
        expect("{{range .Mounts}}{{$.Name}}{{end}}", "/web/web");
        expect("{{range .Mixed}}{{.}}|{{end}}", "1|2.5|<no value>|x|true|map[k:v]|[1 2]|");
        expect("{{range .Mixed}}{{if eq (printf \"%T\" .) \"string\"}}{{break}}{{end}}{{.}};{{end}}",
               "1;2.5;<no value>;");
        expect("{{range $i, $e := .Args}}{{if eq $i 0}}{{continue}}{{end}}{{$e}}{{end}}", "echo hi");
        expect("{{range .Mounts}}{{range $.Args}}{{.}}{{break}}{{end}}{{.Type}} {{end}}", "-cvolume -cbind ");
        expect("{{range $x := .Empty}}{{else}}{{len $x}}{{end}}", "0");
        expect_error("{{range .Name}}{{end}}", "range can't iterate over /web");
        expect_error("{{range .Mixed}}{{.k}}{{end}}", "can't evaluate field k in type int");
        expect_error("{{range .Mixed}}{{if not (eq (printf \"%T\" .) \"int\" \"float64\")}}{{.k}}{{end}}{{end}}",
                     "nil pointer evaluating interface {}.k");
        expect("{{with .State}}{{.Status}}{{end}}", "running");
        expect("{{with .Empty}}x{{else}}empty{{end}}", "empty");
        expect("{{with $x := .Name}}{{$x}}{{.}}{{end}}", "/web/web");
        expect("{{with .EmptyStr}}a{{else with .Name}}{{.}}{{end}}", "/web");
        expect("{{with .State.Nope}}a{{else with .Null}}b{{else}}c{{end}}", "c");
        expect("{{$x := .Name}}{{$x}}", "/web");
        expect("{{$x := 1}}{{$x = 2}}{{$x}}", "2");
        expect("{{$m := index .Mounts 0}}{{$m.Destination}}", "/a");
        expect("{{$x := 1}}{{if true}}{{$x = 2}}{{$y := 3}}{{end}}{{$x}}", "2");
        expect("{{$x := .Args}}{{range $x}}{{.}}{{end}}", "-cecho hi");
        expect("{{range $i, $e := .Args}}{{end}}{{/* $i is gone */}}ok", "ok");
        expect("{{$i := 0}}{{$e := \"\"}}{{range $i, $e = .Args}}{{end}}{{$i}}:{{$e}}", "1:echo hi");
        expect("{{$x := 1}}{{$x := 2}}{{$x}}", "2");
        expect("{{range $e := .Args}}{{$e}}{{end}}", "-cecho hi");
        expect_error("{{if true}}{{$y := 1}}{{end}}{{$y}}", "undefined variable \"$y\"");
        expect_error("{{$x}}", "undefined variable \"$x\"");
        expect_error("{{$x = 1}}", "undefined variable \"$x\"");
        expect_error("{{$x 1}}", "undefined variable");
        expect_error("{{$x := 1}}{{$x 1}}", "can't give argument to non-function $x");
        expect_error("{{if .Id}}x", "unexpected EOF");
        expect_error("{{end}}", "unexpected {{end}}");
        expect_error("{{else}}", "unexpected {{else}}");
        expect_error("{{if}}{{end}}", "missing value for if");
        expect_error("{{if 1}}{{else}}{{else}}{{end}}", "expected {{end}}; found {{else}}");
        expect_error("{{range .Args}}{{else if 1}}{{end}}", "unexpected \"if\" in else");
        expect_error("{{if 1}}{{else with 1}}{{end}}", "unexpected \"with\" in else");
        expect_error("{{if 1}}{{end 1}}", "unexpected \"1\" in end");
        expect_error("{{break}}", "{{break}} outside {{range}}");
        expect_error("{{range .Args}}{{else}}{{continue}}{{end}}", "{{continue}} outside {{range}}");
        expect_error("{{$x, $y := .Args}}", "too many declarations in command");
        expect_error("{{range $a, $b, $c := .Args}}{{end}}", "range can only initialize variables");
        expect_error("{{template \"x\"}}", "{{template}} is not supported");
        expect_error("{{define \"x\"}}{{end}}", "{{define}} is not supported");
        expect_error("{{with .Id}}{{.X}}{{end}}", "can't evaluate field X in type string");
}

/* Errors carry Go's position and the node, for the user to find the place. */
static void test_messages(void) {
        expect_error("a\n{{.Nope}}", "template: :2:2: executing \"\" at <.Nope>: map has no entry for key \"Nope\"");
        expect_error("{{if 1}}\n\n{{foo}}{{end}}", "template: :3: function \"foo\" not defined");
        expect_error("{{index .Args 5}}", "at <index .Args 5>: error calling index: index out of range: 5");
}

/* A ps row: flat strings. Unknown fields must stay errors there ("ps --format '{{.Bogus}}'"). */
static void test_rows(void) {
        json_object *row = json_tokener_parse("{\"ID\":\"0123456789ab\",\"Names\":\"web\",\"State\":\"running\"}");
        check_with(row, "{{.ID}}\t{{.Names}}", "0123456789ab\tweb");
        check_with(row, "table {{.Names}}", "table web");
        check_error_with(row, "{{.Bogus}}", "Bogus");
        check_with(row, "{{.Names | printf \"%-6s|\"}}{{.State | title}}", "web   |Running");
        json_object_put(row);

        /* No object at all, or no place for the message: still answers, never crashes. */
        check_with(NULL, "{{.}}|{{json .}}", "<no value>|null");
        check_error_with(NULL, "{{.X}}", "nil pointer evaluating interface {}.X");
        char *out = NULL;
        if (ctl_render_template("{{foo}}", doc, &out, NULL) != -EINVAL || out) {
                fprintf(stderr, "FAIL: no -EINVAL without ret_error\n");
                failures++;
        }
        free(out);
}

static json_object *big_array(size_t n) {
        json_object *a = json_object_new_array();
        for (size_t i = 0; a && i < n; i++)
                json_object_array_add(a, json_object_new_int64((int64_t) i));
        return a;
}

/* Limits: nesting, steps, output and strings made are bounded, each with an error. */
static void test_limits(void) {
        json_object *o = json_object_new_object(), *deep = json_object_new_array(), *leaf = deep;
        char tmpl[4096];
        size_t n = 0;

        json_object_object_add(o, "Big", big_array(64));
        for (int i = 0; i < 400; i++) {
                json_object *next = json_object_new_array();
                json_object_array_add(leaf, next);
                leaf = next;
        }
        json_object_object_add(o, "Deep", deep);

        n = 0;
        n += (size_t) snprintf(tmpl + n, sizeof tmpl - n, "{{");
        for (int i = 0; i < 200; i++)
                tmpl[n++] = '(';
        tmpl[n++] = '1';
        for (int i = 0; i < 200; i++)
                tmpl[n++] = ')';
        snprintf(tmpl + n, sizeof tmpl - n, "}}");
        check_error_with(o, tmpl, "nested too deeply");
        check_with(o, "{{((((((((((1))))))))))}}", "1");

        n = 0;
        for (int i = 0; i < 200; i++)
                n += (size_t) snprintf(tmpl + n, sizeof tmpl - n, "{{if 1}}");
        for (int i = 0; i < 200; i++)
                n += (size_t) snprintf(tmpl + n, sizeof tmpl - n, "{{end}}");
        check_error_with(o, tmpl, "nested too deeply");

        check_error_with(o,
                         "{{range .Big}}{{range $.Big}}{{range $.Big}}{{range $.Big}}{{range $.Big}}"
                         "{{end}}{{end}}{{end}}{{end}}{{end}}",
                         "more than 4194304 steps");
        check_error_with(o, "{{range .Big}}{{range $.Big}}{{range $.Big}}{{pad \"x\" 4000 0}}{{end}}{{end}}{{end}}",
                         "output larger than 16 MiB");
        check_error_with(o, "{{range .Big}}{{range $.Big}}{{$x := pad \"x\" 100000 0}}{{end}}{{end}}",
                         "more than 256 MiB of strings");
        check_error_with(o, "{{pad \"x\" 20000000 0}}", "output larger than 16 MiB");
        check_error_with(o, "{{len (split (pad \"x\" 0 2000000) \"\")}}", "more than 1048576 pieces");
        check_error_with(o, "{{.Deep}}", "nested too deeply to print");
        check_error_with(o, "{{json .Deep}}", "nested too deeply to print");
        check_with(o, "{{len (printf \"%999999d\" 1)}}", "999999");
        /* fmt checks the bound before each digit: 1000001 passes, a width of 9 digits gives up. */
        check_with(o, "{{len (printf \"%1000001d\" 1)}}", "1000001");
        check_with(o, "{{printf \"%100000000d\" 1}}", "%!(NOVERB)%!(EXTRA int=1)");
        json_object_put(o);
}

/* A fixed-seed generator, so that a failure can be replayed. */
static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint64_t rng(void) {
        rng_state ^= rng_state << 13;
        rng_state ^= rng_state >> 7;
        rng_state ^= rng_state << 17;
        return rng_state;
}

static const char *const pieces[] = {
        "{{",
        "}}",
        "{{- ",
        " -}}",
        "{{-",
        "-}}",
        ".",
        ".Name",
        ".Config",
        ".Config.Env",
        ".Mounts",
        ".Mixed",
        ".Null",
        ".Nope",
        "$",
        "$x",
        "$i",
        "$e",
        "$.Args",
        ":=",
        "=",
        ",",
        "|",
        "(",
        ")",
        "\"str\"",
        "`raw`",
        "\"\\n\"",
        "\"\\q\"",
        "\"unterm",
        "'a'",
        "42",
        "-1",
        "3.5",
        "1e400",
        "0x1f",
        "true",
        "false",
        "nil",
        "if",
        "else",
        "end",
        "range",
        "with",
        "break",
        "continue",
        "json",
        "join",
        "index",
        "len",
        "upper",
        "lower",
        "title",
        "split",
        "truncate",
        "pad",
        "println",
        "print",
        "printf",
        "\"%s %d %v %q %% %5.2f %x %*d %!\"",
        "eq",
        "ne",
        "not",
        "and",
        "or",
        "lt",
        "le",
        "gt",
        "ge",
        " ",
        "  ",
        "\n",
        "\t",
        "/*",
        "*/",
        "x",
        "}",
        "{",
        "define",
        "template",
        "$x := ",
        "{{end}}",
        "{{else}}",
        "{{range $i, $e := .Mounts}}",
        "{{if .Name}}",
        "{{with .Config}}",
        "{{.Config.Labels}}",
        "\xff",
        "\xc3",
};

static const char *const seeds[] = {
        "{{range .Mounts}}{{.Destination}} {{end}}",
        "{{range $k, $v := .Config.Labels}}{{$k}}={{$v}};{{end}}",
        "{{if eq .State.Status \"exited\"}}E{{else if .State.Running}}R{{else}}X{{end}}",
        "{{printf \"%s:%d %q %v\" .Name 3 .Name .Mixed}}",
        "{{with $x := index .Mounts 0}}{{$x.Source | upper}}{{end}}",
        "  x  {{- .Name -}}  \n y {{/* c */}}",
        "{{json (split (join .Args \",\") \",\")}} {{len .Config.Env}} {{pad (truncate .Name 2) 1 1}}",
        "{{range $i, $e := .Mixed}}{{if $i}},{{end}}{{printf \"%v\" $e}}{{end}}",
};

static unsigned n_rendered, n_rejected;

static void check_robust(const char *tmpl) {
        _cleanup_free_ char *out = NULL, *err = NULL;
        int r = render(tmpl, doc, &out, &err);
        if (r == 0)
                n_rendered++;
        else
                n_rejected++;
        if (!((r == 0 && out && !err) || (r == -EINVAL && err && !out))) {
                fprintf(stderr, "FAIL (robustness): r=%d out=%s err=%s for:\n%s\n", r, out ? "set" : "NULL",
                        err ? err : "NULL", tmpl);
                failures++;
        }
}

/* libFuzzer in miniature: random mixes of the grammar's pieces, and cut or mutated good templates.
 * Whatever comes, the answer is 0 or -EINVAL with a message, never a crash (run it under ASan). */
static void test_robustness(void) {
        char buf[1024];

        for (int iter = 0; iter < 4000; iter++) {
                size_t n = 0, count = 1 + rng() % 16;
                for (size_t k = 0; k < count; k++) {
                        const char *p = pieces[rng() % ELEMENTSOF(pieces)];
                        size_t len = strlen(p);
                        if (n + len >= sizeof buf)
                                break;
                        memcpy(buf + n, p, len);
                        n += len;
                }
                buf[n] = 0;
                check_robust(buf);
                if (n > 0) { /* and every template cut short */
                        buf[rng() % n] = 0;
                        check_robust(buf);
                }
        }
        for (int iter = 0; iter < 2000; iter++) { /* bytes, mostly the ones the lexer cares about */
                static const char alphabet[] = "{{}}{}()|$.:=,\"'`-+ \t\n0x1e.Ajsonprintf%dv\\/*";
                size_t n = rng() % 64;
                for (size_t k = 0; k < n; k++)
                        buf[k] = rng() % 16 ? alphabet[rng() % (sizeof alphabet - 1)] : (char) (rng() % 255 + 1);
                buf[n] = 0;
                check_robust(buf);
        }
        for (int iter = 0; iter < 3000; iter++) {
                const char *seed = seeds[rng() % ELEMENTSOF(seeds)];
                size_t n = strlen(seed);
                memcpy(buf, seed, n + 1);
                for (uint64_t m = rng() % 4; m > 0; m--) {
                        size_t at = rng() % n;
                        char c = (char) (rng() % 95 + 32);
                        buf[at] = rng() % 8 ? c : "{}()|$.\"`-"[rng() % 10];
                }
                if (rng() % 3 == 0)
                        buf[rng() % n] = 0;
                check_robust(buf);
        }
        printf("robustness: %u templates rendered, %u rejected with a message\n", n_rendered, n_rejected);
}

int main(void) {
        doc = json_tokener_parse(fixture);
        if (!doc) {
                fprintf(stderr, "FAIL: the fixture does not parse\n");
                return 1;
        }
        test_compat();
        test_docker_examples();
        test_trim_and_comments();
        test_literals();
        test_printing();
        test_json();
        test_pipelines();
        test_functions();
        test_printf();
        test_comparisons();
        test_control();
        test_messages();
        test_rows();
        test_limits();
        test_robustness();
        json_object_put(doc);
        if (failures == 0)
                printf("ok: ctl-template\n");
        else
                printf("%d failures\n", failures);
        return failures ? 1 : 0;
}
