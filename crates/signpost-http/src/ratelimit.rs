//! Per-client rate limiting for public endpoints: a token bucket per client, kept in memory
//! only (never logged or stored), in a bounded least-recently-used table.
//!
//! The client is the peer address, or, when the peer is a configured trusted proxy, the
//! address it forwarded (`X-Forwarded-For`, read from the right, skipping trusted proxies):
//! behind a reverse proxy every client would otherwise share one bucket, and 50 requests a
//! second from anyone would starve the aggregators' crawls. IPv6 clients are bucketed by
//! their /64 (one household or server gets one /64). Addresses listed as unlimited (the
//! aggregators that crawl this node) are never limited.

use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::web;
use ipnet::IpNet;
use lru::LruCache;

use crate::{problem_response, RequestError};

/// The most clients tracked at once; the least recently seen is forgotten first.
pub const MAX_BUCKETS: usize = 65_536;

/// A token bucket per client.
pub struct RateLimiter {
    per_sec: f64,
    burst: f64,
    buckets: Mutex<LruCache<IpAddr, (f64, Instant)>>,
    trusted_proxies: Vec<IpNet>,
    unlimited: Vec<IpNet>,
}

/// Parses addresses or networks (`203.0.113.7`, `10.0.0.0/8`, `2001:db8::/32`).
pub fn parse_networks(what: &str, items: &[String]) -> Result<Vec<IpNet>, String> {
    items
        .iter()
        .map(|s| {
            s.parse::<IpNet>()
                .or_else(|_| s.parse::<IpAddr>().map(IpNet::from))
                .map_err(|_| {
                    format!("{what}: {s:?} is not an IP address or network like 10.0.0.0/8")
                })
        })
        .collect()
}

/// The bucket a client address falls in: itself for IPv4, its /64 for IPv6.
pub fn bucket_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let mut seg = v6.segments();
                seg[4..].fill(0);
                IpAddr::V6(seg.into())
            }
        },
    }
}

impl RateLimiter {
    /// `per_sec` requests a second on average, bursts up to `burst`. `per_sec == 0` disables.
    pub fn new(per_sec: u32, burst: u32) -> Self {
        Self {
            per_sec: f64::from(per_sec),
            burst: f64::from(burst.max(1)),
            // Grown as clients come (a node's memory stays small), bounded by `check`.
            buckets: Mutex::new(LruCache::unbounded()),
            trusted_proxies: Vec::new(),
            unlimited: Vec::new(),
        }
    }

    /// Peers whose `X-Forwarded-For` is believed.
    pub fn trust_proxies(mut self, proxies: Vec<IpNet>) -> Self {
        self.trusted_proxies = proxies;
        self
    }

    /// Clients never limited (the aggregators that crawl this node).
    pub fn unlimited(mut self, clients: Vec<IpNet>) -> Self {
        self.unlimited = clients;
        self
    }

    pub fn enabled(&self) -> bool {
        self.per_sec > 0.0
    }

    /// The client a request is from: the peer, or what trusted proxies forwarded.
    pub fn client(&self, peer: IpAddr, forwarded_for: Option<&str>) -> IpAddr {
        let trusted = |ip: &IpAddr| self.trusted_proxies.iter().any(|n| n.contains(ip));
        if !trusted(&peer) {
            return peer;
        }
        let Some(header) = forwarded_for else {
            return peer;
        };
        let mut client = peer;
        for hop in header.rsplit(',') {
            match hop.trim().parse::<IpAddr>() {
                Ok(ip) if trusted(&ip) => client = ip,
                Ok(ip) => return ip,
                Err(_) => return client,
            }
        }
        client
    }

    /// Takes a token for `ip`, or says how long to wait.
    pub fn check(&self, ip: IpAddr, now: Instant) -> Result<(), Duration> {
        if !self.enabled() || self.unlimited.iter().any(|n| n.contains(&ip)) {
            return Ok(());
        }
        let key = bucket_key(ip);
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        if buckets.len() >= MAX_BUCKETS && !buckets.contains(&key) {
            buckets.pop_lru();
        }
        let (tokens, last) = buckets.get_or_insert_mut(key, || (self.burst, now));
        *tokens =
            (*tokens + now.duration_since(*last).as_secs_f64() * self.per_sec).min(self.burst);
        *last = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - *tokens) / self.per_sec))
        }
    }

    /// How many clients are tracked.
    pub fn tracked(&self) -> usize {
        self.buckets.lock().map(|b| b.len()).unwrap_or(0)
    }
}

