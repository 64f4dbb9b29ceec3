//! The assistant's defaults document: `{"defaults": {assistant_initiation, fallback, collect}}`.

use serde_json::{Map, Value};

use crate::json::{Field, Fields, ObjectBuilder, OrderedJson, ShapeError};
use crate::target::Target;

/// Where to go when the assistant must speak first, when NLU finds no task,
/// and when a collect question fails too often.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Defaults {
    /// `defaults.assistant_initiation`: inbound phone calls start here.
    pub assistant_initiation: Option<Target>,
    /// `defaults.fallback`: input no task matches.
    pub fallback: Option<Target>,
    /// `defaults.collect.validate_on_failure`: a question out of attempts without its own redirect.
    pub collect_validate_on_failure: Option<Target>,
    /// Unknown keys inside `defaults`, kept for the round trip.
    pub extra: Map<String, Value>,
    /// Unknown keys inside `defaults.collect`, kept for the round trip.
    pub collect_extra: Map<String, Value>,
}

const WRAPPER: &str = "defaults";

impl Defaults {
    /// Reads `{"defaults": {...}}`; `{}` (what Autopilot returned for an
    /// assistant that never set defaults) gives empty defaults. An empty string
    /// as a target means "not set".
    pub fn from_value(value: &Value) -> Result<Defaults, ShapeError> {
        let mut wrapper = Fields::of(value, "", "an object {\"defaults\": {...}}")?;
        let Some(inner) = wrapper.optional(WRAPPER) else {
            return Ok(Defaults::default());
        };
        let mut fields = inner.fields("an object")?;
        let assistant_initiation = read_target(fields.optional("assistant_initiation"))?;
        let fallback = read_target(fields.optional("fallback"))?;
        let (collect_validate_on_failure, collect_extra) = match fields.optional("collect") {
            Some(collect) => read_collect(&collect)?,
            None => (None, Map::new()),
        };
        Ok(Defaults {
            assistant_initiation,
            fallback,
            collect_validate_on_failure,
            extra: fields.into_extra(),
            collect_extra,
        })
    }

    /// `{"defaults": {...}}`, or `{}` when nothing is set.
    pub fn to_value(&self) -> Value {
        self.to_ordered().into_value()
    }

    pub fn is_empty(&self) -> bool {
        *self == Defaults::default()
    }

    /// The targets with their paths, for reference checks.
    pub fn targets(&self) -> [(&'static str, Option<&Target>); 3] {
        [
            (
                "defaults.assistant_initiation",
                self.assistant_initiation.as_ref(),
            ),
            ("defaults.fallback", self.fallback.as_ref()),
            (
                "defaults.collect.validate_on_failure",
                self.collect_validate_on_failure.as_ref(),
            ),
        ]
    }

    pub(crate) fn to_ordered(&self) -> OrderedJson {
        if self.is_empty() {
            return ObjectBuilder::new().build();
        }
        let collect = ObjectBuilder::new()
            .optional(
                "validate_on_failure",
                target_text(&self.collect_validate_on_failure),
            )
            .extra(&self.collect_extra)
            .build();
        let has_collect =
            self.collect_validate_on_failure.is_some() || !self.collect_extra.is_empty();
        let inner = ObjectBuilder::new()
            .optional(
                "assistant_initiation",
                target_text(&self.assistant_initiation),
            )
            .optional("fallback", target_text(&self.fallback))
            .optional("collect", has_collect.then_some(collect))
            .extra(&self.extra)
            .build();
        ObjectBuilder::new().field(WRAPPER, inner).build()
    }
}

fn target_text(target: &Option<Target>) -> Option<OrderedJson> {
    target
        .as_ref()
        .map(|target| OrderedJson::from(target.to_string().as_str()))
}

fn read_target(field: Option<Field<'_>>) -> Result<Option<Target>, ShapeError> {
    let Some(field) = field else {
        return Ok(None);
    };
    match field.str()? {
        "" => Ok(None),
        text => Target::parse(text)
            .map(Some)
            .map_err(|error| ShapeError::new(&field.path, error.to_string())),
    }
}

fn read_collect(field: &Field<'_>) -> Result<(Option<Target>, Map<String, Value>), ShapeError> {
    let mut fields = field.fields("an object")?;
    let target = read_target(fields.optional("validate_on_failure"))?;
    Ok((target, fields.into_extra()))
}

crate::json::serde_via_value!(Defaults);

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn template_defaults() -> Value {
        json!({"defaults": {
            "assistant_initiation": "task://greeting",
            "fallback": "task://fallback",
            "collect": {"validate_on_failure": "task://collect_fallback"}
        }})
    }

