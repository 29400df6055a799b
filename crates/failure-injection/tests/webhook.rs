//! Alert events posted to a webhook on loopback, from a background task with a bounded queue.

mod common;

use failure_injection::{AlertMonitor, WebhookConfig, WebhookError, WebhookNotifier};
use models::{AlertSeverity, EventKind, IntervalSnapshot, RunEvent};
use std::time::Duration;

#[tokio::test(start_paused = true)]
async fn raised_and_cleared_alerts_arrive_as_json() {
    let up = common::start_upstream().await;
    let hook = WebhookNotifier::start(WebhookConfig {
        url: format!("{}/hook", up.url()),
        ..Default::default()
    })
    .unwrap();
    let mut alerts = AlertMonitor::default();
    let down = IntervalSnapshot {
        t_s: 1.0,
        sent: 10,
        ..Default::default()
    };
    let fine = IntervalSnapshot {
        t_s: 2.0,
        sent: 10,
        completed: 10,
        ok: 10,
        ..Default::default()
    };
    hook.notify_alerts(1.0, &alerts.observe(&down));
    let mut later = alerts.observe(&fine);
    later.push(EventKind::Message {
        text: "not an alert".into(),
    });
    hook.notify_alerts(2.0, &later);
    let stats = hook.shutdown().await;
    assert_eq!(
        (stats.delivered, stats.failed, stats.dropped),
        (2, 0, 0),
        "{stats:?}"
    );

    let posts = up.seen.posts.lock().unwrap().clone();
    let events: Vec<RunEvent> = posts
        .iter()
        .map(|p| serde_json::from_str(p).unwrap())
        .collect();
    assert_eq!(events.len(), 2);
    assert_eq!(events[0].t_s, 1.0);
    assert!(matches!(
        &events[0].kind,
        EventKind::AlertRaised { name, severity: AlertSeverity::Critical, .. } if name == "target_unavailable"
    ));
    assert_eq!(
        events[1].kind,
        EventKind::AlertCleared {
            name: "target_unavailable".into()
        }
    );
    assert!(
        posts[0].contains(r#""event":"alert_raised""#),
        "{}",
        posts[0]
    );
}

#[tokio::test(start_paused = true)]
async fn a_hanging_receiver_never_blocks_the_caller() {
    let up = common::start_upstream().await;
    let hook = WebhookNotifier::start(WebhookConfig {
        url: format!("{}/hang", up.url()),
        queue_capacity: 2,
        timeout: Duration::from_secs(1),
        ..Default::default()
    })
    .unwrap();
    let event = RunEvent {
        t_s: 0.0,
        kind: EventKind::AlertCleared { name: "x".into() },
    };
    // Queued without waiting: two fit, the rest are dropped and counted.
    let queued = (0..10).filter(|_| hook.notify(event.clone())).count();
    assert_eq!(queued, 2);
    let stats = hook.shutdown().await;
    assert_eq!(
        (stats.delivered, stats.failed, stats.dropped),
        (0, 2, 8),
        "{stats:?}"
    );
    assert!(stats.last_error.unwrap().contains("longer than"));
}

#[tokio::test]
async fn remote_and_tls_webhooks_are_refused() {
    let err = WebhookNotifier::start(WebhookConfig {
        url: "http://hooks.example.com/x".into(),
        ..Default::default()
    })
    .unwrap_err();
    assert!(
        matches!(err, WebhookError::Url(_)) && err.to_string().contains("`allow_remote`"),
        "{err}"
    );
    let err = WebhookNotifier::start(WebhookConfig {
        url: "https://127.0.0.1/x".into(),
        ..Default::default()
    })
    .unwrap_err();
    assert!(matches!(err, WebhookError::Scheme { .. }), "{err}");
}
