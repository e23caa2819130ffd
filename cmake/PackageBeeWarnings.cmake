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
# False positives from g++ 12 inside Boost.Asio's headers: -Wnull-dereference
# under -O2, and -Wmismatched-new-delete on awaitable frames (Asio pairs its
# own operator new/delete for coroutine frames; g++ 12 misreads the pairing).
target_compile_options(pb_build_flags INTERFACE
  $<$<CXX_COMPILER_ID:GNU>:-Wno-null-dereference -Wno-mismatched-new-delete>)
target_compile_definitions(pb_build_flags INTERFACE
  BOOST_ASIO_NO_DEPRECATED BOOST_ASIO_DISABLE_BOOST_COROUTINE)
if(PB_SANITIZE)
  target_compile_options(pb_build_flags INTERFACE
    -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer)
  target_link_options(pb_build_flags INTERFACE -fsanitize=address,undefined)
endif()
target_compile_definitions(pb_build_flags INTERFACE PACKAGEBEE_VERSION="${PROJECT_VERSION}")
