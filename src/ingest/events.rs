//! What the media server reports, parsed and checked at the edge: field names follow the
//! spec's columns, strings fit their columns, numbers are non-negative, enums are closed.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer};
use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, Type};
use utoipa::openapi::{RefOr, Schema};
use utoipa::{PartialSchema, ToSchema};
use uuid::Uuid;

/// A string that fits a `VARCHAR(MAX)` column (MAX = 0: unbounded TEXT) and that
/// PostgreSQL can store (no NUL characters).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Text<const MAX: usize>(pub String);

impl<'de, const MAX: usize> Deserialize<'de> for Text<MAX> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        if s.contains('\0') {
            return Err(serde::de::Error::custom("must not contain NUL characters"));
        }
        if MAX > 0 && s.chars().count() > MAX {
            return Err(serde::de::Error::custom(format!(
                "must be at most {MAX} characters"
            )));
        }
        Ok(Self(s))
    }
}

impl<const MAX: usize> Text<MAX> {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A non-empty `Text`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Name<const MAX: usize>(pub String);

impl<'de, const MAX: usize> Deserialize<'de> for Name<MAX> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let Text(s) = Text::<MAX>::deserialize(d)?;
        if s.trim().is_empty() {
            return Err(serde::de::Error::custom("must not be empty"));
        }
        Ok(Self(s))
    }
}

/// A count that is zero or more and fits the column (INT or BIGINT).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Count<const BIG: bool>(pub i64);

impl<'de, const BIG: bool> Deserialize<'de> for Count<BIG> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = i64::deserialize(d)?;
        if v < 0 {
            return Err(serde::de::Error::custom("must be zero or more"));
        }
        if !BIG && v > i64::from(i32::MAX) {
            return Err(serde::de::Error::custom(format!(
                "must be at most {}",
                i32::MAX
            )));
        }
        Ok(Self(v))
    }
}

pub type Int = Count<false>;
pub type BigInt = Count<true>;

impl Int {
    pub fn get(self) -> i32 {
        i32::try_from(self.0).unwrap_or(i32::MAX)
    }
}

/// A UUID that is not the nil UUID (a client that forgot to set one).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Id(pub Uuid);

impl<'de> Deserialize<'de> for Id {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        let id = Uuid::parse_str(&s)
            .map_err(|_| serde::de::Error::custom(format!("'{s}' is not a valid UUID")))?;
        if id.is_nil() {
            return Err(serde::de::Error::custom("must not be the nil UUID"));
        }
        Ok(Self(id))
    }
}

/// A timestamp in RFC 3339 form, within reason: not before 2000, not more than a day ahead.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Time(pub DateTime<Utc>);

impl<'de> Deserialize<'de> for Time {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        let t = DateTime::parse_from_rfc3339(&s)
            .map_err(|_| {
                serde::de::Error::custom(format!(
                    "'{s}' is not an RFC 3339 timestamp such as 2026-11-28T20:15:00Z"
                ))
            })?
            .with_timezone(&Utc);
        let floor = DateTime::<Utc>::from_timestamp(946_684_800, 0).unwrap_or_default();
        if t < floor || t > Utc::now() + chrono::Duration::days(1) {
            return Err(serde::de::Error::custom(format!(
                "'{s}' is outside the accepted range (2000 to tomorrow)"
            )));
        }
        Ok(Self(t))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, Default, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PlaybackType {
    #[default]
    DirectPlay,
    DirectStream,
    Transcode,
}

impl PlaybackType {
    pub const ALL: [PlaybackType; 3] = [Self::DirectPlay, Self::DirectStream, Self::Transcode];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::DirectPlay => "direct_play",
            Self::DirectStream => "direct_stream",
            Self::Transcode => "transcode",
        }
    }
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SessionStart {
    pub id: Id,
    pub user_id: Id,
    pub media_item_id: Id,
    #[serde(default)]
    pub playback_type: PlaybackType,
    pub quality: Option<Text<20>>,
    pub codec: Option<Text<50>>,
    pub resolution: Option<Text<20>>,
    pub container: Option<Text<20>>,
    pub client_info: Option<Text<255>>,
    pub started_at: Option<Time>,
}

