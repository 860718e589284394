//! Results stream as the checks finish; SIGINT to the main process (not its
//! group) stops the check's child, reaps it and keeps the finished results; a
//! main process killed outright takes its child with it.

use crate::common::*;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The children of `pid` (from /proc).
fn children(pid: u32) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|p| {
            std::fs::read_to_string(format!("/proc/{p}/stat"))
                .ok()
                .and_then(|s| {
                    let after = s.rsplit_once(')')?.1.split_whitespace().nth(1)?.to_string();
                    after.parse::<u32>().ok()
                })
                == Some(pid)
        })
        .collect()
}

fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| {
        !s.rsplit_once(')')
            .is_some_and(|(_, r)| r.trim_start().starts_with('Z'))
    })
}

/// Starts a long run (30 s per monotonicity check) and reads its output until
/// the image checks are reported and a check's child is running: the lines
/// came while the run was still going.
fn long_run(report_dir: &std::path::Path) -> Result<(Child, Vec<String>, u32), String> {
    let mut child = Command::new(env!("CARGO_BIN_EXE_vdsoconf"))
        .args(["run", "--duration", "30", "--report-dir"])
        .arg(report_dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| e.to_string())?;
    let mut lines = Vec::new();
    let mut reader = BufReader::new(child.stdout.take().ok_or("no stdout")?);
    while !lines.iter().any(|l: &String| l.contains("::crosscheck::")) {
        let mut line = String::new();
        if reader.read_line(&mut line).map_err(|e| e.to_string())? == 0 {
            return Err(format!("the run ended early: {lines:?}"));
        }
        lines.push(line.trim_end().to_string());
    }
    if child.try_wait().map_err(|e| e.to_string())?.is_some() {
        return Err("the run had already ended: nothing was streamed".into());
    }
    // Leave the rest of stdout to a thread so the run never blocks on it.
    std::thread::spawn(move || {
        let _ = std::io::copy(&mut reader, &mut std::io::sink());
    });
    let start = Instant::now();
    let case = loop {
        if let Some(&c) = children(child.id()).first() {
            break c;
        }
        if start.elapsed() > Duration::from_secs(30) {
            return Err("no check child appeared".into());
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Ok((child, lines, case))
}

fn wait_within(child: &mut Child, limit: Duration) -> Result<std::process::ExitStatus, String> {
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().map_err(|e| e.to_string())? {
            return Ok(status);
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            return Err(format!("still running {limit:?} after the signal"));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

pub fn results_stream_and_sigint_keeps_them() -> Result<(), String> {
    let dir = scratch("sigint");
    let report_dir = dir.join("r");
    let (mut child, streamed, case) = long_run(&report_dir)?;
    // SAFETY: kill sends a signal to the process we started.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let status = wait_within(&mut child, Duration::from_secs(10))?;
    let mut stderr = String::new();
    if let Some(mut e) = child.stderr.take() {
        use std::io::Read;
        let _ = e.read_to_string(&mut stderr);
    }
    if status.code() != Some(130) || !stderr.contains("stopped by SIGINT") {
        return Err(format!("exit {:?}, stderr {stderr:?}", status.code()));
    }
    if alive(case) {
        return Err(format!("the check's child {case} is still running"));
    }
    let json =
        std::fs::read_to_string(report_dir.join("results.json")).map_err(|e| e.to_string())?;
    let report: serde_json::Value = serde_json::from_str(&json).map_err(|e| e.to_string())?;
    let finished = report["results"].as_array().map_or(0, Vec::len);
    let passes = streamed.iter().filter(|l| l.starts_with("PASS")).count();
    if report["interrupted"].as_str().is_none() || finished < passes || passes == 0 {
        return Err(format!(
            "results.json: interrupted {:?}, {finished} results for {passes} streamed passes",
            report["interrupted"]
        ));
    }
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

pub fn a_killed_main_process_leaves_no_child() -> Result<(), String> {
    let dir = scratch("sigkill");
    let (mut child, _, case) = long_run(&dir.join("r"))?;
    child.kill().map_err(|e| e.to_string())?;
    let _ = child.wait();
    let start = Instant::now();
    while alive(case) {
        if start.elapsed() > Duration::from_secs(5) {
            return Err(format!(
                "the check's child {case} outlived the killed main process"
            ));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
