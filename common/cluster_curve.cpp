#include "common/cluster_curve.h"

#include "common/key_files.h"

namespace oly {

std::string keys_dir(const Config& c) { return c.in_run_dir(c.keys_dir); }

std::optional<CurveOptions> node_curve(const Config& c, KeyRole role, const std::string& name,
                                       std::optional<ServerKind> server) {
  if (c.security != Security::kCurve) return std::nullopt;
  const std::string dir = keys_dir(c);
  try {
    CurveOptions o{load_key_pair(dir, role, name), KeyRing::from_dir(dir)};
    if (server) o.admit = admission(*server, name);
    return o;
  } catch (const std::runtime_error& e) {
    throw ConfigError(c.source + ": security: curve: " + e.what());
  }
}

std::vector<std::string> ensure_cluster_keys(const Config& c) {
  std::vector<std::pair<KeyRole, std::string>> nodes;
  for (const auto& f : c.frontends) nodes.emplace_back(KeyRole::kFrontend, f.id);
  for (const auto& d : c.database_nodes()) nodes.emplace_back(KeyRole::kDatabase, d.id);
  nodes.emplace_back(KeyRole::kPublisher, c.cacofonix.id);
  nodes.emplace_back(KeyRole::kOperator, kOperatorName);
  std::vector<std::string> made;
  for (const auto& [role, name] : nodes) {
    if (ensure_key_pair(keys_dir(c), role, name)) made.push_back(std::string(role_name(role)) + "/" + name);
  }
  return made;
}

namespace {
std::optional<CurveOptions>& request_curve_slot() {
  static std::optional<CurveOptions> curve;
  return curve;
}
}  // namespace

void set_request_curve(std::optional<CurveOptions> curve) { request_curve_slot() = std::move(curve); }
const std::optional<CurveOptions>& request_curve() { return request_curve_slot(); }

}  // namespace oly
