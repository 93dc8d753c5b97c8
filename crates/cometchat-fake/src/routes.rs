//! Which endpoint a request is for: parsed once from its method and path, then matched on.
//!
//! [`Route::ALL`] lists every route with its parameters spelt as the template's placeholders;
//! [`ROUTES`] is derived from it, so the public list and the dispatch cannot drift apart.

use http::Method;

/// A route of the REST API, called with an API key. Parameters are raw path segments: as sent,
/// still percent-encoded (CometChat echoes them that way in its errors).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RestRoute<'a> {
    ListUsers,
    CreateUser,
    GetUser {
        uid: &'a str,
    },
    UpdateUser {
        uid: &'a str,
    },
    DeleteUser {
        uid: &'a str,
    },
    /// `PUT /users` with `uidsToActivate`.
    ReactivateUsers,
    ListTokens {
        uid: &'a str,
    },
    MintToken {
        uid: &'a str,
    },
    FlushTokens {
        uid: &'a str,
    },
    GetToken {
        uid: &'a str,
        token: &'a str,
    },
    UpdateToken {
        uid: &'a str,
        token: &'a str,
    },
    DeleteToken {
        uid: &'a str,
        token: &'a str,
    },
}

/// A route of the client API the official JS SDK calls, keyed by an `authToken` header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SdkRoute {
    GetMe,
    LogIn,
    LogOut,
    CreateSession,
    GetSettings,
}

/// The route a request matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Route<'a> {
    Rest(RestRoute<'a>),
    Sdk(SdkRoute),
}

impl Route<'static> {
    /// Every route the fake serves, in the order of [`ROUTES`].
    pub(crate) const ALL: [Route<'static>; 17] = {
        use RestRoute as R;
        const UID: &str = "{uid}";
        const TOKEN: &str = "{authToken}";
        [
            Route::Rest(R::ListUsers),
            Route::Rest(R::CreateUser),
            Route::Rest(R::GetUser { uid: UID }),
            Route::Rest(R::UpdateUser { uid: UID }),
            Route::Rest(R::DeleteUser { uid: UID }),
            Route::Rest(R::ReactivateUsers),
            Route::Rest(R::ListTokens { uid: UID }),
            Route::Rest(R::MintToken { uid: UID }),
            Route::Rest(R::FlushTokens { uid: UID }),
            Route::Rest(R::GetToken {
                uid: UID,
                token: TOKEN,
            }),
            Route::Rest(R::UpdateToken {
                uid: UID,
                token: TOKEN,
            }),
            Route::Rest(R::DeleteToken {
                uid: UID,
                token: TOKEN,
            }),
            Route::Sdk(SdkRoute::GetMe),
            Route::Sdk(SdkRoute::LogIn),
            Route::Sdk(SdkRoute::LogOut),
            Route::Sdk(SdkRoute::CreateSession),
            Route::Sdk(SdkRoute::GetSettings),
        ]
    };
}

/// Every route the fake serves, as `METHOD /template` without the version prefix.
pub const ROUTES: &[&str] = &{
    let mut templates = [""; Route::ALL.len()];
    let mut i = 0;
    while i < templates.len() {
        templates[i] = Route::ALL[i].template();
        i += 1;
    }
    templates
};

