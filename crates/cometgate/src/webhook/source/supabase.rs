//! Supabase Database Webhooks: `{"type": "INSERT" | "UPDATE" | "DELETE", "table", "schema",
//! "record", "old_record"}`, from the one table the source is configured for
//! ([`SupabaseTable`]).
//!
//! | `type` | read from | parsed as |
//! |---|---|---|
//! | `INSERT` | `record` | [`UserChange::Created`], time from the `updated_at` column |
//! | `UPDATE` | `record` | [`UserChange::Updated`], time from the `updated_at` column |
//! | `DELETE` | `old_record` | [`UserChange::Deleted`], no time (`old_record`'s `updated_at` is the last update, not the deletion) |
//! | anything else | | [`Delivery::Ignored`] |
//!
//! A payload from another schema or table than the configured one is malformed: the webhook
//! is set up on the wrong table, or the source is configured for another one.
//! Database Webhooks carry no delivery id, so [`Parsed::delivery_id`] is `None`.
//!
//! [`UserChange::Created`]: crate::webhook::UserChange::Created
//! [`UserChange::Updated`]: crate::webhook::UserChange::Updated
//! [`UserChange::Deleted`]: crate::webhook::UserChange::Deleted

use std::fmt;

use super::json::{self, Object};
use super::{deletion, parsed, upsert};
use crate::webhook::{Delivery, MalformedPayload, Parsed, Profile, UserChange};

/// A column of the table, or a key inside a JSON column (`raw_user_meta_data.full_name`).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Column {
    /// The column, then the keys inside it.
    path: Vec<String>,
}

impl Column {
    fn new(path: &[&str]) -> Self {
        Self {
            path: path.iter().map(|&key| key.to_owned()).collect(),
        }
    }

    fn named(column: impl Into<String>) -> Self {
        Self {
            path: vec![column.into()],
        }
    }

    /// The object of `row` holding this column's value and the key of the value in it;
    /// `None` when a JSON column on the way is absent or `null`.
    fn locate<'a, 'r>(
        &'a self,
        row: &Object<'r>,
    ) -> Result<Option<(Object<'r>, &'a str)>, MalformedPayload> {
        let Some((key, parents)) = self.path.split_last() else {
            return Ok(None);
        };
        let mut holder = row.clone();
        for parent in parents {
            match holder.object(parent)? {
                Some(inner) => holder = inner,
                None => return Ok(None),
            }
        }
        Ok(Some((holder, key)))
    }
}

/// Which table the Supabase source receives Database Webhooks from, and which of its columns
/// hold the user's id, name, avatar and last update. The default is [`SupabaseTable::auth_users`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SupabaseTable {
    schema: String,
    table: String,
    id: Column,
    /// Tried in order: the first that holds a name gives it.
    names: Vec<Column>,
    avatar: Option<Column>,
    updated_at: Option<Column>,
}

impl SupabaseTable {
    /// Supabase Auth's own `auth.users`: the id in `id`, the name in
    /// `raw_user_meta_data.full_name` else `raw_user_meta_data.name`, the avatar in
    /// `raw_user_meta_data.avatar_url` (where Supabase's OAuth providers put them), the time
    /// in `updated_at`.
    ///
    /// ```
    /// use cometgate::webhook::source::SupabaseTable;
    /// assert_eq!(SupabaseTable::auth_users(), SupabaseTable::default());
    /// assert_eq!(SupabaseTable::auth_users().to_string(), "auth.users");
    /// ```
    pub fn auth_users() -> Self {
        Self {
            schema: "auth".to_owned(),
            table: "users".to_owned(),
            id: Column::named("id"),
            names: vec![
                Column::new(&["raw_user_meta_data", "full_name"]),
                Column::new(&["raw_user_meta_data", "name"]),
            ],
            avatar: Some(Column::new(&["raw_user_meta_data", "avatar_url"])),
            updated_at: Some(Column::named("updated_at")),
        }
    }

