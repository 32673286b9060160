//! Three sidecars on one database, as on two media nodes (node-a runs two replicas,
//! node-b one), all evaluating every second: each host's alert is delivered exactly once
//! per cooldown, yesterday is rolled up into one correct row, and each host's metrics stay
//! its own in the database, the API and /metrics.

use std::time::Duration;

use serde_json::Value;
use uuid::Uuid;

use super::eventually;
use crate::alerts::receiver::Receiver;
use crate::alerts::{evaluations, log_of};
use crate::common::{test_config, TestApp, TestDb};
use crate::ingest::metric;

async fn replica(db: &TestDb, host: &str) -> TestApp {
    let mut config = test_config(
        &db.url,
        &[
            "--collect-interval",
            "1s",
            "--alert-interval",
            "1s",
            "--webhook-allow-loopback",
            "--gpu",
            "off",
        ],
    );
    config.host_name = Some(host.to_owned());
    TestApp::spawn(config).await
}

#[tokio::test]
async fn three_replicas_alert_once_roll_up_once_and_keep_hosts_apart() {
    let db = TestDb::migrated().await;
    let c = db.client().await;
    // Five plays yesterday (Berlin, the test zone), before any replica starts.
    let (user, item) = (Uuid::new_v4(), Uuid::new_v4());
    c.execute(
        "INSERT INTO users (id, username) VALUES ($1, 'replica-user')",
        &[&user],
    )
    .await
    .expect("user");
    c.execute(
        "INSERT INTO media_items (id, title, media_type) VALUES ($1, 'Replica', 'movies')",
        &[&item],
    )
    .await
    .expect("item");
    c.execute(
        "INSERT INTO stream_sessions (user_id, media_item_id, duration_seconds, started_at, is_active)
         SELECT $1, $2, 600, (date_trunc('day', now() AT TIME ZONE 'Europe/Berlin')
                              - interval '12 hours' + g * interval '1 minute') AT TIME ZONE 'Europe/Berlin',
                false
         FROM generate_series(1, 5) g",
        &[&user, &item],
    )
    .await
    .expect("sessions");
    let rx = Receiver::start().await;
    let ch: Uuid = c
        .query_one(
            "INSERT INTO notification_channels (name, channel_type, webhook_url)
             VALUES ('ops', 'generic', $1) RETURNING id",
            &[&rx.url("/hook")],
        )
        .await
        .expect("channel")
        .get(0);
    // Fires for every host with a fresh reading (no disk is that large), hourly.
    let rule: Uuid = c
        .query_one(
            "INSERT INTO alert_rules (name, condition_type, threshold, cooldown_minutes, channel_id)
             VALUES ('Low disk', 'disk_space_low', 1e30, 60, $1) RETURNING id",
            &[&ch],
        )
        .await
        .expect("rule")
        .get(0);

    let (a1, b, a2) = tokio::join!(
        replica(&db, "node-a"),
        replica(&db, "node-b"),
        replica(&db, "node-a")
    );
    let replicas = [&a1, &b, &a2];
    // Both hosts alerted, then many more evaluations on every replica.
    rx.wait_for(2, Duration::from_secs(30), |_| true).await;
    let mut done = Vec::new();
    for app in replicas {
        done.push(evaluations(app, "evaluated").await);
    }
    for (app, before) in replicas.iter().zip(done) {
        eventually("five more evaluations", Duration::from_secs(30), || async {
            evaluations(app, "evaluated").await >= before + 5.0
        })
        .await;
    }
    let mut hosts: Vec<String> = rx
        .hits()
        .iter()
        .map(|h| h.json()["message"].as_str().unwrap_or_default().to_owned())
        .collect();
    hosts.sort();
    assert_eq!(hosts.len(), 2, "one alert per host per cooldown: {hosts:?}");
    assert!(
        hosts[0].contains("on node-a") && hosts[1].contains("on node-b"),
        "{hosts:?}"
    );
    let log = log_of(&c, rule).await;
    assert_eq!(log.len(), 2, "{log:?}");
    assert!(log.iter().all(|r| r.0));
    let skipped: f64 = {
        let mut n = 0.0;
        for app in replicas {
            n += evaluations(app, "skipped").await;
        }
        n
    };
    eprintln!("replicas: {skipped} evaluations skipped for the lock held by another replica");

    // Yesterday: one row, with the five plays, whichever replica computed it last.
    let rows: Vec<(i64, i32)> = c
        .query(
            "SELECT count(*) OVER (), total_plays FROM daily_stats
             WHERE stat_date = (now() AT TIME ZONE 'Europe/Berlin')::date - 1",
            &[],
        )
        .await
        .expect("daily_stats")
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    assert_eq!(rows, vec![(1, 5)]);
    let dup: i64 = c
        .query_one(
            "SELECT count(*) - count(DISTINCT stat_date) FROM daily_stats",
            &[],
        )
        .await
        .expect("dups")
        .get(0);
    assert_eq!(dup, 0);

    // Each host's readings are its own: the API per host, and each replica's /metrics.
    let per_host: Vec<(String, i64)> = c
        .query(
            "SELECT host, count(*) FROM system_metrics GROUP BY host ORDER BY host",
            &[],
        )
        .await
        .expect("hosts")
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    let names: Vec<&str> = per_host.iter().map(|(h, _)| h.as_str()).collect();
    assert_eq!(names, ["node-a", "node-b"]);
    for host in ["node-a", "node-b"] {
        for path in ["system", "system/history?hours=1&"] {
            let sep = if path.ends_with('&') { "" } else { "?" };
            let r = b
                .admin_get(&format!("/api/v1/analytics/{path}{sep}host={host}"))
                .send()
                .await
                .expect("system");
            assert_eq!(r.status(), 200);
            let v: Value = r.json().await.expect("json");
            let shown: Vec<&str> = v["hosts"]
                .as_array()
                .expect("hosts")
                .iter()
                .filter_map(|h| h["host"].as_str())
                .collect();
            assert_eq!(shown, [host], "{path} for {host}: {v}");
        }
    }
    for (app, host) in [(&a1, "node-a"), (&b, "node-b"), (&a2, "node-a")] {
        let text = app.metrics_text().await;
        assert!(
            text.lines()
                .any(|l| l.starts_with("cinevault_analytics_build_info")
                    && l.contains(&format!("host=\"{host}\""))),
            "{host}"
        );
        let r = app
            .admin_get("/api/v1/analytics/overview")
            .send()
            .await
            .expect("overview");
        let v: Value = r.json().await.expect("json");
        assert_eq!(
            v["metrics_host"], host,
            "each replica's overview shows its own host"
        );
        assert!(metric(&text, "cinevault_analytics_collector_runs_total") >= 1.0);
    }
    for app in [a1, b, a2] {
        app.stop().await;
    }
}
