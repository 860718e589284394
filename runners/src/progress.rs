//! Progress display for long (soak) runs.

use indicatif::{ProgressBar, ProgressStyle};
use std::time::Duration;

/// A spinner with elapsed time, for a run of `duration`; drawn on stderr. It
/// moves when readings are reported (no ticking thread of its own: a machine
/// short of threads must not lose the check to its progress display).
pub fn soak_bar(duration: Duration) -> ProgressBar {
    let bar = ProgressBar::new_spinner();
    bar.set_style(
        ProgressStyle::with_template("{spinner} {elapsed}/{prefix} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    bar.set_prefix(format!("{}s", duration.as_secs()));
    bar
}
