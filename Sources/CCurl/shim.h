#ifndef ASSETDEDUP_CCURL_SHIM_H
#define ASSETDEDUP_CCURL_SHIM_H

// The gcc type-check macros rewrite curl_easy_setopt per call site; the typed wrappers below
// already pin each option's argument type, so the plain variadic declaration is what we want.
#define CURL_DISABLE_TYPECHECK 1
#include <curl/curl.h>

/// curl_easy_setopt and curl_easy_getinfo are variadic, which Swift cannot call. One wrapper per
/// argument type: the caller picks the one the option's man page names (long, curl_off_t,
/// char *, a pointer, a callback).
static inline CURLcode ccurl_setopt_long(CURL *handle, CURLoption option, long value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode ccurl_setopt_off_t(CURL *handle, CURLoption option, curl_off_t value) {
    return curl_easy_setopt(handle, option, value);
}

/// "The application does not have to keep the string around after setting this option"
/// (curl_easy_setopt(3), for every char * option since 7.17.0).
static inline CURLcode ccurl_setopt_string(CURL *handle, CURLoption option, const char *value) {
    return curl_easy_setopt(handle, option, value);
}

/// For options that keep the pointer (CURLOPT_ERRORBUFFER, *DATA, CURLOPT_HTTPHEADER,
/// CURLOPT_MIMEPOST): the memory must stay valid until the handle is cleaned up.
static inline CURLcode ccurl_setopt_pointer(CURL *handle, CURLoption option, void *value) {
    return curl_easy_setopt(handle, option, value);
}

/// CURLOPT_WRITEFUNCTION, CURLOPT_READFUNCTION and CURLOPT_HEADERFUNCTION share this shape.
typedef size_t (*ccurl_data_callback)(char *buffer, size_t size, size_t count, void *context);

static inline CURLcode ccurl_setopt_data_callback(CURL *handle, CURLoption option, ccurl_data_callback value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode ccurl_getinfo_long(CURL *handle, CURLINFO info, long *value) {
    return curl_easy_getinfo(handle, info, value);
}

static inline CURLcode ccurl_getinfo_off_t(CURL *handle, CURLINFO info, curl_off_t *value) {
    return curl_easy_getinfo(handle, info, value);
}

/// CURL_GLOBAL_ALL is a macro expression Swift does not import.
static inline CURLcode ccurl_global_init(void) {
    return curl_global_init(CURL_GLOBAL_ALL);
}

#endif
