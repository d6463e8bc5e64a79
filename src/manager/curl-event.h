/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <curl/curl.h>
#include <systemd/sd-event.h>

/* HTTP transfers driven by berthd's sd-event loop: one curl multi handle whose sockets and timer are
 * event sources, so a slow or hung peer (a volume plugin, a registry) never blocks the loop. The
 * pattern of systemd's curl-util.c. */
typedef struct CurlEvent CurlEvent;

/* Called in the loop once a transfer has ended; the easy handle is the caller's again (to read
 * CURLINFO_* and to clean up). */
typedef void (*CurlDoneFunc)(CURL *easy, CURLcode result, void *userdata);

int curl_event_new(sd_event *event, CurlEvent **ret);
/* Ends every transfer without calling its callback; the easy handles are left to their owners. */
CurlEvent *curl_event_free(CurlEvent *g);

/* Starts the transfer; 'done' is always called later from the loop, never from here. */
int curl_event_add(CurlEvent *g, CURL *easy, CurlDoneFunc done, void *userdata);
/* Ends a transfer before it is done; its callback is not called. */
void curl_event_remove(CurlEvent *g, CURL *easy);
