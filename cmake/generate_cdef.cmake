# Turns certsync.h into a Lua module returning its declarations for ffi.cdef.
# LuaJIT's cdef parser takes C declarations but no preprocessor lines, so those are dropped.
# (file(READ) + regex rather than file(STRINGS): list handling would split lines at ';'.)
file(READ ${HEADER} text)
string(REGEX REPLACE "\n[ \t]*#[^\n]*" "\n" text "\n${text}")
file(WRITE ${OUTPUT} "-- Generated from certsync.h at build time; do not edit.\nreturn [==[${text}]==]\n")
