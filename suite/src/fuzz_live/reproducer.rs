//! A finding as a C program that makes the same call through the vDSO and the
//! system call and says whether they disagree: exit status 1 when they do (a
//! different return or errno, a signal, for `clock_getres` a different
//! resolution, for `clock_gettime` a reading outside the syscall's around it),
//! 0 when they agree, 2 when it cannot set the call up. It finds the function
//! by name in the vDSO's dynamic symbols (section headers, which every vDSO
//! image maps), or in a vDSO-shaped file given as its argument.

use super::call::{ClockArg, FdKind, FuzzCall, StateCase, Whose};
use crate::kinds::KindInfo;
use crate::spec::SymbolSpec;

/// The C source for `call` of `sym` (of kind `info`); `loaded`, when the call
/// was made into a vDSO-shaped file, is that file's path (the program's
/// default argument).
pub fn c_source(
    sym: &SymbolSpec,
    info: &KindInfo,
    call: &FuzzCall,
    loaded: Option<&str>,
) -> String {
    let typedef = typedef(&sym.prototype, &sym.name);
    let mut setup = Vec::new();
    let clock = call.clock.map(|c| clock_expr(c, &mut setup));
    let state_len = "params.size_of_opaque_state";
    let random = call.random;
    if let Some(r) = random {
        setup.push(format!(
            "struct {{ unsigned int size_of_opaque_state, mmap_prot, mmap_flags, reserved[13]; }} params = {{0}};\n    \
             if (fn(NULL, 0, 0, &params, ~0UL) != 0) {{ puts(\"the getrandom parameter query failed\"); return 2; }}\n    \
             char *state = mmap(NULL, 4096, params.mmap_prot, params.mmap_flags, -1, 0);\n    \
             if (state == MAP_FAILED) {{ perror(\"mmap state\"); return 2; }}\n    \
             size_t state_len = {state_len};\n    \
             static char warm[1];{}",
            match r.state {
                StateCase::Reused | StateCase::AfterFork => "\n    fn(warm, 1, 0, state, state_len);",
                StateCase::Zeroed => "\n    fn(warm, 1, 0, state, state_len);\n    memset(state, 0, 4096);",
                StateCase::Misaligned => "\n    state += 1;",
                StateCase::Short => "\n    state_len -= 1;",
                StateCase::Long => "\n    state_len += 1;",
                StateCase::Fresh | StateCase::SharedThreads => "",
            }
        ));
        if r.state == StateCase::SharedThreads {
            setup.push(format!(
                "shared_fn = fn; shared_state = state; shared_len = state_len; shared_flags = {:#x}; shared_n = {};\n    \
                 pthread_t other; pthread_create(&other, NULL, share, NULL);",
                r.flags, r.len
            ));
        }
        if r.state == StateCase::AfterFork {
            setup.push(
                "if (fork() != 0) { int st; wait(&st); return WIFEXITED(st) ? WEXITSTATUS(st) : 1; }\n    \
                 puts(\"(in the forked child, with the parent's state)\");"
                    .into(),
            );
        }
    }
    if let Some(pin) = call.pin {
        setup.push(format!(
            "cpu_set_t allowed; sched_getaffinity(0, sizeof allowed, &allowed);\n    \
             for (int i = 0, n = -1, want = {pin} % CPU_COUNT(&allowed); i < CPU_SETSIZE; i++)\n        \
             if (CPU_ISSET(i, &allowed) && ++n == want) {{ cpu_set_t one; CPU_ZERO(&one); CPU_SET(i, &one); sched_setaffinity(0, sizeof one, &one); printf(\"pinned to CPU %d\\n\", i); break; }}"
        ));
    }
    // getrandom's buffer holds the length asked for.
    let sizes: Vec<usize> = info
        .outputs
        .iter()
        .map(|&(_, n)| random.map_or(n, |r| r.len.max(n)))
        .collect();
    let pointer = |i: usize, side: &str| {
        format!(
            "arg(\"{}\", {}, {})",
            call.pointers[i].name(),
            sizes[i],
            if side == "sys" { 0 } else { 1 }
        )
    };
    let args = |side: &str| -> Vec<String> {
        let mut a = Vec::new();
        if let Some(c) = &clock {
            a.push(c.clone());
        }
        let ptrs: Vec<String> = (0..sizes.len()).map(|i| pointer(i, side)).collect();
        match (random, info.name) {
            (Some(r), _) => {
                a.push(ptrs[0].clone());
                a.push(r.len.to_string());
                a.push(format!("{:#x}", r.flags));
                if side == "vdso" {
                    a.push("state".into());
                    a.push("state_len".into());
                }
            }
            (None, "getcpu") => {
                a.extend(ptrs);
                a.push("NULL".into());
            }
            _ => a.extend(ptrs),
        }
        a
    };
    let (vdso_args, sys_args) = (args("vdso").join(", "), args("sys").join(", "));
    let syscall = match info.twin.and_then(|t| t.nr.map(|_| t.name)) {
        Some(name) => format!(
            "errno = 0; long s = syscall(SYS_{name}, {sys_args}); int s_errno = s < 0 ? errno : 0;\n    \
             printf(\"syscall {name}: %ld%s%s\\n\", s, s_errno ? \" \" : \"\", s_errno ? strerror(s_errno) : \"\");"
        ),
        None => "long s = 0; int s_errno = 0; puts(\"no system call to compare with here\");".into(),
    };
    let compare = match info.name {
        "clock_getres" | "clock_getres_time64"
            if call.pointers_valid() =>
        {
            "if (!s_errno && v == 0 && memcmp(last_arg[0], last_arg[1], SIZE0)) { puts(\"DISAGREE: the resolutions differ\"); return 1; }"
                .replace("SIZE0", &sizes[0].to_string())
        }
        "clock_gettime" | "clock_gettime64" if call.pointers_valid() => format!(
            "long long vt = ns(last_arg[1], {size}), bt = ns(last_arg[0], {size});\n    \
             errno = 0; long a = syscall(SYS_{name}, {sys_args});\n    \
             long long at = ns(last_arg[0], {size});\n    \
             if (!s_errno && v == 0 && a == 0 && (vt < bt || vt > at)) {{ printf(\"DISAGREE: the vDSO read %lld ns, outside the syscall's [%lld, %lld]\\n\", vt, bt, at); return 1; }}",
            size = sizes[0],
            name = info.twin.map_or("clock_gettime", |t| t.name),
        ),
        _ => String::new(),
    };
    let returns_value = if info.name == "time" || random.is_some() {
        // time and getrandom return a value, not a status: the same value or
        // errno is agreement (time's seconds may tick between the calls).
        "(s_errno ? -(long)s_errno : s)"
    } else {
        "(s_errno ? -(long)s_errno : 0)"
    };
    let same = if info.name == "time" {
        format!("(v < 0 ? v == {returns_value} : (s >= 0 && v >= s && v <= s + 1))")
    } else {
        format!("v == {returns_value}")
    };
    let load = loaded.map_or("NULL".into(), |p| format!("{:?}", p));
    format!(
        r#"/* vdsoconf fuzz-live reproducer: {name} {shown}
 * Build: cc -O0 -o repro repro.c -lpthread    Run: ./repro [VDSO-SHAPED-FILE]
 * Exit 1: the vDSO and the system call disagree; 0: they agree. */
#define _GNU_SOURCE
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/types.h>
#include <linux/time_types.h>

{typedef}

/* The function `name` of the vDSO at `base`: its dynamic symbols, through
 * the section headers, translated by the first PT_LOAD. */
static void *lookup(const char *base, const char *name) {{
    const ElfW(Ehdr) *eh = (const void *)base;
    const ElfW(Phdr) *ph = (const void *)(base + eh->e_phoff);
    const ElfW(Shdr) *sh = (const void *)(base + eh->e_shoff);
    long bias = 0;
    for (int i = 0; i < eh->e_phnum; i++)
        if (ph[i].p_type == PT_LOAD) {{ bias = (long)ph[i].p_offset - (long)ph[i].p_vaddr; break; }}
    for (int i = 0; i < eh->e_shnum; i++) {{
        if (sh[i].sh_type != SHT_DYNSYM) continue;
        const ElfW(Sym) *sym = (const void *)(base + sh[i].sh_offset);
        const char *str = base + sh[sh[i].sh_link].sh_offset;
        for (size_t j = 0; j < sh[i].sh_size / sizeof *sym; j++)
            if (sym[j].st_shndx && !strcmp(str + sym[j].st_name, name))
                return (void *)(base + sym[j].st_value + bias);
    }}
    return NULL;
}}

/* A vDSO-shaped file mapped whole and executable, as the kernel maps its vDSO. */
static const char *load(const char *path) {{
    int fd = open(path, O_RDONLY);
    struct stat st;
    if (fd < 0 || fstat(fd, &st)) {{ perror(path); exit(2); }}
    char *at = mmap(NULL, st.st_size, PROT_READ | PROT_EXEC, MAP_PRIVATE, fd, 0);
    if (at == MAP_FAILED) {{ perror("mmap"); exit(2); }}
    return at;
}}

static void *last_arg[2];
/* A pointer of class `what` to an object of `size` bytes, for side 0 (the
 * system call) or 1 (the vDSO): each side gets objects of its own. */
static void *arg(const char *what, size_t size, int side) {{
    long page = sysconf(_SC_PAGESIZE);
    char *pages = mmap(NULL, 3 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    mprotect(pages + page, page, PROT_NONE);
    mprotect(pages + 2 * page, page, PROT_READ);
    char *object = calloc(1, size + 64);
    void *p = object;
    if (!strcmp(what, "null")) p = NULL;
    else if (!strcmp(what, "all-ones")) p = (void *)~0UL;
    else if (!strcmp(what, "prot-none")) p = pages + page;
    else if (!strcmp(what, "prot-read")) p = pages + 2 * page;
    else if (!strcmp(what, "straddle")) p = pages + page - size / 2;
    else if (!strcmp(what, "kernel")) p = (void *)(sizeof(long) == 8 ? 0xffffff8000000000UL : 0xfffff000UL);
    else if (!strcmp(what, "misaligned")) p = object + 1;
    last_arg[side] = p;
    return p;
}}

static long long ns(const void *ts, size_t size) {{
    if (size == 16) {{ const long long *t = ts; return t[0] * 1000000000LL + t[1]; }}
    const long *t = ts; return t[0] * 1000000000LL + t[1];
}}

static void killed(int sig) {{
    char line[64];
    int n = snprintf(line, sizeof line, "vDSO: killed by signal %d\nDISAGREE\n", sig);
    write(1, line, n);
    _exit(1);
}}

static long live_tid; static int parked[2];
static void *park(void *unused) {{ (void)unused; __atomic_store_n(&live_tid, syscall(SYS_gettid), __ATOMIC_SEQ_CST); char c; read(parked[0], &c, 1); return NULL; }}
static void *own_tid(void *out) {{ *(long *)out = syscall(SYS_gettid); return NULL; }}
{helpers}
int main(int argc, char **argv) {{
    setvbuf(stdout, NULL, _IONBF, 0); /* every line out before the call may kill us */
    const char *file = argc > 1 ? argv[1] : {load};
    const char *base = file ? load(file) : (const char *)getauxval(AT_SYSINFO_EHDR);
    if (!base) {{ puts("no vDSO in this process"); return 2; }}
    fn_t fn = (fn_t)lookup(base, "{name}");
    if (!fn) {{ puts("{name} is not in this vDSO"); return 2; }}
    (void)own_tid; (void)park;
    {setup}
    {syscall}
    signal(SIGSEGV, killed); signal(SIGBUS, killed);
    errno = 0;
    long v = (long)fn({vdso_args});
    signal(SIGSEGV, SIG_DFL); signal(SIGBUS, SIG_DFL);
    printf("vDSO {name}: %ld\n", v);
    {compare}
    if (!({same})) {{ puts("DISAGREE: the return values differ"); return 1; }}
    puts("agree");
    return 0;
}}
"#,
        name = sym.name,
        shown = call.show(info),
        helpers = if random.is_some_and(|r| r.state == StateCase::SharedThreads) {
            SHARE
        } else {
            ""
        },
        setup = setup.join("\n    "),
    )
}

/// A thread calling getrandom with the state the main thread uses.
const SHARE: &str = "static fn_t shared_fn; static void *shared_state; static size_t shared_len, shared_n; static unsigned shared_flags;
static void *share(void *unused) {
    static char buf[1 << 16];
    (void)unused;
    for (int i = 0; i < 1000; i++) shared_fn(buf, shared_n < sizeof buf ? shared_n : sizeof buf, shared_flags, shared_state, shared_len);
    return NULL;
}
";

/// `typedef RET (*fn_t)(ARGS);` from the spec's prototype `RET NAME(ARGS)`.
fn typedef(prototype: &str, name: &str) -> String {
    let bare = prototype.split("/*").next().unwrap_or(prototype).trim();
    match bare.split_once(name) {
        Some((ret, args)) => format!("typedef {} (*fn_t){};", ret.trim(), args.trim()),
        None => format!("typedef long (*fn_t)(); /* the spec's prototype: {prototype} */"),
    }
}

/// The C expression of a clock id, with what it needs pushed to `setup`.
fn clock_expr(clock: ClockArg, setup: &mut Vec<String>) -> String {
    match clock {
        ClockArg::Id(id) => format!("{id}"),
        ClockArg::Cpu { of, which, thread } => {
            let pid = match of {
                Whose::Zero => "0L".to_string(),
                Whose::Process => "(long)getpid()".into(),
                Whose::Thread => "syscall(SYS_gettid)".into(),
                Whose::Parent => "(long)getppid()".into(),
                Whose::Init => "1L".into(),
                Whose::LiveThread => {
                    setup.push(
                        "pipe(parked); pthread_t t; pthread_create(&t, NULL, park, NULL);\n    \
                         while (!__atomic_load_n(&live_tid, __ATOMIC_SEQ_CST)) sched_yield();"
                            .into(),
                    );
                    "live_tid".into()
                }
                Whose::DeadThread => {
                    setup.push(
                        "long dead_tid = 0; pthread_t t; pthread_create(&t, NULL, own_tid, &dead_tid); pthread_join(t, NULL);\n    \
                         while (syscall(SYS_tgkill, getpid(), dead_tid, 0) == 0) sched_yield(); /* released a moment after the join */"
                            .into(),
                    );
                    "dead_tid".into()
                }
                Whose::DeadProcess => {
                    setup.push(
                        "pid_t dead = fork(); if (dead == 0) _exit(0); waitpid(dead, NULL, 0);"
                            .into(),
                    );
                    "(long)dead".into()
                }
            };
            format!(
                "(int)((~{pid} << 3) | {} | {})",
                if thread { 4 } else { 0 },
                which as i32
            )
        }
        ClockArg::Fd(kind) => {
            setup.push(format!(
                "int clock_fd = open(\"/dev/null\", O_RDONLY);{}",
                if kind == FdKind::Closed {
                    " close(clock_fd);"
                } else {
                    ""
                }
            ));
            "(int)((~(long)clock_fd << 3) | 3)".into()
        }
    }
}
