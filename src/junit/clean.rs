//! Byte-level cleaning between a report file and quick-xml.
//!
//! [`CleanReader`] wraps the file and hands quick-xml UTF-8 that it can parse
//! in bounded memory:
//! - the encoding comes from the BOM (UTF-8, UTF-16 LE/BE) or from the first
//!   bytes of a UTF-16 file without BOM; the `encoding` declaration is
//!   ignored, and malformed sequences become U+FFFD;
//! - C0 control characters that XML 1.0 forbids (all below U+0020 except tab,
//!   line feed and carriage return) are dropped and counted;
//! - a `<!DOCTYPE …>` declaration is removed whole, so no DTD is ever seen by
//!   the parser and no entity can be declared;
//! - runs of text, CDATA, comments and processing instructions longer than
//!   [`RUN_CAP`] bytes, and attribute values longer than [`ATTRIBUTE_CAP`],
//!   are cut (the end of the run is kept so the markup stays intact);
//! - a start tag longer than [`TAG_CAP`] bytes is an error.
//!
//! quick-xml buffers one whole event, so these caps bound its buffer: a 200 MB
//! `system-out` costs at most [`RUN_CAP`] bytes of memory.

use std::io::{self, Read};

use encoding_rs::{Decoder, Encoding, UTF_8, UTF_16BE, UTF_16LE};

/// Maximum bytes kept of one text, CDATA, comment or processing-instruction run.
pub(crate) const RUN_CAP: usize = 1 << 20;
/// Maximum bytes kept of one attribute value.
pub(crate) const ATTRIBUTE_CAP: usize = 64 << 10;
/// Maximum bytes of one start or end tag after attribute values were cut.
pub(crate) const TAG_CAP: usize = 4 << 20;

const CHUNK: usize = 64 << 10;

/// What the cleaning changed, for warnings.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct CleanStats {
    pub(crate) input_bytes: u64,
    pub(crate) control_chars: u64,
    pub(crate) runs_cut: u64,
    pub(crate) doctypes: u64,
    pub(crate) malformed_encoding: bool,
    pub(crate) encoding: &'static str,
}

/// Streaming cleaner; see the module documentation.
pub(crate) struct CleanReader<R> {
    inner: R,
    decoder: Option<Decoder>,
    raw: Vec<u8>,
    utf8: Vec<u8>,
    out: Vec<u8>,
    out_pos: usize,
    done: bool,
    lexer: Lexer,
    pub(crate) stats: CleanStats,
}

impl<R: Read> CleanReader<R> {
    pub(crate) fn new(inner: R) -> Self {
        CleanReader {
            inner,
            decoder: None,
            raw: Vec::with_capacity(CHUNK),
            utf8: Vec::new(),
            out: Vec::with_capacity(CHUNK),
            out_pos: 0,
            done: false,
            lexer: Lexer::default(),
            stats: CleanStats::default(),
        }
    }

    /// Reads the next chunk, decodes it and runs it through the lexer into `out`.
    fn fill(&mut self) -> io::Result<()> {
        self.out.clear();
        self.out_pos = 0;
        self.raw.clear();
        let last = self.read_chunk()?;
        if self.decoder.is_none() {
            self.decoder = Some(self.sniff_encoding());
        }
        let decoder = self.decoder.as_mut().expect("decoder set above");
        let needed = decoder
            .max_utf8_buffer_length(self.raw.len())
            .unwrap_or(CHUNK * 3);
        self.utf8.resize(needed.max(16), 0);
        let (_, read, written, replaced) = decoder.decode_to_utf8(&self.raw, &mut self.utf8, last);
        debug_assert_eq!(read, self.raw.len());
        self.stats.malformed_encoding |= replaced;
        let result = self
            .lexer
            .process(&self.utf8[..written], &mut self.out, &mut self.stats);
        if last {
            self.lexer.finish(&mut self.out);
            self.done = true;
        }
        result.map_err(|message| io::Error::new(io::ErrorKind::InvalidData, message))
    }

    /// Fills `raw` with up to one chunk; returns true at end of input.
    fn read_chunk(&mut self) -> io::Result<bool> {
        let mut buffer = [0u8; CHUNK];
        loop {
            let count = match self.inner.read(&mut buffer[..CHUNK - self.raw.len()]) {
                Ok(count) => count,
                Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
                Err(error) => return Err(error),
            };
            self.stats.input_bytes += count as u64;
            self.raw.extend_from_slice(&buffer[..count]);
            // The first chunk needs four bytes to recognize a BOM.
            let enough = self.decoder.is_some() || self.raw.len() >= 4;
            if count == 0 || self.raw.len() == CHUNK || (enough && !self.raw.is_empty()) {
                return Ok(count == 0);
            }
        }
    }

