# Writes OUT, a header defining TUTOR_GIT_DESCRIBE as `git describe --always --dirty` of SRC (empty
# without git), and rewrites it only when that changes, so the version a binary prints is the tree
# it was built from without recompiling anything at every build.
set(describe "")
if(GIT)
  execute_process(COMMAND ${GIT} describe --always --dirty WORKING_DIRECTORY ${SRC}
                  OUTPUT_VARIABLE describe OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
endif()
set(content "#pragma once\n#define TUTOR_GIT_DESCRIBE \"${describe}\"\n")
set(old "")
if(EXISTS ${OUT})
  file(READ ${OUT} old)
endif()
if(NOT old STREQUAL content)
  file(WRITE ${OUT} "${content}")
endif()
