//! Byte-level state machine behind [`CleanReader`](super::clean::CleanReader).
//!
//! It follows just enough of the XML syntax (text, tags with quoted
//! attribute values, comments, CDATA, processing instructions, DOCTYPE) to
//! drop forbidden control characters, remove the DOCTYPE and cut over-long
//! runs without breaking the markup that quick-xml parses next.

use super::clean::{ATTRIBUTE_CAP, CleanStats, RUN_CAP, TAG_CAP};

/// Lexer position in the markup.
#[derive(Debug)]
enum State {
    Text,
    /// After `<`: the bytes in `pending` decide between tag, comment, CDATA,
    /// processing instruction and DOCTYPE.
    Prefix,
    Tag {
        quote: u8,
    },
    /// A run ended by `mark` repeated `count` times and then `>`.
    Delimited {
        mark: u8,
        count: usize,
    },
    /// Inside `<!DOCTYPE`, which is dropped: `depth` counts open `[`, and
    /// `opener` how much of `<!--` (or `<?`) was just seen outside quotes.
    Doctype {
        quote: u8,
        depth: u32,
        opener: u8,
    },
    /// A comment inside the DOCTYPE; `dashes` counts the `-` just seen.
    DoctypeComment {
        depth: u32,
        dashes: u8,
    },
    /// A processing instruction inside the DOCTYPE; `question` is true
    /// right after a `?`.
    DoctypeInstruction {
        depth: u32,
        question: bool,
    },
}

#[derive(Debug)]
pub(crate) struct Lexer {
    state: State,
    pending: Vec<u8>,
    /// Bytes seen in the current capped run (text, CDATA, attribute value…).
    run: usize,
    /// True once the current run passed its cap: bytes are dropped until it ends.
    dropping: bool,
    /// Bytes since an unterminated `&`, or 0 outside a reference.
    in_reference: usize,
    /// Terminator marks matched so far, and how many of them were dropped.
    matched: usize,
    dropped_marks: usize,
    tag_length: usize,
    /// Length of the output up to the end of the last markup (tag, comment,
    /// CDATA section, processing instruction or DOCTYPE) completed by
    /// [`Self::process`], since [`Self::take_boundary`] was last called.
    boundary: Option<usize>,
}

impl Default for Lexer {
    fn default() -> Self {
        Lexer {
            state: State::Text,
            pending: Vec::with_capacity(16),
            run: 0,
            dropping: false,
            in_reference: 0,
            matched: 0,
            dropped_marks: 0,
            tag_length: 0,
            boundary: None,
        }
    }
}

/// True for the C0 control characters XML 1.0 forbids.
fn is_forbidden_control(byte: u8) -> bool {
    byte < 0x20 && !matches!(byte, b'\t' | b'\n' | b'\r')
}

/// Stop sets of [`Lexer::plain_length`], one bit each in [`STOPS`].
const STOP_TEXT: u8 = 1;
const STOP_CDATA: u8 = 2;
const STOP_TAG: u8 = 4;
const STOP_DOUBLE_QUOTED: u8 = 8;
const STOP_SINGLE_QUOTED: u8 = 16;

/// For each byte, the stop sets it belongs to: forbidden control characters
/// end every plain stretch, the markup bytes only those where they matter.
const fn stop_table() -> [u8; 256] {
    let all = STOP_TEXT | STOP_CDATA | STOP_TAG | STOP_DOUBLE_QUOTED | STOP_SINGLE_QUOTED;
    let mut table = [0; 256];
    let mut byte = 0;
    while byte < 0x20 {
        if !matches!(byte as u8, b'\t' | b'\n' | b'\r') {
            table[byte] = all;
        }
        byte += 1;
    }
    table[b'<' as usize] = STOP_TEXT;
    table[b'&' as usize] = STOP_TEXT | STOP_DOUBLE_QUOTED | STOP_SINGLE_QUOTED;
    table[b']' as usize] = STOP_CDATA;
    table[b'>' as usize] = STOP_TAG;
    table[b'"' as usize] = STOP_TAG | STOP_DOUBLE_QUOTED;
    table[b'\'' as usize] = STOP_TAG | STOP_SINGLE_QUOTED;
    table
}

static STOPS: [u8; 256] = stop_table();

