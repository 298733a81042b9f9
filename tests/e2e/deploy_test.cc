// The deployment material in deploy/: the Prometheus configs through promtool (and the shards through a real
// Prometheus), the Kubernetes manifests through yaml-cpp and cross-checks, and the pgpulse config they carry
// through the real binary.
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/harness/exporter_process.h"
#include "tests/harness/files.h"
#include "tests/harness/http_client.h"
#include "tests/harness/metrics_text.h"
#include "tests/harness/process.h"

namespace pgpulse::testing {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

const fs::path& DeployDir() {
  static const fs::path dir = fs::path(PGPULSE_SOURCE_DIR) / "deploy";
  return dir;
}

// The regular files directly in `dir` whose names end in `suffix`, sorted.
std::vector<fs::path> FilesEndingIn(const fs::path& dir, const std::string& suffix) {
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(dir)) {
    const auto name = entry.path().filename().string();
    if (entry.is_regular_file() && name.size() > suffix.size() &&
        name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0) {
      files.push_back(entry.path());
    }
  }
  std::sort(files.begin(), files.end());
  return files;
}

CommandResult PromtoolCheckConfig(const std::string& path) {
  return RunCommand({"/usr/bin/promtool", "check", "config", path});
}

// promtool exits 0 when a file_sd file is missing and only warns, so a warning counts as a failure here.
void ExpectPromtoolAcceptsConfig(const std::string& path) {
  const auto check = PromtoolCheckConfig(path);
  EXPECT_EQ(check.exit_code, 0) << path << ":\n" << check.output;
  EXPECT_EQ(check.output.find("WARNING"), std::string::npos) << path << ":\n" << check.output;
}

// ---------------------------------------------------------------------------------------------------------------
// Prometheus

TEST(DeployPrometheusTest, EveryConfigPassesPromtoolCheckConfig) {
  const auto files = FilesEndingIn(DeployDir() / "prometheus", ".yml");
  ASSERT_GE(files.size(), 3u) << "expected prometheus-single.yml and two shard configs in deploy/prometheus";
  for (const auto& file : files) {
    SCOPED_TRACE(file.string());
    ExpectPromtoolAcceptsConfig(file.string());
  }
}

// A real Prometheus per shard, reading the committed targets file: every target name lands on exactly one shard, and
// each is scraped as /probe?target=<name> on the pgpulse its group names, with the name as the instance label.
TEST(DeployPrometheusTest, ShardsSplitTheProbeTargetsAndRewriteThemForProbe) {
  const auto prometheus_dir = DeployDir() / "prometheus";
  std::map<std::string, std::string> exporter_of;  // target name -> pgpulse address, from the targets file
  for (const auto& group : YAML::LoadFile((prometheus_dir / "targets" / "pgpulse-probe.yml").string())) {
    const auto address = group["labels"]["__tmp_pgpulse_address"].as<std::string>();
    for (const auto& name : group["targets"]) exporter_of[name.as<std::string>()] = address;
  }
  ASSERT_GE(exporter_of.size(), 4u);

  std::map<std::string, int> shard_of;  // target name -> the shard that keeps it
  for (int shard = 0; shard < 2; ++shard) {
    SCOPED_TRACE("shard " + std::to_string(shard));
    TempDir storage;
    const auto port = FreePort();
    ChildProcess prometheus(
        {"/usr/bin/prometheus",
         "--config.file=" + (prometheus_dir / ("prometheus-shard-" + std::to_string(shard) + ".yml")).string(),
         "--storage.tsdb.path=" + storage.path(), "--web.listen-address=127.0.0.1:" + std::to_string(port)});

    // File discovery reaches the scrape manager a few seconds after start; wait until every target is known.
    YAML::Node data;
    const auto deadline = std::chrono::steady_clock::now() + 60s;
    while (true) {
      ASSERT_TRUE(prometheus.Running()) << prometheus.Output();
      const auto response = HttpGet(port, "/api/v1/targets", {}, 2s);
      if (response.status == 200) {
        data = YAML::Load(response.body)["data"];  // JSON is YAML
        if (data["activeTargets"].size() + data["droppedTargets"].size() == exporter_of.size()) break;
      }
      ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "last answer: " << response.body;
      std::this_thread::sleep_for(250ms);
    }

    EXPECT_GT(data["activeTargets"].size(), 0u) << "this shard keeps nothing";
    for (const auto& target : data["activeTargets"]) {
      const auto labels = target["labels"];
      const auto name = labels["instance"].as<std::string>("");
      ASSERT_TRUE(exporter_of.count(name)) << "unexpected instance " << name;
      EXPECT_TRUE(shard_of.emplace(name, shard).second) << name << " is kept by both shards";
      EXPECT_EQ(target["scrapeUrl"].as<std::string>(""), "http://" + exporter_of[name] + "/probe?target=" + name);
      EXPECT_EQ(labels["job"].as<std::string>(""), "pgpulse-probe");
      for (const auto& label : labels) {
        EXPECT_NE(label.first.as<std::string>().rfind("__", 0), 0u) << "a hidden label survived relabelling";
      }
    }
  }
  for (const auto& [name, address] : exporter_of) EXPECT_TRUE(shard_of.count(name)) << name << " is on no shard";
}

