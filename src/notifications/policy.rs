//! Which webhook targets the sidecar may call (decisions.md §4): http and https only;
//! link-local, cloud-metadata and other special addresses always refused; loopback and
//! private ranges only when configured.
//!
//! Checked where it cannot be bypassed: the URL's literal address and host name before each
//! request and on every redirect ([`AddressPolicy::check_url`]), and every address DNS gives
//! for a name, by the HTTP client's own resolver ([`PolicyResolver`]), so the connection goes
//! to an address that was checked (a name that re-resolves elsewhere, "DNS rebinding", gets
//! checked again).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use reqwest::Url;

/// Host names of cloud metadata services, refused before any lookup.
const METADATA_HOSTS: &[&str] = &["metadata.google.internal", "metadata.goog", "metadata"];

/// Cloud metadata addresses (AWS, GCP, Azure, OpenStack: 169.254.169.254; AWS IPv6:
/// fd00:ec2::254; Alibaba: 100.100.100.200).
const METADATA_V4: &[Ipv4Addr] = &[
    Ipv4Addr::new(169, 254, 169, 254),
    Ipv4Addr::new(100, 100, 100, 200),
];
const METADATA_V6: Ipv6Addr = Ipv6Addr::new(0xfd00, 0x0ec2, 0, 0, 0, 0, 0, 0x0254);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddrClass {
    Public,
    Loopback,
    Private,
    LinkLocal,
    Metadata,
    /// Unspecified, multicast, broadcast, reserved: nothing a webhook lives on.
    Special,
}

