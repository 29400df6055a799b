//! No input panics: arbitrary text and absurd numbers fed to the `--shape` parser, and whatever it
//! accepts turned into a profile and a schedule, give either a value or a typed error.

use load_profiles::{Schedule, ShapeError, ShapeSpec};
use models::Arrival;
use proptest::prelude::*;
use std::time::Duration;

/// Numbers as a user might type them, absurd ones included.
fn number() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<f64>().prop_map(|v| v.to_string()),
        any::<f64>().prop_map(|v| format!("{v:e}")),
        any::<u64>().prop_map(|v| v.to_string()),
        (0.0..1e4f64).prop_map(|v| v.to_string()),
        prop::sample::select(vec![
            "1e20",
            "1e300",
            "1e19",
            "18446744073709551615",
            "18446744073709551616",
            "inf",
            "-inf",
            "NaN",
            "-0",
            "0",
            "1e-300",
            "5e-324",
            "",
            "-1",
        ])
        .prop_map(str::to_owned),
    ]
}

/// Durations as a user might type them: plain seconds or with units.
fn duration() -> impl Strategy<Value = String> {
    prop_oneof![
        number(),
        (
            number(),
            prop::sample::select(vec!["s", "ms", "m", "h", "d", "y", "ns"])
        )
            .prop_map(|(n, u)| format!("{n}{u}")),
        any::<u64>().prop_map(|v| format!("{v}s")),
        any::<u64>().prop_map(|v| format!("{v}y")),
    ]
}

fn stage() -> impl Strategy<Value = String> {
    let (n, d) = (number, duration);
    prop_oneof![
        (n(), n(), d()).prop_map(|(a, b, t)| format!("ramp:{a}..{b}@{t}")),
        (n(), d()).prop_map(|(a, t)| format!("sustained:{a}@{t}")),
        (n(), n(), d(), d(), d()).prop_map(|(a, b, e, f, t)| format!("burst:{a}/{b}~{e}/{f}@{t}")),
        (n(), n(), d(), d()).prop_map(|(a, b, p, t)| format!("wave:{a}+-{b}~{p}@{t}")),
        (n(), n(), n(), n(), d()).prop_map(|(a, v, s, p, t)| format!("chaos:{a}~{v}/{s}/{p}@{t}")),
        d().prop_map(|t| format!("pause:@{t}")),
    ]
}

/// Parses `text`; when the shape is accepted, builds the profile and walks a little of its schedule
/// (pulling, skipping a backlog, changing the multiplier), as a run would.
fn exercise(text: &str) -> Result<(), ShapeError> {
    let spec = ShapeSpec::parse(text)?;
    let Ok(profile) = spec.profile(7) else {
        return Ok(());
    };
    let end = profile.duration();
    let _ = profile.stages().count();
    let _ = profile.rate_at(end / 2);
    let _ = profile.integral(Duration::ZERO, end);
    for arrival in [Arrival::Uniform, Arrival::Poisson] {
        let mut s = Schedule::new(profile.clone(), arrival, 1);
        let _ = s.by_ref().take(3).count();
        let _ = s.skip_until(end / 3);
        s.set_multiplier_at(end / 2, 1e300).unwrap();
        let _ = s.skip_until(end / 2 + end / 4);
        let _ = s.by_ref().take(3).count();
        let _ = s.skip_until(Duration::MAX);
        assert_eq!(s.next(), None, "{text}: nothing is left after the end");
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn arbitrary_text_never_panics(text in any::<String>()) {
        let _ = exercise(&text);
    }

    #[test]
    fn shapes_with_absurd_numbers_parse_or_give_a_typed_error(
        stages in prop::collection::vec(stage(), 1..4)
    ) {
        let text = stages.join(",");
        if let Err(e) = exercise(&text) {
            // Every refusal says which stage and shows an example or the rule broken.
            let msg = e.to_string();
            prop_assert!(msg.contains("stage"), "{msg}");
        }
    }
}

#[test]
fn durations_past_the_longest_duration_are_refused_with_the_stage_named() {
    // Each of these panicked in `Duration::from_secs_f64` or in a sum of durations.
    for text in [
        "sustained:5@1e20",
        "sustained:5@1e300",
        "burst:1/2~1e20/1s@10s",
        "sustained:5@18446744073709551615,sustained:5@18446744073709551615",
    ] {
        let refused = ShapeSpec::parse(text)
            .map_err(|e| e.to_string())
            .and_then(|s| s.profile(1).map(|_| ()).map_err(|e| e.to_string()));
        let msg = refused.expect_err(text);
        assert!(
            msg.contains("stage")
                && (msg.contains("longest duration") || msg.contains("longer than")),
            "{text}: {msg}"
        );
    }
}

#[test]
fn the_longest_accepted_shapes_run_their_schedule_without_panicking() {
    for text in [
        "sustained:5@1e19",
        "sustained:5@18446744073709551615s",
        "ramp:0..1e300@1s,pause:@1e19",
        "wave:1e300+-1e300~1ns@1s",
        "burst:0/1e300~1e19/1ns@1e19",
    ] {
        // Either planned and run, or refused where it is read (durations are bounded at 30 days):
        // never a panic.
        if let Err(e) = exercise(text) {
            let msg = e.to_string();
            assert!(
                msg.contains("longest duration accepted") || msg.contains("longer than"),
                "{text}: {msg}"
            );
        }
    }
}
