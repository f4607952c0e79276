//! The client's address, as rate limits key it: the socket's peer, or behind a load balancer
//! the address it reports in `[server] client_ip_header`, which is trusted only when set.

use std::net::{IpAddr, Ipv6Addr};

use poem::Request;

/// What a client is counted as: an IPv4 address, or the /64 network of an IPv6 address (one
/// host usually holds a whole /64, so single IPv6 addresses would be free to rotate).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ClientIp {
    V4([u8; 4]),
    V6Net(u64),
}

impl From<IpAddr> for ClientIp {
    fn from(ip: IpAddr) -> Self {
        match ip {
            IpAddr::V4(v4) => Self::V4(v4.octets()),
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => Self::V4(v4.octets()),
                None => Self::V6Net(network(v6)),
            },
        }
    }
}

fn network(v6: Ipv6Addr) -> u64 {
    (u128::from(v6) >> 64) as u64
}

/// The request's client address: from `header` when configured and it holds an address (the
/// last one of a list, which the nearest proxy appended), else the socket's peer.
pub fn client_ip(request: &Request, header: Option<&str>) -> Option<IpAddr> {
    if let Some(header) = header {
        let reported = request
            .headers()
            .get_all(header)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(','))
            .filter_map(|entry| parse(entry.trim()))
            .next_back();
        if reported.is_some() {
            return reported;
        }
    }
    request.remote_addr().as_socket_addr().map(|addr| addr.ip())
}

/// An address as proxies write them: bare, or as `[v6]:port` / `v4:port`.
fn parse(entry: &str) -> Option<IpAddr> {
    if let Ok(ip) = entry.parse() {
        return Some(ip);
    }
    entry
        .parse::<std::net::SocketAddr>()
        .ok()
        .map(|addr| addr.ip())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_reported_address_wins_and_the_peer_is_the_fallback() {
        let request = Request::builder()
            .header("x-forwarded-for", "203.0.113.9, 198.51.100.7")
            .header("x-forwarded-for", "garbage, [2001:db8::1]:443")
            .finish();
        assert_eq!(
            client_ip(&request, Some("x-forwarded-for")),
            Some("2001:db8::1".parse().unwrap())
        );
        // Not configured: the header is ignored (a client could write anything there).
        assert_eq!(client_ip(&request, None), None);
        let plain = Request::builder().header("x-real-ip", "nonsense").finish();
        assert_eq!(client_ip(&plain, Some("x-real-ip")), None);
    }

    #[test]
    fn ipv4_mapped_addresses_count_as_ipv4() {
        let mapped: IpAddr = "::ffff:192.0.2.1".parse().unwrap();
        assert_eq!(ClientIp::from(mapped), ClientIp::V4([192, 0, 2, 1]));
    }
}
