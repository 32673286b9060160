//! Webhook bodies that come as forms: Plex posts `multipart/form-data` with the JSON in a
//! `payload` part (and sometimes a thumbnail part beside it); Emby 4.8 posts its JSON as the
//! form field `data` (multipart or URL-encoded). Jellyfin's plugin posts the JSON itself,
//! labelled `text/plain` unless the admin sets a Content-Type.

use bytes::Bytes;

use super::model::BadWebhook;

/// Most parts read from one multipart body (a Plex body has two).
const MAX_PARTS: usize = 16;

/// The value of form field `name` in a multipart or URL-encoded body; `Ok(None)` when the
/// body is not a form or has no such field.
pub async fn form_field(
    content_type: Option<&str>,
    body: &Bytes,
    name: &str,
) -> Result<Option<Bytes>, BadWebhook> {
    let Some(ct) = content_type else {
        return Ok(None);
    };
    let essence = ct
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    match essence.as_str() {
        "multipart/form-data" => {
            let boundary = multer::parse_boundary(ct).map_err(|_| {
                BadWebhook::new("Content-Type", "multipart/form-data without a boundary")
            })?;
            let stream = futures_util::stream::once({
                let body = body.clone();
                async move { Ok::<Bytes, std::io::Error>(body) }
            });
            let mut form = multer::Multipart::new(stream, boundary);
            let mut parts = 0;
            loop {
                let field = form.next_field().await.map_err(|e| {
                    BadWebhook::new("body", format!("malformed multipart body: {e}"))
                })?;
                let Some(field) = field else {
                    return Ok(None);
                };
                parts += 1;
                if parts > MAX_PARTS {
                    return Err(BadWebhook::new("body", "too many multipart parts"));
                }
                if field.name() == Some(name) {
                    let value = field.bytes().await.map_err(|e| {
                        BadWebhook::new(name, format!("malformed multipart part: {e}"))
                    })?;
                    return Ok(Some(value));
                }
            }
        }
        "application/x-www-form-urlencoded" => Ok(form_urlencoded::parse(body)
            .find(|(k, _)| k == name)
            .map(|(_, v)| Bytes::from(v.into_owned()))),
        _ => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn multipart_and_urlencoded_fields_are_found() {
        let body = Bytes::from_static(
            b"--XyZ\r\nContent-Disposition: form-data; name=\"payload\"\r\n\r\n{\"event\":\"media.play\"}\r\n\
              --XyZ\r\nContent-Disposition: form-data; name=\"thumb\"; filename=\"t.jpg\"\r\nContent-Type: image/jpeg\r\n\r\n\xff\xd8\xff\r\n--XyZ--\r\n",
        );
        let got = form_field(Some("multipart/form-data; boundary=XyZ"), &body, "payload")
            .await
            .expect("parses");
        assert_eq!(got.as_deref(), Some(&b"{\"event\":\"media.play\"}"[..]));
        let none = form_field(Some("multipart/form-data; boundary=XyZ"), &body, "data")
            .await
            .expect("parses");
        assert_eq!(none, None);
        let enc = Bytes::from_static(b"data=%7B%22Event%22%3A%22playback.start%22%7D&x=1");
        let got = form_field(Some("application/x-www-form-urlencoded"), &enc, "data")
            .await
            .expect("parses");
        assert_eq!(got.as_deref(), Some(&b"{\"Event\":\"playback.start\"}"[..]));
        let bad = form_field(Some("multipart/form-data"), &body, "payload").await;
        assert_eq!(bad.expect_err("no boundary").field, "Content-Type");
        let broken = Bytes::from_static(
            b"--XyZ\r\nContent-Disposition: form-data; name=\"payload\"\r\n\r\n{\"ev",
        );
        assert!(form_field(
            Some("multipart/form-data; boundary=XyZ"),
            &broken,
            "payload"
        )
        .await
        .is_err());
    }
}