    /// An app's own profiles table `schema.table`, with the columns of Supabase's user
    /// management starter: `id` (the `auth.users` id it references), `full_name`,
    /// `avatar_url`, `updated_at`. Change them with the `with_*` methods.
    ///
    /// ```
    /// use cometgate::webhook::source::SupabaseTable;
    /// let table = SupabaseTable::profiles("public", "members")
    ///     .with_id_column("user_id")
    ///     .with_name_column(Some("display_name"))
    ///     .with_avatar_column(None::<String>);
    /// assert_eq!(table.to_string(), "public.members");
    /// ```
    pub fn profiles(schema: impl Into<String>, table: impl Into<String>) -> Self {
        Self {
            schema: schema.into(),
            table: table.into(),
            id: Column::named("id"),
            names: vec![Column::named("full_name")],
            avatar: Some(Column::named("avatar_url")),
            updated_at: Some(Column::named("updated_at")),
        }
    }

    /// `public.profiles` with the starter's columns: [`SupabaseTable::profiles`]`("public", "profiles")`.
    ///
    /// ```
    /// use cometgate::webhook::source::SupabaseTable;
    /// assert_eq!(SupabaseTable::public_profiles().to_string(), "public.profiles");
    /// ```
    pub fn public_profiles() -> Self {
        Self::profiles("public", "profiles")
    }

    /// The column holding the user's id (the subject of their session tokens).
    pub fn with_id_column(mut self, column: impl Into<String>) -> Self {
        self.id = Column::named(column);
        self
    }

    /// The column holding the display name; `None`: the table has none.
    pub fn with_name_column(mut self, column: Option<impl Into<String>>) -> Self {
        self.names = column.map(Column::named).into_iter().collect();
        self
    }

    /// The column holding the avatar URL; `None`: the table has none.
    pub fn with_avatar_column(mut self, column: Option<impl Into<String>>) -> Self {
        self.avatar = column.map(Column::named);
        self
    }

    /// The column holding the time of the row's last change (a `timestamptz`); `None`: the
    /// table has none, and events are ordered by their time of receipt.
    pub fn with_updated_at_column(mut self, column: Option<impl Into<String>>) -> Self {
        self.updated_at = column.map(Column::named);
        self
    }

    /// The schema, e.g. `auth`.
    pub fn schema(&self) -> &str {
        &self.schema
    }

    /// The table, e.g. `users`.
    pub fn table(&self) -> &str {
        &self.table
    }

    /// The user `row` describes (a `record` or `old_record`).
    fn subject(&self, row: &Object<'_>) -> Result<String, MalformedPayload> {
        match self.id.locate(row)? {
            Some((holder, key)) => holder.identifier(key),
            None => Err(MalformedPayload::new(format!(
                "`{}` is missing",
                row.path_of(&self.id.path.join("."))
            ))),
        }
    }

    /// The profile in `row`.
    fn profile(&self, row: &Object<'_>) -> Result<Profile, MalformedPayload> {
        let mut name = None;
        for column in &self.names {
            // Every candidate is read, so a wrongly typed one is refused even after a name.
            let found = match column.locate(row)? {
                Some((holder, key)) => holder.name(key)?,
                None => None,
            };
            name = name.or(found);
        }
        let avatar = match self.avatar.as_ref().map(|c| c.locate(row)).transpose()? {
            Some(Some((holder, key))) => holder.avatar(key)?,
            _ => None,
        };
        Ok(Profile { name, avatar })
    }

    /// When `row` last changed.
    fn updated_at(&self, row: &Object<'_>) -> Result<Option<u64>, MalformedPayload> {
        match self
            .updated_at
            .as_ref()
            .map(|c| c.locate(row))
            .transpose()?
        {
            Some(Some((holder, key))) => holder.timestamp(key),
            _ => Ok(None),
        }
    }
}

impl Default for SupabaseTable {
    fn default() -> Self {
        Self::auth_users()
    }
}

impl fmt::Display for SupabaseTable {
    /// `schema.table`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.schema, self.table)
    }
}