// ---------------------------------------------------------------------------------------------------------------
// Kubernetes

// Every document of every deploy/kubernetes/*.yaml, keyed by "Kind/name".
std::map<std::string, YAML::Node> LoadManifests() {
  std::map<std::string, YAML::Node> manifests;
  for (const auto& file : FilesEndingIn(DeployDir() / "kubernetes", ".yaml")) {
    for (const auto& doc : YAML::LoadAllFromFile(file.string())) {
      if (!doc.IsMap()) continue;  // checked by EveryManifestHasApiVersionKindAndName
      if (doc["kind"].as<std::string>("") == "Kustomization") continue;  // no object, and no name
      manifests[doc["kind"].as<std::string>("") + "/" + doc["metadata"]["name"].as<std::string>("")] = doc;
    }
  }
  return manifests;
}

// The one object of this kind; fails the test if there is none or several.
YAML::Node Only(const std::map<std::string, YAML::Node>& manifests, const std::string& kind,
                const std::string& name_prefix = "") {
  YAML::Node found;
  int count = 0;
  for (const auto& [key, doc] : manifests) {
    if (key.rfind(kind + "/" + name_prefix, 0) == 0) {
      found = doc;
      ++count;
    }
  }
  EXPECT_EQ(count, 1) << "expected exactly one " << kind << " named " << name_prefix << "...";
  return found;
}

// The volume mounted at the directory holding `path`, and the file name within it. No mount: a failure is added and
// `volume` is null.
struct MountedFile {
  YAML::Node volume;
  std::string key;
};

MountedFile FindMount(const YAML::Node& pod_spec, const YAML::Node& container, const std::string& path) {
  const auto dir = fs::path(path).parent_path().string();
  for (const auto& mount : container["volumeMounts"]) {
    if (mount["mountPath"].as<std::string>("") != dir) continue;
    EXPECT_FALSE(mount["subPath"]) << "a subPath mount is never updated when its Secret or ConfigMap changes";
    for (const auto& volume : pod_spec["volumes"]) {
      if (volume["name"].as<std::string>("") == mount["name"].as<std::string>("")) {
        return {volume, fs::path(path).filename().string()};
      }
    }
  }
  ADD_FAILURE() << "nothing is mounted at " << dir << " (for " << path << ")";
  return {};
}