    /// Picks the decoder from the BOM or the first bytes and removes the BOM.
    fn sniff_encoding(&mut self) -> Decoder {
        let encoding = if let Some((encoding, bom_length)) = Encoding::for_bom(&self.raw) {
            self.raw.drain(..bom_length);
            encoding
        } else if self.raw.starts_with(&[b'<', 0]) {
            UTF_16LE
        } else if self.raw.starts_with(&[0, b'<']) {
            UTF_16BE
        } else {
            UTF_8
        };
        self.stats.encoding = encoding.name();
        encoding.new_decoder_without_bom_handling()
    }
}

impl<R: Read> Read for CleanReader<R> {
    fn read(&mut self, buffer: &mut [u8]) -> io::Result<usize> {
        loop {
            if self.out_pos < self.out.len() {
                let count = buffer.len().min(self.out.len() - self.out_pos);
                buffer[..count].copy_from_slice(&self.out[self.out_pos..self.out_pos + count]);
                self.out_pos += count;
                return Ok(count);
            }
            if self.done {
                return Ok(0);
            }
            self.fill()?;
        }
    }
}

/// Where the lexer is in the markup.
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
    Doctype {
        quote: u8,
        depth: u32,
    },
}

#[derive(Debug)]
struct Lexer {
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
        }
    }
}

/// True for the C0 control characters XML 1.0 forbids.
fn is_forbidden_control(byte: u8) -> bool {
    byte < 0x20 && !matches!(byte, b'\t' | b'\n' | b'\r')
}

const PREFIXES: [&[u8]; 4] = [b"<!--", b"<![CDATA[", b"<!DOCTYPE", b"<?"];

