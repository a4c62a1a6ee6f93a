//! Image references, parsed without a regex.
//!
//! `oci_client::Reference`'s own parser is one regex whose tag part is
//! `[\w][\w.-]{0,127}` with Unicode `\w`: compiling it takes tens of
//! milliseconds, once per process, on the path of every check and push
//! (it was a sixth of an engine-free source push). This parser accepts the
//! same grammar (Docker's `reference` package), normalises the same way
//! (`docker.io`, `library/`, `latest`) and builds the same
//! `oci_client::Reference`; a test holds it to oci-client's parser on
//! hand-picked and generated references.

use oci_client::Reference;

const DOCKER_HUB: &str = "docker.io";
const DOCKER_HUB_LEGACY: &str = "index.docker.io";
const NAME_MAX: usize = 255;

/// `image` as an [`oci_client::Reference`], or why it is none.
pub fn parse(image: &str) -> Result<Reference, String> {
    let bad = |why: &str| format!("`{image}` is not an image reference: {why}");
    if image.is_empty() {
        return Err(bad("it is empty"));
    }
    let (named, digest) = match image.split_once('@') {
        Some((named, digest)) => (named, Some(digest)),
        None => (image, None),
    };
    let last_slash = named.rfind('/').map_or(0, |i| i + 1);
    let (name, tag) = match named[last_slash..].rfind(':') {
        Some(i) => (&named[..last_slash + i], Some(&named[last_slash + i + 1..])),
        None => (named, None),
    };
    if !valid_name(name) {
        return Err(bad("invalid reference format"));
    }
    if let Some(tag) = tag {
        if !valid_tag(tag) {
            return Err(bad("invalid reference format"));
        }
    }
    if let Some(digest) = digest {
        check_digest(digest).map_err(&bad)?;
    }
    let (registry, repository) = split_domain(name);
    if repository.len() > NAME_MAX {
        return Err(bad("its repository name is longer than 255 characters"));
    }
    let tag = tag.map(str::to_string);
    let digest = digest.map(str::to_string);
    Ok(match (tag, digest) {
        (tag, None) => Reference::with_tag(registry, repository, tag.unwrap_or("latest".into())),
        (None, Some(d)) => Reference::with_digest(registry, repository, d),
        (Some(t), Some(d)) => Reference::with_tag_and_digest(registry, repository, t, d),
    })
}

/// `[domain/]component(/component)*`: the first of several parts may be a
/// domain (with a port); every other part is a path component.
fn valid_name(name: &str) -> bool {
    let parts: Vec<&str> = name.split('/').collect();
    let path_from = match parts.len() > 1 && !path_component(parts[0]) {
        true => {
            if !domain(parts[0]) {
                return false;
            }
            1
        }
        false => 0,
    };
    parts[path_from..].iter().all(|p| path_component(p))
}

/// `[a-z0-9]+((\.|_|__|-*)[a-z0-9]+)*`.
fn path_component(part: &str) -> bool {
    let b = part.as_bytes();
    let alnum = |c: u8| c.is_ascii_lowercase() || c.is_ascii_digit();
    if b.is_empty() || !alnum(b[0]) || !alnum(b[b.len() - 1]) {
        return false;
    }
    let mut i = 0;
    while i < b.len() {
        if alnum(b[i]) {
            i += 1;
            continue;
        }
        // A separator run, then an alphanumeric (the last byte is one).
        let start = i;
        while i < b.len() && !alnum(b[i]) {
            i += 1;
        }
        let sep = &b[start..i];
        let ok = matches!(sep, b"." | b"_" | b"__") || sep.iter().all(|&c| c == b'-');
        if !ok {
            return false;
        }
    }
    true
}

/// `label(.label)*(:[0-9]+)?`, each label `[a-zA-Z0-9]` or
/// `[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]`.
fn domain(part: &str) -> bool {
    let (host, port) = match part.split_once(':') {
        Some((h, p)) => (h, Some(p)),
        None => (part, None),
    };
    if let Some(p) = port {
        if p.is_empty() || !p.bytes().all(|c| c.is_ascii_digit()) {
            return false;
        }
    }
    host.split('.').all(|label| {
        let b = label.as_bytes();
        !b.is_empty()
            && b[0].is_ascii_alphanumeric()
            && b[b.len() - 1].is_ascii_alphanumeric()
            && b.iter().all(|&c| c.is_ascii_alphanumeric() || c == b'-')
    })
}

/// `\w[\w.-]{0,127}` with `\w` ASCII, as Docker's grammar has it (Go's
/// `\w`); oci-client's Unicode `\w` would also take `é`, which no registry
/// serves as a tag.
fn valid_tag(tag: &str) -> bool {
    let word = |c: u8| c.is_ascii_alphanumeric() || c == b'_';
    let b = tag.as_bytes();
    !b.is_empty()
        && b.len() <= 128
        && word(b[0])
        && b.iter().all(|&c| word(c) || c == b'.' || c == b'-')
}

