//! A response body that trickles through a bandwidth limit.

use bytes::Bytes;
use hyper::body::{Body, Frame, SizeHint};
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::Duration;
use tokio::time::{Instant, Sleep};

/// Passes `inner`'s bytes on at no more than `bps` bytes per second, in chunks of about a tenth of a
/// second. Each chunk waits until the time its last byte is allowed, so a body of `n` bytes takes at
/// least `n / bps` seconds from its first byte.
#[derive(Debug)]
pub(crate) struct ThrottledBody<B> {
    inner: B,
    bps: u64,
    chunk: usize,
    pending: Bytes,
    /// Length of the chunk being waited for, while `sleep` runs.
    waiting: Option<usize>,
    start: Option<Instant>,
    sent: u64,
    sleep: Pin<Box<Sleep>>,
}

impl<B> ThrottledBody<B> {
    pub fn new(inner: B, bps: u64) -> Self {
        let bps = bps.max(1);
        let chunk = (bps / 10).clamp(1, 16 * 1024) as usize;
        Self {
            inner,
            bps,
            chunk,
            pending: Bytes::new(),
            waiting: None,
            start: None,
            sent: 0,
            sleep: Box::pin(tokio::time::sleep(Duration::ZERO)),
        }
    }
}

impl<B> Body for ThrottledBody<B>
where
    B: Body<Data = Bytes> + Unpin,
{
    type Data = Bytes;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, B::Error>>> {
        let this = self.get_mut();
        loop {
            if let Some(n) = this.waiting {
                ready!(this.sleep.as_mut().poll(cx));
                this.waiting = None;
                this.sent += n as u64;
                return Poll::Ready(Some(Ok(Frame::data(this.pending.split_to(n)))));
            }
            if !this.pending.is_empty() {
                let n = this.pending.len().min(this.chunk);
                let start = *this.start.get_or_insert_with(Instant::now);
                let due = start
                    + Duration::from_secs_f64((this.sent + n as u64) as f64 / this.bps as f64);
                this.sleep.as_mut().reset(due);
                this.waiting = Some(n);
                continue;
            }
            match ready!(Pin::new(&mut this.inner).poll_frame(cx)) {
                None => return Poll::Ready(None),
                Some(Err(e)) => return Poll::Ready(Some(Err(e))),
                Some(Ok(frame)) => match frame.into_data() {
                    Ok(data) => this.pending = data,
                    Err(trailers) => return Poll::Ready(Some(Ok(trailers))),
                },
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.pending.is_empty() && self.waiting.is_none() && self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        let mut hint = self.inner.size_hint();
        let buffered = self.pending.len() as u64;
        hint.set_lower(hint.lower() + buffered);
        if let Some(upper) = hint.upper() {
            hint.set_upper(upper + buffered);
        }
        hint
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::{BodyExt, Full};

    #[tokio::test(start_paused = true)]
    async fn a_body_takes_at_least_size_over_rate() {
        let body = ThrottledBody::new(Full::new(Bytes::from(vec![7u8; 5_000])), 1_000);
        let t0 = Instant::now();
        let mut body = body;
        let mut got = Vec::new();
        let mut frames = 0;
        while let Some(frame) = body.frame().await {
            got.extend_from_slice(frame.unwrap().data_ref().unwrap());
            frames += 1;
        }
        assert_eq!(got, vec![7u8; 5_000]);
        assert_eq!(frames, 50, "chunks of a tenth of a second");
        assert_eq!(t0.elapsed(), Duration::from_secs(5));
    }
}
