# What `cmake --install` puts where (GNUInstallDirs), and the Debian package CPack builds
# from the same rules (docs/install.md). Included from the top-level CMakeLists.txt after every
# target is defined.
include(GNUInstallDirs)
# `cmake --install` and CPack install what is built: they do not build every target first (the
# package test runs cpack from ctest, after the build).
set(CMAKE_SKIP_INSTALL_ALL_DEPENDENCY ON)

install(TARGETS netsim RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(FILES scenarios/schema/scenario.schema.json DESTINATION ${CMAKE_INSTALL_DATADIR}/netsim)
install(FILES README.md DESTINATION ${CMAKE_INSTALL_DOCDIR})
install(DIRECTORY docs/ DESTINATION ${CMAKE_INSTALL_DOCDIR})

# The bundled scenarios are the examples: DOCDIR/examples/<folder>/<name>.json, the guards' skip
# marker with them. Their `$schema` is "../schema/scenario.schema.json", so examples/schema is a
# relative link to the one installed copy of the schema.
install(DIRECTORY scenarios/ DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples
        FILES_MATCHING PATTERN "*.json" PATTERN ".netsim-check-skip" PATTERN "schema" EXCLUDE)
file(RELATIVE_PATH NETSIM_SCHEMA_LINK
     /${CMAKE_INSTALL_DOCDIR}/examples/schema /${CMAKE_INSTALL_DATADIR}/netsim/scenario.schema.json)
install(CODE "
  set(dir \"\$ENV{DESTDIR}\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_DOCDIR}/examples/schema\")
  file(MAKE_DIRECTORY \"\${dir}\")
  file(CREATE_LINK \"${NETSIM_SCHEMA_LINK}\" \"\${dir}/scenario.schema.json\" SYMBOLIC)
  message(STATUS \"Installing: \${dir}/scenario.schema.json -> ${NETSIM_SCHEMA_LINK}\")")

# The man page netsim.1 and the bash and zsh completion scripts, written at build time by the
# netsim just built from its own command line definitions (`netsim help`, scenarios/cli_doc.h).
set(NETSIM_CLI_DOCS_DIR ${CMAKE_BINARY_DIR}/generated)
set(NETSIM_CLI_DOCS ${NETSIM_CLI_DOCS_DIR}/netsim.1 ${NETSIM_CLI_DOCS_DIR}/netsim.bash
                    ${NETSIM_CLI_DOCS_DIR}/_netsim)
add_custom_command(
  OUTPUT ${NETSIM_CLI_DOCS}
  COMMAND ${CMAKE_COMMAND} -DNETSIM=$<TARGET_FILE:netsim> -DOUT=${NETSIM_CLI_DOCS_DIR}
          -P ${CMAKE_SOURCE_DIR}/cmake/generate_cli_docs.cmake
  DEPENDS netsim cmake/generate_cli_docs.cmake
  COMMENT "Generating netsim.1 and the completion scripts")
add_custom_target(netsim_cli_docs ALL DEPENDS ${NETSIM_CLI_DOCS})
install(FILES ${NETSIM_CLI_DOCS_DIR}/netsim.1 DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
install(FILES ${NETSIM_CLI_DOCS_DIR}/netsim.bash
        DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions RENAME netsim)
install(FILES ${NETSIM_CLI_DOCS_DIR}/_netsim DESTINATION ${CMAKE_INSTALL_DATADIR}/zsh/vendor-completions)

# The library (docs/library.md): libnetsim.a and its public headers, netsim's internal static
# libraries it links, and the package config for find_package(netsim).
include(CMakePackageConfigHelpers)
install(TARGETS netsim_api netsim_scenarios netsim_viz netsim_net netsim_stack netsim_sim
        EXPORT netsimTargets ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY include/netsim DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
set(NETSIM_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/netsim)
install(EXPORT netsimTargets NAMESPACE netsim:: DESTINATION ${NETSIM_CMAKE_DIR})
configure_package_config_file(cmake/netsimConfig.cmake.in ${CMAKE_BINARY_DIR}/netsimConfig.cmake
                              INSTALL_DESTINATION ${NETSIM_CMAKE_DIR})
write_basic_package_version_file(${CMAKE_BINARY_DIR}/netsimConfigVersion.cmake
                                 COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_BINARY_DIR}/netsimConfig.cmake ${CMAKE_BINARY_DIR}/netsimConfigVersion.cmake
        DESTINATION ${NETSIM_CMAKE_DIR})

# `cpack -G DEB` (or `cpack --config CPackConfig.cmake`): netsim_VERSION_amd64.deb installing
# under /usr; the library dependencies are computed by dpkg-shlibdeps.
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME netsim)
set(CPACK_PACKAGE_VENDOR "netsim maintainers")
set(CPACK_PACKAGE_CONTACT "netsim maintainers <maintainers@users.noreply.r-seed-ca5c2f4a.example>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "deterministic discrete-event network simulator")
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION
    "deterministic discrete-event network simulator\n\
netsim runs JSON scenarios (hosts, interfaces, addresses, links, a timeline of binds,\n\
listens, connects, sends, closes and address changes) in virtual time with an IPv4/IPv6\n\
UDP/TCP stack per host, writes a JSONL trace of every packet and delivery decision,\n\
checks the scenario's expectations and exports pcapng, Perfetto JSON, Graphviz, Mermaid\n\
and a single-file HTML viewer. The package also holds libnetsim.a, its\n\
headers (<netsim/netsim.h>) and the CMake package config for find_package(netsim).")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# Building a program against the library (find_package(netsim)) also needs these.
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "cmake, g++, nlohmann-json3-dev, libssl-dev")
set(CPACK_STRIP_FILES ON)
include(CPack)