impl<'a> Route<'a> {
    /// The route `method` and `path` (after the version prefix) name, if the fake serves it.
    pub(crate) fn parse(method: &Method, path: &'a str) -> Option<Self> {
        use RestRoute as R;
        let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        if segments.iter().skip(1).any(|s| s.is_empty()) {
            return None;
        }
        let route = match (method.as_str(), segments.as_slice()) {
            ("GET", ["users"]) => Route::Rest(R::ListUsers),
            ("POST", ["users"]) => Route::Rest(R::CreateUser),
            ("GET", ["users", uid]) => Route::Rest(R::GetUser { uid }),
            ("PUT", ["users", uid]) => Route::Rest(R::UpdateUser { uid }),
            ("DELETE", ["users", uid]) => Route::Rest(R::DeleteUser { uid }),
            ("PUT", ["users"]) => Route::Rest(R::ReactivateUsers),
            ("GET", ["users", uid, "auth_tokens"]) => Route::Rest(R::ListTokens { uid }),
            ("POST", ["users", uid, "auth_tokens"]) => Route::Rest(R::MintToken { uid }),
            ("DELETE", ["users", uid, "auth_tokens"]) => Route::Rest(R::FlushTokens { uid }),
            ("GET", ["users", uid, "auth_tokens", token]) => {
                Route::Rest(R::GetToken { uid, token })
            }
            ("PUT", ["users", uid, "auth_tokens", token]) => {
                Route::Rest(R::UpdateToken { uid, token })
            }
            ("DELETE", ["users", uid, "auth_tokens", token]) => {
                Route::Rest(R::DeleteToken { uid, token })
            }
            ("GET", ["me"]) => Route::Sdk(SdkRoute::GetMe),
            ("PUT", ["me"]) => Route::Sdk(SdkRoute::LogIn),
            ("DELETE", ["me"]) => Route::Sdk(SdkRoute::LogOut),
            ("POST", ["user_sessions"]) => Route::Sdk(SdkRoute::CreateSession),
            ("GET", ["settings"]) => Route::Sdk(SdkRoute::GetSettings),
            _ => return None,
        };
        Some(route)
    }

    /// `METHOD /template`, e.g. `POST /users/{uid}/auth_tokens`: what fault scripts, counts and
    /// journal entries name the route by.
    pub(crate) const fn template(&self) -> &'static str {
        use RestRoute as R;
        match self {
            Route::Rest(R::ListUsers) => "GET /users",
            Route::Rest(R::CreateUser) => "POST /users",
            Route::Rest(R::GetUser { .. }) => "GET /users/{uid}",
            Route::Rest(R::UpdateUser { .. }) => "PUT /users/{uid}",
            Route::Rest(R::DeleteUser { .. }) => "DELETE /users/{uid}",
            Route::Rest(R::ReactivateUsers) => "PUT /users",
            Route::Rest(R::ListTokens { .. }) => "GET /users/{uid}/auth_tokens",
            Route::Rest(R::MintToken { .. }) => "POST /users/{uid}/auth_tokens",
            Route::Rest(R::FlushTokens { .. }) => "DELETE /users/{uid}/auth_tokens",
            Route::Rest(R::GetToken { .. }) => "GET /users/{uid}/auth_tokens/{authToken}",
            Route::Rest(R::UpdateToken { .. }) => "PUT /users/{uid}/auth_tokens/{authToken}",
            Route::Rest(R::DeleteToken { .. }) => "DELETE /users/{uid}/auth_tokens/{authToken}",
            Route::Sdk(SdkRoute::GetMe) => "GET /me",
            Route::Sdk(SdkRoute::LogIn) => "PUT /me",
            Route::Sdk(SdkRoute::LogOut) => "DELETE /me",
            Route::Sdk(SdkRoute::CreateSession) => "POST /user_sessions",
            Route::Sdk(SdkRoute::GetSettings) => "GET /settings",
        }
    }

    /// "Core" operations count against 10,000 requests a minute, the rest against 20,000 (as
    /// recorded from the real server).
    pub(crate) const fn is_core(&self) -> bool {
        matches!(
            self,
            Route::Rest(RestRoute::CreateUser | RestRoute::DeleteUser { .. })
        )
    }
}

/// The path after `/v3` or `/v3.0`, which the fake both serves.
pub(crate) fn strip_version(path: &str) -> Option<&str> {
    ["/v3.0", "/v3"]
        .iter()
        .filter_map(|prefix| path.strip_prefix(prefix))
        .find(|rest| rest.starts_with('/'))
}

/// `route` in the fake's own spelling (method upper case, no version prefix or trailing `/`),
/// if it is one of [`ROUTES`]: a fault scripted for a misspelt route would never fire.
pub(crate) fn normalise_route(route: &str) -> Result<&'static str, String> {
    let normalised = normalise_spelling(route)?;
    ROUTES
        .iter()
        .find(|known| **known == normalised)
        .copied()
        .ok_or_else(|| {
            format!(
                "route {route:?} is not served by the fake (known routes: {})",
                ROUTES.join(", ")
            )
        })
}

