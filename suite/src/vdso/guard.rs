//! Guarded output buffers. Every pointer a vDSO function is given to write through
//! points into a mapping of its own: the output sits in the middle of read-write pages
//! filled with a canary byte, between two PROT_NONE pages. A write outside the output
//! changes canary bytes (seen after the call and reported as an [`Overwrite`]) or hits
//! a guard page (SIGSEGV, the same every time); it never lands on the stack or the
//! heap, so what a broken vDSO does to the process cannot depend on the build's
//! memory layout.
//!
//! Each call inspects [`ZONE`] bytes either side of its outputs and restores them; the
//! rest of a page is inspected when it is unmapped (a thread's pages when the thread
//! ends) and by [`take_overwrites`], which a child process calls when its case is done.

use super::process::page_size;
use serde::{Deserialize, Serialize};
use std::cell::RefCell;
use std::sync::Mutex;

/// The canary byte. As a 32- or 64-bit word it is negative, so no valid time, CPU
/// number or length a vDSO writes past an output can leave it looking untouched.
const CANARY: u8 = 0xa5;
/// Bytes either side of an output that every call inspects.
pub const ZONE: usize = 512;
/// At most this many distinct overwrites are kept.
const KEPT: usize = 32;

/// A write outside an output buffer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Overwrite {
    /// The output's argument name (`cpu`, `ts`, …), or `None` for a byte of a
    /// guarded page outside every output, found when the page was inspected whole.
    pub output: Option<String>,
    /// How many bytes the output holds.
    pub size: usize,
    /// The first and last changed byte, relative to the output's start (negative:
    /// before it), or to the page's start when `output` is `None`.
    pub first: isize,
    pub last: isize,
}

impl Overwrite {
    pub fn describe(&self) -> String {
        let changed = self.last - self.first + 1;
        let bytes = if changed == 1 { "byte" } else { "bytes" };
        let Some(name) = &self.output else {
            return format!(
                "the vDSO wrote outside its outputs: {changed} {bytes} at +{}..+{} of a guarded page changed",
                self.first, self.last
            );
        };
        let size = self.size as isize;
        if self.first >= size {
            format!(
                "the vDSO wrote past the end of `{name}` ({} bytes): {changed} {bytes} after it changed (+{}..+{})",
                self.size, self.first, self.last
            )
        } else if self.last < 0 {
            format!(
                "the vDSO wrote before the start of `{name}` ({} bytes): {changed} {bytes} before it changed ({}..{})",
                self.size, self.first, self.last
            )
        } else {
            format!(
                "the vDSO wrote around `{name}` ({} bytes): bytes {}..{} relative to its start changed",
                self.size, self.first, self.last
            )
        }
    }
}

/// Every write of `overwrites` described, joined into one line.
pub fn describe_all(overwrites: &[Overwrite]) -> String {
    let writes: Vec<String> = overwrites.iter().map(Overwrite::describe).collect();
    writes.join("; ")
}

static OVERWRITES: Mutex<Vec<Overwrite>> = Mutex::new(Vec::new());

fn record(o: Overwrite) {
    let mut all = OVERWRITES.lock().unwrap_or_else(|e| e.into_inner());
    if all.len() < KEPT && !all.contains(&o) {
        all.push(o);
    }
}

/// Everything seen outside an output since the last call, after inspecting the
/// calling thread's pages whole. A child process calls it when its case is done
/// (other threads have ended by then, and their pages were inspected as they did).
pub fn take_overwrites() -> Vec<Overwrite> {
    let _ = PAGES.try_with(|pages| {
        if let Ok(pages) = pages.try_borrow() {
            if let Some(pages) = pages.as_ref() {
                pages.iter().for_each(Region::inspect_whole);
            }
        }
    });
    std::mem::take(&mut *OVERWRITES.lock().unwrap_or_else(|e| e.into_inner()))
}

/// Read-write pages between two PROT_NONE pages, all canary but the output.
struct Region {
    map: usize,
    map_len: usize,
    data: usize,
    data_len: usize,
}

