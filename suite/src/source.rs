//! What a vDSO's linker script says it exports: the symbols of its `VERSION`
//! block, each with its version node and the preprocessor condition it sits
//! under (`#ifdef CONFIG_…`, `#if defined(…) || …`, `#else`, nesting), and the
//! object-like macros the script and its includes define (`#define
//! VDSO_VERSION_STRING LINUX_2.6.15`). Text in, facts out: reading files and
//! following `#include` is the caller's.

use crate::spec::Cond;

/// One exported name of a `VERSION` block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Export {
    pub name: String,
    /// The version node as written (a macro name is the caller's to resolve).
    pub node: String,
    /// The condition its line sits under.
    pub cond: Cond,
    /// Where it is written: the file's label and its 1-based line.
    pub file: String,
    pub line: usize,
}

/// A `#define NAME VALUE` (an empty value for a flag) and the condition it is
/// under.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Define {
    pub name: String,
    pub value: String,
    pub cond: Cond,
}

/// A condition that could not be read, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unparsed {
    pub file: String,
    pub line: usize,
    pub text: String,
    pub why: String,
}

/// What one file says.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Script {
    pub exports: Vec<Export>,
    pub defines: Vec<Define>,
    /// `#include` targets, each with the condition it is under: `"x.h"` (quoted,
    /// relative to the file) or `<x.h>` (angled, on the include path).
    pub includes: Vec<(String, Cond)>,
    pub unparsed: Vec<Unparsed>,
}

/// One open `#if` group: the condition of the branch being read, and of the
/// branches before it (an `#else` is true when none of them was).
struct Group {
    taken: Vec<Cond>,
    current: Cond,
}

/// Reads `text` (labelled `file` in what it returns) under the outer condition
/// `outer` (the one its `#include` sits under).
pub fn read(text: &str, file: &str, outer: &Cond) -> Script {
    let mut out = Script::default();
    let mut groups: Vec<Group> = Vec::new();
    let mut in_version = false;
    let mut depth = 0i32;
    let mut node: Option<String> = None;
    let mut global = true;
    let here = |groups: &[Group]| {
        Cond::all(std::iter::once(outer.clone()).chain(groups.iter().map(|g| g.current.clone())))
    };
    let text = blank_block_comments(text);
    let mut lines = text.lines().enumerate().peekable();
    while let Some((i, raw)) = lines.next() {
        let line_no = i + 1;
        // Join continuation lines of a directive.
        let mut line = raw.to_string();
        while line.ends_with('\\') {
            line.pop();
            match lines.next() {
                Some((_, more)) => line.push_str(more),
                None => break,
            }
        }
        let trimmed = line.trim_start();
        if let Some(directive) = trimmed.strip_prefix('#') {
            let directive = directive.trim_start();
            let (word, rest) = directive
                .split_once(|c: char| c.is_whitespace())
                .map_or((directive, ""), |(w, r)| (w, r.trim()));
            let mut parse = |text: &str| match Cond::parse(text) {
                Ok(c) => c,
                Err(why) => {
                    out.unparsed.push(Unparsed {
                        file: file.into(),
                        line: line_no,
                        text: text.into(),
                        why,
                    });
                    Cond::Opaque(text.trim().to_string())
                }
            };
            match word {
                "ifdef" => groups.push(Group {
                    taken: Vec::new(),
                    current: Cond::Defined(first_word(rest)),
                }),
                "ifndef" => groups.push(Group {
                    taken: Vec::new(),
                    current: !Cond::Defined(first_word(rest)),
                }),
                "if" => {
                    let c = parse(rest);
                    groups.push(Group {
                        taken: Vec::new(),
                        current: c,
                    })
                }
                "elif" | "elifdef" | "elifndef" => {
                    let c = match word {
                        "elif" => parse(rest),
                        "elifdef" => Cond::Defined(first_word(rest)),
                        _ => !Cond::Defined(first_word(rest)),
                    };
                    if let Some(g) = groups.last_mut() {
                        let before = std::mem::replace(&mut g.current, Cond::True);
                        g.taken.push(before);
                        g.current = none_of(&g.taken).and(c);
                    }
                }
                "else" => {
                    if let Some(g) = groups.last_mut() {
                        let before = std::mem::replace(&mut g.current, Cond::True);
                        g.taken.push(before);
                        g.current = none_of(&g.taken);
                    }
                }
                "endif" => {
                    groups.pop();
                }
                "define" => {
                    let (name, value) = rest
                        .split_once(|c: char| c.is_whitespace())
                        .map_or((rest, ""), |(n, v)| (n, v.trim()));
                    if !name.contains('(') && !name.is_empty() {
                        out.defines.push(Define {
                            name: name.to_string(),
                            value: strip_comment(value).to_string(),
                            cond: here(&groups),
                        });
                    }
                }
                "include" => {
                    out.includes.push((rest.trim().to_string(), here(&groups)));
                }
                _ => {}
            }
            continue;
        }
        // Outside directives only the VERSION block matters.
        let code = strip_comment(&line);
        if !in_version {
            if code.trim_start().starts_with("VERSION") {
                in_version = true;
                depth = 0;
                node = None;
            } else {
                continue;
            }
        }
        for token in tokens(code) {
            match token.as_str() {
                "VERSION" => {}
                "{" => depth += 1,
                "}" => {
                    depth -= 1;
                    if depth <= 1 {
                        node = None;
                    }
                    if depth <= 0 {
                        in_version = false;
                    }
                }
                "global:" => global = true,
                "local:" => global = false,
                ";" => {}
                name if depth == 1 => {
                    node = Some(name.to_string());
                    global = true;
                }
                name if depth == 2 && global && name != "*" => {
                    out.exports.push(Export {
                        name: name.trim_end_matches(';').to_string(),
                        node: node.clone().unwrap_or_default(),
                        cond: here(&groups),
                        file: file.into(),
                        line: line_no,
                    });
                }
                _ => {}
            }
        }
    }
    out
}