/// Absolute figures so far; they never move a session's figures backwards.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SessionProgress {
    pub bytes_served: BigInt,
    pub duration_seconds: Int,
    pub reported_at: Option<Time>,
}

#[derive(Debug, Clone, Deserialize, Default, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SessionStop {
    pub bytes_served: Option<BigInt>,
    pub duration_seconds: Option<Int>,
    pub ended_at: Option<Time>,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StreamError {
    pub id: Option<Id>,
    pub session_id: Option<Id>,
    pub user_id: Option<Id>,
    pub media_item_id: Option<Id>,
    pub message: Name<0>,
    pub occurred_at: Option<Time>,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TranscodeStart {
    pub id: Id,
    pub media_item_id: Id,
    pub user_id: Id,
    pub input_codec: Option<Text<50>>,
    pub output_codec: Option<Text<50>>,
    pub input_resolution: Option<Text<20>>,
    pub output_resolution: Option<Text<20>>,
    pub hw_accel: Option<Text<50>>,
    pub quality: Option<Text<20>>,
    pub started_at: Option<Time>,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TranscodeComplete {
    pub success: bool,
    pub error_message: Option<Text<0>>,
    pub duration_seconds: Option<Int>,
    pub file_size_bytes: Option<BigInt>,
    pub completed_at: Option<Time>,
}

/// CineVault's `user_role`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Admin,
    User,
    Guest,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Admin => "admin",
            Self::User => "user",
            Self::Guest => "guest",
        }
    }
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserUpsert {
    pub id: Id,
    pub username: Name<255>,
    /// Default `user`.
    pub role: Option<Role>,
    /// The first release's flag: true means `role: admin` (`role` wins when both are given).
    pub is_admin: Option<bool>,
    pub created_at: Option<Time>,
}

impl UserUpsert {
    pub fn role(&self) -> Role {
        match (self.role, self.is_admin) {
            (Some(r), _) => r,
            (None, Some(true)) => Role::Admin,
            (None, _) => Role::User,
        }
    }
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LibraryUpsert {
    pub id: Id,
    pub name: Name<255>,
    /// What the library holds (CineVault's `media_type`; `library_type` is the first
    /// release's name for it, whose `shows` and `other` mean `tv_shows` and `other_videos`).
    #[serde(alias = "library_type")]
    pub media_type: MediaType,
    pub created_at: Option<Time>,
}

/// CineVault's `media_type` enum, which both libraries and items use (an episode is
/// `tv_shows`). The first release's and other servers' names are accepted for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MediaType {
    #[serde(alias = "movie")]
    Movies,
    #[serde(alias = "shows", alias = "show", alias = "episode", alias = "series")]
    TvShows,
    AdultMovies,
    #[serde(alias = "track", alias = "song", alias = "album")]
    Music,
    #[serde(alias = "music_video")]
    MusicVideos,
    #[serde(alias = "home_video")]
    HomeVideos,
    #[serde(alias = "other", alias = "other_video", alias = "video")]
    OtherVideos,
    #[serde(alias = "image", alias = "photo")]
    Images,
    #[serde(alias = "audiobook")]
    Audiobooks,
}

impl MediaType {
    pub const ALL: [MediaType; 9] = [
        Self::Movies,
        Self::TvShows,
        Self::AdultMovies,
        Self::Music,
        Self::MusicVideos,
        Self::HomeVideos,
        Self::OtherVideos,
        Self::Images,
        Self::Audiobooks,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Movies => "movies",
            Self::TvShows => "tv_shows",
            Self::AdultMovies => "adult_movies",
            Self::Music => "music",
            Self::MusicVideos => "music_videos",
            Self::HomeVideos => "home_videos",
            Self::OtherVideos => "other_videos",
            Self::Images => "images",
            Self::Audiobooks => "audiobooks",
        }
    }

    /// The value by its CineVault name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == s)
    }
}

