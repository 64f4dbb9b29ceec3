//! Twilio SIDs: a two-letter prefix naming the resource kind followed by 32 hex digits.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Number of hex digits after the prefix.
const HEX_DIGITS: usize = 32;
/// Prefix length plus hex digits.
const SID_LENGTH: usize = 2 + HEX_DIGITS;

/// The resource kinds of reference 1.2 and their two-letter prefixes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SidPrefix {
    Account,
    Assistant,
    Task,
    Field,
    FieldType,
    FieldValue,
    Sample,
    ModelBuild,
    Query,
    Dialogue,
    Webhook,
    /// An API key (`SK…`), a second credential of the account.
    ApiKey,
}

impl SidPrefix {
    /// Every prefix otto issues or accepts as its own.
    pub const ALL: [SidPrefix; 12] = [
        SidPrefix::Account,
        SidPrefix::Assistant,
        SidPrefix::Task,
        SidPrefix::Field,
        SidPrefix::FieldType,
        SidPrefix::FieldValue,
        SidPrefix::Sample,
        SidPrefix::ModelBuild,
        SidPrefix::Query,
        SidPrefix::Dialogue,
        SidPrefix::Webhook,
        SidPrefix::ApiKey,
    ];

    /// The two letters, e.g. `UA` for an assistant.
    pub const fn as_str(self) -> &'static str {
        match self {
            SidPrefix::Account => "AC",
            SidPrefix::Assistant => "UA",
            SidPrefix::Task => "UD",
            SidPrefix::Field => "UE",
            SidPrefix::FieldType => "UB",
            SidPrefix::FieldValue => "UC",
            SidPrefix::Sample => "UF",
            SidPrefix::ModelBuild => "UG",
            SidPrefix::Query => "UH",
            SidPrefix::Dialogue => "UK",
            SidPrefix::Webhook => "UM",
            SidPrefix::ApiKey => "SK",
        }
    }

    /// The prefix for two letters, if it is one of ours.
    pub fn from_letters(letters: &str) -> Option<SidPrefix> {
        SidPrefix::ALL
            .into_iter()
            .find(|prefix| prefix.as_str() == letters)
    }
}

impl fmt::Display for SidPrefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a string is not a SID.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SidError {
    #[error(
        "{text:?} is not a SID: a SID is 34 characters (2 letters and 32 hex digits), this is {length}"
    )]
    WrongLength { text: String, length: usize },
    #[error("{text:?} is not a SID: it must start with two upper-case letters")]
    BadPrefix { text: String },
    #[error("{text:?} is not a SID: after the prefix only hex digits 0-9 and a-f may follow")]
    NotHex { text: String },
    #[error("{text:?} is a {found} SID, expected a {expected} SID")]
    WrongKind {
        text: String,
        expected: SidPrefix,
        found: String,
    },
}

/// A validated SID (`^[A-Z]{2}[0-9a-fA-F]{32}$`).
///
/// Foreign prefixes (`CA`, `WW`, `IS`, …) are accepted by [`Sid::parse`] because
/// Autopilot payloads carry them; [`Sid::parse_kind`] insists on one of ours.
/// The text is kept as given: Autopilot compared SIDs as strings, and folding case
/// would make two spellings of one SID look like two resources or vice versa.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Sid(String);

impl Sid {
    /// A new random SID of the given kind, lower-case hex as Twilio issued them.
    ///
    /// Panics only if the operating system has no random source at all, which
    /// otto cannot run without.
    pub fn generate(prefix: SidPrefix) -> Sid {
        Sid::from_number(prefix, u128::from_be_bytes(Sid::random_bytes()))
    }