/// `text` with every `/* … */` comment (over any number of lines) blanked,
/// its line breaks kept so line numbers stay right.
fn blank_block_comments(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("/*") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after.find("*/").map_or(after.len(), |e| e + 2);
        out.extend(after[..end].chars().filter(|c| *c == '\n'));
        out.push(' ');
        rest = &after[end..];
    }
    out.push_str(rest);
    out
}

/// True when none of `taken` is.
fn none_of(taken: &[Cond]) -> Cond {
    Cond::all(taken.iter().map(|c| !c.clone()))
}

fn first_word(s: &str) -> String {
    s.split_whitespace().next().unwrap_or("").to_string()
}

/// `line` without a `/* … */` (on this line) or `//` comment.
fn strip_comment(line: &str) -> &str {
    let cut = [line.find("/*"), line.find("//")]
        .into_iter()
        .flatten()
        .min()
        .unwrap_or(line.len());
    line[..cut].trim_end()
}

/// The words and braces of a line of a version script: `LINUX_2.6 {`,
/// `global:`, `__vdso_time;`, `};`.
fn tokens(code: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut word = String::new();
    let flush = |word: &mut String, out: &mut Vec<String>| {
        if !word.is_empty() {
            out.push(std::mem::take(word));
        }
    };
    for c in code.chars() {
        match c {
            '{' | '}' | ';' => {
                flush(&mut word, &mut out);
                out.push(c.to_string());
            }
            ':' => {
                word.push(':');
                flush(&mut word, &mut out);
            }
            c if c.is_whitespace() => flush(&mut word, &mut out),
            c => word.push(c),
        }
    }
    flush(&mut word, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const PPC32: &str = r#"#include <asm/vdso.h>
/* a comment
 * over lines */
#define FOO 1
VERSION
{
	VDSO_VERSION_STRING {
	global:
		/*
		 * a comment in the block
		 */
#ifdef CONFIG_COMPAT_32BIT_TIME
		__kernel_gettimeofday;
		__kernel_time;
#endif /* CONFIG_COMPAT_32BIT_TIME */
		__kernel_clock_gettime64;
#if defined(CONFIG_PPC64) || !defined(CONFIG_SMP)
		__kernel_getcpu;
#else
		__kernel_other;
#endif
	local: *;
	};
}
VDSO_sigtramp32 = __kernel_sigtramp32;
"#;

    #[test]
    fn a_version_block_gives_each_export_its_node_and_condition() {
        let s = read(PPC32, "vdso32.lds.S", &Cond::True);
        let got: Vec<(String, String, String, usize)> = s
            .exports
            .iter()
            .map(|e| (e.name.clone(), e.node.clone(), e.cond.to_string(), e.line))
            .collect();
        let want = [
            (
                "__kernel_gettimeofday",
                "VDSO_VERSION_STRING",
                "CONFIG_COMPAT_32BIT_TIME",
                13,
            ),
            (
                "__kernel_time",
                "VDSO_VERSION_STRING",
                "CONFIG_COMPAT_32BIT_TIME",
                14,
            ),
            ("__kernel_clock_gettime64", "VDSO_VERSION_STRING", "1", 16),
            (
                "__kernel_getcpu",
                "VDSO_VERSION_STRING",
                "CONFIG_PPC64 || !CONFIG_SMP",
                18,
            ),
            (
                "__kernel_other",
                "VDSO_VERSION_STRING",
                "!CONFIG_PPC64 && CONFIG_SMP",
                20,
            ),
        ];
        assert_eq!(got.len(), want.len(), "{got:#?}");
        for ((n, v, c, l), w) in got.iter().zip(want) {
            assert_eq!((n.as_str(), v.as_str(), l), (w.0, w.1, &w.3), "{got:#?}");
            assert!(
                Cond::parse(c)
                    .unwrap()
                    .equivalent(&Cond::parse(w.2).unwrap()),
                "{c} vs {}",
                w.2
            );
        }
        assert_eq!(s.includes, vec![("<asm/vdso.h>".to_string(), Cond::True)]);
        assert_eq!(s.defines[0].name, "FOO");
        assert!(s.unparsed.is_empty());
    }

    #[test]
    fn two_nodes_nesting_and_a_condition_it_cannot_read() {
        let text = "VERSION {\n LINUX_2.6 {\n global:\n#ifdef CONFIG_A\n#ifndef CONFIG_B\n  a;\n#endif\n#endif\n };\n LINUX_2.5 {\n global:\n#if FOO(1)\n  b;\n#elif defined(CONFIG_C)\n  c;\n#endif\n local: *;\n };\n}\n";
        let s = read(text, "x.lds.S", &Cond::Defined("CONFIG_OUTER".into()));
        let a = &s.exports[0];
        assert_eq!((a.name.as_str(), a.node.as_str()), ("a", "LINUX_2.6"));
        assert!(a
            .cond
            .equivalent(&Cond::parse("CONFIG_OUTER && CONFIG_A && !CONFIG_B").unwrap()));
        let c = &s.exports[2];
        assert_eq!((c.name.as_str(), c.node.as_str()), ("c", "LINUX_2.5"));
        assert_eq!(s.unparsed.len(), 1, "{:?}", s.unparsed);
        assert_eq!(s.unparsed[0].line, 12);
        assert!(!s.exports[1].cond.atoms().is_empty());
    }
}

/// What a vDSO's script exports, resolved: version nodes named, macros the
/// build defines substituted, the image's own options added.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Exported {
    pub name: String,
    pub version: String,
    /// The options it needs, in the spec's syntax (`1`: none).
    pub config: String,
    #[serde(skip)]
    pub cond: Cond,
    /// `file:line` of its line in the script.
    pub at: String,
}

