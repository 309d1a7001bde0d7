//! Identities and the roster: who owns or holds a credential, with the kind of identity it
//! is (email, vendor user id, login, service account, cloud principal, team); and the roster
//! of people still present, each with every identity they have. A roster is only ever asked
//! about identities of a kind it lists, so a GitHub login is never looked up among emails.

use std::{
    collections::{HashMap, HashSet},
    fmt,
    path::Path,
};

use anyhow::{bail, Context, Result};
use serde::Serialize;

/// What kind of identity a name is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum IdentityKind {
    Email,
    /// A vendor's own user id (OpenAI `user-…`, Anthropic `user_…`); `provider` says whose.
    VendorUser,
    /// A login (GitHub).
    Login,
    /// A service account (OpenAI service account, GCP `…iam.gserviceaccount.com`).
    ServiceAccount,
    /// A cloud principal that holds keys (AWS IAM user).
    CloudPrincipal,
    /// A team or group alias (`sre@`, `@org/team`, the roster's `team`).
    Team,
}

impl IdentityKind {
    pub fn as_str(self) -> &'static str {
        match self {
            IdentityKind::Email => "email",
            IdentityKind::VendorUser => "vendor user id",
            IdentityKind::Login => "login",
            IdentityKind::ServiceAccount => "service account",
            IdentityKind::CloudPrincipal => "cloud principal",
            IdentityKind::Team => "team",
        }
    }

    /// People (and teams of people) own; machines hold.
    pub fn is_human(self) -> bool {
        !matches!(
            self,
            IdentityKind::ServiceAccount | IdentityKind::CloudPrincipal
        )
    }
}

/// One identity: its kind, its value, and for vendor user ids and service accounts the
/// provider whose namespace it lives in.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct Identity {
    pub kind: IdentityKind,
    pub value: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provider: Option<String>,
}

impl fmt::Display for Identity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.provider, self.kind) {
            (Some(p), IdentityKind::VendorUser | IdentityKind::ServiceAccount) => {
                write!(f, "{} {} {}", p, self.kind.as_str(), self.value)
            }
            _ => write!(f, "{} {}", self.kind.as_str(), self.value),
        }
    }
}

impl Identity {
    pub fn new(kind: IdentityKind, value: &str, provider: Option<&str>) -> Identity {
        Identity {
            kind,
            value: value.trim().to_string(),
            provider: provider.map(str::to_ascii_lowercase),
        }
    }

    /// Classify a name as written in a register or a CODEOWNERS file: `@org/team` and
    /// `sre@` are teams, `@login` a login, `…@….iam.gserviceaccount.com` a service account,
    /// `user-…`/`user_…` a vendor user id, anything else with an `@` an email; a bare word is
    /// a login.
    pub fn classify(s: &str, provider: Option<&str>) -> Identity {
        let s = s.trim();
        let kind = if let Some(rest) = s.strip_prefix('@') {
            if rest.contains('/') {
                IdentityKind::Team
            } else {
                return Identity::new(IdentityKind::Login, rest, None);
            }
        } else if s.ends_with('@') {
            IdentityKind::Team
        } else if s.ends_with(".gserviceaccount.com") {
            return Identity::new(IdentityKind::ServiceAccount, s, Some("gcp"));
        } else if s.contains('@') {
            IdentityKind::Email
        } else if s.starts_with("user-") || s.starts_with("user_") {
            let p = provider.or(if s.starts_with("user_") {
                Some("anthropic")
            } else {
                Some("openai")
            });
            return Identity::new(IdentityKind::VendorUser, s, p);
        } else {
            IdentityKind::Login
        };
        Identity::new(kind, s, None)
    }

    /// The form looked up in a roster: lower case; a team without `@`, org or domain.
    fn key(&self) -> String {
        let v = self.value.to_ascii_lowercase();
        match self.kind {
            IdentityKind::Team => team_key(&v),
            _ => v,
        }
    }
}

fn team_key(v: &str) -> String {
    let v = v.trim().trim_start_matches('@').to_ascii_lowercase();
    let v = v.rsplit('/').next().unwrap_or(&v).to_string();
    v.split('@').next().unwrap_or(&v).to_string()
}

/// One person of the roster.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Person {
    pub name: Option<String>,
    pub email: Option<String>,
    pub team: Option<String>,
    pub identities: Vec<Identity>,
}

