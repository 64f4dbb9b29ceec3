//! Reading a JSON object property by property with precise errors.

use serde_json::{Map, Value};

use super::{ShapeError, key_path, wrong_type};

/// The properties of one JSON object, read one by one.
///
/// Whatever was not asked for is returned by [`Fields::into_extra`], so unknown
/// keys can be kept and written back instead of silently dropped.
pub(crate) struct Fields<'a> {
    path: &'a str,
    map: &'a Map<String, Value>,
    taken: Vec<&'static str>,
}

impl<'a> Fields<'a> {
    /// `value` must be an object; `expected` describes it for the error message.
    pub fn of(value: &'a Value, path: &'a str, expected: &str) -> Result<Fields<'a>, ShapeError> {
        match value {
            Value::Object(map) => Ok(Fields::of_map(map, path)),
            other => Err(wrong_type(path, expected, other)),
        }
    }

    pub fn of_map(map: &'a Map<String, Value>, path: &'a str) -> Fields<'a> {
        Fields {
            path,
            map,
            taken: Vec::new(),
        }
    }

    /// A property that must be present (null counts as absent).
    pub fn required(&mut self, key: &'static str) -> Result<Field<'a>, ShapeError> {
        self.optional(key)
            .ok_or_else(|| ShapeError::new(self.path, format!("missing {key:?}")))
    }

    /// A property that may be absent; an explicit `null` is treated as absent
    /// because hand-written Autopilot documents use both for "not set".
    pub fn optional(&mut self, key: &'static str) -> Option<Field<'a>> {
        self.taken.push(key);
        match self.map.get(key) {
            None | Some(Value::Null) => None,
            Some(value) => Some(Field {
                value,
                path: key_path(self.path, key),
            }),
        }
    }

    /// An optional string property.
    pub fn optional_string(&mut self, key: &'static str) -> Result<Option<String>, ShapeError> {
        self.optional(key).map(|f| f.string()).transpose()
    }

    /// An optional `true`/`false` property.
    pub fn optional_bool(&mut self, key: &'static str) -> Result<Option<bool>, ShapeError> {
        self.optional(key).map(|f| f.bool()).transpose()
    }

    /// An optional count that must be at least 1.
    pub fn optional_positive(&mut self, key: &'static str) -> Result<Option<u32>, ShapeError> {
        self.optional(key).map(|f| f.positive_u32()).transpose()
    }

    /// An optional property read by `read(value, path)`.
    pub fn optional_with<T>(
        &mut self,
        key: &'static str,
        read: impl FnOnce(&Value, &str) -> Result<T, ShapeError>,
    ) -> Result<Option<T>, ShapeError> {
        self.optional(key)
            .map(|f| read(f.value, &f.path))
            .transpose()
    }

    /// A required property read by `read(value, path)`.
    pub fn required_with<T>(
        &mut self,
        key: &'static str,
        read: impl FnOnce(&Value, &str) -> Result<T, ShapeError>,
    ) -> Result<T, ShapeError> {
        let field = self.required(key)?;
        read(field.value, &field.path)
    }

    /// An optional array read element by element; absent means empty.
    pub fn list<T>(
        &mut self,
        key: &'static str,
        read: impl FnMut(&Value, &str) -> Result<T, ShapeError>,
    ) -> Result<Vec<T>, ShapeError> {
        match self.optional(key) {
            Some(field) => field.each(read),
            None => Ok(Vec::new()),
        }
    }

    /// The properties that were never asked for, in key order.
    pub fn into_extra(self) -> Map<String, Value> {
        self.map
            .iter()
            .filter(|(key, _)| !self.taken.contains(&key.as_str()))
            .map(|(key, value)| (key.clone(), value.clone()))
            .collect()
    }
}

/// One property value and where it sits.
pub(crate) struct Field<'a> {
    pub value: &'a Value,
    pub path: String,
}

