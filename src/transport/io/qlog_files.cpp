#include "palyra/transport/io/qlog_files.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "palyra/common/atomic_file.hpp"

namespace palyra::transport {
namespace {

// ngtcp2 hands over one event at a time (a few hundred bytes): collect them
// and write in large pieces.
constexpr std::size_t kFlushBytes = std::size_t{64} * 1024;

class QlogFile final : public QlogSink {
 public:
  QlogFile(int fd, std::filesystem::path path, QlogWarning warn)
      : fd_(fd), path_(std::move(path)), warn_(std::move(warn)) {
    buffer_.reserve(kFlushBytes);
  }
  ~QlogFile() override { close_file(); }
  QlogFile(const QlogFile&) = delete;
  QlogFile& operator=(const QlogFile&) = delete;

  void write(std::span<const std::uint8_t> data, bool fin) override {
    if (fd_ < 0) return;
    buffer_.insert(buffer_.end(), data.begin(), data.end());
    if (fin) {
      close_file();
    } else if (buffer_.size() >= kFlushBytes) {
      flush();
    }
  }

 private:
  void flush() {
    std::size_t done = 0;
    while (done < buffer_.size()) {
      ssize_t n = ::write(fd_, buffer_.data() + done, buffer_.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        fail(errno);
        return;
      }
      done += static_cast<std::size_t>(n);
    }
    buffer_.clear();
  }

  // A trace with a hole in it misleads: stop writing, say so once.
  void fail(int err) {
    ::close(fd_);
    fd_ = -1;
    buffer_.clear();
    if (warn_) {
      warn_(Error(Errc::IoFailed, fmt::format("qlog trace '{}' is incomplete: write failed: {}",
                                              path_.string(), std::strerror(err))));
    }
  }

  void close_file() {
    if (fd_ < 0) return;
    flush();
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

  int fd_;
  std::filesystem::path path_;
  QlogWarning warn_;
  std::vector<std::uint8_t> buffer_;
};

}  // namespace

Result<QlogSinkFactory> qlog_files(const std::filesystem::path& dir, QlogWarning warn) {
  PALYRA_TRY(check_writable_directory(dir));
  return QlogSinkFactory(
      [dir, warn = std::move(warn)](std::string_view scid_hex) -> std::unique_ptr<QlogSink> {
        std::filesystem::path path = dir / fmt::format("{}.sqlog", scid_hex);
        // O_EXCL|O_NOFOLLOW: never replace a file, nor follow a link planted there.
        int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0) {
          int err = errno;
          if (warn) {
            warn(Error(Errc::IoFailed, fmt::format("qlog trace '{}' not kept: cannot create: {}",
                                                   path.string(), std::strerror(err))));
          }
          return nullptr;
        }
        return std::make_unique<QlogFile>(fd, std::move(path), warn);
      });
}

}  // namespace palyra::transport
