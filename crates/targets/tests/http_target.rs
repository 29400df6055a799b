//! `HttpTarget`'s behaviours (`http_behaviours`) with hyper's HTTP/1.1 client (`engine = "hyper"`).

const ENGINE: models::HttpEngine = models::HttpEngine::Hyper;

mod fixtures;
mod http_behaviours;
