//! The bearer token that guards the control API: random at start unless the user gives one, and then
//! at least [`MIN_LEN`] characters long.

/// Fewest characters a given token may have: short tokens are guessed, even at a few tries a minute.
pub const MIN_LEN: usize = 16;

/// Why a given token cannot guard the controls.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error(
        "the control token has {len} characters; give one of at least {min} (or none, and a random one of 32 is made)"
    )]
    TooShort { len: usize, min: usize },
}

/// Checks a token the user gave.
pub fn check(token: &str) -> Result<(), TokenError> {
    let len = token.chars().count();
    if len < MIN_LEN {
        return Err(TokenError::TooShort { len, min: MIN_LEN });
    }
    Ok(())
}

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
    fn given_tokens_need_sixteen_characters() {
        assert_eq!(
            check("fifteen-chars-x"),
            Err(TokenError::TooShort { len: 15, min: 16 })
        );
        assert_eq!(check(""), Err(TokenError::TooShort { len: 0, min: 16 }));
        // Characters, not bytes: eight two-byte letters are still eight.
        assert_eq!(
            check("éééééééé"),
            Err(TokenError::TooShort { len: 8, min: 16 })
        );
        assert_eq!(check("sixteen-chars-xy"), Ok(()));
        assert_eq!(check(&generate()), Ok(()));
        let message = check("short").unwrap_err().to_string();
        assert!(message.contains("at least 16"), "{message}");
        assert!(
            !message.contains("--"),
            "names no command-line flag: {message}"
        );
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
