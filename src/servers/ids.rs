//! Every media server's ids as stable UUIDs: version 5 (SHA-1, RFC 9562) of the native id
//! in a namespace of the server's own id. Two servers never collide, even when both number
//! their items 1, 2, 3 (two Plex servers do); a restart, a re-sync or a webhook gives the
//! same UUID for the same thing every time.

use uuid::Uuid;

use super::model::{PlayKey, ServerKind};

/// The namespace of all the sidecar's media-server UUIDs: v5 of this name in the URL
/// namespace, fixed forever (changing it would change every id).
fn root() -> Uuid {
    Uuid::new_v5(
        &Uuid::NAMESPACE_URL,
        b"https://github.com/JustinTDCT/CineVault#cinevault-analytics/media-servers",
    )
}

/// The ids of one server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ids {
    namespace: Uuid,
}

impl Ids {
    /// `server_id` is the server's own id (Jellyfin/Emby `Id`, Plex `machineIdentifier`),
    /// compared without case or dashes, as Jellyfin writes the same GUID both ways.
    pub fn new(kind: ServerKind, server_id: &str) -> Self {
        let id = normalise(server_id);
        Self {
            namespace: Uuid::new_v5(&root(), format!("{}:{id}", kind.as_str()).as_bytes()),
        }
    }

    fn make(&self, what: &str, native: &str) -> Uuid {
        Uuid::new_v5(
            &self.namespace,
            format!("{what}:{}", normalise(native)).as_bytes(),
        )
    }

    pub fn user(&self, native: &str) -> Uuid {
        self.make("user", native)
    }

    pub fn library(&self, native: &str) -> Uuid {
        self.make("library", native)
    }

    pub fn item(&self, native: &str) -> Uuid {
        self.make("item", native)
    }

    /// A play: its key and the moment the sidecar first saw it (milliseconds), so a second
    /// play of the same item on the same device is a new id.
    pub fn play(&self, key: &PlayKey, started_ms: i64) -> Uuid {
        Uuid::new_v5(
            &self.namespace,
            format!("play:{}:{started_ms}", key.to_key_string()).as_bytes(),
        )
    }

    /// The `n`th transcode of a play (n from 1).
    pub fn transcode(&self, play: Uuid, n: u32) -> Uuid {
        Uuid::new_v5(&self.namespace, format!("transcode:{play}:{n}").as_bytes())
    }

    /// A stream error of a play (its n-th, from 1).
    pub fn stream_error(&self, play: Uuid, n: u32) -> Uuid {
        Uuid::new_v5(&self.namespace, format!("error:{play}:{n}").as_bytes())
    }
}

/// GUIDs lower-cased without dashes or braces; anything else as it is (trimmed).
fn normalise(id: &str) -> String {
    let t = id.trim();
    let bare: String = t
        .chars()
        .filter(|c| !matches!(c, '-' | '{' | '}'))
        .collect();
    if bare.len() == 32 && bare.chars().all(|c| c.is_ascii_hexdigit()) {
        bare.to_ascii_lowercase()
    } else {
        t.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_native_ids_on_two_servers_never_collide() {
        let a = Ids::new(ServerKind::Plex, "abc123");
        let b = Ids::new(ServerKind::Plex, "def456");
        assert_ne!(a.item("1"), b.item("1"));
        assert_ne!(a.item("1"), a.user("1"));
        assert_eq!(a.item("1"), Ids::new(ServerKind::Plex, "abc123").item("1"));
        assert_eq!(a.item("1").get_version_num(), 5);
    }

    #[test]
    fn jellyfin_guids_match_with_or_without_dashes() {
        let ids = Ids::new(ServerKind::Jellyfin, "F4C3E9A1B2C34D5E8F90A1B2C3D4E5F6");
        assert_eq!(
            ids,
            Ids::new(ServerKind::Jellyfin, "f4c3e9a1-b2c3-4d5e-8f90-a1b2c3d4e5f6")
        );
        assert_eq!(
            ids.item("0123456789abcdef0123456789abcdef"),
            ids.item("01234567-89AB-CDEF-0123-456789ABCDEF")
        );
        // A kind is part of the namespace: an Emby and a Jellyfin with one id stay apart.
        assert_ne!(
            ids.item("1"),
            Ids::new(ServerKind::Emby, "F4C3E9A1B2C34D5E8F90A1B2C3D4E5F6").item("1")
        );
    }
}