impl AddrClass {
    fn describe(self) -> &'static str {
        match self {
            Self::Public => "public",
            Self::Loopback => "a loopback address (allow with --webhook-allow-loopback)",
            Self::Private => "a private-range address (allow with --webhook-allow-private)",
            Self::LinkLocal => "a link-local address (always refused)",
            Self::Metadata => "a cloud metadata address (always refused)",
            Self::Special => "a special-purpose address (always refused)",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    #[error("only http and https webhook URLs are allowed, not '{0}'")]
    Scheme(String),
    #[error("the webhook URL has no host")]
    NoHost,
    #[error("the host '{0}' is a cloud metadata service (always refused)")]
    MetadataHost(String),
    #[error("{addr} is {}", class.describe())]
    Refused { addr: IpAddr, class: AddrClass },
    #[error("'{0}' resolved to no address")]
    NoAddress(String),
}

pub fn classify(ip: IpAddr) -> AddrClass {
    match ip {
        IpAddr::V4(v4) => classify_v4(v4),
        IpAddr::V6(v6) => classify_v6(v6),
    }
}

fn classify_v4(ip: Ipv4Addr) -> AddrClass {
    let [a, b, c, _] = ip.octets();
    if METADATA_V4.contains(&ip) {
        AddrClass::Metadata
    } else if ip.is_loopback() {
        AddrClass::Loopback
    } else if ip.is_link_local() {
        AddrClass::LinkLocal
    } else if ip.is_private() || (a == 100 && (64..128).contains(&b)) {
        // RFC 1918 and the carrier-grade NAT range 100.64/10.
        AddrClass::Private
    } else if a == 0
        || ip.is_multicast()
        || ip.is_broadcast()
        || a >= 240
        || (a == 192 && b == 0 && c == 0)
    {
        AddrClass::Special
    } else {
        AddrClass::Public
    }
}

fn classify_v6(ip: Ipv6Addr) -> AddrClass {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return classify_v4(v4);
    }
    let seg = ip.segments();
    // NAT64 (64:ff9b::/96) reaches the embedded IPv4 address.
    if seg[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        let [a, b] = seg[6].to_be_bytes();
        let [c, d] = seg[7].to_be_bytes();
        return classify_v4(Ipv4Addr::new(a, b, c, d));
    }
    if ip == METADATA_V6 {
        AddrClass::Metadata
    } else if ip.is_loopback() {
        AddrClass::Loopback
    } else if ip.is_unspecified() || ip.is_multicast() {
        AddrClass::Special
    } else if seg[0] & 0xffc0 == 0xfe80 {
        AddrClass::LinkLocal
    } else if seg[0] & 0xfe00 == 0xfc00 {
        AddrClass::Private
    } else {
        AddrClass::Public
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AddressPolicy {
    pub allow_loopback: bool,
    pub allow_private: bool,
}

impl AddressPolicy {
    pub fn from_config(config: &crate::config::Config) -> Self {
        Self {
            allow_loopback: config.webhook_allow_loopback,
            allow_private: config.webhook_allow_private,
        }
    }

    pub fn check_ip(&self, ip: IpAddr) -> Result<(), PolicyError> {
        let class = classify(ip);
        let allowed = match class {
            AddrClass::Public => true,
            AddrClass::Loopback => self.allow_loopback,
            AddrClass::Private => self.allow_private,
            AddrClass::LinkLocal | AddrClass::Metadata | AddrClass::Special => false,
        };
        if allowed {
            Ok(())
        } else {
            Err(PolicyError::Refused { addr: ip, class })
        }
    }

    /// What can be checked without DNS: the scheme, a literal address, a metadata name.
    pub fn check_url(&self, url: &Url) -> Result<(), PolicyError> {
        if !matches!(url.scheme(), "http" | "https") {
            return Err(PolicyError::Scheme(url.scheme().to_owned()));
        }
        // The URL parser writes every IPv4 spelling ("2852039166", "0xa9.0xfe...") as a
        // dotted quad and IPv6 in brackets, so a host that parses as neither is a name.
        let host = url
            .host_str()
            .filter(|h| !h.is_empty())
            .ok_or(PolicyError::NoHost)?;
        if let Some(v6) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
            let ip: Ipv6Addr = v6.parse().map_err(|_| PolicyError::NoHost)?;
            return self.check_ip(IpAddr::V6(ip));
        }
        match host.parse::<Ipv4Addr>() {
            Ok(ip) => self.check_ip(IpAddr::V4(ip)),
            Err(_) => self.check_name(host),
        }
    }

    fn check_name(&self, name: &str) -> Result<(), PolicyError> {
        let name = name.trim_end_matches('.').to_ascii_lowercase();
        if METADATA_HOSTS.contains(&name.as_str()) {
            return Err(PolicyError::MetadataHost(name));
        }
        Ok(())
    }

    /// Keeps the addresses the policy allows; refuses the name when none is left.
    pub fn filter_resolved(
        &self,
        name: &str,
        addrs: impl IntoIterator<Item = SocketAddr>,
    ) -> Result<Vec<SocketAddr>, PolicyError> {
        self.check_name(name)?;
        let mut allowed = Vec::new();
        let mut first_refusal = None;
        for addr in addrs {
            match self.check_ip(addr.ip()) {
                Ok(()) => allowed.push(addr),
                Err(e) => {
                    first_refusal.get_or_insert(e);
                }
            }
        }
        match (allowed.is_empty(), first_refusal) {
            (false, _) => Ok(allowed),
            (true, Some(e)) => Err(e),
            (true, None) => Err(PolicyError::NoAddress(name.to_owned())),
        }
    }
}

/// The HTTP client's DNS resolver: resolves with the system resolver and hands the client
/// only addresses the policy allows, so the connection is made to a checked address.
pub struct PolicyResolver {
    pub policy: AddressPolicy,
}

impl Resolve for PolicyResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let policy = self.policy;
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let found = tokio::net::lookup_host((host.as_str(), 0)).await?;
            let allowed = policy.filter_resolved(&host, found)?;
            let addrs: Addrs = Box::new(allowed.into_iter());
            Ok(addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("ip")
    }