impl<'a> Field<'a> {
    pub fn str(&self) -> Result<&'a str, ShapeError> {
        self.value
            .as_str()
            .ok_or_else(|| wrong_type(&self.path, "a string", self.value))
    }

    pub fn string(&self) -> Result<String, ShapeError> {
        self.str().map(str::to_owned)
    }

    pub fn bool(&self) -> Result<bool, ShapeError> {
        self.value
            .as_bool()
            .ok_or_else(|| wrong_type(&self.path, "true or false", self.value))
    }

    /// A whole number from 0 to `u32::MAX`.
    pub fn u32(&self) -> Result<u32, ShapeError> {
        self.value
            .as_u64()
            .and_then(|n| u32::try_from(n).ok())
            .ok_or_else(|| match self.value {
                Value::Number(n) => ShapeError::new(
                    &self.path,
                    format!("expected a whole number from 0 to {}, found {n}", u32::MAX),
                ),
                other => wrong_type(&self.path, "a whole number", other),
            })
    }

    /// A count from 1 to `u32::MAX`.
    pub fn positive_u32(&self) -> Result<u32, ShapeError> {
        match self.u32()? {
            0 => Err(ShapeError::new(&self.path, "must be at least 1")),
            count => Ok(count),
        }
    }

    pub fn array(&self) -> Result<&'a [Value], ShapeError> {
        self.value
            .as_array()
            .map(Vec::as_slice)
            .ok_or_else(|| wrong_type(&self.path, "an array", self.value))
    }

    /// The value's properties, to be read one by one.
    pub fn fields(&self, expected: &str) -> Result<Fields<'_>, ShapeError> {
        Fields::of(self.value, &self.path, expected)
    }

    /// An array whose elements are all strings.
    pub fn strings(&self) -> Result<Vec<String>, ShapeError> {
        self.array()?
            .iter()
            .enumerate()
            .map(|(index, item)| {
                item.as_str().map(str::to_owned).ok_or_else(|| {
                    wrong_type(&super::index_path(&self.path, index), "a string", item)
                })
            })
            .collect()
    }

    /// Reads each array element with `read(element, element_path)`.
    pub fn each<T>(
        &self,
        mut read: impl FnMut(&Value, &str) -> Result<T, ShapeError>,
    ) -> Result<Vec<T>, ShapeError> {
        self.array()?
            .iter()
            .enumerate()
            .map(|(index, item)| read(item, &super::index_path(&self.path, index)))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn required_reports_the_missing_key_at_the_object_path() {
        let value = json!({"a": 1});
        let mut fields = Fields::of(&value, "x.y", "an object").unwrap();
        assert_eq!(
            fields.required("b").err().unwrap().to_string(),
            "x.y: missing \"b\""
        );
    }

    #[test]
    fn null_counts_as_absent() {
        let value = json!({"a": null});
        let mut fields = Fields::of(&value, "x", "an object").unwrap();
        assert!(fields.optional("a").is_none());
        assert!(fields.into_extra().is_empty());
    }

    #[test]
    fn extra_keeps_what_was_not_read() {
        let value = json!({"a": 1, "b": 2, "c": 3});
        let mut fields = Fields::of(&value, "", "an object").unwrap();
        fields.optional("b");
        let extra = fields.into_extra();
        assert_eq!(serde_json::Value::Object(extra), json!({"a": 1, "c": 3}));
    }

    #[test]
    fn helpers_read_optional_values_lists_and_counts() {
        let value = json!({"s": "x", "b": true, "n": 2, "zero": 0, "l": ["a", "b"]});
        let mut fields = Fields::of(&value, "o", "an object").unwrap();
        assert_eq!(fields.optional_string("s").unwrap(), Some("x".to_owned()));
        assert_eq!(fields.optional_bool("b").unwrap(), Some(true));
        assert_eq!(fields.optional_positive("n").unwrap(), Some(2));
        assert_eq!(
            fields.optional_positive("zero").unwrap_err().to_string(),
            "o.zero: must be at least 1"
        );
        let upper = |v: &Value, _: &str| Ok(v.as_str().unwrap().to_uppercase());
        assert_eq!(fields.list("l", upper).unwrap(), ["A", "B"]);
        assert_eq!(fields.list("missing", upper).unwrap(), Vec::<String>::new());
        assert_eq!(fields.optional_with("absent", upper).unwrap(), None);
        assert_eq!(
            fields
                .required_with("absent", upper)
                .unwrap_err()
                .to_string(),
            "o: missing \"absent\""
        );
        assert!(fields.into_extra().is_empty());
    }

    #[test]
    fn type_errors_name_what_was_found() {
        let value = json!({"n": -1, "s": 5, "f": 1.5, "l": ["a", 2]});
        let mut fields = Fields::of(&value, "o", "an object").unwrap();
        let n = fields.required("n").unwrap();
        assert_eq!(
            n.u32().unwrap_err().to_string(),
            "o.n: expected a whole number from 0 to 4294967295, found -1"
        );
        let s = fields.required("s").unwrap();
        assert_eq!(
            s.str().unwrap_err().to_string(),
            "o.s: expected a string, found a number"
        );
        assert_eq!(
            s.bool().unwrap_err().to_string(),
            "o.s: expected true or false, found a number"
        );
        let l = fields.required("l").unwrap();
        assert_eq!(
            l.strings().unwrap_err().to_string(),
            "o.l[1]: expected a string, found a number"
        );
        assert_eq!(
            Fields::of(&json!([]), "top", "an object")
                .err()
                .unwrap()
                .to_string(),
            "top: expected an object, found an array"
        );
    }
}
