#include "common/log_setup.h"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>

#include <memory>
#include <mutex>

namespace oly {

namespace {
std::mutex g_role_mutex;
std::string g_role = "-";

class RoleFlag final : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg&, const std::tm&, spdlog::memory_buf_t& dest) override {
    std::lock_guard<std::mutex> lock(g_role_mutex);
    dest.append(g_role.data(), g_role.data() + g_role.size());
  }
  std::unique_ptr<custom_flag_formatter> clone() const override { return std::make_unique<RoleFlag>(); }
};
}  // namespace

void init_logging(const std::string& process, const std::string& level, const std::string& file) {
  std::shared_ptr<spdlog::logger> logger;
  if (file.empty()) {
    logger = std::make_shared<spdlog::logger>(process, std::make_shared<spdlog::sinks::stderr_sink_mt>());
  } else {
    logger = std::make_shared<spdlog::logger>(process, std::make_shared<spdlog::sinks::basic_file_sink_mt>(file));
  }
  auto formatter = std::make_unique<spdlog::pattern_formatter>();
  formatter->add_flag<RoleFlag>('*').set_pattern("%Y-%m-%d %H:%M:%S.%e %-5l [%P %n %*] %v");
  logger->set_formatter(std::move(formatter));
  logger->set_level(spdlog::level::from_str(level));
  logger->flush_on(spdlog::level::info);
  spdlog::set_default_logger(logger);
}

void set_role(const std::string& role) {
  std::lock_guard<std::mutex> lock(g_role_mutex);
  g_role = role;
}

}  // namespace oly
