#include "common/records.h"

#include <algorithm>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace oly {

const char* ack_csv_header() { return "publisher,seq,op,key,detail,version,duplicate,via,created_us,sent_us,acked_us"; }

void write_csv(std::ostream& out, const AckRecord& a) {
  out << a.publisher << ',' << a.seq << ',' << a.op << ',' << a.key << ',' << a.detail << ',' << a.version << ','
      << (a.duplicate ? 1 : 0) << ',' << a.via << ',' << to_us(a.created) << ',' << to_us(a.first_sent) << ','
      << to_us(a.acked) << '\n';
}

const char* read_csv_header() { return "tablet,key,version,start_us,end_us,frontend,outcome,value"; }

void write_csv(std::ostream& out, const ReadRecord& r) {
  out << r.tablet << ',' << r.key << ',' << r.version << ',' << to_us(r.start) << ',' << to_us(r.end) << ','
      << r.frontend << ',' << r.outcome << ',' << r.value << '\n';
}

void for_each_csv_row(const std::string& path, size_t columns,
                      const std::function<void(const std::vector<std::string>&)>& row, size_t max_columns) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error(path + ": cannot read the file");
  std::string line;
  for (int n = 1; std::getline(in, line); ++n) {
    if (n == 1 || line.empty()) continue;  // header
    std::vector<std::string> f;
    std::stringstream ss(line);
    for (std::string x; std::getline(ss, x, ',');) f.push_back(x);
    if (f.size() < columns || f.size() > std::max(columns, max_columns)) {
      const std::string expected =
          max_columns > columns ? std::to_string(columns) + " to " + std::to_string(max_columns) : std::to_string(columns);
      throw std::runtime_error(path + ":" + std::to_string(n) + ": expected " + expected + " fields, got " +
                               std::to_string(f.size()));
    }
    try {
      row(f);
    } catch (const std::logic_error&) {
      throw std::runtime_error(path + ":" + std::to_string(n) + ": a number field is not a number");
    }
  }
}

std::vector<AckRecord> read_ack_log(const std::string& path) {
  std::vector<AckRecord> out;
  for_each_csv_row(path, 11, [&](const std::vector<std::string>& f) {
    out.push_back(AckRecord{f[0], std::stoull(f[1]), f[2], f[3], f[4], std::stoull(f[5]), f[6] == "1", f[7],
                            from_us(std::stoll(f[8])), from_us(std::stoll(f[9])), from_us(std::stoll(f[10]))});
  });
  return out;
}

std::vector<ReadRecord> read_history(const std::string& path) {
  std::vector<ReadRecord> out;
  for_each_csv_row(path, 7, [&](const std::vector<std::string>& f) {
    out.push_back(ReadRecord{f[0], f[1], std::stoull(f[2]), from_us(std::stoll(f[3])), from_us(std::stoll(f[4])), f[5], f[6],
                             f.size() > 7 ? f[7] : ""});
  }, 8);
  return out;
}

}  // namespace oly
