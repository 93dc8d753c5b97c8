//! Typed reads of a payload's JSON fields, each failure naming the field by its path
//! (`data.first_name`) and never quoting the payload (serde's own messages quote the value).

use serde_json::{Map, Value};

use super::{MalformedPayload, identifier, name, unix_millis};

/// The body as JSON. Nesting is bounded by serde_json's recursion limit (128), so a deep body
/// is refused, never a stack overflow.
pub(super) fn parse(body: &[u8]) -> Result<Value, MalformedPayload> {
    serde_json::from_slice(body).map_err(|err| {
        MalformedPayload::new(format!(
            "the body is not JSON (line {}, column {})",
            err.line(),
            err.column()
        ))
    })
}

/// A JSON object of the payload, and where it sits in it (empty for the top level).
#[derive(Clone)]
pub(super) struct Object<'a> {
    fields: &'a Map<String, Value>,
    path: String,
}

impl<'a> Object<'a> {
    /// The payload's top level, which every source sends as an object.
    pub(super) fn root(value: &'a Value) -> Result<Self, MalformedPayload> {
        let fields = value
            .as_object()
            .ok_or_else(|| MalformedPayload::new("the body is not a JSON object"))?;
        Ok(Self {
            fields,
            path: String::new(),
        })
    }

    /// The path of `key` in the payload, for a reason.
    pub(super) fn path_of(&self, key: &str) -> String {
        if self.path.is_empty() {
            key.to_owned()
        } else {
            format!("{}.{key}", self.path)
        }
    }

    /// The field `key` as a `T`, `None` when it is absent or `null` (how the providers write a
    /// field without a value); of another JSON type, the payload is malformed.
    fn typed<T>(
        &self,
        key: &str,
        expected: &str,
        cast: impl FnOnce(&'a Value) -> Option<T>,
    ) -> Result<Option<T>, MalformedPayload> {
        match self.fields.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(value) => cast(value).map(Some).ok_or_else(|| {
                MalformedPayload::new(format!("`{}` is not {expected}", self.path_of(key)))
            }),
        }
    }

    fn required<T>(&self, key: &str, found: Option<T>) -> Result<T, MalformedPayload> {
        found.ok_or_else(|| MalformedPayload::new(format!("`{}` is missing", self.path_of(key))))
    }

    /// A string field, if present.
    pub(super) fn str(&self, key: &str) -> Result<Option<&'a str>, MalformedPayload> {
        self.typed(key, "a string", Value::as_str)
    }

    /// A string field that must be present.
    pub(super) fn required_str(&self, key: &str) -> Result<&'a str, MalformedPayload> {
        let found = self.str(key)?;
        self.required(key, found)
    }

    /// A boolean field, if present.
    pub(super) fn bool(&self, key: &str) -> Result<Option<bool>, MalformedPayload> {
        self.typed(key, "a boolean", Value::as_bool)
    }

    /// A nested object, if present.
    pub(super) fn object(&self, key: &str) -> Result<Option<Object<'a>>, MalformedPayload> {
        let path = self.path_of(key);
        self.typed(key, "an object", Value::as_object)
            .map(|found| found.map(|fields| Object { fields, path }))
    }

    /// A nested object that must be present.
    pub(super) fn required_object(&self, key: &str) -> Result<Object<'a>, MalformedPayload> {
        let found = self.object(key)?;
        self.required(key, found)
    }

    /// An identifier that must be present (a subject, a session id, a delivery id), checked by
    /// [`identifier`].
    pub(super) fn identifier(&self, key: &str) -> Result<String, MalformedPayload> {
        identifier(self.required_str(key)?, &self.path_of(key))
    }

    /// A display name, normalised by [`name`]; `None` when absent or blank.
    pub(super) fn name(&self, key: &str) -> Result<Option<String>, MalformedPayload> {
        Ok(self.str(key)?.and_then(name))
    }

    /// An avatar URL, kept by [`super::avatar`] only when usable.
    pub(super) fn avatar(&self, key: &str) -> Result<Option<String>, MalformedPayload> {
        Ok(self.str(key)?.and_then(super::avatar))
    }

    /// A time in Unix milliseconds written as a JSON integer (Clerk, the standard event).
    pub(super) fn millis(&self, key: &str) -> Result<Option<u64>, MalformedPayload> {
        self.typed(key, "a whole number of milliseconds", Value::as_u64)?
            .map(|ms| unix_millis(ms, &self.path_of(key)))
            .transpose()
    }

    /// A time written as an RFC 3339 or Postgres timestamp (Auth0, Supabase), in Unix
    /// milliseconds.
    pub(super) fn timestamp(&self, key: &str) -> Result<Option<u64>, MalformedPayload> {
        self.str(key)?
            .map(|text| super::timestamp(text, &self.path_of(key)))
            .transpose()
    }
}
