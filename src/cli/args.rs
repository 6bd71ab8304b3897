//! Argument types, one struct per subcommand, following the command-line contract
//! in the design brief (same names and flags as the reference tool).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Multi-repository CI and versioning: git-describe versions, skip unchanged
/// image builds, env files and ordered deploy plans.
#[derive(Debug, Parser)]
#[command(name = "ciux", version, about, propagate_version = true)]
pub struct Cli {
    /// More log output on stderr (-v info, -vv debug, -vvv trace); `CIUX_LOG` overrides.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub(crate) verbose: u8,
    /// Log level as a number, as the reference tool takes it (`-v2`, `-v 2`,
    /// `--verbosity 2`): 0 warnings, 1 info, 2 debug, 3 trace.
    #[arg(long, value_name = "N", global = true)]
    pub(crate) verbosity: Option<u8>,
    /// Only errors on stderr, no progress bars.
    #[arg(short, long, global = true)]
    pub(crate) quiet: bool,
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Debug, Subcommand)]
// Parsed once per process: the size of the largest variant does not matter.
#[allow(clippy::large_enum_variant)]
pub(crate) enum Command {
    /// Resolve the dependency graph, clone siblings, check images, write env files.
    #[command(visible_aliases = ["ig", "ign"])]
    Ignite(IgniteArgs),
    /// Print one resolved value: revision, image, configpath, deps, clustername.
    #[command(subcommand)]
    Get(GetCommand),
    /// Print the ordered deploy plan.
    Plan(PlanArgs),
    /// Explain why the project image will or will not be built.
    Explain(ExplainArgs),
    /// Put the tested image under its promoted tag (a manifest copy by digest).
    Promote(PromoteArgs),
    /// The next release tag: print it and the git commands (default), or create (--create) and push (--push) it.
    #[command(visible_alias = "rel")]
    Tag(TagArgs),
    /// The local pre-push check.
    Check(CheckArgs),
    /// Install or remove the pre-push hook that runs `ciux check`.
    #[command(subcommand)]
    Hook(HookCommand),
    /// Write `.ciux.toml` from the legacy YAML `.ciux` file.
    Migrate(MigrateArgs),
    /// The streaming-alert benchmark harness.
    Bench(BenchArgs),
    /// Container images on this machine: load the built one, clean up old ones.
    #[command(subcommand)]
    Image(ImageCommand),
    /// Write man pages: `ciux.1` on stdout, or every page into --out-dir.
    Man(ManArgs),
    /// Print shell completions.
    #[command(visible_alias = "completion")]
    Completions {
        /// The shell to complete for.
        shell: clap_complete::Shell,
    },
}

/// A path inside the repository (any directory of it works).
#[derive(Debug, Clone, Args)]
pub(crate) struct PathArg {
    /// A directory inside the repository.
    #[arg(default_value = ".")]
    pub(crate) path: PathBuf,
}

/// Options that shape the project image reference.
#[derive(Debug, Clone, Args)]
pub(crate) struct ImageOpts {
    /// Suffix appended to the image name: `registry/<project>-<suffix>`.
    #[arg(short = 'p', long)]
    pub(crate) suffix: Option<String>,
    /// Temporary registry where CI pushes images it builds before tests pass.
    #[arg(short = 't', long = "tmp-registry", value_parser = parse_registry)]
    pub(crate) tmp_registry: Option<String>,
    /// What to do when the registry cannot be asked: fail (default) or build.
    #[arg(long, value_enum, env = "CIUX_ON_REGISTRY_ERROR", default_value_t = OnRegistryError::Fail)]
    pub(crate) on_registry_error: OnRegistryError,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum OnRegistryError {
    /// Report the error and exit 1.
    Fail,
    /// Treat the image as absent and build it.
    Build,
}

#[derive(Debug, Clone, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub(crate) struct IgniteArgs {
    #[command(subcommand)]
    pub(crate) action: Option<IgniteAction>,
    #[command(flatten)]
    pub(crate) workspace: WorkspaceArgs,
    /// Do not install `package` dependencies and sibling Go modules
    /// (`go install`), which ignite does by default as the reference tool does.
    #[arg(long)]
    pub(crate) no_install_packages: bool,
    /// Install packages: the default (kept so existing scripts still parse).
    #[arg(long, hide = true, conflicts_with = "no_install_packages")]
    pub(crate) install_packages: bool,
    /// Write `.ciux.d/ciux.lock` with the resolution.
    #[arg(long, conflicts_with = "locked")]
    pub(crate) lock: bool,
    /// Reproduce the resolution recorded in `.ciux.d/ciux.lock`.
    #[arg(long)]
    pub(crate) locked: bool,
}

