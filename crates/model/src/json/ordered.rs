//! A JSON tree that keeps the key order it was built with.
//!
//! `serde_json::Map` sorts its keys (the workspace does not enable
//! `preserve_order`, which would change every crate's maps), so documents whose
//! key order matters — the schema export, Actions JSON in documentation order —
//! are built as an [`OrderedJson`] and converted or printed from there.

use std::fmt;

use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

/// A JSON value whose objects keep their insertion order.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum OrderedJson {
    /// null, a boolean, a number or a string.
    Scalar(Value),
    Array(Vec<OrderedJson>),
    Object(Vec<(String, OrderedJson)>),
}

impl From<&Value> for OrderedJson {
    /// Objects of a plain `Value` come out in sorted key order.
    fn from(value: &Value) -> OrderedJson {
        match value {
            Value::Array(items) => {
                OrderedJson::Array(items.iter().map(OrderedJson::from).collect())
            }
            Value::Object(map) => OrderedJson::from(map),
            scalar => OrderedJson::Scalar(scalar.clone()),
        }
    }
}

impl From<&Map<String, Value>> for OrderedJson {
    fn from(map: &Map<String, Value>) -> OrderedJson {
        OrderedJson::Object(pairs_of(map))
    }
}

/// A map's entries as ordered pairs (in the map's sorted key order).
fn pairs_of(map: &Map<String, Value>) -> Vec<(String, OrderedJson)> {
    map.iter()
        .map(|(key, value)| (key.clone(), OrderedJson::from(value)))
        .collect()
}

impl From<Value> for OrderedJson {
    fn from(value: Value) -> OrderedJson {
        OrderedJson::from(&value)
    }
}

impl From<&str> for OrderedJson {
    fn from(text: &str) -> OrderedJson {
        OrderedJson::Scalar(Value::String(text.to_owned()))
    }
}

impl From<&String> for OrderedJson {
    fn from(text: &String) -> OrderedJson {
        OrderedJson::from(text.as_str())
    }
}

impl From<bool> for OrderedJson {
    fn from(flag: bool) -> OrderedJson {
        OrderedJson::Scalar(Value::Bool(flag))
    }
}

impl From<u32> for OrderedJson {
    fn from(number: u32) -> OrderedJson {
        OrderedJson::Scalar(Value::from(number))
    }
}

impl<T: Into<OrderedJson>> From<Vec<T>> for OrderedJson {
    fn from(items: Vec<T>) -> OrderedJson {
        OrderedJson::Array(items.into_iter().map(Into::into).collect())
    }
}

impl OrderedJson {
    /// The equivalent `serde_json::Value` (key order is then the map's).
    pub fn into_value(self) -> Value {
        match self {
            OrderedJson::Scalar(value) => value,
            OrderedJson::Array(items) => {
                Value::Array(items.into_iter().map(OrderedJson::into_value).collect())
            }
            OrderedJson::Object(pairs) => Value::Object(
                pairs
                    .into_iter()
                    .map(|(key, value)| (key, value.into_value()))
                    .collect(),
            ),
        }
    }

    /// Pretty JSON as the Autopilot CLI wrote it (npm `pretty-json-stringify`
    /// defaults): four-space indent, `" : "` between key and value, and any
    /// object or array whose compact JavaScript form is at most 25 characters
    /// kept on one line (`{ "listen" : true }`, `[]`). No trailing newline.
    pub fn to_cli_pretty_string(&self) -> String {
        self.cli_pretty(0).text
    }

    fn cli_pretty(&self, level: usize) -> Printed {
        match self {
            OrderedJson::Scalar(value) => Printed::compact_scalar(value),
            OrderedJson::Array(items) => {
                let children = items
                    .iter()
                    .map(|item| item.cli_pretty(level + 1))
                    .collect();
                Printed::container(Brackets::ARRAY, children, level)
            }
            OrderedJson::Object(pairs) => {
                let children = pairs
                    .iter()
                    .map(|(key, value)| value.cli_pretty(level + 1).after_key(key))
                    .collect();
                Printed::container(Brackets::OBJECT, children, level)
            }
        }
    }
}

/// Written in its own key order (compact with `serde_json::to_string`): no
/// `Value` tree is built on the way.
impl serde::Serialize for OrderedJson {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::{SerializeMap, SerializeSeq};
        match self {
            OrderedJson::Scalar(value) => value.serialize(serializer),
            OrderedJson::Array(items) => {
                let mut seq = serializer.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(item)?;
                }
                seq.end()
            }
            OrderedJson::Object(pairs) => {
                let mut map = serializer.serialize_map(Some(pairs.len()))?;
                for (key, value) in pairs {
                    map.serialize_entry(key, value)?;
                }
                map.end()
            }
        }
    }
}

