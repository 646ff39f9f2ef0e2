//! [`Sanitizer`]: what an event's payload goes through before it leaves the process.

use serde_json::{Map, Value};
use unicode_normalization::UnicodeNormalization;

use crate::events::Event;

/// Keys redacted by default (compared after [normalising](Sanitizer#keys) both sides).
pub const DEFAULT_DENIED_KEYS: &[&str] = &[
    "system_prompt",
    "internal_reasoning",
    "api_key",
    "authorization",
    "password",
];

/// Longest `"type"` tag kept, in characters.
const MAX_TAG_CHARS: usize = 64;

/// What a denied key's value becomes.
pub const REDACTED: &str = "[redacted]";

/// Cleans event payloads: values under denied keys are replaced by [`REDACTED`] (at any depth),
/// strings longer than [`max_string_chars`](Self::max_string_chars) are cut, and an event whose
/// JSON is still larger than [`max_event_bytes`](Self::max_event_bytes) is replaced by
/// `{"type": .., "truncated": true, "bytes": n}`.
///
/// # Keys
/// Keys are compared after NFKC normalisation and lowercasing, ignoring every character that is
/// not a letter or digit: `system_prompt`, `System-Prompt`, `systemPrompt`, `SYSTEM PROMPT`,
/// `ｓｙｓｔｅｍ_prompt` and `system\u{200b}_prompt` are one key.
///
/// ```
/// use isolate::hub::Sanitizer;
/// use serde_json::json;
///
/// let sanitizer = Sanitizer::builder().deny_key("customer_ssn").max_string_chars(8).build();
/// let mut payload = json!({
///     "type": "tool_executing",
///     "arguments": {"query": "flights to Lisbon", "CustomerSSN": "123-45-6789"},
///     "systemPrompt": "you are a travel agent",
/// });
/// sanitizer.sanitize(&mut payload);
/// assert_eq!(payload, json!({
///     "type": "tool_executing",
///     "arguments": {"query": "flights …[+9 chars]", "CustomerSSN": "[redacted]"},
///     "systemPrompt": "[redacted]",
/// }));
/// ```
#[derive(Debug, Clone)]
pub struct Sanitizer {
    /// Normalised denied keys, sorted.
    denied: Vec<String>,
    max_string_chars: usize,
    max_event_bytes: usize,
}

impl Default for Sanitizer {
    fn default() -> Self {
        Self::builder().build()
    }
}

impl Sanitizer {
    /// A builder starting from [`DEFAULT_DENIED_KEYS`], 1,024 characters per string and
    /// 64 KiB per event.
    pub fn builder() -> SanitizerBuilder {
        SanitizerBuilder {
            denied: DEFAULT_DENIED_KEYS
                .iter()
                .map(|k| (*k).to_owned())
                .collect(),
            max_string_chars: 1024,
            max_event_bytes: 64 * 1024,
        }
    }

    /// Longest string kept whole, in characters.
    pub fn max_string_chars(&self) -> usize {
        self.max_string_chars
    }

    /// Largest event payload kept, in bytes of JSON.
    pub fn max_event_bytes(&self) -> usize {
        self.max_event_bytes
    }

    /// Whether values under `key` are redacted.
    pub fn denies(&self, key: &str) -> bool {
        self.denied.binary_search(&normalise_key(key)).is_ok()
    }

    /// Redacts denied keys and cuts long strings in `value`, in place, at any depth. A
    /// top-level `"type"` tag names the event: it is kept as it is (up to 64 characters).
    pub fn sanitize(&self, value: &mut Value) {
        let tag = match value {
            Value::Object(map) => match map.remove("type") {
                Some(Value::String(tag)) => Some(tag.chars().take(MAX_TAG_CHARS).collect()),
                Some(other) => {
                    map.insert("type".to_owned(), other);
                    None
                }
                None => None,
            },
            _ => None,
        };
        self.sanitize_tree(value);
        if let (Some(tag), Value::Object(map)) = (tag, value) {
            map.insert("type".to_owned(), Value::String(tag));
        }
    }

    fn sanitize_tree(&self, value: &mut Value) {
        // An explicit stack: a deeply nested payload cannot overflow ours.
        let mut stack = vec![value];
        while let Some(value) = stack.pop() {
            match value {
                Value::String(s) => self.cut(s),
                Value::Array(items) => stack.extend(items.iter_mut()),
                Value::Object(map) => {
                    for (key, item) in map.iter_mut() {
                        if self.denies(key) {
                            *item = Value::String(REDACTED.to_owned());
                        } else {
                            stack.push(item);
                        }
                    }
                }
                Value::Null | Value::Bool(_) | Value::Number(_) => {}
            }
        }
    }

    /// `event`'s payload as sanitised JSON. An event that cannot be serialised becomes
    /// `{"type":"unserializable_event"}`, and one larger than
    /// [`max_event_bytes`](Self::max_event_bytes) after sanitising becomes
    /// `{"type": .., "truncated": true, "bytes": n}`: the event keeps its place in its run.
    pub fn event_json(&self, event: &dyn Event) -> Value {
        let mut value = match serde_json::to_value(event) {
            Ok(value) => value,
            Err(_) => return placeholder("unserializable_event"),
        };
        self.sanitize(&mut value);
        self.cap(value)
    }

