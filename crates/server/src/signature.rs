//! `X-Twilio-Signature` (reference 20): how Twilio signs the requests it
//! makes, so handlers using Twilio's `RequestValidator` accept otto's.
//!
//! The signed text is the full URL (query string included) followed, for a
//! form POST, by every body parameter's name and value with no separator,
//! sorted by name (byte-wise; a repeated name contributes each of its values
//! in sorted order). The signature is the base64 HMAC-SHA1 of that text keyed
//! with the account's auth token.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, KeyInit, Mac};
use sha1::Sha1;

/// The header Twilio puts the signature in.
pub const HEADER: &str = "X-Twilio-Signature";

/// The text Twilio signs: the URL, then the sorted parameters.
pub fn signed_text(url: &str, params: &[(String, String)]) -> String {
    let mut sorted: Vec<(&str, &str)> = params
        .iter()
        .map(|(name, value)| (name.as_str(), value.as_str()))
        .collect();
    sorted.sort_unstable();
    let mut text = String::with_capacity(
        url.len() + sorted.iter().map(|(n, v)| n.len() + v.len()).sum::<usize>(),
    );
    text.push_str(url);
    for (name, value) in sorted {
        text.push_str(name);
        text.push_str(value);
    }
    text
}

fn mac(auth_token: &str, text: &str) -> Hmac<Sha1> {
    // HMAC takes keys of any length.
    let mut mac = <Hmac<Sha1> as KeyInit>::new_from_slice(auth_token.as_bytes())
        .expect("HMAC accepts any key length");
    mac.update(text.as_bytes());
    mac
}

/// The signature of a request to `url` with these form parameters (pass no
/// parameters for a GET: its query string is part of `url`).
pub fn sign(auth_token: &str, url: &str, params: &[(String, String)]) -> String {
    STANDARD.encode(
        mac(auth_token, &signed_text(url, params))
            .finalize()
            .into_bytes(),
    )
}

/// Whether `signature` is the signature of that request, compared in
/// constant time.
pub fn verify(auth_token: &str, url: &str, params: &[(String, String)], signature: &str) -> bool {
    let Ok(expected) = STANDARD.decode(signature.trim()) else {
        return false;
    };
    mac(auth_token, &signed_text(url, params))
        .verify_slice(&expected)
        .is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect()
    }

    /// The worked example of Twilio's "Webhooks security" page.
    const URL: &str = "https://mycompany.com/myapp.php?foo=1&bar=2";
    const PUBLISHED: &str = "0/KCTR6DLpKmkAf8muzZqo1nDgQ=";

    fn published_params() -> Vec<(String, String)> {
        // Deliberately out of order: signing sorts them.
        pairs(&[
            ("To", "+18005551212"),
            ("CallSid", "CA1234567890ABCDE"),
            ("Digits", "1234"),
            ("From", "+12349013030"),
            ("Caller", "+12349013030"),
        ])
    }

    #[test]
    fn twilios_published_example() {
        assert_eq!(sign("12345", URL, &published_params()), PUBLISHED);
        assert!(verify("12345", URL, &published_params(), PUBLISHED));
    }

    #[test]
    fn the_signed_text_is_url_then_sorted_names_and_values() {
        assert_eq!(
            signed_text(URL, &published_params()),
            "https://mycompany.com/myapp.php?foo=1&bar=2CallSidCA1234567890ABCDECaller+12349013030Digits1234From+12349013030To+18005551212"
        );
    }

    #[test]
    fn any_change_breaks_the_signature() {
        let mut tampered = published_params();
        tampered[2].1 = "9999".into();
        assert!(!verify("12345", URL, &tampered, PUBLISHED));
        assert!(!verify(
            "12345",
            "https://mycompany.com/myapp.php?foo=1&bar=3",
            &published_params(),
            PUBLISHED
        ));
        assert!(!verify("54321", URL, &published_params(), PUBLISHED));
        assert!(!verify("12345", URL, &published_params(), "not base64!"));
        assert!(!verify("12345", URL, &published_params(), ""));
    }

    #[test]
    fn repeated_names_contribute_each_value_in_order() {
        let params = pairs(&[("B", "2"), ("A", "z"), ("A", "y")]);
        assert_eq!(signed_text("u", &params), "uAyAzB2");
    }
}