impl Lexer {
    fn process(
        &mut self,
        input: &[u8],
        out: &mut Vec<u8>,
        stats: &mut CleanStats,
    ) -> Result<(), String> {
        let mut index = 0;
        while index < input.len() {
            let plain = self.plain_length(&input[index..]);
            if plain > 0 {
                out.extend_from_slice(&input[index..index + plain]);
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
            index += 1;
            if is_forbidden_control(byte) {
                stats.control_chars += 1;
                continue;
            }
            self.step(byte, out, stats)?;
        }
        Ok(())
    }

    /// Length of the prefix of `input` that can be copied as is: text, CDATA
    /// or tag bytes with no markup, reference, quote, terminator or control
    /// character, within the run's cap. Other bytes go one at a time through
    /// [`Self::step`].
    fn plain_length(&self, input: &[u8]) -> usize {
        let idle = !self.dropping && self.in_reference == 0;
        let stop: fn(u8) -> bool = match self.state {
            State::Text if idle => {
                |byte| is_forbidden_control(byte) || byte == b'<' || byte == b'&'
            }
            State::Delimited { mark: b']', .. } if idle && self.matched == 0 => {
                |byte| is_forbidden_control(byte) || byte == b']' || byte == b'&'
            }
            State::Tag { quote: 0 } => {
                |byte| is_forbidden_control(byte) || matches!(byte, b'"' | b'\'' | b'>')
            }
            State::Tag { quote: b'"' } if idle => {
                |byte| is_forbidden_control(byte) || matches!(byte, b'"' | b'&')
            }
            State::Tag { quote: b'\'' } if idle => {
                |byte| is_forbidden_control(byte) || matches!(byte, b'\'' | b'&')
            }
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
            .position(|&byte| stop(byte))
            .unwrap_or(budget)
    }

    /// Emits markup held back at the end of input, so quick-xml reports it.
    fn finish(&mut self, out: &mut Vec<u8>) {
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
    /// UTF-8 sequence or an entity reference.
    fn keep_in_run(&mut self, byte: u8, cap: usize, stats: &mut CleanStats) -> bool {
        self.run += 1;
        let inside_reference = self.in_reference > 0;
        if byte == b'&' {
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
        if self.run > cap && !inside_reference && !continuation {
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
                } else if self.keep_in_run(byte, RUN_CAP, stats) {
                    out.push(byte);
                }
            }
            State::Prefix => self.step_prefix(byte, out, stats)?,
            State::Tag { quote } => self.step_tag(byte, quote, out, stats)?,
            State::Delimited { mark, count } => {
                let keep = self.keep_in_run(byte, RUN_CAP, stats);
                if byte == mark {
                    self.matched = (self.matched + 1).min(count);
                    self.dropped_marks = if keep { 0 } else { self.dropped_marks + 1 };
                } else if byte == b'>' && self.matched == count {
                    // Put back the part of the terminator that was dropped.
                    let missing = self.dropped_marks.min(count);
                    out.extend(std::iter::repeat_n(mark, missing));
                    out.push(b'>');
                    self.start_run(State::Text);
                    return Ok(());
                } else {
                    self.matched = 0;
                    self.dropped_marks = 0;
                }
                if keep {
                    out.push(byte);
                }
            }
            State::Doctype { quote, depth } => {
                self.state = match (quote, byte) {
                    (0, b'"' | b'\'') => State::Doctype { quote: byte, depth },
                    (0, b'[') => State::Doctype {
                        quote,
                        depth: depth + 1,
                    },
                    (0, b']') => State::Doctype {
                        quote,
                        depth: depth.saturating_sub(1),
                    },
                    (0, b'>') if depth == 0 => {
                        self.start_run(State::Text);
                        State::Text
                    }
                    (quote, byte) if quote == byte => State::Doctype { quote: 0, depth },
                    _ => State::Doctype { quote, depth },
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
                self.start_run(State::Doctype { quote: 0, depth: 0 });
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
        let held: Vec<u8> = self.pending.drain(1..).collect();
        out.append(&mut self.pending);
        self.start_run(State::Tag { quote: 0 });
        self.tag_length = 1;
        for byte in held {
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
                    out.push(byte);
                    self.start_run(State::Text);
                    return Ok(());
                }
                _ => {}
            }
        } else if byte == quote {
            self.start_run(State::Tag { quote: 0 });
        } else if !self.keep_in_run(byte, ATTRIBUTE_CAP, stats) {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn clean(input: &[u8]) -> (String, CleanStats) {
        let mut reader = CleanReader::new(input);
        let mut output = Vec::new();
        reader
            .read_to_end(&mut output)
            .expect("cleaning in memory should succeed");
        (
            String::from_utf8(output).expect("cleaned output is UTF-8"),
            reader.stats,
        )
    }

    #[test]
    fn plain_document_unchanged() {
        let text = "<?xml version=\"1.0\"?><a b=\"1 &amp; 2\"><!-- c --><![CDATA[x]]>t</a>";
        assert_eq!(clean(text.as_bytes()).0, text);
    }

    #[test]
    fn control_characters_dropped() {
        let (output, stats) = clean(b"<a>x\x1b[31my\x00</a>");
        assert_eq!(output, "<a>x[31my</a>");
        assert_eq!(stats.control_chars, 2);
    }

    #[test]
    fn doctype_removed() {
        let input = b"<!DOCTYPE r [<!ENTITY x SYSTEM \"file:///etc/passwd\"> <!ENTITY y \"]>\">]><r>&x;</r>";
        let (output, stats) = clean(input);
        assert_eq!(output, "<r>&x;</r>");
        assert_eq!(stats.doctypes, 1);
    }

    #[test]
    fn utf16_with_and_without_bom() {
        let text = "<a>é\u{1F600}</a>";
        let little: Vec<u8> = text.encode_utf16().flat_map(u16::to_le_bytes).collect();
        let big: Vec<u8> = text.encode_utf16().flat_map(u16::to_be_bytes).collect();
        let with_bom = [&[0xFF, 0xFE][..], &little].concat();
        assert_eq!(clean(&with_bom).0, text);
        assert_eq!(clean(&little).0, text);
        assert_eq!(clean(&[&[0xFE, 0xFF][..], &big].concat()).0, text);
        assert_eq!(clean(&big).0, text);
    }

    #[test]
    fn utf8_bom_removed_and_bad_bytes_replaced() {
        let (output, stats) = clean(b"\xEF\xBB\xBF<a>\xFF</a>");
        assert_eq!(output, "<a>\u{FFFD}</a>");
        assert!(stats.malformed_encoding);
    }

    #[test]
    fn long_text_cut_keeps_markup() {
        let input = format!("<a>{}</a><b/>", "x".repeat(RUN_CAP + 10));
        let (output, stats) = clean(input.as_bytes());
        assert_eq!(output.len(), "<a></a><b/>".len() + RUN_CAP);
        assert!(output.ends_with("</a><b/>"));
        assert_eq!(stats.runs_cut, 1);
    }

    #[test]
    fn long_cdata_cut_keeps_terminator() {
        let body = "]".repeat(RUN_CAP + 5);
        let input = format!("<a><![CDATA[{body}]]></a>");
        let (output, _) = clean(input.as_bytes());
        assert!(
            output.ends_with("]]></a>"),
            "{}",
            &output[output.len() - 20..]
        );
        assert_eq!(output.len(), "<a><![CDATA[]]></a>".len() + RUN_CAP);
    }

    #[test]
    fn long_attribute_cut() {
        let input = format!("<a m=\"{}\" n='1'/>", "é".repeat(ATTRIBUTE_CAP));
        let (output, stats) = clean(input.as_bytes());
        assert!(output.ends_with("\" n='1'/>"));
        assert_eq!(stats.runs_cut, 1);
        assert!(output.len() < ATTRIBUTE_CAP + 20);
    }

    #[test]
    fn cut_never_splits_reference() {
        let mut input = "x".repeat(RUN_CAP - 2);
        input.push_str("&amp;tail");
        let (output, _) = clean(format!("<a>{input}</a>").as_bytes());
        assert!(
            output.ends_with("&amp;</a>"),
            "{}",
            &output[output.len() - 12..]
        );
    }

    #[test]
    fn truncated_markup_kept_for_parser() {
        assert_eq!(clean(b"<a><!").0, "<a><!");
    }
}
