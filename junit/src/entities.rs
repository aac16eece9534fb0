//! Entity and character references: only the five predefined entities and
//! numeric character references are resolved. Any other reference is kept
//! as written, because no DTD is ever read that could declare it.

use super::rules;

/// Counts of references that were not expanded.
#[derive(Debug, Default)]
pub(crate) struct EntityNotes {
    pub(crate) unknown: u64,
    pub(crate) first_unknown: Option<String>,
    pub(crate) illegal_characters: u64,
}

pub(crate) fn resolve_reference(
    reference: &quick_xml::events::BytesRef<'_>,
    notes: &mut EntityNotes,
) -> String {
    let name: &str = reference;
    resolve_entity(name, notes)
}

/// Resolves the reference `&name;`: predefined entities and character
/// references only. Unknown entities are kept literally and counted.
pub(crate) fn resolve_entity(name: &str, notes: &mut EntityNotes) -> String {
    let resolved = match name {
        "lt" => Some('<'),
        "gt" => Some('>'),
        "amp" => Some('&'),
        "quot" => Some('"'),
        "apos" => Some('\''),
        _ => parse_char_reference(name),
    };
    match resolved {
        Some(ch) if rules::is_xml_char(ch) => ch.to_string(),
        Some(_) => {
            notes.illegal_characters += 1;
            String::new()
        }
        None => {
            notes.unknown += 1;
            notes
                .first_unknown
                .get_or_insert_with(|| rules::cut_bytes(name, 64).to_string());
            format!("&{name};")
        }
    }
}

fn parse_char_reference(name: &str) -> Option<char> {
    let number = name.strip_prefix('#')?;
    let code = match number.strip_prefix('x') {
        Some(hex) => u32::from_str_radix(hex, 16).ok()?,
        None => number.parse().ok()?,
    };
    char::from_u32(code)
}

/// Replaces entity and character references in an attribute value.
pub(crate) fn unescape_attribute(raw: &str, notes: &mut EntityNotes) -> String {
    let mut output = String::with_capacity(raw.len());
    let mut rest = raw;
    while let Some(start) = rest.find('&') {
        output.push_str(&rest[..start]);
        let after = &rest[start + 1..];
        match after
            .find(';')
            .filter(|&end| is_reference_name(&after[..end]))
        {
            Some(end) => {
                output.push_str(&resolve_entity(&after[..end], notes));
                rest = &after[end + 1..];
            }
            None => {
                output.push('&');
                rest = after;
            }
        }
    }
    output.push_str(rest);
    output
}

/// True for the text between `&` and `;` of a plausible reference, so a bare
/// `&` does not swallow the reference that follows it.
fn is_reference_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name.bytes().all(|byte| {
            byte.is_ascii_alphanumeric() || matches!(byte, b'#' | b'_' | b':' | b'.' | b'-')
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attribute_references_resolved() {
        let mut notes = EntityNotes::default();
        let value = unescape_attribute("a &lt;b&gt; &#233;&#x1F600; &xxe; & &#1;", &mut notes);
        assert_eq!(value, "a <b> \u{e9}\u{1F600} &xxe; & ");
        assert_eq!(notes.unknown, 1);
        assert_eq!(notes.first_unknown.as_deref(), Some("xxe"));
        assert_eq!(notes.illegal_characters, 1);
    }
}