// The pgpulse config the Deployment reads, taken from its ConfigMap.
std::string PgpulseConfigText(const std::map<std::string, YAML::Node>& manifests) {
  const auto deployment = Only(manifests, "Deployment", "pgpulse");
  const auto pod_spec = deployment["spec"]["template"]["spec"];
  const auto container = pod_spec["containers"][0];
  std::string config_path;
  for (const auto& arg : container["args"]) {
    const auto text = arg.as<std::string>("");
    if (text.rfind("--config.file=", 0) == 0) config_path = text.substr(text.find('=') + 1);
  }
  EXPECT_FALSE(config_path.empty()) << "the container has no --config.file argument";
  if (config_path.empty()) return "";
  const auto mounted = FindMount(pod_spec, container, config_path);
  if (!mounted.volume.IsMap()) return "";
  const auto config_map_name = mounted.volume["configMap"]["name"].as<std::string>("");
  EXPECT_FALSE(config_map_name.empty()) << config_path << " does not come from a ConfigMap";
  const auto it = manifests.find("ConfigMap/" + config_map_name);
  EXPECT_NE(it, manifests.end()) << "no ConfigMap " << config_map_name;
  if (it == manifests.end()) return "";
  const auto text = it->second["data"][mounted.key].as<std::string>("");
  EXPECT_FALSE(text.empty()) << "ConfigMap " << config_map_name << " has no key " << mounted.key;
  return text;
}

TEST(DeployKubernetesTest, EveryManifestHasApiVersionKindAndName) {
  const auto files = FilesEndingIn(DeployDir() / "kubernetes", ".yaml");
  ASSERT_FALSE(files.empty());
  for (const auto& file : files) {
    SCOPED_TRACE(file.string());
    std::vector<YAML::Node> docs;
    ASSERT_NO_THROW(docs = YAML::LoadAllFromFile(file.string()));
    ASSERT_FALSE(docs.empty());
    for (const auto& doc : docs) {
      ASSERT_TRUE(doc.IsMap());
      EXPECT_FALSE(doc["apiVersion"].as<std::string>("").empty());
      EXPECT_FALSE(doc["kind"].as<std::string>("").empty());
      // kustomization.yaml has no name: kubectl 1.20's kustomize refuses a metadata field.
      if (doc["kind"].as<std::string>("") == "Kustomization") continue;
      EXPECT_FALSE(doc["metadata"]["name"].as<std::string>("").empty());
    }
  }
  const auto manifests = LoadManifests();
  for (const auto& kind : {"Deployment", "Service", "ConfigMap", "Secret"}) {
    EXPECT_TRUE(std::any_of(manifests.begin(), manifests.end(),
                            [&](const auto& entry) { return entry.first.rfind(std::string(kind) + "/", 0) == 0; }))
        << "no " << kind;
  }
}

TEST(DeployKubernetesTest, DeploymentIsLockedDownAndProbesTheHealthEndpoints) {
  const auto manifests = LoadManifests();
  const auto deployment = Only(manifests, "Deployment", "pgpulse");
  ASSERT_TRUE(deployment.IsMap());
  EXPECT_EQ(deployment["spec"]["replicas"].as<int>(0), 1);
  const auto pod_spec = deployment["spec"]["template"]["spec"];
  EXPECT_TRUE(pod_spec["securityContext"]["runAsNonRoot"].as<bool>(false));
  ASSERT_EQ(pod_spec["containers"].size(), 1u);
  const auto container = pod_spec["containers"][0];
  EXPECT_TRUE(container["securityContext"]["readOnlyRootFilesystem"].as<bool>(false));
  EXPECT_FALSE(container["securityContext"]["allowPrivilegeEscalation"].as<bool>(true));
  EXPECT_EQ(container["livenessProbe"]["httpGet"]["path"].as<std::string>(""), "/healthz");
  EXPECT_EQ(container["readinessProbe"]["httpGet"]["path"].as<std::string>(""), "/readyz");
  for (const auto& kind : {"requests", "limits"}) {
    EXPECT_TRUE(container["resources"][kind]["memory"]) << "no memory " << kind;
  }
  std::set<std::string> port_names;
  for (const auto& port : container["ports"]) port_names.insert(port["name"].as<std::string>(""));
  for (const auto& probe : {"livenessProbe", "readinessProbe"}) {
    EXPECT_TRUE(port_names.count(container[probe]["httpGet"]["port"].as<std::string>(""))) << probe;
  }

  // The Service reaches this pod, on a port the container declares, and is annotated for the scrape config.
  const auto service = Only(manifests, "Service", "pgpulse");
  ASSERT_TRUE(service.IsMap());
  const auto pod_labels = deployment["spec"]["template"]["metadata"]["labels"];
  for (const auto& selector : service["spec"]["selector"]) {
    EXPECT_EQ(pod_labels[selector.first.as<std::string>()].as<std::string>(""), selector.second.as<std::string>())
        << "the Service selects pods by a label the Deployment's pods do not have";
  }
  ASSERT_EQ(service["spec"]["ports"].size(), 1u);
  const auto service_port = service["spec"]["ports"][0];
  EXPECT_TRUE(port_names.count(service_port["targetPort"].as<std::string>("")));
  EXPECT_EQ(service["metadata"]["annotations"]["prometheus.io/scrape"].as<std::string>(""), "true");

  // The in-cluster scrape config keeps exactly this port name.
  const auto prometheus = Only(manifests, "ConfigMap", "prometheus");
  const auto scrape_config = prometheus["data"]["prometheus.yml"].as<std::string>("");
  EXPECT_NE(scrape_config.find("regex: " + service_port["name"].as<std::string>("-")), std::string::npos)
      << scrape_config;
}