#[derive(Debug, Clone, Subcommand)]
pub(crate) enum IgniteAction {
    /// Rewrite the env file from the siblings already on disk: no clone, no
    /// fetch, no registry (the image is reported unchecked).
    Env(WorkspaceArgs),
}

/// What `ignite` and `ignite env` resolve and write: the same workspace either way.
#[derive(Debug, Clone, Args)]
pub(crate) struct WorkspaceArgs {
    #[command(flatten)]
    pub(crate) path: PathArg,
    /// Label selector for dependencies (Kubernetes syntax, e.g. `itest=true,ci`).
    #[arg(short = 'l', long)]
    pub(crate) selector: Option<String>,
    /// The project's branch (default: the checked-out branch, or GitHub's variables).
    #[arg(short = 'b', long)]
    pub(crate) branch: Option<String>,
    #[command(flatten)]
    pub(crate) image: ImageOpts,
    /// Ignore dependencies: resolve the main project only.
    #[arg(short = 'm', long = "main")]
    pub(crate) main_only: bool,
    /// Output formats (repeatable): sh, dotenv, json, github.
    #[arg(long = "format", value_enum)]
    pub(crate) formats: Vec<EnvFormat>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum EnvFormat {
    Sh,
    Dotenv,
    Json,
    Github,
}

#[derive(Debug, Subcommand)]
pub(crate) enum GetCommand {
    /// Print the version of the repository (`git describe --always --abbrev=7 --dirty`).
    #[command(visible_alias = "rev")]
    Revision(RevisionArgs),
    /// Compute the project image.
    #[command(visible_alias = "img")]
    Image(GetImageArgs),
    /// Print the path of the env file for a selector; fails if it does not exist.
    Configpath(SelectorPathArgs),
    /// List the selected dependencies with their versions.
    #[command(visible_alias = "dependencies")]
    Deps(SelectorPathArgs),
    /// Print a Kubernetes-in-Docker cluster name: `<user>-<branch>-<head>[-dirty]`.
    #[command(visible_alias = "cn")]
    Clustername(PathArg),
}

#[derive(Debug, Clone, Args)]
pub(crate) struct RevisionArgs {
    #[command(flatten)]
    pub(crate) path: PathArg,
    /// Print the release tag only when HEAD is exactly tagged, clean and on
    /// main/master; else print nothing.
    #[arg(short = 'r', long = "isrelease")]
    pub(crate) is_release: bool,
}

#[derive(Debug, Clone, Args)]
pub(crate) struct GetImageArgs {
    #[command(flatten)]
    pub(crate) path: PathArg,
    /// Ask the registry whether the image exists.
    #[arg(short = 'c', long)]
    pub(crate) check: bool,
    /// Print `export CIUX_IMAGE_URL=...` and `export CIUX_BUILD=...` lines.
    #[arg(short = 'e', long)]
    pub(crate) env: bool,
    #[command(flatten)]
    pub(crate) image: ImageOpts,
}

#[derive(Debug, Clone, Args)]
pub(crate) struct SelectorPathArgs {
    #[command(flatten)]
    pub(crate) path: PathArg,
    /// Label selector (Kubernetes syntax).
    #[arg(short = 'l', long)]
    pub(crate) selector: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum PlanFormat {
    Text,
    Json,
    GithubMatrix,
    Mermaid,
    Dot,
}

#[derive(Debug, Clone, Args)]
pub(crate) struct PlanArgs {
    #[command(flatten)]
    pub(crate) path: PathArg,
    /// Label selector (Kubernetes syntax).
    #[arg(short = 'l', long)]
    pub(crate) selector: Option<String>,
    /// The project's branch.
    #[arg(short = 'b', long)]
    pub(crate) branch: Option<String>,
    #[command(flatten)]
    pub(crate) image: ImageOpts,
    /// Output format.
    #[arg(long, value_enum, default_value_t = PlanFormat::Text)]
    pub(crate) format: PlanFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum ReportFormat {
    Text,
    Json,
}

#[derive(Debug, Clone, Args)]
pub(crate) struct ExplainArgs {
    #[command(flatten)]
    pub(crate) path: PathArg,
    #[command(flatten)]
    pub(crate) image: ImageOpts,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
    pub(crate) format: ReportFormat,
}

#[derive(Debug, Clone, Args)]
pub(crate) struct PromoteArgs {
    #[command(flatten)]
    pub(crate) path: PathArg,
    #[command(flatten)]
    pub(crate) image: ImageOpts,
    /// Print what would be done and change nothing.
    #[arg(long)]
    pub(crate) dry_run: bool,
}

#[derive(Debug, Clone, Args)]
pub(crate) struct TagArgs {
    #[command(flatten)]
    pub(crate) path: PathArg,
    /// Next release candidate (default): v1.2.3-rc4 -> v1.2.3-rc5, v1.2.3 -> v1.2.4-rc0.
    #[arg(long, group = "bump")]
    pub(crate) rc: bool,
    /// Next patch release.
    #[arg(long, group = "bump")]
    pub(crate) patch: bool,
    /// Next minor release.
    #[arg(long, group = "bump")]
    pub(crate) minor: bool,
    /// Next major release.
    #[arg(long, group = "bump")]
    pub(crate) major: bool,
    /// Final release of the current candidate: v1.2.3-rc5 -> v1.2.3.
    #[arg(long, group = "bump")]
    pub(crate) release: bool,
    /// Print what would be done and change nothing.
    #[arg(long)]
    pub(crate) dry_run: bool,
    /// Create the tag (annotated, or signed when `tag.gpgSign` is set). Without
    /// --create or --push, `ciux tag` prints the next version and the git
    /// commands that create and push it, and changes nothing.
    #[arg(long)]
    pub(crate) create: bool,
    /// Create the tag and push it to the branch's remote.
    #[arg(long)]
    pub(crate) push: bool,
    /// Tag the whole stack in dependency order.
    #[arg(long)]
    pub(crate) all: bool,
    /// With --all: only these repositories (names as in the configuration, comma-separated).
    #[arg(long, value_name = "NAME,...", value_delimiter = ',', requires = "all")]
    pub(crate) only: Vec<String>,
    /// Tag message (default `Release <tag>`).
    #[arg(short = 'm', long)]
    pub(crate) message: Option<String>,
    /// Allow tagging on a branch other than main/master.
    #[arg(long)]
    pub(crate) allow_branch: bool,
    /// With --all: wait until each dependency's image exists before tagging dependents.
    #[arg(long)]
    pub(crate) wait_images: bool,
    /// With --wait-images: how long to wait for each image, in seconds.
    #[arg(
        long,
        value_name = "SECONDS",
        default_value_t = 1800,
        requires = "wait_images"
    )]
    pub(crate) wait_timeout: u64,
    /// With --all: write the new versions to FILE (JSON if it ends in `.json`,
    /// else `export <NAME>_VERSION=<tag>` lines).
    #[arg(long, value_name = "FILE", requires = "all")]
    pub(crate) report: Option<std::path::PathBuf>,
}

#[derive(Debug, Clone, Args)]
pub(crate) struct CheckArgs {
    #[command(flatten)]
    pub(crate) path: PathArg,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
    pub(crate) format: ReportFormat,
    /// Read the refs being pushed from standard input (the pre-push hook does).
    #[arg(long, hide = true)]
    pub(crate) pre_push: bool,
}

#[derive(Debug, Subcommand)]
pub(crate) enum HookCommand {
    /// Write `.git/hooks/pre-push` running `ciux check`.
    Install(PathArg),
    /// Remove the pre-push hook written by `ciux hook install`.
    Uninstall(PathArg),
}

#[derive(Debug, Clone, Args)]
pub(crate) struct MigrateArgs {
    #[command(flatten)]
    pub(crate) path: PathArg,
}

/// Options of the streaming-alert benchmark harness (docs/bench.md). With no
/// option: 200,000 generated alerts at full speed through the embedded pipeline.
#[derive(Debug, Clone, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub(crate) struct BenchArgs {
    #[command(subcommand)]
    pub(crate) action: Option<BenchAction>,
    /// Alerts to produce [default: 200000, or all of --from, or unbounded with --duration].
    #[arg(long, value_name = "N")]
    pub(crate) alerts: Option<u64>,
    /// Stop producing after this many seconds.
    #[arg(long, value_name = "S")]
    pub(crate) duration: Option<f64>,
    /// Produce at a steady rate, alerts per second.
    #[arg(long, value_name = "N", conflicts_with_all = ["max", "visit_size"])]
    pub(crate) rate: Option<f64>,
    /// Produce in visits: bursts of N alerts every --visit-interval seconds.
    #[arg(long, value_name = "N", conflicts_with = "max")]
    pub(crate) visit_size: Option<u64>,
    /// Seconds between two visits.
    #[arg(
        long,
        value_name = "S",
        default_value_t = 40.0,
        requires = "visit_size"
    )]
    pub(crate) visit_interval: f64,
    /// Produce as fast as possible (the default load shape).
    #[arg(long)]
    pub(crate) max: bool,
    /// Seed of the alert generator: same seed, same alerts.
    #[arg(long, default_value_t = 1)]
    pub(crate) seed: u64,
    /// Shares of generated classes, e.g. `bogus=0.3,solar_system=0.1,variable_star=0.25,transient=0.05`.
    #[arg(long, value_name = "SPEC")]
    pub(crate) mix: Option<String>,
    /// Replay an Avro container file (`.avro`, `.avro.gz`) or those of a directory instead of generating alerts.
    #[arg(long, value_name = "PATH")]
    pub(crate) from: Option<PathBuf>,
    /// Field mapping and rules: ztf, lsst or synthetic [default: from the schema name].
    #[arg(long, value_name = "SURVEY")]
    pub(crate) survey: Option<String>,
    /// Replay the --from archive cyclically (fresh candidate ids) until --alerts or --duration.
    #[arg(long = "loop", requires = "from")]
    pub(crate) replay: bool,
    /// Messages are in the Confluent wire format (magic byte, schema id) with this writer schema.
    #[arg(long, value_name = "FILE")]
    pub(crate) schema_file: Option<PathBuf>,
    /// Kafka bootstrap servers `host:port[,...]`; without it the embedded transport runs.
    #[arg(long, value_name = "HOSTS")]
    pub(crate) brokers: Option<String>,
    /// Input topic; output topics are `TOPIC.CLASS`.
    #[arg(long, default_value = "alerts")]
    pub(crate) topic: String,
    /// Partitions of topics the harness creates.
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub(crate) partitions: i32,
    /// Write routed alerts to the output topics `TOPIC.CLASS` on the broker.
    #[arg(long, requires = "brokers")]
    pub(crate) forward: bool,
    /// Run as a member of the group run NAME: the Kafka consumer group NAME
    /// shares the input topic among every member (see --member).
    #[arg(
        long,
        value_name = "NAME",
        requires = "brokers",
        conflicts_with = "consume_only"
    )]
    pub(crate) group: Option<String>,
    /// This member K of M: produce the alerts i with i % M == K [default: 0/1].
    #[arg(long, value_name = "K/M", requires = "group")]
    pub(crate) member: Option<String>,
    /// Only produce alerts into the input topic (drive a deployed broker).
    #[arg(long, requires = "brokers", conflicts_with = "consume_only")]
    pub(crate) produce_only: bool,
    /// Only read the output topics `TOPIC.CLASS` and expect --expect alerts there.
    #[arg(long, requires_all = ["brokers", "expect"])]
    pub(crate) consume_only: bool,
    /// Output topics to read instead of `TOPIC.CLASS` (with --consume-only), comma-separated.
    #[arg(
        long,
        value_name = "LIST",
        value_delimiter = ',',
        requires = "consume_only"
    )]
    pub(crate) output_topics: Option<Vec<String>>,
    /// Alerts expected on the output topics (with --consume-only).
    #[arg(long, value_name = "N", requires = "consume_only")]
    pub(crate) expect: Option<u64>,
    /// Measure the raw transport: pre-encoded alerts, no decoding.
    #[arg(long)]
    pub(crate) raw: bool,
    /// Send (and read) each alert as a one-alert Avro container file, as the
    /// reference alert simulator does, instead of a schemaless datum.
    #[arg(long)]
    pub(crate) container: bool,
    /// Print the Avro schema of generated alerts and exit.
    #[arg(long, exclusive = true)]
    pub(crate) schema: bool,
    /// Write the generated alerts (--alerts, --seed, --mix, --survey) to an Avro container file and exit.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["from", "brokers", "raw", "duration"])]
    pub(crate) write: Option<PathBuf>,
    /// Pipeline worker threads [default: the number of cores].
    #[arg(long, value_name = "N")]
    pub(crate) workers: Option<usize>,
    /// Producer threads [default: half the cores, at least one].
    #[arg(long, value_name = "N")]
    pub(crate) producers: Option<usize>,
    /// Seconds consumers wait for missing alerts once production is over.
    #[arg(long, value_name = "S", default_value_t = 10.0)]
    pub(crate) drain_timeout: f64,
    /// Write the JSON report to FILE (`-`: stdout).
    #[arg(long, value_name = "FILE")]
    pub(crate) report: Option<PathBuf>,
    /// Draw throughput over time and the latency distribution into FILE.svg.
    #[arg(long, value_name = "FILE")]
    pub(crate) chart: Option<PathBuf>,
    /// Fail unless end-to-end throughput is at least N alerts/s.
    #[arg(long, value_name = "N")]
    pub(crate) min_throughput: Option<f64>,
    /// Fail if the 99th-percentile latency exceeds MS milliseconds.
    #[arg(long, value_name = "MS")]
    pub(crate) max_p99_ms: Option<f64>,
    /// Fail if more than N alerts are lost.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub(crate) max_loss: u64,
    /// Fail unless exactly N output topics received alerts.
    #[arg(long, value_name = "N")]
    pub(crate) expect_topics: Option<usize>,
    /// Compare with an earlier report: fail on a regression beyond --max-regression.
    #[arg(long, value_name = "OLD.json")]
    pub(crate) baseline: Option<PathBuf>,
    /// Regression allowed against --baseline, percent (throughput down, p99 up).
    #[arg(long, value_name = "PCT", default_value_t = 10.0)]
    pub(crate) max_regression: f64,
}

