// CSQLite: SQLite 3 for Swift. SQLITE_TRANSIENT is a macro cast Swift cannot import: a shim gives it.
#include <sqlite3.h>

static inline sqlite3_destructor_type csqlite_transient(void) {
    return SQLITE_TRANSIENT;
}
