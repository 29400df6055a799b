use std::time::Instant;
#[test]
fn timing() {
    let t = Instant::now();
    let mut h = metrics_core::histogram::new_us(3);
    let a = t.elapsed();
    for v in 0..1000 { h.saturating_record(v * 1000); }
    let b = t.elapsed();
    let p = metrics_core::histogram::percentiles_ms(&h);
    let c = t.elapsed();
    let e = metrics_core::histogram::encode(&h);
    let d = t.elapsed();
    let mut h2 = metrics_core::histogram::new_us(3);
    h2.add(&h).unwrap();
    let f = t.elapsed();
    h2.reset();
    let g = t.elapsed();
    let r = metrics_core::Recorder::new(Default::default()).unwrap();
    let i = t.elapsed();
    let _ = r.tick(std::time::Duration::from_secs(1));
    let j = t.elapsed();
    panic!("new {a:?} rec {b:?} pct {c:?} enc {d:?} add {f:?} reset {g:?} recorder {i:?} tick {j:?} {} {}", p.p50, e.len());
}
