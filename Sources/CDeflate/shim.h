#ifndef FLIGHTLOG_CDEFLATE_SHIM_H
#define FLIGHTLOG_CDEFLATE_SHIM_H
// libdeflate: whole-buffer zlib (RFC 1950) compression and decompression, several times faster than zlib's streaming
// API. The agent compresses its batches with it (Zlib.compress); the aggregator's `verify` re-inflates stored batches
// with it (LibdeflateInflater.swift). Ingest inflates with zlib, the protocol's reference decoder.
#include <libdeflate.h>
#endif
