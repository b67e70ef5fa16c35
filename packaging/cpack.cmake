# packaging/cpack.cmake - installs everything that is not a program (unit,
# init script, conffile, man pages, docs, state and log directories) and
# configures CPack's DEB and RPM generators (docs/packaging.md).
#
# Packages must be built from a tree configured with
# -DCMAKE_INSTALL_PREFIX=/usr, so that /etc, /var and /usr/sbin are where
# Debian and RPM-based systems expect them: scripts/package.sh does this.

set(HOIST_SYSTEMD_UNITDIR "/lib/systemd/system" CACHE PATH "Where hoist-boot.service is installed")
set(HOIST_DOCDIR "${CMAKE_INSTALL_FULL_DATAROOTDIR}/doc/hoist")
set(HOIST_PKG_DIR ${PROJECT_SOURCE_DIR}/packaging)
set(HOIST_PKG_OUT ${PROJECT_BINARY_DIR}/packaging)
file(MAKE_DIRECTORY ${HOIST_PKG_OUT}/dirs/hoist)

# The programs run as root (hoist-release on build machines): full RELRO (bind now) as well as the default
# partial one, as Debian's hardening flags do.
foreach(prog hoist hoist-boot hoist-release)
  if(TARGET ${prog})
    target_link_options(${prog} PRIVATE -Wl,-z,relro -Wl,-z,now)
  endif()
endforeach()

# Start-up: the systemd unit and, for hosts without systemd, the init script.
install(FILES ${PROJECT_SOURCE_DIR}/systemd/hoist-boot.service DESTINATION ${HOIST_SYSTEMD_UNITDIR})
install(PROGRAMS ${PROJECT_SOURCE_DIR}/systemd/hoist-boot.init
  DESTINATION ${CMAKE_INSTALL_FULL_SYSCONFDIR}/init.d RENAME hoist-boot)
install(FILES ${HOIST_PKG_DIR}/hoist.conf DESTINATION ${CMAKE_INSTALL_FULL_SYSCONFDIR}/hoist
  PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)

# State and logs: only root lists deployment state (0711: other users may
# only traverse it, which hooks with `runas` need to reach their scripts in
# revisions/V/tree; the download cache and tmp/ below it are 0700); the adm
# group reads logs (Debian's convention for /var/log). systemd's
# StateDirectory=/LogsDirectory= apply the same modes.
install(DIRECTORY ${HOIST_PKG_OUT}/dirs/hoist DESTINATION ${CMAKE_INSTALL_FULL_LOCALSTATEDIR}/lib
  DIRECTORY_PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_EXECUTE WORLD_EXECUTE)
install(DIRECTORY ${HOIST_PKG_OUT}/dirs/hoist DESTINATION ${CMAKE_INSTALL_FULL_LOCALSTATEDIR}/log
  DIRECTORY_PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE)

# Man pages (mdoc), compressed as Debian policy wants them.
find_program(GZIP_EXECUTABLE gzip REQUIRED)
set(HOIST_MAN_PAGES hoist.8 hoist-boot.8 hoist.conf.5 hoist-user-data.7 hoist-release.1)
set(HOIST_MAN_GZ)
foreach(page IN LISTS HOIST_MAN_PAGES)
  string(REGEX MATCH "[0-9]$" section ${page})
  set(gz ${HOIST_PKG_OUT}/man/${page}.gz)
  add_custom_command(OUTPUT ${gz}
    COMMAND ${CMAKE_COMMAND} -E make_directory ${HOIST_PKG_OUT}/man
    COMMAND ${GZIP_EXECUTABLE} -9nc ${PROJECT_SOURCE_DIR}/man/${page} > ${gz}
    DEPENDS ${PROJECT_SOURCE_DIR}/man/${page} VERBATIM)
  list(APPEND HOIST_MAN_GZ ${gz})
  install(FILES ${gz} DESTINATION ${CMAKE_INSTALL_MANDIR}/man${section})
endforeach()

