#ifndef ASSETDEDUP_CLIBPQ_SHIM_H
#define ASSETDEDUP_CLIBPQ_SHIM_H

#include <libpq-fe.h>

/// PG_DIAG_SQLSTATE comes from postgres_ext.h as a character-literal macro ('C'), which Swift
/// imports as a plain integer only on some toolchains; one named constant keeps the call sites plain.
static const int CLIBPQ_DIAG_SQLSTATE = PG_DIAG_SQLSTATE;
static const int CLIBPQ_DIAG_MESSAGE_PRIMARY = PG_DIAG_MESSAGE_PRIMARY;

#endif
