/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Words of a unit file value, as systemd splits ExecStart= and Environment=: separated by
 * whitespace; '...' and "..." quote (anywhere in a word, and "" is an empty word); C escapes
 * (\n \t \\ \" \' \s \xNN \NNN \uXXXX \UXXXXXXXX ...) inside and outside quotes, and a backslash
 * before whitespace keeps it in the word. An unknown escape, a trailing backslash, an unterminated
 * quote or an escaped NUL is -EINVAL. Specifiers (%n) and $VARIABLES are left as they are. */
int unit_split_words(const char *s, char ***ret);

/* The word quoted for an ExecStart= line that systemd gives back unchanged: in double quotes,
 * with \, " and control characters escaped and $ doubled (systemd would expand $VAR). A % is
 * kept, so specifiers in a .container file work as they do in a unit file (%% is a literal %). */
char *unit_quote_word(const char *s);
