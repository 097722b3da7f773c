# Included into the consumer project by the install test (CMAKE_PROJECT_INCLUDE): once the
# project's CMakeLists.txt has run, writes the packages that find_package found (xgrad's
# find_dependency calls among them) to packages_found.txt in the build directory.
function(xgrad_install_test_report)
  get_property(found GLOBAL PROPERTY PACKAGES_FOUND)
  file(WRITE "${CMAKE_BINARY_DIR}/packages_found.txt" "${found}")
endfunction()
cmake_language(DEFER DIRECTORY "${CMAKE_SOURCE_DIR}" CALL xgrad_install_test_report)