const PREFIXES: [&[u8]; 4] = [b"<!--", b"<![CDATA[", b"<!DOCTYPE", b"<?"];

impl Lexer {
    /// Appends the cleaned `input` to `out`. Bytes that pass unchanged (plain
    /// stretches and the common markup transitions of [`Self::pass_through`])
    /// are copied in one call per stretch between bytes that need
    /// [`Self::step`].
    pub(crate) fn process(
        &mut self,
        input: &[u8],
        out: &mut Vec<u8>,
        stats: &mut CleanStats,
    ) -> Result<(), String> {
        let mut index = 0;
        let mut copy_from = 0;
        while index < input.len() {
            let plain = self.plain_length(&input[index..]);
            if plain > 0 {
                self.run += plain;
                if let State::Tag { .. } = self.state {
                    self.tag_length += plain;
                    if self.tag_length > TAG_CAP {
                        return Err(format!("element tag longer than {} MiB", TAG_CAP >> 20));
                    }
                }
                index += plain;
                continue;
            }
            let byte = input[index];
            if self.pass_through(byte, input.get(index + 1).copied()) {
                index += 1;
                if let State::Text = self.state {
                    // Only a `>` that closes a tag leads back to text here.
                    self.boundary = Some(out.len() + index - copy_from);
                }
                continue;
            }
            out.extend_from_slice(&input[copy_from..index]);
            index += 1;
            copy_from = index;
            if is_forbidden_control(byte) {
                stats.control_chars += 1;
                continue;
            }
            self.step(byte, out, stats)?;
        }
        out.extend_from_slice(&input[copy_from..]);
        Ok(())
    }

    /// Handles the markup bytes that are kept as they are and change the
    /// state exactly as [`Self::step`] would: `<` opening an ordinary tag,
    /// quotes and `>` in a tag. Returns false for any other byte, which then
    /// goes through [`Self::step`]. `next` is the byte after `byte`, if it is
    /// in the same input.
    fn pass_through(&mut self, byte: u8, next: Option<u8>) -> bool {
        match (&self.state, byte) {
            // `step_prefix` would hold `<` and emit it with `next` unless
            // `next` starts a comment, CDATA, processing instruction or
            // DOCTYPE, or is a control character that is dropped.
            (State::Text, b'<') => match next {
                Some(next) if !matches!(next, b'!' | b'?') && !is_forbidden_control(next) => {
                    self.start_run(State::Tag { quote: 0 });
                    self.tag_length = 1;
                    true
                }
                _ => false,
            },
            (State::Tag { quote: 0 }, b'>') => {
                if self.tag_length + 1 > TAG_CAP {
                    return false;
                }
                self.start_run(State::Text);
                true
            }
            (State::Tag { quote: 0 }, b'"' | b'\'') => self.enter_tag_state(byte),
            (&State::Tag { quote }, _) if quote != 0 && byte == quote => self.enter_tag_state(0),
            _ => false,
        }
    }

    /// Moves to the tag state with `quote` (0 between attribute values) after
    /// a quote. Returns false, with nothing changed, when the quote would pass
    /// the tag cap, so [`Self::step`] reports the error.
    fn enter_tag_state(&mut self, quote: u8) -> bool {
        if self.tag_length + 1 > TAG_CAP {
            return false;
        }
        self.start_run(State::Tag { quote });
        self.tag_length += 1;
        true
    }

    /// Length of the prefix of `input` that can be copied as is: text, CDATA
    /// or tag bytes with no markup, reference, quote, terminator or control
    /// character, within the run's cap. Other bytes go one at a time through
    /// [`Self::step`].
    fn plain_length(&self, input: &[u8]) -> usize {
        let idle = !self.dropping && self.in_reference == 0;
        let stop = match self.state {
            State::Text if idle => STOP_TEXT,
            State::Delimited { mark: b']', .. } if idle && self.matched == 0 => STOP_CDATA,
            State::Tag { quote: 0 } => STOP_TAG,
            State::Tag { quote: b'"' } if idle => STOP_DOUBLE_QUOTED,
            State::Tag { quote: b'\'' } if idle => STOP_SINGLE_QUOTED,
            _ => return 0,
        };
        let cap = match self.state {
            State::Tag { quote: 0 } => usize::MAX,
            State::Tag { .. } => ATTRIBUTE_CAP,
            _ => RUN_CAP,
        };
        let budget = cap.saturating_sub(self.run).min(input.len());
        input[..budget]
            .iter()
            .position(|&byte| STOPS[usize::from(byte)] & stop != 0)
            .unwrap_or(budget)
    }

