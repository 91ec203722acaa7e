#include "viz/output_file.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <climits>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <vector>

namespace netsim {
namespace {

namespace fs = std::filesystem;

// The temporaries alive now, for the SIGINT/SIGTERM handler: fixed slots so the
// handler only reads memory and calls unlink(2), both async-signal-safe.
constexpr int kRegistrySlots = 256;
struct RegistrySlot {
  std::atomic<bool> claimed{false};  // owned by an OutputFile
  std::atomic<bool> ready{false};    // `path` is complete: the handler may unlink it
  char path[PATH_MAX];
};
RegistrySlot g_registry[kRegistrySlots];
std::once_flag g_handlers_installed;

extern "C" void remove_temporaries_and_die(int sig) {
  for (RegistrySlot& s : g_registry)
    if (s.ready.load(std::memory_order_acquire)) ::unlink(s.path);
  ::signal(sig, SIG_DFL);
  ::raise(sig);
}

void install_handlers() {
  for (int sig : {SIGINT, SIGTERM}) {
    struct sigaction old {};
    ::sigaction(sig, nullptr, &old);
    if (old.sa_handler == SIG_IGN) continue;  // e.g. started with nohup: keep ignoring
    struct sigaction sa {};
    sa.sa_handler = remove_temporaries_and_die;
    ::sigemptyset(&sa.sa_mask);
    ::sigaction(sig, &sa, nullptr);
  }
}

int register_temporary(const std::string& path) {
  std::call_once(g_handlers_installed, install_handlers);
  if (path.size() >= PATH_MAX) return -1;
  for (int i = 0; i < kRegistrySlots; ++i) {
    RegistrySlot& s = g_registry[i];
    bool expected = false;
    if (s.claimed.compare_exchange_strong(expected, true, std::memory_order_acquire)) {
      std::memcpy(s.path, path.c_str(), path.size() + 1);
      s.ready.store(true, std::memory_order_release);
      return i;
    }
  }
  return -1;  // too many at once: still removed on every path but a signal
}

void unregister_temporary(int slot) {
  if (slot < 0) return;
  g_registry[slot].ready.store(false, std::memory_order_release);
  g_registry[slot].claimed.store(false, std::memory_order_release);
}

std::string describe_errno(int err) { return std::strerror(err); }

// False, with *error, when `st` (of `path`) is neither a regular file nor absent.
bool regular_or_absent(const std::string& path, fs::file_status st, std::string* error) {
  if (st.type() == fs::file_type::not_found || st.type() == fs::file_type::regular) return true;
  *error = path + ": not a regular file (refusing to replace " +
           (st.type() == fs::file_type::directory ? std::string("a directory") : "it") + ")";
  return false;
}

// The regular file `path` stands for (symlinks followed), or an error.
bool resolve_target(const std::string& path, std::string* target, std::string* error) {
  std::error_code ec;
  fs::path p(path);
  if (p.filename().empty() || p.filename() == "." || p.filename() == "..") {
    *error = path + ": is a directory";
    return false;
  }
  fs::file_status link = fs::symlink_status(p, ec);
  if (link.type() == fs::file_type::symlink) {
    // What the link names decides first: a pipe behind /dev/stdout has no path to follow.
    if (!regular_or_absent(path, fs::status(p, ec), error)) return false;
    fs::path real = fs::weakly_canonical(p, ec);
    if (ec) {
      *error = path + ": cannot follow the symbolic link: " + ec.message();
      return false;
    }
    fs::file_status st = fs::symlink_status(real, ec);
    if (st.type() == fs::file_type::symlink || st.type() == fs::file_type::not_found) {
      *error = path + ": the symbolic link points at nothing (" + real.string() + ")";
      return false;
    }
    p = real;
  }
  if (!regular_or_absent(path, fs::status(p, ec), error)) return false;
  *target = p.string();
  return true;
}

}  // namespace

bool same_file(const std::string& output, const std::string& input) {
  std::error_code ec;
  return fs::equivalent(output, input, ec) && !ec;
}

std::unique_ptr<OutputFile> OutputFile::open(const std::string& path, std::string* error) {
  std::string target;
  if (!resolve_target(path, &target, error)) return nullptr;
  fs::path t(target);
  fs::path dir = t.parent_path();
  if (dir.empty()) dir = ".";
  std::string tmpl = (dir / ("." + t.filename().string() + ".tmp.XXXXXX")).string();
  std::vector<char> name(tmpl.begin(), tmpl.end());
  name.push_back('\0');
  int fd = ::mkstemp(name.data());
  if (fd < 0) {
    *error = path + ": cannot create a file in " + dir.string() + ": " + describe_errno(errno);
    return nullptr;
  }
  std::string temp(name.data());
  int slot = register_temporary(temp);
  // mkstemp makes the file 0600; give it the usual permissions of a new file.
  mode_t mask = ::umask(0);
  ::umask(mask);
  ::fchmod(fd, 0666 & ~mask);
  return std::unique_ptr<OutputFile>(new OutputFile(path, target, temp, fd, slot));
}

OutputFile::OutputFile(std::string path, std::string target, std::string temp, int fd,
                       int registry_slot)
    : path_(std::move(path)), target_(std::move(target)), temp_(std::move(temp)), fd_(fd),
      registry_slot_(registry_slot) {
  buffer_.reserve(kBufferSize);
}

class OutputFile::StreamBuf : public std::streambuf {
 public:
  explicit StreamBuf(OutputFile& file) : file_(file) {}