impl Region {
    /// Room for an output of `len` bytes with [`ZONE`] bytes either side.
    fn new(len: usize) -> Result<Region, String> {
        let page = page_size();
        let data_len = (len + 2 * ZONE).div_ceil(page) * page;
        let map_len = data_len + 2 * page;
        // SAFETY: a fresh anonymous mapping, made inaccessible, then its middle opened
        // and filled; nothing else refers to it.
        let map = unsafe {
            libc::mmap(
                core::ptr::null_mut(),
                map_len,
                libc::PROT_NONE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        if map == libc::MAP_FAILED {
            return Err(format!(
                "mmap of a guarded output buffer: {}",
                std::io::Error::last_os_error()
            ));
        }
        let map = map as usize;
        let data = map + page;
        // SAFETY: the middle of the mapping made above.
        if unsafe { libc::mprotect(data as *mut _, data_len, libc::PROT_READ | libc::PROT_WRITE) }
            != 0
        {
            let e = std::io::Error::last_os_error();
            // SAFETY: the mapping made above, unmapped once.
            unsafe { libc::munmap(map as *mut _, map_len) };
            return Err(format!("mprotect of a guarded output buffer: {e}"));
        }
        // SAFETY: `data_len` read-write bytes at `data`, ours alone.
        unsafe { core::ptr::write_bytes(data as *mut u8, CANARY, data_len) };
        Ok(Region {
            map,
            map_len,
            data,
            data_len,
        })
    }

    #[allow(clippy::mut_from_ref)]
    fn bytes(&self) -> &mut [u8] {
        // SAFETY: `data_len` read-write bytes at `data`, owned by this region; the
        // vDSO writes to them only during a call, when no such slice is alive.
        unsafe { core::slice::from_raw_parts_mut(self.data as *mut u8, self.data_len) }
    }

    /// Where an output of `len` bytes goes: the middle, 16-byte aligned.
    fn slot(&self, len: usize) -> usize {
        ((self.data_len - len) / 2) & !15
    }

    /// Copies `value` into the output slot and returns its address.
    fn place(&self, value: &[u8]) -> usize {
        let at = self.slot(value.len());
        self.bytes()[at..at + value.len()].copy_from_slice(value);
        self.data + at
    }

    /// After a call: copies the output back into `value`, records any change in the
    /// zone around it, and restores the zone and the slot to canary.
    fn collect(&self, name: &str, value: &mut [u8]) {
        let len = value.len();
        let at = self.slot(len);
        let bytes = self.bytes();
        value.copy_from_slice(&bytes[at..at + len]);
        let lo = at.saturating_sub(ZONE);
        let hi = (at + len + ZONE).min(self.data_len);
        let changed = |range: core::ops::Range<usize>| {
            let first = range.clone().find(|&i| bytes[i] != CANARY)?;
            let last = range.rev().find(|&i| bytes[i] != CANARY)?;
            Some((first, last))
        };
        let before = changed(lo..at);
        let after = changed(at + len..hi);
        let first = before.or(after).map(|(f, _)| f);
        let last = after.or(before).map(|(_, l)| l);
        if let (Some(first), Some(last)) = (first, last) {
            record(Overwrite {
                output: Some(name.to_string()),
                size: len,
                first: first as isize - at as isize,
                last: last as isize - at as isize,
            });
        }
        bytes[lo..hi].fill(CANARY);
    }

    /// Records any byte of the pages that is not canary (between calls, all are).
    fn inspect_whole(&self) {
        let bytes = self.bytes();
        if let Some(first) = bytes.iter().position(|&b| b != CANARY) {
            let last = bytes.iter().rposition(|&b| b != CANARY).unwrap_or(first);
            record(Overwrite {
                output: None,
                size: 0,
                first: first as isize,
                last: last as isize,
            });
            bytes.fill(CANARY);
        }
    }
}

impl Drop for Region {
    fn drop(&mut self) {
        self.inspect_whole();
        // SAFETY: the mapping made in `new`, unmapped once.
        unsafe { libc::munmap(self.map as *mut _, self.map_len) };
    }
}

/// The largest output the per-thread pages hold; a larger one gets a mapping of its own.
const SMALL: usize = 1024;

thread_local! {
    /// Two regions per thread (for functions with two outputs), made on first use.
    static PAGES: RefCell<Option<[Region; 2]>> = const { RefCell::new(None) };
}

/// Runs `call` with the addresses of guarded copies of `outputs` (name and initial
/// bytes, at most two), then copies back what the call left in them. Changes outside
/// the outputs are recorded for [`take_overwrites`].
pub fn with_outputs<R>(outputs: &mut [(&str, &mut [u8])], call: impl FnOnce(&[usize]) -> R) -> R {
    assert!(outputs.len() <= 2, "at most two guarded outputs per call");
    let small = outputs.iter().all(|(_, v)| v.len() <= SMALL);
    let have_pages = small
        && PAGES
            .try_with(|p| {
                let Ok(mut p) = p.try_borrow_mut() else {
                    return false;
                };
                if p.is_none() {
                    if let (Ok(a), Ok(b)) = (Region::new(SMALL), Region::new(SMALL)) {
                        *p = Some([a, b]);
                    }
                }
                p.is_some()
            })
            .unwrap_or(false);
    if have_pages {
        PAGES.with(|p| run_in(p.borrow().as_ref().expect("made above"), outputs, call))
    } else {
        // Large outputs, or no per-thread pages to be had: mappings of their own.
        let regions: Vec<Region> = outputs
            .iter()
            .map(|(_, v)| Region::new(v.len()))
            .collect::<Result<_, _>>()
            .unwrap_or_else(|e| std::panic::panic_any(crate::checks::Unrunnable(e)));
        run_in(&regions, outputs, call)
    }
}

fn run_in<R>(
    regions: &[Region],
    outputs: &mut [(&str, &mut [u8])],
    call: impl FnOnce(&[usize]) -> R,
) -> R {
    let mut addresses = [0usize; 2];
    for (i, (_, value)) in outputs.iter().enumerate() {
        addresses[i] = regions[i].place(value);
    }
    let result = call(&addresses[..outputs.len()]);
    for (i, (name, value)) in outputs.iter_mut().enumerate() {
        regions[i].collect(name, value);
    }
    result
}

/// A guarded output kept for many calls (a benchmark loop): the address stays the
/// same, and [`GuardedOutput::inspect`] checks and restores the zone around it.
pub struct GuardedOutput {
    region: Region,
    name: &'static str,
    initial: Vec<u8>,
    address: usize,
}

impl GuardedOutput {
    pub fn new(name: &'static str, initial: &[u8]) -> Result<Self, String> {
        let region = Region::new(initial.len())?;
        let address = region.place(initial);
        Ok(GuardedOutput {
            region,
            name,
            initial: initial.to_vec(),
            address,
        })
    }

    pub fn address(&self) -> usize {
        self.address
    }

    /// Records any write outside the output since the last inspection, and puts the
    /// output back as it was made.
    pub fn inspect(&mut self) {
        let mut value = self.initial.clone();
        self.region.collect(self.name, &mut value);
        self.address = self.region.place(&self.initial);
    }
}

impl Drop for GuardedOutput {
    /// The output is inspected (and its slot restored to canary) before its pages are
    /// inspected whole and unmapped.
    fn drop(&mut self) {
        let mut value = self.initial.clone();
        self.region.collect(self.name, &mut value);
    }
}

/// Plain C data (no pointers, no invariants): every byte pattern a vDSO may leave
/// in it is a valid value.
///
/// # Safety
/// Only for `#[repr(C)]` structs of integers, and integers.
pub unsafe trait Plain: Copy {}

/// The bytes of a [`Plain`] value, for [`with_outputs`].
pub fn as_bytes_mut<T: Plain>(value: &mut T) -> &mut [u8] {
    // SAFETY: `T: Plain`: any bytes are a valid `T`, and the slice covers exactly it.
    unsafe { core::slice::from_raw_parts_mut((value as *mut T).cast::<u8>(), size_of::<T>()) }
}
