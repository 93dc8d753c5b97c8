//! The READMEs are tested: their Rust snippets compile (and, unless marked `no_run`, run) as
//! doctests of this crate, whose dev-dependencies cover every crate they use, and the tests
//! below check that the tables name what the code defines. So the setup a newcomer copies
//! cannot rot.
//!
//! `cargo test -p cometgate-conformance --doc` runs the snippets (`cargo test --workspace`
//! too). `crates/cometgate-jwt/README.md` is a doctest of cometgate-jwt itself.

/// `README.md`.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
struct TopReadme;

/// `crates/cometchat-fake/README.md` (the fake cannot host it: it must not depend on cometgate).
#[cfg(doctest)]
#[doc = include_str!("../../crates/cometchat-fake/README.md")]
struct FakeReadme;

/// `examples/axum-quickstart/README.md`.
#[cfg(doctest)]
#[doc = include_str!("../../examples/axum-quickstart/README.md")]
struct AxumQuickstartReadme;

/// `examples/actix-quickstart/README.md`.
#[cfg(doctest)]
#[doc = include_str!("../../examples/actix-quickstart/README.md")]
struct ActixQuickstartReadme;

#[cfg(test)]
mod tables {
    use cometgate::vend::{ENV_PER_USER_LIMIT, ENV_UPSTREAM_BUDGET, ProblemType};
    use quickstart_common::demo_auth::{AUDIENCE, ISSUER};

    const TOP: &str = include_str!("../../README.md");
    const QUICKSTARTS: [(&str, &str); 2] = [
        (
            "axum-quickstart",
            include_str!("../../examples/axum-quickstart/README.md"),
        ),
        (
            "actix-quickstart",
            include_str!("../../examples/actix-quickstart/README.md"),
        ),
    ];

    /// The table rows of `text` whose first cell is `first`.
    fn rows<'a>(text: &'a str, first: &str) -> Vec<&'a str> {
        let start = format!("| {first} |");
        text.lines().filter(|l| l.starts_with(&start)).collect()
    }

    #[test]
    fn the_top_readme_lists_every_problem_type_with_its_status() {
        // Rows `| 429 | `rate-limited` | ...`: the problem table, in the code's order.
        let listed: Vec<(u16, &str)> = TOP
            .lines()
            .filter_map(|line| {
                let mut cells = line.strip_prefix("| ")?.split(" | ");
                let status = cells.next()?.parse().ok()?;
                let slug = cells.next()?.strip_prefix('`')?.strip_suffix('`')?;
                Some((status, slug))
            })
            .collect();
        let declared: Vec<(u16, &str)> = ProblemType::ALL
            .iter()
            .map(|p| (p.status(), p.slug()))
            .collect();
        assert_eq!(
            listed, declared,
            "README.md's problem table vs cometgate::vend::ProblemType::ALL"
        );
    }

    #[test]
    fn the_limit_variables_are_documented() {
        use cometgate::vend::{ENV_TOKEN_MAX_AGE, ENV_TOKEN_RECHECK, ENV_TOKENS_PER_USER};
        for var in [
            ENV_PER_USER_LIMIT,
            ENV_UPSTREAM_BUDGET,
            ENV_TOKENS_PER_USER,
            ENV_TOKEN_MAX_AGE,
            ENV_TOKEN_RECHECK,
        ] {
            assert_eq!(rows(TOP, &format!("`{var}`")).len(), 1, "README.md: {var}");
            for (name, readme) in QUICKSTARTS {
                assert_eq!(rows(readme, &format!("`{var}`")).len(), 1, "{name}: {var}");
            }
        }
    }

    #[test]
    fn the_quickstart_readmes_state_the_demo_tokens_iss_and_aud() {
        for (name, readme) in QUICKSTARTS {
            for (claim, value) in [("iss", ISSUER), ("aud", AUDIENCE)] {
                let row = format!("| `{claim}` | exactly `{value}` |");
                assert!(readme.contains(&row), "{name}/README.md lacks {row}");
            }
        }
    }
}
