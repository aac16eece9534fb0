//! Byte-level cleaning between a report file and quick-xml.
//!
//! [`CleanReader`] wraps the file and hands quick-xml UTF-8 that it can parse
//! in bounded memory:
//! - the encoding comes from the BOM (UTF-8, UTF-16 LE/BE), from the first
//!   bytes of a UTF-16 file without BOM, or else from the `encoding` of the
//!   XML declaration (any label encoding_rs supports, such as ISO-8859-1 or
//!   windows-1252), with UTF-8 as the default; malformed sequences become
//!   U+FFFD;
//! - C0 control characters that XML 1.0 forbids (all below U+0020 except tab,
//!   line feed and carriage return) are dropped and counted;
//! - a `<!DOCTYPE …>` declaration is removed whole, so no DTD is ever seen by
//!   the parser and no entity can be declared;
//! - runs of text, CDATA, comments and processing instructions longer than
//!   [`RUN_CAP`] bytes, and attribute values longer than [`ATTRIBUTE_CAP`],
//!   are cut (the end of the run is kept so the markup stays intact);
//! - a start tag longer than [`TAG_CAP`] bytes is an error.
//!
//! The parser reads the cleaned input in chunks that end after a markup, and
//! these caps bound the size of a chunk: a 200 MB `system-out` costs at most
//! [`RUN_CAP`] bytes of memory.

use std::io::{self, Read};
use std::sync::mpsc::{Receiver, Sender, SyncSender, channel, sync_channel};

use encoding_rs::{Decoder, Encoding, REPLACEMENT, UTF_8, UTF_16BE, UTF_16LE};

use super::lexer::Lexer;

/// Maximum bytes kept of one text, CDATA, comment or processing-instruction run.
pub(crate) const RUN_CAP: usize = 1 << 20;
/// Maximum bytes kept of one attribute value.
pub(crate) const ATTRIBUTE_CAP: usize = 64 << 10;
/// Maximum bytes of one start or end tag after attribute values were cut.
pub(crate) const TAG_CAP: usize = 4 << 20;

/// Bytes read from the file at a time, and the least size of a cleaned chunk.
const CHUNK: usize = 64 << 10;
/// Cleaned chunks queued between the cleaning thread and the parser. With the
/// chunk being filled and the one being parsed, at most six chunks exist at
/// once. A chunk contains about one to two times [`CHUNK`] bytes, and ends after
/// a markup, so a long text run or tag can make it grow by up to
/// [`RUN_CAP`] plus [`TAG_CAP`].
const CHUNKS_IN_FLIGHT: usize = 4;

/// Sizes the cleaning thread works with.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ChunkSizes {
    /// Bytes read from the file at a time (the first read takes at least
    /// enough for the XML declaration).
    pub(crate) read: usize,
    /// Minimum size of a chunk sent to the parser, unless it is the last one.
    pub(crate) least: usize,
}

/// The sizes for real reports; tests and fuzzing use tiny ones to put chunk
/// boundaries everywhere.
pub(crate) const CHUNK_SIZES: ChunkSizes = ChunkSizes {
    read: CHUNK,
    least: CHUNK,
};

/// Bytes searched for the end of the XML declaration at the start of a file.
const DECLARATION_MAX: usize = 1 << 10;

/// Counts of the changes made while cleaning, reported as warnings.
#[derive(Clone, Debug, Default)]
pub(crate) struct CleanStats {
    pub(crate) input_bytes: u64,
    pub(crate) control_chars: u64,
    pub(crate) runs_cut: u64,
    pub(crate) doctypes: u64,
    pub(crate) malformed_encoding: bool,
    pub(crate) encoding: &'static str,
    /// Label of a declared encoding that could not be used; the file was
    /// read as UTF-8.
    pub(crate) unsupported_encoding: Option<String>,
}

/// Streaming cleaner; see the module documentation.
pub(crate) struct CleanReader<R> {
    inner: R,
    decoder: Option<Decoder>,
    raw: Vec<u8>,
    utf8: Vec<u8>,
    done: bool,
    lexer: Lexer,
    read_size: usize,
    pub(crate) stats: CleanStats,
}

impl<R: Read> CleanReader<R> {
    pub(crate) fn new(inner: R) -> Self {
        Self::with_read_size(inner, CHUNK)
    }

    /// Creates a cleaner that reads `read_size` bytes at a time.
    pub(crate) fn with_read_size(inner: R, read_size: usize) -> Self {
        CleanReader {
            inner,
            read_size: read_size.max(1),
            decoder: None,
            raw: Vec::with_capacity(CHUNK),
            utf8: Vec::new(),
            done: false,
            lexer: Lexer::default(),
            stats: CleanStats::default(),
        }
    }

