//! Escaping for everything that comes from data: HTML text and attributes, and JSON inside `<script>`.

/// Escapes text for HTML element content and quoted attribute values.
pub fn html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(ch),
        }
    }
    out
}

/// Serializes `value` as JSON that is safe inside a `<script>` element: `<`, `>` and `&` become `\u003c`
/// and friends, so no `</script>` or `<!--` can appear, and U+2028/U+2029 are escaped for old parsers.
/// `JSON.parse` of the element's text gives the value back unchanged.
pub fn script_json<T: serde::Serialize>(value: &T) -> String {
    // Serializing plain data (strings, numbers, maps with string keys) cannot fail.
    let json = serde_json::to_string(value).unwrap_or_else(|_| "null".to_owned());
    let mut out = String::with_capacity(json.len() + 16);
    for ch in json.chars() {
        match ch {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            _ => out.push(ch),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_escapes_markup() {
        assert_eq!(
            html(r#"<a href="x">'&'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
    }

    proptest::proptest! {
        /// Whatever a name holds, the blob has no markup characters and parses back to the same text;
        /// escaped HTML has no `<` or `>`.
        #[test]
        fn any_text_stays_data(text in "\\PC*") {
            let out = script_json(&text);
            proptest::prop_assert!(!out.contains('<') && !out.contains('>'));
            proptest::prop_assert_eq!(serde_json::from_str::<String>(&out).unwrap(), text.clone());
            let escaped = html(&text);
            proptest::prop_assert!(!escaped.contains('<') && !escaped.contains('>') && !escaped.contains('"'));
        }
    }

    #[test]
    fn script_json_cannot_close_the_script() {
        let name = "</script><script>alert(1)</script><!-- & \u{2028}";
        let out = script_json(&serde_json::json!({ "scenario": name }));
        assert!(!out.contains('<') && !out.contains('>') && !out.contains('&'));
        let back: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(back["scenario"], name);
    }
}