/// Parses a Database Webhook body (already authenticated) from `table` into what it asks for.
///
/// ```
/// use cometgate::webhook::{Delivery, UserChange, source::{self, SupabaseTable}};
///
/// let body = br#"{"type": "UPDATE", "schema": "public", "table": "profiles",
///     "record": {"id": "8d2c6a4e-3f1b-4c7d-9e2a-5b6f7c8d9e0f", "full_name": "Ada King",
///                "avatar_url": null, "updated_at": "2024-06-01 09:15:30.25+00"},
///     "old_record": {"id": "8d2c6a4e-3f1b-4c7d-9e2a-5b6f7c8d9e0f", "full_name": "Ada"}}"#;
/// let parsed = source::supabase::parse(body, &SupabaseTable::public_profiles())?;
/// let Delivery::User(event) = parsed.delivery else { panic!("a user event") };
/// assert_eq!(event.change, UserChange::Updated);
/// assert_eq!(event.subject, "8d2c6a4e-3f1b-4c7d-9e2a-5b6f7c8d9e0f");
/// assert_eq!(event.profile.name.as_deref(), Some("Ada King"));
/// assert_eq!(event.occurred_at, Some(1717233330250));
///
/// // The same payload, to a source configured for auth.users.
/// let err = source::supabase::parse(body, &SupabaseTable::auth_users()).unwrap_err();
/// assert!(err.reason().contains("auth.users"));
/// # Ok::<(), cometgate::webhook::MalformedPayload>(())
/// ```
///
/// # Errors
/// [`MalformedPayload`] when the body is not such a webhook, or comes from another table.
pub fn parse(body: &[u8], table: &SupabaseTable) -> Result<Parsed, MalformedPayload> {
    let value = json::parse(body)?;
    let event = Object::root(&value)?;
    let kind = event.required_str("type")?;
    let schema = event.required_str("schema")?;
    let name = event.required_str("table")?;
    if schema != table.schema || name != table.table {
        // Not naming the payload's table: a reason never quotes the payload.
        return Err(MalformedPayload::new(format!(
            "the webhook is not from the configured table `{table}`"
        )));
    }
    let delivery = match kind {
        "INSERT" => row_upsert(
            UserChange::Created,
            &event.required_object("record")?,
            table,
        )?,
        "UPDATE" => row_upsert(
            UserChange::Updated,
            &event.required_object("record")?,
            table,
        )?,
        "DELETE" => deletion(table.subject(&event.required_object("old_record")?)?, None),
        _ => Delivery::Ignored,
    };
    Ok(parsed(delivery, kind, None))
}