    /// Reads the next chunk, decodes it and appends it, cleaned, to `out`.
    /// Sets `done` after the last chunk.
    fn fill_into(&mut self, out: &mut Vec<u8>) -> io::Result<()> {
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
            .process(&self.utf8[..written], out, &mut self.stats);
        if last {
            self.lexer.finish(out);
            self.done = true;
        }
        result.map_err(|message| io::Error::new(io::ErrorKind::InvalidData, message))
    }

    /// Cleans the whole input into `out`, for files small enough to hold.
    pub(crate) fn read_all(&mut self, out: &mut Vec<u8>) -> io::Result<()> {
        while !self.done {
            self.fill_into(out)?;
        }
        Ok(())
    }

    /// Fills `raw` with up to one read size; returns true at end of input.
    fn read_chunk(&mut self) -> io::Result<bool> {
        let size = if self.decoder.is_none() {
            self.read_size.max(DECLARATION_MAX)
        } else {
            self.read_size
        };
        loop {
            let filled = self.raw.len();
            self.raw.resize(size, 0);
            let result = self.inner.read(&mut self.raw[filled..]);
            let count = *result.as_ref().unwrap_or(&0);
            self.raw.truncate(filled + count);
            let count = match result {
                Ok(count) => count,
                Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
                Err(error) => return Err(error),
            };
            self.stats.input_bytes += count as u64;
            // The first chunk needs four bytes to recognize a BOM, and the
            // whole XML declaration to read its encoding.
            let enough =
                self.decoder.is_some() || (self.raw.len() >= 4 && !is_declaration_open(&self.raw));
            if count == 0 || self.raw.len() == size || (enough && !self.raw.is_empty()) {
                return Ok(count == 0);
            }
        }
    }

    /// Picks the decoder from the BOM, the first bytes or the encoding
    /// declaration, and removes the BOM.
    fn sniff_encoding(&mut self) -> Decoder {
        let encoding = if let Some((encoding, bom_length)) = Encoding::for_bom(&self.raw) {
            self.raw.drain(..bom_length);
            encoding
        } else if self.raw.starts_with(&[b'<', 0]) || looks_like_utf16(&self.raw, 1) {
            UTF_16LE
        } else if self.raw.starts_with(&[0, b'<']) || looks_like_utf16(&self.raw, 0) {
            UTF_16BE
        } else {
            match declared_encoding(&self.raw) {
                None => UTF_8,
                Some(label) => match Encoding::for_label(label) {
                    // The bytes so far are ASCII, so a UTF-16 declaration is
                    // wrong and is ignored.
                    Some(encoding) if encoding == UTF_16LE || encoding == UTF_16BE => UTF_8,
                    Some(encoding) if encoding != REPLACEMENT => encoding,
                    _ => {
                        let label = String::from_utf8_lossy(label);
                        self.stats.unsupported_encoding = Some(label.chars().take(64).collect());
                        UTF_8
                    }
                },
            }
        };
        self.stats.encoding = encoding.name();
        encoding.new_decoder_without_bom_handling()
    }
}

/// Counts the line feeds in `text`. A plain count, which the compiler turns
/// into a vectorized loop.
pub(crate) fn count_lines(text: &[u8]) -> u64 {
    text.iter().filter(|&&byte| byte == b'\n').count() as u64
}

/// True when the first two characters of `raw` look like UTF-16 without a
/// BOM: a zero byte in both, at `zero_at` (1 for little endian, 0 for big
/// endian), and a non-zero byte beside each. A UTF-8 or single-byte XML file
/// contains no zero byte, and ASCII text in UTF-16 looks like this, whatever
/// its first character (a line break before the declaration, for example).
fn looks_like_utf16(raw: &[u8], zero_at: usize) -> bool {
    let other = 1 - zero_at;
    raw.len() >= 4
        && raw[zero_at] == 0
        && raw[zero_at + 2] == 0
        && raw[other] != 0
        && raw[other + 2] != 0
}

/// Returns true while `raw` contains the start of an XML declaration but not its end,
/// within the first [`DECLARATION_MAX`] bytes.
fn is_declaration_open(raw: &[u8]) -> bool {
    let prefix = &raw[..raw.len().min(DECLARATION_MAX)];
    prefix.starts_with(b"<?xml")
        && prefix.len() < DECLARATION_MAX
        && !prefix.windows(2).any(|pair| pair == b"?>")
}

