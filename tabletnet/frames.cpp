#include "tabletnet/frames.h"

namespace oly::tabletnet {

void append_frame(std::string& out, std::string_view payload) {
  const std::size_t at = open_frame(out);
  out.append(payload);
  close_frame(out, at);
}

std::size_t open_frame(std::string& out) {
  const std::size_t at = out.size();
  out.append(kFramePrefix, '\0');
  return at;
}

void close_frame(std::string& out, std::size_t at) {
  const auto n = static_cast<std::uint32_t>(out.size() - at - kFramePrefix);
  for (std::size_t b = 0; b < kFramePrefix; ++b) out[at + b] = static_cast<char>(n >> (8 * (kFramePrefix - 1 - b)));
}

std::string frame(std::string_view payload) {
  std::string out;
  out.reserve(kFramePrefix + payload.size());
  append_frame(out, payload);
  return out;
}

void FrameReader::feed(std::string_view bytes) {
  if (broken_ != Status::kNeedMore) return;
  // What was handed out is dropped before more comes, so the buffer holds what is not yet taken.
  if (start_ > 0) {
    buf_.erase(0, start_);
    start_ = 0;
  }
  buf_.append(bytes);
}

FrameReader::Status FrameReader::next(std::string_view& payload) {
  if (broken_ != Status::kNeedMore) return broken_;
  const std::size_t have = buf_.size() - start_;
  if (have < kFramePrefix) return Status::kNeedMore;
  const auto* p = reinterpret_cast<const unsigned char*>(buf_.data() + start_);
  const std::uint32_t n = (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) |
                          (std::uint32_t{p[2]} << 8) | std::uint32_t{p[3]};
  if (n == 0 || n > max_frame_) {
    broken_ = n == 0 ? Status::kEmpty : Status::kTooLarge;
    refused_ = n;
    buf_.clear();
    buf_.shrink_to_fit();
    start_ = 0;
    return broken_;
  }
  if (have < kFramePrefix + n) return Status::kNeedMore;
  payload = std::string_view(buf_).substr(start_ + kFramePrefix, n);
  start_ += kFramePrefix + n;
  return Status::kFrame;
}

}  // namespace oly::tabletnet
