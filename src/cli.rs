//! The command line, as clap derive types. Every flag says what it does.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::report::Format;

/// Find credentials sprawled across source trees, git history, notebooks and logs.
#[derive(Debug, Parser)]
#[command(name = "sprawl", version, about, max_term_width = 100)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Scan files and directories (`-` reads standard input).
    Scan(ScanArgs),
    /// Scan git history: every blob reachable from any ref, once (or a range, or the index).
    Git(GitArgs),
    /// Join findings with key inventories and flag lifecycle risk.
    Audit(AuditArgs),
    /// Install a pre-commit hook that runs `sprawl git --staged`.
    InstallHook {
        /// The repository [default: the current directory].
        #[arg(value_name = "REPO", default_value = ".")]
        repo: PathBuf,
        /// Replace an existing pre-commit hook that sprawl did not write.
        #[arg(long)]
        force: bool,
    },
    /// Merge the JSON reports of shards (`sprawl git --shard K/N --format json`) into one,
    /// the report one process would have written for all their repositories; and shard
    /// stores into one store (`--store`).
    Merge(MergeArgs),
    /// Revoke leaked GitHub tokens through GitHub's credential revocation API (a dry run
    /// unless --send), and print a revocation checklist for every other credential.
    Revoke(RevokeArgs),
    /// List or check the detection rules.
    #[command(subcommand)]
    Rules(RulesCommand),
}

#[derive(Debug, Args)]
pub struct MergeArgs {
    /// The shard reports (`sprawl.report/v1` JSON), or shard stores (`--store` files).
    #[arg(value_name = "REPORT.json|STORE", required = true)]
    pub reports: Vec<PathBuf>,

    /// Merge the shard stores given into this store (created if need be).
    #[arg(long, value_name = "FILE")]
    pub store: Option<PathBuf>,

    /// Write the merged report to this file instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct RevokeArgs {
    /// sprawl JSON reports: print the revocation checklist of every credential in them.
    #[arg(value_name = "REPORT.json")]
    pub reports: Vec<PathBuf>,

    /// Scan these paths for the secrets themselves (a report holds none); GitHub tokens found
    /// are what a revocation request carries.
    #[arg(long, value_name = "PATH", num_args = 1..)]
    pub scan: Vec<PathBuf>,

    /// Scan these repositories' whole history for the secrets.
    #[arg(long, value_name = "REPO", num_args = 1..)]
    pub git: Vec<PathBuf>,

    /// Send the revocation request (default: print the request it would send, redacted).
    #[arg(long)]
    pub send: bool,

    /// Extra rule files or directories.
    #[arg(long, value_name = "PATH")]
    pub rules: Vec<PathBuf>,
}

#[derive(Debug, Args)]
pub struct AuditArgs {
    /// sprawl JSON reports (`--format json` output of scan or git) to audit; an inventory
    /// export given here is read as one (and said so).
    #[arg(value_name = "REPORT.json")]
    pub reports: Vec<PathBuf>,

    /// An inventory export, once per file: our register (JSON/CSV), OpenAI, Anthropic, AWS,
    /// GCP, GitHub, Azure. `FORMAT:FILE` gives that file's format (e.g. `gcp-keys:keys.json`).
    #[arg(long, value_name = "FILE")]
    pub inventory: Vec<PathBuf>,

    /// The format of the one --inventory file (with several, use FORMAT:FILE per file).
    #[arg(long, value_name = "FORMAT")]
    pub inventory_format: Option<String>,

    /// Roster CSV of the people still present, one a row, with any of the identity columns
    /// email, github_login, openai_user_id, anthropic_user_id, aws_iam_user, service_account,
    /// and name, team.
    #[arg(long, value_name = "FILE")]
    pub roster: Option<PathBuf>,

    /// Review decisions (TOML or JSON): attested credentials do not fail the audit until
    /// their attestation expires.
    #[arg(long, value_name = "FILE")]
    pub attest: Option<PathBuf>,

    /// Write an attestation file listing every credential still needing a decision (to
    /// --output, or standard output) instead of the report.
    #[arg(long)]
    pub attest_template: bool,

    /// The previous audit (`--format json`): mark each credential new, resolved, unchanged
    /// or changed.
    #[arg(long, value_name = "PREVIOUS.json")]
    pub compare: Option<PathBuf>,

