#include "tests/bench/report.h"

#include <sched.h>
#include <sys/utsname.h>

#include <cstdio>
#include <ctime>
#include <fstream>
#include <sstream>

#include "tests/bench/collector_ttls.h"
#include "tests/bench/run_control.h"

namespace pgpulse::bench {
namespace {

std::string Format(const char* format, auto... values) {
  char text[512];
  std::snprintf(text, sizeof text, format, values...);
  return text;
}

std::string Row(const std::string& figure, const std::string& pgpulse, const std::string& peer,
                const std::string& ratio, const std::string& target, const std::string& result) {
  return Format("%-44s %18s %18s %8s  %-13s %s\n", figure.c_str(), pgpulse.c_str(), peer.c_str(), ratio.c_str(),
                target.c_str(), result.c_str());
}

std::string Ratio(const std::string& a, const std::string& b) {
  return Number(b) > 0 ? Fixed(Number(a) / Number(b), 3) : "n/a";
}

std::string Verdict(const std::string& ratio, double target) {
  if (ratio == "n/a") return "n/a";
  return Number(ratio) <= target ? "PASS" : "MISS";
}

// PASS when `value` is a figure and `holds`.
std::string PassIf(const std::string& value, bool holds) {
  return !value.empty() && value != "n/a" && holds ? "PASS" : "MISS";
}

std::string Machine() {
  cpu_set_t cpus;
  CPU_ZERO(&cpus);
  const int count = sched_getaffinity(0, sizeof cpus, &cpus) == 0 ? CPU_COUNT(&cpus) : 0;
  std::string model;
  std::ifstream cpuinfo("/proc/cpuinfo");
  for (std::string line; model.empty() && std::getline(cpuinfo, line);) {
    const size_t colon = line.find(':');
    if (!line.starts_with("model name") || colon == std::string::npos) continue;
    const size_t value = line.find_first_not_of(' ', colon + 1);
    model = value == std::string::npos ? "" : line.substr(value);
  }
  double mem_kb = 0;
  std::ifstream meminfo("/proc/meminfo");
  for (std::string name; meminfo >> name;) {
    if (name == "MemTotal:") {
      meminfo >> mem_kb;
      break;
    }
  }
  utsname uts{};
  uname(&uts);
  std::ifstream debian_file("/etc/debian_version");
  std::string debian;
  if (!std::getline(debian_file, debian)) debian = "?";
  return std::to_string(count) + " CPUs (" + model + "), " + Fixed(mem_kb / 1048576, 1) + " GiB RAM, Linux " +
         uts.release + ", Debian " + debian;
}

std::string UtcNow() {
  const std::time_t now = std::time(nullptr);
  std::tm utc{};
  gmtime_r(&now, &utc);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%d %H:%M UTC", &utc);
  return text;
}

std::string Shares(const std::vector<TimeShare>& shares) {
  std::string text = Format("  %8s %9s %9s  %s\n", "calls", "exec ms", "plan ms", "query");
  for (const TimeShare& share : shares) {
    text += Format("  %8.1f %9.1f %9.1f  %s\n", share.calls, share.exec_ms, share.plan_ms, share.name.c_str());
  }
  return text;
}

}  // namespace

std::string Report(const Knobs& knobs, const ReportInput& input) {
  const ExporterFigures& a = input.pgpulse;
  const ExporterFigures& b = input.peer;
  const RunDescription& run = input.run;
  const std::string cpu_r = Ratio(a.cpu_ms, b.cpu_ms);
  const std::string rss_r = Ratio(a.rss_mib, b.rss_mib);
  const std::string db_r = Ratio(a.exec_ms, b.exec_ms);
  const std::string scrapes = std::to_string(knobs.scrapes);
  const std::string databases = std::to_string(knobs.databases);
  std::ostringstream out;
  out << "pgpulse vs postgres_exporter: side-by-side benchmark (" << UtcNow() << ")\n\n";
  out << "machine     " << Machine() << "\n";
  out << "pgpulse     " << run.pgpulse_version << ", " << run.build_type << " build, built " << run.pgpulse_built
      << ", tree " << run.tree << " at the start\n";
  out << "            config: one target (DSN to the postgres database), " << run.pgpulse_config_note << "\n";
  out << "peer        " << run.peer_version << "\n";
  out << "            --auto-discover-databases " << run.peer_queries_note << "\n";
  out << "PostgreSQL  " << run.pg_version << "; " << databases << " service databases x " << knobs.tables << " tables ("
      << knobs.shape << ": " << run.shape_note << ") + postgres;\n";
  out << "            pg_stat_statements.track=all, track_planning=on\n";
  out << "schedule    both exporters at once, each as its own pg_monitor role, one scrape every " << knobs.interval
      << " s each (the peer " << run.offset << " s later);\n";
  out << "            " << knobs.warmup << " warm-up scrapes, then " << scrapes << " measured scrapes over "
      << a.window_s << " s; text format, no gzip\n\n";
  out << Row("figure, per scrape unless said", "pgpulse", "postgres_exporter", "ratio", "target", "result");
  out << Row("------------------------------", "-------", "-----------------", "-----", "------", "------");
  out << Row("exporter CPU, user+system (ms)", a.cpu_ms, b.cpu_ms, cpu_r, "<= 0.1x", Verdict(cpu_r, 0.1));
  out << Row("  of it SCRAM logins (est.)", a.login_cpu_ms, b.login_cpu_ms, "", "", "");
  out << Row("  the rest (est.)", a.cpu_wo_login_ms, b.cpu_wo_login_ms, Ratio(a.cpu_wo_login_ms, b.cpu_wo_login_ms), "",
             "");
  out << Row("exporter RSS after the scrapes (MiB)", a.rss_mib, b.rss_mib, rss_r, "<= 0.33x", Verdict(rss_r, 0.33));
  out << Row("exporter peak RSS, VmHWM (MiB)", a.hwm_mib, b.hwm_mib, Ratio(a.hwm_mib, b.hwm_mib), "", "");
  out << Row("database execution time (ms)", a.exec_ms, b.exec_ms, db_r, "<= 0.1x", Verdict(db_r, 0.1));
  double tables_exec = 0;
  double tables_plan = 0;
  std::string sizes_exec = "0";
  for (const TimeShare& share : input.pgpulse_collectors) {
    if (share.name == "table_sizes") sizes_exec = Fixed(share.exec_ms, 1);
    for (const std::string& collector : input.per_table_collectors) {
      if (share.name != collector) continue;
      tables_exec += share.exec_ms;
      tables_plan += share.plan_ms;
    }
  }
  out << Row("  of it per-table collectors (ms)", Fixed(tables_exec, 1), "", Ratio(Fixed(tables_exec, 1), a.exec_ms),
             "", "(share)");
  out << Row("  of it table_sizes (ms)", sizes_exec, "", "", "", "");
  out << Row("database planning time (ms)", a.plan_ms, b.plan_ms, Ratio(a.plan_ms, b.plan_ms), "", "");
  out << Row("database execution + planning (ms)", a.dbtime_ms, b.dbtime_ms, Ratio(a.dbtime_ms, b.dbtime_ms), "", "");
  out << Row("statements executed", a.calls, b.calls, Ratio(a.calls, b.calls), "", "");
  out << Row("connections opened", a.opened, b.opened, "", "", "");
  out << Row("  server CPU to open them (est., ms)", a.conn_cpu_ms, b.conn_cpu_ms, "", "", "");
  out << Row("logins per minute", a.logins_min, b.logins_min, "", "", "");
  out << Row("  their server CPU per minute (est., ms)", a.conn_cpu_min, b.conn_cpu_min, "", "", "");
  out << Row("max open connections during a scrape", a.conn_scrape, b.conn_scrape, "", "", "");
  out << Row("their backends' private memory (MiB)", a.backends_mib, b.backends_mib, "", "", "");
  out << Row("series (sample lines, median)", a.series, b.series, Ratio(a.series, b.series), "", "");
  out << Row("  of them pg_stat_statements*", a.stmt_series, b.stmt_series, "", "", "");
  out << Row("exposition size (MiB, median)", a.bytes, b.bytes, "", "", "");
  out << Row("wall time, median / max (s)", a.wall_med + " / " + a.wall_max, b.wall_med + " / " + b.wall_max, "", "",
             "");
  out << Row("scrapes longer than " + std::to_string(kScrapeTimeoutSeconds) + " s", a.over_timeout + " of " + scrapes,
             b.over_timeout + " of " + scrapes, "", "", "");
  out << "\n";
  out << Row("1 scrape vs 4 simultaneous (fresh process)", "pgpulse", "postgres_exporter", "", "target", "result");
  out << Row("statements run: 1 / 4 simultaneous", a.sf_calls1 + " / " + a.sf_calls4, b.sf_calls1 + " / " + b.sf_calls4,
             "", "", "");
  const bool one_refresh = a.sf_marker1 == a.sf_marker4 && Number(a.sf_ratio) > 0 && Number(a.sf_ratio) <= 1.25;
  out << Row("  4 simultaneous / 1", a.sf_ratio, b.sf_ratio, "", "= 1 refresh", one_refresh ? "PASS" : "MISS");
  out << Row("  pg_stat_database read: 1 / 4 simult.", a.sf_marker1 + " / " + a.sf_marker4,
             b.sf_marker1 + " / " + b.sf_marker4, "", "", "");
  out << Row("  wall time: 1 / 4 simultaneous (s)", a.sf_wall1 + " / " + a.sf_wall4, b.sf_wall1 + " / " + b.sf_wall4,
             "", "", "");
  out << Row("  max open connections, 4 simultaneous", a.sf_conn4, b.sf_conn4, "", "", "");
  out << "\n";
  auto first_served = [](const ExporterFigures& fig) {
    return (fig.cov_first_s.empty() ? "never" : fig.cov_first_s) + " s (#" +
           (fig.cov_first.empty() ? "-" : fig.cov_first) + ")";
  };
  out << Row("table statistics of all " + databases + " databases", "pgpulse", "postgres_exporter", "", "target",
             "result");
  out << Row("all served for the first time, after start", first_served(a), first_served(b), "", "", "");
  out << Row("fewest databases served by one scrape", a.cov_window_min, b.cov_window_min, "", databases,
             PassIf(a.cov_window_min, Number(a.cov_window_min) >= knobs.databases));
  for (const std::string& collector : input.per_table_collectors) {
    const std::optional<long> ttl = TtlSeconds(knobs, collector);
    const std::string ttl_text = ttl ? std::to_string(*ttl) : "";
    const auto age = input.oldest_served.find(collector);
    const std::string age_text = age != input.oldest_served.end() ? Fixed(age->second, 1) : "";
    const std::string result =
        age_text.empty() || !ttl ? "n/a" : PassIf(age_text, Number(age_text) <= static_cast<double>(*ttl));
    out << Row("oldest " + collector + " served (s)", age_text.empty() ? "-" : age_text, "0 (no cache)", "",
               "<= " + ttl_text + " s", result);
  }
  out << Row("longest gap between 2 refreshes of one DB", input.refresh_gaps.longest,
             std::to_string(knobs.interval) + " s", "", "", "");
  out << Row("databases refreshed in the window", std::to_string(input.refresh_gaps.refreshed), databases, "", "", "");
  out << Row("max connections held, whole run", a.conn_all, b.conn_all, "", "<= 4",
             PassIf(a.conn_all, Number(a.conn_all) <= 4));
  const LoginCosts& costs = input.login_costs;
  out << "\n";
  out << "ratio = pgpulse / postgres_exporter; a MISS is reported, it does not fail the run. A new connection costs "
         "the "
         "server\n";
  out << costs.server_cpu_ms << " ms of CPU (fork, SCRAM, backend start; " << costs.logins
      << " measured); a SCRAM login costs the client (libpq)\n";
  out << costs.scram_client_ms << " ms of CPU more than a trust login (" << costs.logins
      << " each). pg_stat_statements deallocations: " << input.deallocations << " (must be 0).\n";
  out << "\nwhere pgpulse's database time goes (per scrape of the window; each query summed over all databases):\n"
      << Shares(input.pgpulse_top);
  out << "\nwhere postgres_exporter's database time goes (per scrape of the window; each query summed over all "
         "databases):\n"
      << Shares(input.peer_top);
  out << "\npgpulse's database time by collector (per scrape of the window; '-': session set-up, capability checks and "
         "the\n";
  out << "BEGIN/ROLLBACK around each collector statement; * runs in every database, with its TTL):\n";
  out << Format("  %-28s %8s %9s %9s %7s\n", "collector", "calls", "exec ms", "plan ms", "share");
  const double total = Number(a.dbtime_ms);
  for (const TimeShare& share : input.pgpulse_collectors) {
    bool per_table = false;
    for (const std::string& collector : input.per_table_collectors) per_table = per_table || share.name == collector;
    out << Format("  %-28s %8.1f %9.1f %9.1f %6.1f%%\n", (share.name + (per_table ? " *" : "")).c_str(), share.calls,
                  share.exec_ms, share.plan_ms, total > 0 ? 100 * (share.exec_ms + share.plan_ms) / total : 0.0);
  }
  out << "\nHow each figure is measured: tests/bench/README.md.\n";
  return out.str();
}

}  // namespace pgpulse::bench
