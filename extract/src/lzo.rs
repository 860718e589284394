//! LZO1X decompression, as the kernel's lib/lzo/lzo1x_decompress_safe.c does
//! it: every read and every back-reference checked, the output bounded (the
//! crates on offer panic on damaged input).

/// Decompresses one LZO1X block of at most `max` bytes.
pub fn decompress(input: &[u8], max: usize) -> Result<Vec<u8>, String> {
    let mut d = Decoder {
        input,
        at: 0,
        out: Vec::with_capacity(max.min(1 << 20)),
        max,
    };
    d.run()?;
    Ok(d.out)
}

struct Decoder<'a> {
    input: &'a [u8],
    at: usize,
    out: Vec<u8>,
    max: usize,
}

enum Next {
    /// An instruction byte that starts with a literal run (or a match).
    Instruction,
    /// The instruction right after a literal run of 4 or more bytes.
    AfterLongLiterals,
    /// A match instruction (1-3 literals were just copied).
    Match,
}

impl Decoder<'_> {
    fn byte(&mut self) -> Result<usize, String> {
        let b = *self.input.get(self.at).ok_or("the stream ends early")?;
        self.at += 1;
        Ok(usize::from(b))
    }

    /// A length continued by zero bytes (255 each) and a final byte.
    fn long_length(&mut self, base: usize) -> Result<usize, String> {
        let mut t = 0usize;
        while self.byte()? == 0 {
            t = t.checked_add(255).ok_or("a length overflows")?;
        }
        self.at -= 1;
        Ok(t + base + self.byte()?)
    }

    fn literals(&mut self, n: usize) -> Result<(), String> {
        let run = self
            .input
            .get(self.at..)
            .and_then(|rest| rest.get(..n))
            .ok_or("a literal run ends past the stream")?;
        if self.out.len() + n > self.max {
            return Err("the output is longer than its block says".into());
        }
        self.out.extend_from_slice(run);
        self.at += n;
        Ok(())
    }

    /// Copies `len` bytes from `distance` back (overlapping copies repeat).
    fn copy_match(&mut self, distance: usize, len: usize) -> Result<(), String> {
        if distance == 0 || distance > self.out.len() {
            return Err("a match reaches before the output's start".into());
        }
        if self.out.len() + len > self.max {
            return Err("the output is longer than its block says".into());
        }
        let from = self.out.len() - distance;
        for i in 0..len {
            let b = self.out[from + i];
            self.out.push(b);
        }
        Ok(())
    }

    fn run(&mut self) -> Result<(), String> {
        let mut next = Next::Instruction;
        let first = *self.input.first().ok_or("an empty block")?;
        if first > 17 {
            self.at = 1;
            let t = usize::from(first) - 17;
            self.literals(t)?;
            next = if t < 4 {
                Next::Match
            } else {
                Next::AfterLongLiterals
            };
        }
        loop {
            let mut t = self.byte()?;
            match next {
                Next::Instruction if t < 16 => {
                    let n = if t == 0 { self.long_length(15)? } else { t };
                    self.literals(n + 3)?;
                    next = Next::AfterLongLiterals;
                    continue;
                }
                Next::AfterLongLiterals if t < 16 => {
                    // A 3-byte match up to 0x800 + 1024 back.
                    let distance = 1 + 0x800 + (t >> 2) + (self.byte()? << 2);
                    self.copy_match(distance, 3)?;
                    t &= 3;
                }
                Next::Match if t < 16 => {
                    let distance = 1 + (t >> 2) + (self.byte()? << 2);
                    self.copy_match(distance, 2)?;
                    t &= 3;
                }
                _ if t >= 64 => {
                    let distance = 1 + ((t >> 2) & 7) + (self.byte()? << 3);
                    self.copy_match(distance, (t >> 5) + 1)?;
                    t &= 3;
                }
                _ if t >= 32 => {
                    let len = match t & 31 {
                        0 => self.long_length(31)?,
                        n => n,
                    };
                    let (lo, hi) = (self.byte()?, self.byte()?);
                    self.copy_match(1 + (lo >> 2) + (hi << 6), len + 2)?;
                    t = lo & 3;
                }
                _ => {
                    // 16..=31: a far match, or the end of the stream.
                    let high = (t & 8) << 11;
                    let len = match t & 7 {
                        0 => self.long_length(7)?,
                        n => n,
                    };
                    let (lo, hi) = (self.byte()?, self.byte()?);
                    let distance = high + (lo >> 2) + (hi << 6);
                    if distance == 0 {
                        return Ok(());
                    }
                    self.copy_match(distance + 0x4000, len + 2)?;
                    t = lo & 3;
                }
            }
            // The low bits of the match's last instruction byte: 0-3 literals.
            if t == 0 {
                next = Next::Instruction;
            } else {
                self.literals(t)?;
                next = Next::Match;
            }
        }
    }
}
