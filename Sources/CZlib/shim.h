#ifndef PURSER_CZLIB_SHIM_H
#define PURSER_CZLIB_SHIM_H

#include <zlib.h>

/// inflateInit2 and deflateInit2 are macros passing the library's version and the stream's size, which Swift
/// cannot import.
static inline int purser_inflate_init2(z_stream *stream, int windowBits) {
    return inflateInit2(stream, windowBits);
}

static inline int purser_deflate_init2(z_stream *stream, int level, int windowBits) {
    return deflateInit2(stream, level, Z_DEFLATED, windowBits, 8, Z_DEFAULT_STRATEGY);
}

#endif