    /// With --compare: exit 1 only for new or worsened risk at or above --fail-on.
    #[arg(long, requires = "compare")]
    pub fail_on_new: bool,

    /// Policy file (`[audit]` of a sprawl.toml) [default: ./sprawl.toml if present].
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,

    /// Audit as of this time (RFC 3339 or YYYY-MM-DD), for reproducible runs.
    #[arg(long, value_name = "TIME")]
    pub now: Option<String>,

    /// Scan these paths now and audit what is found.
    #[arg(long, value_name = "PATH", num_args = 1..)]
    pub scan: Vec<PathBuf>,

    /// Scan these repositories' whole history now and audit what is found.
    #[arg(long, value_name = "REPO", num_args = 1..)]
    pub git: Vec<PathBuf>,

    /// Exit 1 when any category at or above this severity fires [default: policy, or high].
    #[arg(long, value_name = "SEVERITY")]
    pub fail_on: Option<crate::rules::Severity>,

    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: AuditFormat,

    /// Write the audit to this file instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Worker threads for --scan / --git [default: the number of cores].
    #[arg(long, short = 'j', value_name = "N")]
    pub threads: Option<usize>,

    /// Ask each secret's own provider whether it still works (opt-in: sends the secret only to
    /// that provider's documented hosts; see the README's "Is it still live?").
    #[arg(long)]
    pub validate: bool,

    /// Keep validation results in FILE (fingerprints and statuses, never secrets) and reuse
    /// those younger than 24 hours.
    #[arg(long, value_name = "FILE", requires = "validate")]
    pub validate_cache: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum AuditFormat {
    Text,
    Json,
    /// SARIF 2.1.0: one result per credential and category.
    Sarif,
    /// One row per credential, for spreadsheets.
    Csv,
    /// One self-contained HTML page (tiles, charts, timeline, sortable table).
    Html,
}

#[derive(Debug, Args)]
pub struct GitArgs {
    /// Repositories (work trees or bare). Default: the current directory.
    #[arg(value_name = "REPO")]
    pub repos: Vec<PathBuf>,

    /// Only the lines added by the commits of A..B (for CI on a pull request).
    #[arg(long, value_name = "A..B", conflicts_with_all = ["since", "staged", "all_objects"])]
    pub range: Option<String>,

    /// Only the lines added since REV: the same as --range REV..HEAD.
    #[arg(long, value_name = "REV", conflicts_with_all = ["staged", "all_objects"])]
    pub since: Option<String>,

    /// Only the lines added in the index (staged) relative to HEAD: the pre-commit hook.
    #[arg(long, conflicts_with_all = ["all_objects", "validate"])]
    pub staged: bool,

    /// Also scan blobs no ref reaches (dangling and unreachable objects).
    #[arg(long)]
    pub all_objects: bool,

    /// Keep what history scans learn in this SQLite file: later runs read only blobs not yet
    /// scanned with the same rules, and every secret's occurrences keep first seen / last
    /// seen / resolved across runs. Never holds a secret.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["range", "since", "staged", "all_objects"])]
    pub store: Option<PathBuf>,

    /// Scan the repositories listed in FILE: one path or URL a line, `#` starts a comment.
    /// A directory instead of a file: every repository in it (a directory of clones).
    /// Findings carry each repository's label; a repository that cannot be scanned is
    /// reported and the rest go on.
    #[arg(long, value_name = "FILE", conflicts_with = "staged")]
    pub repos_from: Option<PathBuf>,

    /// Where remote repositories (URLs in --repos-from) are kept as bare mirror clones,
    /// fetched again on later runs [default: $XDG_CACHE_HOME/sprawl/clones].
    #[arg(long, value_name = "DIR")]
    pub clone_cache: Option<PathBuf>,

    /// Keep the clone cache under SIZE (e.g. 200GiB): after the clones and fetches, mirrors
    /// this run does not use are deleted, least recently used first.
    #[arg(long, value_name = "SIZE")]
    pub clone_cache_max: Option<String>,

    /// Scan only shard K of N (0 ≤ K < N) of the repositories: each repository's shard is
    /// decided by a hash of its identity, so adding one moves no other.
    #[arg(long, value_name = "K/N", conflicts_with = "shard_count")]
    pub shard: Option<String>,

