//! Conditions on kernel options, as the vDSO's linker scripts write them
//! (`#if defined(CONFIG_PPC64) || !defined(CONFIG_SMP)`) and as the spec's
//! `config` entries do (`CONFIG_PPC64 || !CONFIG_SMP`): parsed into one
//! expression type, evaluated three-valued against what is known of a build,
//! and compared by logical equivalence.

use std::collections::BTreeSet;
use std::fmt;

impl std::ops::Not for Cond {
    type Output = Cond;

    fn not(self) -> Cond {
        Cond::Not(Box::new(self)).simplified()
    }
}

/// A condition: a preprocessor expression over macros (`CONFIG_…` options and
/// the build's own macros such as `COMPAT_VDSO`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Cond {
    True,
    False,
    /// The macro is defined (a bool or tristate option is on).
    Defined(String),
    /// Text this parser does not understand (`_MIPS_SIM == _MIPS_SIM_ABI64`):
    /// an unknown whose truth nothing here decides.
    Opaque(String),
    Not(Box<Cond>),
    And(Vec<Cond>),
    Or(Vec<Cond>),
}

impl Cond {
    /// `#if` / `#elif` text, or a spec `config` entry (`CONFIG_A && !CONFIG_B`).
    /// Understood: `defined(X)`, `defined X`, `IS_ENABLED(X)`,
    /// `IS_BUILTIN(X)`, a bare macro name, `0`, `1`, `!`, `&&`, `||`,
    /// parentheses; a comparison (`A == B`, `A >= B`, …) is an opaque atom. An
    /// error for text that is none of these.
    pub fn parse(text: &str) -> Result<Cond, String> {
        let tokens = tokenize(text)?;
        let mut p = Parser { tokens, at: 0 };
        let c = p.or()?;
        match p.tokens.get(p.at) {
            None => Ok(c.simplified()),
            Some(t) => Err(format!("{text:?}: unexpected {t:?}")),
        }
    }

    /// The conjunction of `conds` (the spec's `config` list).
    pub fn all(conds: impl IntoIterator<Item = Cond>) -> Cond {
        Cond::And(conds.into_iter().collect()).simplified()
    }

    pub fn and(self, other: Cond) -> Cond {
        Cond::And(vec![self, other]).simplified()
    }