/// A disagreement between the source and the spec.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Disagreement {
    /// `unknown-symbol`, `missing-symbol`, `version`, `config`, `since`,
    /// `until`, `unreadable-condition`.
    pub id: &'static str,
    pub symbol: String,
    pub message: String,
}

/// Resolves `scripts` (the script and what it includes, in reading order) for
/// a spec's vDSO: node macros by the scripts' `#define`s, the spec's build
/// `defines` and the scripts' own flag macros substituted into every
/// condition. `__ASSEMBLY__` and `LINKER_SCRIPT` are defined, as the kernel
/// preprocesses linker scripts.
pub fn resolve(
    scripts: &[Script],
    build_defines: &std::collections::BTreeMap<String, String>,
) -> Vec<Exported> {
    let defines: Vec<&Define> = scripts.iter().flat_map(|s| &s.defines).collect();
    let value_of = |name: &str| {
        defines
            .iter()
            .rev()
            .find(|d| d.name == name && !d.value.is_empty())
            .map(|d| d.value.clone())
    };
    let given: Vec<(String, Cond)> = build_defines
        .iter()
        .map(|(k, v)| {
            (
                k.clone(),
                Cond::parse(v).unwrap_or_else(|_| Cond::Opaque(v.clone())),
            )
        })
        .collect();
    let with = |name: &str| -> Option<Cond> {
        if let Some((_, c)) = given.iter().find(|(k, _)| k == name) {
            return Some(c.clone());
        }
        if ["__ASSEMBLY__", "LINKER_SCRIPT", "__KERNEL__"].contains(&name) {
            return Some(Cond::True);
        }
        if name.starts_with("CONFIG_") {
            return None;
        }
        let flags: Vec<Cond> = defines
            .iter()
            .filter(|d| d.name == name)
            .map(|d| d.cond.clone())
            .collect();
        (!flags.is_empty()).then(|| Cond::Or(flags).simplified())
    };
    scripts
        .iter()
        .flat_map(|s| &s.exports)
        .map(|e| {
            let cond = e.cond.substitute(&with).substitute(&with);
            Exported {
                name: e.name.clone(),
                version: value_of(&e.node).unwrap_or_else(|| e.node.clone()),
                config: cond.to_string(),
                cond,
                at: format!("{}:{}", e.file, e.line),
            }
        })
        .filter(|e| e.cond != Cond::False)
        .collect()
}