impl Person {
    /// How to name them in evidence.
    pub fn label(&self) -> String {
        self.email
            .clone()
            .or_else(|| self.name.clone())
            .or_else(|| self.identities.first().map(|i| i.value.clone()))
            .unwrap_or_else(|| "?".into())
    }
}

/// The people still present, and the identity kinds the roster lists (a kind it does not
/// list can be neither confirmed nor refuted).
#[derive(Debug, Clone, Default)]
pub struct Roster {
    pub people: Vec<Person>,
    index: HashMap<(IdentityKind, Option<String>, String), usize>,
    teams: HashSet<String>,
    kinds: HashSet<(IdentityKind, Option<String>)>,
    /// The file it came from, for evidence.
    pub source: String,
}

/// Roster columns and the identity each holds.
const COLUMNS: &[(&str, IdentityKind, Option<&str>)] = &[
    ("email", IdentityKind::Email, None),
    ("github_login", IdentityKind::Login, None),
    ("login", IdentityKind::Login, None),
    ("openai_user_id", IdentityKind::VendorUser, Some("openai")),
    (
        "anthropic_user_id",
        IdentityKind::VendorUser,
        Some("anthropic"),
    ),
    ("aws_iam_user", IdentityKind::CloudPrincipal, None),
    ("service_account", IdentityKind::ServiceAccount, None),
];

/// What the roster says about an identity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Presence<'a> {
    Present(Option<&'a Person>),
    Absent,
    /// The roster lists no identities of this kind.
    Unknown,
}

impl Roster {
    pub fn from_rows(
        rows: impl IntoIterator<Item = HashMap<String, String>>,
        source: &str,
    ) -> Roster {
        let mut r = Roster {
            source: source.to_string(),
            ..Roster::default()
        };
        for row in rows {
            let get = |c: &str| row.get(c).map(|s| s.trim()).filter(|s| !s.is_empty());
            let mut p = Person {
                name: get("name").map(String::from),
                email: get("email").map(str::to_ascii_lowercase),
                team: get("team").map(String::from),
                identities: Vec::new(),
            };
            for (col, kind, provider) in COLUMNS {
                let Some(v) = get(col) else { continue };
                // Several identities of one kind: `;` or `|` between them.
                for one in v.split([';', '|']).map(str::trim).filter(|s| !s.is_empty()) {
                    let id = Identity::new(*kind, one.trim_start_matches('@'), *provider);
                    p.identities.push(id);
                }
            }
            let i = r.people.len();
            for id in &p.identities {
                let provider = vendor_scoped(id);
                r.kinds.insert((id.kind, provider.clone()));
                r.index.insert((id.kind, provider, id.key()), i);
            }
            if let Some(t) = &p.team {
                r.teams.insert(team_key(t));
            }
            r.people.push(p);
        }
        r
    }

    /// Whether the roster lists identities of this kind at all.
    pub fn lists(&self, id: &Identity) -> bool {
        match id.kind {
            IdentityKind::Team => !self.teams.is_empty(),
            _ => self.kinds.contains(&(id.kind, vendor_scoped(id))),
        }
    }

    /// Look an identity up, like with like.
    pub fn presence(&self, id: &Identity) -> Presence<'_> {
        if id.kind == IdentityKind::Team {
            if self.teams.is_empty() {
                return Presence::Unknown;
            }
            return if self.teams.contains(&id.key()) {
                Presence::Present(None)
            } else {
                Presence::Absent
            };
        }
        if id.kind == IdentityKind::Email {
            // An email alias that names a team (`sre@example.com` with team `sre`).
            if self.teams.contains(&team_key(&id.value))
                && !self.index.contains_key(&(id.kind, None, id.key()))
            {
                return Presence::Present(None);
            }
        }
        if !self.lists(id) {
            return Presence::Unknown;
        }
        match self.index.get(&(id.kind, vendor_scoped(id), id.key())) {
            Some(&i) => Presence::Present(Some(&self.people[i])),
            None => Presence::Absent,
        }
    }
}

/// Vendor user ids are only comparable within one vendor.
fn vendor_scoped(id: &Identity) -> Option<String> {
    match id.kind {
        IdentityKind::VendorUser => id.provider.clone(),
        _ => None,
    }
}

/// The column names a roster may have, for messages.
pub fn roster_columns() -> Vec<&'static str> {
    let mut v: Vec<&str> = COLUMNS.iter().map(|c| c.0).collect();
    v.push("team");
    v
}