    /// A new SID of the given kind whose first 12 hex digits are the
    /// milliseconds since 1970 and the other 20 random (80 bits): SIDs made
    /// later sort later. Index entries keyed by such SIDs (a dialogue's
    /// turns) are written next to those of other recent ones, near the end
    /// of their index, instead of each on a random page of it: fewer pages
    /// to write a turn, and the ones written are the ones already cached.
    pub fn generate_time_ordered(prefix: SidPrefix) -> Sid {
        let millis = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |elapsed| elapsed.as_millis());
        let random = u128::from_be_bytes(Sid::random_bytes()) >> 48;
        Sid::from_number(prefix, ((millis & 0xffff_ffff_ffff) << 80) | random)
    }

    fn random_bytes() -> [u8; 16] {
        let mut bytes = [0u8; 16];
        getrandom::fill(&mut bytes).expect("the operating system provides random bytes");
        bytes
    }

    /// A deterministic SID for tests and fixtures: the number written as 32 hex digits.
    ///
    /// `Sid::from_number(SidPrefix::Task, 1)` is `UD00000000000000000000000000000001`.
    pub fn from_number(prefix: SidPrefix, number: u128) -> Sid {
        Sid(format!("{prefix}{number:032x}"))
    }

    /// Checks the shape of any SID, ours or foreign.
    pub fn parse(text: &str) -> Result<Sid, SidError> {
        if text.len() != SID_LENGTH {
            return Err(SidError::WrongLength {
                text: text.to_owned(),
                length: text.chars().count(),
            });
        }
        let (letters, digits) = text.split_at(2);
        if !letters.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(SidError::BadPrefix {
                text: text.to_owned(),
            });
        }
        if !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(SidError::NotHex {
                text: text.to_owned(),
            });
        }
        Ok(Sid(text.to_owned()))
    }

    /// Checks the shape and that the prefix is `expected`.
    pub fn parse_kind(text: &str, expected: SidPrefix) -> Result<Sid, SidError> {
        let sid = Sid::parse(text)?;
        if sid.prefix_letters() != expected.as_str() {
            return Err(SidError::WrongKind {
                text: text.to_owned(),
                expected,
                found: sid.prefix_letters().to_owned(),
            });
        }
        Ok(sid)
    }

    /// The two prefix letters as written.
    pub fn prefix_letters(&self) -> &str {
        &self.0[..2]
    }

    /// The resource kind, if the prefix is one of ours.
    pub fn kind(&self) -> Option<SidPrefix> {
        SidPrefix::from_letters(self.prefix_letters())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Sid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for Sid {
    type Err = SidError;

    fn from_str(text: &str) -> Result<Sid, SidError> {
        Sid::parse(text)
    }
}

impl AsRef<str> for Sid {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl Serialize for Sid {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Sid {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Sid, D::Error> {
        let text = String::deserialize(deserializer)?;
        Sid::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_sids_have_the_prefix_and_32_lowercase_hex_digits() {
        let sid = Sid::generate(SidPrefix::Assistant);
        assert_eq!(sid.prefix_letters(), "UA");
        assert_eq!(sid.as_str().len(), 34);
        assert!(
            sid.as_str()[2..]
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        );
        assert_eq!(sid.kind(), Some(SidPrefix::Assistant));
    }

    #[test]
    fn two_generated_sids_differ() {
        assert_ne!(
            Sid::generate(SidPrefix::Dialogue),
            Sid::generate(SidPrefix::Dialogue)
        );
    }

    #[test]
    fn time_ordered_sids_sort_by_creation_and_stay_unique() {
        let first = Sid::generate_time_ordered(SidPrefix::Dialogue);
        std::thread::sleep(std::time::Duration::from_millis(2));
        let later: Vec<Sid> = (0..1000)
            .map(|_| Sid::generate_time_ordered(SidPrefix::Dialogue))
            .collect();
        assert!(later.iter().all(|sid| *sid > first));
        let unique: std::collections::HashSet<&Sid> = later.iter().collect();
        assert_eq!(unique.len(), later.len());
        assert_eq!(Sid::parse(first.as_str()), Ok(first.clone()));
        assert_eq!(first.kind(), Some(SidPrefix::Dialogue));
        // The time is the first 12 hex digits: now, give or take a minute.
        let millis = u64::from_str_radix(&first.as_str()[2..14], 16).unwrap();
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis() as u64;
        assert!(now.abs_diff(millis) < 60_000);
    }

    #[test]
    fn from_number_is_deterministic() {
        assert_eq!(
            Sid::from_number(SidPrefix::Task, 1).as_str(),
            "UD00000000000000000000000000000001"
        );
        assert_eq!(
            Sid::from_number(SidPrefix::Webhook, u128::MAX).as_str(),
            "UMffffffffffffffffffffffffffffffff"
        );
    }

    #[test]
    fn every_prefix_round_trips_through_its_letters() {
        let letters: Vec<&str> = SidPrefix::ALL.iter().map(|p| p.as_str()).collect();
        assert_eq!(
            letters,
            [
                "AC", "UA", "UD", "UE", "UB", "UC", "UF", "UG", "UH", "UK", "UM", "SK"
            ]
        );
        for prefix in SidPrefix::ALL {
            assert_eq!(SidPrefix::from_letters(prefix.as_str()), Some(prefix));
        }
        assert_eq!(SidPrefix::from_letters("CA"), None);
    }

    #[test]
    fn parse_accepts_upper_and_lower_hex_and_foreign_prefixes() {
        let sid = Sid::parse("UB2d5c8ef1654c60cbf8a178c206314612").unwrap();
        assert_eq!(sid.kind(), Some(SidPrefix::FieldType));
        let upper = Sid::parse("CAABCDEF0123456789ABCDEF0123456789").unwrap();
        assert_eq!(upper.prefix_letters(), "CA");
        assert_eq!(upper.kind(), None);
    }

    #[test]
    fn parse_rejects_wrong_length() {
        assert_eq!(
            Sid::parse("UA123").unwrap_err().to_string(),
            "\"UA123\" is not a SID: a SID is 34 characters (2 letters and 32 hex digits), this is 5"
        );
    }

    #[test]
    fn parse_rejects_lowercase_prefix() {
        assert_eq!(
            Sid::parse("ua00000000000000000000000000000001").unwrap_err(),
            SidError::BadPrefix {
                text: "ua00000000000000000000000000000001".into()
            }
        );
    }

    #[test]
    fn parse_rejects_non_hex_digits() {
        assert_eq!(
            Sid::parse("UA0000000000000000000000000000000g")
                .unwrap_err()
                .to_string(),
            "\"UA0000000000000000000000000000000g\" is not a SID: after the prefix only hex digits 0-9 and a-f may follow"
        );
    }

    #[test]
    fn parse_counts_characters_not_bytes_in_the_length_message() {
        let err = Sid::parse("UAé").unwrap_err();
        assert_eq!(
            err,
            SidError::WrongLength {
                text: "UAé".into(),
                length: 3
            }
        );
    }

    #[test]
    fn parse_kind_rejects_another_kind() {
        assert_eq!(
            Sid::parse_kind("UD00000000000000000000000000000001", SidPrefix::Assistant)
                .unwrap_err()
                .to_string(),
            "\"UD00000000000000000000000000000001\" is a UD SID, expected a UA SID"
        );
    }

    #[test]
    fn serde_round_trips_and_validates() {
        let sid = Sid::from_number(SidPrefix::Query, 255);
        let json = serde_json::to_string(&sid).unwrap();
        assert_eq!(json, "\"UH000000000000000000000000000000ff\"");
        assert_eq!(serde_json::from_str::<Sid>(&json).unwrap(), sid);
        assert!(serde_json::from_str::<Sid>("\"nope\"").is_err());
    }
}
