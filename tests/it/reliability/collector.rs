//! The collector on a host that falls apart under it: the media path disappears, /proc
//! readings fail or turn to garbage, NVML is missing. Every run still writes a row with
//! what it could read, each failing reading is counted, and everything recovers when the
//! host does. NVML missing is said once in the log, not every run.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::{eventually, Binary};
use crate::common::{test_config, TestApp, TestDb};
use crate::ingest::metric;

/// The newest row: (disk_total_gb, memory_percent, cpu_percent, gpu_temp_celsius).
async fn newest(c: &tokio_postgres::Client) -> Option<(f32, f32, f32, Option<f32>)> {
    c.query_opt(
        "SELECT disk_total_gb, memory_percent, cpu_percent, gpu_temp_celsius
         FROM system_metrics ORDER BY recorded_at DESC LIMIT 1",
        &[],
    )
    .await
    .expect("newest row")
    .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3)))
}

async fn rows(c: &tokio_postgres::Client) -> i64 {
    c.query_one("SELECT count(*) FROM system_metrics", &[])
        .await
        .expect("count")
        .get(0)
}

async fn errors(app: &TestApp, reading: &str) -> f64 {
    metric(
        &app.metrics_text().await,
        &format!("cinevault_analytics_collector_errors_total{{reading=\"{reading}\"}}"),
    )
}

fn scratch(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("{name}-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

fn copy_proc_fixture(to: &Path) {
    let from = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/proc/a");
    for f in ["meminfo", "stat"] {
        std::fs::copy(from.join(f), to.join(f)).expect("copy fixture");
    }
}

#[tokio::test]
async fn the_collector_keeps_writing_what_it_can_while_the_host_falls_apart() {
    let db = TestDb::migrated().await;
    let c = db.client().await;
    let media = scratch("media");
    let proc_root = scratch("proc");
    copy_proc_fixture(&proc_root);
    let (media_s, proc_s) = (
        media.to_string_lossy().into_owned(),
        proc_root.to_string_lossy().into_owned(),
    );
    let app = TestApp::spawn(test_config(
        &db.url,
        &[
            "--collect-interval",
            "1s",
            "--media-path",
            &media_s,
            "--proc-root",
            &proc_s,
        ],
    ))
    .await;
    let healthy = || async {
        matches!(newest(&c).await, Some((disk, mem, _, _)) if disk > 0.0 && mem == 75.0)
    };
    eventually("a complete row", Duration::from_secs(15), healthy).await;

    // The media path disappears (an unmounted disk): disk figures are zero, the rest stays.
    std::fs::remove_dir_all(&media).expect("remove media path");
    eventually(
        "a row without disk figures",
        Duration::from_secs(15),
        || async {
            matches!(newest(&c).await, Some((disk, mem, _, _)) if disk == 0.0 && mem == 75.0)
        },
    )
    .await;
    assert!(errors(&app, "disk").await >= 1.0);

    // /proc/meminfo vanishes and /proc/stat turns to garbage.
    std::fs::remove_file(proc_root.join("meminfo")).expect("remove meminfo");
    std::fs::write(proc_root.join("stat"), "cpu garbage\n\0\0\0").expect("garbage stat");
    let before = rows(&c).await;
    eventually(
        "rows without memory, disk or cpu",
        Duration::from_secs(15),
        || async {
            rows(&c).await >= before + 2
                && matches!(newest(&c).await, Some((disk, mem, _, _)) if disk == 0.0 && mem == 0.0)
        },
    )
    .await;
    assert!(errors(&app, "memory").await >= 1.0);
    assert!(errors(&app, "cpu").await >= 1.0);
    let r = app
        .admin_get("/api/v1/analytics/system")
        .send()
        .await
        .expect("system");
    assert_eq!(r.status(), 200, "the API still answers from what there is");

    // The host recovers, and so does the collector, by itself.
    std::fs::create_dir_all(&media).expect("media path back");
    copy_proc_fixture(&proc_root);
    eventually("complete rows again", Duration::from_secs(15), healthy).await;
    // NVML is absent on this machine (or switched off): GPU columns stay NULL.
    let m = app.metrics_text().await;
    if metric(&m, "cinevault_analytics_gpus_detected") == 0.0 {
        assert_eq!(newest(&c).await.and_then(|r| r.3), None);
        assert_eq!(
            errors(&app, "gpu").await,
            0.0,
            "a missing GPU is not an error"
        );
    }
    app.stop().await;
    let _ = std::fs::remove_dir_all(&media);
    let _ = std::fs::remove_dir_all(&proc_root);
}

#[tokio::test]
async fn without_nvml_the_collector_says_so_once_and_goes_on() {
    let db = TestDb::migrated().await;
    let c = db.client().await;
    // `--gpu auto`: NVML is looked for; this machine has no NVIDIA driver.
    let mut bin = Binary::start(&db.url, &["--collect-interval", "1s", "--gpu", "auto"]);
    let http = reqwest::Client::new();
    bin.wait_ready(&http).await;
    eventually("three rows", Duration::from_secs(20), || async {
        rows(&c).await >= 3
    })
    .await;
    let logs = bin.logs();
    if logs.contains("NVML loaded") {
        eprintln!("NVML present on this machine: nothing to check");
        return;
    }
    assert_eq!(
        logs.matches("NVML unavailable; GPU metrics are off")
            .count(),
        1,
        "{logs}"
    );
    let gpu_rows: i64 = c
        .query_one(
            "SELECT count(*) FROM system_metrics WHERE gpu_temp_celsius IS NOT NULL
                OR gpu_encoder_percent IS NOT NULL OR gpu_memory_percent IS NOT NULL",
            &[],
        )
        .await
        .expect("count")
        .get(0);
    assert_eq!(gpu_rows, 0);
    bin.signal("TERM");
    assert!(bin.wait_exit(Duration::from_secs(10)).await.success());
    bin.assert_no_secrets(&[]);
}
