// CLibpq: PostgreSQL's client library (libpq 15) for Swift.
#include <libpq-fe.h>
