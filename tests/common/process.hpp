// Real binaries in tests: run a command to completion, or keep a child
// process (a daemon, a follower) running while the test talks to it.
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace palyra::testing {

struct CommandResult {
  int status = -1;  // exit code; 128 + signal if killed
  std::string out;
  std::string err;
};

namespace detail {
inline std::string read_all(int fd) {
  std::string out;
  std::array<char, 4096> buffer{};
  ssize_t n = 0;
  while ((n = ::read(fd, buffer.data(), buffer.size())) > 0)
    out.append(buffer.data(), static_cast<std::size_t>(n));
  return out;
}
inline int exit_code(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}
}  // namespace detail

// A child with stdout captured through a pipe and stderr to a file; extra
// environment variables on top of ours.
class ChildProcess {
 public:
  ChildProcess(std::vector<std::string> argv, const std::filesystem::path& stderr_file,
               const std::map<std::string, std::string>& env = {}) {
    int out[2];
    if (::pipe(out) != 0) return;
    pid_ = ::fork();
    if (pid_ == 0) {
      ::dup2(out[1], STDOUT_FILENO);
      int err = ::open(stderr_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      if (err >= 0) ::dup2(err, STDERR_FILENO);
      ::close(out[0]);
      for (const auto& [name, value] : env) ::setenv(name.c_str(), value.c_str(), 1);
      std::vector<char*> args;
      for (auto& a : argv) args.push_back(a.data());
      args.push_back(nullptr);
      ::execv(args[0], args.data());
      ::_exit(127);
    }
    ::close(out[1]);
    out_fd_ = out[0];
  }
  ~ChildProcess() {
    if (pid_ > 0 && !waited_) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    if (out_fd_ >= 0) ::close(out_fd_);
  }
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const { return pid_; }
  void signal(int sig) const { ::kill(pid_, sig); }

  // The next stdout line (without the newline), or "" after `timeout`.
  std::string read_line(std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (true) {
      auto newline = buffer_.find('\n');
      if (newline != std::string::npos) {
        std::string line = buffer_.substr(0, newline);
        buffer_.erase(0, newline + 1);
        return line;
      }
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return {};
      pollfd p{out_fd_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
      std::array<char, 4096> chunk{};
      ssize_t n = ::read(out_fd_, chunk.data(), chunk.size());
      if (n <= 0) return {};
      buffer_.append(chunk.data(), static_cast<std::size_t>(n));
    }
  }

  // Everything else on stdout, until the child closes it.
  std::string read_rest() {
    std::string rest = std::move(buffer_) + detail::read_all(out_fd_);
    buffer_.clear();
    return rest;
  }

  // Waits up to `timeout` for the child to exit; its exit code, or -1 if it
  // is still running (then it is killed).
  int wait(std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    int status = 0;
    while (std::chrono::steady_clock::now() < deadline) {
      pid_t done = ::waitpid(pid_, &status, WNOHANG);
      if (done == pid_) {
        waited_ = true;
        return detail::exit_code(status);
      }
      ::usleep(10'000);
    }
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, &status, 0);
    waited_ = true;
    return -1;
  }

 private:
  pid_t pid_ = -1;
  int out_fd_ = -1;
  std::string buffer_;
  bool waited_ = false;
};

// Runs argv to completion; stdout and stderr captured.
inline CommandResult run_command(std::vector<std::string> argv,
                                 const std::filesystem::path& scratch,
                                 const std::map<std::string, std::string>& env = {}) {
  const auto err_file = scratch / "command.stderr";
  ChildProcess child(std::move(argv), err_file, env);
  CommandResult result;
  result.out = child.read_rest();
  result.status = child.wait(std::chrono::seconds(60));
  if (FILE* f = std::fopen(err_file.c_str(), "r")) {
    std::array<char, 4096> buffer{};
    while (std::fgets(buffer.data(), static_cast<int>(buffer.size()), f) != nullptr)
      result.err += buffer.data();
    std::fclose(f);
  }
  return result;
}

}  // namespace palyra::testing