/// Returns the value of `encoding` in the XML declaration at the start of
/// `raw`, if there is one.
fn declared_encoding(raw: &[u8]) -> Option<&[u8]> {
    let rest = raw.strip_prefix(b"<?xml")?;
    let end = rest.windows(2).position(|pair| pair == b"?>")?;
    let declaration = &rest[..end];
    let at = declaration
        .windows(8)
        .position(|window| window == b"encoding")?;
    let rest = declaration[at + 8..].trim_ascii_start();
    let rest = rest.strip_prefix(b"=")?.trim_ascii_start();
    let (&quote, value) = rest.split_first()?;
    if quote != b'"' && quote != b'\'' {
        return None;
    }
    let length = value.iter().position(|&byte| byte == quote)?;
    Some(&value[..length])
}

/// Cleans `input` on a second thread while `parse` reads the cleaned bytes,
/// so decoding and cleaning overlap with parsing on a multi-core machine.
/// Returns the result of `parse` and, unless `parse` stopped before the end
/// of the input, the cleaning counts.
pub(crate) fn clean_in_background<R: Read + Send, T>(
    input: R,
    sizes: ChunkSizes,
    parse: impl FnOnce(&mut CleanedChunks) -> T,
) -> (T, Option<CleanStats>) {
    std::thread::scope(|scope| {
        let (chunk_sender, chunk_receiver) = sync_channel(CHUNKS_IN_FLIGHT);
        let (free_sender, free_receiver) = channel();
        let cleaner =
            scope.spawn(move || produce_chunks(input, sizes, &chunk_sender, &free_receiver));
        let mut chunks = CleanedChunks {
            receiver: chunk_receiver,
            free: free_sender,
            stats: None,
        };
        let result = parse(&mut chunks);
        let stats = chunks.stats.take();
        // Dropping the receiver makes a blocked cleaning thread stop.
        drop(chunks);
        if let Err(panic) = cleaner.join() {
            std::panic::resume_unwind(panic);
        }
        (result, stats)
    })
}

/// One message from the cleaning thread.
enum Chunk {
    /// Cleaned bytes and the number of line feeds in them.
    Bytes(Vec<u8>, u64),
    /// The input ended; no more chunks follow.
    End(CleanStats),
    Failed(io::Error),
}

/// Sends the cleaned input in chunks of at least `sizes.least` bytes that
/// end just after a markup (see [`Lexer::take_boundary`]). Each chunk can
/// thus be parsed on its own. Only the last chunk may end elsewhere. A chunk
/// grows beyond the minimum size until such a point comes, by at most one
/// text run and one tag, whose lengths the lexer caps.
fn produce_chunks<R: Read>(
    input: R,
    sizes: ChunkSizes,
    chunks: &SyncSender<Chunk>,
    free: &Receiver<Vec<u8>>,
) {
    let mut cleaner = CleanReader::with_read_size(input, sizes.read);
    let mut chunk = Vec::with_capacity(sizes.least * 2);
    let mut boundary = None;
    while !cleaner.done {
        if let Err(error) = cleaner.fill_into(&mut chunk) {
            let _ = chunks.send(Chunk::Failed(error));
            return;
        }
        boundary = cleaner.lexer.take_boundary().or(boundary);
        let cut = match boundary {
            Some(cut) if chunk.len() >= sizes.least && !cleaner.done => cut,
            _ => continue,
        };
        let mut next = free.try_recv().unwrap_or_default();
        next.clear();
        next.extend_from_slice(&chunk[cut..]);
        chunk.truncate(cut);
        boundary = None;
        let full = std::mem::replace(&mut chunk, next);
        let lines = count_lines(&full);
        if chunks.send(Chunk::Bytes(full, lines)).is_err() {
            return;
        }
    }
    let lines = count_lines(&chunk);
    if !chunk.is_empty() && chunks.send(Chunk::Bytes(chunk, lines)).is_err() {
        return;
    }
    let _ = chunks.send(Chunk::End(cleaner.stats));
}

/// Cleaned chunks received from the cleaning thread.
pub(crate) struct CleanedChunks {
    receiver: Receiver<Chunk>,
    free: Sender<Vec<u8>>,
    stats: Option<CleanStats>,
}