    #[test]
    fn reads_the_three_targets() {
        let defaults = Defaults::from_value(&template_defaults()).unwrap();
        assert_eq!(
            defaults.assistant_initiation,
            Some(Target::Task("greeting".into()))
        );
        assert_eq!(defaults.fallback, Some(Target::Task("fallback".into())));
        assert_eq!(
            defaults.collect_validate_on_failure,
            Some(Target::Task("collect_fallback".into()))
        );
        assert_eq!(defaults.to_value(), template_defaults());
    }

    #[test]
    fn empty_strings_mean_not_set() {
        let defaults = Defaults::from_value(&json!({"defaults": {
            "assistant_initiation": "", "fallback": "https://x.io/fallback", "collect": {"validate_on_failure": ""}}}))
        .unwrap();
        assert_eq!(defaults.assistant_initiation, None);
        assert_eq!(
            defaults.fallback,
            Some(Target::Url("https://x.io/fallback".into()))
        );
        assert_eq!(defaults.collect_validate_on_failure, None);
        assert_eq!(
            defaults.to_value(),
            json!({"defaults": {"fallback": "https://x.io/fallback"}})
        );
    }

    #[test]
    fn an_empty_document_is_empty_defaults_and_writes_back_empty() {
        let defaults = Defaults::from_value(&json!({})).unwrap();
        assert!(defaults.is_empty());
        assert_eq!(defaults.to_value(), json!({}));
        assert!(
            Defaults::from_value(&json!({"defaults": {}}))
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn unknown_keys_are_kept() {
        let value = json!({"defaults": {"fallback": "task://f", "timeout": 5,
                                        "collect": {"validate_on_failure": "task://f", "retries": 2}}});
        let defaults = Defaults::from_value(&value).unwrap();
        assert_eq!(defaults.extra["timeout"], json!(5));
        assert_eq!(defaults.collect_extra["retries"], json!(2));
        assert_eq!(defaults.to_value(), value);
    }

    #[test]
    fn bad_targets_and_shapes_name_their_path() {
        let error =
            Defaults::from_value(&json!({"defaults": {"fallback": "fallback"}})).unwrap_err();
        assert_eq!(
            error.to_string(),
            "defaults.fallback: \"fallback\" is not a target: expected task://<unique_name> or an http(s) URL"
        );
        let error =
            Defaults::from_value(&json!({"defaults": {"collect": "task://x"}})).unwrap_err();
        assert_eq!(
            error.to_string(),
            "defaults.collect: expected an object, found a string"
        );
        let error = Defaults::from_value(&json!({"defaults": {"fallback": 3}})).unwrap_err();
        assert_eq!(
            error.to_string(),
            "defaults.fallback: expected a string, found a number"
        );
        let error = Defaults::from_value(&json!([])).unwrap_err();
        assert_eq!(
            error.to_string(),
            "expected an object {\"defaults\": {...}}, found an array"
        );
    }

    #[test]
    fn serde_uses_the_wrapped_form() {
        let defaults: Defaults = serde_json::from_value(template_defaults()).unwrap();
        assert_eq!(
            serde_json::to_value(&defaults).unwrap(),
            template_defaults()
        );
        let error =
            serde_json::from_value::<Defaults>(json!({"defaults": {"fallback": "x"}})).unwrap_err();
        assert_eq!(
            error.to_string(),
            "defaults.fallback: \"x\" is not a target: expected task://<unique_name> or an http(s) URL"
        );
    }
}
