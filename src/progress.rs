//! Progress on stderr for long scans: counts in (files, bytes, repositories done), an
//! indicatif bar out, or nothing at all when stderr is not a terminal or `--no-progress` was
//! given; in a run over many repositories without a bar, one line per repository (CI logs).

use std::{
    sync::atomic::{AtomicU64, Ordering},
    time::{Duration, Instant},
};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// A shared, thread-safe progress display (a no-op when disabled).
pub struct Progress {
    bar: Option<ProgressBar>,
    items: AtomicU64,
    noun: &'static str,
    repos: Option<Repos>,
}

/// Repositories of a run over many: how many, how many done, and whether to print a line
/// for each (no bar).
struct Repos {
    total: u64,
    done: AtomicU64,
    lines: bool,
    started: Instant,
}

impl Progress {
    /// `noun` names what is counted ("files", "blobs").
    pub fn new(enabled: bool, noun: &'static str) -> Progress {
        let bar = enabled.then(|| {
            let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr_with_hz(8));
            bar.set_style(
                ProgressStyle::with_template(
                    "{spinner} {msg} · {binary_bytes} ({binary_bytes_per_sec}) · {elapsed}",
                )
                .expect("valid template"),
            );
            bar.enable_steady_tick(Duration::from_millis(125));
            bar
        });
        Progress {
            bar,
            items: AtomicU64::new(0),
            noun,
            repos: None,
        }
    }

    /// Count `total` repositories: in the bar (done / total, ETA), or with `lines` and no
    /// bar, one line on stderr as each is done.
    pub fn with_repos(mut self, total: usize, lines: bool) -> Progress {
        self.repos = Some(Repos {
            total: total as u64,
            done: AtomicU64::new(0),
            lines,
            started: Instant::now(),
        });
        self
    }

    /// One repository done; `what` says how it went (one short phrase, no secret).
    pub fn repo_done(&self, label: &str, what: &str) {
        let Some(r) = &self.repos else { return };
        let done = r.done.fetch_add(1, Ordering::Relaxed) + 1;
        let elapsed = r.started.elapsed().as_secs_f64();
        let left = r.total.saturating_sub(done);
        let eta = elapsed / done as f64 * left as f64;
        match &self.bar {
            Some(bar) => bar.set_message(format!(
                "{done}/{} repositories, ETA {}s · {} {}",
                r.total,
                eta.round(),
                self.items.load(Ordering::Relaxed),
                self.noun
            )),
            None if r.lines => eprintln!(
                "[{done}/{}] {}: {what} ({:.1}s elapsed)",
                r.total,
                crate::finding::escape_control(label),
                elapsed
            ),
            None => {}
        }
    }

    pub fn disabled() -> Progress {
        Progress::new(false, "files")
    }

    /// One more item of `bytes` done.
    pub fn item(&self, bytes: u64) {
        if let Some(bar) = &self.bar {
            let n = self.items.fetch_add(1, Ordering::Relaxed) + 1;
            bar.inc(bytes);
            if n % 32 == 1 && self.repos.is_none() {
                bar.set_message(format!("{n} {}", self.noun));
            }
        }
    }

    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
