# Run by `cmake --install` (install(CODE) in the top-level CMakeLists.txt): writes libnonroot.pc
# for the prefix being installed into, which is the configure-time CMAKE_INSTALL_PREFIX or the
# one given by `cmake --install --prefix P`, so the file never points at a prefix it was not
# installed to. Relative GNUInstallDirs paths become ${prefix}/DIR, absolute ones are kept as
# they are (no "${prefix}//opt/..."). DESTDIR is honoured by file(INSTALL).
# In: NR_PC_TEMPLATE (configured at build time, only the three paths left), NR_PC_OUT,
#     NR_LIBDIR, NR_INCLUDEDIR (CMAKE_INSTALL_LIBDIR / _INCLUDEDIR, relative or absolute).
string(REGEX REPLACE "/+$" "" NR_PC_PREFIX "${CMAKE_INSTALL_PREFIX}")
foreach(dir LIBDIR INCLUDEDIR)
	if(IS_ABSOLUTE "${NR_${dir}}")
		set(NR_PC_${dir} "${NR_${dir}}")
	else()
		set(NR_PC_${dir} "\${prefix}/${NR_${dir}}")
	endif()
endforeach()
configure_file("${NR_PC_TEMPLATE}" "${NR_PC_OUT}" @ONLY)
if(IS_ABSOLUTE "${NR_LIBDIR}")
	set(dest "${NR_LIBDIR}/pkgconfig")
else()
	set(dest "${CMAKE_INSTALL_PREFIX}/${NR_LIBDIR}/pkgconfig")
endif()
file(INSTALL DESTINATION "${dest}" TYPE FILE FILES "${NR_PC_OUT}" RENAME libnonroot.pc)