/// Read a roster CSV: one person a row, with any of the identity columns (`email`,
/// `github_login`, `openai_user_id`, `anthropic_user_id`, `aws_iam_user`,
/// `service_account`), `name` and `team`. Rows are read one at a time.
pub fn load_roster(path: &Path, warnings: &mut Vec<String>) -> Result<Roster> {
    let shown = path.display().to_string();
    let file = std::fs::File::open(path).with_context(|| format!("reading roster {shown}"))?;
    let mut rdr = csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(std::io::BufReader::new(file));
    let headers: Vec<String> = rdr
        .headers()
        .with_context(|| format!("roster {shown}: reading the CSV header"))?
        .iter()
        .map(|h| h.to_ascii_lowercase())
        .collect();
    let known = roster_columns();
    if !headers.iter().any(|h| known.contains(&h.as_str())) {
        bail!(
            "roster {shown}: none of the columns {} (one identity column at least)",
            known.join(", ")
        );
    }
    let mut rows = Vec::new();
    for (i, row) in rdr.records().enumerate() {
        match row {
            Ok(r) => rows.push(
                headers
                    .iter()
                    .cloned()
                    .zip(r.iter().map(String::from))
                    .collect::<HashMap<String, String>>(),
            ),
            Err(_) => warnings.push(format!(
                "{shown}:{}: not a CSV row this roster can read; skipped",
                i + 2
            )),
        }
    }
    Ok(Roster::from_rows(rows, &shown))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roster(csv: &str) -> Roster {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("people.csv");
        std::fs::write(&p, csv).unwrap();
        load_roster(&p, &mut Vec::new()).unwrap()
    }

    #[test]
    fn classify_names() {
        use IdentityKind::*;
        for (s, kind) in [
            ("dave@example.com", Email),
            ("@octocat", Login),
            ("octocat", Login),
            ("@org/sre", Team),
            ("sre@", Team),
            ("ci@demo.iam.gserviceaccount.com", ServiceAccount),
            ("user-abc123", VendorUser),
            ("user_01ABC", VendorUser),
        ] {
            assert_eq!(Identity::classify(s, None).kind, kind, "{s}");
        }
        assert_eq!(
            Identity::classify("user_01ABC", None).provider.as_deref(),
            Some("anthropic")
        );
    }

    #[test]
    fn like_with_like_only() {
        let r = roster(
            "name,email,github_login,openai_user_id,team\nDave,dave@example.com,dave-gh,user-dave,sre\n",
        );
        let id = |k, v: &str, p: Option<&str>| Identity::new(k, v, p);
        use IdentityKind::*;
        assert!(matches!(
            r.presence(&id(Email, "Dave@Example.com", None)),
            Presence::Present(Some(_))
        ));
        assert_eq!(
            r.presence(&id(Email, "carol@example.com", None)),
            Presence::Absent
        );
        assert!(matches!(
            r.presence(&id(Login, "dave-gh", None)),
            Presence::Present(_)
        ));
        assert_eq!(r.presence(&id(Login, "carol-gh", None)), Presence::Absent);
        assert!(matches!(
            r.presence(&id(VendorUser, "user-dave", Some("openai"))),
            Presence::Present(_)
        ));
        // No anthropic_user_id column: an Anthropic user id is neither here nor gone.
        assert_eq!(
            r.presence(&id(VendorUser, "user_01X", Some("anthropic"))),
            Presence::Unknown
        );
        // No aws_iam_user column either.
        assert_eq!(
            r.presence(&id(CloudPrincipal, "deploy-bot", None)),
            Presence::Unknown
        );
        assert!(matches!(
            r.presence(&id(Team, "@org/sre", None)),
            Presence::Present(_)
        ));
        assert!(matches!(
            r.presence(&id(Email, "sre@example.com", None)),
            Presence::Present(_)
        ));
        assert_eq!(r.presence(&id(Team, "payments@", None)), Presence::Absent);
    }

    #[test]
    fn a_roster_without_identity_columns_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("r.csv");
        std::fs::write(&p, "name,phone\nA,1\n").unwrap();
        let e = load_roster(&p, &mut Vec::new()).unwrap_err().to_string();
        assert!(e.contains("r.csv") && e.contains("email"), "{e}");
    }
}
