//! The address a call comes from, which brute-force and abuse counters count by.
//!
//! Behind a proxy every call's TCP peer is the proxy, so the client is read from the
//! header the proxy records it in, but only when the peer is one of the configured
//! trusted proxies: anyone else could write anything there. Each proxy appends the
//! address it received the call from, so the list is read from the right, past the
//! trusted proxies, and the first address outside them is the client; whatever stands
//! left of it was written by the client and is ignored.

use std::net::{IpAddr, SocketAddr};

use http::HeaderMap;
use ipnet::IpNet;
use service_kit::config::{ForwardedHeader, GatewayConfig};

/// Headers that carry forwarding information. The gateway resolves them once and removes
/// them before passing a call on: services take the address from the caller assertion.
pub const FORWARDING_HEADERS: [&str; 3] = ["forwarded", "x-forwarded-for", "x-real-ip"];

/// Which peers may say who the client is, and in which header.
#[derive(Debug, Clone)]
pub struct ClientAddresses {
    trusted: Vec<IpNet>,
    header: ForwardedHeader,
}

impl ClientAddresses {
    pub fn new(config: &GatewayConfig) -> Self {
        Self { trusted: config.trusted_proxies.clone(), header: config.forwarded_header }
    }

    fn is_trusted(&self, address: &IpAddr) -> bool {
        self.trusted.iter().any(|network| network.contains(address))
    }

    /// The client behind a call that arrived from `peer` with `headers`: the rightmost
    /// forwarded address outside the trusted networks. When an entry cannot be read
    /// before one is found, the nearest trusted hop stands for the client; when every
    /// entry is trusted, the farthest one does.
    pub fn client_of(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        let mut client = peer.to_canonical();
        if !self.is_trusted(&client) {
            return client;
        }
        for hop in self.hops(headers).into_iter().rev() {
            let Some(address) = hop else { break };
            client = address;
            if !self.is_trusted(&address) {
                break;
            }
        }
        client
    }

    /// The forwarded addresses in the order the hops added them (`None` for an entry that
    /// names no address: `unknown`, an obfuscated name, garbage).
    fn hops(&self, headers: &HeaderMap) -> Vec<Option<IpAddr>> {
        let (name, parse): (&str, fn(&str) -> Vec<Option<IpAddr>>) = match self.header {
            ForwardedHeader::XForwardedFor => ("x-forwarded-for", x_forwarded_for),
            ForwardedHeader::Forwarded => ("forwarded", forwarded),
        };
        // Repeated header lines form one list, in order (RFC 9110 §5.3).
        headers.get_all(name).iter().flat_map(|value| value.to_str().map_or_else(|_| vec![None], parse)).collect()
    }
}

/// `X-Forwarded-For: 203.0.113.7, 2001:db8::1, [2001:db8::2]:4711, 198.51.100.1:80`.
fn x_forwarded_for(value: &str) -> Vec<Option<IpAddr>> {
    value.split(',').map(|entry| node(entry.trim())).collect()
}

/// `Forwarded: for=203.0.113.7;proto=https, for="[2001:db8::1]:4711";by=…` (RFC 7239):
/// the `for` parameter of each element; an element without one names no address.
fn forwarded(value: &str) -> Vec<Option<IpAddr>> {
    split_outside_quotes(value, ',')
        .into_iter()
        .map(|element| {
            let pairs = split_outside_quotes(element, ';');
            let mut fors = pairs.iter().filter_map(|pair| {
                let (name, value) = pair.split_once('=')?;
                name.trim().eq_ignore_ascii_case("for").then(|| unquote(value.trim()))
            });
            match (fors.next(), fors.next()) {
                (Some(Some(value)), None) => node(&value),
                _ => None,
            }
        })
        .collect()
}

/// `value` split at each `separator` that is not inside a quoted string.
fn split_outside_quotes(value: &str, separator: char) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut start, mut quoted, mut escaped) = (0, false, false);
    for (index, character) in value.char_indices() {
        match character {
            _ if escaped => escaped = false,
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            _ if character == separator && !quoted => {
                parts.push(&value[start..index]);
                start = index + character.len_utf8();
            }
            _ => {}
        }
    }
    parts.push(&value[start..]);
    parts
}

/// A token, or a quoted string with its escapes resolved; `None` for an unterminated one.
fn unquote(value: &str) -> Option<String> {
    let Some(inner) = value.strip_prefix('"') else {
        return Some(value.to_owned());
    };
    let inner = inner.strip_suffix('"')?;
    let mut unquoted = String::with_capacity(inner.len());
    let mut characters = inner.chars();
    while let Some(character) = characters.next() {
        unquoted.push(if character == '\\' { characters.next()? } else { character });
    }
    Some(unquoted)
}

