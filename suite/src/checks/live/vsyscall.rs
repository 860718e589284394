//! x86_64's vsyscall page (the kernel selftests' test_vsyscall and
//! vdso_test_correctness): the mode /proc/self/maps shows agrees with the
//! kernel command line and the spec; where the page is mapped each entry answers
//! like the syscall, and where it is not a call faults; reading it faults
//! unless the mode is `emulate`. Each check runs in a child that may die.

use super::{allowed_cpus, pin, restore_affinity};
use crate::checks::group::{About, CallOutcome, CheckGroup, Runs};
use crate::checks::plan::{Case, Group, PlannedCheck, Target};
use crate::checks::result::{CheckResult, Problem};
use crate::spec::{ArchSpec, SymbolKind, VsyscallMode, VsyscallPageSpec};
use crate::vdso::syscall::{self, Errno};
use crate::vdso::vsyscall_page;

/// The `vsyscall` group: the page's mode, a read of it, and a call of each entry.
pub struct VsyscallGroup;
pub static GROUP: VsyscallGroup = VsyscallGroup;

/// The subject of the check that reads the page.
const READ: &str = "read";

impl CheckGroup for VsyscallGroup {
    fn about(&self) -> About {
        About {
            group: Group::Vsyscall,
            name: "vsyscall",
            what: "x86_64's vsyscall page: its mode is the kernel command line's and one the spec allows; reads fault unless emulated; its entries answer within the syscall's readings",
            column: None,
            runs: Runs::InChildThatMayDie,
        }
    }

    fn plan(&self, spec: &ArchSpec, add: &mut dyn FnMut(String, Case, String)) {
        let Some(page) = &spec.vsyscall_page else {
            return;
        };
        add(
            READ.into(),
            Case::default(),
            format!(
                "the page at {:#x} is mapped as its mode says (one of {}): reading it faults unless the mode is emulate",
                page.address,
                modes(page)
            ),
        );
        for entry in &page.entries {
            let name = entry.kind.name();
            add(
                name.into(),
                Case {
                    name: Some(name.into()),
                    ..Case::default()
                },
                format!(
                    "{name} at {:#x} answers as the syscall where the page is mapped, and faults where it is not",
                    page.address + entry.offset
                ),
            );
        }
    }

    fn probe(
        &self,
        check: &PlannedCheck,
        target: &Target,
        report: &mut dyn FnMut(Option<Result<isize, Errno>>),
    ) -> Result<i64, CheckResult> {
        let page = page_of(&target.spec)?;
        if !vsyscall_page::CALLABLE {
            return Err(CheckResult::skip(
                "only an x86_64 build of the runner can call or read the vsyscall page",
            ));
        }
        let seen = PageSeen::read(page.address)?;
        report(Some(Ok(seen.encode())));
        let Some(name) = &check.case.name else {
            return Ok(i64::from(vsyscall_page::read_first_byte(page.address)));
        };
        let entry = page
            .entries
            .iter()
            .find(|e| e.kind.name() == name)
            .ok_or_else(|| CheckResult::fail(format!("no entry {name} in the spec's page")))?;
        let reading = read_entry(entry.kind, page.address + entry.offset);
        let verdict = judge_vsyscall_entry(name, &reading);
        if verdict.is_pass() {
            Ok(reading.returned)
        } else {
            Err(verdict)
        }
    }

    fn judge_probe(
        &self,
        check: &PlannedCheck,
        spec: &ArchSpec,
        sys: Option<Result<isize, Errno>>,
        call: CallOutcome,
    ) -> CheckResult {
        let page = match page_of(spec) {
            Ok(page) => page,
            Err(r) => return r,
        };
        let seen = match sys {
            Some(Ok(code)) => PageSeen::decode(code),
            _ => return CheckResult::fail("the child did not say what /proc/self/maps shows"),
        };
        judge_vsyscall(page, &seen, check.case.name.as_deref(), call)
    }
}

fn page_of(spec: &ArchSpec) -> Result<&VsyscallPageSpec, CheckResult> {
    spec.vsyscall_page
        .as_ref()
        .ok_or_else(|| CheckResult::fail("the spec has no vsyscall page"))
}

fn modes(page: &VsyscallPageSpec) -> String {
    let names: Vec<&str> = page.modes.iter().map(|m| m.name()).collect();
    names.join(", ")
}

/// What /proc/self/maps shows of the page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MapsShows {
    /// No `[vsyscall]` line.
    Nothing,
    /// `--xp` at the spec's address.
    ExecuteOnly,
    /// `r-xp` at the spec's address.
    ReadExecute,
    /// A `[vsyscall]` line with other permissions or at another address.
    Other,
}

/// What the page's mode looks like from inside a process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageSeen {
    pub maps: MapsShows,
    /// `vsyscall=` on the kernel command line (its last one), if any;
    /// `Err(())` for a value no kernel knows.
    pub cmdline: Option<Result<VsyscallMode, ()>>,
}

