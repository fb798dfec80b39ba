// libraft's C header, with C linkage (raft.h itself does not declare it for C++).
#pragma once

extern "C" {
#include <raft.h>
}