    /// Every macro name and opaque text it depends on.
    pub fn atoms(&self) -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        self.collect_atoms(&mut out);
        out
    }

    fn collect_atoms(&self, out: &mut BTreeSet<String>) {
        match self {
            Cond::Defined(n) | Cond::Opaque(n) => {
                out.insert(n.clone());
            }
            Cond::Not(c) => c.collect_atoms(out),
            Cond::And(cs) | Cond::Or(cs) => cs.iter().for_each(|c| c.collect_atoms(out)),
            Cond::True | Cond::False => {}
        }
    }

    /// Its value where `known` says what each atom is (`None`: unknown), in
    /// three-valued logic: `None` when the unknowns decide it.
    pub fn eval(&self, known: &dyn Fn(&str) -> Option<bool>) -> Option<bool> {
        match self {
            Cond::True => Some(true),
            Cond::False => Some(false),
            Cond::Defined(n) | Cond::Opaque(n) => known(n),
            Cond::Not(c) => c.eval(known).map(|v| !v),
            Cond::And(cs) => {
                let vals: Vec<Option<bool>> = cs.iter().map(|c| c.eval(known)).collect();
                if vals.contains(&Some(false)) {
                    Some(false)
                } else if vals.iter().all(|v| *v == Some(true)) {
                    Some(true)
                } else {
                    None
                }
            }
            Cond::Or(cs) => {
                let vals: Vec<Option<bool>> = cs.iter().map(|c| c.eval(known)).collect();
                if vals.contains(&Some(true)) {
                    Some(true)
                } else if vals.iter().all(|v| *v == Some(false)) {
                    Some(false)
                } else {
                    None
                }
            }
        }
    }

    /// The condition with the atoms `known` decides replaced by their value.
    pub fn assume(&self, known: &dyn Fn(&str) -> Option<bool>) -> Cond {
        match self {
            Cond::Defined(n) | Cond::Opaque(n) => match known(n) {
                Some(true) => Cond::True,
                Some(false) => Cond::False,
                None => self.clone(),
            },
            Cond::Not(c) => !c.assume(known),
            Cond::And(cs) => Cond::And(cs.iter().map(|c| c.assume(known)).collect()).simplified(),
            Cond::Or(cs) => Cond::Or(cs.iter().map(|c| c.assume(known)).collect()).simplified(),
            Cond::True | Cond::False => self.clone(),
        }
    }

    /// The condition with each atom `with` gives a condition for replaced by
    /// it (a macro the build defines under a condition of its own).
    pub fn substitute(&self, with: &dyn Fn(&str) -> Option<Cond>) -> Cond {
        match self {
            Cond::Defined(n) | Cond::Opaque(n) => with(n).unwrap_or_else(|| self.clone()),
            Cond::Not(c) => !c.substitute(with),
            Cond::And(cs) => {
                Cond::And(cs.iter().map(|c| c.substitute(with)).collect()).simplified()
            }
            Cond::Or(cs) => Cond::Or(cs.iter().map(|c| c.substitute(with)).collect()).simplified(),
            Cond::True | Cond::False => self.clone(),
        }
    }

    /// Whether the two are true for exactly the same builds: compared on every
    /// assignment of their atoms (a linker script's conditions have a handful).
    pub fn equivalent(&self, other: &Cond) -> bool {
        let atoms: Vec<String> = self.atoms().union(&other.atoms()).cloned().collect();
        if atoms.len() > 16 {
            return self == other;
        }
        (0u32..1 << atoms.len()).all(|bits| {
            let known = |n: &str| {
                atoms
                    .iter()
                    .position(|a| a == n)
                    .map(|i| bits & (1 << i) != 0)
            };
            self.eval(&known) == other.eval(&known)
        })
    }

    /// Flattened, constants folded, operands sorted and deduplicated.
    pub fn simplified(self) -> Cond {
        match self {
            Cond::Not(c) => match c.simplified() {
                Cond::True => Cond::False,
                Cond::False => Cond::True,
                Cond::Not(inner) => *inner,
                other => Cond::Not(Box::new(other)),
            },
            Cond::And(cs) => {
                let mut out = Vec::new();
                for c in cs.into_iter().map(Cond::simplified) {
                    match c {
                        Cond::True => {}
                        Cond::False => return Cond::False,
                        Cond::And(inner) => out.extend(inner),
                        other => out.push(other),
                    }
                }
                out.sort();
                out.dedup();
                match out.len() {
                    0 => Cond::True,
                    1 => out.pop().expect("one"),
                    _ => Cond::And(out),
                }
            }
            Cond::Or(cs) => {
                let mut out = Vec::new();
                for c in cs.into_iter().map(Cond::simplified) {
                    match c {
                        Cond::False => {}
                        Cond::True => return Cond::True,
                        Cond::Or(inner) => out.extend(inner),
                        other => out.push(other),
                    }
                }
                out.sort();
                out.dedup();
                match out.len() {
                    0 => Cond::False,
                    1 => out.pop().expect("one"),
                    _ => Cond::Or(out),
                }
            }
            other => other,
        }
    }
}