impl PageSeen {
    /// Reads /proc/self/maps and /proc/cmdline; `Err` is the skip when there
    /// are no maps to read (no `/proc`): an absent line would mean no page.
    pub fn read(address: u64) -> Result<PageSeen, CheckResult> {
        let maps = std::fs::read_to_string("/proc/self/maps").map_err(|e| {
            CheckResult::unrunnable(format!(
                "/proc/self/maps, which says whether the page is mapped: {e}"
            ))
        })?;
        let cmdline = std::fs::read_to_string("/proc/cmdline").unwrap_or_default();
        Ok(PageSeen::parse(&maps, &cmdline, address))
    }

    pub fn parse(maps: &str, cmdline: &str, address: u64) -> PageSeen {
        let line = maps.lines().find(|l| l.trim_end().ends_with("[vsyscall]"));
        let maps = match line {
            None => MapsShows::Nothing,
            Some(line) => {
                let mut fields = line.split_whitespace();
                let start = fields
                    .next()
                    .and_then(|range| range.split('-').next())
                    .and_then(|a| u64::from_str_radix(a, 16).ok());
                match (start == Some(address), fields.next()) {
                    (true, Some("--xp")) => MapsShows::ExecuteOnly,
                    (true, Some("r-xp")) => MapsShows::ReadExecute,
                    _ => MapsShows::Other,
                }
            }
        };
        let cmdline = cmdline
            .split_whitespace()
            .take_while(|w| *w != "--")
            .filter_map(|w| w.strip_prefix("vsyscall="))
            .last()
            .map(|v| {
                VsyscallMode::ALL
                    .into_iter()
                    .find(|m| m.name() == v)
                    .ok_or(())
            });
        PageSeen { maps, cmdline }
    }

    /// The mode the maps line shows, if it shows one.
    pub fn mode(&self) -> Option<VsyscallMode> {
        match self.maps {
            MapsShows::Nothing => Some(VsyscallMode::None),
            MapsShows::ExecuteOnly => Some(VsyscallMode::Xonly),
            MapsShows::ReadExecute => Some(VsyscallMode::Emulate),
            MapsShows::Other => None,
        }
    }

    /// As the one number a child reports before the call that may kill it.
    pub fn encode(&self) -> isize {
        let maps = self.maps as isize;
        let cmdline = match self.cmdline {
            None => 0,
            Some(Ok(m)) => 1 + m as isize,
            Some(Err(())) => 4,
        };
        maps | cmdline << 4
    }

    pub fn decode(code: isize) -> PageSeen {
        let maps = match code & 0xf {
            0 => MapsShows::Nothing,
            1 => MapsShows::ExecuteOnly,
            2 => MapsShows::ReadExecute,
            _ => MapsShows::Other,
        };
        let cmdline = match code >> 4 {
            0 => None,
            n @ 1..=3 => Some(Ok(VsyscallMode::ALL[(n - 1) as usize])),
            _ => Some(Err(())),
        };
        PageSeen { maps, cmdline }
    }
}

/// One call of an entry between two readings of the syscall it stands for:
/// what it returned, what it stored, and the syscall's values before and
/// after (equal, for getcpu pinned to one CPU).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryReading {
    pub returned: i64,
    /// What a correct entry returns: 0, or time's seconds (its `stored[0]`).
    pub expected_return: i64,
    pub stored: Vec<i128>,
    pub before: Vec<i128>,
    pub after: Vec<i128>,
    /// A syscall that failed, or getcpu that could not be pinned.
    pub error: Option<String>,
}

/// Calls the entry of `kind` at `address` between its syscall's readings.
fn read_entry(kind: SymbolKind, address: u64) -> EntryReading {
    let mut r = EntryReading {
        returned: 0,
        expected_return: 0,
        stored: Vec::new(),
        before: Vec::new(),
        after: Vec::new(),
        error: None,
    };
    let micros = |t: Result<(i64, i64, crate::vdso::Timezone), Errno>| {
        t.map(|(s, us, _)| i128::from(s) * 1_000_000 + i128::from(us))
    };
    match kind {
        SymbolKind::Gettimeofday => {
            let before = micros(syscall::gettimeofday());
            let (ret, s, us) = vsyscall_page::gettimeofday(address);
            let after = micros(syscall::gettimeofday());
            r.returned = ret;
            r.stored = vec![i128::from(s) * 1_000_000 + i128::from(us)];
            match (before, after) {
                (Ok(b), Ok(a)) => (r.before, r.after) = (vec![b], vec![a]),
                _ => r.error = Some("the gettimeofday syscall failed".into()),
            }
        }
        SymbolKind::Time => {
            let seconds = syscall::time_seconds;
            let before = seconds();
            let (ret, stored) = vsyscall_page::time(address);
            let after = seconds();
            (r.returned, r.expected_return) = (ret, stored);
            r.stored = vec![i128::from(stored)];
            match (before, after) {
                (Ok(b), Ok(a)) => (r.before, r.after) = (vec![b.into()], vec![a.into()]),
                _ => r.error = Some("the time syscall failed".into()),
            }
        }
        SymbolKind::Getcpu => {
            let cpus = allowed_cpus();
            if !cpus.first().is_some_and(|&c| pin(c)) {
                r.error = Some("could not pin this thread to one CPU".into());
                return r;
            }
            let both = |(c, n): (u32, u32)| vec![i128::from(c), i128::from(n)];
            let before = syscall::getcpu().map(both);
            let (ret, cpu, node) = vsyscall_page::getcpu(address);
            let after = syscall::getcpu().map(both);
            restore_affinity(&cpus);
            r.returned = ret;
            r.stored = both((cpu, node));
            match (before, after) {
                (Ok(b), Ok(a)) => (r.before, r.after) = (b, a),
                _ => r.error = Some("the getcpu syscall failed".into()),
            }
        }
        other => r.error = Some(format!("no vsyscall entry of kind {}", other.name())),
    }
    r
}