impl CleanedChunks {
    /// Returns the next chunk and the number of line feeds in it, or `None`
    /// once the input ended.
    pub(crate) fn next_chunk(&mut self) -> io::Result<Option<(Vec<u8>, u64)>> {
        if self.stats.is_some() {
            return Ok(None);
        }
        match self.receiver.recv() {
            Ok(Chunk::Bytes(bytes, lines)) => Ok(Some((bytes, lines))),
            Ok(Chunk::End(stats)) => {
                self.stats = Some(stats);
                Ok(None)
            }
            Ok(Chunk::Failed(error)) => Err(error),
            Err(_) => Err(io::Error::other("the cleaning thread stopped early")),
        }
    }

    /// Hands a parsed chunk back to the cleaning thread for reuse.
    pub(crate) fn recycle(&mut self, chunk: Vec<u8>) {
        // The cleaning thread may have stopped already.
        let _ = self.free.send(chunk);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clean(input: &[u8]) -> (String, CleanStats) {
        let mut reader = CleanReader::new(input);
        let mut output = Vec::new();
        reader
            .read_all(&mut output)
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
    fn utf16_without_bom_starting_with_whitespace() {
        let text = "\r\n<a>été</a>";
        let little: Vec<u8> = text.encode_utf16().flat_map(u16::to_le_bytes).collect();
        let big: Vec<u8> = text.encode_utf16().flat_map(u16::to_be_bytes).collect();
        assert_eq!(clean(&little).0, text);
        assert_eq!(clean(&big).0, text);
        let (output, stats) = clean(b"\r\n<a/>");
        assert_eq!(output, "\r\n<a/>");
        assert_eq!(stats.encoding, "UTF-8");
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
    fn ampersands_do_not_hold_off_the_cut() {
        let body = "x=1&y=2&z ".repeat((3 * RUN_CAP) / 10);
        for (open, close) in [("<![CDATA[", "]]>"), ("<!--", "-->"), ("<?run ", "?>")] {
            let input = format!("<a>{open}{body}{close}</a>");
            let (output, stats) = clean(input.as_bytes());
            assert!(
                output.len() < RUN_CAP + 64,
                "{open}: {} bytes",
                output.len()
            );
            assert!(output.ends_with(&format!("{close}</a>")), "{open}");
            assert_eq!(stats.runs_cut, 1, "{open}");
        }
        // Not XML, and rejected later, but it must stay bounded too.
        let input = format!("<a>{}</a>", "&x&y".repeat(RUN_CAP));
        let (output, _) = clean(input.as_bytes());
        assert!(output.len() < RUN_CAP + 64, "text: {} bytes", output.len());
    }

    #[test]
    fn doctype_comments_and_instructions_skipped() {
        let document = "<r><a/></r><!-- don't ]><fake/> -->";
        for subset in [
            "<!-- it's a comment -->",
            "<!-- ] -->",
            "<?pi it's ?>",
            "<!ENTITY e 'x\"]>'><!-- -- --><?a?>",
        ] {
            let input = format!("<?xml version=\"1.0\"?><!DOCTYPE r [{subset}]>{document}");
            let (output, stats) = clean(input.as_bytes());
            assert_eq!(
                output,
                format!("<?xml version=\"1.0\"?>{document}"),
                "{subset}"
            );
            assert_eq!(stats.doctypes, 1);
        }
    }

    #[test]
    fn tag_cap_counts_every_byte() {
        let tag = |length: usize| {
            let attributes = (length - 3) / 5;
            let padding = length - 3 - attributes * 5;
            format!("<a{}{}>", " x=\"\"".repeat(attributes), " ".repeat(padding))
        };
        let at_cap = tag(TAG_CAP);
        assert_eq!(at_cap.len(), TAG_CAP);
        assert_eq!(clean(at_cap.as_bytes()).0, at_cap);
        let over_cap = tag(TAG_CAP + 1);
        let mut reader = CleanReader::new(over_cap.as_bytes());
        let error = reader
            .read_all(&mut Vec::new())
            .expect_err("one byte over the cap");
        assert!(error.to_string().contains("element tag longer"), "{error}");
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
    fn background_cleaning_matches_inline() {
        let mut input = b"\xEF\xBB\xBF<!DOCTYPE x><a>".to_vec();
        for index in 0..200_000 {
            input.extend_from_slice(format!("<b n=\"{index}\">x\x01y</b>").as_bytes());
        }
        input.extend_from_slice(b"</a>");
        let (expected, inline_stats) = clean(&input);

        let (received, stats) = clean_in_background(input.as_slice(), CHUNK_SIZES, |chunks| {
            let mut received = Vec::new();
            while let Some((chunk, lines)) = chunks
                .next_chunk()
                .expect("cleaning in memory should succeed")
            {
                assert_eq!(lines, count_lines(&chunk));
                received.push(chunk);
            }
            received
        });

        assert!(received.len() > 1, "{} chunks", received.len());
        for chunk in &received[..received.len() - 1] {
            assert!(chunk.len() >= CHUNK, "chunk of {} bytes", chunk.len());
            assert!(chunk.ends_with(b">"), "a chunk ends after markup");
        }
        let output = String::from_utf8(received.concat()).expect("cleaned output is UTF-8");
        assert!(output == expected, "background output differs");
        let stats = stats.expect("input read to the end");
        assert_eq!(stats.control_chars, inline_stats.control_chars);
        assert_eq!(stats.doctypes, 1);
        assert_eq!(stats.input_bytes, inline_stats.input_bytes);
    }

    #[test]
    fn background_cleaning_reports_errors() {
        let input = format!("<a b=\"{}", "x".repeat(TAG_CAP / 4));
        let input = input.replace('x', "\" x=\"");
        let (result, stats) = clean_in_background(input.as_bytes(), CHUNK_SIZES, |chunks| {
            while chunks.next_chunk()?.is_some() {}
            Ok::<(), io::Error>(())
        });
        let error = result.expect_err("tag over the cap");
        assert!(error.to_string().contains("element tag longer"), "{error}");
        assert!(stats.is_none());
    }

    #[test]
    fn declared_single_byte_encoding_decoded() {
        let latin1 =
            b"<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><a n=\"caf\xE9\">\xC0 \x80</a>";
        let (output, stats) = clean(latin1);
        assert!(
            output.ends_with("<a n=\"caf\u{E9}\">\u{C0} \u{20AC}</a>"),
            "{output}"
        );
        // encoding_rs reads ISO-8859-1 as its superset windows-1252.
        assert_eq!(stats.encoding, "windows-1252");
        assert!(!stats.malformed_encoding);
        assert_eq!(stats.unsupported_encoding, None);

        let cyrillic = b"<?xml version='1.0' encoding = 'windows-1251' ?><a>\xEF\xF0</a>";
        let (output, stats) = clean(cyrillic);
        assert!(output.ends_with("<a>\u{43F}\u{440}</a>"), "{output}");
        assert_eq!(stats.encoding, "windows-1251");
    }

    #[test]
    fn unknown_declared_encoding_read_as_utf8() {
        let input = "<?xml version=\"1.0\" encoding=\"EBCDIC-XX\"?><a>\u{E9}</a>";
        let (output, stats) = clean(input.as_bytes());
        assert_eq!(output, input);
        assert_eq!(stats.encoding, "UTF-8");
        assert_eq!(stats.unsupported_encoding.as_deref(), Some("EBCDIC-XX"));
    }

    #[test]
    fn utf16_declaration_in_ascii_file_ignored() {
        let input = "<?xml version=\"1.0\" encoding=\"UTF-16\"?><a>\u{E9}</a>";
        let (output, stats) = clean(input.as_bytes());
        assert_eq!(output, input);
        assert_eq!(stats.encoding, "UTF-8");
        assert_eq!(stats.unsupported_encoding, None);
    }

    #[test]
    fn declaration_split_across_reads() {
        let input = b"<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><a>\xE9</a>";
        let reader = input[..10].chain(&input[10..]);
        let mut cleaner = CleanReader::new(reader);
        let mut output = Vec::new();
        cleaner.read_all(&mut output).expect("cleaning in memory");
        let output = String::from_utf8(output).expect("cleaned output is UTF-8");
        assert!(output.ends_with("<a>\u{E9}</a>"), "{output}");
    }

    #[test]
    fn markup_split_across_inputs() {
        let text = b"<a x=\"1\"><!-- c --><b y='2'>t</b></a>";
        for split in 1..text.len() {
            let mut lexer = Lexer::default();
            let mut stats = CleanStats::default();
            let mut output = Vec::new();
            for part in [&text[..split], &text[split..]] {
                lexer
                    .process(part, &mut output, &mut stats)
                    .expect("valid markup");
            }
            lexer.finish(&mut output);
            assert_eq!(output, text, "split at {split}");
        }
    }

    #[test]
    fn control_character_after_less_than_dropped() {
        let (output, stats) = clean(b"<a><\x01!-- c --><\x02b/></a>");
        assert_eq!(output, "<a><!-- c --><b/></a>");
        assert_eq!(stats.control_chars, 2);
    }

    #[test]
    fn truncated_markup_kept_for_parser() {
        assert_eq!(clean(b"<a><!").0, "<a><!");
    }
}
