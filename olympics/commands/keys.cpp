#include "byzantine/signing_key_files.h"
#include "olympics/commands/command.h"

#include <iostream>

#include "common/cluster_curve.h"
#include "common/key_files.h"
#include "common/node_name.h"

namespace oly::olympics {

namespace {

// `olympics keys`: the missing key pairs of every node of the config, or of one more node
// (--name, --role: a replica or front end that will join, another tool's key).
int cmd_keys(const Flags& f) {
  const Config c = load_config_or_exit(f.common);
  const std::string dir = keys_dir(c);
  try {
    std::vector<std::string> made;
    if (!f.key_name.empty()) {
      const auto role = parse_role(f.key_role);
      if (!role) {
        std::cerr << "error: --role '" << f.key_role << "': expected frontend, database, publisher or operator\n";
        return 2;
      }
      if (!fit_node_name(f.key_name)) {
        std::cerr << "error: --name: a node's name is letters, digits, '-', '_' and '.' (at most 64, not starting with '.')\n";
        return 2;
      }
      if (ensure_key_pair(dir, *role, f.key_name)) made.push_back(f.key_role + "/" + f.key_name);
    } else {
      made = ensure_cluster_keys(c);
      if (c.byzantine && byzantine::ensure_signing_keys(dir, c.cacofonix.id)) {
        std::cout << "made " << byzantine::signing_key_file(dir, c.cacofonix.id) << " and .verify (the publisher's signing keys)\n";
      }
    }
    for (const auto& m : made) std::cout << "made " << dir << "/" << m << ".key and .pub\n";
    std::cout << (made.empty() ? "every key pair was there already" : std::to_string(made.size()) + (made.size() == 1 ? " key pair made" : " key pairs made"))
              << " (" << dir << ")";
    if (c.security != Security::kCurve) std::cout << "; " << c.source << " has security: plain, so no node uses them";
    std::cout << "\n";
    return 0;
  } catch (const std::runtime_error& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
}

}  // namespace

Command keys_command(CLI::App& app, Flags& f) {
  auto* keys = app.add_subcommand(
      "keys", "make the CurveZMQ key pair of every node of the config that has none, in its keys_dir "
              "(<role>/<name>.key, secret, and .pub)");
  add_config_flags(keys, f);
  keys->add_option("--name", f.key_name, "make only this node's pair (e.g. a replica that will join)");
  keys->add_option("--role", f.key_role, "with --name: frontend, database, publisher or operator")
      ->check(CLI::IsMember({"frontend", "database", "publisher", "operator"}));
  keys->get_option("--role")->needs(keys->get_option("--name"));
  keys->get_option("--name")->needs(keys->get_option("--role"));
  return {keys, false, [&f](const std::atomic<bool>* stop) {
    (void)stop;
    return cmd_keys(f);
  }};
}

}  // namespace oly::olympics