/// Judges one call of an entry: it returns what it must, and each value it
/// stored lies within the syscall's readings around it.
pub fn judge_vsyscall_entry(name: &str, r: &EntryReading) -> CheckResult {
    if let Some(e) = &r.error {
        return CheckResult::unrunnable(e);
    }
    let mut problems = Vec::new();
    if r.returned != r.expected_return {
        problems.push(Problem::about(
            "vsyscall-returned",
            name,
            format!("{name} returned {}, not {}", r.returned, r.expected_return),
        ));
    }
    let within = r.stored.len() == r.before.len()
        && r.stored.len() == r.after.len()
        && (0..r.stored.len()).all(|i| r.before[i] <= r.stored[i] && r.stored[i] <= r.after[i]);
    if !within {
        problems.push(Problem::about(
            "vsyscall-differs",
            name,
            format!(
                "{name} stored {:?}; the syscall read {:?} before and {:?} after",
                r.stored, r.before, r.after
            ),
        ));
    }
    CheckResult::from_symptoms(problems)
}

/// Judges a check of the page from what the child saw and how its read or
/// call ended (`entry`: the entry called, `None`: the page read).
pub fn judge_vsyscall(
    page: &VsyscallPageSpec,
    seen: &PageSeen,
    entry: Option<&str>,
    call: CallOutcome,
) -> CheckResult {
    let mut problems = Vec::new();
    let Some(mode) = seen.mode() else {
        return CheckResult::from_symptoms(vec![Problem::new(
            "vsyscall-mode",
            format!(
                "/proc/self/maps shows [vsyscall] with other permissions or not at {:#x}",
                page.address
            ),
        )]);
    };
    match seen.cmdline {
        Some(Ok(asked)) if asked != mode => problems.push(Problem::new(
            "vsyscall-mode",
            format!(
                "the kernel command line asks for vsyscall={}, /proc/self/maps shows {}",
                asked.name(),
                mode.name()
            ),
        )),
        _ => {}
    }
    if !page.modes.contains(&mode) {
        problems.push(Problem::new(
            "vsyscall-mode",
            format!(
                "mode {} is not one of the spec's ({})",
                mode.name(),
                modes(page)
            ),
        ));
    }
    let what = entry.map_or("reading the page".to_string(), |e| format!("calling {e}"));
    let must_fault = match entry {
        None => mode != VsyscallMode::Emulate,
        Some(_) => !mode.mapped(),
    };
    let ended_right = match call {
        CallOutcome::Signal(libc::SIGSEGV) => must_fault,
        CallOutcome::Returned(_) => !must_fault,
        _ => false,
    };
    if !ended_right {
        let ended = match call {
            CallOutcome::Returned(v) => format!("returned {v}"),
            CallOutcome::Signal(s) => format!("was killed by signal {s}"),
            CallOutcome::Hung => "hung".into(),
        };
        problems.push(Problem::about(
            "vsyscall-access",
            entry.unwrap_or(READ),
            format!(
                "{what} {ended} in mode {}; it must {}",
                mode.name(),
                if must_fault {
                    "fault (SIGSEGV)"
                } else {
                    "succeed"
                }
            ),
        ));
    }
    let source = match seen.cmdline {
        Some(Ok(_)) => "vsyscall= on the kernel command line",
        Some(Err(())) => "the kernel's default (its command line's vsyscall= is no mode)",
        None => "the kernel's default",
    };
    if !problems.is_empty() {
        return CheckResult::from_symptoms(problems);
    }
    CheckResult::pass().with_notes(vec![format!(
        "mode {} ({source}): {what} {}",
        mode.name(),
        if must_fault { "faulted" } else { "succeeded" }
    )])
}
