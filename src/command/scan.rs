//! `sprawl scan`: files, directories or standard input in, a report of the secrets found
//! out.

use std::{
    io::{self, IsTerminal},
    path::PathBuf,
};

use anyhow::Result;

use super::{finish, load_rules, scan_options};
use crate::{
    cli::ScanArgs, config::ConfigFile, matcher::Matcher, progress::Progress, scan::scan_paths,
};

pub fn scan(args: ScanArgs) -> Result<i32> {
    let paths = if args.paths.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        args.paths.clone()
    };
    let cfg = ConfigFile::discover(args.common.config.as_deref(), &paths)?;
    let rules = load_rules(&cfg, &args.common.rules)?;
    let matcher = Matcher::new(&rules)?;
    let opts = scan_options(
        &cfg,
        &args.common,
        paths,
        &args.exclude,
        args.follow_symlinks,
        args.max_decompressed_size.as_deref(),
    )?;
    let progress = Progress::new(
        !args.common.no_progress && io::stderr().is_terminal(),
        "files",
    );
    let outcome = scan_paths(&matcher, &opts, &progress);
    progress.finish();
    let s = &outcome.stats;
    let scanned = s.files + s.skipped.too_large > 0 || outcome.errors.is_empty();
    finish(outcome, &args.common, &cfg, scanned)
}