fn normalise_spelling(route: &str) -> Result<String, String> {
    let mut parts = route.split_whitespace();
    let (Some(method), Some(path), None) = (parts.next(), parts.next(), parts.next()) else {
        return Err(format!(
            "route {route:?} must be a method and a path template, e.g. \"POST /users/{{uid}}/auth_tokens\""
        ));
    };
    let path = path
        .strip_prefix("/v3.0")
        .or_else(|| path.strip_prefix("/v3"))
        .unwrap_or(path);
    let path = path.trim_end_matches('/');
    if !path.starts_with('/') {
        return Err(format!("route {route:?}: the path must start with /"));
    }
    Ok(format!("{} {}", method.to_ascii_uppercase(), path))
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn method(name: &str) -> Method {
        name.parse().unwrap_or(Method::GET)
    }

    #[test]
    fn every_listed_route_parses_back_to_itself() {
        for (route, listed) in Route::ALL.iter().zip(ROUTES) {
            let (verb, template) = listed.split_once(' ').unwrap();
            assert_eq!(Route::parse(&method(verb), template), Some(*route));
            assert_eq!(route.template(), *listed);
        }
        let mut unique = ROUTES.to_vec();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), ROUTES.len(), "each route listed once");
    }

    #[test]
    fn parameters_are_the_raw_segments() {
        assert_eq!(
            Route::parse(&Method::DELETE, "/users/Bob%20B/auth_tokens/t_1"),
            Some(Route::Rest(RestRoute::DeleteToken {
                uid: "Bob%20B",
                token: "t_1"
            }))
        );
        for unserved in [
            (Method::PATCH, "/users"),
            (Method::DELETE, "/users"),
            (Method::GET, "/groups"),
            (Method::GET, "/users/"),
            (Method::GET, "/users//auth_tokens"),
            (Method::GET, "/users/a/auth_tokens/"),
            (Method::POST, "/me"),
        ] {
            assert_eq!(Route::parse(&unserved.0, unserved.1), None, "{unserved:?}");
        }
    }

    #[test]
    fn routes_are_normalised() {
        assert_eq!(
            normalise_route("post /v3/users/{uid}/auth_tokens/"),
            Ok("POST /users/{uid}/auth_tokens")
        );
        assert_eq!(normalise_route("GET /v3.0/users"), Ok("GET /users"));
        assert!(normalise_route("POST").is_err());
        assert!(normalise_route("POST users").is_err());
        // Misspelt templates are refused instead of never firing.
        for typo in [
            "POST /users/{id}/auth_tokens",
            "POST /user/{uid}/auth_tokens",
            "PATCH /users",
        ] {
            let error = normalise_route(typo).unwrap_err();
            assert!(error.contains("not served"), "{error}");
        }
        for route in ROUTES {
            assert_eq!(normalise_route(route), Ok(*route));
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 512, failure_persistence: None, ..ProptestConfig::default() })]

        /// Whatever a client sends, a matched route is one of the listed ones, and its
        /// parameters are non-empty segments of the path.
        #[test]
        fn any_matched_route_is_listed(
            verb in prop::sample::select(vec!["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"]),
            segments in prop::collection::vec(
                prop_oneof![
                    Just("users".to_owned()),
                    Just("auth_tokens".to_owned()),
                    Just("me".to_owned()),
                    Just("settings".to_owned()),
                    Just("user_sessions".to_owned()),
                    "[a-zA-Z0-9_%-]{0,6}",
                ],
                0..6,
            ),
        ) {
            let path = format!("/{}", segments.join("/"));
            if let Some(route) = Route::parse(&method(verb), &path) {
                prop_assert!(ROUTES.contains(&route.template()));
                prop_assert!(route.template().starts_with(verb));
                let params: Vec<&str> = match route {
                    Route::Rest(
                        RestRoute::GetUser { uid }
                        | RestRoute::UpdateUser { uid }
                        | RestRoute::DeleteUser { uid }
                        | RestRoute::ListTokens { uid }
                        | RestRoute::MintToken { uid }
                        | RestRoute::FlushTokens { uid },
                    ) => vec![uid],
                    Route::Rest(
                        RestRoute::GetToken { uid, token }
                        | RestRoute::UpdateToken { uid, token }
                        | RestRoute::DeleteToken { uid, token },
                    ) => vec![uid, token],
                    _ => vec![],
                };
                for param in params {
                    prop_assert!(!param.is_empty() && segments.iter().any(|s| s == param));
                }
            }
        }
    }
}
