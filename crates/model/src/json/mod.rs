//! Shared JSON plumbing: errors that name a path, a reader that tracks which keys
//! were used, and an ordered tree for writing documents with a chosen key order.

mod ordered;
mod reader;

pub(crate) use ordered::{ObjectBuilder, OrderedJson};
pub(crate) use reader::{Field, Fields};

use serde_json::Value;

/// Implements `Serialize`/`Deserialize` through the type's own `to_value` and
/// `from_value`, so serde users get the Autopilot JSON shape and its checks.
macro_rules! serde_via_value {
    ($type:ty) => {
        impl serde::Serialize for $type {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serde::Serialize::serialize(&self.to_value(), serializer)
            }
        }

        impl<'de> serde::Deserialize<'de> for $type {
            fn deserialize<D: serde::Deserializer<'de>>(
                deserializer: D,
            ) -> Result<$type, D::Error> {
                let value = <serde_json::Value as serde::Deserialize>::deserialize(deserializer)?;
                <$type>::from_value(&value).map_err(serde::de::Error::custom)
            }
        }
    };
}
pub(crate) use serde_via_value;

/// A JSON document has the wrong shape at `path` (e.g. `actions[1].collect.questions[0]`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", with_path(path, problem))]
pub struct ShapeError {
    /// Where the problem is, in JavaScript notation; empty for the whole document.
    pub path: String,
    /// What is wrong, e.g. `missing "name"`.
    pub problem: String,
}

impl ShapeError {
    pub fn new(path: impl Into<String>, problem: impl Into<String>) -> ShapeError {
        ShapeError {
            path: path.into(),
            problem: problem.into(),
        }
    }

    /// The same problem seen from an enclosing document, e.g. a task's actions
    /// inside a schema file: `prefix` is the path of the embedded document.
    pub fn within(mut self, prefix: &str) -> ShapeError {
        self.path = join_paths(prefix, &self.path);
        self
    }
}

fn with_path(path: &str, problem: &str) -> String {
    if path.is_empty() {
        problem.to_owned()
    } else {
        format!("{path}: {problem}")
    }
}

fn join_paths(prefix: &str, path: &str) -> String {
    match (prefix.is_empty(), path.is_empty()) {
        (true, _) => path.to_owned(),
        (false, true) => prefix.to_owned(),
        (false, false) if path.starts_with('[') => format!("{prefix}{path}"),
        (false, false) => format!("{prefix}.{path}"),
    }
}

/// `base.key`, or `base["key"]` when the key is not a plain identifier.
pub(crate) fn key_path(base: &str, key: &str) -> String {
    let plain = !key.is_empty()
        && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !key.starts_with(|c: char| c.is_ascii_digit());
    match (plain, base.is_empty()) {
        (true, true) => key.to_owned(),
        (true, false) => format!("{base}.{key}"),
        (false, _) => format!("{base}[{key:?}]"),
    }
}

/// `base[index]`.
pub(crate) fn index_path(base: &str, index: usize) -> String {
    format!("{base}[{index}]")
}

/// How a value is described in "expected …, found …" messages.
pub(crate) fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// The `expected …, found …` error for `value` at `path`.
pub(crate) fn wrong_type(path: &str, expected: &str, value: &Value) -> ShapeError {
    ShapeError::new(
        path,
        format!("expected {expected}, found {}", kind_of(value)),
    )
}

/// Bytes of the compact serialisation, counted without building the string.
pub(crate) fn compact_size<T: serde::Serialize + ?Sized>(value: &T) -> usize {
    struct Counter(usize);
    impl std::io::Write for Counter {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0 += bytes.len();
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut counter = Counter(0);
    // JSON values (and maps of them) into a sink that never fails cannot fail.
    serde_json::to_writer(&mut counter, value).expect("serialising a JSON value into a counter");
    counter.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn paths_use_javascript_notation() {
        assert_eq!(key_path("", "actions"), "actions");
        assert_eq!(key_path("actions[0]", "say"), "actions[0].say");
        assert_eq!(key_path("redirects", "1"), "redirects[\"1\"]");
        assert_eq!(key_path("a", "with space"), "a[\"with space\"]");
        assert_eq!(index_path("actions", 3), "actions[3]");
    }

    #[test]
    fn within_prefixes_paths() {
        let inner = ShapeError::new("actions[2]", "boom");
        assert_eq!(
            inner.clone().within("tasks[1].actions").to_string(),
            "tasks[1].actions.actions[2]: boom"
        );
        assert_eq!(
            ShapeError::new("", "boom").within("tasks[1]").to_string(),
            "tasks[1]: boom"
        );
        assert_eq!(
            ShapeError::new("[0]", "boom").within("list").path,
            "list[0]"
        );
        assert_eq!(inner.within("").path, "actions[2]");
    }

    #[test]
    fn compact_size_matches_serialisation() {
        let value = json!({"say": "héllo", "n": [1, 2.5, null]});
        assert_eq!(
            compact_size(&value),
            serde_json::to_string(&value).unwrap().len()
        );
    }
}
