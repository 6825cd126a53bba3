# shmq_warnings(target): the project's warning set, applied per target (never to consumers).
add_library(shmq_warnings INTERFACE)
target_compile_options(shmq_warnings INTERFACE -Wall -Wextra -Wpedantic -Wshadow -Wconversion
                       -Wno-sign-conversion -Wnon-virtual-dtor -Wold-style-cast)
if(PROJECT_IS_TOP_LEVEL AND DEFINED ENV{CI})
  target_compile_options(shmq_warnings INTERFACE -Werror)
endif()
