/* Shared by the TUN loop and the replayer: trace printing. */
#ifndef TL_OPTIONS_H
#define TL_OPTIONS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/* Prints one trace event at secs since the start; see docs/trace.md. */
void tl_print_trace(FILE *f, double secs, bool json, const char *line);

#endif