TEST(DeployKubernetesTest, ConfigMapConfigReadsThePasswordFromTheMountedSecret) {
  const auto manifests = LoadManifests();
  const auto config_text = PgpulseConfigText(manifests);
  ASSERT_FALSE(config_text.empty());
  const auto config = YAML::Load(config_text);
  const auto deployment = Only(manifests, "Deployment", "pgpulse");
  const auto pod_spec = deployment["spec"]["template"]["spec"];
  ASSERT_GE(config["targets"].size(), 1u);
  for (const auto& target : config["targets"]) {
    const auto password_file = target["password_file"].as<std::string>("");
    ASSERT_FALSE(password_file.empty()) << "target " << target["name"].as<std::string>("") << " has no password_file";
    const auto mounted = FindMount(pod_spec, pod_spec["containers"][0], password_file);
    ASSERT_TRUE(mounted.volume.IsMap());
    const auto secret_name = mounted.volume["secret"]["secretName"].as<std::string>("");
    ASSERT_FALSE(secret_name.empty()) << password_file << " does not come from a Secret";
    const auto secret = manifests.find("Secret/" + secret_name);
    ASSERT_NE(secret, manifests.end()) << "no example Secret " << secret_name;
    EXPECT_TRUE(secret->second["stringData"][mounted.key] || secret->second["data"][mounted.key])
        << "Secret " << secret_name << " has no key " << mounted.key;
  }
}

// The real binary starts with the ConfigMap's config (password_file pointed at a temp file) and serves its target
// by name on /probe. The database host does not exist here, so pg_up is 0.
TEST(DeployKubernetesTest, PgpulseAcceptsTheConfigMapConfig) {
  auto config_text = PgpulseConfigText(LoadManifests());
  ASSERT_FALSE(config_text.empty());
  const auto config = YAML::Load(config_text);
  const auto password_file = WriteTempFile("placeholder-password\n");
  std::vector<std::string> names;
  for (const auto& target : config["targets"]) {
    names.push_back(target["name"].as<std::string>());
    const auto original = target["password_file"].as<std::string>();
    for (auto at = config_text.find(original); at != std::string::npos; at = config_text.find(original, at)) {
      config_text.replace(at, original.size(), password_file);
      at += password_file.size();
    }
  }
  ASSERT_FALSE(names.empty());
  const auto config_file = WriteTempFile(config_text, ".yml");

  const std::vector<std::string> args = {"--config.file=" + config_file};
  std::unique_ptr<ExporterProcess> exporter;
  ASSERT_NO_THROW(exporter = std::make_unique<ExporterProcess>(args));
  for (const auto& name : names) {
    const auto probe = exporter->Get("/probe?target=" + name, {{"X-Prometheus-Scrape-Timeout-Seconds", "3"}});
    EXPECT_EQ(probe.status, 200) << probe.body;
    EXPECT_EQ(MetricValue(probe.body, "pg_up", {{"target", name}}), 0) << probe.body;
  }
  EXPECT_EQ(exporter->Get("/probe?target=not-configured").status, 404);
}

