// Asking the cluster: requests to servers (common/request.h) and the stats files that clients
// (Cacofonix, the tablet process) write instead of listening.
#pragma once

#include "common/request.h"
#include "verify/run_dir.h"

namespace oly::olympics {

using oly::Request;
using oly::request_all;
using verify::read_stats_file;  // verify/run_dir.h

}  // namespace oly::olympics
