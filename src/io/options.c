/* What both drivers (TUN and replay) share. */
#include "options.h"

void tl_print_trace(FILE *f, double secs, bool json, const char *line)
{
	/* The core's JSON object starts with '{'; the time goes first in it. */
	if (json && line[0] == '{')
		fprintf(f, "{\"t\":%.6f,%s\n", secs, line + 1);
	else
		fprintf(f, "%.6f %s\n", secs, line);
}
