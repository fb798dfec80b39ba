// Compiled only to build the tests' precompiled header, which every test reuses (see CMakeLists.txt).