// Debian's Prometheus is built without Kubernetes discovery, so promtool checks the in-cluster scrape config with
// its kubernetes_sd_configs block swapped for a static target; everything else (relabelling included) is checked.
TEST(DeployKubernetesTest, InClusterScrapeConfigPassesPromtoolWithStaticDiscovery) {
  const auto prometheus = Only(LoadManifests(), "ConfigMap", "prometheus");
  ASSERT_TRUE(prometheus.IsMap());
  std::istringstream in(prometheus["data"]["prometheus.yml"].as<std::string>(""));
  std::string out;
  int replaced = 0;
  std::string::size_type block_indent = std::string::npos;  // inside a kubernetes_sd_configs block: its indentation
  for (std::string line; std::getline(in, line);) {
    const auto indent = line.find_first_not_of(' ');
    if (block_indent != std::string::npos) {
      const bool inside = indent == std::string::npos || indent > block_indent ||
                          (indent == block_indent && line.compare(indent, 2, "- ") == 0);
      if (inside) continue;
      block_indent = std::string::npos;
    }
    if (indent != std::string::npos && line.compare(indent, 22, "kubernetes_sd_configs:") == 0) {
      block_indent = indent;
      out += std::string(indent, ' ') + "static_configs: [{targets: ['10.0.0.1:9187']}]\n";
      ++replaced;
      continue;
    }
    out += line + "\n";
  }
  ASSERT_GE(replaced, 1) << "expected a kubernetes_sd_configs block";
  const auto file = WriteTempFile(out, ".yml");
  ExpectPromtoolAcceptsConfig(file);
}

// ---------------------------------------------------------------------------------------------------------------
// Kubernetes: kustomize, the Prometheus Operator's objects, CloudNativePG

// `kubectl kustomize dir`, parsed. kubectl is whatever is on PATH (Debian's kubernetes-client on CI); missing, the
// test fails: the kustomizations are not checked otherwise.
std::vector<YAML::Node> Kustomize(const fs::path& dir) {
  CommandResult rendered{-1, ""};
  try {
    rendered = RunCommand({"kubectl", "kustomize", dir.string()});
  } catch (const std::exception& error) {
    ADD_FAILURE() << "kubectl could not be run (install Debian's kubernetes-client): " << error.what();
    return {};
  }
  EXPECT_EQ(rendered.exit_code, 0) << rendered.output;
  if (rendered.exit_code != 0) return {};
  return YAML::LoadAll(rendered.output);
}

std::multiset<std::string> Kinds(const std::vector<YAML::Node>& docs) {
  std::multiset<std::string> kinds;
  for (const auto& doc : docs) kinds.insert(doc["kind"].as<std::string>(""));
  return kinds;
}

YAML::Node FirstOfKind(const std::vector<YAML::Node>& docs, const std::string& kind) {
  for (const auto& doc : docs) {
    if (doc["kind"].as<std::string>("") == kind) return doc;
  }
  ADD_FAILURE() << "no " << kind;
  return YAML::Node();
}

// The Deployment's pod spec, its probes on the health endpoints, and the Secret it mounts for the password.
std::string ExpectProbesAndSecretVolume(const YAML::Node& deployment) {
  const auto pod_spec = deployment["spec"]["template"]["spec"];
  const auto container = pod_spec["containers"][0];
  EXPECT_EQ(container["livenessProbe"]["httpGet"]["path"].as<std::string>(""), "/healthz");
  EXPECT_EQ(container["readinessProbe"]["httpGet"]["path"].as<std::string>(""), "/readyz");
  for (const auto& volume : pod_spec["volumes"]) {
    if (volume["secret"]) return volume["secret"]["secretName"].as<std::string>("");
  }
  ADD_FAILURE() << "the Deployment mounts no Secret";
  return "";
}

