# shmq_warnings(target): the project's warning set, applied per target (never to consumers).
add_library(shmq_warnings INTERFACE)
target_compile_options(shmq_warnings INTERFACE -Wall -Wextra -Wpedantic -Wshadow -Wconversion
                       -Wno-sign-conversion -Wnon-virtual-dtor -Wold-style-cast
                       # GCC 12 reports false -Wrestrict positives inside libstdc++'s std::string at -O3
                       # (GCC bug 105329); the warning stays on for other compilers.
                       $<$<AND:$<CXX_COMPILER_ID:GNU>,$<VERSION_LESS:$<CXX_COMPILER_VERSION>,13>>:-Wno-restrict>)
if(PROJECT_IS_TOP_LEVEL AND DEFINED ENV{CI})
  target_compile_options(shmq_warnings INTERFACE -Werror)
endif()