    #[test]
    fn addresses_are_classified() {
        for (s, want) in [
            ("8.8.8.8", AddrClass::Public),
            ("127.0.0.1", AddrClass::Loopback),
            ("127.9.9.9", AddrClass::Loopback),
            ("::1", AddrClass::Loopback),
            ("10.1.2.3", AddrClass::Private),
            ("172.16.0.1", AddrClass::Private),
            ("172.32.0.1", AddrClass::Public),
            ("192.168.1.1", AddrClass::Private),
            ("100.64.0.1", AddrClass::Private),
            ("fd12::1", AddrClass::Private),
            ("169.254.1.1", AddrClass::LinkLocal),
            ("fe80::1", AddrClass::LinkLocal),
            ("febf::1", AddrClass::LinkLocal),
            ("169.254.169.254", AddrClass::Metadata),
            ("100.100.100.200", AddrClass::Metadata),
            ("fd00:ec2::254", AddrClass::Metadata),
            ("::ffff:169.254.169.254", AddrClass::Metadata),
            ("::ffff:127.0.0.1", AddrClass::Loopback),
            ("64:ff9b::a9fe:a9fe", AddrClass::Metadata),
            ("0.0.0.0", AddrClass::Special),
            ("::", AddrClass::Special),
            ("224.0.0.1", AddrClass::Special),
            ("255.255.255.255", AddrClass::Special),
            ("ff02::1", AddrClass::Special),
            ("2606:4700::1111", AddrClass::Public),
        ] {
            assert_eq!(classify(ip(s)), want, "{s}");
        }
    }

    #[test]
    fn policy_follows_the_configuration_except_for_what_is_always_refused() {
        let strict = AddressPolicy::default();
        let open = AddressPolicy {
            allow_loopback: true,
            allow_private: true,
        };
        assert!(strict.check_ip(ip("127.0.0.1")).is_err());
        assert!(strict.check_ip(ip("10.0.0.1")).is_err());
        assert!(open.check_ip(ip("127.0.0.1")).is_ok());
        assert!(open.check_ip(ip("10.0.0.1")).is_ok());
        for always in [
            "169.254.169.254",
            "169.254.0.9",
            "fe80::1",
            "fd00:ec2::254",
            "0.0.0.0",
        ] {
            assert!(open.check_ip(ip(always)).is_err(), "{always}");
        }
        let refused = strict.check_ip(ip("192.168.0.1")).expect_err("private");
        assert!(refused.to_string().contains("--webhook-allow-private"));
    }

    #[test]
    fn urls_are_checked_before_any_lookup() {
        let open = AddressPolicy {
            allow_loopback: true,
            allow_private: true,
        };
        let url = |s: &str| Url::parse(s).expect("url");
        assert!(open
            .check_url(&url("https://discord.com/api/webhooks/1/x"))
            .is_ok());
        assert!(matches!(
            open.check_url(&url("ftp://example.com/x")),
            Err(PolicyError::Scheme(_))
        ));
        assert!(matches!(
            open.check_url(&url("http://metadata.google.internal./computeMetadata/v1/")),
            Err(PolicyError::MetadataHost(_))
        ));
        assert!(open.check_url(&url("http://[fe80::1]:8080/")).is_err());
        // Decimal and hex spellings of 169.254.169.254 are addresses, not names.
        assert!(open.check_url(&url("http://2852039166/")).is_err());
        assert!(open.check_url(&url("http://0xa9.0xfe.0xa9.0xfe/")).is_err());
        assert!(AddressPolicy::default()
            .check_url(&url("http://127.0.0.1:9/"))
            .is_err());
    }

    #[test]
    fn resolved_addresses_are_filtered() {
        let policy = AddressPolicy::default();
        let addrs = ["169.254.169.254:0", "93.184.216.34:0"].map(|s| s.parse().expect("sa"));
        let kept = policy
            .filter_resolved("example.com", addrs)
            .expect("one public");
        assert_eq!(kept, vec!["93.184.216.34:0".parse().expect("sa")]);
        let only_bad = ["127.0.0.1:0".parse().expect("sa")];
        assert!(matches!(
            policy.filter_resolved("rebind.example", only_bad),
            Err(PolicyError::Refused { .. })
        ));
        assert!(matches!(
            policy.filter_resolved("empty.example", []),
            Err(PolicyError::NoAddress(_))
        ));
    }
}