// A ServiceMonitor or PodMonitor selects the pgpulse pods or Service by labels they have.
void ExpectSelects(const YAML::Node& monitor, const YAML::Node& labels) {
  ASSERT_TRUE(monitor["spec"]["selector"]["matchLabels"].IsMap()) << monitor["kind"];
  for (const auto& selector : monitor["spec"]["selector"]["matchLabels"]) {
    EXPECT_EQ(labels[selector.first.as<std::string>()].as<std::string>(""), selector.second.as<std::string>())
        << monitor["kind"] << " " << monitor["metadata"]["name"] << " selects by a label pgpulse does not have";
  }
}

TEST(DeployKubernetesTest, KustomizationRendersTheOperatorSet) {
  const auto docs = Kustomize(DeployDir() / "kubernetes");
  ASSERT_FALSE(docs.empty());
  const auto kinds = Kinds(docs);
  for (const auto& kind :
       {"ConfigMap", "Deployment", "Service", "ServiceMonitor", "PrometheusRule", "ExternalSecret"}) {
    EXPECT_GE(kinds.count(kind), 1u) << "no " << kind;
  }
  // The placeholder Secret is not applied: the ExternalSecret makes the real one.
  EXPECT_EQ(kinds.count("Secret"), 0u);
  const auto deployment = FirstOfKind(docs, "Deployment");
  const auto secret_name = ExpectProbesAndSecretVolume(deployment);
  const auto external = FirstOfKind(docs, "ExternalSecret");
  EXPECT_EQ(external["spec"]["target"]["name"].as<std::string>(""), secret_name);
  EXPECT_EQ(external["spec"]["data"][0]["secretKey"].as<std::string>(""), "password");
  const auto service = FirstOfKind(docs, "Service");
  const auto monitor = FirstOfKind(docs, "ServiceMonitor");
  ExpectSelects(monitor, service["metadata"]["labels"]);
  EXPECT_EQ(monitor["spec"]["endpoints"][0]["port"].as<std::string>(""),
            service["spec"]["ports"][0]["name"].as<std::string>("-"));
  EXPECT_EQ(monitor["spec"]["endpoints"][0]["path"].as<std::string>(""), "/metrics");
}

TEST(DeployKubernetesTest, ProbePodMonitorScrapesConfiguredTargets) {
  const auto manifests = LoadManifests();
  const auto monitor = Only(manifests, "PodMonitor", "pgpulse");
  ASSERT_TRUE(monitor.IsMap());
  const auto deployment = Only(manifests, "Deployment", "pgpulse");
  ExpectSelects(monitor, deployment["spec"]["template"]["metadata"]["labels"]);
  std::set<std::string> configured;
  for (const auto& target : YAML::Load(PgpulseConfigText(manifests))["targets"]) {
    configured.insert(target["name"].as<std::string>());
  }
  ASSERT_GE(monitor["spec"]["podMetricsEndpoints"].size(), 1u);
  for (const auto& endpoint : monitor["spec"]["podMetricsEndpoints"]) {
    EXPECT_EQ(endpoint["path"].as<std::string>(""), "/probe");
    EXPECT_EQ(endpoint["port"].as<std::string>(""), "http-metrics");
    ASSERT_EQ(endpoint["params"]["target"].size(), 1u);
    const auto name = endpoint["params"]["target"][0].as<std::string>("");
    EXPECT_TRUE(configured.count(name)) << name << " is not a target of the ConfigMap's config";
    EXPECT_EQ(endpoint["relabelings"][0]["replacement"].as<std::string>(""), name);
  }
}

