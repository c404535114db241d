# `cmake --install build --prefix P` lays out an installed infermem:
#   P/include/infermem/*.h        every stage's public headers, flattened (includes: "infermem/x.h")
#   P/lib/libinfermem_<stage>.a   one static library per stage
#   P/bin/infermem                the CLI
#   P/lib/cmake/infermem/         find_package(infermem CONFIG REQUIRED) -> infermem::infermem
#                                 (every stage alone too: infermem::infermem_cache, ...)
#   P/lib/pkgconfig/infermem.pc   pkg-config --cflags --libs infermem
# The package finds its dependencies again on the user's machine (find_dependency); ONNX Runtime
# comes from ONNXRUNTIME_ROOT when the user sets it, else from the path recorded here at install.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

get_property(INFERMEM_STAGES GLOBAL PROPERTY INFERMEM_STAGES)
set(INFERMEM_STAGE_TARGETS "")
foreach(stage ${INFERMEM_STAGES})
  list(APPEND INFERMEM_STAGE_TARGETS infermem_${stage})
  file(GLOB stage_headers CONFIGURE_DEPENDS "${CMAKE_SOURCE_DIR}/include/${stage}/infermem/*.h"
       "${CMAKE_SOURCE_DIR}/include/${stage}/infermem/*.hpp")
  install(FILES ${stage_headers} DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/infermem)
endforeach()
install(FILES "${CMAKE_BINARY_DIR}/generated/infermem/version.h"
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/infermem)

install(TARGETS ${INFERMEM_STAGE_TARGETS} infermem_lib EXPORT infermemTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(TARGETS infermem RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(EXPORT infermemTargets NAMESPACE infermem::
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/infermem)

# The ONNX Runtime this build used, for users who do not set ONNXRUNTIME_ROOT themselves.
set(INFERMEM_ORT_LIBRARY "${ONNXRUNTIME_LIBRARY}")
set(INFERMEM_ORT_INCLUDE_DIR "${ONNXRUNTIME_INCLUDE_DIR}")
configure_package_config_file(cmake/infermemConfig.cmake.in
  "${CMAKE_BINARY_DIR}/package/infermemConfig.cmake"
  INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/infermem)
write_basic_package_version_file("${CMAKE_BINARY_DIR}/package/infermemConfigVersion.cmake"
  COMPATIBILITY SameMinorVersion)
install(FILES "${CMAKE_BINARY_DIR}/package/infermemConfig.cmake"
        "${CMAKE_BINARY_DIR}/package/infermemConfigVersion.cmake"
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/infermem)

# pkg-config: static libraries in dependency order (users first, what they use last).
set(INFERMEM_PC_LIBS "")
set(INFERMEM_STAGE_LINK_ORDER app report workload cache interpret verdict trace probe common)
foreach(stage ${INFERMEM_STAGE_LINK_ORDER})
  if(stage IN_LIST INFERMEM_STAGES)
    string(APPEND INFERMEM_PC_LIBS " -linfermem_${stage}")
  endif()
endforeach()
foreach(stage ${INFERMEM_STAGES})  # a stage added later, not in the list above
  if(NOT stage IN_LIST INFERMEM_STAGE_LINK_ORDER)
    string(PREPEND INFERMEM_PC_LIBS " -linfermem_${stage}")
  endif()
endforeach()
get_filename_component(INFERMEM_ORT_LIBDIR "${ONNXRUNTIME_LIBRARY}" DIRECTORY)
configure_file(cmake/infermem.pc.in "${CMAKE_BINARY_DIR}/package/infermem.pc" @ONLY)
install(FILES "${CMAKE_BINARY_DIR}/package/infermem.pc"
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
