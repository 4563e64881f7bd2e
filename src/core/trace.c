/* Trace events from their declarations: a text line or a JSON object. */
#include <stdio.h>
#include <string.h>

#include "stack_impl.h"

/* A line being built; what does not fit is cut off. */
struct line {
	char buf[640];
	size_t len;
};

static void put(struct line *l, const char *str, size_t n)
{
	size_t room = sizeof l->buf - 1 - l->len;

	if (n > room)
		n = room;
	memcpy(l->buf + l->len, str, n);
	l->len += n;
	l->buf[l->len] = 0;
}

static void put_str(struct line *l, const char *str) { put(l, str, strlen(str)); }

static const char *ip_str(uint32_t a, char buf[16])
{
	snprintf(buf, 16, "%u.%u.%u.%u", a >> 24, (a >> 16) & 255, (a >> 8) & 255,
		 a & 255);
	return buf;
}

/* The field's value as the text line shows it, or as JSON does (unquoted). */
/* Microseconds as milliseconds, to the microsecond, without trailing zeros. */
static const char *ms_str(int64_t us, char buf[24])
{
	snprintf(buf, 24, "%lld.%03lld", (long long)(us / 1000), (long long)(us % 1000));
	char *end = buf + strlen(buf);
	while (end[-1] == '0')
		*--end = 0;
	if (end[-1] == '.')
		end[-1] = 0;
	return buf;
}

static const char *show(const struct tl_field *f, const struct tl_val *v, bool json,
			char buf[24])
{
	switch (f->kind) {
	case TL_CONST:
		return f->value;
	case TL_STR:
		return v->s ? v->s : "";
	case TL_ADDR:
		return ip_str((uint32_t)v->n, buf);
	case TL_DIR:
		return v->n ? "out" : json ? "in" : "in ";
	case TL_YESNO:
		if (!json)
			return v->n ? "yes" : "no";
		break;
	case TL_WND:
		if (v->n == (int64_t)UINT32_MAX)
			return json ? "0" : "inf";
		break;
	case TL_US:
		if (!json && v->n >= 0)
			return ms_str(v->n, buf);
		break;
	case TL_NUM:
		break;
	}
	snprintf(buf, 24, "%lld", (long long)v->n);
	return buf;
}

static bool json_quoted(enum tl_kind k)
{
	return k == TL_CONST || k == TL_STR || k == TL_ADDR || k == TL_DIR;
}

/* What {?key:...} asks: a value, and not the empty string. */
static bool is_set(const struct tl_field *f, const struct tl_val *v)
{
	return !v->none && !(f->kind == TL_STR && (!v->s || !*v->s));
}

/* Whether name is the len characters at key. */
static bool same_key(const char *name, const char *key, size_t len)
{
	size_t i = 0;

	while (i < len && name[i] == key[i])
		i++;
	return i == len && name[i] == 0;
}

static int field_index(const struct tl_event *ev, const char *key, size_t len)
{
	for (int i = 0; i < TL_EVENT_FIELDS && ev->field[i].key; i++)
		if (same_key(ev->field[i].key, key, len))
			return i;
	return -1;
}

/* The '}' that closes the '{' at t, or the string's end. */
static const char *closing(const char *t)
{
	int depth = 0;

	for (; *t; t++) {
		if (*t == '{')
			depth++;
		else if (*t == '}' && --depth == 0)
			break;
	}
	return t;
}

/* Appends the template [t, end) with each {key} and {?key:...} filled in. */
static void put_text(struct line *l, const char *t, const char *end,
		     const struct tl_event *ev, const struct tl_val *v)
{
	char buf[24];

	while (t < end) {
		const char *lit = t;
		while (t < end && *t != '{')
			t++;
		put(l, lit, (size_t)(t - lit));
		if (t == end)
			return;
		const char *close = closing(t);
		bool cond = t[1] == '?';
		const char *key = t + 1 + cond, *colon = key;
		while (colon < close && *colon != ':')
			colon++;
		int i = field_index(ev, key, (size_t)(colon - key));
		if (i < 0)
			put(l, t, (size_t)(close - t) + (*close != 0)); /* shown as it is */
		else if (!cond && !v[i].none)
			put_str(l, show(&ev->field[i], &v[i], false, buf));
		else if (is_set(&ev->field[i], &v[i]) && colon < close)
			put_text(l, colon + 1, close, ev, v);
		t = close + (*close != 0);
	}
}

static size_t json_string(char *out, size_t n, const char *str)
{
	size_t k = 0;

	for (; *str && k + 3 < n; str++) {
		if (*str == '"' || *str == '\\')
			out[k++] = '\\';
		out[k++] = (unsigned char)*str < 0x20 ? ' ' : *str;
	}
	out[k] = 0;
	return k;
}

static void put_json(struct line *l, const struct tl_event *ev, const struct tl_val *v,
		     size_t n)
{
	char buf[24], str[192];

	put_str(l, "{\"ev\":\"");
	put_str(l, ev->name);
	put_str(l, "\"");
	for (size_t i = 0; i < n; i++) {
		const struct tl_field *f = &ev->field[i];
		if (v[i].none)
			continue;
		put_str(l, ",\"");
		put_str(l, f->key);
		put_str(l, "\":");
		if (!json_quoted(f->kind)) {
			put_str(l, show(f, &v[i], true, buf));
			continue;
		}
		json_string(str, sizeof str, show(f, &v[i], true, buf));
		put_str(l, "\"");
		put_str(l, str);
		put_str(l, "\"");
	}
	put_str(l, "}");
}

/* Pairs each field with its value, constants with none; the field count, or
 * -1 when the call gave a different number of values. */
static int pair_values(const struct tl_event *ev, const struct tl_val *v, size_t n,
		       struct tl_val out[TL_EVENT_FIELDS])
{
	size_t used = 0;
	int i;

	for (i = 0; i < TL_EVENT_FIELDS && ev->field[i].key; i++) {
		if (ev->field[i].kind == TL_CONST)
			out[i] = (struct tl_val){ .s = ev->field[i].value };
		else if (used < n)
			out[i] = v[used++];
		else
			return -1;
	}
	return used == n ? i : -1;
}

void tl_trace_emit(tl_stack *s, const struct tl_event *ev, const struct tl_val *v, size_t n)
{
	struct tl_val all[TL_EVENT_FIELDS];
	struct line l = { .len = 0 };

	if (!s->cfg.trace)
		return;
	int fields = pair_values(ev, v, n, all);
	if (fields < 0) {
		snprintf(l.buf, sizeof l.buf, "trace event %s: %zu values do not match its fields",
			 ev->name, n);
	} else if (s->cfg.trace_json) {
		put_json(&l, ev, all, (size_t)fields);
	} else {
		put_text(&l, ev->text, ev->text + strlen(ev->text), ev, all);
	}
	s->cfg.trace(s->cfg.trace_ctx, s->now, l.buf);
}