    /// Scan the shard named by the JOB_COMPLETION_INDEX variable (a Kubernetes Indexed Job)
    /// of N shards: the same as --shard $JOB_COMPLETION_INDEX/N.
    #[arg(long, value_name = "N")]
    pub shard_count: Option<u64>,

    #[command(flatten)]
    pub common: CommonArgs,
}

#[derive(Debug, Args)]
pub struct ScanArgs {
    /// Files and directories to scan; `-` for standard input. Default: the current directory.
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,

    /// Leave out paths matching this glob (gitignore syntax; repeatable).
    #[arg(long, value_name = "GLOB")]
    pub exclude: Vec<String>,

    /// Follow symbolic links (loops are detected and reported).
    #[arg(long)]
    pub follow_symlinks: bool,

    /// Stop inflating a compressed log past this size (gzip bombs) [default: 16GiB].
    #[arg(long, value_name = "SIZE")]
    pub max_decompressed_size: Option<String>,

    #[command(flatten)]
    pub common: CommonArgs,
}

/// Flags shared by every scanning command.
#[derive(Debug, Args, Clone, Default)]
pub struct CommonArgs {
    /// Output format [default: text].
    #[arg(long, value_enum)]
    pub format: Option<Format>,

    /// Write the report to this file instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Extra rule files or directories of `*.toml` rule files (repeatable).
    #[arg(long, value_name = "PATH")]
    pub rules: Vec<PathBuf>,

    /// Suppress findings whose fingerprint is in this baseline file.
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,

    /// Write a baseline of every finding of this run to FILE.
    #[arg(long, value_name = "FILE")]
    pub write_baseline: Option<PathBuf>,

    /// Configuration file [default: sprawl.toml at the scanned root, if present].
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Worker threads [default: the number of cores].
    #[arg(long, short = 'j', value_name = "N")]
    pub threads: Option<usize>,

    /// Files larger than this (e.g. 25MiB, 10MB, 1000) are streamed in 8 MiB windows instead
    /// of read whole: still scanned, in bounded memory. A notebook larger than this cannot be
    /// streamed: it is skipped and counted as too large [default: 25MiB].
    #[arg(long, value_name = "SIZE")]
    pub max_file_size: Option<String>,

    /// Report findings of at least this confidence: high (self-identifying keys), medium
    /// (a provider keyword near a format-valid value), low (generic assignments). Only
    /// medium and high findings make the exit code 1 [default: medium].
    #[arg(long, value_enum, value_name = "LEVEL")]
    pub min_confidence: Option<crate::rules::Confidence>,

    /// Print full secrets in the output (off by default: only redacted forms).
    #[arg(long)]
    pub show_secrets: bool,

    /// Do not show a progress bar.
    #[arg(long)]
    pub no_progress: bool,

    /// Exit 1 only for findings at or above this severity [default: `[scan] fail_on`, or any].
    #[arg(long, value_name = "SEVERITY")]
    pub fail_on: Option<crate::rules::Severity>,

    /// Exit 2 when any file could not be read, even if others were scanned.
    #[arg(long)]
    pub strict: bool,

    /// Colour in text output: auto, always or never.
    #[arg(long, value_name = "WHEN", default_value = "auto")]
    pub color: ColorChoice,
    /// Ask each secret's own provider whether it still works (opt-in: sends the secret only to
    /// that provider's documented hosts; see the README's "Is it still live?").
    #[arg(long)]
    pub validate: bool,

    /// Keep validation results in FILE (fingerprints and statuses, never secrets) and reuse
    /// those younger than 24 hours.
    #[arg(long, value_name = "FILE", requires = "validate")]
    pub validate_cache: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum ColorChoice {
    #[default]
    Auto,
    Always,
    Never,
}

#[derive(Debug, Subcommand)]
pub enum RulesCommand {
    /// Print every rule: id, provider, kind, severity, title.
    List {
        /// Extra rule files or directories.
        #[arg(long, value_name = "PATH")]
        rules: Vec<PathBuf>,
    },
    /// Run every rule's examples through the matcher; fail on any problem.
    Check {
        /// Extra rule files or directories to check with the built-ins.
        #[arg(long, value_name = "PATH")]
        rules: Vec<PathBuf>,
    },
}
