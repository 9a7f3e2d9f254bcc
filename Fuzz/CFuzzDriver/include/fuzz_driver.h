#ifndef NSD_FUZZ_DRIVER_H
#define NSD_FUZZ_DRIVER_H
#include <stddef.h>
#include <stdint.h>

/// Runs libFuzzer on `test`, with libFuzzer's own command-line flags. SwiftPM gives every
/// executable its own `main`, so the fuzz targets start libFuzzer from theirs.
int nsd_fuzz_main(int argc, char **argv, int (*test)(const uint8_t *data, size_t size));

#endif
