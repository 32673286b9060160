//! `notification_channels`: the model and its queries.

use anyhow::Context;
use chrono::{DateTime, Utc};
use tokio_postgres::{GenericClient, Row};
use uuid::Uuid;

use super::kinds::{ChannelType, Events};

#[derive(Clone)]
pub struct Channel {
    pub id: Uuid,
    pub name: String,
    /// As stored; see [`Channel::kind`].
    pub channel_type: String,
    pub webhook_url: String,
    pub is_enabled: bool,
    pub events: Events,
    pub signing_secret: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// The URL carries the webhook's secret: `{:?}` shows it masked, and never the signing secret.
impl std::fmt::Debug for Channel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Channel")
            .field("id", &self.id)
            .field("name", &self.name)
            .field("channel_type", &self.channel_type)
            .field("webhook_url", &super::fields::mask_url(&self.webhook_url))
            .field("is_enabled", &self.is_enabled)
            .field("events", &self.events)
            .field("signing_secret_set", &self.signing_secret.is_some())
            .finish()
    }
}

impl Channel {
    pub fn kind(&self) -> Option<ChannelType> {
        ChannelType::parse(&self.channel_type)
    }

    fn from_row(row: &Row) -> Self {
        Self {
            id: row.get("id"),
            name: row.get("name"),
            channel_type: row.get("channel_type"),
            webhook_url: row.get("webhook_url"),
            is_enabled: row.get("is_enabled"),
            events: Events::from_stored(&row.get::<_, serde_json::Value>("events")),
            signing_secret: row.get("signing_secret"),
            created_at: row.get("created_at"),
            updated_at: row.get("updated_at"),
        }
    }
}

/// A channel to create.
pub struct NewChannel {
    pub name: String,
    pub channel_type: ChannelType,
    pub webhook_url: String,
    pub is_enabled: bool,
    pub events: Events,
    pub signing_secret: Option<String>,
}

const COLUMNS: &str = "id, name, channel_type, webhook_url, is_enabled, events, signing_secret, \
                       created_at, updated_at";

pub async fn list(client: &impl GenericClient) -> anyhow::Result<Vec<Channel>> {
    let rows = client
        .query(
            &format!("SELECT {COLUMNS} FROM notification_channels ORDER BY created_at, id"),
            &[],
        )
        .await
        .context("listing notification channels")?;
    Ok(rows.iter().map(Channel::from_row).collect())
}

pub async fn get(client: &impl GenericClient, id: Uuid) -> anyhow::Result<Option<Channel>> {
    let row = client
        .query_opt(
            &format!("SELECT {COLUMNS} FROM notification_channels WHERE id = $1"),
            &[&id],
        )
        .await
        .context("reading a notification channel")?;
    Ok(row.as_ref().map(Channel::from_row))
}

/// The channel, locked until the transaction ends (a partial update reads, then writes).
pub async fn get_for_update(
    client: &impl GenericClient,
    id: Uuid,
) -> anyhow::Result<Option<Channel>> {
    let row = client
        .query_opt(
            &format!("SELECT {COLUMNS} FROM notification_channels WHERE id = $1 FOR UPDATE"),
            &[&id],
        )
        .await
        .context("reading a notification channel")?;
    Ok(row.as_ref().map(Channel::from_row))
}

pub async fn insert(client: &impl GenericClient, new: &NewChannel) -> anyhow::Result<Channel> {
    let row = client
        .query_one(
            &format!(
                "INSERT INTO notification_channels
                     (name, channel_type, webhook_url, is_enabled, events, signing_secret)
                 VALUES ($1, $2, $3, $4, $5, $6) RETURNING {COLUMNS}"
            ),
            &[
                &new.name,
                &new.channel_type.as_str(),
                &new.webhook_url,
                &new.is_enabled,
                &new.events.to_json(),
                &new.signing_secret,
            ],
        )
        .await
        .context("creating a notification channel")?;
    Ok(Channel::from_row(&row))
}

/// Writes every editable column of `c` back.
pub async fn save(client: &impl GenericClient, c: &Channel) -> anyhow::Result<Channel> {
    let row = client
        .query_one(
            &format!(
                "UPDATE notification_channels SET name = $2, channel_type = $3, webhook_url = $4,
                     is_enabled = $5, events = $6, signing_secret = $7, updated_at = now()
                 WHERE id = $1 RETURNING {COLUMNS}"
            ),
            &[
                &c.id,
                &c.name,
                &c.channel_type,
                &c.webhook_url,
                &c.is_enabled,
                &c.events.to_json(),
                &c.signing_secret,
            ],
        )
        .await
        .context("updating a notification channel")?;
    Ok(Channel::from_row(&row))
}

pub enum Deleted {
    Yes,
    NotFound,
    /// Rules still send to it (their names): nothing was deleted.
    InUse(Vec<String>),
}

/// Deletes the channel unless rules use it. The channel's row is locked first, so a rule
/// created at the same moment (its foreign-key check locks the row too) either comes before
/// the check and keeps the channel, or waits and then finds it gone: the key's ON DELETE
/// CASCADE (CineVault's own rule) never takes a rule with it.
pub async fn delete(client: &mut tokio_postgres::Client, id: Uuid) -> anyhow::Result<Deleted> {
    let tx = client
        .transaction()
        .await
        .context("starting a transaction")?;
    let found = tx
        .query_opt(
            "SELECT id FROM notification_channels WHERE id = $1 FOR UPDATE",
            &[&id],
        )
        .await
        .context("locking a notification channel")?;
    if found.is_none() {
        return Ok(Deleted::NotFound);
    }
    let names: Vec<String> = tx
        .query(
            "SELECT name FROM alert_rules WHERE channel_id = $1 ORDER BY name, id",
            &[&id],
        )
        .await
        .context("listing the rules that use a channel")?
        .iter()
        .map(|r| r.get(0))
        .collect();
    if !names.is_empty() {
        return Ok(Deleted::InUse(names));
    }
    tx.execute("DELETE FROM notification_channels WHERE id = $1", &[&id])
        .await
        .context("deleting a notification channel")?;
    tx.commit().await.context("committing the deletion")?;
    Ok(Deleted::Yes)
}
