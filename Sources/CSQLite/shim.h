#ifndef ASSETDEDUP_CSQLITE_SHIM_H
#define ASSETDEDUP_CSQLITE_SHIM_H

#include <sqlite3.h>

/// SQLITE_TRANSIENT is a macro casting -1 to a function pointer, which Swift cannot import.
/// It tells SQLite to copy bound text and blobs before the bind call returns.
static inline sqlite3_destructor_type csqlite_transient(void) {
    return SQLITE_TRANSIENT;
}

/// Extended result codes are macros built with shifts, which Swift does not import.
static const int CSQLITE_CONSTRAINT_UNIQUE = SQLITE_CONSTRAINT_UNIQUE;
static const int CSQLITE_CONSTRAINT_PRIMARYKEY = SQLITE_CONSTRAINT_PRIMARYKEY;

/// Process-wide settings, applied before SQLite initialises (`sqlite3_config` is variadic, which
/// Swift cannot call). Memory statistics off: with them on, every SQLite allocation in every
/// worker thread takes the same global mutex. Returns SQLITE_MISUSE if SQLite already started.
static inline int csqlite_configure_process(void) {
    return sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

#endif
