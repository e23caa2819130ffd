# Install rules for everything but the two binaries (daemon/ and ctl/ install those), and
# the Debian package: `cpack -G DEB` in a build directory makes packagebee_VERSION_ARCH.deb.
# Paths follow the FHS for a package installed under /usr: units, sysusers.d and
# tmpfiles.d under /usr/lib, the configuration in /etc/packagebee (a conffile).
# .ci/check-package builds the package and checks its contents and units.

# --- systemd integration -------------------------------------------------------------------
# Literal lib/, not CMAKE_INSTALL_LIBDIR: that is lib/x86_64-linux-gnu on Debian, and systemd
# looks in /usr/lib/systemd/system (on Debian 12 /lib is a link to /usr/lib).
set(PB_SYSTEMD_UNIT_DIR "lib/systemd/system" CACHE STRING
    "Where systemd units are installed, relative to the install prefix")
install(FILES
          ${PROJECT_SOURCE_DIR}/systemd/beed.service
          ${PROJECT_SOURCE_DIR}/systemd/beectl-full-sync@.service
          ${PROJECT_SOURCE_DIR}/systemd/beectl-full-sync@.timer
        DESTINATION ${PB_SYSTEMD_UNIT_DIR})
install(FILES ${PROJECT_SOURCE_DIR}/systemd/packagebee.sysusers
        DESTINATION lib/sysusers.d RENAME packagebee.conf)
install(FILES ${PROJECT_SOURCE_DIR}/systemd/packagebee.tmpfiles
        DESTINATION lib/tmpfiles.d RENAME packagebee.conf)

# --- configuration -------------------------------------------------------------------------
# /etc, not ${prefix}/etc: beed's default --config is /etc/packagebee/packagebee.yaml and the
# units name it. (A DESTDIR is still honoured.) 0640 from the start, as it will hold store
# settings; postinst (systemd-tmpfiles) then gives it, and the directory, to group packagebee.
set(PB_CONFIG_DIR /etc/packagebee CACHE PATH "Where the configuration file is installed")
set(PB_CONFFILE ${PB_CONFIG_DIR}/packagebee.yaml)
install(FILES ${PROJECT_SOURCE_DIR}/etc/packagebee.yaml
        DESTINATION ${PB_CONFIG_DIR}
        PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ)

# --- manual pages, gzipped at build time (gzip -n: no name or time stamp, reproducible) ---
find_program(PB_GZIP gzip REQUIRED)
set(_pb_man_pages beectl.1 packagebee.yaml.5 beed.8)
set(_pb_man_outputs)
foreach(_page IN LISTS _pb_man_pages)
  set(_src ${PROJECT_SOURCE_DIR}/docs/man/${_page})
  set(_out ${PROJECT_BINARY_DIR}/man/${_page}.gz)
  string(REGEX REPLACE "^.*\\.([1-9])$" "\\1" _section ${_page})
  add_custom_command(
    OUTPUT ${_out}
    COMMAND ${CMAKE_COMMAND} -E make_directory ${PROJECT_BINARY_DIR}/man
    COMMAND ${PB_GZIP} -9 -n -c ${_src} > ${_out}
    DEPENDS ${_src}
    COMMENT "Compressing manual page ${_page}"
    VERBATIM)
  install(FILES ${_out} DESTINATION ${CMAKE_INSTALL_MANDIR}/man${_section})
  list(APPEND _pb_man_outputs ${_out})
endforeach()
add_custom_target(pb_man_pages ALL DEPENDS ${_pb_man_outputs})

# --- shell completion and documentation ------------------------------------------------------
install(FILES ${PROJECT_SOURCE_DIR}/etc/bash-completion/beectl
        DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions)
install(FILES
          ${PROJECT_SOURCE_DIR}/README.md
          ${PROJECT_SOURCE_DIR}/docs/OPERATIONS.md
          ${PROJECT_SOURCE_DIR}/docs/CONTROL-PROTOCOL.md
          ${PROJECT_SOURCE_DIR}/docs/HTTP-API.md
        DESTINATION ${CMAKE_INSTALL_DOCDIR})

# --- monitoring: Prometheus alert rules and a Grafana dashboard over GET /metrics ----------------
# Data for the operator to copy or link into Prometheus's rule_files and Grafana's provisioning;
# not read by beed. See docs/OPERATIONS.md, "Monitoring".
install(FILES ${PROJECT_SOURCE_DIR}/etc/prometheus/packagebee.rules.yml
        DESTINATION ${CMAKE_INSTALL_DATADIR}/packagebee/prometheus)
install(FILES ${PROJECT_SOURCE_DIR}/etc/grafana/packagebee.json
        DESTINATION ${CMAKE_INSTALL_DATADIR}/packagebee/grafana)

# --- the Debian package ----------------------------------------------------------------------
set(CPACK_PACKAGE_NAME packagebee)
set(CPACK_PACKAGE_VENDOR PackageBee)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "PackageBee Dev <dev@packagebee.invalid>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "self-hosted inventory sync from warehouses to online stores")
# Lines under 80 characters, as Debian wants; the last two are the two kinds of sync.
set(CPACK_PACKAGE_DESCRIPTION
    "beed keeps the stock quantities shown in online stores in line with what the
warehouses hold; beectl controls it.
A Full Sync pushes every SKU's quantity to the store: a first sync, or a repair.
A Smart Sync, hourly by default, pushes only the quantities that changed.")
# Whatever prefix the build tree was configured with, the package installs under /usr.
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)  # packagebee_0.1.0_amd64.deb
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# Library dependencies come from dpkg-shlibdeps (needs the `file` program); the rest are
# the tools the maintainer scripts call, from systemd or its standalone variants, and the CA
# certificates the store connectors verify TLS servers against (OpenSSL's default paths).
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS
    "systemd | systemd-standalone-sysusers | systemd-sysusers, \
systemd | systemd-standalone-tmpfiles | systemd-tmpfiles, ca-certificates")
# mdb_copy, to back up the state while beed runs.
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "lmdb-utils")
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "bash-completion")

set(_pb_conffiles ${PROJECT_BINARY_DIR}/packaging/conffiles)
file(WRITE ${_pb_conffiles} "${PB_CONFFILE}\n")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${_pb_conffiles}
    ${PROJECT_SOURCE_DIR}/systemd/debian/postinst
    ${PROJECT_SOURCE_DIR}/systemd/debian/prerm
    ${PROJECT_SOURCE_DIR}/systemd/debian/postrm)
# 0755 for the scripts, 0644 for conffiles, whatever the checkout's modes are.
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)

# `cpack --config CPackSourceConfig.cmake`: the tree without build directories or git data.
set(CPACK_SOURCE_IGNORE_FILES "/\\.git/" "/build[^/]*/" "/out/" "__pycache__")

include(CPack)