/// A media item, in CineVault's column names (the first release's names are accepted too).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MediaItemUpsert {
    pub id: Id,
    pub library_id: Option<Id>,
    pub title: Name<500>,
    pub media_type: MediaType,
    pub year: Option<Int>,
    #[serde(alias = "overview")]
    pub description: Option<Text<0>>,
    pub poster_path: Option<Text<0>>,
    /// Genre names; stored as CineVault stores them (`tags` of category `genre`).
    #[serde(default)]
    pub genres: Vec<Name<100>>,
    /// The runtime.
    #[serde(alias = "runtime_seconds")]
    pub duration_seconds: Option<Int>,
    /// The video codec.
    #[serde(alias = "video_codec")]
    pub codec: Option<Text<50>>,
    pub audio_codec: Option<Text<50>>,
    pub resolution: Option<Text<20>>,
    pub hdr_format: Option<Text<100>>,
    pub audio_format: Option<Text<100>>,
    pub container: Option<Text<20>>,
    pub file_path: Option<Text<0>>,
    #[serde(alias = "file_size_bytes")]
    pub file_size: Option<BigInt>,
    #[serde(alias = "created_at")]
    pub added_at: Option<Time>,
}

/// One event of any kind, as the batch endpoint carries it: `{"type": "session_start", ...}`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    SessionStart(SessionStart),
    SessionProgress {
        session_id: Id,
        #[serde(flatten)]
        progress: SessionProgress,
    },
    SessionStop {
        session_id: Id,
        #[serde(flatten)]
        stop: SessionStop,
    },
    StreamError(StreamError),
    TranscodeStart(TranscodeStart),
    TranscodeComplete {
        transcode_id: Id,
        #[serde(flatten)]
        complete: TranscodeComplete,
    },
    User(UserUpsert),
    Library(LibraryUpsert),
    MediaItem(MediaItemUpsert),
}

impl Event {
    /// A user, library or media item upsert.
    pub fn is_catalogue(&self) -> bool {
        matches!(
            self,
            Event::User(_) | Event::Library(_) | Event::MediaItem(_)
        )
    }
}

// OpenAPI schemas of the checked newtypes: what the wire carries, with the limits the
// deserialisers above enforce. Named per limit so that two sizes never share a component.

fn string_schema(min: usize, max: usize, format: Option<KnownFormat>, what: &str) -> RefOr<Schema> {
    let mut b = ObjectBuilder::new()
        .schema_type(Type::String)
        .description(Some(what));
    if min > 0 {
        b = b.min_length(Some(min));
    }
    if max > 0 {
        b = b.max_length(Some(max));
    }
    if let Some(f) = format {
        b = b.format(Some(SchemaFormat::KnownFormat(f)));
    }
    RefOr::T(Schema::Object(b.build()))
}

impl<const MAX: usize> PartialSchema for Text<MAX> {
    fn schema() -> RefOr<Schema> {
        string_schema(0, MAX, None, "Text without NUL characters.")
    }
}

impl<const MAX: usize> ToSchema for Text<MAX> {
    fn name() -> std::borrow::Cow<'static, str> {
        if MAX == 0 {
            "Text".into()
        } else {
            format!("Text{MAX}").into()
        }
    }
}

impl<const MAX: usize> PartialSchema for Name<MAX> {
    fn schema() -> RefOr<Schema> {
        string_schema(1, MAX, None, "Non-blank text without NUL characters.")
    }
}

impl<const MAX: usize> ToSchema for Name<MAX> {
    fn name() -> std::borrow::Cow<'static, str> {
        if MAX == 0 {
            "Name".into()
        } else {
            format!("Name{MAX}").into()
        }
    }
}

impl<const BIG: bool> PartialSchema for Count<BIG> {
    fn schema() -> RefOr<Schema> {
        let (format, max) = if BIG {
            (KnownFormat::Int64, i64::MAX as f64)
        } else {
            (KnownFormat::Int32, f64::from(i32::MAX))
        };
        RefOr::T(Schema::Object(
            ObjectBuilder::new()
                .schema_type(Type::Integer)
                .format(Some(SchemaFormat::KnownFormat(format)))
                .minimum(Some(0))
                .maximum(Some(max))
                .description(Some("A whole number, zero or more."))
                .build(),
        ))
    }
}

impl<const BIG: bool> ToSchema for Count<BIG> {
    fn name() -> std::borrow::Cow<'static, str> {
        if BIG { "BigInt" } else { "Int" }.into()
    }
}

impl PartialSchema for Id {
    fn schema() -> RefOr<Schema> {
        string_schema(
            0,
            0,
            Some(KnownFormat::Uuid),
            "A UUID other than the nil UUID.",
        )
    }
}

impl ToSchema for Id {}

