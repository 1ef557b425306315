#ifndef FLIGHTLOG_CZLIB_SHIM_H
#define FLIGHTLOG_CZLIB_SHIM_H
#include <zlib.h>

/// deflateInit/inflateInit are macros in zlib.h; Swift cannot call macros with arguments.
static inline int flightlog_deflateInit(z_streamp strm, int level) {
    return deflateInit(strm, level);
}
static inline int flightlog_inflateInit(z_streamp strm) {
    return inflateInit(strm);
}
#endif
