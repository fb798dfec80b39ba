// kv: the key-value store's command-line client (docs/kvstore.md, "Client"); a thin shell around
// KvClient (client.h).
//
//   kv [-h host:port,host:port,...] [--local] KEY    the value of KEY
//   kv [-h host:port,host:port,...] KEY=VALUE        sets KEY to VALUE (split at the first '=')
//
// Without -h the servers come from ./servers.txt (servers_file.h: host:port entries separated by
// spaces or newlines, `#` starting a comment line).
//
// Output, always one line on stdout and nothing on stderr (so a script capturing stdout sees
// errors too): the value, or `NULL` when there is none (for a set: the old value, or `NULL`); on
// failure `ERROR: <message>`. --help prints to stdout.
//
// Exit status: 0 answered; 1 the request failed (a key or value refused by the client or a
// server, no server answered, servers.txt missing, empty or bad); 2 bad usage (unknown flag, no
// or extra argument, -h given twice or with a bad entry, --local with a set).
#include <CLI/CLI.hpp>

#include <chrono>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <vector>

#include "common/cli.h"
#include "kvclient/client.h"
#include "common/servers_file.h"

namespace {

constexpr int kFailed = 1, kUsage = 2;

int print_line(const std::string& text, int status) {
  std::fwrite(text.data(), 1, text.size(), stdout);
  std::fputc('\n', stdout);
  if (std::fflush(stdout) != 0 && status == 0) return kFailed;  // stdout closed: the data is lost
  return status;
}

int error(const std::string& message, int status) { return print_line("ERROR: " + message, status); }

std::chrono::milliseconds to_ms(double seconds) {
  return std::chrono::milliseconds(static_cast<std::chrono::milliseconds::rep>(seconds * 1000.0 + 0.5));
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "kv: get or set a key of the replicated key-value store (docs/kvstore.md).\n"
      "  kv [-h host:port,...] [--local] KEY    prints the value of KEY, or NULL when it has none\n"
      "  kv [-h host:port,...] KEY=VALUE        sets KEY to VALUE (split at the first '='), prints\n"
      "                                         the old value, or NULL when it had none",
      "kv"};
  app.set_help_flag("--help", "Print this help (to stdout) and exit");
  std::vector<std::string> hosts;
  std::string request;
  bool local = false;
  double timeout_s = 10.0, request_timeout_s = 2.0;
  app.add_option("-h,--hosts", hosts,
                 "The servers' HTTP addresses, host:port,host:port,... (once). Default: ./servers.txt,\n"
                 "host:port entries separated by spaces or newlines; a line whose first non-blank\n"
                 "character is '#' is a comment")
      ->allow_extra_args(false)
      ->type_name("LIST");
  app.add_flag("--local", local,
               "Read from the first server that answers, from its own applied state, without a\n"
               "Raft round (may be stale)");
  app.add_option("--timeout", timeout_s, "Give up after this many seconds in all, failovers included")
      ->check(oly::cli::kPositive)
      ->capture_default_str();
  app.add_option("--request-timeout", request_timeout_s, "Fail over after this many seconds without an answer")
      ->check(oly::cli::kPositive)
      ->capture_default_str();
  app.add_option("request", request, "KEY (a get) or KEY=VALUE (a set)")->required()->type_name("KEY[=VALUE]");
  app.footer(
      "Output: one line on stdout: the value, or NULL when there is none (a stored value 'NULL' prints the\n"
      "same); on failure 'ERROR: <message>' (also on stdout; nothing goes to stderr).\n"
      "Exit status: 0 answered; 1 the request failed (refused key or value, no server answered, servers.txt\n"
      "missing, empty or bad); 2 bad usage (unknown flag, missing or extra argument, -h twice or with a bad\n"
      "entry, --local with a set).\n"
      "Servers: the leader when known (a response's X-Leader), else the first, failing over to the next on a\n"
      "refused connection, a timeout or a 503.");
  app.set_version_flag("--version", "kv " + std::string(oly::kVersion));
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    std::fputs(app.help().c_str(), stdout);
    return 0;
  } catch (const CLI::CallForVersion& e) {
    std::printf("%s\n", e.what());
    return 0;
  } catch (const CLI::RequiredError&) {
    return error("missing KEY or KEY=VALUE (see kv --help)", kUsage);
  } catch (const CLI::ParseError& e) {
    return error(std::string(e.what()) + " (see kv --help)", kUsage);
  }

  if (hosts.size() > 1) return error("-h given more than once; give every server in one list: -h a:1,b:2", kUsage);
  std::vector<std::string> servers;
  if (!hosts.empty()) {
    try {
      servers = oly::kv::parse_server_list(hosts.front());
    } catch (const std::invalid_argument& e) {
      return error(std::string("-h: ") + e.what(), kUsage);
    }
  } else {
    try {
      servers = oly::kv::read_servers_file("servers.txt");
    } catch (const std::invalid_argument& e) {
      return error(std::string(e.what()) + " (give the servers with -h host:port,... or in ./servers.txt)", kFailed);
    }
  }

  const size_t eq = request.find('=');
  if (eq != std::string::npos && local) return error("--local applies to a get (KEY), not to a set (KEY=VALUE)", kUsage);

  oly::kv::Options options;
  options.total_timeout = to_ms(timeout_s);
  options.request_timeout = to_ms(request_timeout_s);
  oly::kv::Result result;
  try {
    oly::kv::KvClient client(servers, options);
    result = eq == std::string::npos ? client.get(request, local)
                                     : client.set(std::string_view(request).substr(0, eq), std::string_view(request).substr(eq + 1));
  } catch (const std::exception& e) {  // libcurl could not start
    return error(e.what(), kFailed);
  }
  if (!result.ok) return error(result.error, kFailed);
  return print_line(result.value.value_or("NULL"), 0);
}