// deploy/kubernetes/prometheusrule.yaml is what scripts/gen-prometheusrule.sh writes now, and each PrometheusRule's
// groups are those of its rule file.
TEST(DeployKubernetesTest, PrometheusRuleIsGeneratedFromTheAlertFiles) {
  const auto committed = DeployDir() / "kubernetes" / "prometheusrule.yaml";
  const auto generated = RunCommand({"bash", std::string(PGPULSE_SOURCE_DIR) + "/scripts/gen-prometheusrule.sh", "-"});
  ASSERT_EQ(generated.exit_code, 0) << generated.output;
  EXPECT_TRUE(generated.output == ReadFile(committed.string()))
      << committed.string() << " is stale: run scripts/gen-prometheusrule.sh";
  std::map<std::string, YAML::Node> rules;
  for (const auto& doc : YAML::LoadAllFromFile(committed.string())) {
    EXPECT_EQ(doc["kind"].as<std::string>(""), "PrometheusRule");
    rules[doc["metadata"]["name"].as<std::string>("")] = doc;
  }
  int rule_files = 0;
  for (const auto& file : FilesEndingIn(fs::path(PGPULSE_SOURCE_DIR) / "alerts", ".yml")) {
    const auto source = YAML::LoadFile(file.string());
    if (!source["groups"]) continue;
    ++rule_files;
    const auto name = "pgpulse-" + file.stem().string();
    ASSERT_TRUE(rules.count(name)) << "no PrometheusRule " << name << " for " << file;
    YAML::Emitter from_file, from_rule;
    from_file << source["groups"];
    from_rule << rules[name]["spec"]["groups"];
    EXPECT_EQ(std::string(from_rule.c_str()), std::string(from_file.c_str())) << name;
  }
  EXPECT_EQ(rules.size(), static_cast<size_t>(rule_files));
  EXPECT_GE(rule_files, 5);
}

TEST(DeployKubernetesTest, CloudNativePgExampleWatchesTheClusterServicesWithTheManagedRole) {
  const auto docs = Kustomize(DeployDir() / "kubernetes" / "cloudnativepg");
  ASSERT_FALSE(docs.empty());
  const auto kinds = Kinds(docs);
  for (const auto& kind : {"Cluster", "Secret", "ConfigMap", "Deployment", "Service", "ServiceMonitor"}) {
    EXPECT_EQ(kinds.count(kind), 1u) << kind;
  }
  const auto cluster = FirstOfKind(docs, "Cluster");
  const auto cluster_name = cluster["metadata"]["name"].as<std::string>("");
  const auto namespace_name = cluster["metadata"]["namespace"].as<std::string>("");
  ASSERT_FALSE(cluster_name.empty());
  const auto role = cluster["spec"]["managed"]["roles"][0];
  EXPECT_TRUE(role["login"].as<bool>(false));
  EXPECT_FALSE(role["superuser"].as<bool>(true));
  EXPECT_EQ(role["inRoles"][0].as<std::string>(""), "pg_monitor");

  const auto deployment = FirstOfKind(docs, "Deployment");
  EXPECT_EQ(ExpectProbesAndSecretVolume(deployment), role["passwordSecret"]["name"].as<std::string>("-"))
      << "pgpulse does not read the password CloudNativePG sets";
  const auto config = YAML::Load(FirstOfKind(docs, "ConfigMap")["data"]["pgpulse.yml"].as<std::string>(""));
  std::set<std::string> services;
  for (const auto& target : config["targets"]) {
    const auto dsn = target["dsn"].as<std::string>("");
    EXPECT_EQ(dsn.rfind("postgresql://" + role["name"].as<std::string>("-") + "@", 0), 0u) << dsn;
    const auto host = dsn.substr(dsn.find('@') + 1, dsn.find(':', dsn.find('@')) - dsn.find('@') - 1);
    services.insert(host);
  }
  EXPECT_EQ(services, (std::set<std::string>{cluster_name + "-rw." + namespace_name + ".svc",
                                             cluster_name + "-ro." + namespace_name + ".svc"}));
  ExpectSelects(FirstOfKind(docs, "ServiceMonitor"), FirstOfKind(docs, "Service")["metadata"]["labels"]);
}

}  // namespace
}  // namespace pgpulse::testing