/// The disagreements between a vDSO's exports in the source of kernel
/// `version` and the spec of that vDSO: a name the source exports that the
/// spec lacks, at another version node, under another condition, or outside
/// its `since`/`until`; a spec symbol of this kernel the source does not
/// export; a condition with something no build option decides. Conditions
/// are compared where the vDSO exists at all (the spec's `image_config`): a
/// spec entry may or may not repeat those options.
pub fn compare(
    spec: &crate::spec::ArchSpec,
    exported: &[Exported],
    version: crate::spec::KernelVersion,
) -> Vec<Disagreement> {
    use crate::spec::Provider;
    let image = Cond::all(
        spec.source
            .iter()
            .flat_map(|s| &s.image_config)
            .map(|c| Cond::parse(c).unwrap_or_else(|_| Cond::Opaque(c.clone()))),
    );
    let mut out = Vec::new();
    let mut say = |id, symbol: &str, message: String| {
        out.push(Disagreement {
            id,
            symbol: symbol.to_string(),
            message,
        })
    };
    let not_defined: &[String] = spec.source.as_ref().map_or(&[], |s| &s.not_defined);
    for e in exported.iter().filter(|e| !not_defined.contains(&e.name)) {
        let label = format!("{}@{}", e.name, e.version);
        if let Some(other) = e
            .cond
            .atoms()
            .into_iter()
            .find(|a| !a.starts_with("CONFIG_"))
        {
            say(
                "unreadable-condition",
                &label,
                format!(
                    "{}: its condition {} depends on {other}, which no kernel option decides (add it to the spec's source defines)",
                    e.at, e.config
                ),
            );
            continue;
        }
        // The entry of this name for this kernel: at the node the source
        // uses where the spec has one (a node can change, as parisc's did).
        let named: Vec<&crate::spec::SymbolSpec> = spec
            .symbols
            .iter()
            .filter(|s| s.providers.contains(&Provider::Kernel) && s.names().any(|n| n == e.name))
            .collect();
        let in_range = |s: &&&crate::spec::SymbolSpec| {
            s.since.is_none_or(|v| v <= version) && s.until.is_none_or(|u| version < u)
        };
        let sym = named
            .iter()
            .filter(in_range)
            .find(|s| s.version == e.version)
            .or_else(|| named.iter().find(|s| s.version == e.version))
            .or_else(|| named.iter().find(in_range))
            .or_else(|| named.first());
        let Some(sym) = sym else {
            say(
                "unknown-symbol",
                &label,
                format!(
                    "{}: the source exports it ({}); the spec lacks it",
                    e.at,
                    if e.cond == Cond::True {
                        "unconditionally".to_string()
                    } else {
                        format!("needs {}", e.config)
                    }
                ),
            );
            continue;
        };
        if sym.version != e.version {
            say(
                "version",
                &label,
                format!(
                    "{}: the source exports it at {}; the spec at {}",
                    e.at, e.version, sym.version
                ),
            );
        }
        if !sym
            .condition()
            .and(image.clone())
            .equivalent(&e.cond.clone().and(image.clone()))
        {
            say(
                "config",
                &label,
                format!(
                    "{}: the source builds it with {}; the spec says {}",
                    e.at,
                    e.config,
                    sym.condition()
                ),
            );
        }
        if let Some(since) = sym.since.filter(|s| version < *s) {
            say(
                "since",
                &label,
                format!(
                    "{}: the source of {version} exports it; the spec has it since {since}",
                    e.at
                ),
            );
        }
        if let Some(until) = sym.until.filter(|u| version >= *u) {
            say(
                "until",
                &label,
                format!("{}: the source of {version} exports it; the spec says it was removed in {until}", e.at),
            );
        }
    }
    for sym in &spec.symbols {
        let in_range = sym.providers.contains(&Provider::Kernel)
            && sym.since.is_none_or(|s| s <= version)
            && sym.until.is_none_or(|u| version < u);
        if !in_range {
            continue;
        }
        for name in sym.names() {
            if !exported.iter().any(|e| e.name == name) {
                say(
                    "missing-symbol",
                    &format!("{name}@{}", sym.version),
                    format!("the spec has it for {version}; the source does not export it"),
                );
            }
        }
    }
    out
}
