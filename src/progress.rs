//! Progress on stderr for long scans: counts in (files, bytes), an indicatif bar out, or
//! nothing at all when stderr is not a terminal or `--no-progress` was given.

use std::{
    sync::atomic::{AtomicU64, Ordering},
    time::Duration,
};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// A shared, thread-safe progress display (a no-op when disabled).
pub struct Progress {
    bar: Option<ProgressBar>,
    items: AtomicU64,
    noun: &'static str,
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
            if n % 32 == 1 {
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
