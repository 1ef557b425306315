#ifndef FLIGHTLOG_CDEFLATE_SHIM_H
#define FLIGHTLOG_CDEFLATE_SHIM_H
// libdeflate: whole-buffer DEFLATE/zlib decompression, several times faster than zlib's streaming inflate. Used only
// by the aggregator's `verify` to re-inflate stored batches (see StoredPayload.swift); the agent does not link it.
#include <libdeflate.h>
#endif
