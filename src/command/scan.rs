//! `sprawl scan`: files, directories or standard input in, a report of the secrets found
//! out.

use std::{
    io::{self, IsTerminal},
    path::PathBuf,
};

use anyhow::Result;

use crate::finding::{escape_control, redact_message};

use super::{finish, load_rules, prepare, scan_options, UsageError};
use crate::{
    cli::ScanArgs, config::ConfigFile, matcher::Matcher, progress::Progress, scan::scan_paths,
};

pub fn scan(args: ScanArgs) -> Result<i32> {
    let paths = if args.paths.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        args.paths.clone()
    };
    check_paths(&paths)?;
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
    let prepared = prepare(&args.common, &cfg)?;
    let progress = Progress::new(
        !args.common.no_progress && io::stderr().is_terminal(),
        "files",
    );
    let outcome = scan_paths(&matcher, &opts, &progress);
    progress.finish();
    let s = &outcome.stats;
    let scanned = s.files + s.skipped.too_large > 0 || outcome.errors.is_empty();
    finish(prepared, &matcher, outcome, &args.common, &cfg, scanned)
}

/// Every path named on the command line must exist and be a file or a directory (or `-`):
/// anything else is a usage error naming it, before any work.
fn check_paths(paths: &[PathBuf]) -> Result<()> {
    let mut bad = Vec::new();
    for p in paths {
        if p.as_os_str() == "-" {
            continue;
        }
        // Redacting builds the built-in matcher a second time: only for a path that is wrong.
        let shown = || redact_message(&escape_control(&p.display().to_string()));
        match std::fs::metadata(p) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                bad.push(format!("{}: no such file or directory", shown()))
            }
            Err(e) => bad.push(format!("{}: {e}", shown())),
            Ok(m) if m.is_file() || m.is_dir() => {}
            Ok(m) => bad.push(format!(
                "{}: is {}, not a file or directory",
                shown(),
                special_kind(&m)
            )),
        }
    }
    if bad.is_empty() {
        Ok(())
    } else {
        Err(UsageError(format!("cannot scan {}", bad.join("; "))).into())
    }
}

#[cfg(unix)]
fn special_kind(m: &std::fs::Metadata) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    let t = m.file_type();
    if t.is_fifo() {
        "a FIFO (named pipe; to scan a stream, pipe it to `sprawl scan -`)"
    } else if t.is_char_device() || t.is_block_device() {
        "a device"
    } else if t.is_socket() {
        "a socket"
    } else {
        "a special file"
    }
}

#[cfg(not(unix))]
fn special_kind(_: &std::fs::Metadata) -> &'static str {
    "a special file"
}
