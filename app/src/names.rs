//! Backstage's name and tag rules, in one place: the catalog's validation (server) and the
//! template forms' field checks (browser and server) both ask these.

/// Backstage's entity name rule: 1 to 63 characters, letters and digits, with `-`, `_` or `.`
/// inside.
pub fn is_valid_entity_name(name: &str) -> bool {
    let bytes = name.as_bytes();
    match (bytes.first(), bytes.last()) {
        (Some(first), Some(last)) => {
            bytes.len() <= 63
                && first.is_ascii_alphanumeric()
                && last.is_ascii_alphanumeric()
                && bytes
                    .iter()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        }
        _ => false,
    }
}

/// Backstage's tag rule: words of `a-z`, `0-9`, `+`, `#` joined by single `-`, at most 63.
pub fn is_valid_tag(tag: &str) -> bool {
    !tag.is_empty()
        && tag.len() <= 63
        && tag.split('-').all(|word| {
            !word.is_empty()
                && word
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'+' || b == b'#')
        })
}
