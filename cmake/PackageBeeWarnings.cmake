# Project-wide compile flags: strict warnings (errors unless PB_WERROR=OFF) and
# optional sanitizers. Applied through an interface target so third-party code
# we do not own never sees them.
add_library(pb_build_flags INTERFACE)
target_compile_options(pb_build_flags INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wsign-conversion
  -Wnon-virtual-dtor -Wold-style-cast -Wcast-align -Woverloaded-virtual
  -Wnull-dereference -Wformat=2 -Wimplicit-fallthrough)
if(PB_WERROR)
  target_compile_options(pb_build_flags INTERFACE -Werror)
endif()
# Boost.Asio's own headers trip -Wnull-dereference under -O2 with g++ 12.
target_compile_options(pb_build_flags INTERFACE $<$<CXX_COMPILER_ID:GNU>:-Wno-null-dereference>)
target_compile_definitions(pb_build_flags INTERFACE
  BOOST_ASIO_NO_DEPRECATED BOOST_ASIO_DISABLE_BOOST_COROUTINE)
if(PB_SANITIZE)
  target_compile_options(pb_build_flags INTERFACE
    -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer)
  target_link_options(pb_build_flags INTERFACE -fsanitize=address,undefined)
endif()