    /// Returns the position in the output just after the last markup
    /// completed since the previous call, if any. The output can be split
    /// there: what follows starts in text, outside any markup.
    pub(crate) fn take_boundary(&mut self) -> Option<usize> {
        self.boundary.take()
    }

    /// Emits markup held back at the end of input, so quick-xml reports it.
    pub(crate) fn finish(&mut self, out: &mut Vec<u8>) {
        out.append(&mut self.pending);
    }

    fn start_run(&mut self, state: State) {
        self.state = state;
        self.run = 0;
        self.dropping = false;
        self.in_reference = 0;
        self.matched = 0;
        self.dropped_marks = 0;
    }

    /// Decides whether a byte of a capped run is kept. The cut never splits a
    /// UTF-8 sequence, nor an entity reference when `references` is true: in
    /// text and attribute values, but not in CDATA, comments or processing
    /// instructions. A reference is at most 32 bytes long, and an
    /// `&` inside one shows that the first was none, so the cut comes at most
    /// 32 bytes after the cap.
    fn keep_in_run(
        &mut self,
        byte: u8,
        cap: usize,
        references: bool,
        stats: &mut CleanStats,
    ) -> bool {
        self.run += 1;
        let inside_reference = self.in_reference > 0;
        if !references {
            // Nothing to track.
        } else if byte == b'&' {
            self.in_reference = 1;
        } else if inside_reference {
            self.in_reference = if byte == b';' || self.in_reference > 32 {
                0
            } else {
                self.in_reference + 1
            };
        }
        if self.dropping {
            return false;
        }
        let continuation = (0x80..0xC0).contains(&byte);
        if self.run > cap && (!inside_reference || byte == b'&') && !continuation {
            self.dropping = true;
            stats.runs_cut += 1;
            return false;
        }
        true
    }

    fn step(&mut self, byte: u8, out: &mut Vec<u8>, stats: &mut CleanStats) -> Result<(), String> {
        match self.state {
            State::Text => {
                if byte == b'<' {
                    self.pending.push(byte);
                    self.state = State::Prefix;
                } else if self.keep_in_run(byte, RUN_CAP, true, stats) {
                    out.push(byte);
                }
            }
            State::Prefix => self.step_prefix(byte, out, stats)?,
            State::Tag { quote } => self.step_tag(byte, quote, out, stats)?,
            State::Delimited { mark, count } => {
                let keep = self.keep_in_run(byte, RUN_CAP, false, stats);
                if byte == mark {
                    self.matched = (self.matched + 1).min(count);
                    self.dropped_marks = if keep { 0 } else { self.dropped_marks + 1 };
                } else if byte == b'>' && self.matched == count {
                    // Put back the part of the terminator that was dropped.
                    let missing = self.dropped_marks.min(count);
                    out.extend(std::iter::repeat_n(mark, missing));
                    out.push(b'>');
                    self.start_run(State::Text);
                    self.boundary = Some(out.len());
                    return Ok(());
                } else {
                    self.matched = 0;
                    self.dropped_marks = 0;
                }
                if keep {
                    out.push(byte);
                }
            }
            State::Doctype {
                quote,
                depth,
                opener,
            } => {
                let inside = |quote, depth, opener| State::Doctype {
                    quote,
                    depth,
                    opener,
                };
                self.state = match (quote, opener, byte) {
                    (0, 1, b'?') => State::DoctypeInstruction {
                        depth,
                        question: false,
                    },
                    (0, 3, b'-') => State::DoctypeComment { depth, dashes: 0 },
                    (0, 1, b'!') | (0, 2, b'-') => inside(0, depth, opener + 1),
                    (0, _, b'<') => inside(0, depth, 1),
                    (0, _, b'"' | b'\'') => inside(byte, depth, 0),
                    (0, _, b'[') => inside(0, depth + 1, 0),
                    (0, _, b']') => inside(0, depth.saturating_sub(1), 0),
                    (0, _, b'>') if depth == 0 => {
                        self.start_run(State::Text);
                        self.boundary = Some(out.len());
                        State::Text
                    }
                    (quote, _, byte) if quote == byte => inside(0, depth, 0),
                    _ => inside(quote, depth, 0),
                };
            }
            State::DoctypeComment { depth, dashes } => {
                self.state = match byte {
                    b'>' if dashes >= 2 => State::Doctype {
                        quote: 0,
                        depth,
                        opener: 0,
                    },
                    b'-' => State::DoctypeComment {
                        depth,
                        dashes: dashes.saturating_add(1),
                    },
                    _ => State::DoctypeComment { depth, dashes: 0 },
                };
            }
            State::DoctypeInstruction { depth, question } => {
                self.state = match byte {
                    b'>' if question => State::Doctype {
                        quote: 0,
                        depth,
                        opener: 0,
                    },
                    _ => State::DoctypeInstruction {
                        depth,
                        question: byte == b'?',
                    },
                };
            }
        }
        Ok(())
    }

