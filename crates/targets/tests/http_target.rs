//! `HttpTarget`'s behaviours (`http_behaviours`) with hyper's HTTP/1.1 client, the default engine.

const ENGINE: models::HttpEngine = models::HttpEngine::Hyper;

mod http_behaviours;

#[test]
fn the_default_engine_is_hyper() {
    assert_eq!(targets::HttpTargetConfig::default().engine, ENGINE);
}
