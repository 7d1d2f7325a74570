#ifndef ASSETDEDUP_CCMARK_SHIM_H
#define ASSETDEDUP_CCMARK_SHIM_H

#include <cmark.h>

/// CMARK_OPT_* are macros built with shifts; these constants make them visible to Swift.
/// Since cmark 0.29 "safe" is the default: raw HTML and unsafe links are suppressed unless
/// CMARK_OPT_UNSAFE is set (CMARK_OPT_SAFE is kept by cmark only for API compatibility).
static const int CCMARK_OPT_DEFAULT = CMARK_OPT_DEFAULT;
static const int CCMARK_OPT_UNSAFE = CMARK_OPT_UNSAFE;
static const int CCMARK_OPT_VALIDATE_UTF8 = CMARK_OPT_VALIDATE_UTF8;

#endif
