# infermem::client: the probe, RequestScope, the loop check and the GoogleTest assertions
# (gtest.hpp) for a user's own tests and services, as one static library whose link interface is
# the C++ standard library and the OS (pthreads) alone. Its sources are the stages' own files,
# compiled once more into this library: fmt is compiled in header-only and nlohmann_json is a
# header library, both private, so a user links neither, nor ONNX Runtime, Protobuf, OpenSSL,
# toml++ or prometheus-cpp. The headers it ships include the standard library only (a consumer
# test, tests/consumer/client, builds against an install of this component alone).
#
#   cmake --install build --component client --prefix P
#   find_package(infermem_client CONFIG REQUIRED)  ->  infermem::client
#   pkg-config --cflags --libs infermem-client
#
# Link infermem::client or the full infermem::infermem, not both: they hold the same symbols.
set(INFERMEM_CLIENT_SOURCES
  src/common/figure.cpp src/common/numbers.cpp src/common/text.cpp src/common/units.cpp
  src/probe/probe.cpp src/probe/proc_parse.cpp src/probe/proc_reader.cpp
  src/probe/request_scope.cpp src/probe/sampler.cpp
  src/verdict/finding_text.cpp src/verdict/fragmentation.cpp src/verdict/in_use_rate.cpp
  src/verdict/judge.cpp src/verdict/patterns.cpp src/verdict/series_analysis.cpp
  src/verdict/stats.cpp src/verdict/verdict_json.cpp
  src/app/loop_check.cpp)
list(TRANSFORM INFERMEM_CLIENT_SOURCES PREPEND "${CMAKE_SOURCE_DIR}/")
# The public headers a client user includes; each includes only the standard library and these.
set(INFERMEM_CLIENT_HEADERS
  include/app/infermem/gtest.hpp include/app/infermem/loop_check.h
  include/probe/infermem/probe.h include/probe/infermem/request_scope.h
  include/probe/infermem/sampler.h
  include/common/infermem/figure.h include/common/infermem/phase.h
  include/common/infermem/series.h
  include/common/infermem/units.h)
list(TRANSFORM INFERMEM_CLIENT_HEADERS PREPEND "${CMAKE_SOURCE_DIR}/")

add_library(infermem_client STATIC ${INFERMEM_CLIENT_SOURCES})
set_target_properties(infermem_client PROPERTIES EXPORT_NAME client)
add_library(infermem::client ALIAS infermem_client)
set(client_private "")
foreach(stage common probe verdict app trace)
  list(APPEND client_private "${CMAKE_SOURCE_DIR}/include/${stage}"
       "${CMAKE_BINARY_DIR}/stage-private/${stage}")
endforeach()
target_include_directories(infermem_client
  PUBLIC "$<BUILD_INTERFACE:${CMAKE_SOURCE_DIR}/include/common>"
         "$<BUILD_INTERFACE:${CMAKE_SOURCE_DIR}/include/probe>"
         "$<BUILD_INTERFACE:${CMAKE_SOURCE_DIR}/include/app>"
         "$<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>"
  PRIVATE ${client_private} "${CMAKE_BINARY_DIR}/generated")
target_link_libraries(infermem_client PUBLIC Threads::Threads
  PRIVATE "$<BUILD_INTERFACE:fmt::fmt-header-only>" "$<BUILD_INTERFACE:nlohmann_json::nlohmann_json>")

install(TARGETS infermem_client EXPORT infermemClientTargets COMPONENT client
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT client)
install(FILES ${INFERMEM_CLIENT_HEADERS} DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/infermem
        COMPONENT client)
install(EXPORT infermemClientTargets NAMESPACE infermem::
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/infermem_client COMPONENT client)
file(WRITE "${CMAKE_BINARY_DIR}/package/infermem_clientConfig.cmake"
"# infermem::client: the probe, RequestScope and the GoogleTest assertions; needs only pthreads.
include(CMakeFindDependencyMacro)
set(THREADS_PREFER_PTHREAD_FLAG ON)
find_dependency(Threads)
include(\"\${CMAKE_CURRENT_LIST_DIR}/infermemClientTargets.cmake\")
")
write_basic_package_version_file("${CMAKE_BINARY_DIR}/package/infermem_clientConfigVersion.cmake"
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMinorVersion)
install(FILES "${CMAKE_BINARY_DIR}/package/infermem_clientConfig.cmake"
        "${CMAKE_BINARY_DIR}/package/infermem_clientConfigVersion.cmake"
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/infermem_client COMPONENT client)
file(WRITE "${CMAKE_BINARY_DIR}/package/infermem-client.pc"
"prefix=\${pcfiledir}/../..
libdir=\${prefix}/${CMAKE_INSTALL_LIBDIR}
includedir=\${prefix}/${CMAKE_INSTALL_INCLUDEDIR}

Name: infermem-client
Description: infermem's probe, RequestScope and GoogleTest memory assertions (no dependencies)
Version: ${PROJECT_VERSION}
Cflags: -I\${includedir}
Libs: -L\${libdir} -linfermem_client -pthread
")
install(FILES "${CMAKE_BINARY_DIR}/package/infermem-client.pc"
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig COMPONENT client)