/// `algorithm:hex`, as oci-client checks it: `[A-Za-z][A-Za-z0-9]*` parts
/// joined by one of `-_+.`, 32 or more hex digits, and for sha256, sha384
/// and sha512 exactly their length (others are unsupported).
fn check_digest(digest: &str) -> Result<(), &'static str> {
    let Some((algorithm, hex)) = digest.split_once(':') else {
        return Err("invalid reference format");
    };
    let algorithm_ok = algorithm.split(['-', '_', '+', '.']).all(|p| {
        p.starts_with(|c: char| c.is_ascii_alphabetic())
            && p.bytes().all(|c| c.is_ascii_alphanumeric())
    });
    if !algorithm_ok || hex.len() < 32 || !hex.bytes().all(|c| c.is_ascii_hexdigit()) {
        return Err("invalid reference format");
    }
    let want = match algorithm {
        "sha256" => 64,
        "sha384" => 96,
        "sha512" => 128,
        _ => return Err("unsupported digest algorithm"),
    };
    match hex.len() == want {
        true => Ok(()),
        false => Err("invalid checksum digest length"),
    }
}

/// Docker's `splitDomain`: a first part with a `.` or `:`, or `localhost`,
/// is the registry; else Docker Hub, where a one-part name is in `library/`.
fn split_domain(name: &str) -> (String, String) {
    let (mut domain, mut rest) = match name.split_once('/') {
        Some((left, right)) if left.contains(['.', ':']) || left == "localhost" => {
            (left.to_string(), right.to_string())
        }
        _ => (DOCKER_HUB.to_string(), name.to_string()),
    };
    if domain == DOCKER_HUB_LEGACY {
        domain = DOCKER_HUB.to_string();
    }
    if domain == DOCKER_HUB && !rest.contains('/') {
        rest = format!("library/{rest}");
    }
    (domain, rest)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn same_as_oci_client(image: &str) {
        let theirs: Result<Reference, _> = Reference::try_from(image);
        let ours = parse(image);
        match (&theirs, &ours) {
            (Ok(t), Ok(o)) => assert_eq!(
                (t.registry(), t.repository(), t.tag(), t.digest()),
                (o.registry(), o.repository(), o.tag(), o.digest()),
                "{image:?}"
            ),
            (Err(_), Err(_)) => {}
            _ => panic!("{image:?}: oci-client {theirs:?}, imagespec {ours:?}"),
        }
    }

    #[test]
    fn hand_picked_references_parse_as_oci_client_parses_them() {
        let sha = "a".repeat(64);
        for image in [
            "busybox",
            "busybox:1.36",
            "library/busybox",
            "docker.io/busybox",
            "index.docker.io/busybox",
            "index.docker.io/org/x:1",
            "localhost/x",
            "localhost:5000/x/y:tag",
            "127.0.0.1:5765/bench-push:QAgwzenwyeqFW3aj__Fz0w",
            "[::1]:5000/x",
            "ghcr.io/flyteorg/flytekit:py3.11-1.16.31",
            "test.com:tag",
            "test.com:5000",
            "test.com/repo:tag",
            "test:5000/repo",
            "lowercase:Uppercase",
            "Uppercase:tag",
            "foo_bar.com:8080",
            "foo_bar.com:8080/x",
            "a.b-c.d:1/e__f/g---h/i.j/k_l",
            "a//b",
            "a/",
            "/a",
            "a:",
            ":a",
            "a@",
            "a@sha256:",
            &format!("a@sha256:{sha}"),
            &format!("a:t@sha256:{sha}"),
            &format!("a@sha256:{}", "a".repeat(63)),
            &format!("a@sha512:{}", "b".repeat(128)),
            &format!("a@md5:{}", "c".repeat(32)),
            &format!("a@sha256:{}", "G".repeat(64)),
            "a:.tag",
            "a:_tag",
            "a:-tag",
            &format!("a:{}", "t".repeat(128)),
            &format!("a:{}", "t".repeat(129)),
            &format!("x/{}", "a".repeat(260)),
            "a:t:u",
            "a.-b/c",
            "a-.b/c",
            "a_b",
            "a__b",
            "a___b",
            "a-_b",
            "a.b.c",
            "a..b",
            "a b",
            "",
        ] {
            same_as_oci_client(image);
        }
    }

    #[test]
    fn a_tag_is_ascii_as_docker_says() {
        assert!(Reference::try_from("a:téx").is_ok());
        assert!(parse("a:téx").is_err());
    }

    #[test]
    fn generated_references_parse_as_oci_client_parses_them() {
        // A fixed-seed generator over the characters that matter.
        let alphabet: Vec<char> = "aZ09.-_:/@x".chars().collect();
        let mut seed: u64 = 0x2545_F491_4F6C_DD1D;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for _ in 0..20_000 {
            let len = 1 + (next() % 14) as usize;
            let s: String = (0..len)
                .map(|_| alphabet[(next() % alphabet.len() as u64) as usize])
                .collect();
            same_as_oci_client(&s);
        }
    }
}
