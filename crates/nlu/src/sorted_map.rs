//! Serialising hash maps in key order.
//!
//! A hash map's iteration order depends on its history (capacity, insertion
//! order), so a model read back from a file and written again could differ
//! byte for byte. Writing entries sorted by key makes the file a function of
//! the model's content alone. Use with `#[serde(with = "crate::sorted_map")]`.

use std::hash::Hash;

use rustc_hash::FxHashMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

pub fn serialize<K, V, S>(map: &FxHashMap<K, V>, serializer: S) -> Result<S::Ok, S::Error>
where
    K: Serialize + Ord,
    V: Serialize,
    S: Serializer,
{
    let mut entries: Vec<(&K, &V)> = map.iter().collect();
    entries.sort_by(|a, b| a.0.cmp(b.0));
    entries.serialize(serializer)
}

pub fn deserialize<'de, K, V, D>(deserializer: D) -> Result<FxHashMap<K, V>, D::Error>
where
    K: Deserialize<'de> + Eq + Hash,
    V: Deserialize<'de>,
    D: Deserializer<'de>,
{
    let entries: Vec<(K, V)> = Vec::deserialize(deserializer)?;
    Ok(entries.into_iter().collect())
}
