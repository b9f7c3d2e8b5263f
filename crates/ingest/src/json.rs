//! Bounded JSON reading shared by JSON Feed and ninjs.

use serde_json::Value;

use crate::{IngestError, Limits};

/// Parses JSON bytes (UTF-8, optional BOM) and checks depth and value count.
pub(crate) fn parse(bytes: &[u8], limits: &Limits) -> Result<Value, IngestError> {
    if bytes.len() > limits.max_bytes {
        return Err(IngestError::TooLarge);
    }
    let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    let text = std::str::from_utf8(bytes)
        .map_err(|e| IngestError::Encoding(format!("JSON is not valid UTF-8: {e}")))?;
    prescan(text.as_bytes(), limits)?;
    // serde_json refuses nesting beyond 128 levels on its own, so parsing cannot overflow
    // the stack; our own (lower) limit is checked on the tree.
    let value: Value = serde_json::from_str(text).map_err(|e| {
        if e.to_string().contains("recursion limit") {
            IngestError::TooDeep
        } else {
            IngestError::Malformed(format!("JSON: {e}"))
        }
    })?;
    let mut count = 0usize;
    check(&value, 1, limits, &mut count)?;
    Ok(value)
}

/// Counts values and nesting on the raw text before building a tree, so a hostile document
/// is refused before it costs memory (a 10 MiB array of zeros would otherwise become
/// millions of `Value`s).
fn prescan(bytes: &[u8], limits: &Limits) -> Result<(), IngestError> {
    let (mut depth, mut values, mut in_string, mut escaped) = (0usize, 1usize, false, false);
    for &b in bytes {
        if in_string {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                if depth > limits.max_depth {
                    return Err(IngestError::TooDeep);
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            b',' | b':' => {
                values += 1;
                if values > limits.max_nodes {
                    return Err(IngestError::TooManyNodes);
                }
            }
            _ => {}
        }
    }
    Ok(())
}

fn check(v: &Value, depth: usize, limits: &Limits, count: &mut usize) -> Result<(), IngestError> {
    *count += 1;
    if *count > limits.max_nodes {
        return Err(IngestError::TooManyNodes);
    }
    if depth > limits.max_depth {
        return Err(IngestError::TooDeep);
    }
    match v {
        Value::Array(a) => a
            .iter()
            .try_for_each(|x| check(x, depth + 1, limits, count)),
        Value::Object(o) => o
            .values()
            .try_for_each(|x| check(x, depth + 1, limits, count)),
        _ => Ok(()),
    }
}

/// Looks up a key case-insensitively and ignoring `_` (ninjs 1.x `body_html`, 3.x
/// `bodyHtml`; `versioncreated` / `versionCreated`).
pub(crate) fn get<'a>(obj: &'a Value, key: &str) -> Option<&'a Value> {
    let map = obj.as_object()?;
    if let Some(v) = map.get(key) {
        return Some(v);
    }
    let norm = |s: &str| -> String {
        s.chars()
            .filter(|c| *c != '_')
            .flat_map(char::to_lowercase)
            .collect()
    };
    let want = norm(key);
    map.iter().find(|(k, _)| norm(k) == want).map(|(_, v)| v)
}

/// A string field (numbers are formatted), trimmed, `None` when empty.
pub(crate) fn str_of(obj: &Value, key: &str) -> Option<String> {
    as_string(get(obj, key)?)
}

/// A value as a trimmed non-empty string (numbers formatted).
pub(crate) fn as_string(v: &Value) -> Option<String> {
    let s = match v {
        Value::String(s) => s.trim().to_owned(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        _ => return None,
    };
    (!s.is_empty()).then_some(s)
}

/// A field that may be one object or an array of them.
pub(crate) fn list<'a>(obj: &'a Value, key: &str) -> Vec<&'a Value> {
    match get(obj, key) {
        Some(Value::Array(a)) => a.iter().collect(),
        Some(v @ Value::Object(_)) => vec![v],
        Some(v @ Value::String(_)) => vec![v],
        _ => Vec::new(),
    }
}
