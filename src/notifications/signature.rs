//! Signatures on generic webhooks, as Standard Webhooks (the scheme svix uses) defines them:
//! `webhook-id`, `webhook-timestamp` and `webhook-signature: v1,<base64 HMAC-SHA256 of
//! "{id}.{timestamp}.{body}">`, so receivers can verify with an existing library.
//!
//! HMAC-SHA256 comes from `jsonwebtoken` (already a dependency for HS256 JWTs, backed by
//! ring); no extra crate.

use jsonwebtoken::{Algorithm, EncodingKey};

pub const ID_HEADER: &str = "webhook-id";
pub const TIMESTAMP_HEADER: &str = "webhook-timestamp";
pub const SIGNATURE_HEADER: &str = "webhook-signature";

/// Prefix of Standard Webhooks secrets: the rest is the key, base64-encoded.
const SECRET_PREFIX: &str = "whsec_";
pub const MIN_KEY_BYTES: usize = 16;

/// The HMAC key of a channel secret: a `whsec_…` secret is base64; any other is its bytes.
pub fn key_bytes(secret: &str) -> Result<Vec<u8>, String> {
    let key = match secret.strip_prefix(SECRET_PREFIX) {
        Some(b64) => base64_decode(b64)
            .ok_or_else(|| "a secret starting with whsec_ must continue in base64".to_owned())?,
        None => secret.as_bytes().to_vec(),
    };
    if key.len() < MIN_KEY_BYTES {
        return Err(format!("the key must be at least {MIN_KEY_BYTES} bytes"));
    }
    Ok(key)
}

/// `v1,<base64>` for one message.
pub fn sign(secret: &str, msg_id: &str, timestamp: i64, body: &[u8]) -> anyhow::Result<String> {
    let key = key_bytes(secret).map_err(anyhow::Error::msg)?;
    let mut content = Vec::with_capacity(msg_id.len() + body.len() + 24);
    content.extend_from_slice(msg_id.as_bytes());
    content.push(b'.');
    content.extend_from_slice(timestamp.to_string().as_bytes());
    content.push(b'.');
    content.extend_from_slice(body);
    Ok(format!("v1,{}", hmac_sha256_base64(&key, &content)?))
}

/// Standard base64 (with padding) of HMAC-SHA256(key, message).
pub fn hmac_sha256_base64(key: &[u8], message: &[u8]) -> anyhow::Result<String> {
    // jsonwebtoken answers base64url without padding; Standard Webhooks wants standard base64.
    let url_safe =
        jsonwebtoken::crypto::sign(message, &EncodingKey::from_secret(key), Algorithm::HS256)?;
    let mut out: String = url_safe
        .chars()
        .map(|c| match c {
            '-' => '+',
            '_' => '/',
            c => c,
        })
        .collect();
    while out.len() % 4 != 0 {
        out.push('=');
    }
    Ok(out)
}

fn base64_decode(s: &str) -> Option<Vec<u8>> {
    fn value(c: u8) -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            _ => return None,
        } as u32)
    }
    let s = s.trim_end_matches('=');
    if s.len() % 4 == 1 {
        return None;
    }
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in s.bytes() {
        acc = (acc << 6) | value(c)?;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_matches_rfc_4231_test_case_2() {
        // Key "Jefe" is shorter than a channel key may be, so call the primitive directly.
        let sig = hmac_sha256_base64(b"Jefe", b"what do ya want for nothing?").expect("sign");
        assert_eq!(sig, "W9zBRr9gdU5qBCQmCJV1x1oAPwidJzmDnexYuWTsOEM=");
    }

    #[test]
    fn signature_matches_the_standard_webhooks_example() {
        let sig = sign(
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1_614_265_330,
            br#"{"test": 2432232314}"#,
        )
        .expect("sign");
        assert_eq!(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }

    #[test]
    fn secrets_are_checked() {
        assert_eq!(
            key_bytes("a-plain-shared-secret").expect("plain"),
            b"a-plain-shared-secret"
        );
        assert!(key_bytes("short").is_err());
        assert!(key_bytes("whsec_!!!!").is_err());
        assert!(key_bytes("whsec_AAAA").is_err(), "3 bytes is too short");
        assert_eq!(base64_decode("aGVsbG8=").expect("b64"), b"hello");
    }
}
