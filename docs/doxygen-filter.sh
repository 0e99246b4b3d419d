#!/bin/sh
# Input filter for Doxygen (docs/Doxyfile): every public header opens with a plain
# comment naming the file and describing the module.  Doxygen documents a file's
# functions, macros and typedefs only when the file itself is documented, so this turns
# that opening "/*" (line 1, alone) into "/** @file".  Nothing else changes, so line
# numbers in warnings are those of the real header.
exec sed -e '1s|^/\*$|/** @file|' "$1"
