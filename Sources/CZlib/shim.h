// CZlib: zlib for Swift. The init macros (deflateInit2, inflateInit2) are variadic-free but pass
// version and struct size: they get static inline wrappers Swift can call.
#include <zlib.h>

static inline int czlib_deflate_init2(z_streamp strm, int level, int method, int windowBits,
                                      int memLevel, int strategy) {
    return deflateInit2(strm, level, method, windowBits, memLevel, strategy);
}

static inline int czlib_inflate_init2(z_streamp strm, int windowBits) {
    return inflateInit2(strm, windowBits);
}