impl fmt::Display for Cond {
    /// The spec's syntax: `CONFIG_A && (CONFIG_B || !CONFIG_C)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let part = |c: &Cond| match c {
            Cond::And(_) | Cond::Or(_) => format!("({c})"),
            _ => c.to_string(),
        };
        match self {
            Cond::True => f.write_str("1"),
            Cond::False => f.write_str("0"),
            Cond::Defined(n) => f.write_str(n),
            Cond::Opaque(t) => write!(f, "[{t}]"),
            Cond::Not(c) => write!(f, "!{}", part(c)),
            Cond::And(cs) => f.write_str(&cs.iter().map(part).collect::<Vec<_>>().join(" && ")),
            Cond::Or(cs) => f.write_str(&cs.iter().map(part).collect::<Vec<_>>().join(" || ")),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Ident(String),
    Number(i64),
    Op(&'static str),
}

const OPS: [&str; 14] = [
    "&&", "||", "==", "!=", "<=", ">=", "!", "(", ")", "<", ">", "+", "-", "*",
];

fn tokenize(text: &str) -> Result<Vec<Token>, String> {
    let mut out = Vec::new();
    let b = text.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_whitespace() {
            i += 1;
        } else if c == b'/' && b.get(i + 1) == Some(&b'*') {
            // A comment to its end (on this line).
            let end = text[i + 2..].find("*/").map_or(b.len(), |e| i + 2 + e + 2);
            i = end;
        } else if c == b'/' && b.get(i + 1) == Some(&b'/') {
            break;
        } else if c.is_ascii_alphabetic() || c == b'_' {
            let start = i;
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
                i += 1;
            }
            out.push(Token::Ident(text[start..i].to_string()));
        } else if c.is_ascii_digit() {
            let start = i;
            while i < b.len() && (b[i].is_ascii_alphanumeric()) {
                i += 1;
            }
            let digits = text[start..i].trim_end_matches(['u', 'U', 'l', 'L']);
            let n = match digits
                .strip_prefix("0x")
                .or_else(|| digits.strip_prefix("0X"))
            {
                Some(hex) => i64::from_str_radix(hex, 16),
                None => digits.parse(),
            }
            .map_err(|_| format!("{text:?}: not a number: {}", &text[start..i]))?;
            out.push(Token::Number(n));
        } else if let Some(op) = OPS.iter().find(|op| text[i..].starts_with(**op)) {
            out.push(Token::Op(op));
            i += op.len();
        } else {
            return Err(format!("{text:?}: cannot read {:?}", c as char));
        }
    }
    Ok(out)
}

