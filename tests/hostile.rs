//! vdsoconf under a careless or hostile user: special and oversized files, a full
//! disk, a machine short of processes, descriptors or memory, denied syscalls, no
//! `/proc`, and signals to the main process. Each promise of the README's
//! "Exit statuses and guarantees" has a test here.

mod common;
mod hostile {
    pub mod environment;
    pub mod inputs;
    pub mod reports;
    pub mod signals;
}

use hostile::{environment, inputs, reports, signals};

fn main() {
    // Re-executed inside a mount namespace by the full-disk test.
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("hostile-tmpfs-inner") {
        let base = std::path::PathBuf::from(args.get(2).cloned().unwrap_or_default());
        match reports::inside_tmpfs(&base) {
            Ok(()) => std::process::exit(0),
            Err(e) => {
                println!("{e}");
                std::process::exit(1);
            }
        }
    }
    let tests: &[common::CliTest] = &[
        (
            "special_files_are_refused_by_type",
            inputs::special_files_are_refused_by_type,
        ),
        (
            "oversized_inputs_are_refused_by_size",
            inputs::oversized_inputs_are_refused_by_size,
        ),
        (
            "small_mistakes_get_precise_errors",
            inputs::small_mistakes_get_precise_errors,
        ),
        (
            "check_image_and_diff_refuse_what_symbols_refuses",
            inputs::check_image_and_diff_refuse_what_symbols_refuses,
        ),
        (
            "a_full_filesystem_keeps_the_previous_reports",
            reports::a_full_filesystem_keeps_the_previous_reports,
        ),
        (
            "a_write_cut_short_keeps_the_previous_reports",
            reports::a_write_cut_short_keeps_the_previous_reports,
        ),
        (
            "limits_too_small_are_refused_up_front",
            environment::limits_too_small_are_refused_up_front,
        ),
        (
            "too_few_processes_is_not_a_vdso_failure",
            environment::too_few_processes_is_not_a_vdso_failure,
        ),
        (
            "denied_syscalls_are_not_vdso_failures",
            environment::denied_syscalls_are_not_vdso_failures,
        ),
        (
            "no_proc_is_not_a_vdso_failure",
            environment::no_proc_is_not_a_vdso_failure,
        ),
        (
            "results_stream_and_sigint_keeps_them",
            signals::results_stream_and_sigint_keeps_them,
        ),
        (
            "a_killed_main_process_leaves_no_child",
            signals::a_killed_main_process_leaves_no_child,
        ),
    ];
    common::run_tests("hostile", tests);
}
