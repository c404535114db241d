# The test programs: one GoogleTest program per tests/<folder>, each linking only the stages it
# tests and the support libraries it needs, and the support libraries themselves.
#
#   infermem_test_files    tests/support/files.*: temp dirs, whole files, programs on PATH,
#                          promtool; the test data's folder. Links common only.
#   infermem_test_cli      tests/support/run_helpers.*: runs the built CLI (and generated_model,
#                          through `infermem gen-model`). Links infermem_test_files only.
#   infermem_test_support  the rest of tests/support (hand-made ONNX models through the ONNX
#                          protobufs, headless Chromium, the watch exporter's and Prometheus's
#                          helpers over cpp-httplib). Links infermem_test_cli.
#
# The TSan configuration (INFERMEM_TSAN_ONLY) builds infermem_test_files alone.
set(INFERMEM_TEST_SUPPORT_DIR "${CMAKE_SOURCE_DIR}/tests/support")
add_library(infermem_test_files STATIC "${INFERMEM_TEST_SUPPORT_DIR}/files.cpp")
# "support/x.h", and a test folder's own headers as "<folder>/x.h" (verdict/synthetic.h).
target_include_directories(infermem_test_files PUBLIC "${CMAKE_SOURCE_DIR}/tests")
target_link_libraries(infermem_test_files PUBLIC infermem_common GTest::gtest)
target_compile_definitions(infermem_test_files PUBLIC
  INFERMEM_SOURCE_DIR="${CMAKE_SOURCE_DIR}"
  INFERMEM_TESTDATA_DIR="${CMAKE_SOURCE_DIR}/tests/data")

if(NOT INFERMEM_TSAN_ONLY)
  add_library(infermem_test_cli STATIC "${INFERMEM_TEST_SUPPORT_DIR}/run_helpers.cpp")
  target_link_libraries(infermem_test_cli PUBLIC infermem_test_files)
  target_compile_definitions(infermem_test_cli PUBLIC
    INFERMEM_HELPER_DIR="${CMAKE_BINARY_DIR}/test-helpers"
    INFERMEM_BIN="$<TARGET_FILE:infermem>")

  file(GLOB support_sources CONFIGURE_DEPENDS "${INFERMEM_TEST_SUPPORT_DIR}/*.cpp")
  list(REMOVE_ITEM support_sources "${INFERMEM_TEST_SUPPORT_DIR}/files.cpp"
       "${INFERMEM_TEST_SUPPORT_DIR}/run_helpers.cpp")
  add_library(infermem_test_support STATIC ${support_sources})
  # cpp-httplib (Debian builds it as a library, with pkg-config's defines): the watch metrics
  # tests talk to the exporter and to a real Prometheus server over 127.0.0.1.
  find_package(PkgConfig REQUIRED)
  pkg_check_modules(CPP_HTTPLIB REQUIRED IMPORTED_TARGET cpp-httplib)
  target_link_libraries(infermem_test_support PUBLIC infermem_test_cli PkgConfig::CPP_HTTPLIB
                        PRIVATE onnx_proto protobuf::libprotobuf)
endif()

# infermem_test_program(<folder> LINKS libs... [NO_DISCOVERY]): the program test_<folder> from
# tests/<folder>/*_test.cpp, linking exactly `libs` (and GoogleTest). It sees the public headers
# of what it links and the private headers (src/<stage>/) of each stage it names in LINKS, no
# other. A program that links infermem_test_cli or infermem_test_support runs the CLI, so it is
# built after it and the helper programs. Its cases are registered with ctest under the label
# unit unless NO_DISCOVERY is given (the caller registers them).
function(infermem_test_program folder)
  cmake_parse_arguments(ARG "NO_DISCOVERY" "" "LINKS" ${ARGN})
  file(GLOB sources CONFIGURE_DEPENDS "${CMAKE_SOURCE_DIR}/tests/${folder}/*_test.cpp")
  if(NOT sources)
    message(FATAL_ERROR "infermem_test_program(${folder}): no tests/${folder}/*_test.cpp")
  endif()
  set(program test_${folder})
  add_executable(${program} ${sources} "${INFERMEM_SANITIZER_OPTIONS}")
  target_link_libraries(${program} PRIVATE ${ARG_LINKS} GTest::gtest_main GTest::gmock)
  get_property(stages GLOBAL PROPERTY INFERMEM_STAGES)
  foreach(lib ${ARG_LINKS})
    if(lib MATCHES "^infermem_(.+)$" AND CMAKE_MATCH_1 IN_LIST stages)
      target_include_directories(${program} PRIVATE
                                 "${CMAKE_BINARY_DIR}/stage-private/${CMAKE_MATCH_1}")
    endif()
  endforeach()
  if("infermem_test_cli" IN_LIST ARG_LINKS OR "infermem_test_support" IN_LIST ARG_LINKS)
    add_dependencies(${program} infermem ${INFERMEM_TEST_HELPER_TARGETS})
  endif()
  set_property(GLOBAL APPEND PROPERTY INFERMEM_TEST_PROGRAMS ${program})
  if(NOT ARG_NO_DISCOVERY)
    gtest_discover_tests(${program} DISCOVERY_MODE PRE_TEST DISCOVERY_TIMEOUT 60
                         PROPERTIES TIMEOUT 900 LABELS unit)
  endif()
endfunction()

# Every folder of tests/ with *_test.cpp files must have its program (a new folder is not
# silently left out of ctest).
function(infermem_expect_every_test_folder_built)
  get_property(programs GLOBAL PROPERTY INFERMEM_TEST_PROGRAMS)
  file(GLOB dirs LIST_DIRECTORIES true "${CMAKE_SOURCE_DIR}/tests/*")
  foreach(dir ${dirs})
    file(GLOB sources "${dir}/*_test.cpp")
    get_filename_component(folder "${dir}" NAME)
    if(IS_DIRECTORY "${dir}" AND sources AND NOT "test_${folder}" IN_LIST programs)
      message(FATAL_ERROR "tests/${folder} has tests but no infermem_test_program(${folder} ...) "
                          "in CMakeLists.txt")
    endif()
  endforeach()
endfunction()
