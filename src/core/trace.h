/*
 * Trace events. Each event is declared once, as a struct tl_event next to
 * the code that emits it: its name, its fields and its text line. Both the
 * text line and the JSON object come from that declaration; a protocol
 * function makes one TL_TRACE call per event. Private.
 */
#ifndef TL_TRACE_H
#define TL_TRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tcplab/stack.h"

/* How a field's value is shown, in the text line and in JSON. */
enum tl_kind {
	TL_NUM,	  /* a number */
	TL_STR,	  /* a string */
	TL_ADDR,  /* an IPv4 address, as "a.b.c.d" */
	TL_DIR,	  /* 0 in, 1 out: "in " or "out" in text, "in" or "out" in JSON */
	TL_YESNO, /* "yes" or "no" in text, 1 or 0 in JSON */
	TL_WND,	  /* a window, UINT32_MAX infinite: "inf" in text, 0 in JSON */
	TL_US,	  /* microseconds: milliseconds in text ("0.152", "200"), microseconds in JSON */
	TL_CONST, /* a string the declaration fixes; a call passes no value for it */
};

struct tl_field {
	const char *key;
	enum tl_kind kind;
	const char *value; /* TL_CONST only */
};
#define TL_FIELD(key, kind) { (key), (kind), NULL }
#define TL_CONST_FIELD(key, value) { (key), TL_CONST, (value) }

#define TL_EVENT_FIELDS 16
struct tl_event {
	const char *name; /* "ev" in JSON */
	/* The text line: {key} is that field's value; {?key:more text} is the
	 * text after the colon when the field has a value and it is not "". */
	const char *text;
	struct tl_field field[TL_EVENT_FIELDS]; /* in JSON order, up to the first without a key */
};

/* One value of a call, in the order of the event's fields, constants left out. */
struct tl_val {
	int64_t n;
	const char *s;
	bool none; /* no value: left out of the JSON object */
};
#define TL_N(v) ((struct tl_val){ .n = (int64_t)(v) })
#define TL_S(v) ((struct tl_val){ .s = (v) })
#define TL_NONE ((struct tl_val){ .none = true })
#define TL_IF(cond, v) ((cond) ? (v) : TL_NONE)

/* Emits ev with values v[0 .. n) to the trace callback, as text or JSON. */
void tl_trace_emit(tl_stack *s, const struct tl_event *ev, const struct tl_val *v, size_t n);

/* TL_TRACE(s, &ev, values...): the values are computed only when tracing. */
#define TL_TRACE(s, ev, ...)                                                         \
	do {                                                                         \
		if (tl_tracing(s)) {                                                 \
			const struct tl_val tl_vals_[] = { __VA_ARGS__ };            \
			tl_trace_emit((s), (ev), tl_vals_,                           \
				      sizeof tl_vals_ / sizeof tl_vals_[0]);         \
		}                                                                    \
	} while (0)

#endif