    fn step_prefix(
        &mut self,
        byte: u8,
        out: &mut Vec<u8>,
        stats: &mut CleanStats,
    ) -> Result<(), String> {
        if self.pending.len() == 1 && !matches!(byte, b'!' | b'?') {
            // `<` followed by a name or `/`: an ordinary tag, by far the most
            // common case, decided without comparing prefixes.
            self.pending.clear();
            out.push(b'<');
            self.start_run(State::Tag { quote: 0 });
            self.tag_length = 1;
            return self.step(byte, out, stats);
        }
        self.pending.push(byte);
        let next = match self.pending.as_slice() {
            b"<!--" => Some(State::Delimited {
                mark: b'-',
                count: 2,
            }),
            b"<![CDATA[" => Some(State::Delimited {
                mark: b']',
                count: 2,
            }),
            b"<?" => Some(State::Delimited {
                mark: b'?',
                count: 1,
            }),
            b"<!DOCTYPE" => {
                stats.doctypes += 1;
                self.pending.clear();
                self.start_run(State::Doctype {
                    quote: 0,
                    depth: 0,
                    opener: 0,
                });
                return Ok(());
            }
            _ => None,
        };
        if let Some(state) = next {
            out.append(&mut self.pending);
            self.start_run(state);
            return Ok(());
        }
        if PREFIXES
            .iter()
            .any(|prefix| prefix.starts_with(&self.pending))
        {
            return Ok(());
        }
        // An ordinary tag: emit `<` and replay the held bytes as tag bytes.
        // `pending` is shorter than the longest prefix, `<![CDATA[`.
        let mut held = [0; 16];
        let replayed = &mut held[..self.pending.len() - 1];
        replayed.copy_from_slice(&self.pending[1..]);
        self.pending.clear();
        out.push(b'<');
        self.start_run(State::Tag { quote: 0 });
        self.tag_length = 1;
        for &byte in replayed.iter() {
            self.step(byte, out, stats)?;
        }
        Ok(())
    }

    fn step_tag(
        &mut self,
        byte: u8,
        quote: u8,
        out: &mut Vec<u8>,
        stats: &mut CleanStats,
    ) -> Result<(), String> {
        if quote == 0 {
            match byte {
                b'"' | b'\'' => {
                    self.start_run(State::Tag { quote: byte });
                }
                b'>' => {
                    self.tag_length += 1;
                    if self.tag_length > TAG_CAP {
                        return Err(format!("element tag longer than {} MiB", TAG_CAP >> 20));
                    }
                    out.push(byte);
                    self.start_run(State::Text);
                    self.boundary = Some(out.len());
                    return Ok(());
                }
                _ => {}
            }
        } else if byte == quote {
            self.start_run(State::Tag { quote: 0 });
        } else if !self.keep_in_run(byte, ATTRIBUTE_CAP, true, stats) {
            return Ok(());
        }
        self.tag_length += 1;
        if self.tag_length > TAG_CAP {
            return Err(format!("element tag longer than {} MiB", TAG_CAP >> 20));
        }
        out.push(byte);
        Ok(())
    }
}