    fn cap(&self, value: Value) -> Value {
        let mut counter = ByteCounter(0);
        if serde_json::to_writer(&mut counter, &value).is_err() || counter.0 <= self.max_event_bytes
        {
            return value;
        }
        let kind = value
            .get("type")
            .and_then(Value::as_str)
            .map(|t| t.chars().take(MAX_TAG_CHARS).collect::<String>())
            .unwrap_or_else(|| "event".to_owned());
        let mut map = Map::new();
        map.insert("type".into(), Value::String(kind));
        map.insert("truncated".into(), Value::Bool(true));
        map.insert("bytes".into(), Value::from(counter.0));
        Value::Object(map)
    }

    fn cut(&self, s: &mut String) {
        let Some((cut, _)) = s.char_indices().nth(self.max_string_chars) else {
            return;
        };
        let rest = s[cut..].chars().count();
        s.truncate(cut);
        s.push_str(&format!("…[+{rest} chars]"));
    }
}

fn placeholder(kind: &str) -> Value {
    let mut map = Map::new();
    map.insert("type".into(), Value::String(kind.to_owned()));
    Value::Object(map)
}

/// Counts what serde_json writes without keeping it.
struct ByteCounter(usize);

impl std::io::Write for ByteCounter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0 += buf.len();
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// NFKC, lowercase, letters and digits only.
fn normalise_key(key: &str) -> String {
    key.nfkc()
        .flat_map(char::to_lowercase)
        .filter(|c| c.is_alphanumeric())
        .collect()
}

/// Builder for [`Sanitizer`].
#[derive(Debug, Clone)]
#[must_use = "call .build()"]
pub struct SanitizerBuilder {
    denied: Vec<String>,
    max_string_chars: usize,
    max_event_bytes: usize,
}

impl SanitizerBuilder {
    /// Adds a denied key.
    pub fn deny_key(mut self, key: impl Into<String>) -> Self {
        self.denied.push(key.into());
        self
    }

    /// Replaces the denied keys (an empty list redacts nothing).
    pub fn denied_keys<I: IntoIterator<Item = S>, S: Into<String>>(mut self, keys: I) -> Self {
        self.denied = keys.into_iter().map(Into::into).collect();
        self
    }

    /// Sets the longest string kept whole, in characters (at least 1).
    pub fn max_string_chars(mut self, chars: usize) -> Self {
        self.max_string_chars = chars.max(1);
        self
    }

    /// Sets the largest event payload kept, in bytes of JSON (at least 64).
    pub fn max_event_bytes(mut self, bytes: usize) -> Self {
        self.max_event_bytes = bytes.max(64);
        self
    }

    /// The sanitiser.
    pub fn build(self) -> Sanitizer {
        let mut denied: Vec<String> = self
            .denied
            .iter()
            .map(|k| normalise_key(k))
            .filter(|k| !k.is_empty())
            .collect();
        denied.sort();
        denied.dedup();
        Sanitizer {
            denied,
            max_string_chars: self.max_string_chars,
            max_event_bytes: self.max_event_bytes,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn spellings_of_a_denied_key_are_one_key() {
        let s = Sanitizer::default();
        for key in [
            "system_prompt",
            "System-Prompt",
            "systemPrompt",
            "SYSTEM PROMPT",
            "ｓｙｓｔｅｍ_prompt",
            "system\u{200b}_prompt",
            " system.prompt ",
        ] {
            assert!(s.denies(key), "{key:?}");
        }
        assert!(!s.denies("prompt"));
        assert!(!s.denies("system"));
    }

    #[test]
    fn the_type_tag_is_kept_whole_and_never_redacted() {
        let s = Sanitizer::builder()
            .max_string_chars(2)
            .deny_key("type")
            .build();
        let mut v = json!({"type": "tool_completed", "inner": {"type": "secret"}});
        s.sanitize(&mut v);
        assert_eq!(
            v,
            json!({"type": "tool_completed", "inner": {"type": REDACTED}})
        );
        let mut v = json!({"type": "x".repeat(100)});
        s.sanitize(&mut v);
        assert_eq!(v["type"].as_str().unwrap().len(), MAX_TAG_CHARS);
    }

    #[test]
    fn redaction_reaches_any_depth_and_arrays() {
        let s = Sanitizer::default();
        let mut v = json!({"a": [{"b": {"api_key": "k", "ok": "v"}}, {"password": {"nested": 1}}]});
        s.sanitize(&mut v);
        assert_eq!(
            v,
            json!({"a": [{"b": {"api_key": REDACTED, "ok": "v"}}, {"password": REDACTED}]})
        );
    }

    #[test]
    fn strings_are_cut_on_character_boundaries() {
        let s = Sanitizer::builder().max_string_chars(3).build();
        let mut v = json!(["ééééé", "abc", "🦀🦀🦀🦀"]);
        s.sanitize(&mut v);
        assert_eq!(v, json!(["ééé…[+2 chars]", "abc", "🦀🦀🦀…[+1 chars]"]));
    }

    #[test]
    fn an_oversized_event_is_replaced_by_a_marker() {
        #[derive(Debug, serde::Serialize)]
        struct Big {
            r#type: &'static str,
            items: Vec<String>,
        }
        impl Event for Big {
            fn critical(&self) -> bool {
                true
            }
        }
        let s = Sanitizer::builder().max_event_bytes(1000).build();
        let big = Big {
            r#type: "tool_completed",
            items: vec!["0123456789".into(); 500],
        };
        let v = s.event_json(&big);
        assert_eq!(v["type"], "tool_completed");
        assert_eq!(v["truncated"], true);
        assert!(v["bytes"].as_u64().unwrap() > 1000);
        let small = Big {
            r#type: "tool_completed",
            items: vec!["x".into()],
        };
        assert_eq!(s.event_json(&small)["items"], json!(["x"]));
    }
}