# Docs: every docs/*.md present, the copyright and the Debian changelog.
file(GLOB HOIST_DOCS CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/docs/*.md)
install(FILES ${HOIST_DOCS} ${HOIST_PKG_DIR}/copyright DESTINATION ${HOIST_DOCDIR})

# Package metadata (shared by DEB and RPM).
set(CPACK_PACKAGE_NAME hoist)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "hoist maintainers <hoist-maintainers@lists.hoist.invalid>" CACHE STRING "Maintainer")
set(CPACK_PACKAGE_VENDOR "the hoist authors")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "boot-time deployment agent for EC2 hosts")
set(CPACK_PACKAGE_DESCRIPTION "hoist deploys a host's release at every boot. A small stub, hoist-boot,
reads the release directive from the EC2 instance user data (IMDSv2),
downloads the versioned bundle from S3 with the instance role while
verifying its SHA-256, and hands over to the agent, hoist, which installs
the bundle's AWS CodeDeploy appspec.yml, runs its lifecycle hooks, keeps
revisions and rolls back to the last good release on failure. hoist-release,
the build side, publishes signed releases and promotes them to channels.")
set(CPACK_PACKAGING_INSTALL_PREFIX ${CMAKE_INSTALL_PREFIX})
set(CPACK_STRIP_FILES ON)
set(CPACK_PACKAGE_FILE_NAME hoist-${PROJECT_VERSION})
set(CPACK_GENERATOR DEB RPM)

# DEB: Depends computed by dpkg-shlibdeps (the runtime libraries only).
set(CPACK_DEBIAN_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_DEBIAN_PACKAGE_RELEASE 1)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION admin)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS OFF)
set(CPACK_DEBIAN_PACKAGE_HOMEPAGE "https://github.com/hoist-deploy/hoist" CACHE STRING "Homepage")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
  ${HOIST_PKG_DIR}/conffiles ${HOIST_PKG_DIR}/postinst ${HOIST_PKG_DIR}/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION TRUE)
# lintian wants the Debian changelog, compressed, in the doc directory.
configure_file(${HOIST_PKG_DIR}/changelog.Debian.in ${HOIST_PKG_OUT}/changelog.Debian @ONLY)
add_custom_command(OUTPUT ${HOIST_PKG_OUT}/changelog.Debian.gz
  COMMAND ${GZIP_EXECUTABLE} -9nc ${HOIST_PKG_OUT}/changelog.Debian > ${HOIST_PKG_OUT}/changelog.Debian.gz
  DEPENDS ${HOIST_PKG_OUT}/changelog.Debian VERBATIM)
add_custom_target(hoist-package-files ALL DEPENDS ${HOIST_MAN_GZ} ${HOIST_PKG_OUT}/changelog.Debian.gz)
install(FILES ${HOIST_PKG_OUT}/changelog.Debian.gz DESTINATION ${HOIST_DOCDIR})
install(FILES ${HOIST_PKG_DIR}/lintian-overrides DESTINATION ${CMAKE_INSTALL_DATAROOTDIR}/lintian/overrides
  RENAME hoist)

# RPM (cpack -G RPM); packaging/hoist.spec is the rpmbuild equivalent.
set(CPACK_RPM_PACKAGE_LICENSE "see README.md")
set(CPACK_RPM_PACKAGE_GROUP "System Environment/Daemons")
set(CPACK_RPM_PACKAGE_RELEASE 1)
set(CPACK_RPM_FILE_NAME RPM-DEFAULT)
set(CPACK_RPM_PACKAGE_AUTOREQ ON)
set(CPACK_RPM_POST_INSTALL_SCRIPT_FILE ${HOIST_PKG_DIR}/rpm-post.sh)
set(CPACK_RPM_PRE_UNINSTALL_SCRIPT_FILE ${HOIST_PKG_DIR}/rpm-preun.sh)
set(CPACK_RPM_USER_FILELIST
  "%config(noreplace) ${CMAKE_INSTALL_FULL_SYSCONFDIR}/hoist/hoist.conf"
  "%config(noreplace) ${CMAKE_INSTALL_FULL_SYSCONFDIR}/init.d/hoist-boot"
  "%dir %attr(0711,root,root) ${CMAKE_INSTALL_FULL_LOCALSTATEDIR}/lib/hoist"
  "%dir %attr(0750,root,root) ${CMAKE_INSTALL_FULL_LOCALSTATEDIR}/log/hoist")
set(CPACK_RPM_EXCLUDE_FROM_AUTO_FILELIST_ADDITION
  /etc/init.d /lib /lib/systemd /lib/systemd/system /usr/share/lintian /usr/share/lintian/overrides
  /usr/share/man/man5 /usr/share/man/man7 /usr/share/man/man8 /var/lib /var/log)

include(CPack)
