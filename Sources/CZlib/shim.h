#ifndef PURSER_CZLIB_SHIM_H
#define PURSER_CZLIB_SHIM_H

#include <zlib.h>

/// inflateInit2 is a macro passing the library's version and the stream's size, which Swift cannot import.
static inline int purser_inflate_init2(z_stream *stream, int windowBits) {
    return inflateInit2(stream, windowBits);
}

#endif