 protected:
  int_type overflow(int_type c) override {
    if (c != traits_type::eof()) {
      char ch = traits_type::to_char_type(c);
      file_.write(std::string_view(&ch, 1));
    }
    return traits_type::not_eof(c);
  }
  std::streamsize xsputn(const char* s, std::streamsize n) override {
    file_.write(std::string_view(s, static_cast<size_t>(n)));
    return n;
  }

 private:
  OutputFile& file_;
};

std::ostream& OutputFile::stream() {
  if (!stream_) {
    streambuf_ = std::make_unique<StreamBuf>(*this);
    stream_ = std::make_unique<std::ostream>(streambuf_.get());
  }
  return *stream_;
}

OutputFile::~OutputFile() {
  if (!committed_) abandon();
}

void OutputFile::abandon() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  ::unlink(temp_.c_str());
  unregister_temporary(registry_slot_);
  registry_slot_ = -1;
}

void OutputFile::write(std::string_view bytes) {
  if (write_errno_ || fd_ < 0) return;
  if (buffer_.size() + bytes.size() > kBufferSize) flush();
  if (bytes.size() >= kBufferSize) {  // large writes go straight through
    buffer_.assign(bytes);
    flush();
    return;
  }
  buffer_.append(bytes);
}

void OutputFile::flush() {
  const char* p = buffer_.data();
  size_t left = buffer_.size();
  while (left > 0 && !write_errno_) {
    ssize_t n = ::write(fd_, p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      write_errno_ = errno;
      break;
    }
    p += n;
    left -= static_cast<size_t>(n);
  }
  buffer_.clear();
}

bool OutputFile::commit(std::string* error) {
  if (committed_ || fd_ < 0) {
    if (error) *error = path_ + ": already written";
    return false;
  }
  flush();
  auto fail = [&](const std::string& what, int err) {
    if (error) *error = path_ + ": " + what + ": " + describe_errno(err);
    abandon();
    return false;
  };
  if (write_errno_) return fail("cannot write", write_errno_);
  if (::fsync(fd_) != 0) return fail("cannot sync", errno);
  int fd = fd_;
  fd_ = -1;
  if (::close(fd) != 0) return fail("cannot close", errno);
  if (::rename(temp_.c_str(), target_.c_str()) != 0) return fail("cannot rename into place", errno);
  committed_ = true;
  unregister_temporary(registry_slot_);
  registry_slot_ = -1;
  // Make the rename itself durable; a failure here leaves a complete file in place.
  fs::path dir = fs::path(target_).parent_path();
  int dfd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  if (error) error->clear();
  return true;
}

bool write_file_atomically(const std::string& path, std::string_view content, std::string* error) {
  std::string local;
  std::string* err = error ? error : &local;
  std::unique_ptr<OutputFile> out = OutputFile::open(path, err);
  if (!out) return false;
  out->write(content);
  return out->commit(err);
}

}  // namespace netsim
