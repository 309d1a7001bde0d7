//! The HTML report: an audit in, one self-contained page out (inline CSS, JS and SVG; no
//! network), readable printed. Summary tiles, credentials by category and by provider, a
//! timeline of when secrets were introduced against when their keys expire or were last
//! used, and a sortable, filterable table: per credential its lifecycle (each fact with its
//! export), what the provider said (`--validate`), categories with evidence, and what to do
//! (the rule's revoke text first). Only redacted values ever reach the page.

use std::{
    collections::BTreeMap,
    fmt::Write as _,
    io::{self, Write},
};

use crate::{
    audit::{category_counts, Audit, Category},
    report::audit_json::{record_what_to_do, what_to_do},
    rules::Severity,
    time::{parse_date, rfc3339},
};

fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c => o.push(c),
        }
    }
    o
}

const CSS: &str = r#"
*{box-sizing:border-box}body{font:14px/1.45 system-ui,-apple-system,Segoe UI,sans-serif;margin:24px;color:#1d2330;background:#fff}
h1{font-size:22px;margin:0 0 4px}h2{font-size:16px;margin:28px 0 8px}.muted{color:#667}
.tiles{display:grid;grid-template-columns:repeat(6,minmax(110px,1fr));gap:10px;margin:16px 0}
.tile{border:1px solid #dde;border-radius:8px;padding:10px 12px}.tile b{display:block;font-size:26px}
.tile.crit b{color:#b00020}.charts{display:grid;grid-template-columns:1fr 1fr;gap:18px}
svg text{font:12px system-ui,sans-serif;fill:#333}table{border-collapse:collapse;width:100%;font-size:13px}
th,td{border-bottom:1px solid #e4e6ee;padding:5px 6px;text-align:left;vertical-align:top}
th{cursor:pointer;background:#f4f5f9;position:sticky;top:0}th.sorted::after{content:" \25BE"}
.sev{font-weight:600}.sev-critical{color:#b00020}.sev-high{color:#d2461c}.sev-medium{color:#a67100}.sev-low{color:#2f6f9f}
.cat{display:inline-block;background:#eef0f7;border-radius:4px;padding:0 5px;margin:1px;font-size:12px}
.validation-valid{color:#b00020}.validation-invalid{color:#2f8f5f}.validation-unknown,.validation-error{color:#a67100}
code{font:12px ui-monospace,Menlo,monospace}#filter{width:320px;padding:6px;margin:6px 0}
@media print{#filter,.noprint{display:none}th{position:static}body{margin:8mm}.charts{grid-template-columns:1fr 1fr}}
"#;

const JS: &str = r#"
window.addEventListener('load',function(){document.documentElement.setAttribute('data-load-ms',Math.round(performance.now()))});
(function(){
 var t=document.getElementById('credentials')||document.getElementById('secrets');if(!t)return;var tb=t.tBodies[0];
 var f=document.getElementById('filter');
 f.addEventListener('input',function(){var q=f.value.toLowerCase();var n=0;
  for(var i=0;i<tb.rows.length;i++){var r=tb.rows[i];var show=!q||r.textContent.toLowerCase().indexOf(q)>=0;r.style.display=show?'':'none';if(show)n++}
  document.getElementById('shown').textContent=n;});
 var ths=t.tHead.rows[0].cells;
 for(var c=0;c<ths.length;c++){(function(col){ths[col].addEventListener('click',function(){
  var rows=Array.prototype.slice.call(tb.rows);var asc=!this.classList.contains('sorted')||this.dataset.dir==='desc';
  rows.sort(function(a,b){var x=a.cells[col].dataset.key||a.cells[col].textContent,y=b.cells[col].dataset.key||b.cells[col].textContent;
   var nx=parseFloat(x),ny=parseFloat(y);if(!isNaN(nx)&&!isNaN(ny))return asc?nx-ny:ny-nx;return asc?x.localeCompare(y):y.localeCompare(x)});
  for(var i=0;i<ths.length;i++)ths[i].classList.remove('sorted');this.classList.add('sorted');this.dataset.dir=asc?'asc':'desc';
  rows.forEach(function(r){tb.appendChild(r)});});})(c)}
})();
"#;

fn bar_chart(id: &str, title: &str, data: &[(String, usize)]) -> String {
    let max = data.iter().map(|(_, v)| *v).max().unwrap_or(1).max(1);
    let row = 22;
    let h = 10 + row * data.len().max(1);
    let mut s = format!(
        r#"<figure><figcaption>{}</figcaption><svg id="{id}" role="img" viewBox="0 0 460 {h}" width="100%">"#,
        esc(title)
    );
    for (i, (label, v)) in data.iter().enumerate() {
        let y = 5 + i * row;
        let w = 260 * v / max;
        let _ = write!(
            s,
            r##"<g class="bar"><text x="150" y="{}" text-anchor="end">{}</text><rect x="156" y="{}" width="{}" height="16" fill="#4a63c9"><title>{}: {v}</title></rect><text x="{}" y="{}">{v}</text></g>"##,
            y + 13,
            esc(label),
            y,
            w.max(1),
            esc(label),
            160 + w,
            y + 13
        );
    }
    s.push_str("</svg></figure>");
    s
}

struct Event {
    introduced: Option<i64>,
    expires: Option<i64>,
    last_used: Option<i64>,
    label: String,
}

/// One row per credential: its label on the left, its dates as marks on a shared time axis
/// with labelled ticks, so the chart reads without hovering.
fn timeline(events: &[Event], now: i64) -> String {
    let times: Vec<i64> = events
        .iter()
        .flat_map(|e| [e.introduced, e.expires, e.last_used])
        .flatten()
        .chain([now])
        .collect();
    let lo = *times.iter().min().unwrap_or(&now);
    let hi = (*times.iter().max().unwrap_or(&now)).max(lo + 86_400);
    let shown: Vec<&Event> = events
        .iter()
        .filter(|e| e.introduced.or(e.expires).or(e.last_used).is_some())
        .take(400)
        .collect();
    let (w, row, left) = (1000.0, 20.0, 320.0);
    let top = 36.0;
    let h = top + 10.0 + row * shown.len().max(1) as f64;
    let x = |t: i64| left + 10.0 + (w - left - 30.0) * (t - lo) as f64 / (hi - lo) as f64;
    let mut s = format!(
        r##"<figure><figcaption>One row per credential: ● introduced, ▲ key expires, ◆ key last used; the dashed line is now.</figcaption><svg id="chart-timeline" role="img" viewBox="0 0 {w} {h}" width="100%">"##
    );
    for i in 0..=4 {
        let t = lo + (hi - lo) * i / 4;
        let anchor = match i {
            0 => "start",
            4 => "end",
            _ => "middle",
        };
        let _ = write!(
            s,
            r##"<line x1="{tx}" x2="{tx}" y1="22" y2="{h}" stroke="#eceef5"/><text class="tick" x="{tx}" y="16" text-anchor="{anchor}">{}</text>"##,
            &rfc3339(t, 0)[..10],
            tx = x(t),
        );
    }
    let _ = write!(
        s,
        r##"<line x1="{nx}" x2="{nx}" y1="22" y2="{h}" stroke="#b00020" stroke-dasharray="3 3"/><text x="{nx}" y="32" text-anchor="middle" fill="#b00020">now</text>"##,
        nx = x(now),
    );
    for (i, e) in shown.iter().enumerate() {
        let y = top + 10.0 + row * i as f64;
        let label: String = e.label.chars().take(40).collect();
        let _ = write!(
            s,
            r##"<text class="row-label" x="{}" y="{}" text-anchor="end">{}</text>"##,
            left,
            y + 4.0,
            esc(&label)
        );
        if let (Some(a), Some(b)) = (e.introduced, e.expires.or(e.last_used)) {
            let _ = write!(
                s,
                r##"<line x1="{}" x2="{}" y1="{y}" y2="{y}" stroke="#c5cbe3"/>"##,
                x(a),
                x(b)
            );
        }
        let title = format!("<title>{}</title>", esc(&e.label));
        if let Some(t) = e.introduced {
            let _ = write!(
                s,
                r##"<circle class="introduced" cx="{}" cy="{y}" r="4" fill="#4a63c9">{title}</circle>"##,
                x(t)
            );
        }
        if let Some(t) = e.expires {
            let (px, py) = (x(t), y);
            let _ = write!(
                s,
                r##"<path class="expires" d="M{} {} L{} {} L{} {} Z" fill="#b00020">{title}</path>"##,
                px,
                py - 5.0,
                px - 5.0,
                py + 4.0,
                px + 5.0,
                py + 4.0
            );
        }
        if let Some(t) = e.last_used {
            let (px, py) = (x(t), y);
            let _ = write!(
                s,
                r##"<path class="last-used" d="M{} {} L{} {} L{} {} L{} {} Z" fill="#2f8f5f">{title}</path>"##,
                px,
                py - 5.0,
                px + 5.0,
                py,
                px,
                py + 5.0,
                px - 5.0,
                py
            );
        }
    }
    s.push_str("</svg></figure>");
    s
}

fn sev_key(s: Severity) -> u8 {
    s as u8
}

/// One lifecycle cell: `data-field` names the fact, `data-key` sorts it (RFC 3339 dates).
fn cell(field: &str, key: Option<i64>, lines: &[String]) -> String {
    let body: String = if lines.is_empty() {
        "<span class=\"muted\">–</span>".into()
    } else {
        lines.iter().map(|l| format!("<div>{l}</div>")).collect()
    };
    match key {
        Some(t) => format!(
            r#"<td class="lc" data-field="{field}" data-key="{}">{body}</td>"#,
            rfc3339(t, 0)
        ),
        None => format!(r#"<td class="lc" data-field="{field}">{body}</td>"#),
    }
}

fn from(src: &str) -> String {
    format!(" <span class=\"muted\">({})</span>", esc(src))
}

/// Who owns it, what it is for, when it stops working, when it was last used and when its
/// review is due: the lifecycle a programme binds every credential to, each fact with the
/// export it came from. `c` is the credential found in code, if any.
fn lifecycle_cells(
    rec: Option<&crate::inventory::InventoryRecord>,
    c: Option<&crate::audit::AuditedCredential>,
    attestation: Option<&crate::audit::attest::Attestation>,
    now: i64,
) -> String {
    let day = |t: i64| rfc3339(t, 0)[..10].to_string();
    // Owner.
    let mut owner = Vec::new();
    if let Some(r) = rec {
        if let Some(o) = &r.owner {
            owner.push(format!("{}{}", esc(o), from(r.fact_source("owner"))));
        }
        if let Some(p) = &r.principal {
            owner.push(format!(
                "held by {}{}",
                esc(&p.to_string()),
                from(r.fact_source("principal"))
            ));
        }
        if let Some(t) = &r.team {
            owner.push(format!("team {}{}", esc(t), from(r.fact_source("team"))));
        }
    }
    if owner.is_empty() {
        owner.push("<span class=\"muted\">none recorded</span>".into());
    }
    if let Some(c) = c.filter(|c| !c.suggested_owners.is_empty()) {
        owner.push(format!(
            "<span class=\"muted\">suggested: {}</span>",
            esc(&c.suggested_owners.join(", "))
        ));
    }
    // Purpose.
    let purpose: Vec<String> = match rec.and_then(|r| r.purpose.as_deref().map(|p| (r, p))) {
        Some((r, p)) => vec![format!("{}{}", esc(p), from(r.fact_source("purpose")))],
        None => vec!["<span class=\"muted\">not recorded</span>".into()],
    };
    // When it stops working.
    let mut stops = Vec::new();
    let mut stops_key = None;
    if let Some(v) = c.and_then(|c| c.exposure.validation.as_ref()) {
        if v.status == crate::validate::Status::Invalid {
            stops.push(format!(
                "no longer works: the provider rejects it{}",
                from(&format!("validator {} at {}", v.validator, v.checked_at))
            ));
        }
    }
    if let Some(r) = rec {
        if let Some(t) = r.expires_at {
            stops_key = Some(t);
            let who = if r.expiry_enforced {
                "enforced by the vendor"
            } else {
                "set in the register; the vendor does not enforce it"
            };
            stops.push(format!(
                "{} {} ({who}){}",
                if t < now { "expired" } else { "expires" },
                day(t),
                from(r.fact_source("expires_at"))
            ));
        }
        if matches!(r.register_status, Some(crate::inventory::Status::Retired)) {
            stops.push(format!(
                "end of purpose: retired in the register{}",
                from(&r.source)
            ));
        }
        if !r.status.is_live() {
            stops.push(format!(
                "{} at the vendor{}",
                r.status.as_str(),
                from(r.fact_source("status"))
            ));
        }
    }
    if let Some(e) = c.and_then(|c| c.exposure.expiry.as_ref()) {
        stops_key = stops_key.or(e.expires_at);
        stops.push(esc(&crate::expiry::describe(e, now)));
    }
    if stops.is_empty() {
        let static_key = c.is_some_and(|c| {
            c.exposure.lifetime.unwrap_or_default() == crate::rules::Lifetime::Static
        });
        stops.push(format!(
            "<b>never on its own</b>: {}",
            if static_key || c.is_none() {
                "no expiry recorded; it works until revoked"
            } else {
                "no expiry known"
            }
        ));
    }
    // Last used.
    let (used, used_key) = match rec {
        Some(r) if r.usage_known => match r.last_used_at {
            Some(t) => (
                vec![format!("{}{}", day(t), from(r.fact_source("last_used_at")))],
                Some(t),
            ),
            None => (
                vec![format!("never{}", from(r.fact_source("last_used_at")))],
                None,
            ),
        },
        _ => (
            vec!["<span class=\"muted\">no export reports its use</span>".into()],
            None,
        ),
    };
    // Review due.
    let mut review = Vec::new();
    let mut review_key = None;
    if let Some(r) = rec {
        if let Some(t) = r.review_due {
            review_key = Some(t);
            review.push(format!(
                "{}{}{}",
                if t < now { "overdue since " } else { "" },
                day(t),
                from(r.fact_source("review_due"))
            ));
        }
    }
    if let Some(a) = attestation {
        review.push(format!(
            "attested ({}) by {} on {}, until {}",
            esc(&format!("{:?}", a.decision).to_ascii_lowercase()),
            esc(&a.reviewed_by),
            esc(&a.date),
            esc(&a.until)
        ));
    }
    if review.is_empty() {
        review.push("<span class=\"muted\">no review date set</span>".into());
    }
    [
        cell("owner", None, &owner),
        cell("purpose", None, &purpose),
        cell("stops", stops_key, &stops),
        cell("last-used", used_key, &used),
        cell("review-due", review_key, &review),
    ]
    .concat()
}

/// What the provider said (`--validate`), every status: valid, invalid, unknown, error; with
/// when it was checked, by which validator, and the identity it named.
fn validation_cell(v: Option<&crate::validate::Validation>) -> String {
    let Some(v) = v else {
        return r#"<td class="lc" data-field="validation"><span class="muted">not checked</span></td>"#
            .into();
    };
    let mut lines = vec![format!(
        "<b class=\"validation validation-{s}\">{s}</b>",
        s = v.status.as_str()
    )];
    if !v.identity.is_empty() {
        let who: Vec<String> = v
            .identity
            .iter()
            .map(|(k, x)| format!("{} {}", esc(k), esc(x)))
            .collect();
        lines.push(who.join(", "));
    }
    if let Some(m) = &v.message {
        lines.push(format!("<span class=\"muted\">{}</span>", esc(m)));
    }
    lines.push(format!(
        "<span class=\"muted\">checked {} by validator {}</span>",
        esc(&v.checked_at),
        esc(&v.validator)
    ));
    let body: String = lines.iter().map(|l| format!("<div>{l}</div>")).collect();
    format!(
        r#"<td class="lc" data-field="validation" data-status="{}" data-key="{}">{body}</td>"#,
        v.status.as_str(),
        esc(&v.checked_at)
    )
}

/// What to do, the rule's own revoke / rotate text first.
fn todo_cell(lines: &[String]) -> String {
    if lines.is_empty() {
        return r#"<td data-field="what-to-do"><span class="muted">–</span></td>"#.into();
    }
    let body: String = lines
        .iter()
        .map(|l| format!("<div>{}</div>", esc(l)))
        .collect();
    format!(r#"<td data-field="what-to-do">{body}</td>"#)
}

/// Write the audit as one self-contained HTML page. `title` names the report.
pub fn write(a: &Audit, title: &str, out: &mut dyn Write) -> io::Result<()> {
    let counts = category_counts(a);
    let count = |c: Category| counts.get(&c).copied().unwrap_or(0);
    let critical = a
        .credentials
        .iter()
        .filter(|c| c.severity() == Severity::Critical)
        .count();
    let mut h = String::with_capacity(64 * 1024 + a.credentials.len() * 800);
    let _ = write!(
        h,
        r#"<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>{t}</title><style>{CSS}</style></head><body>
<h1>{t}</h1><div class="muted">as of {now} · generated by sprawl {v} · redacted values only</div>
<div class="tiles">
<div class="tile" id="tile-credentials"><b>{}</b>credentials</div>
<div class="tile crit" id="tile-critical"><b>{critical}</b>critical</div>
<div class="tile" id="tile-uninventoried"><b>{}</b>uninventoried</div>
<div class="tile" id="tile-orphaned"><b>{}</b>orphaned</div>
<div class="tile" id="tile-stale"><b>{}</b>stale</div>
<div class="tile" id="tile-expired"><b>{}</b>expired</div>
</div>"#,
        a.credentials.len(),
        count(Category::Uninventoried),
        count(Category::Orphaned),
        count(Category::Stale),
        count(Category::Expired),
        t = esc(title),
        now = &rfc3339(a.now, 0)[..10],
        v = env!("CARGO_PKG_VERSION"),
    );
    let mut by_cat: Vec<(String, usize)> = counts
        .iter()
        .map(|(k, v)| (k.as_str().to_string(), *v))
        .collect();
    by_cat.sort_by(|x, y| y.1.cmp(&x.1).then(x.0.cmp(&y.0)));
    let mut prov: BTreeMap<String, usize> = BTreeMap::new();
    for c in &a.credentials {
        *prov.entry(c.exposure.provider.clone()).or_default() += 1;
    }
    let mut by_prov: Vec<(String, usize)> = prov.into_iter().collect();
    by_prov.sort_by(|x, y| y.1.cmp(&x.1).then(x.0.cmp(&y.0)));
    let _ = write!(
        h,
        r#"<h2>Where the risk is</h2><div class="charts">{}{}</div>"#,
        bar_chart(
            "chart-category",
            "Credentials and records by category",
            &by_cat
        ),
        bar_chart("chart-provider", "Credentials found, by provider", &by_prov)
    );
    let events: Vec<Event> = a
        .credentials
        .iter()
        .map(|c| {
            let rec = c.record.map(|i| &a.records[i].record);
            Event {
                introduced: c
                    .exposure
                    .occurrences
                    .iter()
                    .filter_map(|o| o.date.as_deref().and_then(parse_date))
                    .min(),
                expires: rec
                    .and_then(|r| r.expires_at)
                    .or_else(|| c.exposure.expiry.as_ref().and_then(|e| e.expires_at)),
                last_used: rec.and_then(|r| r.last_used_at),
                label: format!("{} {}", c.exposure.redacted, c.exposure.rule),
            }
        })
        .collect();
    let _ = write!(h, "<h2>Timeline</h2>{}", timeline(&events, a.now));
    let _ = write!(
        h,
        r#"<h2>Credentials</h2><input id="filter" class="noprint" placeholder="Filter: provider, owner, category, path…"> <span class="muted noprint"><span id="shown">{}</span> shown</span>
<table id="credentials"><thead><tr><th>Severity</th><th>Provider</th><th>Secret</th><th>Owner</th><th>Purpose</th><th>Stops working</th><th>Last used</th><th>Review due</th><th>Live?</th><th>Categories</th><th>Evidence</th><th>What to do</th><th>Found in</th><th>Record</th></tr></thead><tbody>"#,
        a.credentials.len()
    );
    for c in &a.credentials {
        let e = &c.exposure;
        let rec = c.record.map(|i| &*a.records[i].record);
        let lifecycle = lifecycle_cells(rec, Some(c), c.attestation.as_ref(), a.now);
        let cats: String = c
            .hits
            .iter()
            .map(|h| format!("<span class=\"cat\">{}</span>", h.category.as_str()))
            .collect();
        let evidence: String = c
            .hits
            .iter()
            .map(|h| {
                format!(
                    "<div><b>{}</b>: {}</div>",
                    h.category.as_str(),
                    esc(&h.evidence)
                )
            })
            .collect();
        let live = validation_cell(e.validation.as_ref());
        let todo = todo_cell(&what_to_do(&c.hits, e.revoke.as_deref()));
        let places: Vec<String> = e
            .occurrences
            .iter()
            .take(3)
            .map(|o| format!("<div><code>{}:{}</code></div>", esc(&o.path), o.line))
            .collect();
        let more = e.occurrences.len().saturating_sub(3);
        let sev = c.severity();
        let _ = write!(
            h,
            r#"<tr class="credential" data-fingerprint="{fp}"><td class="sev sev-{s}" data-key="{k}">{s}</td><td>{p}</td><td><code>{r}</code><div class="muted">{rule}</div></td>{lifecycle}{live}<td>{cats}</td><td>{evidence}</td>{todo}<td data-key="{n}">{places}{more}</td><td>{record}</td></tr>"#,
            fp = e.fingerprint,
            s = sev.as_str(),
            k = sev_key(sev),
            p = esc(&e.provider),
            r = esc(&e.redacted),
            rule = esc(&e.rule),
            n = e.occurrences.len(),
            places = places.join(""),
            more = if more > 0 {
                format!("<div class=\"muted\">and {more} more</div>")
            } else {
                String::new()
            },
            record = rec.map(|r| esc(&r.id)).unwrap_or_default(),
        );
    }
    h.push_str("</tbody></table>");
    let (hygiene, clean): (Vec<_>, Vec<_>) = a
        .records
        .iter()
        .filter(|r| !r.found)
        .partition(|r| !r.hits.is_empty());
    if !hygiene.is_empty() {
        h.push_str(r#"<h2>Inventory records found nowhere</h2><table id="records"><thead><tr><th>Record</th><th>Provider</th><th>Owner</th><th>Purpose</th><th>Stops working</th><th>Last used</th><th>Review due</th><th>Categories</th><th>Evidence</th><th>What to do</th></tr></thead><tbody>"#);
        for r in hygiene {
            let cats: String = r
                .hits
                .iter()
                .map(|h| format!("<span class=\"cat\">{}</span>", h.category.as_str()))
                .collect();
            let ev: String = r
                .hits
                .iter()
                .map(|h| {
                    format!(
                        "<div><b>{}</b>: {}</div>",
                        h.category.as_str(),
                        esc(&h.evidence)
                    )
                })
                .collect();
            let _ = write!(
                h,
                "<tr class=\"record\"><td>{}</td><td>{}</td>{}<td>{cats}</td><td>{ev}</td>{}</tr>",
                esc(&r.record.id),
                esc(r.record.provider.as_deref().unwrap_or("")),
                lifecycle_cells(Some(&r.record), None, r.attestation.as_ref(), a.now),
                todo_cell(&record_what_to_do(r)),
            );
        }
        h.push_str("</tbody></table>");
    }
    if !clean.is_empty() {
        let _ = write!(
            h,
            r#"<p class="muted" id="records-clean">{} more inventory record{} found nowhere with nothing to report (each one is in the JSON, CSV and SARIF reports).</p>"#,
            clean.len(),
            if clean.len() == 1 { "" } else { "s" }
        );
    }
    let _ = writeln!(h, "<script>{JS}</script></body></html>");
    out.write_all(h.as_bytes())
}

/// The page for a scan or git run: what a scan knows, no audit verdicts (no inventory was
/// consulted). Tiles by severity and for HEAD, charts by severity and provider, and one row
/// per secret, worst first: who introduced it and when, whether HEAD still holds it, what the
/// provider said (`--validate`), where, and the rule's revoke text.
pub fn write_findings(findings: &[crate::finding::Finding], out: &mut dyn Write) -> io::Result<()> {
    let groups = crate::report::text::group(findings);
    let worst = |g: &[&crate::finding::Finding]| {
        g.iter()
            .map(|f| f.rule.severity)
            .max()
            .unwrap_or(Severity::Info)
    };
    let sev_count = |s: Severity| groups.iter().filter(|g| worst(g) == s).count();
    let in_head = |g: &[&crate::finding::Finding]| -> Option<bool> {
        let flags: Vec<bool> = g
            .iter()
            .filter_map(|f| f.git.as_ref().and_then(|x| x.in_head))
            .collect();
        (!flags.is_empty()).then(|| flags.iter().any(|&b| b))
    };
    let removed = groups.iter().filter(|g| in_head(g) == Some(false)).count();
    let is_git = findings.iter().any(|f| f.git.is_some());
    let mut h = String::with_capacity(32 * 1024 + groups.len() * 600);
    let _ = write!(
        h,
        r#"<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>sprawl scan report</title><style>{CSS}</style></head><body>
<h1>sprawl scan report</h1><div class="muted">generated by sprawl {v} · redacted values only · no inventory consulted (run <code>sprawl audit</code> for ownership and lifecycle)</div>
<div class="tiles">
<div class="tile" id="tile-secrets"><b>{}</b>secrets</div>
<div class="tile crit" id="tile-critical"><b>{}</b>critical</div>
<div class="tile" id="tile-high"><b>{}</b>high</div>
<div class="tile" id="tile-medium"><b>{}</b>medium or lower</div>
<div class="tile" id="tile-places"><b>{}</b>places</div>
<div class="tile" id="tile-removed"><b>{}</b>{}</div>
</div>"#,
        groups.len(),
        sev_count(Severity::Critical),
        sev_count(Severity::High),
        sev_count(Severity::Medium) + sev_count(Severity::Low) + sev_count(Severity::Info),
        findings.len(),
        if is_git {
            removed.to_string()
        } else {
            "–".into()
        },
        if is_git {
            "removed from HEAD, still in history"
        } else {
            "removed from HEAD (git runs)"
        },
        v = env!("CARGO_PKG_VERSION"),
    );
    let by_sev: Vec<(String, usize)> = [
        Severity::Critical,
        Severity::High,
        Severity::Medium,
        Severity::Low,
        Severity::Info,
    ]
    .iter()
    .map(|&s| (s.as_str().to_string(), sev_count(s)))
    .filter(|(_, n)| *n > 0)
    .collect();
    let mut prov: BTreeMap<String, usize> = BTreeMap::new();
    for g in &groups {
        *prov.entry(g[0].rule.provider.clone()).or_default() += 1;
    }
    let mut by_prov: Vec<(String, usize)> = prov.into_iter().collect();
    by_prov.sort_by(|x, y| y.1.cmp(&x.1).then(x.0.cmp(&y.0)));
    let _ = write!(
        h,
        r#"<h2>What was found</h2><div class="charts">{}{}</div>"#,
        bar_chart("chart-severity", "Secrets by severity", &by_sev),
        bar_chart("chart-provider", "Secrets by provider", &by_prov)
    );
    let _ = write!(
        h,
        r#"<h2>Secrets, worst first</h2><input id="filter" class="noprint" placeholder="Filter: provider, rule, author, path…"> <span class="muted noprint"><span id="shown">{}</span> shown</span>
<table id="secrets"><thead><tr><th>Severity</th><th>Provider</th><th>Secret</th><th>Introduced by</th><th>In HEAD</th><th>Live?</th><th>Found in</th><th>What to do</th></tr></thead><tbody>"#,
        groups.len()
    );
    for g in &groups {
        let f = g[0];
        let sev = worst(g);
        let first = g
            .iter()
            .filter_map(|f| f.git.as_ref())
            .min_by(|a, b| a.date.cmp(&b.date));
        let introduced = match first {
            Some(c) => format!(
                "<code>{}</code> {} <span class=\"muted\">{}</span><div class=\"muted\">{}</div>",
                esc(&c.commit[..c.commit.len().min(10)]),
                esc(&c.author),
                esc(c.date.get(..10).unwrap_or(&c.date)),
                esc(&c.summary)
            ),
            None => "<span class=\"muted\">–</span>".into(),
        };
        let head = match in_head(g) {
            Some(true) => "yes".to_string(),
            Some(false) => "<b>removed</b>, still in history".to_string(),
            None => "<span class=\"muted\">–</span>".into(),
        };
        let mut places: Vec<String> = g
            .iter()
            .map(|x| format!("{}:{}", x.location.path, x.location.line))
            .collect();
        places.dedup();
        let n = places.len();
        let list: String = places
            .iter()
            .take(5)
            .map(|p| format!("<div><code>{}</code></div>", esc(p)))
            .collect();
        let more = if n > 5 {
            format!("<div class=\"muted\">and {} more</div>", n - 5)
        } else {
            String::new()
        };
        let live = validation_cell(g.iter().find_map(|f| f.validation.as_ref()));
        let todo = match &f.rule.revoke {
            Some(r) => todo_cell(&[format!("revoke / rotate: {r}")]),
            None => todo_cell(&["remove the secret and rotate it at its provider".to_string()]),
        };
        let _ = write!(
            h,
            r#"<tr class="secret" data-fingerprint="{fp}"><td class="sev sev-{s}" data-key="{k}">{s}</td><td>{p}</td><td><code>{r}</code><div class="muted">{rule}</div></td><td>{introduced}</td><td>{head}</td>{live}<td data-key="{n}">{list}{more}</td>{todo}</tr>"#,
            fp = f.fingerprint,
            s = sev.as_str(),
            k = sev_key(sev),
            p = esc(&f.rule.provider),
            r = esc(&f.redacted),
            rule = esc(&f.rule.id),
        );
    }
    h.push_str("</tbody></table>");
    let _ = writeln!(h, "<script>{JS}</script></body></html>");
    out.write_all(h.as_bytes())
}
