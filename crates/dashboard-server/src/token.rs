//! The bearer token that guards the control API: random at start unless the user gives one.

/// 32 hex digits (128 bits) from the operating system's seeded thread generator.
pub fn generate() -> String {
    let bytes: [u8; 16] = rand::random();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Whether an `Authorization` header value carries `expected` as a bearer token. The comparison
/// takes the same time wherever the first difference is.
pub fn authorizes(header: Option<&str>, expected: &str) -> bool {
    let Some(given) = header.and_then(|h| {
        h.strip_prefix("Bearer ")
            .or_else(|| h.strip_prefix("bearer "))
    }) else {
        return false;
    };
    let (a, b) = (given.trim().as_bytes(), expected.as_bytes());
    if a.len() != b.len() || b.is_empty() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_hex() {
        let (a, b) = (generate(), generate());
        assert_eq!(a.len(), 32);
        assert!(a.chars().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a, b);
    }

    #[test]
    fn only_the_exact_bearer_token_authorizes() {
        assert!(authorizes(Some("Bearer abc123"), "abc123"));
        assert!(!authorizes(Some("Bearer abc124"), "abc123"));
        assert!(!authorizes(Some("Bearer abc"), "abc123"));
        assert!(!authorizes(Some("abc123"), "abc123"));
        assert!(!authorizes(None, "abc123"));
        assert!(!authorizes(Some("Bearer "), ""));
    }
}
