/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <json-c/json.h>

/* Renders tmpl, a Go text/template as `docker … --format` takes it, over o (the JSON object Docker
 * would hand its template). Supported, with Go's meaning:
 *  - text and {{actions}}; "{{- " and " -}}" trim the whitespace next to them; comment actions;
 *  - pipelines: .A.B, . (dot), $ (the root), $x and $x.A, (pipeline).A, "strings" with Go's escapes,
 *    `raw strings`, 'c', integers (also 0x, 0o, 0b), floats, true, false, nil; "|" passes the value as
 *    the last argument of the next command;
 *  - {{if}} {{else if}} {{else}} {{end}}, {{with}} {{else with}} {{else}} {{end}}, {{range}} {{else}}
 *    {{end}} over arrays and, by sorted key, objects, with $e := or $i, $e := (dot is the element),
 *    {{break}}, {{continue}}; {{$x := …}} and {{$x = …}}, scoped to the enclosing {{end}};
 *  - Go's functions and, or, not, eq, ne, lt, le, gt, ge, len, index, print, printf, println, and
 *    Docker's json, join, split, upper, lower, title, truncate, pad.
 * Values print as Go's fmt %v prints decoded JSON: strings raw, integers, floats as %g does (1.5,
 * 1e+06), [a b], map[k:v] with sorted keys, <no value> for none (<nil> inside arrays and maps). Truth
 * is Go's: false, 0, "", null and empty arrays and objects are false.
 * A key missing from an object is <no value>, as for Go's maps, except on o itself: its keys are the
 * fields the command offers (as Docker's typed contexts), so a missing one is a typo and an error.
 * Departures from Go: integers and floats compare with each other, join takes any array, upper,
 * lower and title change ASCII letters only; define, template, block and the html, js, urlquery,
 * slice and call functions are not there.
 * Returns 0 and the output in *ret; -EINVAL with *ret_error a message like Go's ("template: :1:
 * function "foo" not defined") for a bad template, an error while executing it, or passing a limit
 * (16 MiB of output, nesting, steps); -ENOMEM. */
int ctl_render_template(const char *tmpl, json_object *o, char **ret, char **ret_error);