impl OrderedJson {
    /// How the value is described in "expected …, found …" messages.
    pub fn kind(&self) -> &'static str {
        match self {
            OrderedJson::Scalar(value) => super::kind_of(value),
            OrderedJson::Array(_) => "an array",
            OrderedJson::Object(_) => "an object",
        }
    }
}

/// Parsing keeps objects in document order and keeps repeated keys, so errors
/// can quote an action object's keys as the author wrote them.
impl<'de> Deserialize<'de> for OrderedJson {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<OrderedJson, D::Error> {
        deserializer.deserialize_any(OrderedVisitor)
    }
}

struct OrderedVisitor;

impl<'de> Visitor<'de> for OrderedVisitor {
    type Value = OrderedJson;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, value: bool) -> Result<OrderedJson, E> {
        Ok(OrderedJson::from(value))
    }

    fn visit_i64<E>(self, value: i64) -> Result<OrderedJson, E> {
        Ok(OrderedJson::Scalar(Value::from(value)))
    }

    fn visit_u64<E>(self, value: u64) -> Result<OrderedJson, E> {
        Ok(OrderedJson::Scalar(Value::from(value)))
    }

    fn visit_f64<E>(self, value: f64) -> Result<OrderedJson, E> {
        Ok(OrderedJson::Scalar(Value::from(value)))
    }

    fn visit_str<E>(self, value: &str) -> Result<OrderedJson, E> {
        Ok(OrderedJson::from(value))
    }

    fn visit_string<E>(self, value: String) -> Result<OrderedJson, E> {
        Ok(OrderedJson::Scalar(Value::String(value)))
    }

    fn visit_unit<E>(self) -> Result<OrderedJson, E> {
        Ok(OrderedJson::Scalar(Value::Null))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<OrderedJson, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(OrderedJson::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<OrderedJson, A::Error> {
        let mut pairs = Vec::new();
        while let Some(pair) = map.next_entry()? {
            pairs.push(pair);
        }
        Ok(OrderedJson::Object(pairs))
    }
}

/// The CLI's rule: expand a container whose `JSON.stringify` form is longer than this.
const CLI_ONE_LINE_LIMIT: usize = 25;
const CLI_TAB: &str = "    ";

struct Brackets {
    open: &'static str,
    close: &'static str,
    /// Padding inside a one-line container: `{ a }` but `[a]`.
    inner_space: &'static str,
}

impl Brackets {
    const ARRAY: Brackets = Brackets {
        open: "[",
        close: "]",
        inner_space: "",
    };
    const OBJECT: Brackets = Brackets {
        open: "{",
        close: "}",
        inner_space: " ",
    };
}

/// A printed node and the length of its compact form in UTF-16 code units,
/// which is what JavaScript's `String.length` measured.
struct Printed {
    text: String,
    compact_length: usize,
}

impl Printed {
    fn compact_scalar(value: &Value) -> Printed {
        let text = value.to_string();
        Printed {
            compact_length: js_length(&text),
            text,
        }
    }

    /// This node printed as the value of `key` inside an object.
    fn after_key(self, key: &str) -> Printed {
        let key_json = Value::String(key.to_owned()).to_string();
        Printed {
            compact_length: js_length(&key_json) + 1 + self.compact_length,
            text: format!("{key_json} : {}", self.text),
        }
    }

    fn container(brackets: Brackets, children: Vec<Printed>, level: usize) -> Printed {
        let separators = children.len().saturating_sub(1);
        let compact_length =
            2 + separators + children.iter().map(|c| c.compact_length).sum::<usize>();
        let parts: Vec<String> = children.into_iter().map(|c| c.text).collect();
        let text = if parts.is_empty() {
            format!("{}{}", brackets.open, brackets.close)
        } else if compact_length > CLI_ONE_LINE_LIMIT {
            let indent = CLI_TAB.repeat(level);
            let joiner = format!(",\n{indent}{CLI_TAB}");
            format!(
                "{}\n{indent}{CLI_TAB}{}\n{indent}{}",
                brackets.open,
                parts.join(&joiner),
                brackets.close
            )
        } else {
            let pad = brackets.inner_space;
            format!(
                "{}{pad}{}{pad}{}",
                brackets.open,
                parts.join(", "),
                brackets.close
            )
        };
        Printed {
            text,
            compact_length,
        }
    }
}

fn js_length(text: &str) -> usize {
    text.encode_utf16().count()
}

/// Builds an [`OrderedJson::Object`] one property at a time.
#[derive(Default)]
pub(crate) struct ObjectBuilder {
    pairs: Vec<(String, OrderedJson)>,
}

impl ObjectBuilder {
    pub fn new() -> ObjectBuilder {
        ObjectBuilder::default()
    }

    pub fn field(mut self, key: &str, value: impl Into<OrderedJson>) -> ObjectBuilder {
        self.pairs.push((key.to_owned(), value.into()));
        self
    }

    /// Adds the property only when there is a value.
    pub fn optional<T: Into<OrderedJson>>(self, key: &str, value: Option<T>) -> ObjectBuilder {
        match value {
            Some(value) => self.field(key, value),
            None => self,
        }
    }

    /// Adds the unknown properties kept from the source document, after the known ones.
    pub fn extra(mut self, extra: &Map<String, Value>) -> ObjectBuilder {
        self.pairs.extend(pairs_of(extra));
        self
    }

    pub fn build(self) -> OrderedJson {
        OrderedJson::Object(self.pairs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn short_containers_stay_on_one_line() {
        let tree = ObjectBuilder::new()
            .field("actions", vec![OrderedJson::from(json!({"listen": true}))])
            .field("fields", Vec::<OrderedJson>::new())
            .build();
        assert_eq!(
            tree.to_cli_pretty_string(),
            "{\n    \"actions\" : [{ \"listen\" : true }],\n    \"fields\" : []\n}"
        );
    }

    #[test]
    fn the_limit_is_25_javascript_characters() {
        // {"a":"1234567890123456"} is 24 characters, {"a":"12345678901234567"} 25,
        // {"a":"123456789012345678"} 26.
        let at_limit = OrderedJson::from(json!({"a": "12345678901234567"}));
        assert_eq!(
            at_limit.to_cli_pretty_string(),
            "{ \"a\" : \"12345678901234567\" }"
        );
        let over = OrderedJson::from(json!({"a": "123456789012345678"}));
        assert_eq!(
            over.to_cli_pretty_string(),
            "{\n    \"a\" : \"123456789012345678\"\n}"
        );
    }

    #[test]
    fn length_counts_utf16_units_like_javascript() {
        // "é" is one UTF-16 unit but two UTF-8 bytes; "😀" is two units.
        let accents = OrderedJson::from(json!({"a": "ééééééééééééééééé"}));
        assert!(!accents.to_cli_pretty_string().contains('\n'));
        let emoji = OrderedJson::from(json!({"a": "😀😀😀😀😀😀😀😀😀"}));
        assert!(emoji.to_cli_pretty_string().contains('\n'));
    }

    #[test]
    fn nested_indentation_grows_by_four_spaces() {
        let tree = OrderedJson::from(json!({"outer": {"inner": ["a long string value here"]}}));
        assert_eq!(
            tree.to_cli_pretty_string(),
            "{\n    \"outer\" : {\n        \"inner\" : [\n            \"a long string value here\"\n        ]\n    }\n}"
        );
    }

    #[test]
    fn parsing_keeps_document_order_and_repeated_keys() {
        let tree: OrderedJson =
            serde_json::from_str(r#"{"z": 1, "a": [true, null], "z": "x"}"#).unwrap();
        let OrderedJson::Object(pairs) = &tree else {
            panic!("expected an object, got {tree:?}");
        };
        let keys: Vec<&str> = pairs.iter().map(|(key, _)| key.as_str()).collect();
        assert_eq!(keys, ["z", "a", "z"]);
        assert_eq!(tree.kind(), "an object");
        // Converting to a Value keeps the last of repeated keys, as serde_json does.
        assert_eq!(tree.into_value(), json!({"a": [true, null], "z": "x"}));
    }

    #[test]
    fn parsing_deep_nesting_fails_cleanly() {
        let deep = "[".repeat(10_000) + &"]".repeat(10_000);
        let err = serde_json::from_str::<OrderedJson>(&deep).unwrap_err();
        assert_eq!(
            err.to_string(),
            "recursion limit exceeded at line 1 column 128"
        );
    }

    #[test]
    fn builder_keeps_insertion_order_and_appends_extra() {
        let mut extra = Map::new();
        extra.insert("zz".into(), json!(1));
        let tree = ObjectBuilder::new()
            .field("b", "x")
            .optional("skip", None::<bool>)
            .field("a", true)
            .extra(&extra)
            .build();
        assert_eq!(
            tree.to_cli_pretty_string(),
            "{ \"b\" : \"x\", \"a\" : true, \"zz\" : 1 }"
        );
        assert_eq!(tree.into_value(), json!({"a": true, "b": "x", "zz": 1}));
    }
}
