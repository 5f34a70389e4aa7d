cmake_minimum_required(VERSION 3.25)
# cmake -DINPUT=<text file> -DTEMPLATE=<.cpp.in> -DOUTPUT=<.cpp> -P embed_text.cmake
#
# Writes OUTPUT from TEMPLATE with @CONTENT@ replaced by the bytes of INPUT inside a C++ raw
# string literal, and @DELIMITER@ by a delimiter that does not occur in INPUT as ")DELIM\"",
# so no text can end the literal early.
file(READ "${INPUT}" CONTENT)
set(base "custos")
set(DELIMITER "${base}")
set(n 0)
while(TRUE)
  string(FIND "${CONTENT}" ")${DELIMITER}\"" pos)
  if(pos EQUAL -1)
    break()
  endif()
  math(EXPR n "${n} + 1")
  set(DELIMITER "${base}${n}")  # raw-string delimiters may be up to 16 characters
endwhile()
configure_file("${TEMPLATE}" "${OUTPUT}" @ONLY)
