// When a cluster counts as steady: the state `olympics wait` waits for, and bench_failover waits
// for before each kill and after each restart.
//
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <vector>

#include "olympics/status.h"

namespace oly::olympics {

// Why the cluster is not steady, or "" when it is: every front end of `frontends` (config order)
// answers stats, the first is master and every front end follows it at its epoch, none suspects
// another, no handoff is in progress, and the master and the tablet process (whose stats file
// must be newer than `tablets_after`, a file time in seconds like NodeSample::at_s) both list
// every front end as serving.
std::string steady_problem(const ClusterSample& s, const std::vector<std::string>& frontends,
                           double tablets_after);

}  // namespace oly::olympics
