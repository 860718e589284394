//! `vdsoconf manual`: the manual pages and shell completions, generated from
//! the command-line definitions so they cannot drift from `--help`.

use clap_complete::Shell;
use std::path::{Path, PathBuf};

/// Writes DIR/man1/*.1 and DIR/completions/* for `cmd`; returns the files.
pub fn write(dir: &Path, mut cmd: clap::Command) -> Result<Vec<PathBuf>, String> {
    let man = dir.join("man1");
    let completions = dir.join("completions");
    for d in [&man, &completions] {
        std::fs::create_dir_all(d).map_err(|e| format!("{}: {e}", d.display()))?;
    }
    cmd = cmd.disable_help_subcommand(true);
    cmd.build();
    clap_mangen::generate_to(cmd.clone(), &man).map_err(|e| format!("{}: {e}", man.display()))?;
    let mut written = list(&man)?;
    for shell in [Shell::Bash, Shell::Zsh, Shell::Fish] {
        let file = clap_complete::generate_to(shell, &mut cmd, "vdsoconf", &completions)
            .map_err(|e| format!("{}: {e}", completions.display()))?;
        written.push(file);
    }
    Ok(written)
}

fn list(dir: &Path) -> Result<Vec<PathBuf>, String> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .flatten()
        .map(|e| e.path())
        .collect();
    files.sort();
    Ok(files)
}
