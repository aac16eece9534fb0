//! Octane query strings: `fields=...&query="..."` with `^literal^` values.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

/// Characters left as they are in a query parameter value; everything else is percent-encoded,
/// so a space becomes `%20`, never `+`.
const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// Quotes a string as an Octane query literal: `^value^`, with `\`, `^`, `(`, `)` and `"`
/// escaped by a backslash.
// NOTE: Octane documents the escaping of `\`, `(` and `)` only. Escaping `^` and `"` the same
// way (the query is wrapped in double quotes) is an assumption no real server has confirmed yet.
pub(crate) fn literal(value: &str) -> String {
    let mut quoted = String::with_capacity(value.len() + 2);
    quoted.push('^');
    for c in value.chars() {
        if matches!(c, '\\' | '^' | '(' | ')' | '"') {
            quoted.push('\\');
        }
        quoted.push(c);
    }
    quoted.push('^');
    quoted
}

/// `{api}/{collection}?fields=...&query="..."`, percent-encoded.
pub(crate) fn collection_url(api: &str, collection: &str, fields: &str, query: &str) -> String {
    format!(
        "{api}/{collection}?fields={}&query={}",
        utf8_percent_encode(fields, QUERY_VALUE),
        utf8_percent_encode(&format!("\"{query}\""), QUERY_VALUE)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literal_escapes_special_characters() {
        assert_eq!(literal("plain"), "^plain^");
        assert_eq!(literal(r"a\b(c)^d"), r"^a\\b\(c\)\^d^");
        assert_eq!(literal("ünï"), "^ünï^");
    }

    #[test]
    fn url_encodes_quotes_and_spaces() {
        let url = collection_url(
            "https://h/api",
            "ci_servers",
            "id,name",
            "instance_id EQ ^a b^",
        );

        assert_eq!(
            url,
            "https://h/api/ci_servers?fields=id%2Cname&query=%22instance_id%20EQ%20%5Ea%20b%5E%22"
        );
    }
}