/// An inserted or updated `record`.
fn row_upsert(
    change: UserChange,
    record: &Object<'_>,
    table: &SupabaseTable,
) -> Result<Delivery, MalformedPayload> {
    Ok(upsert(
        change,
        table.subject(record)?,
        table.profile(record)?,
        table.updated_at(record)?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::webhook::source::testing::{edited, expected, fixture, user_event};
    use serde_json::{Value, json};

    const AUTH_INSERT: &str = include_str!("testdata/supabase_auth_users_insert.json");
    const PROFILES_UPDATE: &str = include_str!("testdata/supabase_profiles_update.json");
    const USER: &str = "8d2c6a4e-3f1b-4c7d-9e2a-5b6f7c8d9e0f";

    fn parse_value(value: &Value, table: &SupabaseTable) -> Result<Parsed, MalformedPayload> {
        parse(value.to_string().as_bytes(), table)
    }

    fn auth_insert_with(edit: impl FnOnce(&mut Value)) -> Value {
        edited(AUTH_INSERT, "/record", edit)
    }

    #[test]
    fn an_auth_users_insert_is_a_created_user() {
        let parsed = parse(AUTH_INSERT.as_bytes(), &SupabaseTable::default()).unwrap();
        assert_eq!(parsed.event_type, "INSERT");
        assert_eq!(parsed.delivery_id, None);
        assert_eq!(
            user_event(parsed),
            expected(
                UserChange::Created,
                USER,
                Some("Ada Lovelace"),
                Some("https://lh3.googleusercontent.com/a/ACg8ocK"),
                // 2024-05-28T08:00:00.654321+00:00
                Some(1_716_883_200_654)
            )
        );
    }

    #[test]
    fn auth_users_names_fall_back_from_full_name_to_name() {
        for (meta, expected) in [
            (json!({"name": "Ada L."}), Some("Ada L.")),
            (json!({"full_name": "  ", "name": "Ada L."}), Some("Ada L.")),
            (json!({"full_name": null, "name": "Ada L."}), Some("Ada L.")),
            (
                json!({"full_name": "Ada Lovelace", "name": "Ada L."}),
                Some("Ada Lovelace"),
            ),
            (json!({}), None),
            (json!(null), None),
        ] {
            let event = auth_insert_with(|record| record["raw_user_meta_data"] = meta.clone());
            let event = user_event(parse_value(&event, &SupabaseTable::default()).unwrap());
            assert_eq!(event.profile.name.as_deref(), expected, "{meta}");
        }
        let event = auth_insert_with(|record| {
            record.as_object_mut().unwrap().remove("raw_user_meta_data");
        });
        let event = user_event(parse_value(&event, &SupabaseTable::default()).unwrap());
        assert_eq!(event.profile, Profile::default());
    }

    #[test]
    fn an_update_and_a_delete_of_auth_users() {
        let mut update = fixture(AUTH_INSERT);
        update["type"] = json!("UPDATE");
        update["old_record"] = update["record"].clone();
        let parsed = parse_value(&update, &SupabaseTable::default()).unwrap();
        assert_eq!(parsed.event_type, "UPDATE");
        assert_eq!(user_event(parsed).change, UserChange::Updated);

        let mut delete = fixture(AUTH_INSERT);
        delete["type"] = json!("DELETE");
        delete["old_record"] = delete["record"].take();
        let parsed = parse_value(&delete, &SupabaseTable::default()).unwrap();
        assert_eq!(parsed.event_type, "DELETE");
        assert_eq!(
            user_event(parsed),
            expected(UserChange::Deleted, USER, None, None, None)
        );
    }

    #[test]
    fn a_delete_reads_old_record_not_record() {
        let event = json!({"type": "DELETE", "schema": "auth", "table": "users",
            "record": null, "old_record": {"id": USER}});
        assert_eq!(
            user_event(parse_value(&event, &SupabaseTable::default()).unwrap()).subject,
            USER
        );
        let event = json!({"type": "DELETE", "schema": "auth", "table": "users",
            "record": {"id": "someone-else"}, "old_record": null});
        assert_eq!(
            parse_value(&event, &SupabaseTable::default())
                .unwrap_err()
                .reason(),
            "`old_record` is missing"
        );
    }

    #[test]
    fn a_profiles_table_update_with_the_starter_columns() {
        let parsed = parse(
            PROFILES_UPDATE.as_bytes(),
            &SupabaseTable::public_profiles(),
        )
        .unwrap();
        assert_eq!(
            user_event(parsed),
            expected(
                UserChange::Updated,
                USER,
                Some("Ada King"),
                Some("https://xyzcompany.supabase.co/storage/v1/object/public/avatars/ada.png"),
                // 2024-06-01 09:15:30.25+00
                Some(1_717_233_330_250)
            )
        );
    }

    #[test]
    fn a_profiles_table_with_its_own_column_names() {
        let table = SupabaseTable::profiles("app", "members")
            .with_id_column("user_id")
            .with_name_column(Some("display_name"))
            .with_avatar_column(Some("photo"))
            .with_updated_at_column(Some("modified"));
        let event = json!({"type": "INSERT", "schema": "app", "table": "members",
            "record": {"id": 17, "user_id": USER, "display_name": "Ada", "full_name": "not read",
                       "photo": "https://example.com/a.png", "modified": "2024-01-01T12:00:00Z"},
            "old_record": null});
        assert_eq!(
            user_event(parse_value(&event, &table).unwrap()),
            expected(
                UserChange::Created,
                USER,
                Some("Ada"),
                Some("https://example.com/a.png"),
                Some(1_704_110_400_000)
            )
        );
        let bare = table
            .with_name_column(None::<&str>)
            .with_avatar_column(None::<&str>)
            .with_updated_at_column(None::<&str>);
        let event = user_event(parse_value(&event, &bare).unwrap());
        assert_eq!(event.profile, Profile::default());
        assert_eq!(event.occurred_at, None);
    }

    #[test]
    fn a_webhook_from_another_table_is_malformed_and_says_which_is_configured() {
        let cases = [
            (
                fixture(PROFILES_UPDATE),
                SupabaseTable::auth_users(),
                "auth.users",
            ),
            (
                fixture(AUTH_INSERT),
                SupabaseTable::public_profiles(),
                "public.profiles",
            ),
        ];
        for (event, table, configured) in cases {
            let err = parse_value(&event, &table).unwrap_err();
            assert_eq!(
                err.reason(),
                format!("the webhook is not from the configured table `{configured}`")
            );
        }
        // Same table name in another schema, and the other way round.
        for (schema, name) in [("public", "users"), ("auth", "profiles"), ("AUTH", "users")] {
            let mut event = fixture(AUTH_INSERT);
            event["schema"] = json!(schema);
            event["table"] = json!(name);
            let err = parse_value(&event, &SupabaseTable::auth_users()).unwrap_err();
            assert!(!err.reason().contains(&format!("{schema}.{name}")), "{err}");
            assert!(err.reason().contains("auth.users"));
        }
    }

    #[test]
    fn other_types_are_ignored() {
        let mut event = fixture(AUTH_INSERT);
        event["type"] = json!("TRUNCATE");
        event["record"] = json!(null);
        let parsed = parse_value(&event, &SupabaseTable::default()).unwrap();
        assert_eq!(parsed.delivery, Delivery::Ignored);
        assert_eq!(parsed.event_type, "TRUNCATE");
    }

    #[test]
    fn postgres_timestamp_forms_are_read() {
        for (text, ms) in [
            ("2024-01-01T12:00:00.123456+00:00", 1_704_110_400_123),
            ("2024-01-01 12:00:00.123456+00", 1_704_110_400_123),
            ("2024-01-01T12:00:00Z", 1_704_110_400_000),
        ] {
            let event = auth_insert_with(|record| record["updated_at"] = json!(text));
            let event = user_event(parse_value(&event, &SupabaseTable::default()).unwrap());
            assert_eq!(event.occurred_at, Some(ms), "{text}");
        }
    }

    #[test]
    fn wrong_shapes_are_malformed() {
        let cases = [
            (
                auth_insert_with(|record| record["id"] = json!(null)),
                "`record.id` is missing",
            ),
            (
                auth_insert_with(|record| record["id"] = json!(5)),
                "`record.id` is not a string",
            ),
            (
                auth_insert_with(|record| record["updated_at"] = json!("yesterday")),
                "`record.updated_at` is not an RFC 3339 or Postgres timestamp",
            ),
            (
                auth_insert_with(|record| record["updated_at"] = json!(1_716_883_200)),
                "`record.updated_at` is not a string",
            ),
            (
                auth_insert_with(|record| record["raw_user_meta_data"] = json!("{}")),
                "`record.raw_user_meta_data` is not an object",
            ),
            (
                auth_insert_with(|record| record["raw_user_meta_data"]["full_name"] = json!(1)),
                "`record.raw_user_meta_data.full_name` is not a string",
            ),
            (
                auth_insert_with(|record| *record = json!([])),
                "`record` is not an object",
            ),
            (
                json!({"type": "INSERT", "table": "users", "record": {}}),
                "`schema` is missing",
            ),
            (
                json!({"type": "INSERT", "schema": "auth", "record": {}}),
                "`table` is missing",
            ),
        ];
        for (event, reason) in cases {
            let err = parse_value(&event, &SupabaseTable::default()).unwrap_err();
            assert_eq!(err.reason(), reason, "{event}");
        }
        let table = SupabaseTable::public_profiles().with_id_column("user_id");
        let err = parse(PROFILES_UPDATE.as_bytes(), &table).unwrap_err();
        assert_eq!(err.reason(), "`record.user_id` is missing");
    }
}
