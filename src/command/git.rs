//! `sprawl git`: repositories in, a report of the secrets in their history (or a range, or
//! the index) out.

use std::{
    io::{self, IsTerminal},
    path::PathBuf,
};

use anyhow::Result;

use super::{finish, git_options, load_rules, prepare, EXIT_FINDINGS};
use crate::{
    cli::GitArgs,
    config::ConfigFile,
    git_scan::{scan_git, GitMode},
    matcher::Matcher,
    progress::Progress,
};

pub fn git(args: GitArgs) -> Result<i32> {
    let repos = if args.repos.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        args.repos.clone()
    };
    let cfg = ConfigFile::discover(args.common.config.as_deref(), &repos)?;
    let rules = load_rules(&cfg, &args.common.rules)?;
    let matcher = Matcher::new(&rules)?;
    let mode = if args.staged {
        GitMode::Staged
    } else if let Some(r) = &args.range {
        GitMode::Range(r.clone())
    } else if let Some(rev) = &args.since {
        GitMode::Range(format!("{rev}..HEAD"))
    } else {
        GitMode::History {
            all_objects: args.all_objects,
        }
    };
    let staged = mode == GitMode::Staged;
    let opts = git_options(&cfg, &args.common, repos, mode)?;
    let prepared = prepare(&args.common, &cfg)?;
    let progress = Progress::new(
        !staged && !args.common.no_progress && io::stderr().is_terminal(),
        "blobs",
    );
    let outcome = scan_git(&matcher, &opts, &progress);
    progress.finish();
    let scanned = outcome.errors.len() < opts.repos.len() || outcome.stats.blobs > 0;
    let code = finish(prepared, &matcher, outcome, &args.common, &cfg, scanned)?;
    if staged && code == EXIT_FINDINGS {
        eprintln!(
            "sprawl: this commit adds a credential (above). Remove it from the staged change and \
             rotate the key: it has been on disk. If it is a test value, mark the line with \
             `sprawl:allow`, or add its fingerprint to a baseline (--write-baseline / --baseline). \
             To commit anyway: git commit --no-verify"
        );
    }
    Ok(code)
}