impl PartialSchema for Time {
    fn schema() -> RefOr<Schema> {
        string_schema(
            0,
            0,
            Some(KnownFormat::DateTime),
            "An RFC 3339 timestamp between 2000 and tomorrow.",
        )
    }
}

impl ToSchema for Time {}

pub fn opt_str<const N: usize>(t: &Option<Text<N>>) -> Option<&str> {
    t.as_ref().map(Text::as_str)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::extract::parse_json;

    #[test]
    fn playback_type_outside_the_three_is_refused_naming_the_value() {
        let e = parse_json::<SessionStart>(
            br#"{"id":"7d6a1b9e-8f8e-4c55-9a53-5f8f2b0c9d10","user_id":"7d6a1b9e-8f8e-4c55-9a53-5f8f2b0c9d11",
                "media_item_id":"7d6a1b9e-8f8e-4c55-9a53-5f8f2b0c9d12","playback_type":"stream_copy"}"#,
        )
        .expect_err("unknown type");
        assert_eq!(e.field.as_deref(), Some("playback_type"));
        assert!(e.message.contains("stream_copy"), "{}", e.message);
    }

    #[test]
    fn limits_are_checked_at_the_edge() {
        let base = r#""id":"7d6a1b9e-8f8e-4c55-9a53-5f8f2b0c9d10","user_id":"7d6a1b9e-8f8e-4c55-9a53-5f8f2b0c9d11","media_item_id":"7d6a1b9e-8f8e-4c55-9a53-5f8f2b0c9d12""#;
        for (extra, field) in [
            (r#""quality":"123456789012345678901""#, "quality"),
            (r#""codec":"h\u0000264""#, "codec"),
            (r#""started_at":"2026-02-30T10:00:00Z""#, "started_at"),
            (r#""started_at":"1970-01-01T00:00:00Z""#, "started_at"),
            (r#""surprise":1"#, "surprise"),
        ] {
            let body = format!("{{{base},{extra}}}");
            let e = parse_json::<SessionStart>(body.as_bytes()).expect_err(extra);
            assert_eq!(
                e.field.as_deref().map(|f| f.contains(field) || f == "body"),
                Some(true),
                "{extra}: {:?} {}",
                e.field,
                e.message
            );
        }
        let e = parse_json::<SessionStart>(
            br#"{"id":"00000000-0000-0000-0000-000000000000","user_id":"7d6a1b9e-8f8e-4c55-9a53-5f8f2b0c9d11","media_item_id":"7d6a1b9e-8f8e-4c55-9a53-5f8f2b0c9d12"}"#,
        )
        .expect_err("nil id");
        assert_eq!(e.field.as_deref(), Some("id"));
    }

    #[test]
    fn counts_are_non_negative_and_fit_their_columns() {
        let e = parse_json::<SessionProgress>(br#"{"bytes_served":-1,"duration_seconds":5}"#)
            .expect_err("negative");
        assert_eq!(e.field.as_deref(), Some("bytes_served"));
        let e =
            parse_json::<SessionProgress>(br#"{"bytes_served":1,"duration_seconds":3000000000}"#)
                .expect_err("too big for INT");
        assert_eq!(e.field.as_deref(), Some("duration_seconds"));
        let ok = parse_json::<SessionProgress>(
            br#"{"bytes_served":9000000000000,"duration_seconds":5}"#,
        )
        .expect("BIGINT fits");
        assert_eq!(ok.bytes_served.0, 9_000_000_000_000);
    }

    #[test]
    fn batch_events_are_tagged() {
        let e: Vec<Event> = parse_json(
            br#"[{"type":"session_progress","session_id":"7d6a1b9e-8f8e-4c55-9a53-5f8f2b0c9d10","bytes_served":10,"duration_seconds":2},
                 {"type":"session_stop","session_id":"7d6a1b9e-8f8e-4c55-9a53-5f8f2b0c9d10"}]"#,
        )
        .expect("events");
        assert!(matches!(e[0], Event::SessionProgress { .. }));
        assert!(matches!(e[1], Event::SessionStop { .. }));
        let err = parse_json::<Vec<Event>>(br#"[{"type":"party"}]"#).expect_err("unknown type");
        assert_eq!(err.field.as_deref(), Some("[0].type"));
    }
}
