//! The built-in `Twilio.*` field types (reference 9.5).

/// The 19 built-in field types confirmed by Twilio's CLI core.
pub const BUILTIN_FIELD_TYPES: [&str; 19] = [
    "Twilio.NUMBER",
    "Twilio.NUMBER_SEQUENCE",
    "Twilio.ALPHANUMERIC",
    "Twilio.PHONE_NUMBER",
    "Twilio.YES_NO",
    "Twilio.DATE",
    "Twilio.TIME",
    "Twilio.FIRST_NAME",
    "Twilio.LAST_NAME",
    "Twilio.EMAIL",
    "Twilio.CITY",
    "Twilio.US_STATE",
    "Twilio.COUNTRY",
    "Twilio.COUNTRY_ISO_ALPHA2",
    "Twilio.COUNTRY_ISO_ALPHA3",
    "Twilio.LANGUAGE",
    "Twilio.CURRENCY",
    "Twilio.DAY_OF_WEEK",
    "Twilio.MONTH",
];

/// The canonical spelling of a built-in type, matching letter case loosely
/// (`Twilio.Email` → `Twilio.EMAIL`): real exports contain such spellings.
pub fn builtin_field_type(name: &str) -> Option<&'static str> {
    BUILTIN_FIELD_TYPES
        .into_iter()
        .find(|builtin| builtin.eq_ignore_ascii_case(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_builtins_in_any_case() {
        assert_eq!(builtin_field_type("Twilio.NUMBER"), Some("Twilio.NUMBER"));
        assert_eq!(builtin_field_type("Twilio.Email"), Some("Twilio.EMAIL"));
        assert_eq!(builtin_field_type("twilio.yes_no"), Some("Twilio.YES_NO"));
        assert_eq!(builtin_field_type("Twilio.ZIP_CODE"), None);
        assert_eq!(builtin_field_type("YES_NO"), None);
    }

    #[test]
    fn the_list_has_19_distinct_names() {
        let mut names = BUILTIN_FIELD_TYPES.to_vec();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), 19);
    }
}