/// Middleware (`actix_web::middleware::from_fn(rate_limit)`): refuses a client over its
/// rate with 429 problem+json and `Retry-After`. Uses the `web::Data<RateLimiter>` app data.
pub async fn rate_limit<B: MessageBody>(
    req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<EitherBody<B>>, actix_web::Error> {
    let verdict = match (req.app_data::<web::Data<RateLimiter>>(), req.peer_addr()) {
        (Some(limiter), Some(peer)) => {
            let forwarded = req
                .headers()
                .get("x-forwarded-for")
                .and_then(|v| v.to_str().ok());
            limiter.check(limiter.client(peer.ip(), forwarded), Instant::now())
        }
        _ => Ok(()),
    };
    match verdict {
        Ok(()) => next
            .call(req)
            .await
            .map(ServiceResponse::map_into_left_body),
        Err(wait) => {
            let secs = wait.as_secs().max(1);
            let mut resp = problem_response(&RequestError::RateLimited {
                retry_after_secs: secs,
            });
            if let Ok(v) = actix_web::http::header::HeaderValue::from_str(&secs.to_string()) {
                resp.headers_mut()
                    .insert(actix_web::http::header::RETRY_AFTER, v);
            }
            Ok(req.into_response(resp).map_into_right_body())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_refill_at_the_configured_rate() {
        let limiter = RateLimiter::new(10, 3);
        let ip: IpAddr = [127, 0, 0, 1].into();
        let t0 = Instant::now();
        for _ in 0..3 {
            assert!(limiter.check(ip, t0).is_ok());
        }
        let wait = limiter.check(ip, t0).unwrap_err();
        assert!(wait <= Duration::from_millis(100));
        assert!(limiter.check(ip, t0 + Duration::from_millis(110)).is_ok());
        // Another client has its own bucket.
        assert!(limiter.check([10, 0, 0, 1].into(), t0).is_ok());
        assert!(RateLimiter::new(0, 0).check(ip, t0).is_ok(), "0 disables");
    }

    #[test]
    fn forwarded_addresses_count_only_from_trusted_proxies() {
        let proxy: IpAddr = [127, 0, 0, 1].into();
        let limiter = RateLimiter::new(10, 1)
            .trust_proxies(parse_networks("p", &["127.0.0.1".into()]).unwrap());
        let client = |peer, xff| limiter.client(peer, xff);
        assert_eq!(
            client(proxy, Some("203.0.113.7")),
            "203.0.113.7".parse::<IpAddr>().unwrap()
        );
        // A client cannot pick its own bucket by sending the header itself.
        let stranger: IpAddr = [198, 51, 100, 1].into();
        assert_eq!(client(stranger, Some("203.0.113.7")), stranger);
        // Read from the right: what the client wrote first is not believed.
        assert_eq!(
            client(proxy, Some("1.2.3.4, 203.0.113.9")),
            "203.0.113.9".parse::<IpAddr>().unwrap()
        );
        assert_eq!(client(proxy, None), proxy);
        // Behind the proxy, two clients have two buckets.
        let t0 = Instant::now();
        assert!(limiter
            .check(client(proxy, Some("203.0.113.7")), t0)
            .is_ok());
        assert!(limiter
            .check(client(proxy, Some("203.0.113.8")), t0)
            .is_ok());
        assert!(limiter
            .check(client(proxy, Some("203.0.113.7")), t0)
            .is_err());
    }

    #[test]
    fn ipv6_is_bucketed_by_64_and_the_table_is_bounded() {
        let a: IpAddr = "2001:db8:1:2::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:ffff::9".parse().unwrap();
        assert_eq!(bucket_key(a), bucket_key(b));
        let limiter = RateLimiter::new(10, 1);
        let t0 = Instant::now();
        assert!(limiter.check(a, t0).is_ok());
        assert!(limiter.check(b, t0).is_err(), "same /64, same bucket");
        for i in 0..(MAX_BUCKETS as u32 + 1000) {
            let _ = limiter.check(IpAddr::V4(i.into()), t0);
        }
        assert_eq!(limiter.tracked(), MAX_BUCKETS);
    }

    #[test]
    fn unlimited_clients_are_never_refused() {
        let crawler: IpAddr = [192, 0, 2, 10].into();
        let limiter = RateLimiter::new(1, 1)
            .unlimited(parse_networks("u", &["192.0.2.0/24".into()]).unwrap());
        let t0 = Instant::now();
        for _ in 0..100 {
            assert!(limiter.check(crawler, t0).is_ok());
        }
    }
}
