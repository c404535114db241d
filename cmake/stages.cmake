# infermem_stage(<stage> [PUBLIC libs...] [PRIVATE libs...]): the static library infermem_<stage>
# from src/<stage>/*.cpp. Its public headers are include/<stage>/infermem/*.h (included as
# "infermem/x.h", installed flattened by cmake/install.cmake) and its private ones src/<stage>/*.h
# (included as "<stage>/x.h"). A stage sees its own private headers and the public headers of the
# stages it links, nothing else, so an include against an edge does not compile.
function(infermem_stage stage)
  cmake_parse_arguments(ARG "" "" "PUBLIC;PRIVATE" ${ARGN})
  file(GLOB sources CONFIGURE_DEPENDS "${CMAKE_SOURCE_DIR}/src/${stage}/*.cpp")
  list(REMOVE_ITEM sources "${INFERMEM_SANITIZER_OPTIONS}")
  add_library(infermem_${stage} STATIC ${sources})
  set_property(GLOBAL APPEND PROPERTY INFERMEM_STAGES ${stage})  # installed by cmake/install.cmake
  # "<stage>/x.h" resolves through a folder that holds this stage alone.
  set(view "${CMAKE_BINARY_DIR}/stage-private/${stage}")
  file(MAKE_DIRECTORY "${view}")
  file(CREATE_LINK "${CMAKE_SOURCE_DIR}/src/${stage}" "${view}/${stage}" SYMBOLIC)
  target_include_directories(infermem_${stage}
    PUBLIC "$<BUILD_INTERFACE:${CMAKE_SOURCE_DIR}/include/${stage}>"
    PRIVATE "${view}")
  target_link_libraries(infermem_${stage} PUBLIC ${ARG_PUBLIC} PRIVATE ${ARG_PRIVATE})
endfunction()

# The libraries a target links, directly or through any library it links, as target names and
# plain library names ($<LINK_ONLY:x>, $<BUILD_INTERFACE:x> unwrapped), each once.
function(infermem_linked_closure target out)
  set(seen "")
  set(todo "${target}")
  while(todo)
    list(POP_FRONT todo current)
    if(NOT TARGET "${current}")
      continue()
    endif()
    get_target_property(type "${current}" TYPE)
    set(direct "")
    if(NOT type STREQUAL "INTERFACE_LIBRARY")
      get_target_property(own "${current}" LINK_LIBRARIES)
      if(own)
        list(APPEND direct ${own})
      endif()
    endif()
    get_target_property(iface "${current}" INTERFACE_LINK_LIBRARIES)
    if(iface)
      list(APPEND direct ${iface})
    endif()
    foreach(lib ${direct})
      string(REGEX REPLACE "^\\$<(LINK_ONLY|BUILD_INTERFACE):(.*)>$" "\\2" lib "${lib}")
      if(lib MATCHES "^\\$<" OR lib STREQUAL "")
        continue()  # another generator expression: not an edge between stages
      endif()
      if(TARGET "${lib}")
        get_target_property(aliased "${lib}" ALIASED_TARGET)
        if(aliased)
          set(lib "${aliased}")
        endif()
      endif()
      if(NOT lib IN_LIST seen)
        list(APPEND seen "${lib}")
        list(APPEND todo "${lib}")
      endif()
    endforeach()
  endwhile()
  set(${out} "${seen}" PARENT_SCOPE)
endfunction()

# infermem_expect_links(<target> [LINKS libs...] [NOT libs...]): a configure-time check of the
# edges. Each LINKS library must be linked by <target> (directly or through another library), and
# no NOT library may be: an edge added by mistake (a test program that starts linking the whole
# app, a stage that starts linking ONNX Runtime) stops the configuration, naming the path.
function(infermem_expect_links target)
  cmake_parse_arguments(ARG "" "" "LINKS;NOT" ${ARGN})
  infermem_linked_closure("${target}" closure)
  foreach(lib ${ARG_LINKS})
    if(NOT lib IN_LIST closure)
      message(FATAL_ERROR "${target} must link ${lib} but does not (it links: ${closure})")
    endif()
  endforeach()
  foreach(lib ${ARG_NOT})
    if(lib IN_LIST closure)
      # Which library it links brings it in: the first one whose own closure holds it.
      set(via "")
      foreach(step ${closure})
        infermem_linked_closure("${step}" step_closure)
        if(step STREQUAL lib OR lib IN_LIST step_closure)
          if(NOT step STREQUAL lib)
            set(via " (through ${step})")
          endif()
          break()
        endif()
      endforeach()
      message(FATAL_ERROR "${target} must not link ${lib}, but it does${via}: an edge against "
                          "the architecture (docs/architecture.md, the stages and their edges)")
    endif()
  endforeach()
endfunction()

# The infermem stage libraries in a target's link closure (for the architecture's tables).
function(infermem_linked_stages target out)
  infermem_linked_closure("${target}" closure)
  list(APPEND closure "${target}")
  get_property(stages GLOBAL PROPERTY INFERMEM_STAGES)
  set(linked "")
  foreach(stage ${stages})
    if("infermem_${stage}" IN_LIST closure)
      list(APPEND linked ${stage})
    endif()
  endforeach()
  set(${out} "${linked}" PARENT_SCOPE)
endfunction()

# infermem_expect_stages(<target> <stage>...): the infermem stages <target> links (directly or
# through other libraries) are exactly these, and ONNX Runtime is linked only when workload is
# one of them. The edges of each stage and of each test program are checked this way at the end
# of CMakeLists.txt.
function(infermem_expect_stages target)
  get_property(all GLOBAL PROPERTY INFERMEM_STAGES)
  set(expected ${ARGN})
  if(target MATCHES "^infermem_(.+)$" AND CMAKE_MATCH_1 IN_LIST all)
    list(APPEND expected ${CMAKE_MATCH_1})  # a stage links itself, as it were
  endif()
  set(wanted "")
  set(unwanted "")
  foreach(stage ${all})
    if(stage IN_LIST expected)
      list(APPEND wanted infermem_${stage})
    elseif(NOT target STREQUAL "infermem_${stage}")
      list(APPEND unwanted infermem_${stage})
    endif()
  endforeach()
  if(NOT "workload" IN_LIST expected)
    list(APPEND unwanted onnxruntime)
  endif()
  list(REMOVE_ITEM wanted "${target}")
  infermem_expect_links("${target}" LINKS ${wanted} NOT ${unwanted})
  # `cmake --log-level=VERBOSE`: what each checked target links, in stages and translation units.
  infermem_linked_closure("${target}" closure)
  get_target_property(own "${target}" SOURCES)
  list(LENGTH own units)
  list(REMOVE_ITEM closure "${target}")
  set(libs "")
  foreach(lib ${closure})
    if(TARGET "${lib}" AND lib MATCHES "^infermem_")
      get_target_property(type "${lib}" TYPE)
      if(type STREQUAL "STATIC_LIBRARY")
        get_target_property(lib_sources "${lib}" SOURCES)
        list(LENGTH lib_sources n)
        math(EXPR units "${units} + ${n}")
        list(APPEND libs "${lib}")
      endif()
    endif()
  endforeach()
  infermem_linked_stages("${target}" stages)
  list(LENGTH stages n_stages)
  message(VERBOSE "links: ${target}: ${n_stages} stages (${stages}), ${units} translation units "
                  "(its own and those of ${libs})")
endfunction()