struct Parser {
    tokens: Vec<Token>,
    at: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.at)
    }

    fn eat(&mut self, op: &str) -> bool {
        let here = matches!(self.peek(), Some(Token::Op(o)) if *o == op);
        if here {
            self.at += 1;
        }
        here
    }

    fn or(&mut self) -> Result<Cond, String> {
        let mut terms = vec![self.and()?];
        while self.eat("||") {
            terms.push(self.and()?);
        }
        Ok(if terms.len() == 1 {
            terms.pop().expect("one")
        } else {
            Cond::Or(terms)
        })
    }

    fn and(&mut self) -> Result<Cond, String> {
        let mut terms = vec![self.unary()?];
        while self.eat("&&") {
            terms.push(self.unary()?);
        }
        Ok(if terms.len() == 1 {
            terms.pop().expect("one")
        } else {
            Cond::And(terms)
        })
    }

    fn unary(&mut self) -> Result<Cond, String> {
        if self.eat("!") {
            return Ok(Cond::Not(Box::new(self.unary()?)));
        }
        let start = self.at;
        let first = self.primary()?;
        // A comparison or arithmetic: the whole of it is one opaque atom.
        if let Some(Token::Op(op)) = self.peek() {
            if ["==", "!=", "<=", ">=", "<", ">", "+", "-", "*"].contains(op) {
                self.at += 1;
                self.primary()?;
                while let Some(Token::Op(op)) = self.peek() {
                    if ["==", "!=", "<=", ">=", "<", ">", "+", "-", "*"].contains(op) {
                        self.at += 1;
                        self.primary()?;
                    } else {
                        break;
                    }
                }
                let text = self.tokens[start..self.at]
                    .iter()
                    .map(|t| match t {
                        Token::Ident(s) => s.clone(),
                        Token::Number(n) => n.to_string(),
                        Token::Op(o) => o.to_string(),
                    })
                    .collect::<Vec<_>>()
                    .join(" ");
                return Ok(Cond::Opaque(text));
            }
        }
        Ok(first)
    }

    fn primary(&mut self) -> Result<Cond, String> {
        match self.tokens.get(self.at).cloned() {
            Some(Token::Op("(")) => {
                self.at += 1;
                let c = self.or()?;
                if !self.eat(")") {
                    return Err("a `(` is not closed".into());
                }
                Ok(c)
            }
            Some(Token::Number(n)) => {
                self.at += 1;
                Ok(if n != 0 { Cond::True } else { Cond::False })
            }
            Some(Token::Ident(name))
                if ["defined", "IS_ENABLED", "IS_BUILTIN", "IS_REACHABLE"]
                    .contains(&name.as_str()) =>
            {
                self.at += 1;
                let paren = self.eat("(");
                let Some(Token::Ident(arg)) = self.tokens.get(self.at).cloned() else {
                    return Err(format!("{name} needs a macro name"));
                };
                self.at += 1;
                if paren && !self.eat(")") {
                    return Err(format!("{name}( is not closed"));
                }
                Ok(Cond::Defined(arg))
            }
            Some(Token::Ident(name)) => {
                self.at += 1;
                if self.peek() == Some(&Token::Op("(")) {
                    return Err(format!("a function-like macro {name}(…) is not understood"));
                }
                Ok(Cond::Defined(name))
            }
            Some(t) => Err(format!("unexpected {t:?}")),
            None => Err("the condition ends too early".into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(s: &str) -> Cond {
        Cond::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn linker_script_conditions_parse_and_print_as_the_spec_writes_them() {
        assert_eq!(c("defined(CONFIG_X86_SGX)").to_string(), "CONFIG_X86_SGX");
        assert_eq!(
            c("defined(CONFIG_PPC64) || !defined(CONFIG_SMP)").to_string(),
            "CONFIG_PPC64 || !CONFIG_SMP"
        );
        assert_eq!(
            c("defined(CONFIG_VDSO_GETRANDOM) && !defined(COMPAT_VDSO)").to_string(),
            "CONFIG_VDSO_GETRANDOM && !COMPAT_VDSO"
        );
        assert_eq!(c("IS_ENABLED(CONFIG_COMPAT)"), c("CONFIG_COMPAT"));
        assert_eq!(
            c("_MIPS_SIM == _MIPS_SIM_ABI64 || defined(CONFIG_COMPAT_32BIT_TIME)"),
            Cond::Or(vec![
                Cond::Defined("CONFIG_COMPAT_32BIT_TIME".into()),
                Cond::Opaque("_MIPS_SIM == _MIPS_SIM_ABI64".into())
            ])
        );
        assert_eq!(c("0"), Cond::False);
        assert_eq!(c("1 /* always */"), Cond::True);
        for bad in [
            "defined(",
            "(CONFIG_A",
            "CONFIG_A &&",
            "FOO(1)",
            "CONFIG_A @ B",
        ] {
            assert!(Cond::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn conditions_are_compared_by_what_they_mean() {
        assert!(c("CONFIG_A && CONFIG_B").equivalent(&Cond::all([c("CONFIG_B"), c("CONFIG_A")])));
        assert!(c("!(CONFIG_A && CONFIG_B)").equivalent(&c("!CONFIG_A || !CONFIG_B")));
        assert!(!c("CONFIG_A").equivalent(&c("CONFIG_A && CONFIG_B")));
        assert!(Cond::all([]).equivalent(&Cond::True));
        let off = |n: &str| (n == "CONFIG_SMP").then_some(true);
        assert_eq!(c("CONFIG_PPC64 || !CONFIG_SMP").eval(&off), None);
        assert_eq!(c("CONFIG_PPC64 && !CONFIG_SMP").eval(&off), Some(false));
        assert_eq!(
            c("CONFIG_VDSO_GETRANDOM && !COMPAT_VDSO")
                .assume(&|n| (n == "COMPAT_VDSO").then_some(false)),
            c("CONFIG_VDSO_GETRANDOM")
        );
    }
}
