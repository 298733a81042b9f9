// A network namespace joined to the test's own by a veth pair, for faults that only a network can make: a server
// that vanishes without a RST (a partition). Needs root (CAP_NET_ADMIN and CAP_SYS_ADMIN) and iproute2's `ip` and
// `tc`.
#ifndef PGPULSE_TESTS_HARNESS_NET_NAMESPACE_H_
#define PGPULSE_TESTS_HARNESS_NET_NAMESPACE_H_

#include <functional>
#include <string>
#include <vector>

namespace pgpulse::testing {

class NetNamespace {
 public:
  // Empty if namespaces can be made here, else why not (for GTEST_SKIP).
  static std::string Unavailable();

  // Creates namespace "pgpulse-<pid>-<n>" with its loopback up and a veth pair: "<host side>" stays in the test's
  // namespace with host_address(), its peer moves in with inner_address() (a /30 of 10.213.0.0/16 picked by pid).
  // Throws std::runtime_error with the failing command's output, after removing whatever it had made.
  NetNamespace();
  // Deletes the link (which takes its peer with it) and the namespace, whatever state a failed test left them in.
  ~NetNamespace();
  NetNamespace(const NetNamespace&) = delete;
  NetNamespace& operator=(const NetNamespace&) = delete;

  const std::string& name() const { return name_; }
  const std::string& host_address() const { return host_address_; }
  const std::string& inner_address() const { return inner_address_; }

  // Runs `work` on a thread that has joined the namespace, so every process it forks (pg_ctl, and the postmaster
  // pg_ctl starts) lives inside. Unix sockets are files, not network: the harness still reaches such a server as
  // the superuser through its socket directory. Rethrows what `work` threw.
  void RunInside(const std::function<void()>& work) const;

  // Drops every packet both ways on the veth pair (a zero-length FIFO queue: it needs no kernel module beyond the
  // built-in sch_fifo, unlike netem): peers see silence, never a RST or an ICMP error.
  void Partition();
  // Removes those queues again. Idempotent.
  void Heal();

 private:
  void Ip(const std::vector<std::string>& args) const;  // throws with the output on failure

  std::string name_;
  std::string host_link_;
  std::string inner_link_;
  std::string host_address_;
  std::string inner_address_;
  bool partitioned_ = false;
};

}  // namespace pgpulse::testing

#endif  // PGPULSE_TESTS_HARNESS_NET_NAMESPACE_H_