#[derive(Debug, Clone, Subcommand)]
pub(crate) enum BenchAction {
    /// Merge the reports of the members of one group run (--group) into one,
    /// counting each alert once by its candidate id.
    Merge(BenchMergeArgs),
}

#[derive(Debug, Clone, Args)]
pub(crate) struct BenchMergeArgs {
    /// The member reports (`--report` of each `ciux bench --group`).
    #[arg(required = true, value_name = "REPORT")]
    pub(crate) reports: Vec<PathBuf>,
    /// Write the merged JSON report to FILE (`-`: stdout).
    #[arg(long, value_name = "FILE")]
    pub(crate) report: Option<PathBuf>,
    /// Fail if more than N alerts of the run are lost.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub(crate) max_loss: u64,
}

#[derive(Debug, Subcommand)]
pub(crate) enum ImageCommand {
    /// Make the image this workflow built available to the tests: nothing to do
    /// for a remote image, check the local engine on a self-hosted runner, else
    /// load the archive (docker-archive or OCI) into docker or podman.
    Load(ImageLoadArgs),
    /// Remove local images matching a pattern older than an age, then dangling ones.
    Cleanup(ImageCleanupArgs),
}

#[derive(Debug, Clone, Args)]
pub(crate) struct ImageLoadArgs {
    /// Runner label(s), e.g. `ubuntu-latest` or `['self-hosted']`.
    #[arg(short = 'r', long)]
    pub(crate) runner: String,
    /// The image reference (`CIUX_IMAGE_URL`).
    #[arg(short = 'i', long)]
    pub(crate) image_url: String,
    /// `true` when this workflow built the image (`CIUX_BUILD`); anything else uses the remote image.
    #[arg(short = 'b', long)]
    pub(crate) build_status: String,
    /// The image archive on a hosted runner (`docker save` or OCI layout tar).
    #[arg(short = 'a', long, default_value = "artifacts/image.tar")]
    pub(crate) artifact_path: PathBuf,
    /// Also load the image into this kind cluster.
    #[arg(long, value_name = "NAME")]
    pub(crate) kind_cluster: Option<String>,
}

#[derive(Debug, Clone, Args)]
pub(crate) struct ImageCleanupArgs {
    /// Images whose `repository:tag` contains this text.
    #[arg(short = 'p', long)]
    pub(crate) pattern: String,
    /// Remove matching images older than this: a number and m, h, d or w.
    #[arg(short = 'm', long, default_value = "5d")]
    pub(crate) max_age: String,
    /// Print what would be removed and remove nothing.
    #[arg(long)]
    pub(crate) dry_run: bool,
}

#[derive(Debug, Clone, Args)]
pub(crate) struct ManArgs {
    /// Write `ciux.1` and one page per subcommand (`ciux-get-image.1`, ...) here.
    #[arg(long, value_name = "DIR")]
    pub(crate) out_dir: Option<PathBuf>,
}

/// `-t/--tmp-registry`: a registry path in the one image-reference grammar.
fn parse_registry(text: &str) -> Result<String, String> {
    crate::registry::check_registry_prefix(text).map(|()| text.to_owned())
}
