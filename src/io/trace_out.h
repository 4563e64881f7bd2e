#ifndef TL_TRACE_OUT_H
#define TL_TRACE_OUT_H

#include <stdbool.h>
#include <stdio.h>

/* Prints one trace event at secs since the start; see docs/trace.md. */
void tl_print_trace(FILE *f, double secs, bool json, const char *line);

#endif
