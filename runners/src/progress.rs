//! Progress display for long (soak) runs.

use indicatif::{ProgressBar, ProgressStyle};
use std::time::Duration;

/// A spinner with elapsed time, for a run of `duration`; drawn on stderr.
pub fn soak_bar(duration: Duration) -> ProgressBar {
    let bar = ProgressBar::new_spinner();
    bar.set_style(
        ProgressStyle::with_template("{spinner} {elapsed}/{prefix} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    bar.set_prefix(format!("{}s", duration.as_secs()));
    bar.enable_steady_tick(Duration::from_millis(200));
    bar
}