/// An address as proxies write it: `192.0.2.1`, `192.0.2.1:80`, `2001:db8::1`,
/// `[2001:db8::1]` or `[2001:db8::1]:4711`.
fn node(text: &str) -> Option<IpAddr> {
    let address = text
        .parse::<IpAddr>()
        .or_else(|_| text.parse::<SocketAddr>().map(|socket| socket.ip()))
        .or_else(|_| text.strip_prefix('[').and_then(|rest| rest.strip_suffix(']')).unwrap_or("").parse())
        .ok()?;
    Some(address.to_canonical())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addresses(trusted: &[&str], header: ForwardedHeader) -> ClientAddresses {
        ClientAddresses { trusted: trusted.iter().map(|net| net.parse().unwrap()).collect(), header }
    }

    fn headers(lines: &[(&'static str, &str)]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for (name, value) in lines {
            headers.append(*name, value.parse().unwrap());
        }
        headers
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    const PROXY: &str = "10.0.0.5";

    #[test]
    fn headers_from_untrusted_peers_are_ignored() {
        let lines = headers(&[("x-forwarded-for", "203.0.113.7"), ("forwarded", "for=203.0.113.8")]);
        for header in [ForwardedHeader::XForwardedFor, ForwardedHeader::Forwarded] {
            assert_eq!(addresses(&[], header).client_of(ip(PROXY), &lines), ip(PROXY), "nothing trusted by default");
            let other = addresses(&["10.1.0.0/16"], header);
            assert_eq!(other.client_of(ip("198.51.100.9"), &lines), ip("198.51.100.9"));
        }
    }

    #[test]
    fn the_rightmost_untrusted_address_is_the_client() {
        let trusted = addresses(&["10.0.0.0/8", "fd00::/8"], ForwardedHeader::XForwardedFor);
        // The client wrote the first two entries itself; the ingress appended what it saw.
        let spoofed = headers(&[("x-forwarded-for", "1.1.1.1, 10.9.9.9, 203.0.113.7, 10.0.0.9")]);
        assert_eq!(trusted.client_of(ip(PROXY), &spoofed), ip("203.0.113.7"));
        // Repeated header lines are one list: the spoofed line comes first.
        let repeated = headers(&[("x-forwarded-for", "192.0.2.66"), ("x-forwarded-for", "203.0.113.7")]);
        assert_eq!(trusted.client_of(ip(PROXY), &repeated), ip("203.0.113.7"));
        // Ports and brackets as some proxies write them.
        let ported = headers(&[("x-forwarded-for", "[2001:db8::7]:4711, 198.51.100.2:80")]);
        assert_eq!(trusted.client_of(ip(PROXY), &ported), ip("198.51.100.2"));
        let v6 = headers(&[("x-forwarded-for", "2001:db8::7, fd00::1")]);
        assert_eq!(trusted.client_of(ip("fd00::2"), &v6), ip("2001:db8::7"));
        // An IPv4 peer seen on a dual-stack socket is still the trusted IPv4 proxy.
        assert_eq!(trusted.client_of(ip("::ffff:10.0.0.5"), &spoofed), ip("203.0.113.7"));
    }

    #[test]
    fn unreadable_entries_stop_the_walk_at_the_nearest_trusted_hop() {
        let trusted = addresses(&["10.0.0.0/8"], ForwardedHeader::XForwardedFor);
        for (value, client) in [
            ("not-an-address", PROXY),
            ("203.0.113.7, garbage", PROXY),
            ("unknown", PROXY),
            ("", PROXY),
            ("999.1.1.1", PROXY),
            ("203.0.113.7, 10.0.0.8, ", PROXY),
            ("garbage, 10.0.0.8", "10.0.0.8"),
        ] {
            let lines = headers(&[("x-forwarded-for", value)]);
            assert_eq!(trusted.client_of(ip(PROXY), &lines), ip(client), "{value:?}");
        }
        assert_eq!(trusted.client_of(ip(PROXY), &HeaderMap::new()), ip(PROXY), "no header: the proxy itself");
        // Every hop trusted: the farthest one is the client (a call from inside).
        let inside = headers(&[("x-forwarded-for", "10.0.0.8, 10.0.0.9")]);
        assert_eq!(trusted.client_of(ip(PROXY), &inside), ip("10.0.0.8"));
    }

    #[test]
    fn forwarded_elements_are_read_per_rfc_7239() {
        let trusted = addresses(&["10.0.0.0/8", "2001:db8:cafe::/48"], ForwardedHeader::Forwarded);
        let lines = headers(&[(
            "forwarded",
            r#"for=192.0.2.43, For="[2001:db8::17]:4711";proto=https;by=10.0.0.1, for="[2001:db8:cafe::1]""#,
        )]);
        assert_eq!(trusted.client_of(ip(PROXY), &lines), ip("2001:db8::17"));
        let quoted = headers(&[("forwarded", r#"for="198.51.100.3:8080";host="a,b;c", for=10.0.0.7"#)]);
        assert_eq!(trusted.client_of(ip(PROXY), &quoted), ip("198.51.100.3"));
        // Obfuscated and unknown nodes name no address; neither does an element with two `for`s.
        for unreadable in
            ["for=_hidden", "for=unknown", "for=1.1.1.1;for=2.2.2.2", "proto=https", "for=\"[2001:db8::1\""]
        {
            let lines = headers(&[("forwarded", unreadable)]);
            assert_eq!(trusted.client_of(ip(PROXY), &lines), ip(PROXY), "{unreadable}");
        }
        // The header the proxies do not write is never read, whatever it says.
        let other = headers(&[("x-forwarded-for", "203.0.113.7")]);
        assert_eq!(trusted.client_of(ip(PROXY), &other), ip(PROXY));
    }
}
