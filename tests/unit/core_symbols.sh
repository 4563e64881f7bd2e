#!/usr/bin/env bash
# The core is sans-I/O (DESIGN.md 1): every symbol it needs from outside must
# be memory, string formatting or compiler support, never a syscall, a clock
# or a random source. __cpu_model is the compiler's (libgcc, compiler-rt): the
# CPU features __builtin_cpu_supports reads, found by CPUID at start-up, for
# csum_add_vec's choice of AVX2.
set -u
lib=$1
allowed='^(memcpy|memmove|memset|memcmp|malloc|calloc|realloc|free|snprintf|vsnprintf|strlen|__stack_chk_fail|__(asan|ubsan|sanitizer|lsan)_.*|__.*_chk|_GLOBAL_OFFSET_TABLE_|__tls_get_addr|__cpu_model)$'
syms() { nm "$@" "$lib" 2>/dev/null | awk 'NF >= 2 {print $NF}' | sed 's/@.*//' | sort -u; }
external=$(comm -23 <(syms -u) <(syms --defined-only))
[ -n "$external" ] || { echo "FAIL: nm found no symbols in $lib"; exit 1; }
bad=$(grep -Ev "$allowed" <<<"$external")
if [ -n "$bad" ]; then
	echo "FAIL: the core calls outside its allowlist:" $bad
	exit 1
fi
echo "ok: the core needs only:" $external
